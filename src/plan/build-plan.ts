// buildPlan: every ordering decision for creating a container, in one place. The comments
// say why each order is safe; the helper executes the ops as given.
import type { OciSpec, OciNamespace, OciDevice, OciHook } from '../spec/oci-types.js';
import type { ConfigIssue } from '../spec/issues.js';
import { capabilityMask } from '../policy/caps/caps.js';
import { compileMountOptions, MS } from '../policy/mounts/options.js';
import { RLIMITS } from '../spec/parse-oci.js';
import type { PlanOp } from './wire.js';
import type { MacAttrWrite } from '../policy/mac/index.js';
import { isAbsolute, resolve } from 'node:path';

/** CLONE_NEW* flags by OCI namespace type. */
export const CLONE_FLAGS: Record<OciNamespace['type'], number> = {
  mount: 0x00020000,
  cgroup: 0x02000000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  network: 0x40000000,
  time: 0x00000080,
};

/** Order in which existing namespaces are joined: the user namespace first, so that the
 * process holds capabilities over the namespaces it joins next; mount last. */
const JOIN_ORDER: OciNamespace['type'][] = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'time', 'mount'];

/** Everything buildPlan needs besides the spec: decided by the runtime layer. */
export interface PlanContext {
  bundle: string;
  /** foreground: the helper stays the container's parent and exits with its status */
  mode: 'detach' | 'foreground';
  /** the exec fifo that `start` writes; none (foreground only): the container's process goes
   * on to exec once it is set up, with no separate start (a `run`, as crun's) */
  fifoPath?: string;
  cgroupDirs: string[];
  /** host dirs of the container's own cgroups, by hierarchy name, for `cgroup` mounts */
  cgroupMounts: Record<string, string>;
  /** set for a container in a user namespace of its own: the dirs of `cgroupMounts` delegated
   * to its root; a read-write cgroup mount leaves only these writable (the others are bound
   * read-only). Unset (no user namespace: its root is the host's), a mount is as asked. */
  cgroupDelegated?: string[];
  deviceBpf?: { dir: string; insns: Uint8Array };
  consoleSocket?: string;
  noPivot?: boolean;
  preserveFds?: number;
  seccomp?: { filter: Uint8Array; flags: number; listenerPath?: string };
  /** an encoded Landlock ruleset (see src/policy/landlock), applied right before seccomp */
  landlock?: Uint8Array;
  /** the runtime is not root: it can write only a single-id map of its own ids (after
   * setgroups "deny"), or have newuidmap/newgidmap write subordinate ranges */
  rootless?: boolean;
  /** with `rootless`: the maps go through newuidmap/newgidmap (checked by src/runtime/rootless.ts) */
  rootlessNewIdMap?: boolean;
  /** detach mode: a waiter outside the container's cgroups reaps its first process and writes
   * its exit status here (native/waiter.c) */
  exitFile?: string;
  /** MAC labels (src/policy/mac's compileMac): the proc attr writes and extra mount data */
  mac?: PlanMac;
}

/** What the MAC backends add to a plan. */
export interface PlanMac {
  attrs: MacAttrWrite[];
  /** extra mount data by filesystem type (`context="..."`, `smackfsroot=...`) */
  mountData: Record<string, string[]>;
}

function lsmAttrOp(a: MacAttrWrite): PlanOp {
  return { op: 'lsm_attr', path: a.path, ...(a.fallback ? { source: a.fallback } : {}), data: a.value, origin: a.origin };
}

/** Labels taken at once (Smack's `current`). Smack lets only a holder of CAP_MAC_ADMIN in the
 * initial user namespace change its label, so these run in the helper before it joins or
 * makes a user namespace; the container process is then born with the label, and so are the
 * filesystems it mounts in a user namespace of its own. */
function currentLabelOps(mac: PlanMac | undefined): PlanOp[] {
  return (mac?.attrs ?? []).filter((a) => a.when === 'current').map(lsmAttrOp);
}

