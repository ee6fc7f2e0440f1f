// Small synchronous cgroupfs helpers: read, write with context, list pids, sleep.
import { readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CgroupError, errnoOf } from './cgroup-error.js';

/** Reads a cgroup file, or `undefined` when it cannot be read (absent, gone). */
export function readCgroupFile(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
}

/** Writes one value into a cgroup file; failures become a CgroupError naming the file and value. */
export function writeCgroupFile(dir: string, file: string, value: string, why = ''): void {
  try {
    cgroupfsHooks.write(join(dir, file), value);
  } catch (err) {
    throw new CgroupError(`write \`${value}\` to \`${join(dir, file)}\`${why ? ` (${why})` : ''}: ${errnoOf(err)}`, { cause: err });
  }
}

/** The pids listed in `cgroup.procs` of `dir` (empty when the dir is gone). */
export function cgroupPids(dir: string): number[] {
  const text = readCgroupFile(dir, 'cgroup.procs') ?? '';
  return text.split('\n').filter(Boolean).map(Number).filter((n) => Number.isInteger(n) && n > 0);
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread for `ms` (the CLI is synchronous here on purpose: no event loop work is pending). */
export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** The n-th wait (from 0) of a poll for something the kernel finishes in well under a
 * millisecond (a killed task leaving cgroup.procs, an emptied cgroup becoming removable):
 * 0.1 ms, doubling, at most `maxMs`. A fixed 10 ms step cost every `delete` at least that. */
export function backoffMs(n: number, maxMs = 10): number {
  return Math.min(0.1 * 2 ** n, maxMs);
}

/**
 * What cgroupfs does that a plain directory does not: fill a new dir with the controller files,
 * and allow rmdir of a dir that still holds them. Replaced by tests running on a temp dir.
 */
export const cgroupfsHooks = {
  afterMkdir: (_dir: string): void => {},
  /** the next write to `path` copies a new cpuset dir's value from its parent (the cgroup
   * recipe's capture tells it from the config's own writes, cgroup-recipe.ts) */
  inherit: (_path: string): void => {},
  rmdir: (dir: string): void => rmdirSync(dir),
  write: (path: string, value: string): void => writeFileSync(path, value),
};

const realHooks = { ...cgroupfsHooks };

/** Whether the hooks are cgroupfs's own (not a test's temp dir, not a capture in progress). */
export function cgroupfsIsReal(): boolean {
  return (Object.keys(realHooks) as (keyof typeof realHooks)[]).every((k) => cgroupfsHooks[k] === realHooks[k]);
}
