// linux.resources.unified: raw cgroup v2 `file -> value` pairs, applied last so they override.
import { jsonPath } from '../../spec/issues.js';
import { PlanContext } from './cgroup-write.js';

const KEY = /^([a-z_]+)\.[a-z0-9_.]+$/;
// core files that move processes or change the tree shape belong to the runtime, not the config
const RESERVED = new Set(['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control', 'cgroup.kill', 'cgroup.freeze', 'cgroup.type', 'cgroup.events', 'cgroup.controllers']);

/** Plans the `unified` map (cgroup v2 only); the controller is the key's prefix, `''` for `cgroup.*`. */
export function planUnified(ctx: PlanContext, unified: Record<string, string>, path: string): void {
  for (const [key, value] of Object.entries(unified)) {
    const p = jsonPath(path, key);
    if (ctx.api === 'v1') { ctx.unsupported(p, 'needs cgroup v2'); continue; }
    const m = KEY.exec(key);
    if (!m || key.includes('..')) { ctx.issue(p, `is not a cgroup v2 file name: \`${key}\``); continue; }
    if (RESERVED.has(key)) { ctx.issue(p, `\`${key}\` is managed by the runtime`); continue; }
    if (typeof value !== 'string' || value.includes('\0')) { ctx.issue(p, 'must be a string'); continue; }
    ctx.write(m[1] === 'cgroup' ? '' : m[1]!, key, value, p);
  }
}
