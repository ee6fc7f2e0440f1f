// Crash-safe file writes: write a temp file, fsync it, rename it over the target, fsync
// the directory. A reader sees the old content or the new, never a torn file.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync, constants as fsc } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Flushes a directory's entries (a rename or create in it) to disk. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `path` with `data` atomically. */
export function writeFileAtomic(path: string, data: string, mode = 0o644): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, 'w', mode);
    try {
      writeSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dirname(path));
}
