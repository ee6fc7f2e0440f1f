// OCI action names (SCMP_ACT_*) to the SECCOMP_RET_* value a filter returns.
import type { IssueList } from '../../spec/issues.js';
import {
  EPERM,
  MAX_ERRNO,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP,
  SECCOMP_RET_USER_NOTIF,
} from './constants.js';
import { SECCOMP_INVALID_ERRNO, SECCOMP_UNKNOWN_ACTION } from './issue-codes.js';

/** Actions without data, by OCI name. SCMP_ACT_KILL is KILL_THREAD, as in libseccomp. */
const PLAIN_ACTIONS: Readonly<Record<string, number>> = {
  SCMP_ACT_KILL: SECCOMP_RET_KILL_THREAD,
  SCMP_ACT_KILL_THREAD: SECCOMP_RET_KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: SECCOMP_RET_KILL_PROCESS,
  SCMP_ACT_TRAP: SECCOMP_RET_TRAP,
  SCMP_ACT_ALLOW: SECCOMP_RET_ALLOW,
  SCMP_ACT_LOG: SECCOMP_RET_LOG,
  SCMP_ACT_NOTIFY: SECCOMP_RET_USER_NOTIF,
};

/** Actions carrying 16 bits of data: the errno, or the tracer's message. */
const DATA_ACTIONS: Readonly<Record<string, { base: number; max: number }>> = {
  SCMP_ACT_ERRNO: { base: SECCOMP_RET_ERRNO, max: MAX_ERRNO },
  SCMP_ACT_TRACE: { base: SECCOMP_RET_TRACE, max: 0xffff },
};

/** Every action name compileSeccomp accepts. */
export const SECCOMP_ACTION_NAMES: readonly string[] = [...Object.keys(PLAIN_ACTIONS), ...Object.keys(DATA_ACTIONS)];

/**
 * The return value for `name` with an optional errnoRet (EPERM when absent, as runc does
 * for both ERRNO and TRACE). An errnoRet on an action without data is an error rather than
 * silently ignored. Returns undefined after adding an issue.
 */
export function parseSeccompAction(
  name: unknown,
  errnoRet: unknown,
  paths: { action: string; errnoRet: string },
  issues: IssueList,
): number | undefined {
  if (typeof name !== 'string' || !(name in PLAIN_ACTIONS || name in DATA_ACTIONS)) {
    issues.add(SECCOMP_UNKNOWN_ACTION, paths.action, `unknown action \`${String(name)}\`, expected one of ${SECCOMP_ACTION_NAMES.join(', ')}`);
    return undefined;
  }
  const data = DATA_ACTIONS[name];
  if (!data) {
    if (errnoRet !== undefined) {
      issues.add(SECCOMP_INVALID_ERRNO, paths.errnoRet, `errnoRet is only valid with \`SCMP_ACT_ERRNO\` or \`SCMP_ACT_TRACE\`, not \`${name}\``);
      return undefined;
    }
    return PLAIN_ACTIONS[name];
  }
  const value = errnoRet ?? EPERM;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > data.max) {
    issues.add(SECCOMP_INVALID_ERRNO, paths.errnoRet, `errnoRet \`${String(value)}\` must be an integer from 0 to ${data.max}`);
    return undefined;
  }
  return (data.base | value) >>> 0;
}

/** Whether a return value is SECCOMP_RET_ERRNO (of any errno). */
export function isErrnoRet(ret: number): boolean {
  return (ret & 0xffff0000) >>> 0 === SECCOMP_RET_ERRNO;
}
