// Drives the real native helper over its wire format, without creating containers: valid,
// malformed and hostile Plans must each end in one MSG_ERROR record (stage, op index, errno,
// message) and a non-zero exit. Needs no root: no op here gets as far as changing anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePlan, PLAN_ATTRS, PLAN_OPS } from '../../src/plan/wire.js';

// dist/test/integration/ is three levels below the repo root
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const helper = join(root, 'native', 'moat-helper');
const MSG_ERROR = 5;
const STAGE_PLAN = 1, STAGE_PARENT = 2;
const ENOENT = 2, EINVAL = 22, EPIPE = 32;

interface Reply {
  frames: { type: number; payload: Buffer }[];
  code: number | null;
  signal: string | null;
  stderr: string;
}

interface ErrorRecord { stage: number; opIndex: number; errno: number; message: string }

/** Runs `moat-helper 3`, writes `input` on fd 3 (then half-closes it), collects the frames. */
function runHelper(input: Uint8Array, opts: { end?: boolean } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const child = spawn(helper, ['3'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env: {} });
    const sock = child.stdio[3] as Socket;
    const chunks: Buffer[] = [];
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('helper did not exit within 5 s'));
    }, 5000);
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', () => {}); // EPIPE if the helper stops reading early: expected
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const buf = Buffer.concat(chunks);
      const frames: Reply['frames'] = [];
      let off = 0;
      while (buf.length - off >= 8) {
        const len = buf.readUInt32LE(off + 4);
        assert.ok(off + 8 + len <= buf.length, 'a complete frame');
        frames.push({ type: buf.readUInt32LE(off), payload: buf.subarray(off + 8, off + 8 + len) });
        off += 8 + len;
      }
      assert.equal(off, buf.length, 'no partial frame at the end');
      resolve({ frames, code, signal, stderr });
    });
    sock.write(input);
    if (opts.end !== false) sock.end();
  });
}

/** Asserts the reply is exactly one MSG_ERROR and a non-zero exit; returns the record. */
function oneError(r: Reply): ErrorRecord {
  assert.equal(r.signal, null, 'not killed by a signal');
  assert.notEqual(r.code, 0, 'non-zero exit');
  assert.equal(r.frames.length, 1, `one frame, got ${r.frames.length}; stderr: ${r.stderr}`);
  const f = r.frames[0]!;
  assert.equal(f.type, MSG_ERROR);
  assert.ok(f.payload.length >= 12);
  return { stage: f.payload.readUInt32LE(0), opIndex: f.payload.readInt32LE(4), errno: f.payload.readUInt32LE(8), message: f.payload.subarray(12).toString('utf8') };
}

// --- hand-made wire pieces, so malformed plans can be written ---------------------------

const u16 = (v: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; };
const u64 = (v: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(v); return b; };

function attr(id: number, data: Buffer | string, reserved = 0): Buffer {
  const d = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([u16(id), u16(reserved), u32(d.length), d]);
}
function op(type: number, attrs: Buffer[], reserved = 0, lenDelta = 0): Buffer {
  const body = Buffer.concat(attrs);
  return Buffer.concat([u16(type), u16(reserved), u32(body.length + lenDelta), body]);
}
function plan(ops: Buffer[], h: { magic?: string; version?: number; count?: number; total?: number; trailing?: Buffer } = {}): Buffer {
  const body = Buffer.concat([...ops, h.trailing ?? Buffer.alloc(0)]);
  return Buffer.concat([Buffer.from(h.magic ?? 'MOATPLAN'), u32(h.version ?? 1), u32(h.count ?? ops.length), u32(h.total ?? 20 + body.length), body]);
}

const A = Object.fromEntries(Object.entries(PLAN_ATTRS).map(([k, v]) => [k, v[0]])) as Record<keyof typeof PLAN_ATTRS, number>;
const O = PLAN_OPS;
const cgroupJoin = (path = '/nonexistent-moat-test') => op(O.cgroup_join, [attr(A.path, path)]);

const skip = !existsSync(helper) ? `${helper} not built (run \`npm run build\`)` : false;

