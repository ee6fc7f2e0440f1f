// From a sandbox definition to the OCI spec the runtime runs. Starts from moat's default
// (every namespace but user, the default seccomp profile, minimal capabilities,
// no_new_privs, masked paths, a device allow-list) and adds the template's mounts, the
// private writable dirs, volumes and limits. Built at every start, so a sandbox picks up
// a stricter default when moat is upgraded.
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { defaultOciSpec } from '../policy/default-spec.js';
import type { OciMount, OciSpec } from '../spec/oci-types.js';
import { DEFAULT_PIDS, type SandboxDefinition } from './definition.js';
import { applyNetwork } from './network.js';
import { DEFAULT_DATA_DIR } from './layout.js';
import { getTemplate } from './templates/index.js';
import { overlayWorkDir } from './templates/types.js';
import { OVERLAY_LOWER_ANNOTATION, OVERLAY_WORK_ANNOTATION } from '../spec/parse-oci.js';
import { applyUserNamespace } from './userns.js';

/** CFS period used for --cpus. */
export const CPU_PERIOD = 100_000;

/** The cgroup of a sandbox, beneath moat's own (`moat.sandbox-` never clashes with moat-oci's
 * `moat-ID`). Sandboxes of another data directory may share a name, so theirs carry a short
 * hash of that directory: `moat.sandbox-NAME.1a2b3c4d`. */
export function sandboxCgroupsPath(name: string, dataDir?: string): string {
  if (!dataDir || resolve(dataDir) === DEFAULT_DATA_DIR) return `moat.sandbox-${name}`;
  return `moat.sandbox-${name}.${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 8)}`;
}

/** The full OCI spec of a sandbox whose root is `rootfs`, kept in data directory `dataDir`. */
export function buildSandboxSpec(def: SandboxDefinition, rootfs: string, dataDir?: string): OciSpec {
  const t = getTemplate(def.template);
  const spec = defaultOciSpec();
  const p = spec.process!;
  p.terminal = def.terminal;
  const image = t.imageProcess?.(rootfs, dataDir ?? DEFAULT_DATA_DIR) ?? {};
  p.args = def.command.length ? def.command : image.args?.length ? image.args : t.idleCommand;
  const env = [`PATH=${t.path}`, `HOSTNAME=${def.hostname}`, 'HOME=/root', ...(def.terminal ? ['TERM=xterm'] : [])];
  for (const kv of [...(image.env ?? []), ...def.env]) {
    const key = kv.slice(0, kv.indexOf('=') + 1);
    const i = env.findIndex((e) => e.startsWith(key));
    if (i >= 0) env[i] = kv;
    else env.push(kv);
  }
  p.env = env;
  p.cwd = image.cwd || '/';
  if (image.user) p.user = { ...p.user, uid: image.user.uid, gid: image.user.gid };
  if (def.unit?.user) p.user = { ...p.user, uid: def.unit.user.uid, gid: def.unit.user.gid };
  if (def.unit?.cwd) p.cwd = def.unit.cwd;
  spec.root = { path: rootfs, readonly: true };
  // an overlay root (debian, oci:DIR): shared read-only layers under the sandbox's own upper
  // dir, the whole root writable unless --read-only
  const lowers = t.rootOverlay?.(rootfs, dataDir ?? DEFAULT_DATA_DIR);
  if (lowers) {
    spec.root.readonly = def.readOnly;
    spec.annotations = { ...spec.annotations, [OVERLAY_LOWER_ANNOTATION]: lowers.join(':'), [OVERLAY_WORK_ANNOTATION]: overlayWorkDir(rootfs) };
  }
  spec.hostname = def.hostname;
  const rwOpts = ['rbind', 'nosuid', 'nodev', ...(def.readOnly ? ['ro', 'rro'] : ['rw'])];
  const mounts: OciMount[] = [
    ...t.mounts(rootfs),
    // the root stays read-only; these dirs of it are the sandbox's own writable state
    ...t.writable.map((d): OciMount => ({ destination: `/${d}`, type: 'bind', source: join(rootfs, d), options: [...rwOpts] })),
    ...(t.lateMounts?.(rootfs) ?? []),
    { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'mode=755', 'size=65536k'] },
    ...def.volumes.map((v): OciMount => ({ destination: v.container, type: 'bind', source: v.host, options: ['rbind', 'nosuid', 'nodev', ...(v.readonly ? ['ro', 'rro'] : ['rw'])] })),
  ];
  spec.mounts = [...spec.mounts!, ...mounts];
  const linux = spec.linux!;
  linux.cgroupsPath = sandboxCgroupsPath(def.name, dataDir);
  linux.resources = {
    ...linux.resources,
    ...(def.limits.pids !== undefined ? { pids: { limit: def.limits.pids } } : {}),
    ...(def.limits.memory ? { memory: { limit: def.limits.memory, swap: def.limits.memory } } : {}),
    ...(def.limits.cpus ? { cpu: { quota: Math.round(def.limits.cpus * CPU_PERIOD), period: CPU_PERIOD } } : {}),
  };
  spec.annotations = { ...spec.annotations, 'run.moat.sandbox': def.name, 'run.moat.template': def.template };
  if (def.limits.pids === undefined && def.limits.memory === undefined && def.limits.cpus === undefined) {
    // no limit can be kept here (rootless, no cgroup of the user's): the sandbox stays in the
    // caller's cgroup; the root of a subordinate range of its own is bounded by RLIMIT_NPROC
    // instead (counted per uid, and no other process has that uid)
    delete linux.cgroupsPath;
    if (def.userns.mode === 'subids') p.rlimits = [...(p.rlimits ?? []).filter((r) => r.type !== 'RLIMIT_NPROC'), { type: 'RLIMIT_NPROC', soft: DEFAULT_PIDS, hard: DEFAULT_PIDS }];
  }
  if (def.init === 'systemd') bootSystemd(spec);
  applyNetwork(spec, def);
  applyUserNamespace(spec, def, t.writable);
  return spec;
}

