// Ordering properties of buildPlan: each test states one order the helper relies on, for a
// runc-like config (what `runc spec` writes) with a few additions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildExecPlan, buildPlan, CLONE_FLAGS, DEFAULT_DEVICES, type PlanContext } from './build-plan.js';
import { PLAN_OPS, type PlanOp, type PlanOpName } from './wire.js';
import { parseOciConfig } from '../spec/parse-oci.js';
import { runcConfig as baseRuncConfig } from '../spec/runc-config.fixture.js';
import type { OciSpec } from '../spec/oci-types.js';

/** `runc spec`'s config.json, plus hooks, devices and a sysctl. */
function runcConfig(): any {
  const c = baseRuncConfig();
  c.mounts.push({ destination: '/data', type: 'bind', source: 'data', options: ['rbind', 'ro'] });
  c.hooks = {
    prestart: [{ path: '/usr/bin/prestart' }],
    createContainer: [{ path: '/usr/bin/cc1' }, { path: '/usr/bin/cc2', args: ['cc2', '-x'] }],
    startContainer: [{ path: '/usr/bin/sc', timeout: 3 }],
  };
  c.linux.devices = [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o600 }, { type: 'p', path: '/dev/myfifo' }];
  c.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1000' };
  c.linux.maskedPaths = ['/proc/acpi', '/proc/kcore', '/proc/keys', '/sys/firmware'];
  c.linux.readonlyPaths = ['/proc/bus', '/proc/fs', '/proc/sys', '/proc/sysrq-trigger'];
  return c;
}

function spec(edit: (c: any) => void = () => {}): OciSpec {
  const c = runcConfig();
  edit(c);
  const r = parseOciConfig(c);
  assert.deepEqual(r.issues, [], 'fixture is valid');
  return r.spec!;
}

const CTX: PlanContext = {
  bundle: '/bundles/b1',
  mode: 'detach',
  fifoPath: '/run/moat/b1/exec.fifo',
  cgroupDirs: ['/sys/fs/cgroup/moat-b1'],
  cgroupMounts: { '': '/sys/fs/cgroup/moat-b1' },
  deviceBpf: { dir: '/sys/fs/cgroup/moat-b1', insns: new Uint8Array(16) },
  seccomp: { filter: new Uint8Array(8), flags: 0 },
};

const ops = (s: OciSpec, ctx: PlanContext = CTX) => buildPlan(s, ctx).ops;
const idx = (list: PlanOp[], pred: (o: PlanOp) => boolean) => list.flatMap((o, i) => (pred(o) ? [i] : []));
const of = (list: PlanOp[], name: PlanOpName) => idx(list, (o) => o.op === name);
const hooks = (list: PlanOp[], name: string) => idx(list, (o) => o.op === 'hook' && o.name === name);
const first = (xs: number[]) => Math.min(...xs);
const last = (xs: number[]) => Math.max(...xs);

/** Asserts every index in `a` is below every index in `b` (and that both are non-empty). */
function before(a: number[], b: number[], what: string): void {
  assert.ok(a.length > 0 && b.length > 0, `${what}: both sides present`);
  assert.ok(last(a) < first(b), `${what}: ${JSON.stringify(a)} before ${JSON.stringify(b)}`);
}

test('cgroup_join, open_fifo and clone come before any op of the container process', () => {
  const l = ops(spec());
  const clone = of(l, 'clone');
  assert.equal(clone.length, 1);
  before(of(l, 'cgroup_join'), clone, 'cgroup_join < clone');
  before(of(l, 'open_fifo'), clone, 'open_fifo < clone');
  before(of(l, 'device_bpf'), clone, 'device_bpf < clone');
  // every op with a host-side number (PLAN_OP_* < 10) precedes the clone
  before(idx(l, (o) => PLAN_OPS[o.op] < PLAN_OPS.clone), clone, 'host ops < clone');
  const child = idx(l, (o) => PLAN_OPS[o.op] >= 10 && o.op !== 'open_fifo' && o.op !== 'oom_score_adj');
  before(clone, child, 'clone < child ops');
  before(of(l, 'cgroup_join'), child, 'cgroup_join < child ops');
  before(of(l, 'open_fifo'), child, 'open_fifo < child ops');
});

