// `moat inspect`: the full effective configuration of a sandbox, and for each security
// layer what it does and whether it is active. For a running sandbox, each layer is also
// checked against what the kernel reports for its process (/proc/PID/status, ns links,
// cgroup files), so inspect shows what is, not only what was asked.
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { containerRecord } from '../runtime/lifecycle.js';
import type { OciSpec } from '../spec/oci-types.js';
import type { ContainerCgroup } from '../runtime/cgroups/index.js';
import { DEFAULT_PIDS, formatSize, type SandboxDefinition } from './definition.js';
import { cgroupLimitsUnavailable } from './host-limits.js';
import { describeNetworkMode, networkState, type NetworkState } from './network.js';
import { buildSandboxSpec } from './spec.js';
import { compileLandlock, LANDLOCK_ANNOTATION, type LandlockHost } from '../policy/landlock/index.js';
import { landlockHost } from '../runtime/landlock.js';
import type { SandboxMacPlan } from '../policy/mac/index.js';
import { applyMacPlan, sandboxMacPlan } from './mac.js';
import { OVERLAY_LOWER_ANNOTATION } from '../spec/parse-oci.js';
import { sandboxStatus, type SandboxStatus } from './status.js';
import type { SandboxStore } from './store.js';
import { getTemplate } from './templates/index.js';
import { describeUserNamespace } from './userns.js';

/** One security layer of a sandbox. */
export interface SecurityLayer {
  layer: string;
  active: boolean;
  /** what the layer does here */
  detail: string;
  /** what the kernel reports for the running sandbox, when it runs */
  observed?: string;
}

/** Everything `inspect` shows. */
export interface SandboxReport {
  name: string;
  status: SandboxStatus;
  pid?: number;
  /** the exit status of a sandbox whose process ended (128+N for signal N) */
  exitCode?: number;
  template: string;
  /** --unit: the host service it runs */
  unit?: SandboxDefinition['unit'];
  /** --init: what boots as PID 1 */
  init?: SandboxDefinition['init'];
  created: string;
  command: string[];
  hostname: string;
  env: string[];
  dataDir: string;
  rootfs: string;
  consoleLog: string;
  filesystem: { root: string; writable: string[]; tmpfs: string[]; readOnlyHost: string[]; volumes: SandboxDefinition['volumes'] };
  /** `pids` is null where no limit can be kept (rootless without a cgroup); `note` says why */
  limits: { memory: string; cpus: string; pids: number | null; note?: string };
  network: { mode: string; unsafe: boolean; detail: string } & NetworkState;
  /** the sandbox's MAC setting: required, best-effort or off */
  mac: string;
  security: SecurityLayer[];
  spec: OciSpec;
}

function procStatus(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  try {
    for (const l of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
      const i = l.indexOf(':');
      if (i > 0) out[l.slice(0, i)] = l.slice(i + 1).trim();
    }
  } catch {
    /* gone */
  }
  return out;
}

function nsLink(pid: number | 'self', ns: string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${ns}`);
  } catch {
    return undefined;
  }
}

function readCg(dir: string | undefined, file: string): string | undefined {
  if (!dir) return undefined;
  try {
    return readFileSync(join(dir, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}

const NS_FILES: Record<string, string> = { pid: 'pid', network: 'net', ipc: 'ipc', uts: 'uts', mount: 'mnt', cgroup: 'cgroup', user: 'user' };

function readProcAttr(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/attr/current`, 'utf8').replace(/\0/g, '').trim();
  } catch {
    return undefined;
  }
}

