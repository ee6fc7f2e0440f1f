// OCI `flags` (SECCOMP_FILTER_FLAG_*) to the bits passed to seccomp(SECCOMP_SET_MODE_FILTER).
import { jsonPath, type IssueList } from '../../spec/issues.js';
import {
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_NEW_LISTENER,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_TSYNC_ESRCH,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
} from './constants.js';
import { SECCOMP_INVALID, SECCOMP_NOTIFY, SECCOMP_UNKNOWN_FLAG } from './issue-codes.js';

/** The flags the OCI runtime spec lets a profile name. */
export const SECCOMP_FLAG_BITS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_LOG: SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
};

/**
 * The flag bits; NEW_LISTENER is added when a rule uses SCMP_ACT_NOTIFY. The kernel refuses
 * TSYNC with NEW_LISTENER unless TSYNC_ESRCH is set too, so it is added in that case, and
 * WAIT_KILLABLE_RECV without a listener (EINVAL) is an error here rather than at run time.
 */
export function parseSeccompFlags(flags: unknown, usesNotify: boolean, base: string, issues: IssueList): number | undefined {
  let bits = usesNotify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
  if (flags === undefined || flags === null) return bits;
  if (!Array.isArray(flags)) {
    issues.add(SECCOMP_INVALID, base, 'flags must be an array of strings');
    return undefined;
  }
  let ok = true;
  flags.forEach((f: unknown, i: number) => {
    const bit = typeof f === 'string' && Object.hasOwn(SECCOMP_FLAG_BITS, f) ? SECCOMP_FLAG_BITS[f] : undefined;
    if (bit === undefined) {
      ok = false;
      issues.add(SECCOMP_UNKNOWN_FLAG, jsonPath(base, i), `unknown flag \`${String(f)}\`, expected one of ${Object.keys(SECCOMP_FLAG_BITS).join(', ')}`);
    } else bits |= bit;
  });
  if (bits & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV && !usesNotify) {
    issues.add(SECCOMP_NOTIFY, base, '`SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` needs a rule with `SCMP_ACT_NOTIFY`');
    ok = false;
  }
  if (bits & SECCOMP_FILTER_FLAG_TSYNC && usesNotify) bits |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  return ok ? bits : undefined;
}
