// Finds the cgroup mounts (/proc/self/mountinfo) and this process's cgroups (/proc/self/cgroup).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CgroupError } from './cgroup-error.js';
import type { CgroupHost, CgroupMode } from './cgroup-types.js';

const V1_CONTROLLERS = new Set(['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'net_cls', 'net_prio', 'blkio', 'perf_event', 'hugetlb', 'pids', 'rdma', 'misc']);

interface CgroupMount { dir: string; root: string; fstype: 'cgroup' | 'cgroup2'; controllers: string[] }

// mountinfo escapes space, tab, newline and backslash as \ooo octal
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Parses the cgroup and cgroup2 lines of a mountinfo text. */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const [fstype, , superopts = ''] = line.slice(sep + 3).split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const controllers = fstype === 'cgroup' ? superopts.split(',').filter((o) => V1_CONTROLLERS.has(o) || o.startsWith('name=')) : [];
    out.push({ dir: unescape(left[4] ?? ''), root: unescape(left[3] ?? '/'), fstype, controllers });
  }
  return out;
}

/** Parses /proc/self/cgroup into controller -> path (`''` for the cgroup2 line). */
export function parseProcSelfCgroup(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[2] === '') out[''] = m[3]!;
    else for (const c of m[2]!.split(',')) out[c] = m[3]!;
  }
  return out;
}

const under = (p: string, root: string) => p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`);

function relativeToMount(path: string, mountRoot: string): string {
  if (mountRoot === '/' ) return path;
  if (under(path, mountRoot)) return path.slice(mountRoot.length) || '/';
  return '/'; // our cgroup is outside what this mount shows (e.g. a cgroup namespace): use its root
}

/**
 * Probes the host's cgroup layout. Inputs are injectable so tests can describe a fake host
 * whose mount dirs live in a temp dir.
 */
export function probeCgroupHost(opts: { mountinfo?: string; procSelfCgroup?: string; root?: string } = {}): CgroupHost {
  const root = opts.root ?? '/sys/fs/cgroup';
  const mounts = parseCgroupMounts(opts.mountinfo ?? readFileSync('/proc/self/mountinfo', 'utf8'));
  const procSelf = parseProcSelfCgroup(opts.procSelfCgroup ?? readFileSync('/proc/self/cgroup', 'utf8'));
  const prefer = (a: CgroupMount, b: CgroupMount) => Number(under(b.dir, root)) - Number(under(a.dir, root));
  const v1: Record<string, string> = {};
  const self: Record<string, string> = {};
  for (const m of mounts.filter((x) => x.fstype === 'cgroup').sort(prefer)) {
    for (const c of m.controllers) {
      if (v1[c] !== undefined || procSelf[c] === undefined) continue;
      v1[c] = m.dir;
      self[c] = relativeToMount(procSelf[c]!, m.root);
    }
  }
  const v2 = mounts.filter((x) => x.fstype === 'cgroup2').sort((a, b) => Number(b.dir === root) - Number(a.dir === root) || prefer(a, b))[0];
  const hasV1 = Object.keys(v1).length > 0;
  let mode: CgroupMode;
  if (v2 && (v2.dir === root || !hasV1)) mode = 'unified';
  else if (hasV1) mode = v2 ? 'hybrid' : 'v1';
  else throw new CgroupError(`no cgroup file system is mounted (looked under \`${root}\`)`);
  const host: CgroupHost = { mode, root, v1: mode === 'unified' ? {} : v1, unifiedControllers: [], self: mode === 'unified' ? {} : self };
  if (v2) {
    host.unified = v2.dir;
    host.self[''] = relativeToMount(procSelf[''] ?? '/', v2.root);
    host.unifiedControllers = readControllers(join(v2.dir, host.self['']!)) ?? readControllers(v2.dir) ?? [];
  }
  return host;
}

function readControllers(dir: string): string[] | undefined {
  try {
    return readFileSync(join(dir, 'cgroup.controllers'), 'utf8').split(/\s+/).filter(Boolean);
  } catch {
    return undefined;
  }
}
