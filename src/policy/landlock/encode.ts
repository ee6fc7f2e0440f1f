// The payload of the Plan's `landlock` op (its BYTES attribute), version 1, little-endian.
// The parser is native/ops-landlock.c, which checks every length and bit.
//
//   header, 48 bytes
//      0 u32 version             1
//      4 u32 abi                 lowest Landlock ABI the ruleset needs (the helper refuses
//                                a kernel that offers less)
//      8 u64 handled_access_fs   LANDLOCK_ACCESS_FS_*
//     16 u64 handled_access_net  LANDLOCK_ACCESS_NET_*
//     24 u64 scoped              LANDLOCK_SCOPE_*
//     32 u32 restrict_flags      LANDLOCK_RESTRICT_SELF_*
//     36 u32 flags               bit 0 PROBE: the helper prints "ABI ERRNO\n" and exits 0
//     40 u32 rule_count          at most 4096
//     44 u32 reserved            0
//   rule, rule_count times
//      0 u16 type                1 path beneath (LANDLOCK_RULE_PATH_BENEATH), 2 net port,
//                                3 inherited fd (a rule on the inode of the helper's fd 0-2,
//                                cut to the fd's access mode; never a directory)
//      2 u16 reserved            0
//      4 u32 len                 of the data
//      8 u64 allowed_access
//     16 data                    path: absolute container path, UTF-8, no NUL, < 4096
//                                bytes; port: u64; fd: u64, 0-2
import type { LandlockRuleset } from './ruleset.js';

export const LANDLOCK_PAYLOAD_VERSION = 1;
const HEADER = 48;
const RULE_HEADER = 16;
const MAX_RULES = 4096;
const FLAG_PROBE = 1;
const RULE_PATH = 1;
const RULE_PORT = 2;
const RULE_FD = 3;

const utf8 = new TextEncoder();

function header(r: Pick<LandlockRuleset, 'abi' | 'handledFs' | 'handledNet' | 'scoped' | 'restrictFlags'>, flags: number, count: number, v: DataView): void {
  v.setUint32(0, LANDLOCK_PAYLOAD_VERSION, true);
  v.setUint32(4, r.abi, true);
  v.setBigUint64(8, BigInt(r.handledFs), true);
  v.setBigUint64(16, BigInt(r.handledNet), true);
  v.setBigUint64(24, BigInt(r.scoped), true);
  v.setUint32(32, r.restrictFlags, true);
  v.setUint32(36, flags, true);
  v.setUint32(40, count, true);
  v.setUint32(44, 0, true);
}

/** Encodes a ruleset for the helper. */
export function encodeLandlock(r: LandlockRuleset): Uint8Array {
  if (r.rules.length > MAX_RULES) throw new RangeError(`landlock ruleset: ${r.rules.length} rules, at most ${MAX_RULES}`);
  const data = r.rules.map((rule) => {
    if (rule.type === 'port' || rule.type === 'fd') {
      const d = new Uint8Array(8);
      new DataView(d.buffer).setBigUint64(0, BigInt(rule.type === 'port' ? rule.port : rule.fd), true);
      return d;
    }
    if (!rule.path.startsWith('/') || rule.path.includes('\0')) throw new TypeError(`landlock rule: bad path \`${rule.path}\``);
    const d = utf8.encode(rule.path);
    if (d.length >= 4096) throw new RangeError(`landlock rule: path \`${rule.path.slice(0, 40)}...\` too long`);
    return d;
  });
  const out = new Uint8Array(HEADER + data.reduce((n, d) => n + RULE_HEADER + d.length, 0));
  const v = new DataView(out.buffer);
  header(r, 0, r.rules.length, v);
  let off = HEADER;
  r.rules.forEach((rule, i) => {
    v.setUint16(off, rule.type === 'path' ? RULE_PATH : rule.type === 'port' ? RULE_PORT : RULE_FD, true);
    v.setUint16(off + 2, 0, true);
    v.setUint32(off + 4, data[i]!.length, true);
    v.setBigUint64(off + 8, BigInt(rule.access), true);
    out.set(data[i]!, off + RULE_HEADER);
    off += RULE_HEADER + data[i]!.length;
  });
  return out;
}

/** The payload that asks the helper for the kernel's Landlock ABI instead of applying one. */
export function encodeLandlockProbe(): Uint8Array {
  const out = new Uint8Array(HEADER);
  header({ abi: 0, handledFs: 0, handledNet: 0, scoped: 0, restrictFlags: 0 }, FLAG_PROBE, 0, new DataView(out.buffer));
  return out;
}
