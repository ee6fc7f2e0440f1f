// The planned cgroup file writes and the collector the per-resource planners share.
import type { ConfigIssue } from '../../spec/issues.js';
import { IssueList } from '../../spec/issues.js';

/** Which cgroup file API the writes target: v1 per-controller files or the v2 unified files. */
export type CgroupApi = 'v1' | 'v2';

/** One write into a container's cgroup; `path` is the JSON path of the field it came from. */
export interface CgroupWrite {
  /** v1: the hierarchy's controller; v2: the controller to enable (`''` for core `cgroup.*` files) */
  controller: string;
  file: string;
  value: string;
  path: string;
  /** written instead when `file` does not exist (e.g. `blkio.bfq.weight` when `blkio.weight` is absent) */
  fallback?: { file: string; value: string };
}

/** The ordered writes for one resources object, with config issues (refusals) and notes (downgrades). */
export interface CgroupWritePlan {
  writes: CgroupWrite[];
  issues: ConfigIssue[];
  notes: ConfigIssue[];
}

/** Shared state while planning: the API, the ordered writes, issues and notes. */
export class PlanContext {
  readonly writes: CgroupWrite[] = [];
  readonly issues = new IssueList();
  readonly notes = new IssueList();
  constructor(readonly api: CgroupApi) {}
  write(controller: string, file: string, value: string | number, path: string, fallback?: { file: string; value: string }): void {
    const w: CgroupWrite = { controller, file, value: String(value), path };
    if (fallback) w.fallback = fallback;
    this.writes.push(w);
  }
  issue(path: string, message: string, code = 'ERR_CGROUP_VALUE'): void {
    this.issues.add(code, path, message);
  }
  unsupported(path: string, message: string): void {
    this.issues.add('ERR_CGROUP_UNSUPPORTED', path, message);
  }
  note(path: string, message: string): void {
    this.notes.add('CGROUP_IGNORED', path, message);
  }
}

/** True for a safe integer within [min, max]. */
export function isIntIn(v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
}
