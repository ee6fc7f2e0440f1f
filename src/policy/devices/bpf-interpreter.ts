// A small eBPF interpreter for the instructions moat emits, so programs can be tested without the kernel.
import {
  BPF_ADD, BPF_ALU, BPF_ALU64, BPF_AND, BPF_B, BPF_DW, BPF_EXIT, BPF_H, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT,
  BPF_JMP, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_LDX, BPF_LSH, BPF_MEM, BPF_MOV, BPF_OR, BPF_RSH, BPF_SUB, BPF_W,
  BPF_X, BPF_XOR, decodeBpf,
} from './bpf-insn.js';

const U64 = (1n << 64n) - 1n;
const U32 = (1n << 32n) - 1n;
const CTX_BASE = 0x10000n;

function alu(op: number, a: bigint, b: bigint, mask: bigint): bigint {
  switch (op) {
    case BPF_ADD: return (a + b) & mask;
    case BPF_SUB: return (a - b) & mask;
    case BPF_OR: return a | b;
    case BPF_AND: return a & b;
    case BPF_XOR: return a ^ b;
    case BPF_LSH: return (a << (b & (mask === U64 ? 63n : 31n))) & mask;
    case BPF_RSH: return a >> (b & (mask === U64 ? 63n : 31n));
    case BPF_MOV: return b;
    default: throw new Error(`bpf interpreter: unsupported alu op \`0x${op.toString(16)}\``);
  }
}

function jumps(op: number, a: bigint, b: bigint): boolean {
  switch (op) {
    case BPF_JA: return true;
    case BPF_JEQ: return a === b;
    case BPF_JNE: return a !== b;
    case BPF_JGT: return a > b;
    case BPF_JGE: return a >= b;
    case BPF_JSET: return (a & b) !== 0n;
    default: throw new Error(`bpf interpreter: unsupported jump op \`0x${op.toString(16)}\``);
  }
}

const SIZE: Record<number, number> = { [BPF_W]: 4, [BPF_H]: 2, [BPF_B]: 1, [BPF_DW]: 8 };

/** Runs `program` with r1 pointing at `ctx` (read-only bytes) and returns r0; throws on anything unexpected. */
export function runBpf(program: Uint8Array, ctx: Uint8Array, maxSteps = 100_000): bigint {
  const insns = decodeBpf(program);
  const r = new Array<bigint>(11).fill(0n);
  r[1] = CTX_BASE;
  const view = new DataView(ctx.buffer, ctx.byteOffset, ctx.byteLength);
  for (let pc = 0, steps = 0; ; pc++, steps++) {
    const i = insns[pc];
    if (!i) throw new Error(`bpf interpreter: pc \`${pc}\` outside the program`);
    if (steps > maxSteps) throw new Error('bpf interpreter: step limit');
    const cls = i.code & 0x07, op = i.code & 0xf0;
    const imm64 = BigInt.asUintN(64, BigInt(i.imm)); // imm is sign-extended to 64 bits
    if (cls === BPF_ALU64 || cls === BPF_ALU) {
      const mask = cls === BPF_ALU64 ? U64 : U32;
      const b = (i.code & BPF_X ? r[i.src]! : imm64) & mask;
      r[i.dst] = alu(op, r[i.dst]! & mask, b, mask);
    } else if (cls === BPF_JMP || cls === BPF_JMP32) {
      if (op === BPF_EXIT && cls === BPF_JMP) return r[0]!;
      const mask = cls === BPF_JMP ? U64 : U32;
      const b = (i.code & BPF_X ? r[i.src]! : imm64) & mask;
      if (jumps(op, r[i.dst]! & mask, b)) pc += i.off;
    } else if (cls === BPF_LDX && (i.code & 0xe0) === BPF_MEM) {
      const size = SIZE[i.code & 0x18]!;
      const at = Number(r[i.src]! - CTX_BASE) + i.off;
      if (r[i.src]! < CTX_BASE || at < 0 || at + size > ctx.byteLength) throw new Error(`bpf interpreter: load outside ctx at \`${at}\``);
      r[i.dst] = size === 8 ? view.getBigUint64(at, true) : BigInt(size === 4 ? view.getUint32(at, true) : size === 2 ? view.getUint16(at, true) : view.getUint8(at));
    } else {
      throw new Error(`bpf interpreter: unsupported opcode \`0x${i.code.toString(16)}\``);
    }
  }
}

/** Builds a struct bpf_cgroup_dev_ctx: `access_type = (access << 16) | type`, major, minor. */
export function deviceCtx(type: number, access: number, major: number, minor: number): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  v.setUint32(0, ((access << 16) | type) >>> 0, true);
  v.setUint32(4, major >>> 0, true);
  v.setUint32(8, minor >>> 0, true);
  return b;
}
