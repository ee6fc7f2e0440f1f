// seccompFeatures: what this compiler supports, for `moat-oci features` (OCI features.json).
import { SECCOMP_ACTION_NAMES } from './actions.js';
import { ABIS, type HostArch } from './arches.js';
import { SECCOMP_OPS } from './conditions.js';
import { SECCOMP_FLAG_BITS } from './flags.js';

/**
 * The seccomp names compileSeccomp accepts. What the running kernel supports is a host
 * question (seccomp(SECCOMP_GET_ACTION_AVAIL)); the runtime intersects the two.
 */
export function seccompFeatures(): { actions: string[]; archs: string[]; flags: string[]; operators: string[] } {
  return {
    actions: [...SECCOMP_ACTION_NAMES].sort(),
    archs: Object.values(ABIS).map((a) => a.ociName).sort(),
    flags: Object.keys(SECCOMP_FLAG_BITS).sort(),
    operators: Object.keys(SECCOMP_OPS).sort(),
  };
}

/** What the running kernel says about seccomp, read by the runtime layer. */
export interface SeccompHost {
  /** /proc/sys/kernel/seccomp/actions_avail split on spaces; undefined: no seccomp filter */
  actionsAvail?: string[];
  /** [major, minor] of the running kernel */
  kernelVersion: [number, number];
  hostArch: HostArch;
}

/** The kernel's name (actions_avail) for each OCI action. */
const KERNEL_ACTION: Readonly<Record<string, string>> = {
  SCMP_ACT_KILL: 'kill_thread', SCMP_ACT_KILL_THREAD: 'kill_thread', SCMP_ACT_KILL_PROCESS: 'kill_process',
  SCMP_ACT_TRAP: 'trap', SCMP_ACT_ERRNO: 'errno', SCMP_ACT_TRACE: 'trace', SCMP_ACT_LOG: 'log',
  SCMP_ACT_ALLOW: 'allow', SCMP_ACT_NOTIFY: 'user_notif',
};

/** The kernel release that added each filter flag (seccomp(2)). */
const FLAG_SINCE: Readonly<Record<string, [number, number]>> = {
  SECCOMP_FILTER_FLAG_TSYNC: [3, 17], SECCOMP_FILTER_FLAG_LOG: [4, 14],
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: [4, 17], SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: [5, 19],
};

/**
 * The `linux.seccomp` object of the OCI features document: what this build compiles,
 * intersected with what the kernel runs. `archs` are the ABIs a profile may list;
 * `enforcedArchs` those the filter checks on this host (the others are accepted and left
 * out, their audit arch never occurs here).
 */
export function seccompFeaturesFor(host: SeccompHost): {
  enabled: boolean; actions: string[]; operators: string[]; archs: string[]; knownFlags: string[]; supportedFlags: string[]; enforcedArchs: string[];
} {
  const f = seccompFeatures();
  const avail = new Set(host.actionsAvail ?? []);
  const [maj, min] = host.kernelVersion;
  const enabled = host.actionsAvail !== undefined;
  return {
    enabled,
    actions: f.actions.filter((a) => avail.has(KERNEL_ACTION[a] ?? '')),
    operators: f.operators,
    archs: f.archs,
    knownFlags: f.flags,
    supportedFlags: enabled ? f.flags.filter((n) => { const s = FLAG_SINCE[n]; return !!s && (maj > s[0] || (maj === s[0] && min >= s[1])); }) : [],
    enforcedArchs: Object.values(ABIS).filter((a) => a.hostArch === host.hostArch).map((a) => a.ociName).sort(),
  };
}
