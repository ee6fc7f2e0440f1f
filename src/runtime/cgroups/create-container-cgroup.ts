// Creates a container's cgroup dirs beneath our own cgroup and writes its limits and device lists.
import { existsSync, mkdirSync } from 'node:fs';
import { posix } from 'node:path';
import type { OciDevice, OciResources } from '../../spec/oci-types.js';
import { ConfigError, type ConfigIssue } from '../../spec/issues.js';
import { CgroupError, errnoOf } from './cgroup-error.js';
import { cgroupfsHooks, readCgroupFile, writeCgroupFile } from './cgroup-fs.js';
import { parseSystemdCgroupsPath, placeContainerCgroup } from './cgroup-placement.js';
import type { CgroupHost, ContainerCgroup } from './cgroup-types.js';
import { planContainerDevices } from './container-devices.js';
import { enableV2Controllers } from './enable-v2-controllers.js';
import { resolveCgroupWrites } from './resolve-cgroup-writes.js';
import { performCgroupWrites, removeCreatedDirs } from './write-cgroup-files.js';

/** Options for `createContainerCgroup`; `devices` is `linux.devices`, `resources.devices` the rules. */
export interface CreateCgroupOptions {
  id: string;
  cgroupsPath?: string;
  resources?: OciResources;
  devices?: OciDevice[];
  /** skip (and report in `notes`) limits the host cannot apply instead of refusing */
  bestEffort?: boolean;
  systemd?: boolean;
}

/**
 * Creates the container's cgroup: dirs beneath this process's cgroup (per controller), limits,
 * v1 device lists, and the eBPF device program in `deviceBpf` for the helper to attach.
 * Throws ConfigError for config issues, CgroupError for I/O; removes what it created first.
 * @example const cg = createContainerCgroup(probeCgroupHost(), { id: 'web1', resources: { pids: { limit: 64 } } });
 */
export function createContainerCgroup(host: CgroupHost, opts: CreateCgroupOptions): ContainerCgroup {
  if (opts.systemd) refuseSystemd(opts.cgroupsPath);
  const placement = placeContainerCgroup(host, opts.id, opts.cgroupsPath);
  if (placement.issues.length) throw new ConfigError(placement.issues, 'cgroup');
  const cg: ContainerCgroup = { mode: host.mode, dirs: placement.dirs, created: [] };
  try {
    for (const dir of new Set(Object.values(placement.dirs))) {
      const key = Object.keys(placement.dirs).find((k) => placement.dirs[k] === dir)!;
      makeDirs(placement.bases[key]!, dir, cg.created, dir === placement.dirs.cpuset);
    }
    const issues: ConfigIssue[] = [], notes: ConfigIssue[] = [];
    const resolveOpts = { bestEffort: opts.bestEffort ?? false, unifiedControllers: host.unifiedControllers };
    const first = resolveCgroupWrites(cg, opts.resources ?? {}, resolveOpts);
    const unified = cg.dirs.unified;
    let final = first;
    if (unified && first.v2Controllers.size > 0) {
      // only in dirs moat created: the cgroup we run in (on a hybrid host, maybe the cgroup2 root)
      // belongs to whoever placed us there
      const en = enableV2Controllers(placement.bases.unified!, unified, first.v2Controllers, (d) => cg.created.includes(d), opts.bestEffort);
      issues.push(...en.issues);
      notes.push(...en.notes);
      if (en.issues.length === 0) final = resolveCgroupWrites(cg, opts.resources ?? {}, { ...resolveOpts, v2FilesExist: true });
    }
    const dev = planContainerDevices(cg, opts.devices, opts.resources?.devices, opts.bestEffort);
    issues.push(...final.issues, ...dev.issues);
    notes.push(...final.notes, ...dev.notes);
    if (issues.length) throw new ConfigError(issues, 'cgroup');
    performCgroupWrites([...final.writes, ...dev.writes]);
    if (dev.deviceBpf) cg.deviceBpf = dev.deviceBpf;
    if (notes.length) cg.notes = notes;
    return cg;
  } catch (err) {
    try {
      removeCreatedDirs(cg.created);
    } catch (cleanupErr) {
      throw new CgroupError(`${(err as Error).message}; cleanup also failed: ${(cleanupErr as Error).message}`, { cause: err });
    }
    throw err;
  }
}

// Creates base/.../dir one level at a time, recording only dirs this call made (EEXIST: not ours).
function makeDirs(base: string, dir: string, created: string[], cpuset: boolean): void {
  if (!existsSync(base)) throw new CgroupError(`cgroup \`${base}\` does not exist`);
  let at = base;
  const segs = posix.relative(base, dir).split('/');
  segs.forEach((seg, i) => {
    const parent = at;
    at = posix.join(at, seg);
    try {
      mkdirSync(at);
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw new CgroupError(`create cgroup \`${at}\`: ${errnoOf(err)}`, { cause: err });
      if (i === segs.length - 1) throw new CgroupError(`cgroup \`${at}\` already exists`, { cause: err });
      return;
    }
    created.push(at);
    cgroupfsHooks.afterMkdir(at);
    if (cpuset) inheritCpuset(parent, at);
  });
}

// a new v1 cpuset cgroup starts with empty cpus/mems and refuses tasks until they are set
function inheritCpuset(parent: string, dir: string): void {
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    const mine = readCgroupFile(dir, f);
    if (mine === undefined || mine.trim() !== '') continue;
    cgroupfsHooks.inherit(posix.join(dir, f));
    writeCgroupFile(dir, f, (readCgroupFile(parent, f) ?? '').trim());
  }
}

function refuseSystemd(cgroupsPath: string | undefined): void {
  if (cgroupsPath !== undefined && !parseSystemdCgroupsPath(cgroupsPath)) {
    throw new ConfigError([{ code: 'ERR_CGROUPS_PATH', path: 'linux.cgroupsPath', message: `the systemd driver needs \`slice:prefix:name\`, got \`${cgroupsPath}\`` }], 'cgroup');
  }
  if (!existsSync('/run/systemd/system')) {
    throw new CgroupError('the systemd cgroup driver was requested but systemd is not running (no `/run/systemd/system`); use the cgroupfs driver');
  }
  throw new CgroupError('the systemd cgroup driver needs d-bus, which moat does not speak yet; use the cgroupfs driver');
}
