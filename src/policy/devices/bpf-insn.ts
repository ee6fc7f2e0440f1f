// eBPF instruction encoding (struct bpf_insn, 8 bytes little-endian) and the opcodes the device program uses.
// Values from /usr/include/linux/bpf.h and bpf_common.h.

/** Instruction classes. */
export const BPF_LDX = 0x01, BPF_ALU = 0x04, BPF_JMP = 0x05, BPF_JMP32 = 0x06, BPF_ALU64 = 0x07;
/** Sizes and modes for loads. */
export const BPF_W = 0x00, BPF_H = 0x08, BPF_B = 0x10, BPF_DW = 0x18, BPF_MEM = 0x60;
/** Source operand: immediate or register. */
export const BPF_K = 0x00, BPF_X = 0x08;
/** ALU operations. */
export const BPF_ADD = 0x00, BPF_SUB = 0x10, BPF_OR = 0x40, BPF_AND = 0x50, BPF_LSH = 0x60, BPF_RSH = 0x70, BPF_XOR = 0xa0, BPF_MOV = 0xb0;
/** Jump operations. */
export const BPF_JA = 0x00, BPF_JEQ = 0x10, BPF_JGT = 0x20, BPF_JGE = 0x30, BPF_JSET = 0x40, BPF_JNE = 0x50, BPF_EXIT = 0x90;

/** One decoded instruction. */
export interface BpfInsn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

/** Builds an instruction value. */
export function insn(code: number, dst: number, src: number, off: number, imm: number): BpfInsn {
  return { code, dst, src, off, imm };
}

/** Encodes instructions as the bytes of a struct bpf_insn array. */
export function encodeBpf(insns: BpfInsn[]): Uint8Array {
  const out = new Uint8Array(insns.length * 8);
  const view = new DataView(out.buffer);
  insns.forEach((i, n) => {
    view.setUint8(n * 8, i.code);
    view.setUint8(n * 8 + 1, ((i.src & 0xf) << 4) | (i.dst & 0xf));
    view.setInt16(n * 8 + 2, i.off, true);
    view.setInt32(n * 8 + 4, i.imm, true);
  });
  return out;
}

/** Decodes struct bpf_insn bytes. */
export function decodeBpf(bytes: Uint8Array): BpfInsn[] {
  if (bytes.length % 8 !== 0) throw new Error(`bpf program length \`${bytes.length}\` is not a multiple of 8`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: BpfInsn[] = [];
  for (let n = 0; n < bytes.length; n += 8) {
    const regs = view.getUint8(n + 1);
    out.push({ code: view.getUint8(n), dst: regs & 0xf, src: regs >> 4, off: view.getInt16(n + 2, true), imm: view.getInt32(n + 4, true) });
  }
  return out;
}
