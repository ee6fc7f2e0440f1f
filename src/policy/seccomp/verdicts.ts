// What the filter decides for each syscall number of one ABI, as ranges of equal verdicts:
// the input of the binary-search dispatch.
import type { Abi } from './arches.js';
import type { SeccompCondition } from './conditions.js';
import { ENOSYS, SECCOMP_RET_ERRNO } from './constants.js';
import { defaultIsErrno, type NormalizedSeccomp } from './normalize.js';

/** Conditional rules of one syscall, tried in order; `fallback` when none matches. */
export interface RuleChain {
  rules: { conditions: SeccompCondition[]; action: number }[];
  fallback: number;
}

/** A plain return value, or a chain of argument checks. */
export type Verdict = { ret: number; chain?: undefined } | { ret?: undefined; chain: RuleChain };

/** Numbers lo..hi (inclusive, unsigned 32-bit) share `verdict`. */
export interface NrRange {
  lo: number;
  hi: number;
  verdict: Verdict;
}

/**
 * The verdict for a number the tables do not know. With an errno default action it is
 * ENOSYS rather than the profile's errno: the syscall is newer than moat's tables (or was
 * never assigned), and ENOSYS is what libcs take as "fall back to the older call".
 */
export function unknownNrRet(n: NormalizedSeccomp): number {
  return defaultIsErrno(n) ? (SECCOMP_RET_ERRNO | ENOSYS) >>> 0 : n.defaultAction;
}

// First match wins: an unconditional rule ends the chain, later rules are unreachable.
function verdictFor(n: NormalizedSeccomp, name: string): Verdict {
  const rules: RuleChain['rules'] = [];
  for (const r of n.rules) {
    if (!r.names.includes(name)) continue;
    if (r.conditions.length === 0) return rules.length === 0 ? { ret: r.action } : { chain: { rules, fallback: r.action } };
    rules.push({ conditions: r.conditions, action: r.action });
  }
  return rules.length === 0 ? { ret: n.defaultAction } : { chain: { rules, fallback: n.defaultAction } };
}

/** Sorted ranges covering all of `abi.nrSpace`, adjacent equal return values merged. */
export function verdictRanges(n: NormalizedSeccomp, abi: Abi): NrRange[] {
  const [lo, hi] = abi.nrSpace;
  const unknown: Verdict = { ret: unknownNrRet(n) };
  const out: NrRange[] = [];
  const push = (a: number, b: number, v: Verdict) => {
    const last = out[out.length - 1];
    if (last && last.verdict.ret !== undefined && last.verdict.ret === v.ret && last.hi + 1 === a) last.hi = b;
    else out.push({ lo: a, hi: b, verdict: v });
  };
  let next = lo;
  for (const nr of [...abi.byNr.keys()].sort((a, b) => a - b)) {
    if (nr < lo || nr > hi) continue;
    if (nr > next) push(next, nr - 1, unknown);
    push(nr, nr, verdictFor(n, abi.byNr.get(nr) as string));
    next = nr + 1;
  }
  if (next <= hi) push(next, hi, unknown);
  return out;
}
