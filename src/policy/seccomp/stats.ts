// seccompStats: how big a filter is and how many instructions a syscall mix costs.
import { emulateSeccomp, type SeccompCall } from './emulator.js';

/** One entry of a syscall mix; `weight` defaults to 1. */
export interface SeccompMixEntry extends SeccompCall {
  weight?: number;
}

/** Size of a filter and the weighted mean of instructions executed per call of `mix`. */
export function seccompStats(filter: Uint8Array, mix: readonly SeccompMixEntry[]): { instructions: number; avgExecuted: number; maxExecuted: number } {
  let total = 0;
  let weights = 0;
  let max = 0;
  for (const call of mix) {
    const w = call.weight ?? 1;
    const { steps } = emulateSeccomp(filter, call);
    total += steps * w;
    weights += w;
    max = Math.max(max, steps);
  }
  return { instructions: filter.length / 8, avgExecuted: weights ? total / weights : 0, maxExecuted: max };
}
