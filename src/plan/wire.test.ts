// The Plan wire format: the TypeScript tables agree with native/plan.h and plan.c, the
// encoding is byte-for-byte stable (golden bytes), and what buildPlan emits is what the
// helper's schema accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePlan, PLAN_ATTRS, PLAN_MAGIC, PLAN_OPS, PLAN_VERSION, type PlanAttrName, type PlanOp, type PlanOpName } from './wire.js';
import { buildExecPlan, buildPlan, type PlanContext } from './build-plan.js';
import type { OciSpec } from '../spec/oci-types.js';

// this file runs as dist/src/plan/wire.test.js: the repo root is three levels up
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const planH = readFileSync(join(root, 'native', 'plan.h'), 'utf8');
const planC = readFileSync(join(root, 'native', 'plan.c'), 'utf8');

function defines(prefix: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of planH.matchAll(new RegExp(`^#define ${prefix}(\\w+)\\s+(\\d+)`, 'gm'))) if (m[1] !== 'MAX') out.set(m[1]!, Number(m[2]));
  return out;
}

const camel = (s: string) => s.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const C_KIND: Record<string, string> = { STR: 'str', STRS: 'strs', U64: 'u64', U64S: 'u64s', BYTES: 'bytes' };

test('PLAN_OPS equals the PLAN_OP_* constants of native/plan.h', () => {
  const c = defines('PLAN_OP_');
  assert.ok(c.size > 30, 'parsed the header');
  const fromC = Object.fromEntries([...c].map(([n, v]) => [n.toLowerCase(), v]));
  assert.deepEqual({ ...PLAN_OPS }, fromC);
  const max = Number(/^#define PLAN_OP_MAX (\d+)/m.exec(planH)![1]);
  assert.equal(max, Math.max(...Object.values(PLAN_OPS)) + 1, 'PLAN_OP_MAX is one past the last op');
});

test('PLAN_ATTRS equals the PA_* constants of native/plan.h and the kinds of plan.c', () => {
  const c = defines('PA_');
  assert.ok(c.size > 30, 'parsed the header');
  const kinds = new Map([...planC.matchAll(/\[PA_(\w+)\] = K_(\w+)/g)].map((m) => [m[1]!, C_KIND[m[2]!]]));
  assert.equal(kinds.size, c.size, 'plan.c gives every PA_* a kind');
  const seen = new Set<string>();
  for (const [cname, id] of c) {
    const kind = kinds.get(cname)!;
    // repeatable attributes are plural in TypeScript (PA_ARG is `args`, PA_GROUP `groups`)
    const candidates = [camel(cname), `${camel(cname)}s`].filter((n) => n in PLAN_ATTRS);
    assert.equal(candidates.length, 1, `PA_${cname} has a TypeScript name`);
    const name = candidates[0] as PlanAttrName;
    seen.add(name);
    assert.deepEqual([...PLAN_ATTRS[name]], [id, kind], `PA_${cname}`);
  }
  assert.deepEqual([...seen].sort(), Object.keys(PLAN_ATTRS).sort(), 'no TypeScript attribute missing from the header');
  const max = Number(/^#define PA_MAX (\d+)/m.exec(planH)![1]);
  assert.equal(max, Math.max(...Object.values(PLAN_ATTRS).map((a) => a[0])) + 1);
  assert.ok(max <= 64, 'attributes fit the helper\'s u64 `present` mask');
});

test('magic and version match the header', () => {
  assert.equal(`"${PLAN_MAGIC}"`, /^#define PLAN_MAGIC (".*")/m.exec(planH)![1]);
  assert.equal(PLAN_VERSION, Number(/^#define PLAN_VERSION (\d+)/m.exec(planH)![1]));
});

// A small fixed plan and its bytes, checked by hand against plan.h:
//   header  "MOATPLAN", u32 version 1, u32 op count 4, u32 total length 152 (0x98)
//   op      u16 type, u16 0, u32 payload length; attr u16 id, u16 0, u32 length, data
//   attrs are written in PLAN_ATTRS order (not object key order); `origin` is not encoded
const GOLDEN_OPS: PlanOp[] = [
  { op: 'cgroup_join', path: '/a', origin: 'linux.cgroupsPath' },
  { op: 'umask', value: 18 },
  { flags: 0x0102030405060708n, bytes: new Uint8Array([1, 2, 3]), op: 'seccomp' },
  { op: 'exec', keepFds: 0n, env: ['A=1'], args: ['sh', '-c'] },
];
const GOLDEN_HEX = [
  '4d4f4154504c414e', '01000000', '04000000', '98000000', // MOATPLAN, version, ops, length
  '0100', '0000', '0a000000', // cgroup_join, 10 bytes
  '0100', '0000', '02000000', '2f61', //   path "/a"
  '1d00', '0000', '10000000', // umask (29), 16 bytes
  '1000', '0000', '08000000', '1200000000000000', //   value 18
  '2300', '0000', '1b000000', // seccomp (35), 27 bytes
  '0800', '0000', '03000000', '010203', //   bytes
  '0900', '0000', '08000000', '0807060504030201', //   flags, u64 little-endian
  '2500', '0000', '2f000000', // exec (37), 47 bytes
  '0600', '0000', '02000000', '7368', //   arg "sh"
  '0600', '0000', '02000000', '2d63', //   arg "-c"
  '0700', '0000', '03000000', '413d31', //   env "A=1"
  '2300', '0000', '08000000', '0000000000000000', //   keepFds 0
].join('');

test('golden bytes: encodePlan of a fixed plan', () => {
  const bytes = encodePlan(GOLDEN_OPS);
  assert.equal(Buffer.from(bytes).toString('hex'), GOLDEN_HEX);
  assert.equal(bytes.length, 152);
});

test('encoding: number and bigint u64 are the same, negative numbers wrap to two\'s complement', () => {
  const a = encodePlan([{ op: 'oom_score_adj', value: 5 }]);
  const b = encodePlan([{ op: 'oom_score_adj', value: 5n }]);
  assert.deepEqual(a, b);
  const neg = Buffer.from(encodePlan([{ op: 'oom_score_adj', value: -1000 }]));
  assert.equal(neg.readBigInt64LE(neg.length - 8), -1000n);
});

test('encoding: an empty plan is just the header; large plans grow the buffer', () => {
  assert.equal(Buffer.from(encodePlan([])).toString('hex'), '4d4f4154504c414e' + '01000000' + '00000000' + '14000000');
  const big = new Uint8Array(10000).fill(7);
  const out = Buffer.from(encodePlan([{ op: 'landlock', bytes: big }, { op: 'landlock', bytes: big }]));
  assert.equal(out.length, 20 + 2 * (8 + 8 + 10000));
  assert.equal(out.readUInt32LE(16), out.length);
  assert.equal(out.readUInt32LE(12), 2);
  assert.equal(out[out.length - 1], 7);
});

test('a NUL in a string attribute throws, naming the op and attribute', () => {
  assert.throws(() => encodePlan([{ op: 'mount', path: '/mnt\0x', fstype: 'tmpfs' }]), /`mount`.*`path`.*NUL/);
  assert.throws(() => encodePlan([{ op: 'exec', args: ['sh', 'a\0b'] }]), /`exec`.*`args`.*NUL/);
  assert.throws(() => encodePlan([{ op: 'clone', flags: 0, mode: 0, uidMap: '0 0 1\n\0' }]), /`uidMap`/);
  assert.doesNotThrow(() => encodePlan([{ op: 'landlock', bytes: new Uint8Array([0, 0, 0]) }]), 'NUL is fine in bytes');
});

// --- buildPlan output against the helper's schema table in plan.c ---------------------------

/** `{ allowed, required }` attribute sets per op, parsed from plan.c's `schema[]`. */
function helperSchema(): Map<PlanOpName, { allowed: Set<string>; required: Set<string> }> {
  const body = /schema\[PLAN_OP_MAX\] = \{([\s\S]*?)\n\};/.exec(planC)![1]!;
  const out = new Map<PlanOpName, { allowed: Set<string>; required: Set<string> }>();
  for (const m of body.matchAll(/\[PLAN_OP_(\w+)\] = \{\s*1,([^}]*)\}/g)) {
    const [allowed, required] = m[2]!.split(',').map((s) => new Set([...s.matchAll(/A\(PA_(\w+)\)/g)].map((a) => a[1]!)));
    out.set(m[1]!.toLowerCase() as PlanOpName, { allowed: allowed!, required: required! });
  }
  return out;
}

const cName = (attr: string) => {
  const id = PLAN_ATTRS[attr as PlanAttrName][0];
  return [...defines('PA_')].find(([, v]) => v === id)![0];
};

function checkAgainstSchema(ops: PlanOp[]): void {
  const schema = helperSchema();
  for (const [i, op] of ops.entries()) {
    const s = schema.get(op.op);
    assert.ok(s, `op ${i} \`${op.op}\` is in the helper's schema`);
    const present = new Map<string, unknown>();
    for (const [k, v] of Object.entries(op)) if (k !== 'op' && k !== 'origin' && v !== undefined) present.set(cName(k), v);
    for (const a of present.keys()) assert.ok(s.allowed.has(a), `op ${i} \`${op.op}\` (${op.origin}): PA_${a} not allowed by the helper`);
    for (const r of s.required) {
      const v = present.get(r);
      // a repeatable attribute given as [] encodes nothing, so it would be missing on the wire
      assert.ok(v !== undefined && !(Array.isArray(v) && v.length === 0), `op ${i} \`${op.op}\` (${op.origin}): required PA_${r} missing`);
    }
  }
}

test('the schema parser sees every op of plan.h', () => {
  assert.deepEqual([...helperSchema().keys()].sort(), Object.keys(PLAN_OPS).sort());
});

function fullSpec(): OciSpec {
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: true, consoleSize: { height: 24, width: 80 }, user: { uid: 1, gid: 1, umask: 0o027, additionalGids: [5, 6] },
      args: ['sh'], env: ['PATH=/bin'], cwd: '/', noNewPrivileges: true, oomScoreAdj: 100,
      capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL'] },
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }],
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'h', domainname: 'd',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid'] },
      { destination: '/data', type: 'bind', source: 'data', options: ['rbind', 'ro', 'rnosuid', 'rprivate'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro'] },
    ],
    hooks: { createContainer: [{ path: '/bin/true', env: ['A=1'], timeout: 5 }], startContainer: [{ path: '/bin/true', args: ['true', 'x'] }] },
    linux: {
      namespaces: [{ type: 'mount' }, { type: 'pid' }, { type: 'uts' }, { type: 'user' }, { type: 'time' }, { type: 'network', path: '/run/netns/x' }],
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      timeOffsets: { monotonic: { secs: 1, nanosecs: 0 } },
      devices: [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229 }, { type: 'p', path: '/dev/pipe0' }],
      sysctl: { 'net.ipv4.ip_forward': '1' }, maskedPaths: ['/proc/kcore'], readonlyPaths: ['/proc/sys'],
      personality: { domain: 'LINUX32', flags: [] }, rootfsPropagation: 'rprivate',
    },
  };
}

const fullCtx: PlanContext = {
  bundle: '/bundle', mode: 'foreground', fifoPath: '/run/moat/x/exec.fifo', cgroupDirs: ['/sys/fs/cgroup/a', '/sys/fs/cgroup/b'],
  cgroupMounts: { cpu: '/sys/fs/cgroup/cpu/moat-x', memory: '/sys/fs/cgroup/memory/moat-x' },
  deviceBpf: { dir: '/sys/fs/cgroup/a', insns: new Uint8Array(16) }, consoleSocket: '/tmp/console.sock', preserveFds: 2,
  seccomp: { filter: new Uint8Array(8), flags: 8, listenerPath: '/tmp/seccomp.sock' },
};

test('every op buildPlan emits carries only attributes the helper allows, and all it requires', () => {
  const built = buildPlan(fullSpec(), fullCtx);
  checkAgainstSchema(built.ops);
  const opsSeen = new Set(built.ops.map((o) => o.op));
  for (const op of ['clone', 'mount', 'mkdev', 'symlink', 'hook', 'sysctl', 'console', 'rlimit', 'seccomp', 'connect', 'time_offsets', 'ns_join', 'device_bpf'] as const)
    assert.ok(opsSeen.has(op), `the fixture exercises \`${op}\``);
  assert.doesNotThrow(() => encodePlan(built.ops));
});

test('a minimal spec (no seccomp, no caps, no hooks) also satisfies the helper schema', () => {
  const spec: OciSpec = { ociVersion: '1.0.2', process: { user: { uid: 0, gid: 0 }, args: ['true'], cwd: '/' }, root: { path: '/r' }, linux: { namespaces: [{ type: 'mount' }] } };
  checkAgainstSchema(buildPlan(spec, { bundle: '/b', mode: 'detach', fifoPath: '/f', cgroupDirs: [], cgroupMounts: {} }).ops);
  checkAgainstSchema(buildExecPlan(spec, { pid: 42, namespaces: ['mount', 'user'], cgroupDirs: ['/sys/fs/cgroup/x'], detach: true }).ops);
});
