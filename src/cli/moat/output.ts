// Output for the moat CLI: synchronous writes to fds 1 and 2 (never switched to
// non-blocking mode, which a sandbox sharing them would see).
import { writeSync } from 'node:fs';

/** Writes to stdout. */
export function out(s: string | Buffer): void {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  for (let off = 0; off < b.length; ) off += writeSync(1, b, off);
}

/** Writes to stderr. */
export function err(s: string): void {
  try {
    writeSync(2, s);
  } catch {
    /* stderr closed */
  }
}

/** Formats rows as an aligned table, the first row being the header. */
export function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd() + '\n').join('');
}