/** The ops, plus warnings about settings the kernel cannot honour as written. */
export interface BuiltPlan {
  ops: PlanOp[];
  warnings: ConfigIssue[];
}

/** seccomp(2): the filter's load returns a notification listener fd. */
const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8;

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

/** The devices every container gets (OCI runtime spec, "Default Devices"). */
export const DEFAULT_DEVICES: OciDevice[] = [
  { type: 'c', path: '/dev/null', major: 1, minor: 3, fileMode: 0o666 },
  { type: 'c', path: '/dev/zero', major: 1, minor: 5, fileMode: 0o666 },
  { type: 'c', path: '/dev/full', major: 1, minor: 7, fileMode: 0o666 },
  { type: 'c', path: '/dev/random', major: 1, minor: 8, fileMode: 0o666 },
  { type: 'c', path: '/dev/urandom', major: 1, minor: 9, fileMode: 0o666 },
  { type: 'c', path: '/dev/tty', major: 5, minor: 0, fileMode: 0o666 },
];

/** An rlimit value for the kernel: -1 (how the parser spells "unlimited") is RLIM_INFINITY. */
function rlimitValue(v: number): bigint {
  return v < 0 ? 0xffffffffffffffffn : BigInt(v);
}

function idMap(maps: { containerID: number; hostID: number; size: number }[] | undefined): string | undefined {
  return maps?.length ? maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('') : undefined;
}

/** Where the id-mapped trees made before clone are: plan op indices. */
interface IdmapTrees {
  root?: number;
  mounts: Map<number, number>;
}

/** The annotation that asks for the rootfs to be id-mapped to the container's user namespace. */
export { IDMAP_ROOTFS_ANNOTATION } from '../spec/parse-oci.js';
import { IDMAP_ROOTFS_ANNOTATION, OVERLAY_LOWER_ANNOTATION, OVERLAY_WORK_ANNOTATION } from '../spec/parse-oci.js';

const MOUNT_ATTR_NOSUID = 0x2, MOUNT_ATTR_NODEV = 0x4;

/** An overlay root (see OVERLAY_LOWER_ANNOTATION): its lower dirs, each id-mapped when the
 * rootfs is, then the overlay itself, made before clone like the id-mapped trees. */
function overlayRootOps(spec: OciSpec, rootfs: string, maps: { u?: string; g?: string }, ops: PlanOp[], trees: IdmapTrees): void {
  const lowers = spec.annotations![OVERLAY_LOWER_ANNOTATION]!.split(':');
  const idmapped = spec.annotations?.[IDMAP_ROOTFS_ANNOTATION] === 'true' && maps.u && maps.g;
  const groups: number[] = [];
  if (idmapped) for (const path of lowers) {
    groups.push(ops.length);
    ops.push({ op: 'idmap_tree', path, uidMap: maps.u!, gidMap: maps.g!, flags: 0, origin: `annotations.${OVERLAY_LOWER_ANNOTATION}` });
  }
  trees.root = ops.length;
  // nosuid and nodev: the upper dir is the container's to fill
  ops.push({ op: 'overlay_tree', path: rootfs, source: spec.annotations![OVERLAY_WORK_ANNOTATION]!, args: lowers, ...(idmapped ? { groups } : {}), attrSet: MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, origin: `annotations.${OVERLAY_LOWER_ANNOTATION}` });
}

/** Id-mapped trees (the rootfs, `idmap` bind mounts): made before clone, where the helper still
 * has the host privilege that marking a mount id-mapped needs. */
