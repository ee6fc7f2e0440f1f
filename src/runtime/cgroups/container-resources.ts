// The `update` and `events` verbs on a container by ID: live limit changes that the state
// record remembers, and its usage and OOM kills. (Not in index.ts: it reads container state,
// which sits above the cgroup layer.)
import type { OciResources } from '../../spec/oci-types.js';
import type { ConfigIssue } from '../../spec/issues.js';
import { mergeResources, planResourcesUpdate } from '../../policy/cgroups/update-resources.js';
import { RuntimeError } from '../errors.js';
import { statusOf } from '../lifecycle.js';
import { StateStore, type ContainerRecord } from '../state.js';
import type { ContainerCgroup } from './cgroup-types.js';
import { readCgroupStats, readOomCount, type CgroupStats } from './read-cgroup-stats.js';
import { updateContainerCgroup } from './update-container-cgroup.js';

function cgroupOf(rec: ContainerRecord): ContainerCgroup {
  const cg = rec.cgroup as ContainerCgroup | undefined;
  if (!cg) throw new RuntimeError('ERR_UNSUPPORTED', `container \`${rec.id}\` has no cgroup`);
  return cg;
}

/**
 * Applies `patch` to a created, running or paused container's cgroup and stores the merged
 * resources in its record, under the container's lock. Returns notes (downgrades, ignored
 * fields); throws ConfigError before writing anything if a value is refused.
 */
export async function updateContainerResources(root: string, id: string, patch: OciResources, opts: { bestEffort?: boolean } = {}): Promise<ConfigIssue[]> {
  const store = new StateStore(root);
  const release = await store.lock(id);
  try {
    const rec = store.read(id);
    const status = statusOf(store, rec);
    if (status === 'stopped') throw new RuntimeError('ERR_NOT_RUNNING', `container \`${id}\` is stopped`);
    const stored = rec.spec.linux?.resources ?? {};
    const { apply, notes } = planResourcesUpdate(stored, patch);
    const applied = updateContainerCgroup(cgroupOf(rec), apply, opts);
    // the kernel holds the new values now: remember them, so `state` and later updates agree
    store.write({ ...rec, spec: { ...rec.spec, linux: { ...rec.spec.linux, resources: mergeResources(stored, apply) } } });
    return [...notes, ...applied];
  } finally {
    release();
  }
}

/** A container's cgroup, status and current OOM kill count, for `events`. */
export interface ContainerUsage {
  status: ReturnType<typeof statusOf>;
  stats: CgroupStats;
  oomKills: number;
}

/** Reads a container's usage now; `undefined` once it is gone (deleted). */
export function readContainerUsage(root: string, id: string): ContainerUsage | undefined {
  const store = new StateStore(root);
  let rec: ContainerRecord;
  try {
    rec = store.read(id);
  } catch (e) {
    if ((e as RuntimeError).code === 'ERR_NOT_FOUND') return undefined;
    throw e;
  }
  const cg = cgroupOf(rec);
  return { status: statusOf(store, rec), stats: readCgroupStats(cg), oomKills: readOomCount(cg) };
}
