// User namespaces for sandboxes.
//
// Made by root: every sandbox gets a private range of 65536 host uids and gids (root inside is
// an unprivileged id outside, and no two live sandboxes share ids), allocated at create from
// root's subordinate range and freed at delete. The read-only parts of the root (the rootfs
// itself, /usr and the other template binds) are id-mapped, so host-owned files show with
// their owners; the sandbox's private writable dirs are made owned by its own root. Nothing
// the host owns is ever chowned.
//
// Made by another user (rootless): the ids come from the user's own /etc/subuid and
// /etc/subgid ranges, written by the setuid newuidmap/newgidmap. A range that holds two or
// more slices of 65536 is sliced, one slice per sandbox (allocated from a pool file of the
// user's, like root's); a smaller one is shared whole by the user's sandboxes (inspect says
// so); with no range (or no newuidmap) the map is the user's own id alone, root inside being
// the user. Id-mapped mounts need CAP_SYS_ADMIN in the initial user namespace, which the user
// does not have: instead the sandbox's tree (moat's own skeleton and seeds, nothing of the
// host's) is chowned to its root once, at create, from inside a throwaway user namespace
// holding the user's ids (runtime/userns-exec.ts), and removed from there at delete. Host
// trees bound read-only (/usr) are owned by ids the sandbox does not map and show as nobody,
// which read-only is all they need to be.
import { accessSync, constants, existsSync, lchownSync, lstatSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ManagerError } from './errors.js';
import { allocateRange, freeRange, freeRangeSync, RANGE_SIZE, reclaimRanges, rootSubidRange, type IdPool } from '../runtime/idmap-pool.js';
import { callerName, isRootless, NEWGIDMAP, NEWUIDMAP, subordinateRanges } from '../runtime/rootless.js';
import { runInUserNamespace } from '../runtime/userns-exec.js';
import { log } from '../runtime/log.js';
import { IDMAP_ROOTFS_ANNOTATION } from '../plan/build-plan.js';
import type { OciSpec } from '../spec/oci-types.js';
import type { SandboxDefinition } from './definition.js';
import { userDataDir } from './layout.js';
import type { SandboxStore } from './store.js';
import { assignMacIds, releaseMacIds, releaseSweptMacIds } from './mac.js';

/** The host-wide pool file (MOAT_IDMAP_POOL overrides it): ranges are unique across data dirs. */
function rootPool(): IdPool {
  return { file: process.env.MOAT_IDMAP_POOL ?? '/var/lib/moat/idmap.json', range: rootSubidRange({ create: true }) };
}

/** The caller, as /etc/subuid names it (a uid without a passwd entry goes by its number). */
export function callerIdentity(): { name: string; uid: number; gid: number } {
  return { name: callerName(), uid: process.getuid!(), gid: process.getgid!() };
}

/** How a non-root caller's sandboxes get their ids, from its subordinate ranges. */
export type RootlessIds =
  | { kind: 'single'; reason: string }
  | { kind: 'shared' | 'slices'; uid: number; gid: number; size: number };

