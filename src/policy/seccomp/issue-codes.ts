// Config issue codes of the seccomp compiler, and which of them are only warnings.
import type { ConfigIssue } from '../../spec/issues.js';

export const SECCOMP_INVALID = 'SECCOMP_INVALID';
export const SECCOMP_UNKNOWN_ACTION = 'SECCOMP_UNKNOWN_ACTION';
export const SECCOMP_UNKNOWN_ARCH = 'SECCOMP_UNKNOWN_ARCH';
export const SECCOMP_NO_ARCH = 'SECCOMP_NO_ARCH';
export const SECCOMP_UNKNOWN_FLAG = 'SECCOMP_UNKNOWN_FLAG';
export const SECCOMP_UNKNOWN_OP = 'SECCOMP_UNKNOWN_OP';
export const SECCOMP_INVALID_ARG = 'SECCOMP_INVALID_ARG';
export const SECCOMP_INVALID_ERRNO = 'SECCOMP_INVALID_ERRNO';
export const SECCOMP_UNKNOWN_SYSCALL = 'SECCOMP_UNKNOWN_SYSCALL';
export const SECCOMP_NO_KNOWN_SYSCALL = 'SECCOMP_NO_KNOWN_SYSCALL';
export const SECCOMP_NOTIFY = 'SECCOMP_NOTIFY';
export const SECCOMP_FILTER_TOO_LARGE = 'SECCOMP_FILTER_TOO_LARGE';

/**
 * Codes that do not stop compilation. A syscall name no table of the profile's
 * architectures knows is a warning: profiles (Docker's among them) name syscalls newer
 * than the kernel or than moat's tables, and runc/crun skip such names too.
 */
export const SECCOMP_WARNING_CODES: ReadonlySet<string> = new Set([SECCOMP_UNKNOWN_SYSCALL]);

/** Splits compiler issues into errors (refuse to run) and warnings (print, go on). */
export function splitSeccompIssues(issues: readonly ConfigIssue[]): { errors: ConfigIssue[]; warnings: ConfigIssue[] } {
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  for (const i of issues) (SECCOMP_WARNING_CODES.has(i.code) ? warnings : errors).push(i);
  return { errors, warnings };
}