/** Capabilities of a systemd sandbox's root (Podman's default set): systemd starts services
 * as other users and sets up their dirs. Within the sandbox's user namespace they reach only
 * its own ids and files. */
export const SYSTEMD_CAPS = ['CAP_AUDIT_WRITE', 'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT'];

/** The signal that makes systemd halt (SIGRTMIN+3), which `moat stop` sends it. */
export const SYSTEMD_STOP_SIGNAL = 'RTMIN+3';

/** `--init systemd`: /sbin/init as PID 1, told it runs in a container, with the capabilities it
 * needs and its cgroup2 dir mounted alone and read-write (which delegates it to the sandbox's
 * root: src/runtime/cgroups/delegate-container-cgroup.ts), so systemd runs in its unified mode
 * also on a hybrid host (a host without cgroup2 is refused at create). Units that ask for mount
 * namespaces run without them (systemd skips them when it may not mount). */
function bootSystemd(spec: OciSpec): void {
  const p = spec.process!;
  p.args = ['/sbin/init'];
  p.env = [...(p.env ?? []).filter((e) => !e.startsWith('container=')), 'container=moat'];
  p.capabilities = { bounding: [...SYSTEMD_CAPS], effective: [...SYSTEMD_CAPS], permitted: [...SYSTEMD_CAPS] };
  const i = spec.mounts!.findIndex((m) => m.destination === '/sys/fs/cgroup');
  const m: OciMount = { destination: '/sys/fs/cgroup', type: 'cgroup2', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'rw'] };
  if (i >= 0) spec.mounts![i] = m;
  else spec.mounts!.push(m);
  // systemd mounts /run/lock itself unless it finds it mounted, and may not mount here
  spec.mounts!.push({ destination: '/run/lock', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'mode=1777', 'size=5120k'] });
}
