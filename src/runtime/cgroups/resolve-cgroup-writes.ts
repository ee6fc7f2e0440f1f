// Turns planned writes into file paths in a container's dirs, checking the host has each controller and file.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { OciResources } from '../../spec/oci-types.js';
import { IssueList, type ConfigIssue } from '../../spec/issues.js';
import { planCgroupWrites } from '../../policy/cgroups/plan-cgroup-writes.js';
import type { CgroupWrite } from '../../policy/cgroups/cgroup-write.js';
import type { ContainerCgroup } from './cgroup-types.js';

/** A write bound to a real dir and file. */
export interface ResolvedWrite {
  dir: string;
  file: string;
  value: string;
  path: string;
}

/** Resolved writes plus the v2 controllers they need enabled, the issues, and bestEffort downgrades. */
export interface ResolvedWrites {
  writes: ResolvedWrite[];
  /** v2 controller -> the JSON path of the first field that needs it */
  v2Controllers: Map<string, string>;
  issues: ConfigIssue[];
  notes: ConfigIssue[];
}

/**
 * Plans `resources` for the container's mode. On a hybrid host limits use v1 files, except
 * `unified` and controllers that only the cgroup2 hierarchy has (hugetlb on some hosts).
 * A missing controller or file is an issue naming the field, or a note with `bestEffort`.
 * v2 files are checked only with `v2FilesExist` (after the controllers were enabled).
 */
export function resolveCgroupWrites(cg: ContainerCgroup, resources: OciResources, opts: { bestEffort?: boolean; path?: string; unifiedControllers?: string[]; v2FilesExist?: boolean } = {}): ResolvedWrites {
  const base = opts.path ?? 'linux.resources';
  const r: ResolvedWrites = { writes: [], v2Controllers: new Map(), issues: [], notes: [] };
  const issues = new IssueList(), notes = new IssueList();
  const miss = (path: string, message: string) => (opts.bestEffort ? notes : issues).add('ERR_CGROUP_UNAVAILABLE', path, opts.bestEffort ? `skipped: ${message}` : message);
  const planned: { w: CgroupWrite; api: 'v1' | 'v2' }[] = [];
  const add = (plan: ReturnType<typeof planCgroupWrites>, api: 'v1' | 'v2') => {
    // what the cgroup version lacks is a host limitation (bestEffort may skip it); a bad value never is
    plan.issues.forEach((i) => (i.code === 'ERR_CGROUP_UNSUPPORTED' ? miss(i.path, i.message) : issues.add(i.code, i.path, i.message)));
    plan.notes.forEach((i) => notes.add(i.code, i.path, i.message));
    plan.writes.forEach((w) => planned.push({ w, api }));
  };
  if (cg.mode === 'unified') add(planCgroupWrites({ ...resources, devices: undefined }, 'v2', base), 'v2');
  else {
    const v2Only = cg.mode === 'hybrid' && !cg.dirs.hugetlb && (opts.unifiedControllers ?? []).includes('hugetlb');
    add(planCgroupWrites({ ...resources, devices: undefined, unified: undefined, hugepageLimits: v2Only ? undefined : resources.hugepageLimits }, 'v1', base), 'v1');
    if (cg.mode === 'hybrid') add(planCgroupWrites({ unified: resources.unified, hugepageLimits: v2Only ? resources.hugepageLimits : undefined }, 'v2', base), 'v2');
    else if (resources.unified) add(planCgroupWrites({ unified: resources.unified }, 'v1', base), 'v1');
  }
  for (const { w, api } of planned) {
    const dir = api === 'v1' ? cg.dirs[w.controller] : cg.dirs.unified;
    if (!dir) { miss(w.path, `the \`${w.controller}\` controller is not mounted`); continue; }
    if (api === 'v2' && w.controller) {
      if (!opts.unifiedControllers?.includes(w.controller)) { miss(w.path, `the \`${w.controller}\` controller is not delegated to this cgroup`); continue; }
      if (!r.v2Controllers.has(w.controller)) r.v2Controllers.set(w.controller, w.path);
      // a controller's files appear only once it is enabled: before that, only collect what to enable
      if (!opts.v2FilesExist) { r.writes.push({ dir, file: w.file, value: w.value, path: w.path }); continue; }
    }
    if (existsSync(join(dir, w.file))) r.writes.push({ dir, file: w.file, value: w.value, path: w.path });
    else if (w.fallback && existsSync(join(dir, w.fallback.file))) r.writes.push({ dir, file: w.fallback.file, value: w.fallback.value, path: w.path });
    else miss(w.path, w.file.startsWith('memory.memsw.') ? `swap accounting is off: \`${w.file}\` is missing` : `the kernel has no \`${w.file}\``);
  }
  r.issues = issues.items;
  r.notes = notes.items;
  return r;
}
