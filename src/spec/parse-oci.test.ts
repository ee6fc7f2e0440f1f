// parseOciConfig: a runc-like config parses cleanly; each kind of bad input is reported at
// the exact JSON path of the field, and all issues are collected in one pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOciConfig } from './parse-oci.js';
import { runcConfig } from './runc-config.fixture.js';

function parse(edit: (c: any) => void) {
  const c = runcConfig();
  edit(c);
  return parseOciConfig(c);
}


test('the runc default config parses with no issues and no warnings', () => {
  const r = parseOciConfig(runcConfig());
  assert.deepEqual(r.issues, []);
  assert.deepEqual(r.warnings, []);
  const s = r.spec!;
  assert.equal(s.root!.path, 'rootfs');
  assert.equal(s.root!.readonly, true);
  assert.deepEqual(s.process!.args, ['sh']);
  assert.equal(s.process!.noNewPrivileges, true);
  assert.equal(s.mounts!.length, 7);
  assert.deepEqual(s.linux!.namespaces!.map((n) => n.type), ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup']);
  assert.deepEqual(s.process!.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }]);
});

test('a config that is not an object is one issue at the root', () => {
  for (const doc of [null, [], 'x', 3]) {
    const r = parseOciConfig(doc);
    assert.equal(r.spec, undefined);
    assert.deepEqual(r.issues.map((i) => [i.code, i.path]), [['invalid_type', '']]);
  }
});

