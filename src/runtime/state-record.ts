// The binary twin of state.json (`state.bin`), read by the helper's CLI front (native/front*.c)
// so that `moat-oci state|kill|start|delete` need not start Node. It is derived from the same
// record as state.json, in the same write, and holds only what those verbs need, rendered
// ahead: the OCI state documents (the status is the only live part), the pid and its start
// time, the cgroup dirs moat created, and flags that send a command back to Node (hooks,
// rootless). C parses nothing else: no JSON library in the helper.
//
//   "MOATSTB1" u32 version u32 body_len u64 fnv1a64(body) body
//   body := u32 flags u32 pid u64 fnv1a64(state.json bytes)
//           str pidStart, str id, str stoppedDoc, str liveHead, str liveTail,
//           str freezerKind ("", "v1", "v2"), str freezerDir, str procsDir, str killDir,
//           u32 n, str owned[n], u32 m, str created[m]
//   str  := u32 len, bytes (no NUL)
//
// The digest of state.json's bytes makes a record that a writer without this file (an older
// build) left behind stale: C then falls back to Node. All integers are little-endian.
import type { ContainerCgroup } from './cgroups/cgroup-types.js';
import { freezerOf } from './cgroups/freeze-container-cgroup.js';
import { ociState, type ContainerRecord } from './state.js';

export const STATE_BIN_MAGIC = 'MOATSTB1';
export const STATE_BIN_VERSION = 1;
export const STATE_FLAG = { HOOKS: 1, ROOTLESS: 2, STOPPED: 4 } as const;

/** 64-bit FNV-1a: a check against torn or corrupt files, not against an attacker (the state
 * root is root's own, 0700). */
export function fnv1a64(b: Uint8Array): bigint {
  // in two 32-bit halves (a BigInt per byte cost ~0.5 ms for a 15 KB state.json, three times
  // per create): h * (2^40 + 0x1b3) = h * 0x1b3 + (lo << 40); every sum below stays under
  // 2^53, so the doubles are exact, and `>>> 0` takes them mod 2^32
  let hi = 0xcbf29ce4, lo = 0x84222325;
  for (let i = 0; i < b.length; i++) {
    lo = (lo ^ b[i]!) >>> 0;
    const l = lo * 0x1b3;
    hi = (hi * 0x1b3 + ((l / 0x100000000) | 0) + ((lo << 8) >>> 0)) >>> 0;
    lo = l >>> 0;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Little-endian u32/u64 and length-prefixed strings: the binary records the C front reads
 * (state.bin here, Plan cache entries in plan-cache.ts). A text string may hold no NUL (C
 * handles it as a C string); bytes go as they are. */
export class RecordWriter {
  parts: Buffer[] = [];
  u32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n >>> 0);
    this.parts.push(b);
  }
  u64(n: bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(n);
    this.parts.push(b);
  }
  str(s: string | Uint8Array): void {
    if (typeof s === 'string' && s.includes('\0')) throw new Error('NUL in a record string');
    const b = Buffer.from(s);
    this.u32(b.length);
    this.parts.push(b);
  }
  strs(a: string[]): void {
    this.u32(a.length);
    for (const s of a) this.str(s);
  }
  /** The state strings of srecStrings, in the order the C front reads them. */
  stateStrings(s: { strings: string[]; owned: string[]; created: string[] }): void {
    for (const x of s.strings) this.str(x);
    this.strs(s.owned);
    this.strs(s.created);
  }
  /** The body behind a 24-byte header: magic (8), version, body length, FNV-1a of the body. */
  framed(magic: string, version: number): Buffer {
    const body = Buffer.concat(this.parts);
    const h = Buffer.alloc(24);
    h.write(magic, 0, 'latin1');
    h.writeUInt32LE(version, 8);
    h.writeUInt32LE(body.length, 12);
    h.writeBigUInt64LE(fnv1a64(body), 16);
    return Buffer.concat([h, body]);
  }
}

function hasHooks(rec: ContainerRecord): boolean {
  return Object.values(rec.spec.hooks ?? {}).some((h) => Array.isArray(h) && h.length > 0);
}

/** The `state` command's document, as the Node path prints it. */
export function renderStateDoc(rec: ContainerRecord, status: 'created' | 'running' | 'stopped'): string {
  return JSON.stringify({ ...ociState(rec, status), rootfs: rec.rootfs, created: rec.created, owner: rec.owner }, null, 2) + '\n';
}

function splitLive(rec: ContainerRecord): [string, string] {
  const doc = renderStateDoc(rec, 'created');
  // JSON.stringify escapes newlines inside strings, so this text only occurs as the key itself
  const mark = '\n  "status": "';
  const at = doc.indexOf(mark) + mark.length;
  if (at < mark.length || !doc.startsWith('created"', at)) throw new Error('state document without a status');
  return [doc.slice(0, at), doc.slice(at + 'created'.length)];
}

function cgroupFields(cg: ContainerCgroup | undefined, kind?: string): { kind: string; freezer: string; procs: string; kill: string; owned: string[]; created: string[] } {
  if (!cg) return { kind: '', freezer: '', procs: '', kill: '', owned: [], created: [] };
  const f = kind === undefined ? freezerOf(cg) : kind === 'v1' ? { kind, dir: cg.dirs.freezer! } : kind === 'v2' ? { kind, dir: cg.dirs.unified! } : undefined;
  const owned = [...new Set(Object.values(cg.dirs))].filter((d) => cg.created.includes(d));
  const unified = cg.dirs.unified;
  return {
    kind: f?.kind ?? '', freezer: f?.dir ?? '', procs: Object.values(cg.dirs)[0] ?? '',
    kill: unified && owned.includes(unified) ? unified : '', owned, created: cg.created,
  };
}

/** The record's fields but the pid and the digest (`freezerKind` given: not probed). */
export function srecStrings(rec: ContainerRecord, rootless = false, freezerKind?: string): { flags: number; strings: string[]; owned: string[]; created: string[] } {
  const flags = (hasHooks(rec) ? STATE_FLAG.HOOKS : 0) | (rootless ? STATE_FLAG.ROOTLESS : 0) | (rec.stopped ? STATE_FLAG.STOPPED : 0);
  const [head, tail] = splitLive(rec);
  const cg = cgroupFields(rec.cgroup as ContainerCgroup | undefined, freezerKind);
  return { flags, strings: [rec.pidStart, rec.id, renderStateDoc(rec, 'stopped'), head, tail, cg.kind, cg.freezer, cg.procs, cg.kill], owned: cg.owned, created: cg.created };
}

/** Encodes the record that goes next to state.json, whose bytes are `json`. */
export function encodeStateRecord(rec: ContainerRecord, json: Uint8Array, rootless: boolean): Buffer {
  const w = new RecordWriter();
  const s = srecStrings(rec, rootless);
  w.u32(s.flags);
  w.u32(rec.pid);
  w.u64(fnv1a64(json));
  w.stateStrings(s);
  return w.framed(STATE_BIN_MAGIC, STATE_BIN_VERSION);
}