test('as root the cloned process is moved into its cgroups before its first op, and then makes its cgroup namespace', () => {
  const l = ops(spec());
  const clone = of(l, 'clone');
  const joins = of(l, 'cgroup_join');
  assert.ok(joins.length > 0);
  // mode 1: opened before clone (and before any namespace is joined), written with the child's pid
  for (const i of joins) assert.equal(l[i]!.mode, 1);
  before(joins, of(l, 'ns_join').length ? of(l, 'ns_join') : clone, 'cgroup_join < ns_join');
  assert.equal(Number(l[clone[0]!]!.flags) & CLONE_FLAGS.cgroup, 0, 'no CLONE_NEWCGROUP on clone');
  // the first op of the container process: rooted at its own cgroups, not the runtime's
  assert.deepEqual(l[clone[0]! + 1], { op: 'unshare', nstype: CLONE_FLAGS.cgroup, origin: 'linux.namespaces[5]' });
  assert.equal(of(l, 'unshare').length, 1);
  // without a cgroup namespace nothing is unshared
  const noNs = ops(spec((c) => (c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'cgroup'))));
  assert.equal(of(noNs, 'unshare').length, 0);
  // without root (a delegated cgroup): the helper joins first and the clone makes the namespace
  const rl = ops(spec(), { ...CTX, rootless: true });
  for (const i of of(rl, 'cgroup_join')) assert.equal(rl[i]!.mode, undefined);
  assert.ok((Number(rl[of(rl, 'clone')[0]!]!.flags) & CLONE_FLAGS.cgroup) !== 0);
  assert.equal(of(rl, 'unshare').length, 0);
  // a cgroup namespace joined by path: the helper joins the cgroups first (kernels before 5.16
  // check a migration against the writer's cgroup namespace)
  const joined = ops(spec((c) => (c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === 'cgroup' ? { type: 'cgroup', path: '/proc/1/ns/cgroup' } : n)))));
  for (const i of of(joined, 'cgroup_join')) assert.equal(joined[i]!.mode, undefined);
  before(of(joined, 'cgroup_join'), of(joined, 'ns_join'), 'cgroup_join < ns_join');
  assert.equal(of(joined, 'unshare').length, 0);
});

test('root_propagation, then root_bind, then every mount', () => {
  const l = ops(spec());
  before(of(l, 'root_propagation'), of(l, 'root_bind'), 'root_propagation < root_bind');
  before(of(l, 'root_bind'), of(l, 'mount'), 'root_bind < mounts');
  const prop = l[of(l, 'root_propagation')[0]!]!;
  assert.equal(prop.propagation, (1 << 19) | 0x4000, 'default: MS_SLAVE|MS_REC');
  assert.equal(l[of(l, 'root_bind')[0]!]!.path, '/bundles/b1/rootfs', 'relative root resolved against the bundle');
  const priv = ops(spec((c) => (c.linux.rootfsPropagation = 'private')));
  assert.equal(priv[of(priv, 'root_propagation')[0]!]!.propagation, (1 << 18) | 0x4000);
});

