// From a container's config to its Landlock ruleset. The paths are container paths: the
// helper applies the ruleset after pivot_root, so "/" is the container's root.
//
// What each part of the tree gets (rules are an allow-list, and a rule covers everything
// beneath its path, across mount points; the rights of all rules above a file add up):
//   "/"              every handled right, or read/execute when `root.readonly`
//   each mount       every handled right, or read/execute when mounted `ro` (proc, sysfs,
//                    tmpfs, bind mounts alike); `noexec` mounts lose EXECUTE
//   "/dev"           as its mount, plus read, write, truncate and ioctl for device nodes
//                    (MS_RDONLY never stopped writes to a device node; the device cgroup
//                    decides which devices); `linux.devices` outside /dev get the same
//   fds 0, 1, 2      the container's stdio, when it is a host file, fifo or tty: that inode
//                    only, with at most the fd's own access mode (so `> /dev/stdout` works
//                    when stdout is a log file; a directory fd never gets a rule)
//   anything else    nothing: host directories reached through a leaked or passed fd,
//                    `/proc/<pid>/root` of a host process, ...
// Because rights add up downwards, a read-only mount beneath a writable root keeps its
// write rights in Landlock; it stays read-only by its mount flag, which a Landlock domain
// can no longer change (mount, remount and pivot_root are denied to it).
import type { OciSpec } from '../../spec/oci-types.js';
import { compileMountOptions, MOUNT_ATTR } from '../mounts/options.js';
import { SCOPE_NAMES, type LandlockOptions } from './options.js';
import {
  abiOf, FS_DEVICE, FS_READ_EXECUTE, LANDLOCK_ABI_KNOWN, LANDLOCK_ACCESS_FS, LANDLOCK_ACCESS_NET, LANDLOCK_RESTRICT_SELF,
  LANDLOCK_SCOPE, maskAt, maskOf, namesOf,
} from './rights.js';

/** One rule: a path beneath which `access` is allowed, a TCP port, or an inherited stdio fd. */
export type LandlockRule =
  | { type: 'path'; path: string; access: number }
  | { type: 'port'; port: number; access: number }
  | { type: 'fd'; fd: 0 | 1 | 2; access: number };

/** A ruleset as the helper applies it. */
export interface LandlockRuleset {
  /** the lowest ABI that has every bit used */
  abi: number;
  handledFs: number;
  handledNet: number;
  scoped: number;
  restrictFlags: number;
  rules: LandlockRule[];
}

/** The ruleset, and what the kernel's ABI made us leave out (kernel names and their ABI). */
export interface BuiltRuleset {
  ruleset: LandlockRuleset;
  /** parts left out because the kernel is too old: default parts, reported as a downgrade */
  dropped: string[];
  /** parts the user asked for by name that the kernel cannot enforce */
  droppedExplicit: string[];
}

/** How the ruleset is used: the container's first process, or one started by `exec`. */
export interface RulesetUse {
  /** An `exec`ed process starts outside the container's domain and gets a sibling domain,
   * which scoping would wall off from the container's own processes. A scope is kept for it
   * only where the container shares the namespace with others (the namespace then is no
   * boundary); where the container has its own pid or network namespace, that namespace
   * already confines signals or abstract sockets to the container. So `exec c kill 1` and
   * `nginx -s reload` work in a container with its own pid namespace. The other way round
   * stays closed: the container's processes (scoped domain) cannot signal an exec'd process
   * nor reach its abstract sockets, since Landlock has no way to join an existing domain. */
  exec?: boolean;
}

const FS = LANDLOCK_ACCESS_FS;
/** the most an inherited stdio fd's inode can get; the helper cuts it to the fd's mode */
const FS_STDIO = FS.LANDLOCK_ACCESS_FS_READ_FILE.bit | FS.LANDLOCK_ACCESS_FS_WRITE_FILE.bit | FS.LANDLOCK_ACCESS_FS_TRUNCATE.bit | FS.LANDLOCK_ACCESS_FS_IOCTL_DEV.bit;
const EXECUTE = FS.LANDLOCK_ACCESS_FS_EXECUTE.bit;

function describe(table: Record<string, { abi: number }>, mask: number): string[] {
  return namesOf(table as never, mask).map((n) => `${n} (ABI ${table[n]!.abi})`);
}

function mountAccess(all: number, type: string | undefined, options: readonly string[]): number {
  const o = compileMountOptions(type, options);
  const attrs = o.attrSet | o.rattrSet;
  let access = attrs & MOUNT_ATTR.RDONLY ? FS_READ_EXECUTE : all;
  if (attrs & MOUNT_ATTR.NOEXEC) access &= ~EXECUTE;
  return access & all;
}

