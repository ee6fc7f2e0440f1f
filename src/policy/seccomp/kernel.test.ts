// On a real kernel: the kernel's checker accepts moat's filters (including long-jump ones)
// and a loaded default filter returns what the emulator predicts for harmless calls.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../../test/seccomp/libseccomp-export.js';
import { ABIS } from './arches.js';
import { compileSeccomp, defaultSeccompProfile, emulateSeccomp } from './index.js';

test('the kernel loads the default filter and agrees with the emulator', (t) => {
  if (process.platform !== 'linux' || process.arch !== 'x64') return t.skip('needs an x86_64 Linux host');
  const dir = mkdtempSync(join(tmpdir(), 'moat-seccomp-load-'));
  try {
    const bin = join(dir, 'load-filter');
    const cc = spawnSync('gcc', ['-O1', '-o', bin, join(repoRoot, 'test/seccomp/load-filter.c')], { encoding: 'utf8' });
    if (cc.error || cc.status !== 0) return t.skip(`cannot build test/seccomp/load-filter.c: ${cc.error?.message ?? cc.stderr}`);
    const { result } = compileSeccomp(defaultSeccompProfile([]), { hostArch: 'x86_64' });
    assert.ok(result);
    const T = ABIS.x86_64.table;
    // getpid: allowed; mount(NULL...): EPERM from the filter (not EFAULT from the kernel);
    // clone3(NULL, 0): ENOSYS; a number above the table: ENOSYS; personality: value filter.
    const calls = [[T.getpid], [T.mount], [T.clone3], [ABIS.x86_64.maxNr + 10], [T.personality, 0x400000], [T.personality, 0xffffffff], [T.ptrace, 0]];
    const r = spawnSync(bin, calls.map((c) => c.join(',')), { input: result.filter, encoding: 'utf8' });
    if (r.status === 2 || r.status === 3) return t.skip(`this kernel or sandbox refuses seccomp: ${r.stdout.trim()}`);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => l.split(' ').map(Number));
    calls.forEach((c, i) => {
      const ret = emulateSeccomp(result.filter, { arch: ABIS.x86_64.auditArch, nr: c[0], args: c.slice(1).map(BigInt) }).ret;
      const [, rv, errno] = lines[i];
      if (ret === 0x7fff0000) assert.notEqual(errno, 1, `nr ${c[0]} allowed`);
      else assert.deepEqual([rv, errno], [-1, ret & 0xffff], `nr ${c[0]}`);
    });
    // A filter with BPF_JA trampolines (see compile.test.ts) passes the kernel's checker.
    const rules = Array.from({ length: 60 }, (_, i) => ({ names: ['ioctl', 'read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, op: 'SCMP_CMP_EQ' as const, value: (BigInt(i) << 32n) | 0x5400n }] }));
    const big = compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], syscalls: [{ names: ['write', 'exit', 'exit_group', 'getpid'], action: 'SCMP_ACT_ALLOW' }, ...rules, ...rules] }, { hostArch: 'x86_64' }).result;
    assert.ok(big && big.filter.length / 8 > 300);
    const rb = spawnSync(bin, [String(T.getpid), String(T.ioctl)], { input: big.filter, encoding: 'utf8' });
    assert.equal(rb.status, 0, rb.stdout);
    assert.match(rb.stdout, new RegExp(`^${T.ioctl} -1 1$`, 'm'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
