// What `update` applies and remembers: the shape check of a linux.resources document, the
// patch applied live, and the stored resources merged with it.
import type { OciResources } from '../../spec/oci-types.js';
import { IssueList, jsonPath, type ConfigIssue } from '../../spec/issues.js';

type Shape = 'object' | 'array' | 'map';
const SHAPES: Record<keyof OciResources, Shape> = {
  devices: 'array', memory: 'object', cpu: 'object', pids: 'object', blockIO: 'object',
  hugepageLimits: 'array', network: 'object', rdma: 'map', unified: 'map',
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks that a document is a linux.resources object: known keys with the right container
 * types. Values are checked later, by `planCgroupWrites`, with the same paths.
 */
export function checkResourcesDocument(doc: unknown, path = 'linux.resources'): ConfigIssue[] {
  const issues = new IssueList();
  if (!isObject(doc)) {
    issues.add('ERR_RESOURCES', path, 'must be a JSON object');
    return issues.items;
  }
  for (const [k, v] of Object.entries(doc)) {
    const shape = SHAPES[k as keyof OciResources];
    const p = jsonPath(path, k);
    if (!shape) issues.add('ERR_RESOURCES', p, `unknown field \`${k}\``);
    else if (v === null) continue;
    else if (shape === 'array' ? !Array.isArray(v) : !isObject(v)) issues.add('ERR_RESOURCES', p, `must be ${shape === 'array' ? 'an array' : 'an object'}`);
  }
  return issues.items;
}

/** A resources update: what to write now, and notes about fields `update` does not change. */
export interface ResourcesUpdate {
  apply: OciResources;
  notes: ConfigIssue[];
}

/**
 * Plans an update of `stored` (the container's current linux.resources) by `patch`. Device
 * rules are fixed at create: a different `devices` list is reported, not applied (containerd
 * sends the whole resources object, devices included). When only the memory limit changes,
 * the stored memory+swap limit goes with it so the pair is checked and ordered together.
 * @example planResourcesUpdate({ memory: { limit: 1, swap: 2 } }, { memory: { limit: 2 } }).apply
 *   // { memory: { limit: 2, swap: 2 } }
 */
export function planResourcesUpdate(stored: OciResources, patch: OciResources, path = 'linux.resources'): ResourcesUpdate {
  const notes = new IssueList();
  const apply: OciResources = { ...patch };
  delete apply.devices;
  if (patch.devices != null && JSON.stringify(patch.devices) !== JSON.stringify(stored.devices ?? [])) {
    notes.add('CGROUP_IGNORED', jsonPath(path, 'devices'), 'ignored: device rules are fixed when the container is created');
  }
  for (const k of Object.keys(apply) as (keyof OciResources)[]) if (apply[k] === null) delete apply[k];
  const m = apply.memory;
  if (m && m.limit !== undefined && m.swap === undefined && stored.memory?.swap !== undefined) apply.memory = { ...m, swap: stored.memory.swap };
  return { apply, notes: notes.items };
}

/** `stored` with `patch` laid over it: objects merged key by key, arrays and values replaced. */
export function mergeResources(stored: OciResources, patch: OciResources): OciResources {
  return mergeValue(stored, patch) as OciResources;
}

function mergeValue(a: unknown, b: unknown): unknown {
  if (b === undefined) return a;
  if (!isObject(a) || !isObject(b)) return structuredClone(b);
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = mergeValue(a[k], v);
  return out;
}