/** Path rules from the root, the mounts and the devices, one rule per path. */
export function pathRules(spec: OciSpec, all: number): LandlockRule[] {
  const byPath = new Map<string, number>();
  const add = (path: string, access: number) => byPath.set(path, (byPath.get(path) ?? 0) | (access & all));
  add('/', spec.root?.readonly ? FS_READ_EXECUTE : all);
  for (const m of spec.mounts ?? []) add(m.destination.replace(/\/+$/, '') || '/', mountAccess(all, m.type, m.options ?? []));
  add('/dev', FS_DEVICE);
  for (const d of spec.linux?.devices ?? []) if (!d.path.startsWith('/dev/')) add(d.path, FS_DEVICE);
  return [...byPath].filter(([, access]) => access !== 0).map(([path, access]) => ({ type: 'path', path, access }));
}

function hasOwnNamespace(spec: OciSpec, type: 'pid' | 'network'): boolean {
  return (spec.linux?.namespaces ?? []).some((n) => n.type === type && !n.path);
}

/** Builds the ruleset for a kernel of Landlock ABI `abi` (at least 1). */
export function buildRuleset(spec: OciSpec, options: LandlockOptions, abi: number, use: RulesetUse = {}): BuiltRuleset {
  const at = Math.min(abi, LANDLOCK_ABI_KNOWN);
  const dropped: string[] = [], droppedExplicit: string[] = [];
  const fsAll = maskAt(FS, at);
  dropped.push(...describe(FS, maskAt(FS, LANDLOCK_ABI_KNOWN) & ~fsAll));

  let wantNet = 0;
  if (options.net?.bind) wantNet |= LANDLOCK_ACCESS_NET.LANDLOCK_ACCESS_NET_BIND_TCP.bit;
  if (options.net?.connect) wantNet |= LANDLOCK_ACCESS_NET.LANDLOCK_ACCESS_NET_CONNECT_TCP.bit;
  const handledNet = wantNet & maskAt(LANDLOCK_ACCESS_NET, at);
  droppedExplicit.push(...describe(LANDLOCK_ACCESS_NET, wantNet & ~handledNet));

  let scopes = options.scope;
  if (use.exec) scopes = scopes.filter((s) => !hasOwnNamespace(spec, s === 'signal' ? 'pid' : 'network'));
  const wantScope = maskOf(LANDLOCK_SCOPE, scopes.map((s) => SCOPE_NAMES[s]));
  const scoped = wantScope & maskAt(LANDLOCK_SCOPE, at);
  (options.explicit.scope ? droppedExplicit : dropped).push(...describe(LANDLOCK_SCOPE, wantScope & ~scoped));

  // log the denials of the container's program (the kernel's default logs only those of
  // the process that called landlock_restrict_self, here the helper, until it execs)
  const wantRestrict = options.log ? LANDLOCK_RESTRICT_SELF.LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON.bit : 0;
  const restrictFlags = wantRestrict & maskAt(LANDLOCK_RESTRICT_SELF, at);
  if (options.explicit.log) droppedExplicit.push(...describe(LANDLOCK_RESTRICT_SELF, wantRestrict & ~restrictFlags));

  const rules = pathRules(spec, fsAll);
  for (const fd of [0, 1, 2] as const) rules.push({ type: 'fd', fd, access: FS_STDIO & fsAll });
  for (const [dir, bit] of [['bind', LANDLOCK_ACCESS_NET.LANDLOCK_ACCESS_NET_BIND_TCP.bit], ['connect', LANDLOCK_ACCESS_NET.LANDLOCK_ACCESS_NET_CONNECT_TCP.bit]] as const) {
    if (!(handledNet & bit)) continue;
    for (const port of options.net![dir]!) {
      const same = rules.find((r) => r.type === 'port' && r.port === port);
      if (same) same.access |= bit;
      else rules.push({ type: 'port', port, access: bit });
    }
  }
  const need = Math.max(abiOf(FS, fsAll), abiOf(LANDLOCK_ACCESS_NET, handledNet), abiOf(LANDLOCK_SCOPE, scoped), abiOf(LANDLOCK_RESTRICT_SELF, restrictFlags));
  return { ruleset: { abi: need, handledFs: fsAll, handledNet, scoped, restrictFlags, rules }, dropped, droppedExplicit };
}
