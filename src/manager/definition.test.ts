// Sandbox definitions and the specs built from them (pure: no sandbox is made).
import { after, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { ConfigError } from '../spec/issues.js';
import { defineSandbox, parseSize, DEFAULT_PIDS } from './definition.js';
import { sandboxNameIssue } from './names.js';
import { buildSandboxSpec } from './spec.js';
import { writeOverlayLowers } from './templates/types.js';

const host = { cpus: 4, memoryBytes: 8 * 1024 ** 3 };

test('parseSize', () => {
  assert.equal(parseSize('256M'), 256 * 1024 ** 2);
  assert.equal(parseSize('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('4096'), 4096);
  assert.equal(parseSize('12kb'), 12 * 1024);
  assert.equal(parseSize('lots'), undefined);
  assert.equal(parseSize('-1M'), undefined);
});

test('sandbox names', () => {
  for (const ok of ['web', 'web-1', 'a.b_c', 'X9']) assert.equal(sandboxNameIssue(ok), undefined, ok);
  for (const bad of ['', '-x', '.x', 'a/b', 'a..b', 'x'.repeat(64), 'sp ace']) assert.ok(sandboxNameIssue(bad), bad);
});

test('defaults: host template, pids 1024, network none, no user namespace yet', () => {
  const d = defineSandbox('web', {}, host);
  assert.equal(d.template, 'host');
  assert.equal(d.limits.pids, DEFAULT_PIDS);
  assert.equal(d.network.mode, 'none');
  assert.equal(d.userns.mode, 'private');
  assert.equal(d.hostname, 'web');
});

test('every issue is collected, with the flag it came from', () => {
  try {
    defineSandbox('bad/name', { template: 'nosuch', memory: '1k', cpus: '9', pids: '0', volumes: ['x'], env: ['=1'], network: 'bad/net' }, host);
    assert.fail('expected ConfigError');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(e.issues.map((i) => i.path), ['NAME', '--template', '--memory', '--cpus', '--pids', '--volume[0]', '--env[0]', '--network']);
  }
});

test('the spec: read-only root, host /usr bound read-only, private writable dirs, limits', () => {
  const d = defineSandbox('web', { memory: '256M', cpus: '0.5', pids: '64', volumes: ['/tmp:/data:ro'], env: ['A=1'], command: ['sleep', '1'] }, host);
  const spec = buildSandboxSpec(d, '/data/sandboxes/web/rootfs');
  assert.deepEqual(spec.root, { path: '/data/sandboxes/web/rootfs', readonly: true });
  const usr = spec.mounts!.find((m) => m.destination === '/usr')!;
  assert.equal(usr.source, '/usr');
  for (const o of ['rbind', 'ro', 'rro', 'nosuid', 'nodev']) assert.ok(usr.options!.includes(o), o);
  const etc = spec.mounts!.find((m) => m.destination === '/etc')!;
  assert.equal(etc.source, '/data/sandboxes/web/rootfs/etc');
  assert.ok(etc.options!.includes('rw'));
  assert.ok(spec.mounts!.find((m) => m.destination === '/data')!.options!.includes('ro'));
  assert.deepEqual(spec.linux!.resources!.pids, { limit: 64 });
  assert.equal(spec.linux!.resources!.memory!.limit, 256 * 1024 ** 2);
  assert.deepEqual(spec.linux!.resources!.cpu, { quota: 50_000, period: 100_000 });
  assert.ok(spec.linux!.namespaces!.some((n) => n.type === 'network'));
  assert.equal(spec.process!.noNewPrivileges, true);
  assert.ok(spec.linux!.seccomp);
  assert.deepEqual(spec.process!.args, ['sleep', '1']);
  assert.ok(spec.process!.env!.includes('A=1'));
  assert.equal(spec.linux!.cgroupsPath, 'moat.sandbox-web');
});

test('--network host drops the network namespace; --read-only makes the private dirs read-only', () => {
  const spec = buildSandboxSpec(defineSandbox('h', { network: 'host', readOnly: true }, host), '/r');
  assert.ok(!spec.linux!.namespaces!.some((n) => n.type === 'network'));
  assert.ok(spec.mounts!.find((m) => m.destination === '/var')!.options!.includes('ro'));
});

test('rootless without cgroups: limits refused by name, no default pids limit; --userns host refused', () => {
  const rl = { ...host, rootless: true, noCgroupLimits: 'no cgroup of yours' };
  assert.deepEqual(defineSandbox('r', {}, rl).limits, {});
  try {
    defineSandbox('r', { memory: '256M', cpus: '1', pids: '10', userns: 'host' }, rl);
    assert.fail('expected ConfigError');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(e.issues.map((i) => i.path), ['--memory', '--cpus', '--pids', '--userns']);
    assert.match(e.issues[0]!.message, /cannot be set: no cgroup of yours/);
  }
  const spec = buildSandboxSpec({ ...defineSandbox('r', {}, rl), userns: { mode: 'subids', uid: 100000, gid: 100000, size: 65536, shared: false } }, '/r');
  assert.equal(spec.linux!.cgroupsPath, undefined, 'no cgroup asked');
  assert.equal(spec.linux!.resources!.pids, undefined);
  assert.deepEqual(spec.process!.rlimits!.find((r) => r.type === 'RLIMIT_NPROC'), { type: 'RLIMIT_NPROC', soft: DEFAULT_PIDS, hard: DEFAULT_PIDS });
  assert.deepEqual(spec.linux!.uidMappings, [{ containerID: 0, hostID: 100000, size: 65536 }]);
  assert.ok(!spec.mounts!.some((m) => (m.options ?? []).some((o) => o === 'idmap' || o === 'ridmap')), 'no id-mapped mounts without root');
});

test('no network by default; --publish alone asks for moat0 (root) or pasta (a user)', () => {
  assert.equal(defineSandbox('n', {}, host).network.mode, 'none');
  const root = defineSandbox('p', { publish: ['8080:80'] }, host);
  assert.equal(root.network.mode, 'bridge');
  assert.deepEqual(root.network.publish?.map((p) => [p.hostPort, p.containerPort]), [[8080, 80]]);
  assert.equal(defineSandbox('q', { publish: ['8080:80'] }, { ...host, rootless: true, noCgroupLimits: 'no cgroup' }).network.mode, 'pasta');
  assert.throws(() => defineSandbox('r', { publish: ['8080:80'], network: 'none' }, host), /--publish\[0\]/);
});

test('--init systemd: refused by --init without systemd, with a command, a unit, host ids or no cgroup', () => {
  const issue = (o: Parameters<typeof defineSandbox>[1], h: Parameters<typeof defineSandbox>[2] = host) => {
    try {
      defineSandbox('s', o, h);
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.issues.map((i) => `${i.path}: ${i.message}`).join('\n');
    }
    return 'accepted';
  };
  const v2 = { ...host, cgroup2: true };
  assert.match(issue({ init: 'upstart', template: 'debian' }), /^--init: `upstart` is not an init \(systemd\)/);
  assert.match(issue({ init: 'systemd' }), /^--init: template `host` has no systemd/);
  assert.match(issue({ init: 'systemd', template: 'busybox' }), /^--init: template `busybox`/);
  assert.match(issue({ init: 'systemd', template: 'debian', command: ['sh'] }), /^--init: systemd is the sandbox's command/);
  assert.match(issue({ init: 'systemd', template: 'debian', userns: 'host' }), /^--init: .*user namespace/);
  assert.match(issue({ init: 'systemd', template: 'debian' }, { ...v2, rootless: true }), /^--init: .*only root can make/);
  assert.match(issue({ init: 'systemd', template: 'debian' }, host), /^--init: systemd needs a cgroup2 hierarchy/);
  assert.equal(defineSandbox('s', { init: 'systemd', template: 'debian' }, v2).init, 'systemd');
});

test('--init systemd: /sbin/init, container=moat, its capabilities, cgroups mounted read-write, /run/lock', () => {
  const d = defineSandbox('s', { init: 'systemd', template: 'debian' }, { ...host, cgroup2: true });
  // a debian sandbox's root is an overlay whose lower dirs are recorded beside it
  const data = mkdtempSync(join(tmpdir(), 'moat-def-'));
  after(() => rmSync(data, { recursive: true, force: true }));
  const rootfs = join(data, 'rootfs');
  writeOverlayLowers(rootfs, data, [join(data, 'cache')]);
  const spec = buildSandboxSpec(d, rootfs, data);
  assert.deepEqual(spec.process!.args, ['/sbin/init']);
  assert.ok(spec.process!.env!.includes('container=moat'));
  assert.ok(spec.process!.capabilities!.bounding!.includes('CAP_SETUID'));
  assert.ok(!spec.process!.capabilities!.bounding!.includes('CAP_SYS_ADMIN'), 'no CAP_SYS_ADMIN: systemd runs units without mount namespaces');
  const cg = spec.mounts!.filter((m) => m.destination === '/sys/fs/cgroup');
  assert.equal(cg.length, 1);
  assert.equal(cg[0]!.type, 'cgroup2', 'its cgroup2 dir alone: systemd runs in unified mode');
  assert.ok(cg[0]!.options!.includes('rw') && !cg[0]!.options!.includes('ro'));
  assert.ok(spec.mounts!.some((m) => m.destination === '/run/lock' && m.type === 'tmpfs'));
  assert.ok(spec.linux!.namespaces!.some((n) => n.type === 'cgroup'));
  // any other sandbox keeps its cgroups read-only
  const plain = buildSandboxSpec(defineSandbox('p', { template: 'debian' }, host), rootfs, data);
  assert.ok(plain.mounts!.find((m) => m.destination === '/sys/fs/cgroup')!.options!.includes('ro'));
});