function idmapOps(spec: OciSpec, ctx: PlanContext, ops: PlanOp[], trees: IdmapTrees): void {
  const linux = spec.linux ?? {};
  const u = idMap(linux.uidMappings), g = idMap(linux.gidMappings);
  const rootfs = isAbsolute(spec.root!.path) ? spec.root!.path : resolve(ctx.bundle, spec.root!.path);
  if (spec.annotations?.[OVERLAY_LOWER_ANNOTATION]) overlayRootOps(spec, rootfs, { ...(u ? { u } : {}), ...(g ? { g } : {}) }, ops, trees);
  else if (spec.annotations?.[IDMAP_ROOTFS_ANNOTATION] === 'true' && u && g) {
    trees.root = ops.length;
    ops.push({ op: 'idmap_tree', path: rootfs, uidMap: u, gidMap: g, flags: 1, origin: `annotations.${IDMAP_ROOTFS_ANNOTATION}` });
  }
  (spec.mounts ?? []).forEach((m, i) => {
    const o = compileMountOptions(m.type, m.options ?? []);
    if (!o.idmap || !o.bind) return;
    const mu = idMap(m.uidMappings) ?? u, mg = idMap(m.gidMappings) ?? g;
    if (!mu || !mg) return;
    trees.mounts.set(i, ops.length);
    const source = isAbsolute(m.source!) ? m.source! : resolve(ctx.bundle, m.source!);
    ops.push({ op: 'idmap_tree', path: source, uidMap: mu, gidMap: mg, flags: o.idmap === 'ridmap' || o.recursiveBind ? 1 : 0, origin: `mounts[${i}].options` });
  });
}

