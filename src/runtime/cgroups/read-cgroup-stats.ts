// Reads a container's resource usage in runc's stats shape (the `events --stats` verb).
import { readdirSync } from 'node:fs';
import type { ContainerCgroup } from './cgroup-types.js';
import { readCgroupFile } from './cgroup-fs.js';
import { parseBlkioV1, parseCgroupValue, parseFlatKeyed, parseIoStatV2, type BlkioEntry } from './parse-cgroup-files.js';

/** Usage, limit, high-water mark and failure count of one memory counter. */
export interface MemoryEntry { usage: number; limit: number; max: number; failcnt: number }

/** Usage, high-water mark and failure count of one huge page size (runc's `Hugetlb`). */
export interface HugetlbEntry { usage: number; max: number; failcnt: number }

/** runc-shaped stats; fields the host cannot report are left out or zero. */
export interface CgroupStats {
  cpu: { usage: { total: number; percpu: number[]; kernel: number; user: number }; throttling: { periods: number; throttledPeriods: number; throttledTime: number } };
  memory: { cache: number; usage: MemoryEntry; swap: MemoryEntry; oomKill: number; raw: Record<string, number> };
  pids: { current: number; limit: number };
  blkio: { ioServiceBytesRecursive: BlkioEntry[]; ioServicedRecursive: BlkioEntry[] };
  /** page size (`2MB`) -> usage; empty when no hugetlb controller serves the container */
  hugetlb: Record<string, HugetlbEntry>;
}

const num = (dir: string | undefined, file: string) => (dir ? parseCgroupValue(readCgroupFile(dir, file)) ?? 0 : 0);
const flat = (dir: string | undefined, file: string) => (dir ? parseFlatKeyed(readCgroupFile(dir, file)) : {});

/** The number of processes the kernel's oom killer killed in the container (`oom_kill`). */
export function readOomCount(cg: ContainerCgroup): number {
  if (cg.mode === 'unified') return flat(cg.dirs.unified, 'memory.events').oom_kill ?? 0;
  return flat(cg.dirs.memory, 'memory.oom_control').oom_kill ?? 0;
}

/** Reads cpu, memory, pids, block io and hugetlb statistics. */
export function readCgroupStats(cg: ContainerCgroup): CgroupStats {
  return { ...(cg.mode === 'unified' ? readV2(cg) : readV1(cg)), hugetlb: readHugetlb(cg) };
}

// v1 `hugetlb.2MB.usage_in_bytes`; v2 `hugetlb.2MB.current` (on a hybrid host hugetlb may live
// only in the cgroup2 dir, and only once enabled there, which is when its files exist)
function readHugetlb(cg: ContainerCgroup): Record<string, HugetlbEntry> {
  const out: Record<string, HugetlbEntry> = {};
  const v1 = cg.mode !== 'unified' ? cg.dirs.hugetlb : undefined;
  const dir = v1 ?? cg.dirs.unified;
  if (!dir) return out;
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const m = (v1 ? /^hugetlb\.(\w+)\.usage_in_bytes$/ : /^hugetlb\.(\w+)\.current$/).exec(n);
    if (!m) continue;
    const size = m[1]!;
    out[size] = v1
      ? { usage: num(dir, n), max: num(dir, `hugetlb.${size}.max_usage_in_bytes`), failcnt: num(dir, `hugetlb.${size}.failcnt`) }
      : { usage: num(dir, n), max: 0, failcnt: flat(dir, `hugetlb.${size}.events`).max ?? 0 };
  }
  return out;
}

// USER_HZ is 100 on every Linux architecture moat supports: cpuacct.stat counts 10ms ticks
const TICK_NS = 10_000_000;

function readV1(cg: ContainerCgroup): Omit<CgroupStats, 'hugetlb'> {
  const { cpuacct, cpu, memory, pids, blkio } = cg.dirs;
  const acct = flat(cpuacct, 'cpuacct.stat');
  const cpuStat = flat(cpu, 'cpu.stat');
  const raw = flat(memory, 'memory.stat');
  const entry = (prefix: string): MemoryEntry => ({ usage: num(memory, `${prefix}usage_in_bytes`), limit: num(memory, `${prefix}limit_in_bytes`), max: num(memory, `${prefix}max_usage_in_bytes`), failcnt: num(memory, `${prefix}failcnt`) });
  return {
    cpu: {
      usage: { total: num(cpuacct, 'cpuacct.usage'), percpu: (cpuacct ? readCgroupFile(cpuacct, 'cpuacct.usage_percpu') ?? '' : '').split(/\s+/).filter(Boolean).map(Number), kernel: (acct.system ?? 0) * TICK_NS, user: (acct.user ?? 0) * TICK_NS },
      throttling: { periods: cpuStat.nr_periods ?? 0, throttledPeriods: cpuStat.nr_throttled ?? 0, throttledTime: cpuStat.throttled_time ?? 0 },
    },
    memory: { cache: raw.total_cache ?? raw.cache ?? 0, usage: entry('memory.'), swap: entry('memory.memsw.'), oomKill: readOomCount(cg), raw },
    pids: { current: num(pids, 'pids.current'), limit: num(pids, 'pids.max') },
    blkio: { ioServiceBytesRecursive: parseBlkioV1(blkio ? readCgroupFile(blkio, 'blkio.throttle.io_service_bytes_recursive') : ''), ioServicedRecursive: parseBlkioV1(blkio ? readCgroupFile(blkio, 'blkio.throttle.io_serviced_recursive') : '') },
  };
}

function readV2(cg: ContainerCgroup): Omit<CgroupStats, 'hugetlb'> {
  const dir = cg.dirs.unified;
  const cpuStat = flat(dir, 'cpu.stat');
  const raw = flat(dir, 'memory.stat');
  const events = flat(dir, 'memory.events');
  const io = parseIoStatV2(dir ? readCgroupFile(dir, 'io.stat') : '');
  const usage = num(dir, 'memory.current');
  return {
    cpu: {
      usage: { total: (cpuStat.usage_usec ?? 0) * 1000, percpu: [], kernel: (cpuStat.system_usec ?? 0) * 1000, user: (cpuStat.user_usec ?? 0) * 1000 },
      throttling: { periods: cpuStat.nr_periods ?? 0, throttledPeriods: cpuStat.nr_throttled ?? 0, throttledTime: (cpuStat.throttled_usec ?? 0) * 1000 },
    },
    memory: {
      cache: raw.file ?? 0,
      usage: { usage, limit: num(dir, 'memory.max'), max: num(dir, 'memory.peak'), failcnt: events.max ?? 0 },
      swap: { usage: num(dir, 'memory.swap.current'), limit: num(dir, 'memory.swap.max'), max: num(dir, 'memory.swap.peak'), failcnt: 0 },
      oomKill: events.oom_kill ?? 0,
      raw,
    },
    pids: { current: num(dir, 'pids.current'), limit: num(dir, 'pids.max') },
    blkio: { ioServiceBytesRecursive: io.bytes, ioServicedRecursive: io.ios },
  };
}
