// A classic-BPF interpreter over struct seccomp_data: runs a filter the way the kernel
// would and counts the instructions executed. Used by the tests and the benchmarks.
import {
  BPF_A, BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_DIV, BPF_IMM, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET,
  BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH, BPF_MEM, BPF_MEMWORDS, BPF_MISC, BPF_MOD, BPF_MUL, BPF_NEG, BPF_OR, BPF_RET,
  BPF_RSH, BPF_ST, BPF_STX, BPF_SUB, BPF_TAX, BPF_TXA, BPF_W, BPF_X, BPF_XOR, SECCOMP_DATA_ARGS, SECCOMP_DATA_SIZE,
} from './constants.js';

/** The fields of struct seccomp_data a call is made of; `nr` may be negative (-1). */
export interface SeccompCall {
  arch: number;
  nr: number;
  args?: bigint[];
  ip?: bigint;
}

function seccompData(d: SeccompCall): DataView {
  const v = new DataView(new ArrayBuffer(SECCOMP_DATA_SIZE));
  v.setUint32(0, d.nr >>> 0, true);
  v.setUint32(4, d.arch >>> 0, true);
  v.setBigUint64(8, BigInt.asUintN(64, d.ip ?? 0n), true);
  (d.args ?? []).slice(0, 6).forEach((a, i) => v.setBigUint64(SECCOMP_DATA_ARGS + 8 * i, BigInt.asUintN(64, a), true));
  return v;
}

function alu(op: number, a: number, x: number): number {
  switch (op) {
    case BPF_ADD: return (a + x) >>> 0;
    case BPF_SUB: return (a - x) >>> 0;
    case BPF_MUL: return Math.imul(a, x) >>> 0;
    case BPF_DIV: if (x === 0) throw new Error('bpf: division by zero'); return Math.floor(a / x) >>> 0;
    case BPF_MOD: if (x === 0) throw new Error('bpf: division by zero'); return a % x >>> 0;
    case BPF_OR: return (a | x) >>> 0;
    case BPF_AND: return (a & x) >>> 0;
    case BPF_XOR: return (a ^ x) >>> 0;
    case BPF_LSH: return x >= 32 ? 0 : (a << x) >>> 0;
    case BPF_RSH: return x >= 32 ? 0 : a >>> x;
    case BPF_NEG: return -a >>> 0;
  }
  throw new Error(`bpf: bad alu op 0x${op.toString(16)}`);
}

/**
 * Runs `filter` on one call; `ret` is the SECCOMP_RET_* value, `steps` the instructions
 * executed. Throws on what the kernel's checker would refuse (bad opcode, load outside
 * seccomp_data, jump out of the program, falling off the end).
 */
export function emulateSeccomp(filter: Uint8Array, data: SeccompCall): { ret: number; steps: number } {
  const prog = new DataView(filter.buffer, filter.byteOffset, filter.byteLength);
  const n = filter.byteLength / 8;
  const mem = new Uint32Array(BPF_MEMWORDS);
  const d = seccompData(data);
  let a = 0;
  let x = 0;
  let steps = 0;
  for (let pc = 0; pc < n; pc++) {
    steps++;
    const code = prog.getUint16(pc * 8, true);
    const jt = prog.getUint8(pc * 8 + 2);
    const jf = prog.getUint8(pc * 8 + 3);
    const k = prog.getUint32(pc * 8 + 4, true);
    const src = code & BPF_X ? x : k;
    switch (code & 0x07) {
      case BPF_LD:
      case BPF_LDX: {
        const mode = code & 0xe0;
        let val: number;
        if (mode === BPF_ABS && (code & 0x18) === BPF_W && (code & 0x07) === BPF_LD) {
          if (k % 4 !== 0 || k + 4 > SECCOMP_DATA_SIZE) throw new Error(`bpf: load outside seccomp_data at ${k}`);
          val = d.getUint32(k, true);
        } else if (mode === BPF_IMM) val = k;
        else if (mode === BPF_MEM && k < BPF_MEMWORDS) val = mem[k];
        else if (mode === BPF_LEN) val = SECCOMP_DATA_SIZE;
        else throw new Error(`bpf: bad load 0x${code.toString(16)} at ${pc}`);
        if ((code & 0x07) === BPF_LD) a = val;
        else x = val;
        break;
      }
      case BPF_ST:
      case BPF_STX: {
        if (k >= BPF_MEMWORDS) throw new Error(`bpf: bad scratch slot ${k}`);
        mem[k] = (code & 0x07) === BPF_ST ? a : x;
        break;
      }
      case BPF_ALU:
        a = alu(code & 0xf0, a, src);
        break;
      case BPF_JMP: {
        const op = code & 0xf0;
        if (op === BPF_JA) pc += k;
        else {
          const taken = op === BPF_JEQ ? a === src : op === BPF_JGT ? a > src : op === BPF_JGE ? a >= src : op === BPF_JSET ? (a & src) !== 0 : undefined;
          if (taken === undefined) throw new Error(`bpf: bad jump 0x${code.toString(16)} at ${pc}`);
          pc += taken ? jt : jf;
        }
        if (pc + 1 >= n) throw new Error(`bpf: jump out of the program at ${pc}`);
        break;
      }
      case BPF_RET:
        return { ret: ((code & 0x18) === BPF_A ? a : k) >>> 0, steps };
      case BPF_MISC:
        if ((code & 0xf8) === BPF_TAX) x = a;
        else if ((code & 0xf8) === BPF_TXA) a = x;
        else throw new Error(`bpf: bad misc 0x${code.toString(16)}`);
        break;
    }
  }
  throw new Error('bpf: fell off the end of the program');
}