function layers(def: SandboxDefinition, spec: OciSpec, pid: number | undefined, cg: ContainerCgroup | undefined, landlockAbi: LandlockHost, mac: SandboxMacPlan, netDetail: string, netCheck?: string): SecurityLayer[] {
  const linux = spec.linux!;
  const p = spec.process!;
  const st = pid ? procStatus(pid) : {};
  const running = pid !== undefined && Object.keys(st).length > 0;
  const own = (linux.namespaces ?? []).map((n) => n.type);
  const out: SecurityLayer[] = [];
  const nsObserved = running
    ? Object.entries(NS_FILES).map(([t, f]) => `${t}=${nsLink(pid!, f) !== nsLink('self', f) ? 'private' : 'host'}`).join(' ')
    : undefined;
  out.push({ layer: 'namespaces', active: true, detail: `private: ${own.join(', ')}${def.network.mode === 'host' ? '; network: the HOST\'s (--network host)' : ''}`, ...(nsObserved ? { observed: nsObserved } : {}) });
  const u = describeUserNamespace(def);
  out.push({ layer: 'user namespace', active: u.active, detail: u.detail, ...(running ? { observed: nsLink(pid!, 'user') !== nsLink('self', 'user') ? 'private' : 'host' } : {}) });
  const sc = linux.seccomp;
  out.push({
    layer: 'seccomp', active: !!sc,
    detail: sc ? `moat default profile: ${sc.syscalls?.reduce((n, r) => n + r.names.length, 0) ?? 0} syscall rules allowed, everything else ${sc.defaultAction}${sc.defaultErrnoRet ? ` (errno ${sc.defaultErrnoRet})` : ''}; archs ${(sc.architectures ?? []).join(', ')}` : 'off',
    ...(running ? { observed: `Seccomp: ${st.Seccomp ?? '?'} (2 = filter)` } : {}),
  });
  const caps = p.capabilities ?? {};
  out.push({
    layer: 'capabilities', active: true,
    detail: `bounding/effective/permitted: ${(caps.bounding ?? []).join(', ') || 'none'}; every other capability dropped`,
    ...(running ? { observed: `CapEff: ${st.CapEff ?? '?'}, CapBnd: ${st.CapBnd ?? '?'}` } : {}),
  });
  out.push({ layer: 'no_new_privs', active: !!p.noNewPrivileges, detail: p.noNewPrivileges ? 'set: setuid binaries and file capabilities grant nothing' : 'not set', ...(running ? { observed: `NoNewPrivs: ${st.NoNewPrivs ?? '?'}` } : {}) });
  out.push({ layer: 'masked paths', active: !!linux.maskedPaths?.length, detail: `${linux.maskedPaths?.length ?? 0} paths hidden (${(linux.maskedPaths ?? []).join(' ')}); read-only: ${(linux.readonlyPaths ?? []).join(' ')}` });
  const r = linux.resources ?? {};
  const cgObserved = cg && running
    ? [
        `pids.max=${readCg(cg.dirs.pids ?? cg.dirs.unified, 'pids.max') ?? '?'}`,
        `memory=${readCg(cg.dirs.memory, 'memory.limit_in_bytes') ?? readCg(cg.dirs.unified, 'memory.max') ?? '?'}`,
        `cpu=${readCg(cg.dirs.cpu, 'cpu.cfs_quota_us') ?? readCg(cg.dirs.unified, 'cpu.max') ?? '?'}`,
      ].join(' ')
    : undefined;
  const noCgroup = !linux.cgroupsPath;
  const nproc = p.rlimits?.find((x) => x.type === 'RLIMIT_NPROC');
  if (noCgroup) out.push({
    layer: 'cgroups', active: false,
    detail: `OFF: no cgroup of its own: ${cgroupLimitsUnavailable() ?? 'cgroup limits were unavailable when it was made'}; no pids, memory or cpu limit${nproc ? `; instead RLIMIT_NPROC ${nproc.hard} bounds the processes of its root` : ''}; device rules not enforced (the sandbox has only the default nodes, bound from the host)`,
  });
  else out.push({
    layer: 'cgroups', active: true,
    detail: `pids ${r.pids?.limit}, memory ${r.memory?.limit ? formatSize(r.memory.limit) : 'unlimited'}, cpu ${def.limits.cpus ?? 'unlimited'}; devices: deny all but the default nodes (null, zero, full, random, urandom, tty, ptmx)${def.init === 'systemd' ? `; --init systemd: its cgroup2 dir is delegated to the sandbox's root, which may make up to 1024 cgroups, 16 deep, beneath it; limit files and cgroup v1 are not delegated` : ''}`,
    ...(cgObserved ? { observed: cgObserved } : {}),
  });
  const overlay = spec.annotations?.[OVERLAY_LOWER_ANNOTATION];
  out.push({ layer: 'root filesystem', active: true, detail: overlay ? `overlay: shared layers read-only (${overlay.split(':').length}, id-mapped with the sandbox's ids), writes go to the sandbox's own upper dir; nosuid, nodev${def.readOnly ? '; read-only (--read-only)' : ''}` : `root read-only; host content read-only, nosuid, nodev${def.readOnly ? '; private dirs read-only too (--read-only)' : ''}` });
  const ll = compileLandlock(spec, landlockAbi);
  const llMode = spec.annotations?.[LANDLOCK_ANNOTATION] ?? 'off';
  out.push({
    layer: 'Landlock', active: !!ll.bytes,
    detail: ll.bytes
      ? `${llMode} (kernel ABI ${landlockAbi.abi}): full access beneath the root and its writable mounts, read/execute on read-only ones, nothing else; signals and abstract unix sockets scoped to the sandbox${ll.warnings.length ? `; ${ll.warnings.map((w) => w.message).join('; ')}` : ''}`
      : llMode === 'off' ? 'off' : `not applied: ${[...ll.issues, ...ll.warnings].map((w) => w.message).join('; ') || landlockAbi.reason || 'no Landlock on this host'}`,
  });
  for (const l of mac.layers.filter((x) => x.layer !== 'Landlock')) {
    // what the kernel says the sandbox's first process runs as (`ps -eZ` reads the same file)
    const label = running ? readProcAttr(pid!) : undefined;
    out.push({ layer: l.layer, active: l.used, detail: l.detail, ...(label !== undefined && l.used ? { observed: `/proc/${pid}/attr/current: ${label}` } : {}) });
  }
  if (!mac.layers.some((x) => x.layer !== 'Landlock')) out.push({ layer: 'SELinux/AppArmor/Smack', active: false, detail: def.mac === 'off' ? 'off (mac: off)' : 'none on this host: Landlock is the MAC layer here' });
  out.push({ layer: 'network', active: def.network.mode !== 'host', detail: `${def.network.mode}: ${netDetail}`, ...(netCheck ? { observed: `CNI CHECK: ${netCheck}` } : {}) });
  return out;
}