test('mounts come before devices, in config order', () => {
  const l = ops(spec());
  before(of(l, 'mount'), [...of(l, 'mkdev'), ...of(l, 'symlink')], 'mounts < devices');
  assert.deepEqual(of(l, 'mount').map((i) => l[i]!.path), ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup', '/data']);
  const data = l.find((o) => o.path === '/data')!;
  assert.equal(data.source, '/bundles/b1/data', 'relative bind source resolved against the bundle');
  assert.equal(data.fstype, 'bind');
  assert.equal(data.flags, 1, 'rbind is recursive');
});

test('pivot comes after mounts, devices and createContainer hooks, and before masking', () => {
  const l = ops(spec());
  const pivot = of(l, 'pivot');
  assert.equal(pivot.length, 1);
  before(of(l, 'mount'), pivot, 'mounts < pivot');
  before(of(l, 'mkdev'), pivot, 'devices < pivot');
  before(of(l, 'symlink'), pivot, 'symlinks < pivot');
  before(hooks(l, 'createContainer'), pivot, 'createContainer hooks < pivot');
  assert.deepEqual(hooks(l, 'createContainer').map((i) => l[i]!.path), ['/usr/bin/cc1', '/usr/bin/cc2']);
  // prestart/createRuntime hooks run in TypeScript at a sync point, before createContainer
  before(of(l, 'sync'), hooks(l, 'createContainer'), 'createRuntime sync < createContainer hooks');
  before(pivot, [...of(l, 'sysctl'), ...of(l, 'mask'), ...of(l, 'readonly')], 'pivot < sysctl/mask/readonly');
  assert.equal(l[pivot[0]!]!.flags, 0);
  const np = ops(spec(), { ...CTX, noPivot: true });
  assert.equal(np[of(np, 'pivot')[0]!]!.flags, 1);
});

test('no sync op when there are no hooks', () => {
  const l = ops(spec((c) => delete c.hooks));
  assert.deepEqual(of(l, 'sync'), []);
  assert.deepEqual(of(l, 'hook'), []);
});

test('sysctls are written before masked and read-only paths are applied', () => {
  const l = ops(spec());
  const fromUser = idx(l, (o) => o.op === 'readonly' && o.origin!.startsWith('linux.readonlyPaths'));
  before(of(l, 'sysctl'), of(l, 'mask'), 'sysctl < mask');
  before(of(l, 'sysctl'), fromUser, 'sysctl < readonly');
  assert.deepEqual(of(l, 'sysctl').map((i) => [l[i]!.name, l[i]!.data, l[i]!.origin]), [
    ['net.ipv4.ip_forward', '1', 'linux.sysctl.net.ipv4.ip_forward'],
    ['kernel.shmmax', '1000', 'linux.sysctl.kernel.shmmax'],
  ]);
  // root is remounted read-only after the paths under it are handled
  before([...of(l, 'mask'), ...fromUser], of(l, 'remount_root'), 'mask/readonly < remount_root');
});

test('wait_start comes before startContainer hooks and after the process setup', () => {
  const l = ops(spec());
  before(of(l, 'wait_start'), hooks(l, 'startContainer'), 'wait_start < startContainer hooks');
  before([...of(l, 'chdir'), ...of(l, 'umask'), ...of(l, 'rlimit'), ...of(l, 'console')], of(l, 'wait_start'), 'process setup < wait_start');
  before(hooks(l, 'startContainer'), of(l, 'set_user'), 'startContainer hooks < set_user');
  const sc = l[hooks(l, 'startContainer')[0]!]!;
  assert.deepEqual(sc.args, ['/usr/bin/sc'], 'hook argv defaults to its path');
  assert.equal(sc.timeout, 3);
});

test('with noNewPrivileges: set_user < caps < no_new_privs < seccomp < exec, exec last', () => {
  const l = ops(spec());
  const order = ['set_user', 'caps', 'no_new_privs', 'seccomp', 'exec'] as const;
  for (const o of order) assert.equal(of(l, o).length, 1, o);
  for (let i = 1; i < order.length; i++) before(of(l, order[i - 1]!), of(l, order[i]!), `${order[i - 1]} < ${order[i]}`);
  assert.equal(l.at(-1)!.op, 'exec');
  assert.deepEqual(l.at(-1)!.args, ['sh']);
});

test('without noNewPrivileges: seccomp is loaded before set_user, and there is no no_new_privs', () => {
  const l = ops(spec((c) => (c.process.noNewPrivileges = false)));
  before(of(l, 'seccomp'), of(l, 'set_user'), 'seccomp < set_user');
  before(of(l, 'set_user'), of(l, 'caps'), 'set_user < caps');
  assert.deepEqual(of(l, 'no_new_privs'), []);
  assert.equal(l.at(-1)!.op, 'exec');
  const none = ops(spec(), { ...CTX, seccomp: undefined });
  assert.deepEqual(of(none, 'seccomp'), [], 'no filter, no seccomp op');
});

function userSpec(): OciSpec {
  return spec((c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 1 }, { containerID: 1, hostID: 300000, size: 10 }];
  });
}

