// Finding and removing what the benchmark made: containers (through each runtime's own
// `delete --force`), then any cgroup dir or process whose cgroup path names this run's TAG.
import { readdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TAG, timed } from './proc.mjs';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** cgroup dirs (any hierarchy, up to 6 levels deep) whose name contains TAG, deepest first. */
export function taggedCgroups() {
  const out = [];
  const walk = (dir, depth) => {
    let names;
    try {
      names = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of names) {
      if (!e.isDirectory()) continue;
      const p = join(dir, e.name);
      if (e.name.includes(TAG)) out.push(p);
      else if (depth < 6) walk(p, depth + 1);
    }
  };
  walk(CGROUP_ROOT, 0);
  return out.sort((a, b) => b.length - a.length);
}

/** pids whose /proc/PID/cgroup names TAG: container processes still alive (with zombies:
 * also those that exited and wait for init, outside this run's control, to reap them). */
export function taggedPids({ zombies = false } = {}) {
  const pids = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      if (!readFileSync(`/proc/${n}/cgroup`, 'utf8').includes(TAG)) continue;
      const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if ((state === 'Z' || state === 'X') !== zombies) continue;
      pids.push(Number(n));
    } catch {
      /* exited */
    }
  }
  return pids;
}

/** pids of processes whose command line contains s (a runtime CLI left running, say). */
export function pidsWithArg(s) {
  const pids = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n) || Number(n) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${n}/cmdline`, 'utf8').split('\0').some((a) => a.includes(s))) pids.push(Number(n));
    } catch {
      /* exited */
    }
  }
  return pids;
}

/** Container IDs in a runtime's state root (a directory per container for all three; moat's
 * caches, `.landlock-abi` and `.seccomp-cache/`, start with a dot, which no container id does). */
export function stateEntries(root) {
  try {
    return readdirSync(root).filter((n) => {
      if (n.startsWith('.')) return false;
      try {
        return statSync(join(root, n)).isDirectory();
      } catch {
        return false;
      }
    });
  } catch {
    return [];
  }
}

/** What is left of this run: state dirs per runtime, cgroup dirs, container processes. */
export function leftovers(runtimes) {
  const state = {};
  for (const rt of runtimes) if (rt.root) {
    const ids = stateEntries(rt.root);
    if (ids.length) state[rt.name] = ids;
  }
  return { state, cgroups: taggedCgroups(), processes: taggedPids(), zombies: taggedPids({ zombies: true }).length };
}

/** True if nothing is left. */
export function isClean(l) {
  return !Object.keys(l.state).length && !l.cgroups.length && !l.processes.length;
}

/** Deletes every container of every runtime, then kills and removes what still names TAG. */
export async function cleanupAll(runtimes) {
  for (const rt of runtimes) {
    if (!rt.root || !rt.argv) continue;
    await Promise.all(stateEntries(rt.root).map((id) => timed(rt.argv('delete', '--force', id), { timeoutMs: 20_000 })));
  }
  for (let i = 0; i < 3; i++) {
    const pids = taggedPids();
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (pids.length) await new Promise((r) => setTimeout(r, 100));
    for (const dir of taggedCgroups()) {
      try {
        rmdirSync(dir);
      } catch {
        /* busy: next pass */
      }
    }
    if (!taggedCgroups().length && !taggedPids().length) break;
  }
}
