// Kills what is left in a container's cgroup and removes the dirs moat created.
import { CgroupError, errnoOf } from './cgroup-error.js';
import { backoffMs, cgroupfsHooks, cgroupPids, readCgroupFile, sleepSync, writeCgroupFile } from './cgroup-fs.js';
import type { ContainerCgroup } from './cgroup-types.js';
import { removeDelegatedDescendants, treePids } from './delegate-container-cgroup.js';
import { freezerOf, setCgroupFrozen } from './freeze-container-cgroup.js';
import { removeCreatedDirs } from './write-cgroup-files.js';

const EMPTY_TIMEOUT_MS = 3000;

// processes are only ever killed in dirs moat created: never in a cgroup someone else owns
function ownedDirs(cg: ContainerCgroup): string[] {
  return [...new Set(Object.values(cg.dirs))].filter((d) => cg.created.includes(d));
}

// the pids of a dir, with those of the cgroups the container made beneath it when delegated
function pidsOf(cg: ContainerCgroup, dir: string): number[] {
  return cg.delegated?.includes(dir) ? treePids(dir) : cgroupPids(dir);
}

function killPids(cg: ContainerCgroup, dirs: string[]): number {
  let n = 0;
  for (const dir of dirs) for (const pid of pidsOf(cg, dir)) {
    if (pid === process.pid) continue; // never ourselves (a misplaced join would otherwise kill the runtime)
    try {
      process.kill(pid, 'SIGKILL');
      n++;
    } catch (err) {
      if (errnoOf(err) !== 'ESRCH') throw new CgroupError(`kill pid \`${pid}\`: ${errnoOf(err)}`, { cause: err });
    }
  }
  return n;
}

/** SIGKILLs every process in the container's cgroup: cgroup2 `cgroup.kill`, else freeze, kill each pid, thaw. */
export function killContainerCgroup(cg: ContainerCgroup): void {
  const dirs = ownedDirs(cg);
  const unified = cg.dirs.unified;
  if (unified && dirs.includes(unified) && readCgroupFile(unified, 'cgroup.kill') !== undefined) {
    try { writeCgroupFile(unified, 'cgroup.kill', '1'); } catch (err) { if (errnoOf((err as Error).cause) !== 'ENOENT') throw err; }
  }
  const f = freezerOf(cg);
  // (the freezer dir may be gone already: destroyContainerCgroup's rmdirs came first)
  const freeze = f !== undefined && dirs.includes(f.dir) && readCgroupFile(f.dir, 'cgroup.procs') !== undefined && dirs.some((d) => pidsOf(cg, d).length > 0);
  // frozen, nothing can fork between reading cgroup.procs and the kill
  if (freeze) setCgroupFrozen(cg, true);
  try {
    killPids(cg, dirs);
  } finally {
    if (freeze) setCgroupFrozen(cg, false);
  }
}

/** Kills remaining processes, waits (bounded) until the cgroup is empty, removes created dirs deepest first. */
export function destroyContainerCgroup(cg: ContainerCgroup): void {
  if (removeIfEmpty(cg)) return;
  const dirs = ownedDirs(cg);
  killContainerCgroup(cg);
  const deadline = Date.now() + EMPTY_TIMEOUT_MS;
  for (let n = 0; dirs.some((d) => pidsOf(cg, d).length > 0); n++) {
    if (Date.now() > deadline) {
      const left = dirs.flatMap((d) => pidsOf(cg, d));
      throw new CgroupError(`cgroup still has processes after ${EMPTY_TIMEOUT_MS}ms: \`${left.join(' ')}\``);
    }
    killPids(cg, dirs); // without a freezer a process may have forked meanwhile
    sleepSync(backoffMs(n));
  }
  for (const d of cg.delegated ?? []) if (cg.created.includes(d)) removeDelegatedDescendants(d);
  removeCreatedDirs(cg.created, 1000);
}

// The common case, a stopped container: every process is gone, and the rmdirs alone show it
// (the kernel refuses rmdir of a cgroup with a task in it, EBUSY). Reading each dir's
// cgroup.procs twice first cost more than the rmdirs. False at the first dir that is not
// removed: the caller then kills what is left and removes the rest as before.
function removeIfEmpty(cg: ContainerCgroup): boolean {
  if (cg.delegated?.length) return false;
  for (const dir of [...cg.created].reverse()) {
    try {
      cgroupfsHooks.rmdir(dir);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') return false;
    }
  }
  return true;
}