test('uid/gid maps land on the clone op when a user namespace is created', () => {
  const l = ops(userSpec());
  const clone = l[of(l, 'clone')[0]!]!;
  assert.equal(clone.uidMap, '0 100000 65536\n');
  assert.equal(clone.gidMap, '0 200000 1\n1 300000 10\n');
  assert.ok((Number(clone.flags) & CLONE_FLAGS.user) !== 0, 'CLONE_NEWUSER set');
  // the cgroup namespace is made after clone, by the container process (next test)
  const want = ['pid', 'network', 'ipc', 'uts', 'mount', 'user'] as const;
  assert.equal(clone.flags, want.reduce((f, t) => f | CLONE_FLAGS[t], 0));
  // no user namespace: no maps
  const root = ops(spec());
  const c2 = root[of(root, 'clone')[0]!]!;
  assert.equal(c2.uidMap, undefined);
  assert.equal(c2.gidMap, undefined);
  assert.equal(Number(c2.flags) & CLONE_FLAGS.user, 0);
});

test('joining an existing user namespace: no maps on clone, joined first', () => {
  const l = ops(spec((c) => {
    c.linux.namespaces.push({ type: 'user', path: '/proc/1/ns/user' });
    c.linux.namespaces[1] = { type: 'network', path: '/run/netns/n1' };
    c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
  }));
  const clone = l[of(l, 'clone')[0]!]!;
  assert.equal(clone.uidMap, undefined);
  assert.equal(Number(clone.flags) & (CLONE_FLAGS.user | CLONE_FLAGS.network), 0, 'joined namespaces are not cloned');
  assert.deepEqual(of(l, 'ns_join').map((i) => l[i]!.path), ['/proc/1/ns/user', '/run/netns/n1']);
  assert.deepEqual(of(l, 'ns_join').map((i) => l[i]!.origin), ['linux.namespaces[6].path', 'linux.namespaces[1].path']);
  // still in a user namespace: devices are bound
  assert.ok(of(l, 'mkdev').every((i) => l[i]!.flags === 1 || l[i]!.path === '/dev/myfifo'));
});

test('devices are bind-mounted inside a user namespace and mknod-ed otherwise', () => {
  const inUser = ops(userSpec());
  const plain = ops(spec());
  const devs = (l: PlanOp[]) => of(l, 'mkdev').map((i) => l[i]!);
  const paths = [...DEFAULT_DEVICES.map((d) => d.path), '/dev/fuse', '/dev/myfifo'];
  assert.deepEqual(devs(plain).map((d) => d.path), paths);
  assert.deepEqual(devs(inUser).map((d) => d.path), paths);
  for (const d of devs(inUser)) {
    if (d.path === '/dev/myfifo') {
      assert.equal(d.flags, undefined, 'a fifo is made, not bound');
      assert.equal(Number(d.mode) & 0o170000, 0o010000);
    } else {
      assert.equal(d.flags, 1, `${d.path} bound`);
      assert.equal(d.source, d.path, `${d.path}: source is the host node`);
    }
  }
  for (const d of devs(plain)) {
    assert.equal(d.flags, undefined, `${d.path} made with mknod`);
    assert.equal(d.source, undefined);
  }
  const fuse = devs(plain).find((d) => d.path === '/dev/fuse')!;
  assert.deepEqual([fuse.mode, fuse.major, fuse.minor, fuse.origin], [0o020000 | 0o600, 10, 229, 'linux.devices[0]']);
  // a user device replaces the default of the same path
  const over = devs(ops(spec((c) => c.linux.devices.push({ type: 'c', path: '/dev/null', major: 1, minor: 3, fileMode: 0o600 }))));
  assert.equal(over.filter((d) => d.path === '/dev/null').length, 1);
  assert.equal(over.find((d) => d.path === '/dev/null')!.mode, 0o020000 | 0o600);
});

