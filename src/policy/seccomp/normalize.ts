// Validates an OciSeccomp and resolves it to numbers: the compiler's input, free of names.
import type { OciSeccomp } from '../../spec/oci-types.js';
import { IssueList, jsonPath } from '../../spec/issues.js';
import { isErrnoRet, parseSeccompAction } from './actions.js';
import { abiByOciName, nativeAbi, syscallNumber, type Abi, type HostArch } from './arches.js';
import { normalizeSeccompArgs, type SeccompCondition } from './conditions.js';
import { SECCOMP_RET_USER_NOTIF } from './constants.js';
import { parseSeccompFlags } from './flags.js';
import {
  SECCOMP_INVALID,
  SECCOMP_NO_ARCH,
  SECCOMP_NO_KNOWN_SYSCALL,
  SECCOMP_NOTIFY,
  SECCOMP_UNKNOWN_ARCH,
  SECCOMP_UNKNOWN_SYSCALL,
} from './issue-codes.js';

/** One rule with its action resolved; `names` keeps only well-formed names. */
export interface SeccompRule {
  names: string[];
  action: number;
  conditions: SeccompCondition[];
}

/** A profile checked and resolved for one host. */
export interface NormalizedSeccomp {
  /** ABIs the filter dispatches on: the listed ones that can occur on this host. */
  abis: Abi[];
  defaultAction: number;
  rules: SeccompRule[];
  flags: number;
  usesNotify: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The ABIs a profile names. Without `architectures` (or with an empty list) a profile covers
 * only the native ABI, as libseccomp and runc do. Listed ABIs of another host family are
 * kept for name checks but never compiled: the host cannot produce their audit arch.
 */
function listedAbis(profile: OciSeccomp, host: HostArch, base: string, issues: IssueList): Abi[] {
  const list = profile.architectures;
  if (list === undefined || (Array.isArray(list) && list.length === 0)) return [nativeAbi(host)];
  if (!Array.isArray(list)) {
    issues.add(SECCOMP_INVALID, jsonPath(base, 'architectures'), 'architectures must be an array of strings');
    return [];
  }
  const out: Abi[] = [];
  list.forEach((name, i) => {
    const abi = typeof name === 'string' ? abiByOciName(name) : undefined;
    if (!abi) issues.add(SECCOMP_UNKNOWN_ARCH, jsonPath(jsonPath(base, 'architectures'), i), `unknown architecture \`${String(name)}\`, expected one of SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32, SCMP_ARCH_AARCH64, SCMP_ARCH_ARM`);
    else if (!out.includes(abi)) out.push(abi);
  });
  return out;
}

function normalizeRules(profile: OciSeccomp, listed: Abi[], base: string, issues: IssueList): { rules: SeccompRule[]; known: number } {
  const rules: SeccompRule[] = [];
  let known = 0;
  const syscalls = profile.syscalls ?? [];
  if (!Array.isArray(syscalls)) {
    issues.add(SECCOMP_INVALID, jsonPath(base, 'syscalls'), 'syscalls must be an array');
    return { rules, known };
  }
  syscalls.forEach((sc, i) => {
    const p = jsonPath(jsonPath(base, 'syscalls'), i);
    if (!isObject(sc)) return issues.add(SECCOMP_INVALID, p, 'a syscall rule must be an object');
    const action = parseSeccompAction(sc.action, sc.errnoRet, { action: jsonPath(p, 'action'), errnoRet: jsonPath(p, 'errnoRet') }, issues);
    const conditions = normalizeSeccompArgs(sc.args, jsonPath(p, 'args'), issues);
    if (!Array.isArray(sc.names) || sc.names.length === 0) return issues.add(SECCOMP_INVALID, jsonPath(p, 'names'), 'names must be a non-empty array of syscall names');
    const names: string[] = [];
    sc.names.forEach((name: unknown, j: number) => {
      const np = jsonPath(jsonPath(p, 'names'), j);
      if (typeof name !== 'string' || name === '') return issues.add(SECCOMP_INVALID, np, 'a syscall name must be a non-empty string');
      names.push(name);
      if (listed.some((abi) => syscallNumber(abi, name) !== undefined)) known++;
      else if (listed.length > 0) issues.add(SECCOMP_UNKNOWN_SYSCALL, np, `syscall \`${name}\` is unknown on ${listed.map((a) => a.ociName).join(', ')}: the rule does not apply to it`);
    });
    if (action !== undefined && conditions !== undefined) rules.push({ names, action, conditions });
  });
  return { rules, known };
}

/** Checks `profile` for `host`; the result is defined only when there is no error. */
export function normalizeSeccomp(profile: OciSeccomp, host: HostArch, base: string): { normalized?: NormalizedSeccomp; issues: IssueList } {
  const issues = new IssueList();
  if (!isObject(profile)) {
    issues.add(SECCOMP_INVALID, base, 'seccomp must be an object');
    return { issues };
  }
  const defaultAction = parseSeccompAction(profile.defaultAction, profile.defaultErrnoRet, { action: jsonPath(base, 'defaultAction'), errnoRet: jsonPath(base, 'defaultErrnoRet') }, issues);
  const listed = listedAbis(profile, host, base, issues);
  // Native ABI first: most calls then take one arch comparison.
  const order = ['x86_64', 'aarch64', 'x32', 'x86', 'arm'];
  const abis = listed.filter((a) => a.hostArch === host).sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  if (listed.length > 0 && abis.length === 0) issues.add(SECCOMP_NO_ARCH, jsonPath(base, 'architectures'), `no listed architecture runs on a ${host} host`);
  const { rules, known } = normalizeRules(profile, listed, base, issues);
  if (rules.length > 0 && known === 0) issues.add(SECCOMP_NO_KNOWN_SYSCALL, jsonPath(base, 'syscalls'), 'the profile names no syscall the kernel knows');
  const usesNotify = rules.some((r) => r.action === SECCOMP_RET_USER_NOTIF);
  const flags = parseSeccompFlags(profile.flags, usesNotify, jsonPath(base, 'flags'), issues);
  checkNotify(profile, defaultAction, usesNotify, base, issues);
  if (issues.items.some((i) => i.code !== SECCOMP_UNKNOWN_SYSCALL) || defaultAction === undefined || flags === undefined) return { issues };
  return { normalized: { abis, defaultAction, rules, flags, usesNotify }, issues };
}

/** Syscalls the helper makes between loading a NOTIFY filter and handing its fd over. */
export const NOTIFY_RUNTIME_SYSCALLS: readonly string[] = ['sendmsg'];

// SCMP_ACT_NOTIFY needs somewhere to send the listener fd, and as the default action it
// would stop the helper's own syscalls between seccomp() and execve() (runc refuses it too).
function checkNotify(profile: OciSeccomp, defaultAction: number | undefined, usesNotify: boolean, base: string, issues: IssueList): void {
  if (defaultAction === SECCOMP_RET_USER_NOTIF) issues.add(SECCOMP_NOTIFY, jsonPath(base, 'defaultAction'), '`SCMP_ACT_NOTIFY` cannot be the default action');
  if (usesNotify && !profile.listenerPath) issues.add(SECCOMP_NOTIFY, jsonPath(base, 'listenerPath'), '`SCMP_ACT_NOTIFY` needs listenerPath');
  // The helper sends the listener fd with sendmsg() after the filter is loaded (the fd
  // exists only then): notifying sendmsg would block it before any agent holds the fd.
  if (Array.isArray(profile.syscalls)) profile.syscalls.forEach((r: unknown, i) => {
    if (!isObject(r) || r.action !== 'SCMP_ACT_NOTIFY' || !Array.isArray(r.names)) return;
    r.names.forEach((n: unknown, j) => {
      if (typeof n === 'string' && NOTIFY_RUNTIME_SYSCALLS.includes(n)) issues.add(SECCOMP_NOTIFY, jsonPath(jsonPath(jsonPath(jsonPath(base, 'syscalls'), i), 'names'), j), `\`${n}\` cannot be notified: the runtime sends the listener fd with it, after the filter is loaded`);
    });
  });
  for (const k of ['listenerPath', 'listenerMetadata'] as const) {
    if (profile[k] !== undefined && typeof profile[k] !== 'string') issues.add(SECCOMP_INVALID, jsonPath(base, k), `${k} must be a string`);
  }
}

/** Whether the profile's default action is an errno (then unknown syscalls get ENOSYS). */
export function defaultIsErrno(n: NormalizedSeccomp): boolean {
  return isErrnoRet(n.defaultAction);
}
