// seccompFeatures: what this compiler supports, for `moat-oci features` (OCI features.json).
import { SECCOMP_ACTION_NAMES } from './actions.js';
import { ABIS } from './arches.js';
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