const JSON_PATH = /^[A-Za-z]+(\.[A-Za-z0-9_-]+|\[\d+\])*$/;

test('every op has an origin that is a JSON path into the config', () => {
  for (const [name, l] of [['runc', ops(spec())], ['userns', ops(userSpec())], ['foreground', ops(spec(), { ...CTX, mode: 'foreground', consoleSocket: '/tmp/c.sock' })]] as const) {
    for (const [i, o] of l.entries()) {
      assert.equal(typeof o.origin, 'string', `${name}: op ${i} (${o.op}) has an origin`);
      assert.match(o.origin!, JSON_PATH, `${name}: op ${i} (${o.op})`);
    }
  }
  const l = ops(spec());
  assert.equal(l.find((o) => o.op === 'mount' && o.path === '/dev/shm')!.origin, 'mounts[3]');
  assert.equal(l.find((o) => o.op === 'mask' && o.path === '/proc/kcore')!.origin, 'linux.maskedPaths[1]');
  assert.equal(l.find((o) => o.op === 'rlimit')!.origin, 'process.rlimits[0]');
  assert.equal(l.find((o) => o.op === 'hook' && o.path === '/usr/bin/cc2')!.origin, 'hooks.createContainer[1]');
});

test('ambient capabilities not both permitted and inheritable are dropped with a warning', () => {
  const b = buildPlan(spec((c) => {
    c.process.capabilities.permitted = ['CAP_KILL', 'CAP_AUDIT_WRITE'];
    c.process.capabilities.inheritable = ['CAP_KILL', 'CAP_NET_BIND_SERVICE'];
    c.process.capabilities.ambient = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  }), CTX);
  const caps = b.ops.find((o) => o.op === 'caps')!;
  assert.equal(caps.capAmb, 1n << 5n, 'only CAP_KILL (5) stays ambient');
  assert.equal(caps.capPrm, (1n << 5n) | (1n << 29n));
  assert.equal(caps.capInh, (1n << 5n) | (1n << 10n));
  const w = b.warnings.filter((x) => x.code === 'ambient_dropped');
  assert.deepEqual(w.map((x) => x.path), ['process.capabilities.ambient[0]', 'process.capabilities.ambient[2]']);
  assert.match(w[0]!.message, /`CAP_AUDIT_WRITE`/);
  assert.match(w[1]!.message, /`CAP_NET_BIND_SERVICE`/);
  assert.deepEqual(buildPlan(spec(), CTX).warnings, [], 'runc defaults keep every ambient cap');
});

test('foreground and terminal: clone mode and relay; console socket connected before clone', () => {
  const fg = ops(spec(), { ...CTX, mode: 'foreground' });
  const clone = fg[of(fg, 'clone')[0]!]!;
  assert.deepEqual([clone.mode, clone.value], [1, 2], 'foreground with a terminal and no console socket relays');
  const cs = ops(spec(), { ...CTX, consoleSocket: '/tmp/c.sock' });
  before(of(cs, 'connect'), of(cs, 'clone'), 'connect < clone');
  assert.deepEqual([cs[of(cs, 'clone')[0]!]!.mode, cs[of(cs, 'clone')[0]!]!.value], [0, 0]);
  assert.equal(cs[of(cs, 'connect')[0]!]!.name, 'console');
});

