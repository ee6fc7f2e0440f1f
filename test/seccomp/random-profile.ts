// Seeded random profiles and syscall calls for the property and differential tests.
import type { OciSeccomp, OciSeccompArg, OciSeccompSyscall } from '../../src/spec/oci-types.js';
import { ABIS, abiByOciName, type Abi, type HostArch } from '../../src/policy/seccomp/arches.js';
import { actionRet } from './reference-evaluator.js';

/** mulberry32: small, seeded, good enough to spread test cases. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: Rand, n: number) => Math.floor(r() * n);
const u32 = (r: Rand) => BigInt(int(r, 0x100000000));

/** Argument values near the interesting edges of 32 and 64 bits. */
export function randomValue(r: Rand): bigint {
  switch (int(r, 8)) {
    case 0: return 0n;
    case 1: return BigInt(int(r, 16));
    case 2: return 0xffffffffn;
    case 3: return 0x100000000n + BigInt(int(r, 3));
    case 4: return 0xffffffffffffffffn - BigInt(int(r, 2));
    case 5: return u32(r);
    case 6: return (u32(r) << 32n) | u32(r);
    default: return BigInt(int(r, 3)) << 32n | BigInt(int(r, 4));
  }
}

const OPS: readonly OciSeccompArg['op'][] = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];
const ACTIONS = ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'];
const FAMILY: Record<HostArch, string[]> = { x86_64: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], aarch64: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'] };

function randomAction(r: Rand): { action: string; errnoRet?: number } {
  const action = pick(r, ACTIONS);
  if (action === 'SCMP_ACT_ERRNO') return { action, errnoRet: pick(r, [1, 13, 22, 38, int(r, 4096)]) };
  if (action === 'SCMP_ACT_TRACE') return { action, errnoRet: int(r, 0x10000) };
  return { action };
}
const sameAction = (a: { action: string; errnoRet?: number }, b: { action: string; errnoRet?: number }) => actionRet(a.action, a.errnoRet) === actionRet(b.action, b.errnoRet);

function randomArgs(r: Rand, distinct: boolean): OciSeccompArg[] {
  const n = int(r, 4);
  const used = new Set<number>();
  const out: OciSeccompArg[] = [];
  for (let i = 0; i < n; i++) {
    const index = int(r, 6);
    if (distinct && used.has(index)) continue;
    used.add(index);
    const op = pick(r, OPS);
    const arg: OciSeccompArg = { index, op, value: randomValue(r) };
    if (op === 'SCMP_CMP_MASKED_EQ') arg.valueTwo = r() < 0.5 ? 0n : randomValue(r) & (arg.value as bigint);
    out.push(arg);
  }
  return out;
}

/**
 * A random profile for `host`. `libseccompSafe` keeps to what first-match semantics and
 * libseccomp agree on: one action per syscall, never the default action, distinct argument
 * indexes, and conditional and unconditional rules of a syscall never mixed.
 */
export function randomProfile(r: Rand, host: HostArch, libseccompSafe: boolean): OciSeccomp {
  const family = FAMILY[host];
  const def = randomAction(r);
  const profile: OciSeccomp = { defaultAction: def.action, syscalls: [] };
  if (def.errnoRet !== undefined) profile.defaultErrnoRet = def.errnoRet;
  if (r() < 0.8) profile.architectures = family.filter(() => r() < 0.7);
  if (profile.architectures?.length === 0) profile.architectures = [family[0]];
  const abis = (profile.architectures ?? [family[0]]).map((a) => abiByOciName(a) as Abi);
  const names = [...new Set(abis.flatMap((a) => Object.keys(a.table)))];
  const perName = new Map<string, { action: string; errnoRet?: number; conditional: boolean }>();
  const rules = 1 + int(r, 30);
  for (let i = 0; i < rules; i++) {
    let act = randomAction(r);
    const conditional = r() < 0.5;
    const ruleNames = [...new Set(Array.from({ length: 1 + int(r, 4) }, () => pick(r, names)))].filter((n) => {
      if (!libseccompSafe) return true;
      const seen = perName.get(n);
      return !seen || (seen.conditional && conditional);
    });
    if (libseccompSafe) {
      const first = ruleNames.map((n) => perName.get(n)).find((s) => s !== undefined);
      if (first) act = { action: first.action, errnoRet: first.errnoRet };
      const rest = ruleNames.filter((n) => { const s = perName.get(n); return !s || sameAction(s, act); });
      ruleNames.splice(0, ruleNames.length, ...rest);
      if (sameAction(act, def) || ruleNames.length === 0) continue;
      for (const n of ruleNames) perName.set(n, { ...act, conditional });
    }
    const rule: OciSeccompSyscall = { names: ruleNames, ...act };
    if (conditional) rule.args = randomArgs(r, libseccompSafe);
    if (libseccompSafe && conditional && rule.args?.length === 0) continue;
    if (rule.names.length) profile.syscalls?.push(rule);
  }
  return profile;
}

/** A call to check: arch token, number, arguments. */
export interface TestCall {
  arch: number;
  nr: number;
  args: bigint[];
}

function argsNear(r: Rand, rule: OciSeccompSyscall | undefined): bigint[] {
  const args = Array.from({ length: 6 }, () => (r() < 0.3 ? randomValue(r) : 0n));
  for (const c of rule?.args ?? []) {
    const v = BigInt(c.value);
    const near = [v, v + 1n, v - 1n, v ^ 0x100000000n, BigInt(c.valueTwo ?? 0n), BigInt(c.valueTwo ?? 0) | ~v, randomValue(r)];
    args[c.index] = BigInt.asUintN(64, pick(r, near));
  }
  return args;
}

/**
 * Calls for every rule's syscalls on every ABI of the host (args near the rule's values),
 * random known and unknown numbers, x32 numbers on x86_64, -1, and foreign arches.
 */
export function callsFor(r: Rand, profile: OciSeccomp, host: HostArch, perRule = 4, randoms = 300): TestCall[] {
  const abis = Object.values(ABIS).filter((a) => a.hostArch === host);
  const calls: TestCall[] = [];
  for (const rule of profile.syscalls ?? []) {
    for (const name of rule.names) {
      for (const abi of abis) {
        const nr = abi.table[name];
        if (nr === undefined) continue;
        for (let i = 0; i < perRule; i++) calls.push({ arch: abi.auditArch, nr, args: argsNear(r, pick(r, profile.syscalls ?? [])) });
        for (let i = 0; i < perRule; i++) calls.push({ arch: abi.auditArch, nr, args: argsNear(r, rule) });
      }
    }
  }
  const arches = [...abis.map((a) => a.auditArch), 0xc00000b7, 0x40000028, 0xc000003e, 0x40000003, 0x12345678];
  for (let i = 0; i < randoms; i++) {
    const abi = pick(r, abis);
    const known = [...abi.byNr.keys()];
    const nr = pick(r, [pick(r, known), pick(r, known), abi.maxNr + 1 + int(r, 20), int(r, 1100), 0x40000000 + int(r, 600), -1, int(r, 0x100000000) | 0]);
    calls.push({ arch: r() < 0.8 ? abi.auditArch : pick(r, arches), nr, args: argsNear(r, undefined) });
  }
  return calls;
}