/** Ops that run in the helper before clone: cgroups, joins, sockets, then the clone. */
function parentOps(spec: OciSpec, ctx: PlanContext, newUser: boolean, trees: IdmapTrees): PlanOp[] {
  const ops: PlanOp[] = [];
  const linux = spec.linux ?? {};
  const p = spec.process!;
  // oom_score_adj is inherited by the child; set here, where the helper still has the
  // host privilege to lower it
  if (p.oomScoreAdj !== undefined) ops.push({ op: 'oom_score_adj', value: BigInt(p.oomScoreAdj), origin: 'process.oomScoreAdj' });
  // The container process is in its cgroups before its first op runs. As root, the helper
  // opens their files here (mode 1: host paths, before any namespace is joined) and the
  // cloned process moves itself into each v1 hierarchy before anything else: the namespaces
  // the clone makes (a network namespace is most of a container's kernel memory) are then the
  // runtime's allocation, charged to the runtime's v1 cgroups as crun's are, and a foreground
  // helper stays out of the container's cgroups and pids.current. Into a cgroup2 dir the
  // process is born (clone3 with CLONE_INTO_CGROUP, docs/helper.md): on a cgroup2-only host
  // the namespaces are then charged to the container's memory.max; where that limit cannot
  // take them, clone3 fails and the helper falls back to clone and the child's own move.
  // Without root (a delegated cgroup) the helper joins first (mode 0) and the clone
  // inherits them.
  // (mode 0 also where a cgroup namespace is joined by path: before Linux 5.16 a migration
  // was checked against the writer's cgroup namespace, not the opener's)
  const joinsCgroupNs = (linux.namespaces ?? []).some((n) => n.type === 'cgroup' && n.path);
  const childJoin = !ctx.rootless && !joinsCgroupNs;
  for (const dir of ctx.cgroupDirs) ops.push({ op: 'cgroup_join', path: dir, ...(childJoin ? { mode: 1 } : {}), origin: 'linux.cgroupsPath' });
  idmapOps(spec, ctx, ops, trees);
  if (ctx.deviceBpf) ops.push({ op: 'device_bpf', path: ctx.deviceBpf.dir, bytes: ctx.deviceBpf.insns, origin: 'linux.resources.devices' });
  const nss = linux.namespaces ?? [];
  // host sockets first, before any namespace is joined: their paths are host paths
  if (ctx.consoleSocket && p.terminal) ops.push({ op: 'connect', name: 'console', path: ctx.consoleSocket, origin: 'process.terminal' });
  if (ctx.seccomp?.listenerPath) ops.push({ op: 'connect', name: 'seccomp', path: ctx.seccomp.listenerPath, origin: 'linux.seccomp.listenerPath' });
  ops.push(...currentLabelOps(ctx.mac));
  for (const type of JOIN_ORDER) {
    const i = nss.findIndex((n) => n.type === type && n.path);
    if (i >= 0) ops.push({ op: 'ns_join', nstype: CLONE_FLAGS[type], path: nss[i]!.path!, origin: `linux.namespaces[${i}].path` });
  }
  const ti = nss.findIndex((n) => n.type === 'time' && !n.path);
  if (ti >= 0) {
    const off = linux.timeOffsets ?? {};
    const data = Object.entries(off).map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`).join('');
    ops.push({ op: 'time_offsets', data, origin: linux.timeOffsets ? 'linux.timeOffsets' : `linux.namespaces[${ti}]` });
  }
  // the exec fifo is made with the runtime's credentials; the container process inherits it
  if (ctx.fifoPath) ops.push({ op: 'open_fifo', path: ctx.fifoPath, origin: 'root.path' });
  else if (ctx.mode !== 'foreground') throw new Error('buildPlan: a detached container needs its exec fifo');
  let flags = 0;
  for (const n of nss) if (!n.path && n.type !== 'time') flags |= CLONE_FLAGS[n.type];
  // a cgroup namespace is rooted where its maker is when it is made: with cgroups joined
  // after clone, the container process makes it itself once it is in them (first op below)
  const ownCgroupNs = childJoin && ctx.cgroupDirs.length > 0 && (flags & CLONE_FLAGS.cgroup) !== 0;
  if (ownCgroupNs) flags &= ~CLONE_FLAGS.cgroup;
  const relay = ctx.mode === 'foreground' && p.terminal && !ctx.consoleSocket;
  const clone: PlanOp = { op: 'clone', flags, mode: ctx.mode === 'foreground' ? 1 : 0, value: relay ? 2 : 0, origin: 'linux.namespaces' };
  if (ctx.exitFile && ctx.mode === 'detach') clone.path = ctx.exitFile;
  if (newUser) {
    const u = idMap(linux.uidMappings), g = idMap(linux.gidMappings);
    if (u) clone.uidMap = u;
    if (g) clone.gidMap = g;
    // an unprivileged writer of gid_map must deny setgroups first (user_namespaces(7)); a
    // multi-id map is written by the setuid newuidmap/newgidmap instead (value bit 2)
    if (ctx.rootless) clone.value = (clone.value as number) | (ctx.rootlessNewIdMap ? 4 : 1);
  }
  ops.push(clone);
  if (ownCgroupNs) ops.push({ op: 'unshare', nstype: CLONE_FLAGS.cgroup, origin: `linux.namespaces[${nss.findIndex((n) => n.type === 'cgroup')}]` });
  return ops;
}

function deviceOps(spec: OciSpec, inUserNs: boolean): PlanOp[] {
  const ops: PlanOp[] = [];
  const user = spec.linux?.devices ?? [];
  const userPaths = new Set(user.map((d) => d.path));
  const all = [...DEFAULT_DEVICES.filter((d) => !userPaths.has(d.path)).map((d) => ({ d, origin: 'linux.devices' })), ...user.map((d, i) => ({ d, origin: `linux.devices[${i}]` }))];
  for (const { d, origin } of all) {
    const type = d.type === 'b' ? S_IFBLK : d.type === 'p' ? S_IFIFO : S_IFCHR;
    const op: PlanOp = { op: 'mkdev', path: d.path, mode: type | (d.fileMode ?? 0o666), major: d.major ?? 0, minor: d.minor ?? 0, uid: d.uid ?? 0, gid: d.gid ?? 0, origin };
    // in a user namespace mknod is not allowed: bind the host's node, which the helper
    // checks is the same device
    if (inUserNs && d.type !== 'p') Object.assign(op, { flags: 1, source: d.path });
    ops.push(op);
  }
  const links: [string, string][] = [['/dev/fd', '/proc/self/fd'], ['/dev/stdin', '/proc/self/fd/0'], ['/dev/stdout', '/proc/self/fd/1'], ['/dev/stderr', '/proc/self/fd/2']];
  if (!userPaths.has('/dev/ptmx')) links.push(['/dev/ptmx', 'pts/ptmx']);
  for (const [path, source] of links) ops.push({ op: 'symlink', path, source, origin: 'linux.devices' });
  return ops;
}

function mountOps(spec: OciSpec, ctx: PlanContext, trees: IdmapTrees): { ops: PlanOp[]; warnings: ConfigIssue[] } {
  const ops: PlanOp[] = [];
  const warnings: ConfigIssue[] = [];
  (spec.mounts ?? []).forEach((m, i) => {
    const origin = `mounts[${i}]`;
    const o = compileMountOptions(m.type, m.options ?? []);
    for (const u of o.unknown) warnings.push({ code: 'ignored', path: `${origin}.options`, message: `option \`${u}\` is not understood and was ignored` });
    if (m.type === 'cgroup' || m.type === 'cgroup2') {
      ops.push(...cgroupMountOps(m.destination, m.type, o.attrSet | (o.rattrSet & 1), ctx, origin));
      return;
    }
    const op: PlanOp = { op: 'mount', path: m.destination, fstype: o.bind ? 'bind' : m.type!, origin };
    if (o.bind) {
      op.source = isAbsolute(m.source!) ? m.source! : resolve(ctx.bundle, m.source!);
      op.flags = o.recursiveBind ? 1 : 0;
      const tree = trees.mounts.get(i);
      if (tree !== undefined) op.value = tree;
      if (o.attrSet || o.attrClr) Object.assign(op, { attrSet: o.attrSet, attrClr: o.attrClr });
    } else {
      if (m.source) op.source = m.source;
      // the MAC label of the filesystem (linux.mountLabel, the Smack label) joins its data
      const data = [...o.data, ...(ctx.mac?.mountData[m.type!] ?? [])];
      if (data.length) op.data = data.join(',');
      if (o.attrSet) op.attrSet = o.attrSet;
    }
    if (o.rattrSet || o.rattrClr) Object.assign(op, { rattrSet: o.rattrSet, rattrClr: o.rattrClr });
    if (o.propagation) op.propagation = o.propagation;
    ops.push(op);
  });
  return { ops, warnings };
}