test('buildExecPlan joins namespaces user first and mount last, then clones without new namespaces', () => {
  const s = spec();
  const b = buildExecPlan(s, { pid: 4242, namespaces: ['mount', 'pid', 'network', 'user', 'uts', 'ipc', 'cgroup'], cgroupDirs: ['/sys/fs/cgroup/x'], detach: true, seccomp: { filter: new Uint8Array(8), flags: 0 } });
  const l = b.ops;
  const joins = of(l, 'ns_join').map((i) => l[i]!);
  assert.deepEqual(joins.map((j) => j.path), ['user', 'ipc', 'uts', 'net', 'pid', 'cgroup', 'mnt'].map((n) => `/proc/4242/ns/${n}`));
  assert.deepEqual(joins.map((j) => j.nstype), ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'mount'].map((n) => CLONE_FLAGS[n as keyof typeof CLONE_FLAGS]));
  before(of(l, 'cgroup_join'), of(l, 'ns_join'), 'cgroup_join < ns_join');
  before(of(l, 'ns_join'), of(l, 'clone'), 'ns_join < clone');
  assert.equal(l[of(l, 'clone')[0]!]!.flags, 0);
  for (const o of ['set_user', 'caps', 'no_new_privs', 'seccomp', 'exec'] as const) assert.equal(of(l, o).length, 1, o);
  before(of(l, 'no_new_privs'), of(l, 'seccomp'), 'no_new_privs < seccomp');
  assert.equal(l.at(-1)!.op, 'exec');
  for (const o of ['mount', 'pivot', 'mkdev', 'wait_start', 'hook'] as const) assert.deepEqual(of(l, o), [], `exec plan has no ${o}`);
});

test('an empty hostname/domainname without a uts namespace emits no op (it would rename the host)', () => {
  const s = spec((c) => {
    c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'uts');
    c.hostname = '';
    c.domainname = '';
  });
  const l = ops(s);
  assert.deepEqual([...of(l, 'hostname'), ...of(l, 'domainname')], [], 'no sethostname/setdomainname outside a private uts namespace');
});

test('hostname and domainname ops run only inside a new uts namespace', () => {
  const l = ops(spec((c) => (c.domainname = 'example')));
  assert.deepEqual(of(l, 'hostname').map((i) => l[i]!.name), ['runc']);
  assert.deepEqual(of(l, 'domainname').map((i) => l[i]!.name), ['example']);
  assert.ok((Number(l[of(l, 'clone')[0]!]!.flags) & CLONE_FLAGS.uts) !== 0);
  before(of(l, 'clone'), [...of(l, 'hostname'), ...of(l, 'domainname')], 'clone < hostname');
});

test('exec connects the console socket before joining any namespace (a host path)', () => {
  const s = spec((c) => (c.process.terminal = true));
  const { ops } = buildExecPlan(s, { pid: 42, namespaces: ['user', 'pid', 'mount'], cgroupDirs: [], detach: true, consoleSocket: '/run/console.sock' });
  const connect = ops.findIndex((o) => o.op === 'connect');
  const firstJoin = ops.findIndex((o) => o.op === 'ns_join');
  assert.ok(connect >= 0 && connect < firstJoin, `connect at ${connect}, first join at ${firstJoin}`);
});

const MAC = {
  attrs: [
    { backend: 'smack' as const, path: '/proc/thread-self/attr/smack/current', fallback: '/proc/self/attr/current', value: 'vs1', when: 'current' as const, origin: 'annotations.run.moat.smack.label' },
    { backend: 'selinux' as const, path: '/proc/thread-self/attr/exec', value: 'system_u:system_r:container_t:s0:c1,c2', when: 'exec' as const, origin: 'process.selinuxLabel' },
  ],
  mountData: { tmpfs: ['context="system_u:object_r:container_file_t:s0:c1,c2"'] },
};

