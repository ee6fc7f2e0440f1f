// Compiles a device rule list into a BPF_PROG_TYPE_CGROUP_DEVICE program (the cgroup v2 device controller).
import type { OciDeviceCgroup } from '../../spec/oci-types.js';
import {
  BPF_ALU64, BPF_AND, BPF_EXIT, BPF_JEQ, BPF_JMP, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_K, BPF_LDX, BPF_MEM,
  BPF_MOV, BPF_RSH, BPF_W, BPF_X, encodeBpf, insn, type BpfInsn,
} from './bpf-insn.js';
import { DEVCG_DEV, normalizeDeviceRule } from './device-rule-match.js';

// registers: r1 ctx, r3 device type, r4 requested access, r5 major, r6 minor, r7 access bits not yet decided
const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5, R6 = 6, R7 = 7;

const PROLOGUE: BpfInsn[] = [
  insn(BPF_LDX | BPF_W | BPF_MEM, R2, R1, 0, 0), // access_type = (access << 16) | type
  insn(BPF_LDX | BPF_W | BPF_MEM, R5, R1, 4, 0), // major
  insn(BPF_LDX | BPF_W | BPF_MEM, R6, R1, 8, 0), // minor
  insn(BPF_ALU64 | BPF_MOV | BPF_X, R3, R2, 0, 0),
  insn(BPF_ALU64 | BPF_AND | BPF_K, R3, 0, 0, 0xffff),
  insn(BPF_ALU64 | BPF_MOV | BPF_X, R4, R2, 0, 0),
  insn(BPF_ALU64 | BPF_RSH | BPF_K, R4, 0, 0, 16),
  insn(BPF_ALU64 | BPF_MOV | BPF_X, R7, R4, 0, 0),
];

/**
 * Returns the eBPF program (struct bpf_insn bytes) implementing `rules` with the semantics of
 * `deviceRulesAllow`: default deny; for each requested access bit the last rule covering the
 * device and naming the bit decides. The rules are scanned last to first; an allow rule clears
 * its bits from r7 (all cleared: allow), a deny rule naming an undecided bit denies at once.
 * Load as BPF_PROG_TYPE_CGROUP_DEVICE with license `GPL`.
 */
export function compileDeviceBpf(rules: OciDeviceCgroup[]): Uint8Array {
  const out: BpfInsn[] = [...PROLOGUE];
  const toDeny: number[] = [out.length];
  out.push(insn(BPF_JMP | BPF_JEQ | BPF_K, R7, 0, 0, 0)); // nothing requested: deny
  const toAllow: number[] = [];
  for (const rule of rules.map(normalizeDeviceRule).reverse()) {
    if (rule.access === 0) continue; // names no access: never decides anything
    const checks: [number, number][] = [];
    if (rule.type !== 'a') checks.push([R3, DEVCG_DEV[rule.type]]);
    if (rule.major !== null) checks.push([R5, checkU32(rule.major)]);
    if (rule.minor !== null) checks.push([R6, checkU32(rule.minor)]);
    const bodyLen = rule.allow ? 2 : 1;
    checks.forEach(([reg, value], i) => {
      // JMP32 compares the low 32 bits, so numbers >= 2^31 (imm is an s32) still compare exactly
      out.push(insn(BPF_JMP32 | BPF_JNE | BPF_K, reg, 0, checks.length - 1 - i + bodyLen, value | 0));
    });
    if (rule.allow) {
      out.push(insn(BPF_ALU64 | BPF_AND | BPF_K, R7, 0, 0, ~rule.access));
      toAllow.push(out.length);
      out.push(insn(BPF_JMP | BPF_JEQ | BPF_K, R7, 0, 0, 0));
    } else {
      toDeny.push(out.length);
      out.push(insn(BPF_JMP | BPF_JSET | BPF_K, R7, 0, 0, rule.access));
    }
  }
  const deny = out.length;
  out.push(insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 0), insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  const allow = out.length;
  out.push(insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, 1), insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  for (const [list, target] of [[toDeny, deny], [toAllow, allow]] as const) {
    for (const at of list) out[at]!.off = jumpOffset(at, target);
  }
  return encodeBpf(out);
}

function checkU32(v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`device number \`${v}\` is not a u32`);
  return v;
}

function jumpOffset(from: number, to: number): number {
  const off = to - from - 1;
  if (off > 0x7fff) throw new RangeError(`device rule list too long: jump of \`${off}\` instructions`);
  return off;
}
