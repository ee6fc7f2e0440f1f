// Landlock's access rights, scopes and flags (linux/landlock.h, kernel names verbatim), each
// with the ABI version that brought it: a kernel of ABI n enforces what has abi <= n.

/** One right, scope or flag: its bit and the first ABI that has it. */
export interface LandlockBit {
  bit: number;
  abi: number;
}

const b = (shift: number, abi: number): LandlockBit => ({ bit: 2 ** shift, abi });

/** LANDLOCK_ACCESS_FS_*: handled in `handled_access_fs`, granted by path-beneath rules. */
export const LANDLOCK_ACCESS_FS = {
  LANDLOCK_ACCESS_FS_EXECUTE: b(0, 1),
  LANDLOCK_ACCESS_FS_WRITE_FILE: b(1, 1),
  LANDLOCK_ACCESS_FS_READ_FILE: b(2, 1),
  LANDLOCK_ACCESS_FS_READ_DIR: b(3, 1),
  LANDLOCK_ACCESS_FS_REMOVE_DIR: b(4, 1),
  LANDLOCK_ACCESS_FS_REMOVE_FILE: b(5, 1),
  LANDLOCK_ACCESS_FS_MAKE_CHAR: b(6, 1),
  LANDLOCK_ACCESS_FS_MAKE_DIR: b(7, 1),
  LANDLOCK_ACCESS_FS_MAKE_REG: b(8, 1),
  LANDLOCK_ACCESS_FS_MAKE_SOCK: b(9, 1),
  LANDLOCK_ACCESS_FS_MAKE_FIFO: b(10, 1),
  LANDLOCK_ACCESS_FS_MAKE_BLOCK: b(11, 1),
  LANDLOCK_ACCESS_FS_MAKE_SYM: b(12, 1),
  LANDLOCK_ACCESS_FS_REFER: b(13, 2),
  LANDLOCK_ACCESS_FS_TRUNCATE: b(14, 3),
  LANDLOCK_ACCESS_FS_IOCTL_DEV: b(15, 5),
} as const;

/** LANDLOCK_ACCESS_NET_*: handled in `handled_access_net`, granted by port rules. */
export const LANDLOCK_ACCESS_NET = {
  LANDLOCK_ACCESS_NET_BIND_TCP: b(0, 4),
  LANDLOCK_ACCESS_NET_CONNECT_TCP: b(1, 4),
} as const;

/** LANDLOCK_SCOPE_*: IPC that may not leave the domain. */
export const LANDLOCK_SCOPE = {
  LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET: b(0, 6),
  LANDLOCK_SCOPE_SIGNAL: b(1, 6),
} as const;

/** LANDLOCK_RESTRICT_SELF_*: flags of landlock_restrict_self (audit logging). */
export const LANDLOCK_RESTRICT_SELF = {
  LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF: b(0, 7),
  LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON: b(1, 7),
  LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF: b(2, 7),
} as const;

/** The newest ABI this build knows; a newer kernel is used at this level. */
export const LANDLOCK_ABI_KNOWN = 7;

type Table = Record<string, LandlockBit>;

/** The union of a table's bits available at `abi`. */
export function maskAt(table: Table, abi: number): number {
  let m = 0;
  for (const r of Object.values(table)) if (r.abi <= abi) m |= r.bit;
  return m;
}

/** The union of named bits of a table. */
export function maskOf(table: Table, names: readonly string[]): number {
  let m = 0;
  for (const n of names) m |= table[n]!.bit;
  return m;
}

/** Names of the bits of `mask`, in the table's order. */
export function namesOf(table: Table, mask: number): string[] {
  return Object.entries(table).filter(([, r]) => (mask & r.bit) !== 0).map(([n]) => n);
}

/** The lowest ABI that has every bit of `mask`. */
export function abiOf(table: Table, mask: number): number {
  let abi = 0;
  for (const r of Object.values(table)) if (mask & r.bit) abi = Math.max(abi, r.abi);
  return abi;
}

const FS = LANDLOCK_ACCESS_FS;

/** What a read-only tree gets: read files and directories, execute files. */
export const FS_READ_EXECUTE = FS.LANDLOCK_ACCESS_FS_EXECUTE.bit | FS.LANDLOCK_ACCESS_FS_READ_FILE.bit | FS.LANDLOCK_ACCESS_FS_READ_DIR.bit;

/** What device nodes need whatever their mount's flags (a read-only mount never stopped
 * writes to a device node; the device cgroup decides which devices may be used). */
export const FS_DEVICE = FS.LANDLOCK_ACCESS_FS_READ_FILE.bit | FS.LANDLOCK_ACCESS_FS_WRITE_FILE.bit | FS.LANDLOCK_ACCESS_FS_TRUNCATE.bit |
  FS.LANDLOCK_ACCESS_FS_IOCTL_DEV.bit | FS.LANDLOCK_ACCESS_FS_READ_DIR.bit;
