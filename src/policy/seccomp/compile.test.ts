// compileSeccomp: issues with JSON paths, flags, arch dispatch, ENOSYS, long jumps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OciSeccomp } from '../../spec/oci-types.js';
import { prng } from '../../../test/seccomp/random-profile.js';
import { referenceVerdict } from '../../../test/seccomp/reference-evaluator.js';
import { ABIS } from './arches.js';
import { BPF_MAXINSNS } from './constants.js';
import { compileSeccomp, emulateSeccomp, seccompFeatures, seccompFeaturesFor, splitSeccompIssues } from './index.js';

const X86_64 = ABIS.x86_64.auditArch;
const ALLOW = 0x7fff0000;
const EPERM_RET = 0x50001;
const ENOSYS_RET = 0x50026;
const KILL_PROCESS = 0x80000000;

function compile(p: OciSeccomp) {
  return compileSeccomp(p, { hostArch: 'x86_64' });
}
function run(p: OciSeccomp, arch: number, nr: number, args: bigint[] = []): number {
  const { result, issues } = compile(p);
  assert.ok(result, JSON.stringify(issues));
  return emulateSeccomp(result.filter, { arch, nr, args }).ret;
}
const codes = (p: OciSeccomp, path?: string) => compileSeccomp(p, { hostArch: 'x86_64', path }).issues.map((i) => `${i.code} ${i.path}`);

test('unknown names are issues at their JSON path', () => {
  const p = {
    defaultAction: 'SCMP_ACT_NOPE',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_MIPS'],
    flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_BOGUS'],
    syscalls: [
      { names: ['read'], action: 'SCMP_ACT_ALLOW' },
      { names: ['write'], action: 'SCMP_ACT_BLOCK' },
      { names: ['close'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'SCMP_CMP_XX', value: 1 }, { index: 6, op: 'SCMP_CMP_EQ', value: -1 }] },
      { names: ['open', 'no_such_syscall'], action: 'SCMP_ACT_ALLOW' },
    ],
  } as unknown as OciSeccomp;
  assert.deepEqual(codes(p).sort(), [
    'SECCOMP_INVALID_ARG linux.seccomp.syscalls[2].args[1].index',
    'SECCOMP_INVALID_ARG linux.seccomp.syscalls[2].args[1].value',
    'SECCOMP_UNKNOWN_ACTION linux.seccomp.defaultAction',
    'SECCOMP_UNKNOWN_ACTION linux.seccomp.syscalls[1].action',
    'SECCOMP_UNKNOWN_ARCH linux.seccomp.architectures[1]',
    'SECCOMP_UNKNOWN_FLAG linux.seccomp.flags[1]',
    'SECCOMP_UNKNOWN_OP linux.seccomp.syscalls[2].args[0].op',
    'SECCOMP_UNKNOWN_SYSCALL linux.seccomp.syscalls[3].names[1]',
  ]);
  assert.deepEqual(codes({ defaultAction: 'SCMP_ACT_KILL', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ALLOW' }] }, 'seccomp'), [
    'SECCOMP_UNKNOWN_SYSCALL seccomp.syscalls[0].names[0]',
    'SECCOMP_NO_KNOWN_SYSCALL seccomp.syscalls',
  ]);
});

test('an unknown syscall is only a warning; unknown on some arches is fine', () => {
  const { result, issues } = compile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'futex_wake_v9'], action: 'SCMP_ACT_ALLOW' }] });
  assert.ok(result);
  const { errors, warnings } = splitSeccompIssues(issues);
  assert.equal(errors.length, 0);
  assert.deepEqual(warnings.map((w) => w.path), ['linux.seccomp.syscalls[0].names[1]']);
  // socketcall exists on x86 only: no issue when x86 is listed
  assert.deepEqual(compile({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], syscalls: [{ names: ['socketcall'], action: 'SCMP_ACT_ALLOW' }] }).issues, []);
});