/** The report of one sandbox. */
export function inspectSandbox(store: SandboxStore, name: string): SandboxReport {
  const def = store.read(name);
  const { status, pid, exitCode } = sandboxStatus(store, name);
  const t = getTemplate(def.template);
  let spec = buildSandboxSpec(def, store.layout.rootfs(name), store.layout.data);
  const macPlan = sandboxMacPlan(store, def);
  applyMacPlan(spec, macPlan);
  let cg: ContainerCgroup | undefined;
  if (status !== 'stopped') {
    try {
      const rec = containerRecord(store.layout.runtimeRoot, name);
      spec = rec.spec; // what the container was really made from
      cg = rec.cgroup as ContainerCgroup | undefined;
    } catch {
      /* removed meanwhile */
    }
  }
  const netDetail = describeNetworkMode(def.network.mode, store.layout);
  const net = networkState(store.layout, def, status === 'running');
  const mountsOf = (f: (o: string[], type?: string) => boolean) => (spec.mounts ?? []).filter((m) => f(m.options ?? [], m.type)).map((m) => m.destination);
  return {
    name, status, ...(pid ? { pid } : {}), ...(exitCode !== undefined ? { exitCode } : {}), template: def.template, ...(def.unit ? { unit: def.unit } : {}), ...(def.init ? { init: def.init } : {}), created: def.created,
    command: spec.process!.args ?? [], hostname: def.hostname, env: spec.process!.env ?? [],
    dataDir: store.layout.data, rootfs: store.layout.rootfs(name), consoleLog: store.layout.consoleLog(name),
    filesystem: {
      root: spec.annotations?.[OVERLAY_LOWER_ANNOTATION] ? `overlay: ${spec.annotations[OVERLAY_LOWER_ANNOTATION]} (shared, read-only) under ${spec.root!.path} (private${def.readOnly ? ', read-only' : ', writable'})` : 'read-only',
      writable: (t.rootOverlay ? ['/'] : t.writable.map((d) => `/${d}`)).filter(() => !def.readOnly),
      tmpfs: mountsOf((_, type) => type === 'tmpfs'),
      readOnlyHost: [...t.mounts(store.layout.rootfs(name)), ...(t.lateMounts?.(store.layout.rootfs(name)) ?? [])].map((m) => m.destination),
      volumes: def.volumes,
    },
    limits: {
      memory: def.limits.memory ? formatSize(def.limits.memory) : 'unlimited', cpus: def.limits.cpus ? String(def.limits.cpus) : 'unlimited', pids: def.limits.pids ?? null,
      ...(def.limits.pids === undefined ? { note: `no pids limit (default ${DEFAULT_PIDS}): ${cgroupLimitsUnavailable() ?? 'cgroup limits were unavailable when it was made'}` } : {}),
    },
    network: { mode: def.network.mode, unsafe: def.network.mode === 'host', detail: netDetail, ...net },
    mac: def.mac ?? 'required',
    security: layers(def, spec, pid, cg, landlockHost(store.layout.runtimeRoot), macPlan, netDetail, net.check),
    spec,
  };
}
