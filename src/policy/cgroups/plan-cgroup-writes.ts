// Compiles linux.resources into the ordered cgroup file writes for cgroup v1 or v2.
import type { OciResources } from '../../spec/oci-types.js';
import { jsonPath } from '../../spec/issues.js';
import { PlanContext, type CgroupApi, type CgroupWritePlan } from './cgroup-write.js';
import { planMemory } from './plan-memory.js';
import { planCpu } from './plan-cpu.js';
import { planBlockIO } from './plan-block-io.js';
import { planHugepages, planNetwork, planPids, planRdma } from './plan-small-controllers.js';
import { planUnified } from './plan-unified.js';

/**
 * Plans every linux.resources field except `devices` (see `effectiveDeviceRules`) as cgroup
 * file writes, in the order they must be written.
 * @example planCgroupWrites({ memory: { limit: 1 << 30 } }, 'v2').writes
 *   // [{ controller: 'memory', file: 'memory.max', value: '1073741824', path: 'linux.resources.memory.limit' }]
 */
export function planCgroupWrites(resources: OciResources, mode: CgroupApi, path = 'linux.resources'): CgroupWritePlan {
  const ctx = new PlanContext(mode);
  const p = (k: string) => jsonPath(path, k);
  if (resources.memory) planMemory(ctx, resources.memory, p('memory'));
  if (resources.cpu) planCpu(ctx, resources.cpu, p('cpu'));
  if (resources.pids) planPids(ctx, resources.pids, p('pids'));
  if (resources.blockIO) planBlockIO(ctx, resources.blockIO, p('blockIO'));
  if (resources.hugepageLimits) planHugepages(ctx, resources.hugepageLimits, p('hugepageLimits'));
  if (resources.network) planNetwork(ctx, resources.network, p('network'));
  if (resources.rdma) planRdma(ctx, resources.rdma, p('rdma'));
  if (resources.unified) planUnified(ctx, resources.unified, p('unified'));
  return { writes: ctx.writes, issues: ctx.issues.items, notes: ctx.notes.items };
}
