// A tiny classic-BPF assembler: symbolic forward labels in, struct sock_filter[] bytes out.
// cBPF conditional jumps have 8-bit offsets (at most 255 forward); a jump whose target is
// further away goes through a BPF_JA trampoline, whose offset is 32 bits.
import { BPF_ABS, BPF_ALU, BPF_AND, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_RET, BPF_W } from './constants.js';

/** A label: an index into the program's label table. */
export type Label = number;

export type JumpCond = 'jeq' | 'jgt' | 'jge' | 'jset';

/** One instruction, or a label's position. */
export type BpfIns =
  | { op: 'ld'; k: number }
  | { op: 'and'; k: number }
  | { op: 'ret'; k: number }
  | { op: 'jmp'; cond: JumpCond; k: number; t: Label; f: Label }
  | { op: 'ja'; to: Label }
  | { op: 'label'; label: Label };

const JMP_CODES: Readonly<Record<JumpCond, number>> = { jeq: BPF_JEQ, jgt: BPF_JGT, jge: BPF_JGE, jset: BPF_JSET };
const MAX_JUMP = 255;

/** Builds an instruction list with labels. */
export class BpfBuilder {
  readonly ins: BpfIns[] = [];
  private labels = 0;
  label(): Label {
    return this.labels++;
  }
  place(label: Label): void {
    this.ins.push({ op: 'label', label });
  }
  ld(k: number): void {
    this.ins.push({ op: 'ld', k });
  }
  and(k: number): void {
    this.ins.push({ op: 'and', k });
  }
  ret(k: number): void {
    this.ins.push({ op: 'ret', k });
  }
  jmp(cond: JumpCond, k: number, t: Label, f: Label): void {
    this.ins.push({ op: 'jmp', cond, k, t, f });
  }
  ja(to: Label): void {
    this.ins.push({ op: 'ja', to });
  }
}

type Far = { t: boolean; f: boolean };

function layout(ins: BpfIns[], far: Far[]): { pos: number[]; labelPos: Map<Label, number>; length: number } {
  const pos: number[] = [];
  const labelPos = new Map<Label, number>();
  let pc = 0;
  ins.forEach((x, i) => {
    pos.push(pc);
    if (x.op === 'label') labelPos.set(x.label, pc);
    else if (x.op === 'jmp') pc += 1 + (far[i].t ? 1 : 0) + (far[i].f ? 1 : 0);
    else pc += 1;
  });
  return { pos, labelPos, length: pc };
}

function target(labelPos: Map<Label, number>, label: Label, from: number): number {
  const at = labelPos.get(label);
  if (at === undefined) throw new Error(`bpf: label ${label} never placed`);
  if (at < from) throw new Error(`bpf: backward jump to label ${label}`);
  return at - from;
}

// Offsets of a conditional jump at `pc`. Trampolines sit right after it:
// [jcc][ja t]?[ja f]?, and the jcc then jumps to its trampoline instead of the label.
function offsets(labelPos: Map<Label, number>, x: { t: Label; f: Label }, far: Far, pc: number): { jt: number; jf: number } {
  const jt = far.t ? 0 : target(labelPos, x.t, pc + 1);
  const jf = far.f ? (far.t ? 1 : 0) : target(labelPos, x.f, pc + 1);
  return { jt, jf };
}

/** Resolves labels, inserting trampolines until every offset fits; returns the bytes. */
export function assembleBpf(ins: BpfIns[]): Uint8Array {
  const far: Far[] = ins.map(() => ({ t: false, f: false }));
  let l = layout(ins, far);
  for (let changed = true; changed; ) {
    changed = false;
    ins.forEach((x, i) => {
      if (x.op !== 'jmp') return;
      const { jt, jf } = offsets(l.labelPos, x, far[i], l.pos[i]);
      if (jt > MAX_JUMP) (far[i].t = true), (changed = true);
      if (jf > MAX_JUMP) (far[i].f = true), (changed = true);
    });
    if (changed) l = layout(ins, far);
  }
  const out = new Uint8Array(l.length * 8);
  const view = new DataView(out.buffer);
  let pc = 0;
  const put = (code: number, jt: number, jf: number, k: number) => {
    view.setUint16(pc * 8, code, true);
    view.setUint8(pc * 8 + 2, jt);
    view.setUint8(pc * 8 + 3, jf);
    view.setUint32(pc * 8 + 4, k >>> 0, true);
    pc++;
  };
  ins.forEach((x, i) => {
    switch (x.op) {
      case 'label':
        return;
      case 'ld':
        return put(BPF_LD | BPF_W | BPF_ABS, 0, 0, x.k);
      case 'and':
        return put(BPF_ALU | BPF_AND | BPF_K, 0, 0, x.k);
      case 'ret':
        return put(BPF_RET | BPF_K, 0, 0, x.k);
      case 'ja':
        return put(BPF_JMP | BPF_JA, 0, 0, target(l.labelPos, x.to, pc + 1));
      case 'jmp': {
        const { t, f } = far[i];
        const { jt, jf } = offsets(l.labelPos, x, far[i], pc);
        put(BPF_JMP | JMP_CODES[x.cond] | BPF_K, jt, jf, x.k);
        if (t) put(BPF_JMP | BPF_JA, 0, 0, target(l.labelPos, x.t, pc + 1));
        if (f) put(BPF_JMP | BPF_JA, 0, 0, target(l.labelPos, x.f, pc + 1));
        return;
      }
    }
  });
  return out;
}
