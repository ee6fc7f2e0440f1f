// User namespaces for sandboxes: every sandbox gets a private range of 65536 host uids and
// gids (root inside is an unprivileged id outside, and no two live sandboxes share ids),
// allocated at create from root's subordinate range and freed at delete. The read-only
// parts of the root (the rootfs itself, /usr and the other template binds) are id-mapped, so
// host-owned files show with their owners; the sandbox's private writable dirs are made
// owned by its own root. Nothing the host owns is ever chowned.
import { lchownSync, readdirSync, lstatSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ManagerError } from './errors.js';
import { allocateRange, freeRange, freeRangeSync, rootSubidRange, type IdPool } from '../runtime/idmap-pool.js';
import { IDMAP_ROOTFS_ANNOTATION } from '../plan/build-plan.js';
import type { OciSpec } from '../spec/oci-types.js';
import type { SandboxDefinition } from './definition.js';
import type { SandboxStore } from './store.js';
import { assignMacIds, releaseMacIds, releaseSweptMacIds } from './mac.js';

/** The host-wide pool file (MOAT_IDMAP_POOL overrides it): ranges are unique across data dirs. */
function pool(): IdPool {
  return { file: process.env.MOAT_IDMAP_POOL ?? '/var/lib/moat/idmap.json', range: rootSubidRange({ create: true }) };
}

function owner(store: SandboxStore, name: string): string {
  return `${store.layout.data}:${name}`;
}

/** Gives a new sandbox its private id range (before its files are made). */
export async function assignUserNamespace(store: SandboxStore, def: SandboxDefinition): Promise<void> {
  // the sandbox's other identity, its MCS pair, is handed out and taken back with its ids
  await assignMacIds(store, def);
  if (def.userns.mode === 'host') return;
  // the sandbox's root is an unprivileged host uid: it must be able to reach its rootfs
  for (let d = store.layout.sandboxes; ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0)
      throw new ManagerError('ERR_USERNS', `\`${d}\` is not searchable by other users: a sandbox's root, an unprivileged host uid, could not reach its root filesystem; \`chmod o+x\` it, choose another --data-dir, or use --userns host`);
    if (d === dirname(d)) break;
  }
  const r = await allocateRange(pool(), owner(store, def.name));
  def.userns = { mode: 'private', start: r.start, size: r.size };
}

/** Returns a deleted sandbox's range to the pool. */
export async function releaseUserNamespace(store: SandboxStore, def: SandboxDefinition): Promise<void> {
  await releaseMacIds(store, def);
  if (def.userns.mode === 'private') await freeRange(pool(), owner(store, def.name));
}

/** Returns the range of a sandbox whose create or delete crashed (its tree is being swept),
 * unless a sandbox of that name exists again. */
export function releaseSweptUserNamespace(store: SandboxStore, def: SandboxDefinition): void {
  releaseSweptMacIds(store, def);
  if (def.userns.mode === 'private' && !store.exists(def.name)) freeRangeSync(pool(), owner(store, def.name));
}

/** Makes the sandbox's private writable dirs owned by its own root (they are moat's seeds). */
export function ownPrivateDirs(rootfs: string, dirs: string[], def: SandboxDefinition): void {
  if (def.userns.mode !== 'private') return;
  const id = def.userns.start;
  const walk = (p: string) => {
    lchownSync(p, id, id);
    if (lstatSync(p).isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
  };
  for (const d of dirs) walk(join(rootfs, d));
}

/** Adds the user namespace, its mappings and id-mapped read-only mounts to the spec. */
export function applyUserNamespace(spec: OciSpec, def: SandboxDefinition, writable: string[]): void {
  if (def.userns.mode !== 'private') return;
  const map = [{ containerID: 0, hostID: def.userns.start, size: def.userns.size }];
  const linux = spec.linux!;
  linux.namespaces!.push({ type: 'user' });
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
  // sysfs may only be mounted by the owner of the network namespace: with the host's network
  // (no namespace of its own) the sandbox gets a read-only bind of the host's /sys instead
  if (!linux.namespaces!.some((n) => n.type === 'network'))
    spec.mounts = spec.mounts!.map((m) => (m.type === 'sysfs' ? { destination: m.destination, type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro', 'rro'] } : m));
}

/** What `inspect` says about the user-namespace layer. */
export function describeUserNamespace(def: SandboxDefinition): { active: boolean; detail: string } {
  if (def.userns.mode === 'private')
    return { active: true, detail: `private: root inside is host uid/gid ${def.userns.start}; ids ${def.userns.start}-${def.userns.start + def.userns.size - 1} belong to this sandbox alone; read-only trees are id-mapped, nothing the host owns was chowned` };
  return { active: false, detail: 'off (--userns host): the sandbox shares the host uids; root inside is root outside' };
}