test('errnoRet: defaults, ranges, only on ERRNO and TRACE', () => {
  assert.equal(run({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] }, X86_64, 1), EPERM_RET);
  assert.equal(run({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 13, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] }, X86_64, 1), 0x5000d);
  assert.equal(run({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO' }] }, X86_64, 0), EPERM_RET);
  assert.equal(run({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_TRACE', errnoRet: 0x1234 }] }, X86_64, 0), 0x7ff01234);
  assert.deepEqual(codes({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 5000 }, { names: ['write'], action: 'SCMP_ACT_KILL', errnoRet: 1 }] }), [
    'SECCOMP_INVALID_ERRNO linux.seccomp.syscalls[0].errnoRet',
    'SECCOMP_INVALID_ERRNO linux.seccomp.syscalls[1].errnoRet',
  ]);
});

test('flags: OCI names to bits, NEW_LISTENER with NOTIFY, listener checks', () => {
  const notify: OciSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/l.sock', listenerMetadata: 'm', syscalls: [{ names: ['mknod'], action: 'SCMP_ACT_NOTIFY' }] };
  const r = compile({ ...notify, flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }).result;
  assert.equal(r?.flags, 2 | 4 | 8 | 32);
  assert.equal(r?.listenerPath, '/run/l.sock');
  assert.equal(r?.listenerMetadata, 'm');
  assert.equal(compile({ ...notify, flags: ['SECCOMP_FILTER_FLAG_TSYNC'] }).result?.flags, 1 | 8 | 16);
  assert.equal(compile({ defaultAction: 'SCMP_ACT_ALLOW' }).result?.flags, 0);
  assert.deepEqual(codes({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mknod'], action: 'SCMP_ACT_NOTIFY' }] }), ['SECCOMP_NOTIFY linux.seccomp.listenerPath']);
  assert.deepEqual(codes({ defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/x' }), ['SECCOMP_NOTIFY linux.seccomp.defaultAction']);
  assert.deepEqual(codes({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }), ['SECCOMP_NOTIFY linux.seccomp.flags']);
  // the helper hands the listener fd over with sendmsg(), after the load: it cannot be notified
  assert.deepEqual(codes({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/x', syscalls: [{ names: ['getpid', 'sendmsg'], action: 'SCMP_ACT_NOTIFY' }] }), ['SECCOMP_NOTIFY linux.seccomp.syscalls[0].names[1]']);
});

test('arch dispatch: unlisted ABIs are killed, x32 never reaches a 64-bit rule', () => {
  const only64: OciSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['mount'], action: 'SCMP_ACT_ERRNO' }] };
  assert.equal(run(only64, X86_64, 165), EPERM_RET);
  assert.equal(run(only64, X86_64, 0x40000000 + 165), KILL_PROCESS, 'x32 mount without x32 listed');
  assert.equal(run(only64, ABIS.x86.auditArch, 21), KILL_PROCESS, 'i386 mount without x86 listed');
  assert.equal(run(only64, ABIS.aarch64.auditArch, 40), KILL_PROCESS);
  assert.equal(run(only64, X86_64, -1), ALLOW, 'nr -1 is not an x32 call');
  const both: OciSeccomp = { ...only64, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'], syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO' }] };
  assert.equal(run(both, X86_64, 0), EPERM_RET);
  assert.equal(run(both, X86_64, 0x40000000), EPERM_RET, 'x32 read by its own number');
  assert.equal(run({ ...both, architectures: ['SCMP_ARCH_X32'] }, X86_64, 0), KILL_PROCESS, '64-bit call with only x32 listed');
  // no architectures: the native ABI only
  assert.equal(run({ defaultAction: 'SCMP_ACT_ALLOW' }, ABIS.x86.auditArch, 3), KILL_PROCESS);
  assert.deepEqual(codes({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_AARCH64'] }), ['SECCOMP_NO_ARCH linux.seccomp.architectures']);
});

test('numbers newer than the tables get ENOSYS under an errno default, known ones the errno', () => {
  const p: OciSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] };
  for (const abi of [ABIS.x86_64, ABIS.x86, ABIS.x32]) {
    assert.equal(run(p, abi.auditArch, abi.maxNr + 1), ENOSYS_RET, `${abi.name} max+1`);
    assert.equal(run(p, abi.auditArch, abi.maxNr), EPERM_RET, `${abi.name} max`);
  }
  assert.equal(run({ ...p, defaultAction: 'SCMP_ACT_KILL_PROCESS' }, X86_64, ABIS.x86_64.maxNr + 1), KILL_PROCESS);
});

test('x86 compares the low word of arguments only', () => {
  const p: OciSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 0xffffffff }] }] };
  assert.equal(run(p, ABIS.x86.auditArch, ABIS.x86.table.personality, [0xffffffffn]), ALLOW);
  assert.equal(run(p, X86_64, ABIS.x86_64.table.personality, [0xffffffffn]), ALLOW);
  assert.equal(run(p, X86_64, ABIS.x86_64.table.personality, [0xffffffffffffffffn]), EPERM_RET);
});

test('long jumps: big argument chains compile and decide like the profile', () => {
  const r = prng(5);
  const rules = Array.from({ length: 60 }, (_, i) => ({
    names: ['ioctl', 'read'],
    action: i % 2 ? 'SCMP_ACT_ALLOW' : 'SCMP_ACT_TRAP',
    args: [{ index: 1, op: 'SCMP_CMP_EQ' as const, value: BigInt(i) << 32n | 0x5400n }, { index: 0, op: 'SCMP_CMP_LT' as const, value: 100 }],
  }));
  const p: OciSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], syscalls: [{ names: ['write', 'close', 'openat'], action: 'SCMP_ACT_ALLOW' }, ...rules] };
  const { result } = compile(p);
  assert.ok(result);
  const n = result.filter.length / 8;
  assert.ok(n > 1000 && n <= BPF_MAXINSNS, `${n} instructions`);
  const view = new DataView(result.filter.buffer);
  let longJumps = 0;
  for (let i = 0; i < n; i++) if (view.getUint16(i * 8, true) === 0x05 && view.getUint32(i * 8 + 4, true) > 255) longJumps++;
  assert.ok(longJumps > 0, 'needs BPF_JA trampolines');
  for (let i = 0; i < 3000; i++) {
    const abi = r() < 0.5 ? ABIS.x86_64 : ABIS.x86;
    const nr = abi.table[['ioctl', 'fcntl', 'read', 'write', 'close', 'openat', 'mmap'][Math.floor(r() * 7)]];
    const args = [BigInt(Math.floor(r() * 120)), BigInt(Math.floor(r() * 64)) << 32n | 0x5400n];
    const call = { arch: abi.auditArch, nr, args };
    assert.equal(emulateSeccomp(result.filter, call).ret, referenceVerdict(p, 'x86_64', call));
  }
});

