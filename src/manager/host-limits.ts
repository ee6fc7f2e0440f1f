// The host's CPUs and memory, against which --cpus and --memory are checked, and whether the
// caller may set cgroup limits at all (a non-root user only in a cgroup delegated to it).
import { accessSync, constants } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import { cgroupHostInfo } from '../runtime/host.js';
import { isRootless } from '../runtime/rootless.js';
import { log } from '../runtime/log.js';
import { DEFAULT_PIDS, type HostLimits, type SandboxDefinition } from './definition.js';

/** The controllers a sandbox's limits use (pids always, memory and cpu when asked). */
const LIMIT_CONTROLLERS = ['pids', 'memory', 'cpu'];

/** Why a non-root caller cannot make a limited cgroup here, or undefined when it can: its own
 * cgroup must be writable to it in every controller a limit needs. */
export function cgroupLimitsUnavailable(): string | undefined {
  if (!isRootless()) return undefined;
  let host;
  try {
    host = cgroupHostInfo();
  } catch (e) {
    return `no cgroup file system to hold limits (${(e as Error).message})`;
  }
  const dirs = host.mode === 'unified'
    ? [join(host.unified!, host.self[''] ?? '/')]
    : LIMIT_CONTROLLERS.filter((c) => host.v1[c]).map((c) => join(host.v1[c]!, host.self[c] ?? '/'));
  for (const d of dirs) {
    try {
      accessSync(d, constants.W_OK);
    } catch {
      return `cgroup limits need root or a cgroup delegated to you, and your cgroup \`${d}\` is not writable by uid ${process.getuid!()} (cgroup ${host.mode === 'unified' ? 'v2' : 'v1'})`;
    }
  }
  return undefined;
}

/** What this host has, and what this caller may limit. */
export function hostLimits(): HostLimits {
  const rootless = isRootless();
  const no = rootless ? cgroupLimitsUnavailable() : undefined;
  let cgroup2 = false;
  try {
    cgroup2 = cgroupHostInfo().unified !== undefined;
  } catch {
    /* no cgroups at all: refused where they are needed */
  }
  return { cpus: availableParallelism(), memoryBytes: totalmem(), ...(rootless ? { rootless } : {}), ...(no ? { noCgroupLimits: no } : {}), ...(cgroup2 ? { cgroup2 } : {}) };
}

/** Says, at warn level, that a sandbox runs without the default pids limit (rootless on a
 * host that gives the user no cgroup), and what bounds its processes instead. */
export function warnMissingLimits(def: SandboxDefinition): void {
  if (def.limits.pids !== undefined) return;
  const instead = def.userns.mode === 'subids' ? `; RLIMIT_NPROC ${DEFAULT_PIDS} bounds the processes of its root${def.userns.shared ? ' (an id shared by your sandboxes)' : ''}` : '';
  log('warn', `pids: \`${def.name}\` runs without the default limit of ${DEFAULT_PIDS} processes: ${cgroupLimitsUnavailable() ?? 'cgroup limits are unavailable here'}${instead}`);
}
