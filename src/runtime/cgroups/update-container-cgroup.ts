// Changes the limits of a running container (the `update` verb).
import type { OciResources } from '../../spec/oci-types.js';
import { ConfigError, type ConfigIssue } from '../../spec/issues.js';
import { readCgroupFile } from './cgroup-fs.js';
import type { ContainerCgroup } from './cgroup-types.js';
import { enableV2Controllers } from './enable-v2-controllers.js';
import { resolveCgroupWrites } from './resolve-cgroup-writes.js';
import { performCgroupWrites } from './write-cgroup-files.js';

const words = (s: string | undefined) => (s ?? '').split(/\s+/).filter(Boolean);

/**
 * Applies new limits to an existing container cgroup. Device rules are not changed here (they
 * are fixed at create). cgroup2 controllers are enabled only in dirs moat created. Returns
 * the notes (bestEffort downgrades); throws ConfigError for issues, CgroupError for I/O.
 */
export function updateContainerCgroup(cg: ContainerCgroup, resources: OciResources, opts: { bestEffort?: boolean } = {}): ConfigIssue[] {
  const issues: ConfigIssue[] = [], notes: ConfigIssue[] = [];
  const leaf = cg.dirs.unified;
  // the topmost dir moat created on the way to the cgroup2 dir: enabling starts there
  const base = leaf ? cg.created.find((d) => d === leaf || leaf.startsWith(`${d}/`)) ?? leaf : undefined;
  const available = base ? words(readCgroupFile(base, 'cgroup.controllers')) : [];
  const resolveOpts = { bestEffort: opts.bestEffort ?? false, unifiedControllers: available };
  let r = resolveCgroupWrites(cg, resources, resolveOpts);
  if (leaf && base && r.v2Controllers.size > 0) {
    const missing = new Map([...r.v2Controllers].filter(([c]) => !words(readCgroupFile(leaf, 'cgroup.controllers')).includes(c)));
    if (missing.size) {
      const en = base === leaf ? { issues: [...missing].map(([c, path]) => ({ code: 'ERR_CGROUP_UNAVAILABLE', path, message: `the \`${c}\` controller is not enabled for \`${leaf}\`` })), notes: [] } : enableV2Controllers(base, leaf, missing, (d) => cg.created.includes(d), opts.bestEffort);
      issues.push(...en.issues);
      notes.push(...en.notes);
    }
    if (issues.length === 0) r = resolveCgroupWrites(cg, resources, { ...resolveOpts, v2FilesExist: true });
  }
  issues.push(...r.issues, ...checkMemoryUsage(cg, resources));
  notes.push(...r.notes);
  if (issues.length) throw new ConfigError(issues, 'update cgroup');
  performCgroupWrites(r.writes);
  return notes;
}

// memory.checkBeforeUpdate: refuse a limit below what the container already uses
function checkMemoryUsage(cg: ContainerCgroup, resources: OciResources): ConfigIssue[] {
  const m = resources.memory;
  if (!m?.checkBeforeUpdate || m.limit === undefined || m.limit < 0) return [];
  const usage = cg.mode === 'unified' ? readCgroupFile(cg.dirs.unified ?? '', 'memory.current') : readCgroupFile(cg.dirs.memory ?? '', 'memory.usage_in_bytes');
  const used = Number(usage ?? 0);
  if (used <= m.limit) return [];
  return [{ code: 'ERR_CGROUP_VALUE', path: 'linux.resources.memory.limit', message: `\`${m.limit}\` is below the current usage \`${used}\`` }];
}

