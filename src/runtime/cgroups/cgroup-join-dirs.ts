// The dirs the helper joins before cloning the container.
import type { ContainerCgroup } from './cgroup-types.js';

/** Distinct dirs whose `cgroup.procs` the helper writes its own pid into (comounted controllers share one). */
export function cgroupJoinDirs(cg: ContainerCgroup): string[] {
  return [...new Set(Object.values(cg.dirs))];
}
