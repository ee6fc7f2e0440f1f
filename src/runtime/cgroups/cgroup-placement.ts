// Where a container's cgroup dirs go: beneath this process's own cgroup, per controller.
import { posix } from 'node:path';
import { IssueList, type ConfigIssue } from '../../spec/issues.js';
import type { CgroupHost } from './cgroup-types.js';

/** The dirs for a container, and per key the existing dir it must be created beneath. */
export interface CgroupPlacement {
  dirs: Record<string, string>;
  /** key -> the dir moat starts creating from (own cgroup, or the mount dir for an absolute path) */
  bases: Record<string, string>;
  issues: ConfigIssue[];
}

const SEGMENT = /^[^/\0]+$/;

/**
 * Relative (or absent: `moat-<id>`) cgroupsPath -> `<mount>/<own cgroup>/<path>`; absolute ->
 * `<mount>/<path>`. `.`/`..` segments are refused so a path can never climb out of its base.
 */
export function placeContainerCgroup(host: CgroupHost, id: string, cgroupsPath?: string, path = 'linux.cgroupsPath'): CgroupPlacement {
  const issues = new IssueList();
  const rel = cgroupsPath ?? `moat-${id}`;
  const absolute = rel.startsWith('/');
  const segments = rel.split('/').filter((s, i) => !(absolute && i === 0));
  if (segments.length === 0 || segments.some((s) => !SEGMENT.test(s) || s === '.' || s === '..')) {
    issues.add('ERR_CGROUPS_PATH', cgroupsPath === undefined ? 'id' : path, `\`${rel}\` is not a usable cgroup path`);
  }
  const dirs: Record<string, string> = {};
  const bases: Record<string, string> = {};
  const place = (key: string, mount: string, own: string) => {
    bases[key] = absolute ? mount : posix.join(mount, own);
    dirs[key] = posix.join(bases[key], ...segments);
  };
  if (host.mode !== 'unified') for (const [c, mount] of Object.entries(host.v1)) place(c, mount, host.self[c] ?? '/');
  if (host.mode !== 'v1' && host.unified) place('unified', host.unified, host.self[''] ?? '/');
  return { dirs, bases, issues: issues.items };
}

/** Parses the systemd driver's `slice:prefix:name` cgroupsPath; `undefined` when malformed. */
export function parseSystemdCgroupsPath(p: string): { slice: string; prefix: string; name: string } | undefined {
  const parts = p.split(':');
  if (parts.length !== 3 || !parts[2] || parts.some((x) => x.includes('/'))) return undefined;
  if (parts[0] && !parts[0].endsWith('.slice')) return undefined;
  return { slice: parts[0] || 'system.slice', prefix: parts[1]!, name: parts[2] };
}
