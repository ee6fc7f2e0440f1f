// Memory of running containers: the memory cgroup's charge and the PSS of their processes,
// plus /proc/meminfo's MemAvailable for the host-wide view (noisy on a shared machine).
import { existsSync, readFileSync } from 'node:fs';
import { taggedPids } from './cleanup.mjs';

/** MemAvailable in bytes. */
export function memAvailable() {
  const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

function read(p) {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

/** The memory cgroup file that holds a process's charge (v1 memory controller, else v2). */
function memoryFileOf(pid) {
  const lines = read(`/proc/${pid}/cgroup`).split('\n');
  const v1 = lines.find((l) => /^\d+:memory:/.test(l));
  if (v1) {
    const f = `/sys/fs/cgroup/memory${v1.split(':')[2]}/memory.usage_in_bytes`;
    if (existsSync(f)) return f;
  }
  const v2 = lines.find((l) => l.startsWith('0::'));
  if (v2) {
    const f = `/sys/fs/cgroup${v2.slice(3)}/memory.current`;
    if (existsSync(f)) return f;
    const hybrid = `/sys/fs/cgroup/unified${v2.slice(3)}/memory.current`;
    if (existsSync(hybrid)) return hybrid;
  }
  return undefined;
}

function pssOf(pid) {
  const m = /^Pss:\s+(\d+) kB/m.exec(read(`/proc/${pid}/smaps_rollup`));
  return m ? Number(m[1]) * 1024 : 0;
}

function commOf(pid) {
  return read(`/proc/${pid}/comm`).trim();
}

/**
 * For the running containers whose IDs are given: their processes (found by the ID in
 * /proc/PID/cgroup), the sum of their memory cgroups' charge and of their PSS, and which
 * process names they hold (a Node or Bun process in there would be a resident runtime).
 */
export function containerMemory(ids) {
  const byId = new Map(ids.map((id) => [id, []]));
  for (const pid of taggedPids()) {
    const cg = read(`/proc/${pid}/cgroup`);
    for (const id of ids) if (cg.includes(`/${id}`) || cg.includes(`-${id}`)) byId.get(id).push(pid);
  }
  let cgroupBytes = 0, pss = 0, procs = 0;
  const files = new Set();
  const comms = {};
  for (const pids of byId.values()) {
    for (const pid of pids) {
      procs++;
      pss += pssOf(pid);
      const c = commOf(pid);
      comms[c] = (comms[c] ?? 0) + 1;
      const f = memoryFileOf(pid);
      if (f) files.add(f);
    }
  }
  for (const f of files) cgroupBytes += Number(read(f).trim()) || 0;
  return { containers: ids.length, withProcesses: [...byId.values()].filter((p) => p.length).length, processes: procs, cgroupBytes, cgroups: files.size, pss, comms };
}
