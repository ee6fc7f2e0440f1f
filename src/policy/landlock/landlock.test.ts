// The Landlock compiler: annotation parsing, the ruleset built from a config's mounts, ABI
// downgrades (named, never silent), failing closed, and the payload's golden bytes, which the
// C parser (native/ops-landlock.c) must agree with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OciSpec } from '../../spec/oci-types.js';
import { defaultOciSpec } from '../default-spec.js';
import { compileLandlock, encodeLandlock, encodeLandlockProbe, LANDLOCK_PAYLOAD_VERSION, parseLandlockAnnotation, type LandlockRuleset } from './index.js';
import { buildRuleset } from './ruleset.js';
import { FS_DEVICE, FS_READ_EXECUTE, LANDLOCK_ACCESS_FS, LANDLOCK_ACCESS_NET, LANDLOCK_RESTRICT_SELF, LANDLOCK_SCOPE, maskAt } from './rights.js';

// this file runs as dist/src/policy/landlock/landlock.test.js: the repo root is four levels up
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const opsC = readFileSync(join(root, 'native', 'ops-landlock.c'), 'utf8');

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const FS = LANDLOCK_ACCESS_FS;
const ALL7 = maskAt(FS, 7);
const EXEC = FS.LANDLOCK_ACCESS_FS_EXECUTE.bit;

function spec(annotation?: string, patch: (s: OciSpec) => void = () => {}): OciSpec {
  const s = defaultOciSpec();
  if (annotation === undefined) delete s.annotations;
  else s.annotations = { 'run.moat.landlock': annotation };
  patch(s);
  return s;
}

test('golden bytes: header, a path rule and a port rule', () => {
  const r: LandlockRuleset = {
    abi: 6, handledFs: 0xffff, handledNet: 3, scoped: 3, restrictFlags: 2,
    rules: [{ type: 'path', path: '/tmp', access: 0x7 }, { type: 'port', port: 80, access: 1 }, { type: 'fd', fd: 1, access: 0x2 }],
  };
  assert.equal(hex(encodeLandlock(r)), [
    '01000000', '06000000', 'ffff000000000000', '0300000000000000', '0300000000000000', '02000000', '00000000', '03000000', '00000000',
    '0100', '0000', '04000000', '0700000000000000', hex(Buffer.from('/tmp')),
    '0200', '0000', '08000000', '0100000000000000', '5000000000000000',
    '0300', '0000', '08000000', '0200000000000000', '0100000000000000',
  ].join(''));
  assert.equal(hex(encodeLandlockProbe()), '01000000' + '00'.repeat(32) + '01000000' + '00000000' + '00000000');
});

test('the encoder refuses what the helper would refuse', () => {
  const base = { abi: 1, handledFs: 1, handledNet: 0, scoped: 0, restrictFlags: 0 };
  assert.throws(() => encodeLandlock({ ...base, rules: [{ type: 'path', path: 'relative', access: 1 }] }), /bad path/);
  assert.throws(() => encodeLandlock({ ...base, rules: [{ type: 'path', path: '/a\0b', access: 1 }] }), /bad path/);
  assert.throws(() => encodeLandlock({ ...base, rules: [{ type: 'path', path: '/' + 'a'.repeat(4096), access: 1 }] }), /too long/);
});

