// Delegation: a container that runs its own cgroup manager (systemd as PID 1) gets its cgroup2
// dir chowned to its root, as the kernel's cgroup-v2 delegation model describes (the dir and
// the files named in /sys/kernel/cgroup/delegate). It may then make sub-cgroups and move its
// own processes between them; moving a process in or out of its subtree needs write access to
// a common ancestor, which stays the host's. Limit files, the resource controllers' v1 dirs
// and cgroup v1 as a whole (no common-ancestor rule there, and the runtime spec advises
// against it) are never delegated. The number and depth of the cgroups it may make are capped
// before it exists, and everything beneath a delegated dir is walked through dir fds, so
// names the container chose never make a host path too long to remove.
import { chownSync, closeSync, constants as fsc, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CgroupError, errnoOf } from './cgroup-error.js';
import { backoffMs, sleepSync } from './cgroup-fs.js';
import type { ContainerCgroup } from './cgroup-types.js';

/** Caps written (root-owned) into a delegated dir: systemd's tree is a few levels deep and a
 * few dozen cgroups wide. */
export const DELEGATED_MAX_DEPTH = 16;
export const DELEGATED_MAX_DESCENDANTS = 1024;

const V2_FALLBACK = ['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control'];

function v2DelegateFiles(): string[] {
  try {
    return readFileSync('/sys/kernel/cgroup/delegate', 'utf8').split('\n').filter(Boolean);
  } catch {
    return V2_FALLBACK;
  }
}

/** Chowns the container's cgroup2 dir (when moat made it for this container) to host ids
 * `uid`:`gid` (its root), after capping what may be made beneath it; returns the dirs
 * delegated (recorded, so that delete removes what the container made beneath them). */
export function delegateContainerCgroup(cg: ContainerCgroup, uid: number, gid: number): string[] {
  const dir = cg.dirs.unified;
  // only a dir moat made for this container: never one it shares with others
  if (!dir || !cg.created.includes(dir)) return [];
  try {
    writeFileSync(join(dir, 'cgroup.max.depth'), String(DELEGATED_MAX_DEPTH));
    writeFileSync(join(dir, 'cgroup.max.descendants'), String(DELEGATED_MAX_DESCENDANTS));
    chownSync(dir, uid, gid);
    for (const f of v2DelegateFiles()) {
      try {
        chownSync(join(dir, f), uid, gid);
      } catch (err) {
        if (errnoOf(err) !== 'ENOENT') throw err; // a file of a controller this cgroup lacks
      }
    }
  } catch (err) {
    throw new CgroupError(`delegate \`${dir}\` to ${uid}:${gid}: ${errnoOf(err)}`, { cause: err });
  }
  return [dir];
}

// a dir beneath an open dir fd, by a path that stays short however deep the tree is
const under = (fd: number, name: string) => `/proc/self/fd/${fd}/${name}`;

/** Calls `visit(fd)` for `dir` and every cgroup beneath it, children first (the fd is open
 * during the call). A tree deeper than the cap the container was given is an error. */
function walk(dir: string, visit: (fd: number, parent: number | undefined, name: string) => void, parent?: number, name = '', depth = 0): void {
  if (depth > DELEGATED_MAX_DEPTH + 1) throw new CgroupError(`cgroup tree under \`${dir}\` is deeper than ${DELEGATED_MAX_DEPTH}`);
  let fd: number;
  try {
    fd = openSync(parent === undefined ? dir : under(parent, name), fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return;
    throw new CgroupError(`open cgroup \`${dir}${name ? `/…/${name}` : ''}\`: ${errnoOf(err)}`, { cause: err });
  }
  try {
    for (const d of readdirSync(`/proc/self/fd/${fd}`, { withFileTypes: true })) if (d.isDirectory()) walk(dir, visit, fd, d.name, depth + 1);
    visit(fd, parent, name);
  } finally {
    closeSync(fd);
  }
}

/** The pids in `dir` and every cgroup beneath it. */
export function treePids(dir: string): number[] {
  const out: number[] = [];
  walk(dir, (fd) => {
    let text = '';
    try {
      text = readFileSync(`/proc/self/fd/${fd}/cgroup.procs`, 'utf8');
    } catch {
      /* gone meanwhile */
    }
    for (const l of text.split('\n')) if (l) out.push(Number(l));
  });
  return out;
}

/** Removes the cgroups a container made beneath a delegated dir, deepest first (they are
 * empty once its processes are dead; the delegated dir itself goes with the dirs moat made). */
export function removeDelegatedDescendants(dir: string, retryBusyMs = 1000): void {
  walk(dir, (_fd, parent, name) => {
    if (parent === undefined) return; // the delegated dir itself
    const deadline = Date.now() + retryBusyMs;
    for (let i = 0; ; i++) {
      try {
        rmdirSync(under(parent, name));
        return;
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') return;
        if (errnoOf(err) === 'EBUSY' && Date.now() < deadline) { sleepSync(backoffMs(i)); continue; }
        throw new CgroupError(`remove cgroup \`${name}\` (made by the container beneath \`${dir}\`): ${errnoOf(err)}`, { cause: err });
      }
    }
  });
}

/** The cgroup2 dir an exec'd process joins in a delegated `dir`: `dir` itself while the
 * container has enabled no controller for its children, else a new leaf of a random name
 * beneath it (made here, so it is the host's and not one the container prepared; empty ones
 * of earlier execs are removed first; the rest go with removeDelegatedDescendants). */
export function execLeafDir(dir: string): string {
  let enabled = '';
  try {
    enabled = readFileSync(join(dir, 'cgroup.subtree_control'), 'utf8').trim();
  } catch {
    /* gone: the join reports it */
  }
  if (!enabled) return dir;
  try {
    for (const n of readdirSync(dir)) {
      if (!n.startsWith('moat-exec-')) continue;
      try {
        rmdirSync(join(dir, n));
      } catch {
        /* still in use */
      }
    }
  } catch {
    /* the mkdir below reports it */
  }
  const leaf = join(dir, `moat-exec-${randomBytes(6).toString('hex')}`);
  try {
    mkdirSync(leaf);
  } catch (err) {
    throw new CgroupError(`make \`${leaf}\`: ${errnoOf(err)}`, { cause: err });
  }
  return leaf;
}
