// Mount options of the OCI config (as `runc features` lists them) compiled to what the new
// mount API takes: MOUNT_ATTR_* for the top mount or the whole tree, propagation, and the
// filesystem data string.

/** MOUNT_ATTR_* bits (linux/mount.h). */
export const MOUNT_ATTR = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  _ATIME: 0x70,
  RELATIME: 0x0,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  NODIRATIME: 0x80,
  IDMAP: 0x100000,
  NOSYMFOLLOW: 0x200000,
} as const;

/** MS_* propagation bits (linux/mount.h). */
export const MS = {
  REC: 0x4000,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
} as const;

/** What one mount's options compile to. */
export interface MountOptions {
  bind: boolean;
  recursiveBind: boolean;
  attrSet: number;
  attrClr: number;
  rattrSet: number;
  rattrClr: number;
  propagation: number;
  /** `idmap` (the top mount) or `ridmap` (the whole tree): an id-mapped bind */
  idmap?: 'idmap' | 'ridmap';
  data: string[];
  /** options we know but that change nothing here (`rw`, `suid`, ...) are not errors */
  unknown: string[];
}

const FLAG_OPTIONS: Record<string, [set: number, clr: number]> = {
  ro: [MOUNT_ATTR.RDONLY, 0],
  rw: [0, MOUNT_ATTR.RDONLY],
  nosuid: [MOUNT_ATTR.NOSUID, 0],
  suid: [0, MOUNT_ATTR.NOSUID],
  nodev: [MOUNT_ATTR.NODEV, 0],
  dev: [0, MOUNT_ATTR.NODEV],
  noexec: [MOUNT_ATTR.NOEXEC, 0],
  exec: [0, MOUNT_ATTR.NOEXEC],
  noatime: [MOUNT_ATTR.NOATIME, MOUNT_ATTR._ATIME],
  relatime: [MOUNT_ATTR.RELATIME, MOUNT_ATTR._ATIME],
  strictatime: [MOUNT_ATTR.STRICTATIME, MOUNT_ATTR._ATIME],
  atime: [MOUNT_ATTR.RELATIME, MOUNT_ATTR._ATIME],
  // the kernel's default is relatime: without it, access times are strict
  norelatime: [MOUNT_ATTR.STRICTATIME, MOUNT_ATTR._ATIME],
  nostrictatime: [MOUNT_ATTR.RELATIME, MOUNT_ATTR._ATIME],
  nodiratime: [MOUNT_ATTR.NODIRATIME, 0],
  diratime: [0, MOUNT_ATTR.NODIRATIME],
  nosymfollow: [MOUNT_ATTR.NOSYMFOLLOW, 0],
  symfollow: [0, MOUNT_ATTR.NOSYMFOLLOW],
};

const PROPAGATION: Record<string, number> = {
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** Superblock flags that the new mount API takes as filesystem parameters. */
const SB_FLAGS = new Set(['sync', 'dirsync', 'mand', 'lazytime', 'nolazytime', 'async', 'nomand']);

/** Compiles an OCI mount's `options` (and its `type`) into attributes and data. */
export function compileMountOptions(type: string | undefined, options: readonly string[]): MountOptions {
  const out: MountOptions = { bind: type === 'bind', recursiveBind: false, attrSet: 0, attrClr: 0, rattrSet: 0, rattrClr: 0, propagation: 0, data: [], unknown: [] };
  for (const opt of options) {
    if (opt === 'bind' || opt === 'rbind') {
      out.bind = true;
      out.recursiveBind ||= opt === 'rbind';
    } else if (Object.hasOwn(FLAG_OPTIONS, opt)) {
      const [set, clr] = FLAG_OPTIONS[opt]!;
      out.attrSet = (out.attrSet & ~clr) | set;
      out.attrClr = (out.attrClr & ~set) | clr;
    } else if (opt.startsWith('r') && Object.hasOwn(FLAG_OPTIONS, opt.slice(1))) {
      const [set, clr] = FLAG_OPTIONS[opt.slice(1)]!;
      out.rattrSet = (out.rattrSet & ~clr) | set;
      out.rattrClr = (out.rattrClr & ~set) | clr;
    } else if (Object.hasOwn(PROPAGATION, opt)) {
      out.propagation = PROPAGATION[opt]!;
    } else if (SB_FLAGS.has(opt)) {
      if (opt !== 'async' && opt !== 'nomand' && opt !== 'nolazytime') out.data.push(opt);
    } else if (opt === 'defaults' || opt === 'remount' || opt === 'tmpcopyup' || opt === 'nocopyup' || opt === 'copyup') {
      // accepted and meaningless here, as in runc
    } else if (opt === 'idmap' || opt === 'ridmap') {
      out.idmap = out.idmap === 'ridmap' ? 'ridmap' : opt;
    } else if (/^[A-Za-z0-9_.-]+(=.*)?$/.test(opt)) {
      out.data.push(opt);
    } else {
      out.unknown.push(opt);
    }
  }
  // a fresh filesystem has no "clear": a plain mount starts from nothing set
  if (!out.bind) out.attrClr = 0;
  return out;
}