test('no arguments: a usage line on stderr and exit status 2', { skip }, () => {
  const r = spawnSync(helper, [], { encoding: 'utf8', timeout: 5000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^moat-helper: .*not for direct use\n$/);
  assert.equal(spawnSync(helper, [''], { timeout: 5000 }).status, 2, 'an empty fd argument is usage too');
  assert.equal(spawnSync(helper, ['3', 'x'], { timeout: 5000 }).status, 2, 'two arguments are usage too');
});

// [name, plan bytes, message pattern, errno]
const MALFORMED: [string, Buffer, RegExp, number?][] = [
  ['empty input', Buffer.alloc(0), /read plan header/],
  ['truncated header', Buffer.from('MOATPLAN\x01\x00'), /read plan header/],
  ['bad magic', plan([cgroupJoin()], { magic: 'MOATPLAX' }), /bad magic/, EINVAL],
  ['wrong version', plan([cgroupJoin()], { version: 2 }), /plan version 2, helper speaks 1/, EINVAL],
  ['header length below the header size', plan([], { total: 10 }), /plan length 10 out of range/, EINVAL],
  ['header length above the 16 MiB cap', plan([], { total: (16 << 20) + 1 }), /plan length 16777217 out of range/, EINVAL],
  ['header length longer than what is sent', plan([cgroupJoin()], { total: 20 + 18 + 100 }), /read plan body/],
  ['op count larger than the ops sent', plan([cgroupJoin()], { count: 2 }), /op 1: truncated header/, EINVAL],
  ['unknown op (gap in the numbering)', plan([op(8, [])]), /op 0: unknown type 8/, EINVAL],
  ['unknown op (past the last)', plan([cgroupJoin(), op(999, [])]), /op 1: unknown type 999/, EINVAL],
  ['op 0', plan([op(0, [])]), /op 0: unknown type 0/, EINVAL],
  ['reserved op bits set', plan([op(O.cgroup_join, [attr(A.path, '/x')], 1)]), /op 0: reserved bits set/, EINVAL],
  ['op payload overruns the plan', plan([op(O.cgroup_join, [attr(A.path, '/x')], 0, 50)]), /op 0: payload overruns the plan/, EINVAL],
  ['unknown attribute', plan([op(O.cgroup_join, [attr(A.path, '/x'), attr(99, 'x')])]), /op 0: unknown attribute 99/, EINVAL],
  ['attribute 0', plan([op(O.cgroup_join, [attr(0, '')])]), /unknown attribute 0/, EINVAL],
  ['attribute not allowed for the op', plan([op(O.cgroup_join, [attr(A.path, '/x'), attr(A.name, 'n')])]), /attribute 5 not allowed for op 1/, EINVAL],
  ['missing required attribute', plan([op(O.mount, [attr(A.path, '/mnt')])]), /op 0: type 15: missing attribute 3/, EINVAL],
  ['repeated single attribute', plan([op(O.cgroup_join, [attr(A.path, '/x'), attr(A.path, '/y')])]), /attribute 1 repeated/, EINVAL],
  ['u64 attribute of 4 bytes', plan([op(O.umask, [attr(A.value, u32(0o22))])]), /attribute 16: want 8 bytes, have 4/, EINVAL],
  ['u64 attribute of 9 bytes', plan([op(O.umask, [attr(A.value, Buffer.alloc(9))])]), /attribute 16: want 8 bytes, have 9/, EINVAL],
  ['repeatable u64 of wrong size', plan([op(O.set_user, [attr(A.uid, u64(0n)), attr(A.gid, u64(0n)), attr(A.groups, u32(1))])]), /attribute 21: want 8 bytes, have 4/, EINVAL],
  ['NUL inside a string', plan([op(O.cgroup_join, [attr(A.path, '/sys/fs/cgroup\0/../x')])]), /attribute 1: NUL in string/, EINVAL],
  ['NUL inside a repeated string', plan([op(O.exec, [attr(A.args, 'sh'), attr(A.args, 'a\0')])]), /attribute 6: NUL in string/, EINVAL],
  ['reserved attribute bits set', plan([op(O.cgroup_join, [attr(A.path, '/x', 0x100)])]), /type 1: reserved bits set in an attribute/, EINVAL],
  ['truncated attribute header', plan([op(O.cgroup_join, [attr(A.path, '/x'), Buffer.from([1, 0, 0])])]), /truncated attribute header/, EINVAL],
  ['attribute overruns the op', plan([op(O.cgroup_join, [Buffer.concat([u16(A.path), u16(0), u32(100), Buffer.from('/x')])])]), /attribute 1 overruns the op/, EINVAL],
  ['trailing bytes', plan([cgroupJoin()], { trailing: Buffer.from([0, 0, 0]) }), /3 trailing bytes after the last op/, EINVAL],
  ['trailing bytes with zero ops', plan([], { trailing: Buffer.alloc(8) }), /8 trailing bytes after the last op/, EINVAL],
  ['too many ops', plan([], { count: 4097 }), /too many ops: 4097/, EINVAL],
  ['op count 2^32-1', plan([], { count: 0xffffffff }), /too many ops/, EINVAL],
];

for (const [name, bytes, pattern, errno] of MALFORMED) {
  test(`malformed plan: ${name} → stage 1 error`, { skip }, async () => {
    const e = oneError(await runHelper(bytes));
    assert.equal(e.stage, STAGE_PLAN, `stage 'plan': ${e.message}`);
    assert.equal(e.opIndex, -1, 'no op ran');
    assert.match(e.message, pattern);
    if (errno !== undefined) assert.equal(e.errno, errno);
    else assert.notEqual(e.errno, 0, 'an errno is given');
  });
}

test('the errors of a short read are EPIPE once the socket is closed', { skip }, async () => {
  const e = oneError(await runHelper(plan([cgroupJoin()], { total: 200 })));
  assert.equal(e.errno, EPIPE);
});

test('a valid plan whose first op fails: stage 2, op index 0, errno ENOENT', { skip }, async () => {
  const bytes = encodePlan([{ op: 'cgroup_join', path: '/nonexistent-moat-test' }, { op: 'exec', args: ['/bin/false'] }]);
  const e = oneError(await runHelper(bytes));
  assert.equal(e.stage, STAGE_PARENT);
  assert.equal(e.opIndex, 0);
  assert.equal(e.errno, ENOENT);
  assert.match(e.message, /`\/nonexistent-moat-test\/cgroup\.procs`/);
});

test('the op index names the op that failed, not the first op', { skip }, async () => {
  const bytes = encodePlan([{ op: 'umask', value: 0o22 }, { op: 'umask', value: 0o77 }, { op: 'cgroup_join', path: '/nonexistent-moat-test' }, { op: 'exec', args: ['/bin/false'] }]);
  const e = oneError(await runHelper(bytes));
  assert.deepEqual([e.stage, e.opIndex, e.errno], [STAGE_PARENT, 2, ENOENT]);
});

test('namespace paths are opened before any op runs, and a failure names the ns_join op', { skip }, async () => {
  const bytes = encodePlan([{ op: 'cgroup_join', path: '/nonexistent-moat-test' }, { op: 'ns_join', nstype: 0x40000000, path: '/nonexistent-moat-ns' }, { op: 'exec', args: ['/bin/false'] }]);
  const e = oneError(await runHelper(bytes));
  assert.deepEqual([e.stage, e.opIndex, e.errno], [STAGE_PARENT, 1, ENOENT]);
  assert.match(e.message, /open namespace `\/nonexistent-moat-ns`/);
});

test('a plan of zero ops parses, runs nothing and fails for lack of an exec', { skip }, async () => {
  const e = oneError(await runHelper(encodePlan([])));
  assert.deepEqual([e.stage, e.opIndex, e.errno], [STAGE_PARENT, -1, EINVAL]);
  assert.match(e.message, /plan ended without exec/);
});

test('the helper reads exactly the length the header gives, with the socket left open', { skip }, async () => {
  // no EOF: the helper must not wait for more than `total` bytes
  const e = oneError(await runHelper(encodePlan([{ op: 'cgroup_join', path: '/nonexistent-moat-test' }]), { end: false }));
  assert.deepEqual([e.stage, e.opIndex], [STAGE_PARENT, 0]);
});

test('the golden plan of src/plan/wire.test.ts is accepted by the C parser', { skip }, async () => {
  const golden = encodePlan([
    { op: 'cgroup_join', path: '/a' },
    { op: 'umask', value: 18 },
    { op: 'seccomp', bytes: new Uint8Array([1, 2, 3]), flags: 0x0102030405060708n },
    { op: 'exec', args: ['sh', '-c'], env: ['A=1'], keepFds: 0n },
  ]);
  const e = oneError(await runHelper(golden));
  assert.deepEqual([e.stage, e.opIndex, e.errno], [STAGE_PARENT, 0, ENOENT], e.message);
});

test('the largest plan allowed parses: 4096 ops', { skip }, async () => {
  const ops = [{ op: 'cgroup_join' as const, path: '/nonexistent-moat-test' }, ...Array.from({ length: 4095 }, () => ({ op: 'umask' as const, value: 0 }))];
  const e = oneError(await runHelper(encodePlan(ops)));
  assert.deepEqual([e.stage, e.opIndex], [STAGE_PARENT, 0]);
});

test('overlay_tree: a different count of lower dirs and id-mapped trees is refused before anything is made', { skip }, async () => {
  const bytes = encodePlan([{ op: 'overlay_tree', path: '/nonexistent-upper', source: '/nonexistent-work', args: ['/a', '/b'], groups: [0] }, { op: 'exec', args: ['/bin/false'] }]);
  const e = oneError(await runHelper(bytes));
  assert.deepEqual([e.stage, e.opIndex, e.errno], [STAGE_PARENT, 0, EINVAL]);
  assert.match(e.message, /2 lower dirs but 1 id-mapped trees/);
});

test('a detached clone with an exit file: the waiter forks first, the runtime still gets one error and the executor\'s status', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'moat-waiter-'));
  try {
    const bytes = encodePlan([{ op: 'cgroup_join', path: '/nonexistent-moat-test' }, { op: 'clone', flags: 0, mode: 0, path: join(dir, 'exit-status') }, { op: 'exec', args: ['/bin/false'] }]);
    const e = oneError(await runHelper(bytes));
    assert.deepEqual([e.stage, e.opIndex, e.errno], [STAGE_PARENT, 0, ENOENT]);
    // no container was made: the waiter records nothing (it writes only after a clean create)
    assert.equal(existsSync(join(dir, 'exit-status')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// CVE-2019-16884's shape: a mount the config made covers /proc/thread-self/attr, and the exec
// label goes into an ordinary file. The helper writes a label only into a file on procfs, and
// takes the fallback path only when the first path's directory is procfs itself.
test('lsm_attr writes only to procfs: a label file elsewhere, or a fallback past a covered dir, is refused', { skip }, async () => {
  const EXDEV = 18;
  const dir = mkdtempSync(join(tmpdir(), 'moat-lsm-'));
  try {
    const fake = join(dir, 'exec');
    writeFileSync(fake, '');
    const cases = [
      { op: 'lsm_attr' as const, path: fake, data: 'system_u:system_r:container_t:s0:c1,c2' },
      { op: 'lsm_attr' as const, path: join(dir, 'apparmor', 'exec'), source: fake, data: 'exec moat-x' },
      { op: 'lsm_attr' as const, path: '/proc/thread-self/attr/moat-no-such-lsm/exec', source: fake, data: 'exec moat-x' },
    ];
    for (const c of cases) {
      const e = oneError(await runHelper(encodePlan([c, { op: 'exec', args: ['/bin/false'] }])));
      assert.deepEqual([e.stage, e.opIndex, e.errno], [STAGE_PARENT, 0, EXDEV], `${c.path}: ${e.message}`);
      assert.equal(readFileSync(fake, 'utf8'), '', 'nothing was written to the ordinary file');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
