// Benchmark check: moat's default filter runs no more instructions per call than
// libseccomp's filter for the same profile, over a realistic syscall mix.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildLibseccompExporter, runLibseccompExporter } from '../../../test/seccomp/libseccomp-export.js';
import { ABIS } from './arches.js';
import { compileSeccomp, defaultSeccompProfile, seccompStats, type SeccompMixEntry } from './index.js';
import { toLibseccompLines } from './libseccomp-lines.js';

/** A server-like x86_64 mix: weights roughly as strace -c shows for a busy service. */
export const REALISTIC_MIX: readonly SeccompMixEntry[] = (
  [
    ['read', 20], ['write', 15], ['epoll_wait', 10], ['futex', 10], ['recvfrom', 6], ['sendto', 6],
    ['openat', 5], ['close', 5], ['fstat', 4], ['newfstatat', 4], ['mmap', 3], ['munmap', 2],
    ['mprotect', 2], ['clock_gettime', 3], ['getpid', 2], ['lseek', 2], ['brk', 1], ['rt_sigprocmask', 2],
    ['madvise', 1], ['getdents64', 1], ['epoll_ctl', 2], ['accept4', 1], ['ioctl', 1], ['pread64', 1],
  ] as const
).map(([name, weight]) => ({ arch: ABIS.x86_64.auditArch, nr: ABIS.x86_64.table[name], weight }));

test('seccompStats counts instructions', () => {
  const { result } = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, { hostArch: 'x86_64' });
  assert.ok(result);
  const s = seccompStats(result.filter, REALISTIC_MIX);
  assert.equal(s.instructions, result.filter.length / 8);
  assert.ok(s.avgExecuted >= 4 && s.maxExecuted <= s.instructions);
});

test('default filter: no more instructions per call than libseccomp', (t) => {
  const e = buildLibseccompExporter();
  if (e.skip !== undefined) return t.skip(e.skip);
  try {
    for (const caps of [[], ['CAP_SYS_ADMIN', 'CAP_SYS_PTRACE']]) {
      const profile = defaultSeccompProfile(caps);
      const ours = compileSeccomp(profile, { hostArch: 'x86_64' }).result;
      assert.ok(ours);
      const theirs = runLibseccompExporter(e.bin, toLibseccompLines(profile, 'x86_64') ?? '');
      const a = seccompStats(ours.filter, REALISTIC_MIX);
      const b = seccompStats(theirs.filter, REALISTIC_MIX);
      t.diagnostic(`caps [${caps}]: moat ${a.instructions} instructions, ${a.avgExecuted.toFixed(2)} per call (max ${a.maxExecuted}); libseccomp ${b.instructions} instructions, ${b.avgExecuted.toFixed(2)} per call (max ${b.maxExecuted})`);
      assert.ok(a.avgExecuted <= b.avgExecuted, `moat ${a.avgExecuted} > libseccomp ${b.avgExecuted}`);
    }
  } finally {
    e.cleanup();
  }
});
