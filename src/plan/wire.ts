// The Plan wire format, mirrored from native/plan.h (a test checks the two agree).
// plan := "MOATPLAN" u32 version, u32 op count, u32 total length, then ops;
// op := u16 type, u16 0, u32 length, attrs; attr := u16 id, u16 0, u32 length, data.

/** Op names and their PLAN_OP_* numbers. */
export const PLAN_OPS = {
  cgroup_join: 1,
  device_bpf: 2,
  ns_join: 3,
  connect: 4,
  time_offsets: 5,
  clone: 6,
  idmap_tree: 7,
  overlay_tree: 9,
  sync: 10,
  hostname: 11,
  domainname: 12,
  root_propagation: 13,
  root_bind: 14,
  mount: 15,
  mkdev: 16,
  symlink: 17,
  open_fifo: 18,
  hook: 19,
  pivot: 20,
  sysctl: 21,
  mask: 22,
  readonly: 23,
  remount_root: 24,
  console: 25,
  rlimit: 26,
  oom_score_adj: 27,
  personality: 28,
  umask: 29,
  chdir: 30,
  wait_start: 31,
  set_user: 32,
  caps: 33,
  no_new_privs: 34,
  seccomp: 35,
  landlock: 36,
  exec: 37,
  loopback_up: 38,
  lsm_attr: 39,
  unshare: 40,
} as const;

export type PlanOpName = keyof typeof PLAN_OPS;

type Kind = 'str' | 'strs' | 'u64' | 'u64s' | 'bytes';

/** Attribute names (camelCase of PA_*), their numbers and kinds. */
export const PLAN_ATTRS = {
  path: [1, 'str'],
  source: [2, 'str'],
  fstype: [3, 'str'],
  data: [4, 'str'],
  name: [5, 'str'],
  args: [6, 'strs'],
  env: [7, 'strs'],
  bytes: [8, 'bytes'],
  flags: [9, 'u64'],
  attrSet: [10, 'u64'],
  attrClr: [11, 'u64'],
  rattrSet: [12, 'u64'],
  rattrClr: [13, 'u64'],
  propagation: [14, 'u64'],
  nstype: [15, 'u64'],
  value: [16, 'u64'],
  soft: [17, 'u64'],
  hard: [18, 'u64'],
  uid: [19, 'u64'],
  gid: [20, 'u64'],
  groups: [21, 'u64s'],
  major: [22, 'u64'],
  minor: [23, 'u64'],
  mode: [24, 'u64'],
  uidMap: [25, 'str'],
  gidMap: [26, 'str'],
  capBnd: [27, 'u64'],
  capEff: [28, 'u64'],
  capPrm: [29, 'u64'],
  capInh: [30, 'u64'],
  capAmb: [31, 'u64'],
  timeout: [32, 'u64'],
  rows: [33, 'u64'],
  cols: [34, 'u64'],
  keepFds: [35, 'u64'],
} as const satisfies Record<string, readonly [number, Kind]>;

export type PlanAttrName = keyof typeof PLAN_ATTRS;

type AttrValue<K extends Kind> = K extends 'str' ? string : K extends 'strs' ? string[] : K extends 'u64' ? bigint | number : K extends 'u64s' ? (bigint | number)[] : Uint8Array;

/** The attributes an op may carry. */
export type PlanAttrs = { [A in PlanAttrName]?: AttrValue<(typeof PLAN_ATTRS)[A][1]> };

/** One op of a Plan; `origin` is the JSON path of the config field it came from. */
export type PlanOp = { op: PlanOpName; origin?: string } & PlanAttrs;

export const PLAN_MAGIC = 'MOATPLAN';
export const PLAN_VERSION = 1;

// The encoder writes into one growing buffer: strings by encodeInto (no Uint8Array per
// string), numbers as two u32 halves (no BigInt unless negative or past 2^53), and per op only
// the attributes it has, sorted by id (not a look-up of every attribute for every op: ops have
// a few of 35, and that scan of mostly-absent keys was most of a Plan's ~0.4 ms encode)
class Writer {
  buf = new Uint8Array(16384);
  private view = new DataView(this.buf.buffer);
  len = 0;
  grow(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u16(v: number): void {
    this.grow(2);
    this.buf[this.len++] = v & 0xff;
    this.buf[this.len++] = (v >> 8) & 0xff;
  }
  u32(v: number): void {
    this.grow(4);
    this.view.setUint32(this.len, v >>> 0, true);
    this.len += 4;
  }
  u64(v: bigint | number): void {
    this.grow(8);
    if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER && Number.isInteger(v)) {
      this.view.setUint32(this.len, v >>> 0, true);
      this.view.setUint32(this.len + 4, Math.floor(v / 0x100000000), true);
    } else this.view.setBigUint64(this.len, BigInt.asUintN(64, BigInt(v)), true);
    this.len += 8;
  }
  bytes(b: Uint8Array): void {
    this.grow(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  /** an attribute's header and a string's UTF-8 bytes */
  strAttr(id: number, s: string): void {
    this.grow(8 + 3 * s.length);
    const at = this.len;
    this.u16(id);
    this.u16(0);
    const n = utf8.encodeInto(s, this.buf.subarray(at + 8)).written;
    this.view.setUint32(at + 4, n, true);
    this.len = at + 8 + n;
  }
  patch32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0, true);
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

const utf8 = new TextEncoder();
const MAGIC = utf8.encode(PLAN_MAGIC);
const ATTR_OF: Record<string, readonly [number, Kind] | undefined> = Object.assign(Object.create(null), PLAN_ATTRS);

function checkStr(op: PlanOpName, attr: string, s: string): string {
  if (s.includes('\0')) throw new TypeError(`plan op \`${op}\`: attribute \`${attr}\` contains NUL`);
  return s;
}

/** Encodes ops into the binary Plan the helper reads. */
export function encodePlan(ops: readonly PlanOp[]): Uint8Array {
  const w = new Writer();
  w.bytes(MAGIC);
  w.u32(PLAN_VERSION);
  w.u32(ops.length);
  w.u32(0); // total length, patched below
  const present: string[] = [];
  const byId = (a: string, b: string) => ATTR_OF[a]![0] - ATTR_OF[b]![0];
  for (const op of ops) {
    w.u16(PLAN_OPS[op.op]);
    w.u16(0);
    const lenAt = w.len;
    w.u32(0);
    const start = w.len;
    // on the wire in id order (PLAN_ATTRS' order), whatever the object's key order
    present.length = 0;
    for (const name in op) if (ATTR_OF[name] && (op as Record<string, unknown>)[name] !== undefined) present.push(name);
    if (present.length > 1) present.sort(byId);
    for (const name of present) {
      const [id, kind] = ATTR_OF[name]!;
      const v = (op as Record<string, unknown>)[name];
      if (kind === 'str') w.strAttr(id, checkStr(op.op, name, v as string));
      else if (kind === 'strs') for (const s of v as string[]) w.strAttr(id, checkStr(op.op, name, s));
      else if (kind === 'u64') u64Attr(w, id, v as number | bigint);
      else if (kind === 'u64s') for (const n of v as (number | bigint)[]) u64Attr(w, id, n);
      else {
        w.u16(id);
        w.u16(0);
        w.u32((v as Uint8Array).length);
        w.bytes(v as Uint8Array);
      }
    }
    w.patch32(lenAt, w.len - start);
  }
  w.patch32(16, w.len);
  return w.done();
}

function u64Attr(w: Writer, id: number, v: number | bigint): void {
  w.u16(id);
  w.u16(0);
  w.u32(8);
  w.u64(v);
}
