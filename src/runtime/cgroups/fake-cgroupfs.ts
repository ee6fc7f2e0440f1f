// Test support: a temp dir standing in for /sys/fs/cgroup (v1, hybrid or unified), with a fake kernel.
import { existsSync, mkdirSync, mkdtempSync, lstatSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { cgroupfsHooks } from './cgroup-fs.js';

type Files = Record<string, string>;

const V1_FILES: Record<string, Files> = {
  'cpu,cpuacct': { 'cpu.shares': '1024', 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': '-1', 'cpu.stat': 'nr_periods 4\nnr_throttled 1\nthrottled_time 500\n', 'cpuacct.usage': '123456', 'cpuacct.usage_percpu': '100000 23456 ', 'cpuacct.stat': 'user 3\nsystem 2\n' },
  cpuset: { 'cpuset.cpus': '', 'cpuset.mems': '' },
  memory: { 'memory.limit_in_bytes': '9223372036854771712', 'memory.soft_limit_in_bytes': '9223372036854771712', 'memory.usage_in_bytes': '4096', 'memory.max_usage_in_bytes': '8192', 'memory.failcnt': '0', 'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n', 'memory.stat': 'cache 100\ntotal_cache 200\n', 'memory.swappiness': '60' },
  devices: { 'devices.allow': '', 'devices.deny': '', 'devices.list': 'a *:* rwm' },
  freezer: { 'freezer.state': 'THAWED' },
  pids: { 'pids.max': 'max', 'pids.current': '1' },
  blkio: { 'blkio.bfq.weight': '100', 'blkio.throttle.read_bps_device': '', 'blkio.throttle.io_service_bytes_recursive': '8:0 Read 4096\n8:0 Write 0\nTotal 4096\n' },
  systemd: {},
};
const V2_FILES: Files = { 'cgroup.controllers': 'cpu io memory pids', 'cgroup.subtree_control': '', 'cgroup.freeze': '0', 'cgroup.events': 'populated 0\nfrozen 0\n', 'cgroup.kill': '', 'memory.max': 'max', 'memory.swap.max': 'max', 'memory.current': '4096', 'memory.events': 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n', 'memory.stat': 'file 300\n', 'pids.max': 'max', 'pids.current': '2', 'cpu.max': 'max 100000', 'cpu.weight': '100', 'cpu.stat': 'usage_usec 10\nuser_usec 6\nsystem_usec 4\n', 'io.stat': '8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n' };

/** A fake host: mount dirs in a temp dir, the mountinfo and /proc/self/cgroup describing them. */
export interface FakeCgroupfs {
  root: string;
  mountinfo: string;
  procSelfCgroup: string;
  /** the files of a new cgroup dir, by hierarchy (`unified` for cgroup2) */
  hierarchyOf(dir: string): string | undefined;
  cleanup(): void;
}

function fill(dir: string, files: Files): void {
  mkdirSync(dir, { recursive: true });
  for (const [f, v] of Object.entries(files)) writeFileSync(join(dir, f), v);
  if (!existsSync(join(dir, 'cgroup.procs'))) writeFileSync(join(dir, 'cgroup.procs'), '');
}

/** Builds the fake and installs the fake kernel hooks; `cleanup` removes the temp dir and restores the hooks. */
export function makeFakeCgroupfs(mode: 'v1' | 'hybrid' | 'unified', own = '/workplace/abc'): FakeCgroupfs {
  const tmp = mkdtempSync(join(tmpdir(), 'moat-cgfs-'));
  const root = join(tmp, 'cgroup');
  const mounts: string[] = [];
  const self: string[] = [];
  let n = 30;
  const mounts2: Record<string, string> = {};
  if (mode !== 'unified') {
    Object.entries(V1_FILES).forEach(([h, files], i) => {
      const dir = join(root, h);
      const opts = h === 'systemd' ? 'rw,name=systemd' : `rw,${h}`;
      mounts.push(`${n++} 29 0:${40 + i} / ${dir} rw,relatime - cgroup cgroup ${opts}`);
      self.push(`${i + 1}:${h === 'systemd' ? 'name=systemd' : h}:${h === 'memory' ? own : '/'}`);
      mounts2[dir] = h;
      fill(dir, { ...files, ...(h === 'cpuset' ? { 'cpuset.cpus': '0-3', 'cpuset.mems': '0' } : {}) });
      if (h === 'memory') fill(join(dir, own), files);
    });
  }
  if (mode !== 'v1') {
    const dir = mode === 'unified' ? root : join(root, 'unified');
    mounts.push(`${n++} 29 0:60 / ${dir} rw,relatime - cgroup2 cgroup2 rw`);
    self.push(`0::${mode === 'unified' ? own : '/'}`);
    mounts2[dir] = 'unified';
    fill(dir, V2_FILES);
    // as a delegating manager (systemd's Delegate=) leaves it: the usual controllers are
    // already enabled for our children; hugetlb is not, to show what undelegated looks like
    if (mode === 'unified') fill(join(dir, own), { ...V2_FILES, 'cgroup.subtree_control': 'cpuset cpu io memory pids\n' });
  }
  const hierarchyOf = (dir: string) => Object.entries(mounts2).find(([m]) => dir === m || dir.startsWith(`${m}/`))?.[1];
  const saved = { ...cgroupfsHooks };
  cgroupfsHooks.afterMkdir = (dir) => {
    const h = hierarchyOf(dir);
    if (h) fill(dir, h === 'unified' ? V2_FILES : V1_FILES[h]!);
  };
  cgroupfsHooks.rmdir = (dir) => {
    // like the kernel: a dir with child cgroups or processes is busy, its own files go with it
    const busy = readdirSync(dir).some((e) => lstatSync(join(dir, e)).isDirectory()) || readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim() !== '';
    if (busy) throw Object.assign(new Error(`EBUSY: ${dir}`), { code: 'EBUSY' });
    rmSync(dir, { recursive: true });
  };
  return {
    root,
    mountinfo: ['22 1 0:20 / /sys rw - sysfs sysfs rw', `29 22 0:27 / ${root} rw - tmpfs tmpfs rw`, ...mounts].join('\n') + '\n',
    procSelfCgroup: self.join('\n') + '\n',
    hierarchyOf,
    cleanup: () => {
      Object.assign(cgroupfsHooks, saved);
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Reads a file of a fake cgroup dir, trimmed. */
export function readFake(dir: string, file: string): string {
  return readFileSync(posix.join(dir, file), 'utf8').trim();
}
