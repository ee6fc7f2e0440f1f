// Enables cgroup2 controllers (`+memory` into cgroup.subtree_control) down to a container's dir.
import { posix } from 'node:path';
import { IssueList, type ConfigIssue } from '../../spec/issues.js';
import { readCgroupFile } from './cgroup-fs.js';
import { errnoOf } from './cgroup-error.js';
import { writeFileSync } from 'node:fs';

/** The dirs from `base` down to the parent of `leaf` (each must enable a controller for `leaf` to get it). */
export function parentChain(base: string, leaf: string): string[] {
  const chain = [base];
  const rest = posix.relative(base, posix.dirname(leaf));
  if (rest && rest !== '.') {
    let at = base;
    for (const seg of rest.split('/')) chain.push((at = posix.join(at, seg)));
  }
  return chain;
}

/**
 * Enables each needed controller in every dir of `parentChain(base, leaf)`, writing only into
 * dirs `mayWrite` accepts (dirs moat created, or its own cgroup). A controller that cannot be
 * enabled is an issue naming the first field that needed it (a note with `bestEffort`).
 */
export function enableV2Controllers(base: string, leaf: string, needed: Map<string, string>, mayWrite: (dir: string) => boolean, bestEffort = false): { issues: ConfigIssue[]; notes: ConfigIssue[] } {
  const issues = new IssueList(), notes = new IssueList();
  const fail = (path: string, msg: string) => (bestEffort ? notes : issues).add('ERR_CGROUP_UNAVAILABLE', path, bestEffort ? `skipped: ${msg}` : msg);
  for (const dir of parentChain(base, leaf)) {
    const enabled = new Set((readCgroupFile(dir, 'cgroup.subtree_control') ?? '').split(/\s+/));
    for (const [ctrl, path] of needed) {
      if (enabled.has(ctrl)) continue;
      if (!mayWrite(dir)) { fail(path, `the \`${ctrl}\` controller is not enabled in \`${dir}\`, which moat did not create`); continue; }
      try {
        writeFileSync(posix.join(dir, 'cgroup.subtree_control'), `+${ctrl}`);
        enabled.add(ctrl);
      } catch (err) {
        fail(path, `cannot enable the \`${ctrl}\` controller in \`${dir}\`: ${errnoOf(err)}`);
      }
    }
  }
  return { issues: issues.items, notes: notes.items };
}