/** A `cgroup` mount shows the container its own cgroups: a tmpfs holding a bind of each of
 * the container's cgroup directories (never the host's whole hierarchy); on a cgroup2-only
 * host, its cgroup2 dir. A `cgroup2` mount is the container's cgroup2 dir alone (what a
 * container's systemd expects on a hybrid host). Read-write, only delegated dirs stay writable. */
function cgroupMountOps(dest: string, type: string, attrs: number, ctx: PlanContext, origin: string): PlanOp[] {
  const ops: PlanOp[] = [];
  const ro = (attrs & 1) !== 0;
  const delegated = ctx.cgroupDelegated && new Set(ctx.cgroupDelegated);
  const bindAttrs = (source: string, extra: number) => attrs | extra | (ro || !delegated || delegated.has(source) ? 0 : 1);
  const names = Object.keys(ctx.cgroupMounts);
  const v2 = ctx.cgroupMounts.unified ?? ctx.cgroupMounts[''];
  if (type === 'cgroup2' || (names.length === 1 && names[0] === '')) {
    if (!v2) throw new Error(`${origin}: the container has no cgroup2 dir to mount`);
    return [{ op: 'mount', path: dest, fstype: 'bind', source: v2, flags: 0, attrSet: bindAttrs(v2, 0), origin }];
  }
  ops.push({ op: 'mount', path: dest, fstype: 'tmpfs', source: 'tmpfs', data: 'mode=755', attrSet: 0x2 | 0x4 | 0x8, origin });
  for (const name of names) {
    const source = ctx.cgroupMounts[name]!;
    ops.push({ op: 'mount', path: `${dest}/${name}`, fstype: 'bind', source, flags: 0, attrSet: bindAttrs(source, 0x2 | 0x4 | 0x8), origin });
  }
  if (ro) ops.push({ op: 'readonly', path: dest, origin });
  return ops;
}