test('the C parser and the TypeScript tables agree: version, sizes, every bit', () => {
  const def = (name: string) => {
    const m = new RegExp(`#define ${name} \\(?(?:1ULL << |1U << )?(\\d+)`).exec(opsC);
    assert.ok(m, `${name} is defined in ops-landlock.c`);
    return Number(m[1]);
  };
  assert.equal(def('LL_VERSION'), LANDLOCK_PAYLOAD_VERSION);
  assert.equal(def('LL_HEADER'), encodeLandlockProbe().length);
  assert.equal(def('LL_MAX_RULES'), 4096);
  assert.equal(def('LL_RULE_NET_PORT'), 2);
  assert.equal(def('LL_RULE_FD'), 3);
  // the constants ops-landlock.c defines for what Debian 12's header lacks
  const tables = { ...FS, ...LANDLOCK_ACCESS_NET, ...LANDLOCK_SCOPE, ...LANDLOCK_RESTRICT_SELF } as Record<string, { bit: number }>;
  let checked = 0;
  for (const m of opsC.matchAll(/#define (LANDLOCK_\w+) \((1U?L?L? << \d+)\)/g)) {
    assert.equal(2 ** Number(/\d+$/.exec(m[2]!)![0]), tables[m[1]!]!.bit, m[1]);
    checked++;
  }
  assert.ok(checked >= 9, `checked ${checked} constants`);
  assert.match(opsC, new RegExp(`LL_FS_ALL \\(\\(LANDLOCK_ACCESS_FS_IOCTL_DEV << 1\\) - 1\\)`), 'the helper knows exactly the fs rights up to ABI 7');
});

test('the annotation: off, on, best-effort, options, and every mistake reported with its path', () => {
  assert.equal(parseLandlockAnnotation(undefined).options, undefined);
  assert.equal(parseLandlockAnnotation('off').options, undefined);
  assert.equal(parseLandlockAnnotation('on').options?.mode, 'on');
  assert.equal(parseLandlockAnnotation('best-effort').options?.mode, 'best-effort');
  const o = parseLandlockAnnotation('{"mode":"best-effort","net":{"bind":[81,80,80],"connect":[]},"scope":["signal"],"log":false}');
  assert.deepEqual(o.options, { mode: 'best-effort', net: { bind: [80, 81], connect: [] }, scope: ['signal'], log: false, explicit: { scope: true, log: true } });
  const bad = parseLandlockAnnotation('{"mode":"maybe","net":{"bind":[70000],"udp":[1]},"scope":["ptrace"],"log":1,"x":1}');
  assert.equal(bad.options, undefined);
  assert.deepEqual(bad.issues.map((i) => i.path), [
    'annotations.run.moat.landlock.mode', 'annotations.run.moat.landlock.net.bind', 'annotations.run.moat.landlock.net.udp',
    'annotations.run.moat.landlock.scope', 'annotations.run.moat.landlock.log', 'annotations.run.moat.landlock.x',
  ]);
  assert.equal(parseLandlockAnnotation('yes').issues[0]?.path, 'annotations.run.moat.landlock');
  assert.equal(parseLandlockAnnotation('[1]').issues.length, 1);
});

test('`moat-oci spec` configs have Landlock on; configs without the annotation have it off', () => {
  assert.equal(defaultOciSpec().annotations?.['run.moat.landlock'], 'on');
  assert.deepEqual(compileLandlock(spec(undefined), { abi: 7 }), { issues: [], warnings: [] });
  assert.deepEqual(compileLandlock(spec('off'), { abi: 0 }), { issues: [], warnings: [] });
});

test('the default config: read-only root, writable /dev, /proc and shm, read-only /sys, devices usable', () => {
  const c = compileLandlock(spec('on'), { abi: 7 });
  assert.deepEqual(c.issues, []);
  assert.deepEqual(c.warnings, []);
  const r = c.ruleset!;
  assert.equal(r.abi, 7);
  assert.equal(r.handledFs, ALL7);
  assert.equal(r.handledNet, 0, 'TCP is not restricted unless the annotation lists ports');
  assert.equal(r.scoped, LANDLOCK_SCOPE.LANDLOCK_SCOPE_SIGNAL.bit | LANDLOCK_SCOPE.LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET.bit);
  assert.equal(r.restrictFlags, LANDLOCK_RESTRICT_SELF.LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON.bit);
  const rules = Object.fromEntries(r.rules.flatMap((x) => (x.type === 'path' ? [[x.path, x.access]] : [])));
  assert.deepEqual(rules, {
    '/': FS_READ_EXECUTE,
    '/proc': ALL7 & ~EXEC, // nosuid,noexec,nodev
    '/dev': ALL7, // rw tmpfs: everything, device rights included
    '/dev/pts': ALL7 & ~EXEC,
    '/dev/shm': ALL7 & ~EXEC,
    '/dev/mqueue': ALL7 & ~EXEC,
    '/sys': FS_READ_EXECUTE & ~EXEC,
    '/sys/fs/cgroup': FS_READ_EXECUTE & ~EXEC,
  });
  const stdio = FS.LANDLOCK_ACCESS_FS_READ_FILE.bit | FS.LANDLOCK_ACCESS_FS_WRITE_FILE.bit | FS.LANDLOCK_ACCESS_FS_TRUNCATE.bit | FS.LANDLOCK_ACCESS_FS_IOCTL_DEV.bit;
  assert.deepEqual(r.rules.filter((x) => x.type === 'fd'), [0, 1, 2].map((fd) => ({ type: 'fd', fd, access: stdio })), 'stdio may be reopened (the helper cuts it to each fd\'s mode)');
  assert.equal(c.bytes!.length, 48 + r.rules.reduce((n, x) => n + 16 + (x.type === 'path' ? Buffer.byteLength(x.path) : 8), 0));
});

test('writable root, ro bind mounts, /dev without a mount, devices outside /dev', () => {
  const s = spec('on', (x) => {
    x.root!.readonly = false;
    x.mounts = [
      { destination: '/usr/share', type: 'bind', source: '/usr/share', options: ['rbind', 'ro'] },
      { destination: '/data/', type: 'bind', source: '/srv', options: ['rbind', 'noexec'] },
    ];
    x.linux!.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }, { path: '/run/kvm', type: 'c', major: 10, minor: 232 }];
  });
  const rules = Object.fromEntries(compileLandlock(s, { abi: 7 }).ruleset!.rules.flatMap((x) => (x.type === 'path' ? [[x.path, x.access]] : [])));
  assert.deepEqual(rules, {
    '/': ALL7,
    '/usr/share': FS_READ_EXECUTE,
    '/data': ALL7 & ~EXEC,
    '/dev': FS_DEVICE,
    '/run/kvm': FS_DEVICE,
  });
});

