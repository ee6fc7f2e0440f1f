// parseDockerSeccompProfile: archMap, includes/excludes, name vs names, issues.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileSeccomp, parseDockerSeccompProfile } from './index.js';

const doc = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 1,
  archMap: [
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
  ],
  syscalls: [
    { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', comment: 'basics' },
    { name: 'ptrace', action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
    { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
    { names: ['set_tls'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm', 'arm64'] } },
    { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }], excludes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { caps: ['CAP_SYS_ADMIN'] } },
  ],
};

const names = (p: ReturnType<typeof parseDockerSeccompProfile>) => p.profile?.syscalls?.flatMap((s) => s.names);

test('resolves archMap, arches, caps and minKernel for the container', () => {
  const plain = parseDockerSeccompProfile(doc, '', { hostArch: 'x86_64' });
  assert.deepEqual(plain.issues, []);
  assert.deepEqual(plain.profile?.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.deepEqual(names(plain), ['read', 'write', 'arch_prctl', 'clone', 'clone3']);
  const admin = parseDockerSeccompProfile(doc, '', { hostArch: 'x86_64', capabilities: ['CAP_SYS_ADMIN'], kernelVersion: '6.1.0-13-amd64' });
  assert.deepEqual(names(admin), ['read', 'write', 'ptrace', 'arch_prctl', 'mount']);
  const arm = parseDockerSeccompProfile(doc, '', { hostArch: 'aarch64', kernelVersion: '4.4.0' });
  assert.deepEqual(arm.profile?.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.deepEqual(names(arm), ['read', 'write', 'set_tls', 'clone', 'clone3']);
  const c = compileSeccomp(plain.profile ?? { defaultAction: '' }, { hostArch: 'x86_64' });
  assert.deepEqual(c.issues, []);
});

test('issues point into the Docker file', () => {
  const bad = {
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64'],
    archMap: [],
    syscalls: [{ names: ['read'], action: 'SCMP_ACT_FOO' }, { name: 'a', names: ['b'], action: 'SCMP_ACT_ALLOW' }, { names: ['x'], action: 'SCMP_ACT_ALLOW', args: [{ index: 9, op: 'SCMP_CMP_EQ', value: 1 }] }],
  };
  assert.deepEqual(parseDockerSeccompProfile(bad, 'profile').issues.map((i) => i.path), [
    'profile.archMap',
    'profile.archMap',
    'profile.syscalls[0].action',
    'profile.syscalls[1].name',
    'profile.syscalls[2].args[0].index',
  ]);
  assert.equal(parseDockerSeccompProfile(42).issues.length, 1);
});