function hookOps(name: 'createContainer' | 'startContainer', hooks: OciHook[] | undefined): PlanOp[] {
  return (hooks ?? []).map((h, i) => {
    const op: PlanOp = { op: 'hook', name, path: h.path, args: h.args?.length ? h.args : [h.path], origin: `hooks.${name}[${i}]` };
    if (h.env) op.env = h.env;
    if (h.timeout) op.timeout = h.timeout;
    return op;
  });
}

function credentialOps(spec: OciSpec, ctx: Pick<PlanContext, 'seccomp' | 'landlock' | 'rootless' | 'rootlessNewIdMap' | 'mac'>, warnings: ConfigIssue[]): PlanOp[] {
  const p = spec.process!;
  const c = p.capabilities ?? {};
  const bnd = capabilityMask(c.bounding ?? []), eff = capabilityMask(c.effective ?? []);
  const prm = capabilityMask(c.permitted ?? []), inh = capabilityMask(c.inheritable ?? []);
  let amb = capabilityMask(c.ambient ?? []);
  // the kernel raises an ambient capability only if it is permitted and inheritable
  // (runc drops the others without a word; we say so)
  for (const [i, n] of (c.ambient ?? []).entries()) {
    const bit = capabilityMask([n]);
    if ((bit & prm & inh) !== bit) {
      amb &= ~bit;
      warnings.push({ code: 'ambient_dropped', path: `process.capabilities.ambient[${i}]`, message: `\`${n}\` is not both permitted and inheritable, so the kernel cannot make it ambient; it was left out` });
    }
  }
  const seccomp: PlanOp[] = ctx.seccomp ? [{ op: 'seccomp', bytes: ctx.seccomp.filter, flags: ctx.seccomp.flags, origin: 'linux.seccomp' }] : [];
  // Landlock needs no_new_privs or CAP_SYS_ADMIN, like seccomp, so it sits just before it
  if (ctx.landlock) seccomp.unshift({ op: 'landlock', bytes: ctx.landlock, origin: 'annotations.run.moat.landlock' });
  // SELinux and AppArmor exec labels take effect at execve and survive setresuid, capset and
  // no_new_privs, so they are written as late as possible: before Landlock, which would deny
  // opening /proc/thread-self/attr for writing, and before the seccomp filter, which need not
  // allow it. Under no_new_privs the kernel still lets an unconfined task enter the AppArmor
  // profile, and SELinux allows the transition the policy grants (nnp_transition).
  seccomp.unshift(...(ctx.mac?.attrs ?? []).filter((a) => a.when === 'exec').map(lsmAttrOp));
  const user: PlanOp = { op: 'set_user', uid: p.user.uid, gid: p.user.gid, groups: p.user.additionalGids ?? [], origin: 'process.user' };
  // setgroups is denied in a user namespace whose gid map an unprivileged runtime wrote itself
  // (flags bit 0: leave the groups; src/runtime/rootless.ts refuses additionalGids there)
  const deniedGroups = ctx.rootless && !ctx.rootlessNewIdMap && (spec.linux?.namespaces ?? []).some((n) => n.type === 'user' && !n.path);
  if (deniedGroups) user.flags = 1;
  const caps: PlanOp = { op: 'caps', capBnd: bnd, capEff: eff, capPrm: prm, capInh: inh, capAmb: amb, origin: 'process.capabilities' };
  // With no_new_privs the filter goes last, so it never has to allow the setup syscalls.
  // Without it, loading a filter needs CAP_SYS_ADMIN, so the filter goes first, while the
  // process still holds it (runc orders it the same way).
  if (p.noNewPrivileges) return [user, caps, { op: 'no_new_privs', origin: 'process.noNewPrivileges' }, ...seccomp];
  return [...seccomp, user, caps];
}