test('MAC: the Smack label is taken before any namespace join and the clone; exec labels after caps and no_new_privs, before Landlock and seccomp', () => {
  const s = spec((c) => {
    c.process.noNewPrivileges = true;
    c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === 'network' ? { type: 'network', path: '/run/netns/x' } : n));
  });
  const o = ops(s, { ...CTX, mac: MAC, landlock: new Uint8Array(4) });
  const names = o.map((x) => x.op);
  const smack = o.findIndex((x) => x.op === 'lsm_attr' && x.data === 'vs1');
  const se = o.findIndex((x) => x.op === 'lsm_attr' && x.origin === 'process.selinuxLabel');
  assert.ok(smack >= 0 && smack < names.indexOf('ns_join') && smack < names.indexOf('clone'));
  assert.deepEqual(o[smack], { op: 'lsm_attr', path: '/proc/thread-self/attr/smack/current', source: '/proc/self/attr/current', data: 'vs1', origin: 'annotations.run.moat.smack.label' });
  assert.deepEqual(names.slice(se - 3), ['set_user', 'caps', 'no_new_privs', 'lsm_attr', 'landlock', 'seccomp', 'exec']);
  assert.equal(o[se]!.data, 'system_u:system_r:container_t:s0:c1,c2');
  // without no_new_privs the exec label still precedes Landlock and seccomp
  const o2 = ops(spec((c) => (c.process.noNewPrivileges = false)), { ...CTX, mac: MAC, landlock: new Uint8Array(4) }).map((x) => x.op);
  assert.deepEqual(o2.slice(o2.lastIndexOf('lsm_attr')), ['lsm_attr', 'landlock', 'seccomp', 'set_user', 'caps', 'exec']);
});

test('MAC: mount labels join the data of tmpfs mounts only', () => {
  const o = ops(spec(), { ...CTX, mac: MAC });
  const tmpfs = o.filter((x) => x.op === 'mount' && x.fstype === 'tmpfs');
  assert.ok(tmpfs.length > 0);
  for (const m of tmpfs) assert.match(m.data as string, /,context="system_u:object_r:container_file_t:s0:c1,c2"$|^context=/);
  for (const m of o.filter((x) => x.op === 'mount' && x.fstype !== 'tmpfs')) assert.ok(!String(m.data ?? '').includes('context='), `${m.fstype} unlabelled`);
});

test('MAC: exec into a container takes the same labels in the same places', () => {
  const s = spec((c) => (c.process.noNewPrivileges = true));
  const o = buildExecPlan(s, { pid: 42, namespaces: ['user', 'mount'], cgroupDirs: [], detach: true, mac: MAC }).ops.map((x) => x.op);
  assert.ok(o.indexOf('lsm_attr') < o.indexOf('ns_join'));
  assert.deepEqual(o.slice(o.lastIndexOf('lsm_attr') - 3), ['set_user', 'caps', 'no_new_privs', 'lsm_attr', 'exec']);
});

test('an overlay root: each lower dir id-mapped, then the overlay, before clone; root_bind attaches it', () => {
  const s = spec((c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.annotations = { 'run.moat.idmap-rootfs': 'true', 'run.moat.overlay.lowerdir': '/cache/l2:/cache/l1', 'run.moat.overlay.workdir': '/sb/rootfs.work' };
  });
  const { ops } = buildPlan(s, CTX);
  const names = ops.map((o) => o.op);
  const ov = names.indexOf('overlay_tree');
  assert.ok(ov > 0 && ov < names.indexOf('clone'), 'the overlay is made before clone');
  const o = ops[ov]!;
  assert.deepEqual(o.args, ['/cache/l2', '/cache/l1']);
  assert.equal(o.path, '/bundles/b1/rootfs');
  assert.equal(o.source, '/sb/rootfs.work');
  assert.deepEqual(o.groups!.map((g) => ops[Number(g)]!.path), ['/cache/l2', '/cache/l1'], 'each lower is an id-mapped tree');
  assert.ok(o.groups!.every((g) => ops[Number(g)]!.op === 'idmap_tree' && ops[Number(g)]!.flags === 0));
  assert.equal(o.attrSet, 0x2 | 0x4, 'nosuid, nodev');
  assert.equal(ops.find((x) => x.op === 'root_bind')!.value, ov);
  assert.ok(!ops.some((x) => x.op === 'idmap_tree' && x.path === '/bundles/b1/rootfs'), 'the upper dir itself is not id-mapped');
});