function canExec(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The caller's id plan: its first /etc/subuid and /etc/subgid ranges, sliced when they hold
 * two or more slices of RANGE_SIZE, else shared whole; a single-id map without them. */
export function rootlessIds(files = { subuid: '/etc/subuid', subgid: '/etc/subgid', newuidmap: NEWUIDMAP, newgidmap: NEWGIDMAP }, me = callerIdentity()): RootlessIds {
  if (/^\d+$/.test(me.name)) return { kind: 'single', reason: `uid ${me.uid} has no passwd entry, which newuidmap needs` };
  const missing = [files.newuidmap, files.newgidmap].filter((p) => !canExec(p));
  if (missing.length) return { kind: 'single', reason: `\`${missing.join('`, `')}\` missing (install the uidmap package)` };
  const u = subordinateRanges(files.subuid, me)[0], g = subordinateRanges(files.subgid, me)[0];
  if (!u || !g) return { kind: 'single', reason: `\`${me.name}\` has no subordinate ${!u ? 'uids' : 'gids'} in \`${!u ? files.subuid : files.subgid}\`` };
  const size = Math.min(u.count, g.count);
  return { kind: size >= 2 * RANGE_SIZE ? 'slices' : 'shared', uid: u.start, gid: g.start, size };
}

/** The pool of a non-root user's slices: offsets into its subordinate range, kept next to
 * its default data dir (one pool for all of the user's data dirs). */
function userPool(size: number): IdPool {
  return { file: process.env.MOAT_IDMAP_POOL ?? join(userDataDir(), 'idmap.json'), range: { start: 0, size: Math.floor(size / RANGE_SIZE) * RANGE_SIZE } };
}

/** The pool a sandbox's range came from (undefined: nothing was allocated). */
function poolOf(def: SandboxDefinition): Pick<IdPool, 'file'> | undefined {
  const u = def.userns;
  if (u.mode === 'private') return { file: process.env.MOAT_IDMAP_POOL ?? '/var/lib/moat/idmap.json' };
  if (u.mode === 'subids' && !u.shared) return { file: userPool(0).file };
  return undefined;
}

function owner(store: SandboxStore, name: string): string {
  return `${store.layout.data}:${name}`;
}

/** True when the sandbox an allocation belongs to does not exist (its data dir does, so a
 * data dir that is not there right now, an unmounted disk, keeps its ranges). */
export function allocationOwnerGone(o: string): boolean {
  const i = o.lastIndexOf(':');
  if (i <= 0) return false;
  const data = o.slice(0, i), name = o.slice(i + 1);
  return existsSync(join(data, 'sandboxes')) && !existsSync(join(data, 'sandboxes', name, 'sandbox.json'));
}

/** Takes back the ranges of creates that died before their sandbox existed (the next
 * allocation does this too). */
export async function reclaimUserNamespaces(): Promise<string[]> {
  const files = isRootless() ? [userPool(0).file] : [process.env.MOAT_IDMAP_POOL ?? '/var/lib/moat/idmap.json'];
  const out: string[] = [];
  for (const file of files) out.push(...(await reclaimRanges({ file }, allocationOwnerGone)));
  return out;
}

/** The sandbox's root is an unprivileged host uid: it must be able to reach its rootfs. */
function checkSearchable(store: SandboxStore): void {
  for (let d = store.layout.sandboxes; ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0)
      throw new ManagerError('ERR_USERNS', `\`${d}\` is not searchable by other users: a sandbox's root, an unprivileged host uid, could not reach its root filesystem; \`chmod o+x\` it or choose another --data-dir${isRootless() ? '' : ', or use --userns host'}`);
    if (d === dirname(d)) break;
  }
}

/** Gives a new sandbox its user namespace ids (before its files are made). */
export async function assignUserNamespace(store: SandboxStore, def: SandboxDefinition): Promise<void> {
  // the sandbox's other identity, its MCS pair, is handed out and taken back with its ids
  await assignMacIds(store, def);
  if (def.userns.mode === 'host') return;
  if (!isRootless()) {
    checkSearchable(store);
    const r = await allocateRange(rootPool(), owner(store, def.name), allocationOwnerGone);
    def.userns = { mode: 'private', start: r.start, size: r.size };
    return;
  }
  const ids = rootlessIds();
  if (ids.kind === 'single') {
    const me = callerIdentity();
    log('warn', `user namespace: only your own uid ${me.uid} is mapped (${ids.reason}): root in \`${def.name}\` is you outside, and its files are yours; see \`moat check\``);
    def.userns = { mode: 'single', uid: me.uid, gid: me.gid };
    return;
  }
  checkSearchable(store);
  if (ids.kind === 'shared') {
    log('warn', `user namespace: your subordinate range ${ids.uid}-${ids.uid + ids.size - 1} is too small to give \`${def.name}\` ${RANGE_SIZE} ids of its own: all your sandboxes share it; see \`moat check\``);
    def.userns = { mode: 'subids', uid: ids.uid, gid: ids.gid, size: ids.size, shared: true };
    return;
  }
  const r = await allocateRange(userPool(ids.size), owner(store, def.name), allocationOwnerGone);
  def.userns = { mode: 'subids', uid: ids.uid + r.start, gid: ids.gid + r.start, size: RANGE_SIZE, shared: false };
}

/** Returns a deleted sandbox's range to the pool. */
export async function releaseUserNamespace(store: SandboxStore, def: SandboxDefinition): Promise<void> {
  await releaseMacIds(store, def);
  const pool = poolOf(def);
  if (pool) await freeRange(pool, owner(store, def.name));
}

/** Returns the range of a sandbox whose create or delete crashed (its tree is being swept),
 * unless a sandbox of that name exists again. */
export function releaseSweptUserNamespace(store: SandboxStore, def: SandboxDefinition): void {
  releaseSweptMacIds(store, def);
  const pool = poolOf(def);
  if (pool && !store.exists(def.name)) freeRangeSync(pool, owner(store, def.name));
}

/** Makes a new sandbox's tree owned by its own root: for root, the private writable dirs
 * (moat's seeds); rootless, the whole rootfs (moat's skeleton and seeds), from a user
 * namespace of the user's ids. */
