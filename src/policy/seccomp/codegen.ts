// Emits the filter: arch dispatch, then per ABI a binary search over syscall-number ranges,
// then argument checks for the few syscalls that have them.
import type { Abi } from './arches.js';
import { BpfBuilder, type Label } from './bpf-asm.js';
import type { SeccompCondition } from './conditions.js';
import { SECCOMP_DATA_ARCH, SECCOMP_DATA_ARGS, SECCOMP_DATA_NR, SECCOMP_RET_KILL_PROCESS, X32_SYSCALL_BIT } from './constants.js';
import type { NormalizedSeccomp } from './normalize.js';
import { unknownNrRet, verdictRanges, type NrRange, type RuleChain } from './verdicts.js';

/**
 * What a call of an ABI the profile does not list gets. libseccomp's default for "bad
 * arch" is to kill; moat kills the whole process (a lone killed thread leaves the rest of
 * the program running in a broken state). Never the default action: with a deny-list
 * profile (default ALLOW) that would let i386 or x32 calls skip every rule.
 */
export const SECCOMP_BADARCH_RET = SECCOMP_RET_KILL_PROCESS;

const lo32 = (v: bigint) => Number(v & 0xffffffffn);
const hi32 = (v: bigint) => Number((v >> 32n) & 0xffffffffn);

// One condition: jump to `ok` when it holds, to `fail` otherwise. 64-bit values are
// compared high word first; ABIs with 32-bit arguments compare the low word only.
function emitCondition(b: BpfBuilder, c: SeccompCondition, words: 1 | 2, ok: Label, fail: Label): void {
  const loOff = SECCOMP_DATA_ARGS + 8 * c.index; // little-endian: low word first
  const hiOff = loOff + 4;
  const [yes, no] = c.op === 'SCMP_CMP_LT' || c.op === 'SCMP_CMP_LE' || c.op === 'SCMP_CMP_NE' ? [fail, ok] : [ok, fail];
  // LT is !GE, LE is !GT, NE is !EQ: emit the positive test with the targets swapped.
  const op = { SCMP_CMP_LT: 'ge', SCMP_CMP_LE: 'gt', SCMP_CMP_NE: 'eq', SCMP_CMP_GE: 'ge', SCMP_CMP_GT: 'gt', SCMP_CMP_EQ: 'eq', SCMP_CMP_MASKED_EQ: 'masked' }[c.op];
  const v = c.value;
  if (op === 'masked') {
    if (words === 2 && hi32(v) !== 0) {
      const next = b.label();
      b.ld(hiOff);
      b.and(hi32(v));
      b.jmp('jeq', hi32(c.valueTwo), next, no);
      b.place(next);
    } else if (words === 2 && hi32(c.valueTwo) !== 0) {
      b.ja(no); // (hi & 0) can never equal a non-zero high word
      return;
    }
    b.ld(loOff);
    if (lo32(v) !== 0xffffffff) b.and(lo32(v));
    b.jmp('jeq', lo32(c.valueTwo), yes, no);
    return;
  }
  if (words === 2) {
    const next = b.label();
    b.ld(hiOff);
    if (op === 'eq') b.jmp('jeq', hi32(v), next, no);
    else {
      const same = b.label();
      b.jmp('jgt', hi32(v), yes, same);
      b.place(same);
      b.jmp('jeq', hi32(v), next, no);
    }
    b.place(next);
  }
  b.ld(loOff);
  b.jmp(op === 'eq' ? 'jeq' : op === 'gt' ? 'jgt' : 'jge', lo32(v), yes, no);
}

function emitChain(b: BpfBuilder, chain: RuleChain, words: 1 | 2): void {
  for (const rule of chain.rules) {
    const nextRule = b.label();
    for (const c of rule.conditions) {
      const ok = b.label();
      emitCondition(b, c, words, ok, nextRule);
      b.place(ok);
    }
    b.ret(rule.action);
    b.place(nextRule);
  }
  b.ret(chain.fallback);
}

// Balanced binary search: each comparison halves the ranges left, so a call runs about
// log2(ranges) jumps before its verdict.
function emitTree(b: BpfBuilder, ranges: NrRange[], i: number, j: number, words: 1 | 2): void {
  if (i === j) {
    const v = ranges[i].verdict;
    if (v.ret !== undefined) b.ret(v.ret);
    else emitChain(b, v.chain, words);
    return;
  }
  const mid = (i + j + 1) >> 1;
  const left = b.label();
  const right = b.label();
  b.jmp('jge', ranges[mid].lo, right, left);
  b.place(left);
  emitTree(b, ranges, i, mid - 1, words);
  b.place(right);
  emitTree(b, ranges, mid, j, words);
}

function emitAbi(b: BpfBuilder, n: NormalizedSeccomp, abi: Abi): void {
  const ranges = verdictRanges(n, abi);
  emitTree(b, ranges, 0, ranges.length - 1, abi.argWords);
}

// x86_64 and x32 share AUDIT_ARCH_X86_64: X32_SYSCALL_BIT in the number tells them apart,
// so an x32 call can never reach a 64-bit rule (nor the reverse).
function emitX86_64Family(b: BpfBuilder, n: NormalizedSeccomp, x64?: Abi, x32?: Abi): void {
  const low = b.label();
  const high = b.label();
  b.ld(SECCOMP_DATA_NR);
  b.jmp('jge', X32_SYSCALL_BIT, high, low);
  b.place(low);
  if (x64) emitAbi(b, n, x64);
  else b.ret(SECCOMP_BADARCH_RET);
  b.place(high);
  if (x32) return emitAbi(b, n, x32);
  // Without x32, only nr -1 (what a tracer sets to skip a call) is not an x32 call;
  // libseccomp treats it the same way.
  const minus1 = b.label();
  const bad = b.label();
  b.jmp('jeq', 0xffffffff, minus1, bad);
  b.place(minus1);
  b.ret(unknownNrRet(n));
  b.place(bad);
  b.ret(SECCOMP_BADARCH_RET);
}

/** The whole program for a normalized profile, as builder instructions. */
export function emitSeccompProgram(n: NormalizedSeccomp): BpfBuilder {
  const b = new BpfBuilder();
  const groups = new Map<number, Abi[]>();
  for (const abi of n.abis) groups.set(abi.auditArch, [...(groups.get(abi.auditArch) ?? []), abi]);
  b.ld(SECCOMP_DATA_ARCH);
  const entries = [...groups].map(([arch, abis]) => ({ arch, abis, label: b.label() }));
  for (const e of entries) {
    const next = b.label();
    b.jmp('jeq', e.arch, e.label, next);
    b.place(next);
  }
  b.ret(SECCOMP_BADARCH_RET);
  for (const e of entries) {
    b.place(e.label);
    const byName = (name: string) => e.abis.find((a) => a.name === name);
    if (byName('x86_64') || byName('x32')) emitX86_64Family(b, n, byName('x86_64'), byName('x32'));
    else {
      b.ld(SECCOMP_DATA_NR);
      emitAbi(b, n, e.abis[0]);
    }
  }
  return b;
}
