// Argument comparisons (OCI `args`): validated, values as unsigned 64-bit bigints.
import type { OciSeccompArg } from '../../spec/oci-types.js';
import { jsonPath, type IssueList } from '../../spec/issues.js';
import { SECCOMP_INVALID, SECCOMP_INVALID_ARG, SECCOMP_UNKNOWN_OP } from './issue-codes.js';

/** Comparison operators, as OCI and libseccomp (enum scmp_compare) name them. */
export type SeccompOp = OciSeccompArg['op'];

/** libseccomp's enum scmp_compare numbers, also used by the differential test's line format. */
export const SECCOMP_OPS: Readonly<Record<SeccompOp, number>> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

/**
 * `args[index] <op> value`, unsigned; for SCMP_CMP_MASKED_EQ `(args[index] & value) == valueTwo`.
 * Conditions of one rule are ANDed.
 */
export interface SeccompCondition {
  index: number;
  op: SeccompOp;
  value: bigint;
  valueTwo: bigint;
}

const U64_MAX = (1n << 64n) - 1n;

// JSON numbers above 2^53 have already lost precision, and negative numbers are ambiguous
// (sign-extended to 32 or to 64 bits?): both are errors rather than guesses.
function toU64(v: unknown, path: string, issues: IssueList): bigint | undefined {
  if (typeof v === 'bigint' && v >= 0n && v <= U64_MAX) return v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  const why = typeof v === 'number' && v > Number.MAX_SAFE_INTEGER ? ' (above 2^53: pass it as a bigint)' : '';
  issues.add(SECCOMP_INVALID_ARG, path, `\`${String(v)}\` is not an unsigned 64-bit integer${why}`);
  return undefined;
}

/** Checks one rule's `args`; undefined after adding issues. */
export function normalizeSeccompArgs(args: unknown, base: string, issues: IssueList): SeccompCondition[] | undefined {
  if (args === undefined || args === null) return [];
  if (!Array.isArray(args)) {
    issues.add(SECCOMP_INVALID, base, 'args must be an array');
    return undefined;
  }
  const out: SeccompCondition[] = [];
  let ok = true;
  args.forEach((a: unknown, i: number) => {
    const p = jsonPath(base, i);
    if (typeof a !== 'object' || a === null) {
      ok = false;
      return issues.add(SECCOMP_INVALID, p, 'an argument comparison must be an object');
    }
    const arg = a as Record<string, unknown>;
    const index = arg.index;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 5) {
      ok = false;
      issues.add(SECCOMP_INVALID_ARG, jsonPath(p, 'index'), `argument index \`${String(index)}\` must be 0 to 5`);
    }
    const op = arg.op;
    if (typeof op !== 'string' || !Object.hasOwn(SECCOMP_OPS, op)) {
      ok = false;
      issues.add(SECCOMP_UNKNOWN_OP, jsonPath(p, 'op'), `unknown operator \`${String(op)}\`, expected one of ${Object.keys(SECCOMP_OPS).join(', ')}`);
    }
    const value = toU64(arg.value, jsonPath(p, 'value'), issues);
    const valueTwo = arg.valueTwo === undefined ? 0n : toU64(arg.valueTwo, jsonPath(p, 'valueTwo'), issues);
    if (value === undefined || valueTwo === undefined) ok = false;
    if (ok) out.push({ index: index as number, op: op as SeccompOp, value: value as bigint, valueTwo: valueTwo as bigint });
  });
  return ok ? out : undefined;
}
