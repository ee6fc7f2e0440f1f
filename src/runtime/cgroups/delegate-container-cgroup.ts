// Delegation: a container that runs its own cgroup manager (systemd as PID 1) gets the
// tracking hierarchies of its cgroup (cgroup2, and v1's `name=systemd`) chowned to its root,
// as the kernel's cgroup-v2 delegation model describes (the dir and the files named in
// /sys/kernel/cgroup/delegate). It may then make sub-cgroups and move its own processes
// between them. Resource-controller dirs (v1 memory, pids, cpu, ...) are never delegated, so
// the limits set from outside stay out of its reach; its cgroup namespace keeps it beneath
// its own dir.
import { chownSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { CgroupError, errnoOf } from './cgroup-error.js';
import { backoffMs, sleepSync } from './cgroup-fs.js';
import type { ContainerCgroup } from './cgroup-types.js';

/** The hierarchies a container may manage: cgroup2 and v1's named systemd hierarchy. */
export const DELEGABLE = ['unified', 'name=systemd'];

const V2_FALLBACK = ['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control'];
const V1_FILES = ['cgroup.procs', 'tasks', 'cgroup.clone_children'];

function v2DelegateFiles(): string[] {
  try {
    return readFileSync('/sys/kernel/cgroup/delegate', 'utf8').split('\n').filter(Boolean);
  } catch {
    return V2_FALLBACK;
  }
}

/** Chowns the container's delegable cgroup dirs to host ids `uid`:`gid` (its root); returns
 * the dirs delegated (recorded, so that delete removes what the container made beneath them). */
export function delegateContainerCgroup(cg: ContainerCgroup, uid: number, gid: number): string[] {
  const out: string[] = [];
  for (const key of DELEGABLE) {
    const dir = cg.dirs[key];
    // only a dir moat made for this container: never one it shares with others
    if (!dir || !cg.created.includes(dir) || out.includes(dir)) continue;
    const files = key === 'unified' ? v2DelegateFiles() : V1_FILES;
    try {
      chownSync(dir, uid, gid);
      for (const f of files) {
        try {
          chownSync(join(dir, f), uid, gid);
        } catch (err) {
          if (errnoOf(err) !== 'ENOENT') throw err; // a file of a controller this cgroup lacks
        }
      }
    } catch (err) {
      throw new CgroupError(`delegate \`${dir}\` to ${uid}:${gid}: ${errnoOf(err)}`, { cause: err });
    }
    out.push(dir);
  }
  return out;
}

/** Removes the cgroups a container made beneath a delegated dir, deepest first (they empty
 * once its processes are dead; the delegated dir itself goes with the dirs moat created). */
export function removeDelegatedDescendants(dir: string, retryBusyMs = 1000): void {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return;
    throw new CgroupError(`list \`${dir}\`: ${errnoOf(err)}`, { cause: err });
  }
  for (const n of names) {
    const sub = join(dir, n);
    removeDelegatedDescendants(sub, retryBusyMs);
    const deadline = Date.now() + retryBusyMs;
    for (let i = 0; ; i++) {
      try {
        rmdirSync(sub);
        break;
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') break;
        if (errnoOf(err) === 'EBUSY' && Date.now() < deadline) { sleepSync(backoffMs(i)); continue; }
        throw new CgroupError(`remove cgroup \`${sub}\` (made by the container): ${errnoOf(err)}`, { cause: err });
      }
    }
  }
}

/** The cgroup2 dir an exec'd process joins in a delegated `dir`: `dir` itself while the
 * container has enabled no controller for its children, else the leaf `dir/moat-exec`
 * (made when first needed; it goes with removeDelegatedDescendants). */
export function execLeafDir(dir: string): string {
  let enabled = '';
  try {
    enabled = readFileSync(join(dir, 'cgroup.subtree_control'), 'utf8').trim();
  } catch {
    /* gone: the join reports it */
  }
  if (!enabled) return dir;
  const leaf = join(dir, 'moat-exec');
  try {
    mkdirSync(leaf);
  } catch (err) {
    if (errnoOf(err) !== 'EEXIST') throw new CgroupError(`make \`${leaf}\`: ${errnoOf(err)}`, { cause: err });
  }
  return leaf;
}