/** Compiles a validated spec into the ordered ops that create the container. */
export function buildPlan(spec: OciSpec, ctx: PlanContext): BuiltPlan {
  const linux = spec.linux ?? {};
  const p = spec.process!;
  const nss = linux.namespaces ?? [];
  const newUser = nss.some((n) => n.type === 'user' && !n.path);
  const inUserNs = nss.some((n) => n.type === 'user');
  const trees: IdmapTrees = { mounts: new Map() };
  const ops = parentOps(spec, ctx, newUser, trees);
  const warnings: ConfigIssue[] = [];
  // an empty name means "leave it", as in runc: never set a name outside a UTS namespace of
  // the container's own (parseOciConfig refuses a non-empty one without it)
  const ownUts = nss.some((n) => n.type === 'uts');
  if (nss.some((n) => n.type === 'network' && !n.path)) ops.push({ op: 'loopback_up', origin: 'linux.namespaces' });
  if (spec.hostname && ownUts) ops.push({ op: 'hostname', name: spec.hostname, origin: 'hostname' });
  if (spec.domainname && ownUts) ops.push({ op: 'domainname', name: spec.domainname, origin: 'domainname' });
  // make "/" a slave (or as asked) before anything is mounted, so no mount of ours
  // propagates to the host
  const prop = linux.rootfsPropagation;
  const propFlags = prop ? compileMountOptions(undefined, [prop]).propagation | MS.REC : MS.SLAVE | MS.REC;
  ops.push({ op: 'root_propagation', propagation: propFlags, origin: 'linux.rootfsPropagation' });
  const rootfs = isAbsolute(spec.root!.path) ? spec.root!.path : resolve(ctx.bundle, spec.root!.path);
  ops.push({ op: 'root_bind', path: rootfs, ...(trees.root !== undefined ? { value: trees.root } : {}), origin: 'root.path' });
  const mounts = mountOps(spec, ctx, trees);
  ops.push(...mounts.ops);
  warnings.push(...mounts.warnings);
  ops.push(...deviceOps(spec, inUserNs));
  const h = spec.hooks ?? {};
  const anyHooks = [h.prestart, h.createRuntime, h.createContainer, h.startContainer].some((x) => x?.length);
  // prestart and createRuntime hooks run in the runtime's namespaces (TypeScript runs them
  // at this sync point); the reply carries the state document later hooks read on stdin
  if (anyHooks) ops.push({ op: 'sync', name: 'createRuntime', origin: 'hooks.createRuntime' });
  ops.push(...hookOps('createContainer', h.createContainer));
  ops.push({ op: 'pivot', flags: ctx.noPivot ? 1 : 0, origin: 'root.path' });
  // sysctls go through the container's /proc before /proc/sys is made read-only
  for (const [k, v] of Object.entries(linux.sysctl ?? {})) ops.push({ op: 'sysctl', name: k, data: v, origin: `linux.sysctl.${k}` });
  (linux.maskedPaths ?? []).forEach((path, i) => ops.push({ op: 'mask', path, origin: `linux.maskedPaths[${i}]` }));
  (linux.readonlyPaths ?? []).forEach((path, i) => ops.push({ op: 'readonly', path, origin: `linux.readonlyPaths[${i}]` }));
  if (spec.root!.readonly) ops.push({ op: 'remount_root', origin: 'root.readonly' });
  if (p.terminal) {
    const con: PlanOp = { op: 'console', origin: 'process.terminal' };
    if (p.consoleSize) Object.assign(con, { rows: p.consoleSize.height, cols: p.consoleSize.width });
    ops.push(con);
  }
  for (const [i, r] of (p.rlimits ?? []).entries()) ops.push({ op: 'rlimit', value: RLIMITS.indexOf(r.type), soft: rlimitValue(r.soft), hard: rlimitValue(r.hard), origin: `process.rlimits[${i}]` });
  if (linux.personality) ops.push({ op: 'personality', value: linux.personality.domain === 'LINUX32' ? 8 : 0, origin: 'linux.personality' });
  ops.push({ op: 'umask', value: p.user.umask ?? 0o022, origin: 'process.user.umask' });
  ops.push({ op: 'chdir', path: p.cwd, origin: 'process.cwd' });
  // the seccomp agent gets the container's state with the listener fd; TypeScript knows the
  // pid only after clone and stops listening at wait_start, so the state is fetched here
  // and kept by the helper until the filter is loaded (see op_seccomp)
  if (ctx.seccomp?.listenerPath && ctx.seccomp.flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) ops.push({ op: 'sync', name: 'seccompState', origin: 'linux.seccomp.listenerPath' });
  ops.push({ op: 'wait_start', origin: 'process' });
  ops.push(...hookOps('startContainer', h.startContainer));
  ops.push(...credentialOps(spec, ctx, warnings));
  ops.push({ op: 'exec', args: p.args!, env: p.env ?? [], keepFds: ctx.preserveFds ?? 0, origin: 'process.args' });
  return { ops, warnings };
}

