// Performs resolved writes in order, and removes dirs moat created.
import { CgroupError, errnoOf } from './cgroup-error.js';
import { backoffMs, cgroupfsHooks, sleepSync, writeCgroupFile } from './cgroup-fs.js';
import type { ResolvedWrite } from './resolve-cgroup-writes.js';

// pairs the kernel validates against each other: when raising a limit the second must go first
const PARTNERS: Record<string, string> = {
  'memory.limit_in_bytes': 'memory.memsw.limit_in_bytes',
  'cpu.cfs_period_us': 'cpu.cfs_quota_us',
  'cpu.rt_period_us': 'cpu.rt_runtime_us',
};

/**
 * Writes in order. The planned order is right for a fresh cgroup; on an update the current
 * values may make it wrong (a memory limit above the current memsw limit is EINVAL), so on
 * EINVAL the write's partner is written first and the write retried once.
 */
export function performCgroupWrites(writes: ResolvedWrite[]): void {
  for (let i = 0; i < writes.length; i++) {
    const w = writes[i]!;
    try {
      writeCgroupFile(w.dir, w.file, w.value, w.path);
    } catch (err) {
      const next = writes[i + 1];
      const cause = (err as Error).cause;
      if (!next || next.dir !== w.dir || PARTNERS[w.file] !== next.file || errnoOf(cause) !== 'EINVAL') throw err;
      writeCgroupFile(next.dir, next.file, next.value, next.path);
      writeCgroupFile(w.dir, w.file, w.value, w.path);
      i++;
    }
  }
}

/** Removes dirs in reverse creation order (children first); already-gone dirs are fine. Throws listing the failures. */
export function removeCreatedDirs(created: string[], retryBusyMs = 0): void {
  const failed: string[] = [];
  let cause: unknown;
  for (const dir of [...created].reverse()) {
    const deadline = Date.now() + retryBusyMs;
    for (let n = 0; ; n++) {
      try {
        cgroupfsHooks.rmdir(dir);
        break;
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') break;
        if (errnoOf(err) === 'EBUSY' && Date.now() < deadline) { sleepSync(backoffMs(n)); continue; }
        failed.push(`\`${dir}\`: ${errnoOf(err)}`);
        cause = err;
        break;
      }
    }
  }
  if (failed.length) throw new CgroupError(`remove cgroup ${failed.join(', ')}`, { cause });
}
