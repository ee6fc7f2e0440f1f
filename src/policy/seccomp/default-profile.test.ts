// moat's default profile: compiles cleanly, denies what it says it denies, and the
// capabilities unlock what they should.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ABIS, type Abi } from './arches.js';
import { CLONE_NAMESPACE_FLAGS } from './default-profile.js';
import { DEFAULT_BY_CAPABILITY, DEFAULT_DENIED } from './default-syscalls.js';
import { compileSeccomp, defaultSeccompProfile, emulateSeccomp } from './index.js';

const ALLOW = 0x7fff0000;
const EPERM = 0x50001;
const ENOSYS = 0x50026;
const ALL_CAPS = [...new Set(DEFAULT_BY_CAPABILITY.flatMap((e) => e.caps))];
const x86ABIs = [ABIS.x86_64, ABIS.x86, ABIS.x32];

function filterFor(caps: string[], host: 'x86_64' | 'aarch64' = 'x86_64'): Uint8Array {
  const { result, issues } = compileSeccomp(defaultSeccompProfile(caps), { hostArch: host });
  assert.deepEqual(issues, []);
  assert.ok(result);
  return result.filter;
}
function verdict(filter: Uint8Array, abi: Abi, name: string, args: bigint[] = []): number | undefined {
  const nr = abi.table[name];
  return nr === undefined ? undefined : emulateSeccomp(filter, { arch: abi.auditArch, nr, args }).ret;
}

test('compiles without issues on both hosts, EPERM by default, flags 0', () => {
  for (const host of ['x86_64', 'aarch64'] as const) {
    const { result, issues } = compileSeccomp(defaultSeccompProfile(ALL_CAPS), { hostArch: host });
    assert.deepEqual(issues, []);
    assert.equal(result?.flags, 0);
  }
  const f = filterFor([]);
  for (const abi of x86ABIs) {
    assert.equal(verdict(f, abi, 'read'), ALLOW, abi.name);
    assert.equal(verdict(f, abi, 'mount'), EPERM, abi.name);
  }
});

test('always-denied syscalls stay denied whatever the capabilities', () => {
  for (const caps of [[], ALL_CAPS]) {
    const f = filterFor(caps);
    for (const name of Object.keys(DEFAULT_DENIED)) for (const abi of x86ABIs) assert.notEqual(verdict(f, abi, name), ALLOW, `${name} on ${abi.name} with [${caps}]`);
  }
});

test('capabilities unlock their syscalls, and only theirs', () => {
  for (const entry of DEFAULT_BY_CAPABILITY) {
    for (const cap of entry.caps) {
      const f = filterFor([cap]);
      const none = filterFor([]);
      for (const name of entry.names) {
        const abi = x86ABIs.find((a) => a.table[name] !== undefined);
        if (!abi) continue;
        assert.equal(verdict(f, abi, name), ALLOW, `${name} with ${cap}`);
        assert.equal(verdict(none, abi, name), EPERM, `${name} without caps`);
      }
    }
  }
});

test('clone: namespace flags need CAP_SYS_ADMIN; clone3 is ENOSYS so libc falls back', () => {
  const f = filterFor([]);
  const admin = filterFor(['CAP_SYS_ADMIN']);
  const threadFlags = 0x3d0f00n; // what pthread_create passes
  for (const abi of x86ABIs) {
    assert.equal(verdict(f, abi, 'clone', [threadFlags]), ALLOW);
    assert.equal(verdict(f, abi, 'clone', [0x10000000n | 0x11n]), EPERM, 'CLONE_NEWUSER');
    assert.equal(verdict(f, abi, 'clone', [BigInt(CLONE_NAMESPACE_FLAGS)]), EPERM);
    assert.equal(verdict(f, abi, 'clone3'), ENOSYS);
    assert.equal(verdict(f, abi, 'unshare', [0x200n /* CLONE_FS */]), ALLOW);
    assert.equal(verdict(f, abi, 'unshare', [0x10000000n]), EPERM);
    assert.equal(verdict(f, abi, 'unshare', [0x80n /* CLONE_NEWTIME */]), EPERM);
    assert.equal(verdict(admin, abi, 'clone', [0x10000000n]), ALLOW);
    assert.equal(verdict(admin, abi, 'clone3'), ALLOW);
  }
});

test('personality: only the safe values', () => {
  const f = filterFor([]);
  for (const abi of x86ABIs) {
    for (const v of [0n, 8n, 0x20000n, 0x20008n, 0xffffffffn]) assert.equal(verdict(f, abi, 'personality', [v]), ALLOW, `${abi.name} ${v}`);
    for (const v of [0x400000n /* READ_IMPLIES_EXEC */, 0x0040000n /* ADDR_NO_RANDOMIZE */, 1n]) assert.equal(verdict(f, abi, 'personality', [v]), EPERM);
  }
});

test('ptrace needs CAP_SYS_PTRACE; io_uring, keyctl, userfaultfd never', () => {
  assert.equal(verdict(filterFor([]), ABIS.x86_64, 'ptrace'), EPERM);
  assert.equal(verdict(filterFor(['CAP_SYS_PTRACE']), ABIS.x86_64, 'ptrace'), ALLOW);
  for (const name of ['io_uring_setup', 'keyctl', 'userfaultfd', 'kexec_load', 'bpf', 'perf_event_open', 'clock_settime']) assert.equal(verdict(filterFor([]), ABIS.x86_64, name), EPERM, name);
});

test('arm64 host: aarch64 and arm dispatch, x86 killed', () => {
  const f = filterFor([], 'aarch64');
  assert.equal(verdict(f, ABIS.aarch64, 'read'), ALLOW);
  assert.equal(verdict(f, ABIS.arm, 'set_tls'), ALLOW);
  assert.equal(verdict(f, ABIS.aarch64, 'mount'), EPERM);
  assert.equal(verdict(f, ABIS.x86_64, 'read'), 0x80000000);
});
