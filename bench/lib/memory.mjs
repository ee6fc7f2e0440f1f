// Memory of running containers: the memory cgroup's charge (exact, and as usage_in_bytes shows
// it), the PSS of their processes, plus /proc/meminfo's MemAvailable and kernel memory for the
// host-wide view (noisy on a shared machine, but it counts what a runtime charges elsewhere).
import { existsSync, readFileSync } from 'node:fs';
import { taggedPids } from './cleanup.mjs';

/** MemAvailable in bytes. */
export function memAvailable() {
  const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Host-wide kernel memory in bytes: Slab + KernelStack + PageTables of /proc/meminfo (the
 * objects a container's namespaces, mounts and processes cost, whichever cgroup they are charged to). */
export function kernelMemory() {
  const t = readFileSync('/proc/meminfo', 'utf8');
  let sum = 0;
  for (const k of ['Slab', 'KernelStack', 'PageTables']) {
    const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(t);
    sum += m ? Number(m[1]) * 1024 : NaN;
  }
  return sum;
}

function read(p) {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

/** The memory cgroup dir that holds a process's charge (v1 memory controller, else v2). */
function memoryDirOf(pid) {
  const lines = read(`/proc/${pid}/cgroup`).split('\n');
  const v1 = lines.find((l) => /^\d+:memory:/.test(l));
  if (v1) {
    const d = `/sys/fs/cgroup/memory${v1.split(':')[2]}`;
    if (existsSync(`${d}/memory.usage_in_bytes`)) return { v: 1, d };
  }
  const v2 = lines.find((l) => l.startsWith('0::'));
  if (v2) {
    for (const d of [`/sys/fs/cgroup${v2.slice(3)}`, `/sys/fs/cgroup/unified${v2.slice(3)}`]) if (existsSync(`${d}/memory.current`)) return { v: 2, d };
  }
  return undefined;
}

function statOf(dir) {
  const out = {};
  for (const l of read(`${dir}/memory.stat`).split('\n')) {
    const [k, v] = l.split(' ');
    if (k) out[k] = Number(v);
  }
  return out;
}

// usage_in_bytes (and memory.current) include the pages the kernel precharged to the cgroup
// in per-cpu batches and has not used yet (up to 64 pages per cpu: "a fuzz value", the kernel's
// memory.txt says); the exact charge is what memory.stat and the kmem counter account
function chargeOf({ v, d }) {
  const st = statOf(d);
  if (v === 1) {
    const kmem = Number(read(`${d}/memory.kmem.usage_in_bytes`).trim()) || 0;
    return { usage: Number(read(`${d}/memory.usage_in_bytes`).trim()) || 0, exact: (st.rss ?? 0) + (st.cache ?? 0) + kmem, kmem };
  }
  const kmem = st.kernel ?? ((st.slab ?? 0) + (st.kernel_stack ?? 0) + (st.pagetables ?? 0) + (st.sock ?? 0));
  return { usage: Number(read(`${d}/memory.current`).trim()) || 0, exact: (st.anon ?? 0) + (st.file ?? 0) + kmem, kmem };
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
  let cgroupBytes = 0, exactBytes = 0, kmemBytes = 0, pss = 0, procs = 0;
  const files = new Map();
  const comms = {};
  for (const pids of byId.values()) {
    for (const pid of pids) {
      procs++;
      pss += pssOf(pid);
      const c = commOf(pid);
      comms[c] = (comms[c] ?? 0) + 1;
      const m = memoryDirOf(pid);
      if (m) files.set(m.d, m);
    }
  }
  for (const m of files.values()) {
    const c = chargeOf(m);
    cgroupBytes += c.usage;
    exactBytes += c.exact;
    kmemBytes += c.kmem;
  }
  return { containers: ids.length, withProcesses: [...byId.values()].filter((p) => p.length).length, processes: procs, cgroupBytes, exactBytes, kmemBytes, cgroups: files.size, pss, comms };
}
