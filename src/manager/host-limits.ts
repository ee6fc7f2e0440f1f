// The host's CPUs and memory, against which --cpus and --memory are checked.
import { availableParallelism, totalmem } from 'node:os';
import type { HostLimits } from './definition.js';

/** What this host has. */
export function hostLimits(): HostLimits {
  return { cpus: availableParallelism(), memoryBytes: totalmem() };
}
