// Output for the CLI: synchronous writes to fds 1 and 2, which never switch them to
// non-blocking mode (a container may share them).
import { writeSync } from 'node:fs';

/** Writes a string to stdout. */
export function out(s: string): void {
  const b = Buffer.from(s);
  for (let off = 0; off < b.length; ) off += writeSync(1, b, off);
}

/** Writes a string to stderr. */
export function err(s: string): void {
  try {
    writeSync(2, s);
  } catch {
    /* stderr closed */
  }
}