export async function ownSandboxTree(rootfs: string, dirs: string[], def: SandboxDefinition): Promise<void> {
  const u = def.userns;
  if (u.mode === 'private') {
    const walk = (p: string) => {
      lchownSync(p, u.start, u.start);
      if (lstatSync(p).isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    };
    for (const d of dirs) walk(join(rootfs, d));
  } else if (u.mode === 'subids') {
    // inside the helper's namespace, id 1 is the sandbox's root (see runInUserNamespace)
    await runInUserNamespace({ uid: u.uid, gid: u.gid, size: u.size }, ['/bin/chown', '-R', '-h', '-P', '1:1', '--', rootfs], `own the root of \`${def.name}\``);
  }
}

/** Removes a sandbox tree: a rootless sandbox's files belong to its subordinate ids, which
 * only root of a user namespace holding them may remove. */
export async function removeSandboxTree(dir: string, def: SandboxDefinition | undefined): Promise<void> {
  const u = def?.userns;
  if (u?.mode === 'subids' && isRootless()) await runInUserNamespace({ uid: u.uid, gid: u.gid, size: u.size }, ['/bin/rm', '-rf', '--', dir], `remove \`${dir}\``);
  else rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
}

/** Adds the user namespace, its mappings and (root only) id-mapped read-only mounts to the spec. */
export function applyUserNamespace(spec: OciSpec, def: SandboxDefinition, writable: string[]): void {
  const u = def.userns;
  if (u.mode === 'host') return;
  const linux = spec.linux!;
  linux.namespaces!.push({ type: 'user' });
  if (u.mode === 'private') {
    const map = [{ containerID: 0, hostID: u.start, size: u.size }];
    linux.uidMappings = map;
    linux.gidMappings = map;
    spec.annotations = { ...spec.annotations, [IDMAP_ROOTFS_ANNOTATION]: 'true' };
    // read-only binds of host trees are id-mapped; the sandbox's own writable dirs are not
    // (they are owned by its root already), and neither are volumes: a container root that
    // wrote through an id-mapped volume would make files owned by the host's root
    const own = new Set(writable.map((d) => `/${d}`));
    for (const m of spec.mounts ?? []) {
      const opts = m.options ?? [];
      const bind = m.type === 'bind' || opts.includes('bind') || opts.includes('rbind');
      if (bind && !own.has(m.destination) && (opts.includes('ro') || opts.includes('rro')) && m.source?.startsWith('/') && !m.source.startsWith(spec.root!.path))
        m.options = [...opts, opts.includes('rbind') ? 'ridmap' : 'idmap'];
    }
  } else if (u.mode === 'subids') {
    linux.uidMappings = [{ containerID: 0, hostID: u.uid, size: u.size }];
    linux.gidMappings = [{ containerID: 0, hostID: u.gid, size: u.size }];
  } else {
    linux.uidMappings = [{ containerID: 0, hostID: u.uid, size: 1 }];
    linux.gidMappings = [{ containerID: 0, hostID: u.gid, size: 1 }];
    // only gid 0 exists inside: terminals cannot belong to the tty group (5)
    for (const m of spec.mounts ?? []) if (m.type === 'devpts') m.options = (m.options ?? []).filter((o) => o !== 'gid=5');
  }
  // sysfs may only be mounted by the owner of the network namespace: with the host's network
  // (no namespace of its own) the sandbox gets a read-only bind of the host's /sys instead
  if (!linux.namespaces!.some((n) => n.type === 'network'))
    spec.mounts = spec.mounts!.map((m) => (m.type === 'sysfs' ? { destination: m.destination, type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro', 'rro'] } : m));
}

/** What `inspect` says about the user-namespace layer. */
export function describeUserNamespace(def: SandboxDefinition): { active: boolean; detail: string } {
  const u = def.userns;
  if (u.mode === 'private')
    return { active: true, detail: `private: root inside is host uid/gid ${u.start}; ids ${u.start}-${u.start + u.size - 1} belong to this sandbox alone; read-only trees are id-mapped, nothing the host owns was chowned` };
  if (u.mode === 'subids') {
    const ids = `uids ${u.uid}-${u.uid + u.size - 1}, gids ${u.gid}-${u.gid + u.size - 1}`;
    return {
      active: true,
      detail: `rootless, ${u.shared ? `SHARED: the whole subordinate range of the user (${ids}) is mapped, and every other sandbox of this user maps the same ids (the range is too small to slice into ${RANGE_SIZE}-id slices; see \`moat check\`)` : `private slice of the user's subordinate range: ${ids} belong to this sandbox alone`}; root inside is host uid ${u.uid}; no id-mapped mounts (they need root): the sandbox's own tree was chowned to its ids once, and host trees such as /usr show as nobody, read-only`,
    };
  }
  if (u.mode === 'single')
    return { active: true, detail: `rootless, single id: only uid ${u.uid} and gid ${u.gid} (the user's own) are mapped, to root inside; root inside is the user outside, and every other id shows as nobody (the user has no subordinate ids or no newuidmap; see \`moat check\`)` };
  return { active: false, detail: 'off (--userns host): the sandbox shares the host uids; root inside is root outside' };
}