const CASES: [what: string, edit: (c: any) => void, path: string, code?: string][] = [
  ['uid not an integer', (c) => (c.process.user.uid = 'root'), 'process.user.uid', 'invalid_type'],
  ['uid negative', (c) => (c.process.user.uid = -1), 'process.user.uid', 'out_of_range'],
  ['uid 2^32-1 (the kernel\'s "no uid")', (c) => (c.process.user.uid = 0xffffffff), 'process.user.uid', 'out_of_range'],
  ['gid missing', (c) => delete c.process.user.gid, 'process.user.gid', 'required'],
  ['additional gid not a number', (c) => (c.process.user.additionalGids = [1, 'x']), 'process.user.additionalGids[1]', 'invalid_type'],
  ['relative mount destination', (c) => (c.mounts[2].destination = 'dev/pts'), 'mounts[2].destination', 'invalid_value'],
  ['`..` in mount destination', (c) => (c.mounts[2].destination = '/dev/../etc'), 'mounts[2].destination', 'invalid_value'],
  ['mount without destination', (c) => delete c.mounts[1].destination, 'mounts[1].destination', 'required'],
  ['bind mount without source', (c) => c.mounts.push({ destination: '/x', options: ['rbind'] }), 'mounts[7].source', 'required'],
  ['mount without type or bind', (c) => delete c.mounts[0].type, 'mounts[0].type', 'required'],
  ['idmap on a tmpfs', (c) => (c.mounts[3].options = ['nosuid', 'idmap']), 'mounts[3].options', 'unsupported'],
  ['mount id maps without idmap', (c) => (c.mounts[3].uidMappings = [{ containerID: 0, hostID: 1, size: 1 }]), 'mounts[3].uidMappings', 'invalid_value'],
  ['mount not an object', (c) => (c.mounts[4] = '/tmp'), 'mounts[4]', 'invalid_type'],
  ['unknown namespace type', (c) => (c.linux.namespaces[1].type = 'net'), 'linux.namespaces[1].type', 'invalid_value'],
  ['namespace listed twice', (c) => c.linux.namespaces.push({ type: 'pid' }), 'linux.namespaces[6].type', 'duplicate'],
  ['relative namespace path', (c) => (c.linux.namespaces[1].path = 'proc/1/ns/net'), 'linux.namespaces[1].path', 'invalid_value'],
  ['joined mount namespace', (c) => (c.linux.namespaces[4].path = '/proc/1/ns/mnt'), 'linux.namespaces[4].path', 'unsupported'],
  ['unknown capability', (c) => (c.process.capabilities.bounding = ['CAP_NOPE', 'CAP_KILL']), 'process.capabilities.bounding[0]', 'unknown_capability'],
  ['unknown ambient capability', (c) => c.process.capabilities.ambient.push('CAP_FLY'), 'process.capabilities.ambient[3]', 'unknown_capability'],
  ['capability not a string', (c) => (c.process.capabilities.effective = [7]), 'process.capabilities.effective[0]', 'invalid_type'],
  ['negative rlimit', (c) => (c.process.rlimits[0].soft = -2), 'process.rlimits[0].soft', 'out_of_range'],
  ['soft rlimit above hard', (c) => (c.process.rlimits[0].soft = 2048), 'process.rlimits[0].soft', 'invalid_value'],
  ['unknown rlimit', (c) => (c.process.rlimits[0].type = 'RLIMIT_FOO'), 'process.rlimits[0].type', 'invalid_value'],
  ['rlimit set twice', (c) => c.process.rlimits.push({ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }), 'process.rlimits[1].type', 'duplicate'],
  ['host-wide sysctl', (c) => (c.linux.sysctl = { 'kernel.panic': '1' }), 'linux.sysctl.kernel.panic', 'not_namespaced'],
  ['not a sysctl name', (c) => (c.linux.sysctl = { 'net/ipv4/../x': '1' }), 'linux.sysctl.net/ipv4/../x', 'invalid_value'],
  ['sysctl value not a string', (c) => (c.linux.sysctl = { 'net.ipv4.ip_forward': 1 }), 'linux.sysctl.net.ipv4.ip_forward', 'invalid_type'],
  ['ipc sysctl without an ipc namespace', (c) => { c.linux.namespaces.splice(2, 1); c.linux.sysctl = { 'kernel.shmmax': '1' }; }, 'linux.sysctl.kernel.shmmax', 'needs_namespace'],
  ['net sysctl without a network namespace', (c) => { c.linux.namespaces.splice(1, 1); c.linux.sysctl = { 'net.core.somaxconn': '1' }; }, 'linux.sysctl.net.core.somaxconn', 'needs_namespace'],
  ['hostname without a uts namespace', (c) => c.linux.namespaces.splice(3, 1), 'hostname', 'needs_namespace'],
  ['hostname with a slash', (c) => (c.hostname = 'a/b'), 'hostname', 'invalid_value'],
  ['domainname without a uts namespace', (c) => { c.linux.namespaces.splice(3, 1); delete c.hostname; c.domainname = 'd'; }, 'domainname', 'needs_namespace'],
  ['no mount namespace', (c) => c.linux.namespaces.splice(4, 1), 'linux.namespaces', 'needs_namespace'],
  ['bad device type', (c) => (c.linux.devices = [{ type: 'x', path: '/dev/x', major: 1, minor: 1 }]), 'linux.devices[0].type', 'invalid_value'],
  ['device path outside /', (c) => (c.linux.devices = [{ type: 'c', path: 'dev/x', major: 1, minor: 1 }]), 'linux.devices[0].path', 'invalid_value'],
  ['device without major', (c) => (c.linux.devices = [{ type: 'c', path: '/dev/x', minor: 1 }]), 'linux.devices[0].major', 'required'],
  ['relative hook path', (c) => (c.hooks = { prestart: [{ path: 'bin/hook' }] }), 'hooks.prestart[0].path', 'invalid_value'],
  ['hook timeout 0', (c) => (c.hooks = { poststop: [{ path: '/h', timeout: 0 }] }), 'hooks.poststop[0].timeout', 'out_of_range'],
  ['apparmor profile not a string', (c) => (c.process.apparmorProfile = 5), 'process.apparmorProfile', 'invalid_type'],
  ['selinux label not a string', (c) => (c.process.selinuxLabel = ['x']), 'process.selinuxLabel', 'invalid_type'],
  ['mount label not a string', (c) => (c.linux.mountLabel = 1), 'linux.mountLabel', 'invalid_type'],
  ['id maps without a user namespace', (c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]), 'linux.uidMappings', 'needs_namespace'],
  ['user namespace without id maps', (c) => c.linux.namespaces.push({ type: 'user' }), 'linux.uidMappings', 'required'],
  ['id map size 0', (c) => { c.linux.namespaces.push({ type: 'user' }); c.linux.uidMappings = [{ containerID: 0, hostID: 1, size: 0 }]; c.linux.gidMappings = [{ containerID: 0, hostID: 1, size: 1 }]; }, 'linux.uidMappings[0].size', 'out_of_range'],
  ['relative cwd', (c) => (c.process.cwd = 'home'), 'process.cwd', 'invalid_value'],
  ['env entry without =', (c) => c.process.env.push('NOEQUALS'), 'process.env[2]', 'invalid_value'],
  ['empty args', (c) => (c.process.args = []), 'process.args', 'required'],
  ['missing root', (c) => delete c.root, 'root', 'required'],
  ['empty root path', (c) => (c.root.path = ''), 'root.path', 'required'],
  ['ociVersion 2', (c) => (c.ociVersion = '2.0.0'), 'ociVersion', 'unsupported'],
  ['terminal not a boolean', (c) => (c.process.terminal = 'yes'), 'process.terminal', 'invalid_type'],
  ['oomScoreAdj out of range', (c) => (c.process.oomScoreAdj = 1001), 'process.oomScoreAdj', 'out_of_range'],
  ['masked path relative', (c) => c.linux.maskedPaths.push('proc/x'), 'linux.maskedPaths[10]', 'invalid_value'],
  ['readonly path with ..', (c) => (c.linux.readonlyPaths[2] = '/proc/../etc'), 'linux.readonlyPaths[2]', 'invalid_value'],
  ['unknown rootfsPropagation', (c) => (c.linux.rootfsPropagation = 'rshared2'), 'linux.rootfsPropagation', 'invalid_value'],
  ['time offsets without a time namespace', (c) => (c.linux.timeOffsets = { monotonic: { secs: 1 } }), 'linux.timeOffsets', 'needs_namespace'],
  ['unknown clock', (c) => { c.linux.namespaces.push({ type: 'time' }); c.linux.timeOffsets = { realtime: { secs: 1 } }; }, 'linux.timeOffsets.realtime', 'invalid_value'],
  ['personality domain', (c) => (c.linux.personality = { domain: 'SVR4' }), 'linux.personality.domain', 'invalid_value'],
  ['intelRdt', (c) => (c.linux.intelRdt = { closID: 'x' }), 'linux.intelRdt', 'unsupported'],
];