test('lower ABIs get the subset, each right left out named; `on` refuses what was asked for by name', () => {
  const c3 = compileLandlock(spec('on'), { abi: 3 });
  assert.deepEqual(c3.issues, []);
  assert.equal(c3.ruleset!.abi, 3);
  assert.equal(c3.ruleset!.handledFs, maskAt(FS, 3));
  assert.equal(c3.ruleset!.scoped, 0);
  assert.equal(c3.ruleset!.restrictFlags, 0);
  assert.ok(c3.ruleset!.rules.every((r) => (r.access & ~maskAt(FS, 3)) === 0), 'no rule grants an unhandled right');
  assert.deepEqual(c3.warnings.map((w) => w.message), [
    'Landlock ABI 3 on this kernel: not enforced: LANDLOCK_ACCESS_FS_IOCTL_DEV (ABI 5), LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (ABI 6), LANDLOCK_SCOPE_SIGNAL (ABI 6)',
  ]);
  assert.equal(compileLandlock(spec('on'), { abi: 1 }).ruleset!.handledFs, 0x1fff);
  assert.equal(compileLandlock(spec('on'), { abi: 99 }).ruleset!.abi, 7, 'a newer kernel is used at the level this build knows');

  const net = spec('{"net":{"connect":[443]}}');
  const n3 = compileLandlock(net, { abi: 3 });
  assert.equal(n3.bytes, undefined);
  assert.match(n3.issues[0]!.message, /Landlock ABI 3 cannot enforce LANDLOCK_ACCESS_NET_CONNECT_TCP \(ABI 4\); set it to `best-effort`/);
  const nbe = compileLandlock(spec('{"mode":"best-effort","net":{"connect":[443]}}'), { abi: 3 });
  assert.deepEqual(nbe.issues, []);
  assert.ok(nbe.bytes);
  assert.equal(nbe.ruleset!.handledNet, 0);
  assert.match(nbe.warnings[0]!.message, /cannot enforce LANDLOCK_ACCESS_NET_CONNECT_TCP \(ABI 4\): skipped \(best-effort\)/);
  const n7 = compileLandlock(net, { abi: 7 }).ruleset!;
  assert.equal(n7.handledNet, LANDLOCK_ACCESS_NET.LANDLOCK_ACCESS_NET_CONNECT_TCP.bit, 'only the direction given is restricted');
  assert.deepEqual(n7.rules.filter((r) => r.type === 'port'), [{ type: 'port', port: 443, access: 2 }]);
  const both = compileLandlock(spec('{"net":{"bind":[80,443],"connect":[443]}}'), { abi: 4 }).ruleset!;
  assert.deepEqual(both.rules.filter((r) => r.type === 'port'), [{ type: 'port', port: 80, access: 1 }, { type: 'port', port: 443, access: 3 }]);
  assert.equal(both.abi, 4);
  assert.match(compileLandlock(spec('{"scope":["signal"]}'), { abi: 5 }).issues[0]!.message, /cannot enforce LANDLOCK_SCOPE_SIGNAL \(ABI 6\)/);
});

test('no Landlock: `on` refuses with the reason, `best-effort` warns that the layer was skipped', () => {
  const on = compileLandlock(spec('on'), { abi: 0, reason: 'disabled at boot (EOPNOTSUPP)' });
  assert.equal(on.bytes, undefined);
  assert.deepEqual(on.issues, [{ code: 'landlock_unavailable', path: 'annotations.run.moat.landlock', message: 'Landlock is requested but this kernel has none (disabled at boot (EOPNOTSUPP)); set it to `best-effort` to start without' }]);
  const be = compileLandlock(spec('best-effort'), { abi: 0, reason: 'not built into this kernel (ENOSYS)' });
  assert.equal(be.bytes, undefined);
  assert.deepEqual(be.issues, []);
  assert.match(be.warnings[0]!.message, /has none \(not built into this kernel \(ENOSYS\)\): skipped \(best-effort\)/);
});

test('exec: a scope is kept only where the container shares the namespace it would guard', () => {
  const own = buildRuleset(spec('on'), parseLandlockAnnotation('on').options!, 7, { exec: true }).ruleset;
  assert.equal(own.scoped, 0, 'own pid and network namespaces already confine signals and abstract sockets');
  const shared = buildRuleset(spec('on', (s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid'))), parseLandlockAnnotation('on').options!, 7, { exec: true }).ruleset;
  assert.equal(shared.scoped, LANDLOCK_SCOPE.LANDLOCK_SCOPE_SIGNAL.bit, 'the host pid namespace is shared: signals stay scoped');
  const first = buildRuleset(spec('on'), parseLandlockAnnotation('on').options!, 7).ruleset;
  assert.deepEqual(own.rules, first.rules, 'the same file and port rules as the container');
});
