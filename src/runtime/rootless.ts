// Rootless: what changes when the runtime runs as an ordinary user. The state root moves to
// the user's runtime dir, id maps are written by the helper itself (a single-id map of the
// caller's own ids) or by the setuid newuidmap/newgidmap (ranges from /etc/subuid and
// /etc/subgid), and cgroups are not made unless limits are asked (and then only where the
// user may: a delegated cgroup). Nothing that cannot work is skipped without a word.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { OciIdMapping, OciResources, OciSpec } from '../spec/oci-types.js';
import type { ConfigIssue } from '../spec/issues.js';

/** True when the runtime runs without root: id maps and cgroups are limited to what the user may do. */
export function isRootless(): boolean {
  return process.getuid?.() !== 0;
}

/** The default `--root`: `/run/moat-oci` for root; for another user `$XDG_RUNTIME_DIR/moat-oci`,
 * else `/run/user/<uid>/moat-oci` when that dir exists, else `/tmp/moat-oci-<uid>` (made 0700 and
 * checked to be the user's own, so another user cannot prepare it). */
export function defaultStateRoot(env: NodeJS.ProcessEnv = process.env): string {
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return '/run/moat-oci';
  if (env.XDG_RUNTIME_DIR) return `${env.XDG_RUNTIME_DIR}/moat-oci`;
  if (existsSync(`/run/user/${uid}`)) return `/run/user/${uid}/moat-oci`;
  const dir = `/tmp/moat-oci-${uid}`;
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const st = statSync(dir);
  if (st.uid !== uid || (st.mode & 0o077) !== 0 || !st.isDirectory())
    throw new Error(`state root \`${dir}\` is not a directory of yours with mode 0700: remove it or pass --root`);
  return dir;
}

/** The caller's user name, or its uid as a string when it has no passwd entry (a uid made
 * up for a service, or a test): /etc/subuid accepts either. */
export function callerName(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 0);
  }
}

/** The setuid helpers that write multi-id maps for an unprivileged user (the helper execs these paths). */
export const NEWUIDMAP = '/usr/bin/newuidmap';
export const NEWGIDMAP = '/usr/bin/newgidmap';

/** Subordinate ranges of a user in /etc/subuid or /etc/subgid (by name or by uid). */
export function subordinateRanges(file: string, user: { name: string; uid: number }): { start: number; count: number }[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: { start: number; count: number }[] = [];
  for (const line of text.split('\n')) {
    const [who, start, count] = line.trim().split(':');
    if (who !== user.name && who !== String(user.uid)) continue;
    const s = Number(start), c = Number(count);
    if (Number.isSafeInteger(s) && Number.isSafeInteger(c) && c > 0) out.push({ start: s, count: c });
  }
  return out;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** How the id maps of a rootless container get written. */
export interface RootlessMaps {
  /** true: newuidmap/newgidmap write them (clone op value bit 2); false: the helper, after setgroups "deny" (bit 0) */
  useNewIdMap: boolean;
}

/**
 * Checks the id mappings of a config for an unprivileged caller. A single-id map of the caller's
 * own uid (and gid) the helper writes itself; anything else needs newuidmap/newgidmap and every
 * host id in the user's /etc/subuid (/etc/subgid) ranges, or the caller's own id.
 */
export function rootlessMaps(spec: OciSpec, host = { uid: process.getuid!(), gid: process.getgid!(), name: callerName() }, files = { subuid: '/etc/subuid', subgid: '/etc/subgid', newuidmap: NEWUIDMAP, newgidmap: NEWGIDMAP }): { maps: RootlessMaps; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const linux = spec.linux ?? {};
  const nss = linux.namespaces ?? [];
  const newUser = nss.some((n) => n.type === 'user' && !n.path);
  const joinsUser = nss.some((n) => n.type === 'user' && n.path);
  if (!newUser && !joinsUser) {
    issues.push({ code: 'rootless_userns', path: 'linux.namespaces', message: 'an unprivileged user needs a user namespace: add `{"type": "user"}` with uidMappings/gidMappings (`moat-oci spec --rootless` writes such a config)' });
    return { maps: { useNewIdMap: false }, issues };
  }
  if (!newUser) return { maps: { useNewIdMap: false }, issues };
  const own = (m: OciIdMapping[] | undefined, id: number) => m?.length === 1 && m[0]!.size === 1 && m[0]!.hostID === id;
  const u = linux.uidMappings, g = linux.gidMappings;
  if (!u?.length || !g?.length) {
    issues.push({ code: 'rootless_maps', path: !u?.length ? 'linux.uidMappings' : 'linux.gidMappings', message: `an unprivileged user's container needs its id mappings: map the container's root to your own ids, e.g. \`[{"containerID": 0, "hostID": ${!u?.length ? host.uid : host.gid}, "size": 1}]\`` });
    return { maps: { useNewIdMap: false }, issues };
  }
  if (own(u, host.uid) && own(g, host.gid)) {
    // the helper writes this map itself, which needs setgroups denied in the namespace
    if (spec.process?.user.additionalGids?.length)
      issues.push({ code: 'rootless_groups', path: 'process.user.additionalGids', message: 'supplementary groups cannot be set with a single-id mapping (setgroups is denied there): remove them, or map a subordinate range (newgidmap, /etc/subgid)' });
    return { maps: { useNewIdMap: false }, issues };
  }
  // multi-id: newuidmap/newgidmap with subordinate ranges
  const check = (kind: 'uid' | 'gid', maps: OciIdMapping[], own: number, file: string, tool: string) => {
    const field = kind === 'uid' ? 'linux.uidMappings' : 'linux.gidMappings';
    if (!executable(tool)) {
      issues.push({ code: 'rootless_newidmap', path: field, message: `mapping more than your own ${kind} needs \`${tool}\` (install the \`uidmap\` package: apt-get install uidmap), or map only your own ${kind}: \`[{"containerID": 0, "hostID": ${own}, "size": 1}]\`` });
      return;
    }
    const ranges = subordinateRanges(file, host);
    maps.forEach((m, i) => {
      if (m.size === 1 && m.hostID === own) return;
      const ok = ranges.some((r) => m.hostID >= r.start && m.hostID + m.size <= r.start + r.count);
      if (!ok) {
        const have = ranges.length ? `your ranges in ${file} are ${ranges.map((r) => `${r.start}-${r.start + r.count - 1}`).join(', ')}` : `you have no range in ${file}`;
        issues.push({ code: 'rootless_subid', path: `${field}[${i}]`, message: `host ${kind}s ${m.hostID}-${m.hostID + m.size - 1} are not yours to map: ${have} (an administrator adds one with \`usermod --add-sub${kind}s START-END ${host.name}\`)` });
      }
    });
  };
  check('uid', u, host.uid, files.subuid, files.newuidmap);
  check('gid', g, host.gid, files.subgid, files.newgidmap);
  return { maps: { useNewIdMap: true }, issues };
}

/** JSON paths of the cgroup limits a config asks for (`linux.resources` without the device
 * rules, which are access rules, not limits). */
export function requestedLimits(resources: OciResources | undefined): string[] {
  const out: string[] = [];
  const walk = (v: unknown, path: string): void => {
    if (v === undefined || v === null) return;
    if (Array.isArray(v)) {
      if (v.length) out.push(path);
      return;
    }
    if (typeof v === 'object') {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, `${path}.${k}`);
      return;
    }
    out.push(path);
  };
  for (const [k, v] of Object.entries(resources ?? {})) if (k !== 'devices') walk(v, `linux.resources.${k}`);
  return out;
}