test('a filter over BPF_MAXINSNS is an issue', () => {
  const rules = Array.from({ length: 400 }, (_, i) => ({ names: ['ioctl', 'fcntl'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, op: 'SCMP_CMP_GT' as const, value: 1000 + i }] }));
  assert.deepEqual(codes({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls: rules }), ['SECCOMP_FILTER_TOO_LARGE linux.seccomp']);
});

test('seccompFeatures lists what compileSeccomp accepts', () => {
  const f = seccompFeatures();
  assert.ok(f.actions.includes('SCMP_ACT_KILL_PROCESS') && f.actions.includes('SCMP_ACT_NOTIFY'));
  assert.deepEqual(f.archs, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM', 'SCMP_ARCH_X32', 'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64']);
  assert.equal(f.operators.length, 7);
  for (const action of f.actions) {
    const p: OciSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/l', syscalls: [{ names: ['read'], action }] };
    assert.deepEqual(compile(p).issues, [], action);
  }
  for (const flag of f.flags) assert.deepEqual(compile({ defaultAction: 'SCMP_ACT_ALLOW', flags: [flag], listenerPath: '/l', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] }).issues, [], flag);
});

test('seccompFeaturesFor intersects with the kernel: actions_avail, flags by release, host ABIs', () => {
  const old = seccompFeaturesFor({ actionsAvail: ['kill_thread', 'trap', 'errno', 'trace', 'allow'], kernelVersion: [4, 14], hostArch: 'x86_64' });
  assert.equal(old.enabled, true);
  assert.deepEqual(old.actions, ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRACE', 'SCMP_ACT_TRAP']);
  assert.deepEqual(old.supportedFlags, ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_TSYNC']);
  assert.deepEqual(old.enforcedArchs, ['SCMP_ARCH_X32', 'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64']);
  const now = seccompFeaturesFor({ actionsAvail: 'kill_process kill_thread trap errno user_notif trace log allow'.split(' '), kernelVersion: [6, 1], hostArch: 'aarch64' });
  assert.deepEqual(now.actions, seccompFeatures().actions);
  assert.deepEqual(now.supportedFlags, now.knownFlags);
  assert.deepEqual(now.enforcedArchs, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  const none = seccompFeaturesFor({ kernelVersion: [6, 1], hostArch: 'x86_64' });
  assert.equal(none.enabled, false);
  assert.deepEqual([none.actions, none.supportedFlags], [[], []]);
});