test('overlay annotations are checked', () => {
  const c = runcConfig();
  c.annotations = { 'run.moat.overlay.lowerdir': 'rel:/abs' };
  const r = parseOciConfig(c);
  assert.deepEqual(r.issues.map((i) => i.path).sort(), ['annotations.run.moat.overlay.lowerdir', 'annotations.run.moat.overlay.workdir']);
});

test('cgroup mounts: v1 dirs under a tmpfs; `cgroup2` is the cgroup2 dir alone; read-write leaves only delegated dirs writable', () => {
  const hybrid: PlanContext = {
    ...CTX,
    cgroupMounts: { memory: '/sys/fs/cgroup/memory/m', systemd: '/sys/fs/cgroup/systemd/m', unified: '/sys/fs/cgroup/unified/m' },
    cgroupDelegated: ['/sys/fs/cgroup/unified/m'],
  };
  const cgMounts = (type: string, opt: string) => ops(spec((c) => {
    c.mounts = c.mounts.filter((m: any) => m.destination !== '/sys/fs/cgroup');
    c.mounts.push({ destination: '/sys/fs/cgroup', type, source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', opt] });
  }), hybrid).filter((o) => o.op === 'mount' && String(o.path).startsWith('/sys/fs/cgroup') || (o.op === 'readonly' && o.path === '/sys/fs/cgroup'));
  const ro = (o: PlanOp) => ((o.attrSet as number) & 1) !== 0;
  // read-only: a tmpfs with every hierarchy bound read-only
  const v1ro = cgMounts('cgroup', 'ro');
  assert.deepEqual(v1ro.map((o) => [o.op, o.path, o.fstype ?? '']), [['mount', '/sys/fs/cgroup', 'tmpfs'], ...['memory', 'systemd', 'unified'].map((n) => ['mount', `/sys/fs/cgroup/${n}`, 'bind']), ['readonly', '/sys/fs/cgroup', '']]);
  assert.ok(v1ro.filter((o) => o.fstype === 'bind').every(ro));
  // read-write: only the delegated dir is writable, the limits' dirs stay read-only
  const v1rw = cgMounts('cgroup', 'rw').filter((o) => o.fstype === 'bind');
  assert.deepEqual(v1rw.map((o) => [o.path, ro(o)]), [['/sys/fs/cgroup/memory', true], ['/sys/fs/cgroup/systemd', true], ['/sys/fs/cgroup/unified', false]]);
  // without a user namespace of its own (no delegation to speak of: its root is the host's) a mount is as asked
  const noUserns = ops(spec((c) => {
    c.mounts = c.mounts.filter((m: any) => m.destination !== '/sys/fs/cgroup');
    c.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['rw'] });
  }), { ...hybrid, cgroupDelegated: undefined }).filter((o) => o.op === 'mount' && o.fstype === 'bind' && String(o.path).startsWith('/sys/fs/cgroup/'));
  assert.equal(noUserns.length, 3);
  assert.ok(noUserns.every((o) => !ro(o)));
  // cgroup2: the container's cgroup2 dir at the mount point, nothing else
  const v2 = cgMounts('cgroup2', 'rw');
  assert.deepEqual(v2.map((o) => [o.path, o.fstype, o.source, ro(o)]), [['/sys/fs/cgroup', 'bind', '/sys/fs/cgroup/unified/m', false]]);
  assert.deepEqual(cgMounts('cgroup2', 'ro').map(ro), [true]);
  assert.throws(() => buildPlan(spec((c) => c.mounts.push({ destination: '/cg', type: 'cgroup2', source: 'cgroup', options: [] })), { ...hybrid, cgroupMounts: { memory: '/m' } }), /no cgroup2 dir/);
});