for (const [what, edit, path, code] of CASES) {
  test(`issue at \`${path}\`: ${what}`, () => {
    const r = parse(edit);
    assert.equal(r.spec, undefined, 'no spec when there are issues');
    const hit = r.issues.filter((i) => i.path === path);
    assert.equal(hit.length, 1, `one issue at ${path}; got ${JSON.stringify(r.issues)}`);
    if (code) assert.equal(hit[0]!.code, code);
    assert.ok(hit[0]!.message.length > 0);
    assert.doesNotMatch(hit[0]!.message, /\.$/, 'messages have no trailing period');
  });
}

test('namespaced sysctls are accepted with their namespace', () => {
  const r = parse((c) => (c.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '100', 'fs.mqueue.queues_max': '3', 'kernel.domainname': 'x' }));
  assert.deepEqual(r.issues, []);
  assert.deepEqual(r.spec!.linux!.sysctl, { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '100', 'fs.mqueue.queues_max': '3', 'kernel.domainname': 'x' });
});

test('username is a warning, not an issue', () => {
  const r = parse((c) => (c.process.user.username = 'root'));
  assert.deepEqual(r.issues, []);
  assert.deepEqual(r.warnings.map((w) => w.path), ['process.user.username']);
});

test('all issues are collected in one pass', () => {
  const r = parse((c) => {
    c.process.user.uid = -1;
    c.mounts[2].destination = 'dev/pts';
    c.linux.namespaces[1].type = 'net';
    c.process.capabilities.bounding[0] = 'CAP_NOPE';
    c.process.rlimits[0].soft = 'x';
    c.linux.sysctl = { 'kernel.panic': '1' };
    c.linux.devices = [{ type: 'z', path: '/dev/z', major: 1, minor: 1 }];
    c.hooks = { createRuntime: [{ path: 'rel' }] };
    c.process.apparmorProfile = 7;
    c.linux.uidMappings = [{ containerID: 0, hostID: 1, size: 1 }];
  });
  assert.equal(r.spec, undefined);
  assert.deepEqual(r.issues.map((i) => i.path).sort(), [
    'hooks.createRuntime[0].path',
    'linux.devices[0].type',
    'linux.namespaces[1].type',
    'linux.sysctl.kernel.panic',
    'linux.uidMappings',
    'mounts[2].destination',
    'process.apparmorProfile',
    'process.capabilities.bounding[0]',
    'process.rlimits[0].soft',
    'process.user.uid',
  ]);
});

test('a bad input does not stop later fields from being checked (nested arrays too)', () => {
  const r = parse((c) => {
    c.mounts = [{ destination: 'a', type: 'tmpfs' }, 5, { destination: '/ok', type: 'tmpfs' }, { destination: 'b', type: 'tmpfs', options: ['ro', 3] }];
  });
  assert.deepEqual(r.issues.map((i) => i.path).sort(), ['mounts[0].destination', 'mounts[1]', 'mounts[3].destination', 'mounts[3].options[1]']);
});

test('RLIM_INFINITY (2^64-1, as runc and podman write it) is accepted for an rlimit', () => {
  const r = parseOciConfig(JSON.parse(JSON.stringify(runcConfig()).replace('"hard":1024,"soft":1024', '"hard":18446744073709551615,"soft":18446744073709551615')));
  assert.deepEqual(r.issues, []);
});

test('a `__proto__` sysctl key is reported, not silently dropped', () => {
  const c = JSON.parse(JSON.stringify(runcConfig()).replace('"linux":{', '"linux":{"sysctl":{"__proto__":"1"},'));
  const r = parseOciConfig(c);
  assert.deepEqual(r.issues.map((i) => i.path), ['linux.sysctl.__proto__']);
});

test('CAP_SYS_ADMIN with id-mapped mounts is refused (the container could make them writable)', () => {
  const c = runcConfig();
  c.linux.namespaces.push({ type: 'user' });
  c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  c.annotations = { 'run.moat.idmap-rootfs': 'true' };
  c.process.capabilities.bounding.push('CAP_SYS_ADMIN');
  const r = parseOciConfig(c);
  assert.deepEqual(r.issues.map((i) => [i.path, i.code]), [['process.capabilities.bounding[3]', 'unsafe']]);
  delete c.annotations;
  assert.deepEqual(parseOciConfig(c).issues, [], 'without id mapping it is the caller\'s choice');
});