/** What `exec` into a running container needs to know about it. */
export interface ExecContext {
  pid: number;
  namespaces: OciNamespace['type'][];
  cgroupDirs: string[];
  detach: boolean;
  consoleSocket?: string;
  preserveFds?: number;
  seccomp?: { filter: Uint8Array; flags: number };
  landlock?: Uint8Array;
  /** the container's user namespace denies setgroups (`/proc/PID/setgroups` is `deny`: a
   * rootless single-id map): the process keeps its groups */
  setgroupsDenied?: boolean;
  /** the process's MAC labels (as at create) */
  mac?: PlanMac;
}

/** Compiles the ops that start one more process inside a running container. */
export function buildExecPlan(spec: OciSpec, ctx: ExecContext): BuiltPlan {
  const p = spec.process!;
  const ops: PlanOp[] = [];
  for (const dir of ctx.cgroupDirs) ops.push({ op: 'cgroup_join', path: dir, origin: 'linux.cgroupsPath' });
  // the console socket is a host path: connect before joining the container's mount
  // namespace, after which the path would resolve in the container (which could then answer
  // with a socket of its own and receive the pty master)
  if (ctx.consoleSocket && p.terminal) ops.push({ op: 'connect', name: 'console', path: ctx.consoleSocket, origin: 'process.terminal' });
  ops.push(...currentLabelOps(ctx.mac));
  for (const type of JOIN_ORDER)
    if (ctx.namespaces.includes(type)) ops.push({ op: 'ns_join', nstype: CLONE_FLAGS[type], path: `/proc/${ctx.pid}/ns/${type === 'network' ? 'net' : type === 'mount' ? 'mnt' : type}`, origin: 'linux.namespaces' });
  const relay = !ctx.detach && p.terminal && !ctx.consoleSocket;
  ops.push({ op: 'clone', flags: 0, mode: ctx.detach ? 0 : 1, value: relay ? 2 : 0, origin: 'process' });
  if (p.terminal) ops.push({ op: 'console', origin: 'process.terminal' });
  for (const [i, r] of (p.rlimits ?? []).entries()) ops.push({ op: 'rlimit', value: RLIMITS.indexOf(r.type), soft: rlimitValue(r.soft), hard: rlimitValue(r.hard), origin: `process.rlimits[${i}]` });
  ops.push({ op: 'umask', value: p.user.umask ?? 0o022, origin: 'process.user.umask' });
  ops.push({ op: 'chdir', path: p.cwd, origin: 'process.cwd' });
  const warnings: ConfigIssue[] = [];
  ops.push(...credentialOps(spec, { ...ctx, rootless: !!ctx.setgroupsDenied, rootlessNewIdMap: false }, warnings));
  ops.push({ op: 'exec', args: p.args!, env: p.env ?? [], keepFds: ctx.preserveFds ?? 0, origin: 'process.args' });
  return { ops, warnings };
}
