// Pauses and resumes a container by freezing its cgroup (v1 freezer, or cgroup2 cgroup.freeze).
import { CgroupError } from './cgroup-error.js';
import { readCgroupFile, sleepSync, writeCgroupFile } from './cgroup-fs.js';
import type { ContainerCgroup } from './cgroup-types.js';

const FREEZE_TIMEOUT_MS = 2000;

/** Which freezer a container uses: the v1 `freezer` dir when mounted, else the cgroup2 dir. */
export function freezerOf(cg: ContainerCgroup): { kind: 'v1' | 'v2'; dir: string } | undefined {
  if (cg.mode !== 'unified' && cg.dirs.freezer) return { kind: 'v1', dir: cg.dirs.freezer };
  if (cg.dirs.unified && readCgroupFile(cg.dirs.unified, 'cgroup.freeze') !== undefined) return { kind: 'v2', dir: cg.dirs.unified };
  return undefined;
}

/** Freezes (`true`) or thaws (`false`) and waits, bounded, until the kernel reports it done. */
export function setCgroupFrozen(cg: ContainerCgroup, frozen: boolean): void {
  const f = freezerOf(cg);
  if (!f) throw new CgroupError('no freezer: neither the v1 `freezer` controller nor cgroup2 `cgroup.freeze` is available');
  const deadline = Date.now() + FREEZE_TIMEOUT_MS;
  for (;;) {
    // v1 FREEZING can stall on a task in an uninterruptible sleep; writing FROZEN again retries it
    if (f.kind === 'v1') writeCgroupFile(f.dir, 'freezer.state', frozen ? 'FROZEN' : 'THAWED');
    else writeCgroupFile(f.dir, 'cgroup.freeze', frozen ? '1' : '0');
    if (isFrozen(f) === frozen) return;
    if (Date.now() > deadline) break;
    sleepSync(5);
  }
  if (frozen) setCgroupFrozen(cg, false);
  throw new CgroupError(`${frozen ? 'freeze' : 'thaw'} \`${f.dir}\`: timed out after ${FREEZE_TIMEOUT_MS}ms`);
}

function isFrozen(f: { kind: 'v1' | 'v2'; dir: string }): boolean {
  if (f.kind === 'v1') return (readCgroupFile(f.dir, 'freezer.state') ?? '').trim() === 'FROZEN';
  return /^frozen 1$/m.test(readCgroupFile(f.dir, 'cgroup.events') ?? '');
}

/** True if the container's freezer (whichever `freezerOf` picks) reports it frozen; false when there is none or it is gone. */
export function isContainerCgroupFrozen(cg: ContainerCgroup): boolean {
  const f = freezerOf(cg);
  return f !== undefined && isFrozen(f);
}

/** Pauses every process of the container. */
export function pauseContainerCgroup(cg: ContainerCgroup): void {
  setCgroupFrozen(cg, true);
}

/** Resumes a paused container. */
export function resumeContainerCgroup(cg: ContainerCgroup): void {
  setCgroupFrozen(cg, false);
}
