// A cache of compiled seccomp filters, in memory and under the state root, keyed by content:
// a cold `create` spends ~7 ms compiling the default profile (most of it JIT warm-up), the
// same bytes every time. Only the compiler's output is cached; what it decides stays in
// compileSeccomp. The key covers everything the output depends on: the profile's JSON, the
// host arch, and the identity of the compiler's code (the file this module was loaded from,
// which every build rewrites), so a rebuilt compiler never sees an old filter.
//
// File: `<root>/.seccomp-cache/<sha256 key>`: "MOATBPF1", u32 flags, u32 length,
// sha256(filter), filter. Writers write a private temp file and rename it over (concurrent
// writers of one key write the same bytes; the last rename wins); a reader checks the magic,
// the length and the digest, and treats anything else (a torn or corrupt file) as a miss.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigIssue } from '../spec/issues.js';
import type { OciSeccomp } from '../spec/oci-types.js';
import { compileSeccomp, type CompiledSeccomp, type HostArch } from '../policy/seccomp/index.js';

/** Not a valid container id, so never mistaken for one. */
export const SECCOMP_CACHE_DIR = '.seccomp-cache';
const MAGIC = Buffer.from('MOATBPF1');
const HEADER = MAGIC.length + 8 + 32;
/** Beyond this many entries nothing more is written (a state root of ever-new profiles). */
const MAX_ENTRIES = 256;

type Entry = { filter: Uint8Array; flags: number };
const memo = new Map<string, Entry>();
let codeId: string | undefined;

function compilerIdentity(): string {
  if (codeId === undefined) {
    try {
      const st = statSync(fileURLToPath(import.meta.url), { bigint: true });
      codeId = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
    } catch {
      codeId = '';
    }
  }
  return codeId;
}

/** The cache key of a profile on a host arch (hex sha256), or undefined when the code's
 * identity is unknown (then nothing is cached). */
export function seccompCacheKey(profile: OciSeccomp, hostArch: HostArch): string | undefined {
  const id = compilerIdentity();
  if (!id) return undefined;
  return createHash('sha256').update(`moat-seccomp-1\0${id}\0${hostArch}\0`).update(JSON.stringify(profile)).digest('hex');
}

/** Parses a cache file; undefined if it is not a complete, intact entry. */
export function decodeSeccompCacheFile(b: Buffer): Entry | undefined {
  if (b.length < HEADER || !b.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const flags = b.readUInt32LE(8), len = b.readUInt32LE(12);
  if (b.length !== HEADER + len || len % 8 !== 0 || len === 0) return undefined;
  const filter = b.subarray(HEADER);
  if (!createHash('sha256').update(filter).digest().equals(b.subarray(16, HEADER))) return undefined;
  return { filter: new Uint8Array(filter), flags };
}

function encode(e: Entry): Buffer {
  const h = Buffer.alloc(HEADER);
  MAGIC.copy(h);
  h.writeUInt32LE(e.flags, 8);
  h.writeUInt32LE(e.filter.length, 12);
  createHash('sha256').update(e.filter).digest().copy(h, 16);
  return Buffer.concat([h, e.filter]);
}

function readEntry(dir: string, key: string): Entry | undefined {
  try {
    return decodeSeccompCacheFile(readFileSync(join(dir, key)));
  } catch {
    return undefined;
  }
}

function writeEntry(dir: string, key: string, e: Entry): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (readdirSync(dir).length >= MAX_ENTRIES) return;
    const tmp = join(dir, `.${key}.${process.pid}.${randomBytes(4).toString('hex')}`);
    try {
      writeFileSync(tmp, encode(e), { mode: 0o600, flag: 'wx' });
      renameSync(tmp, join(dir, key));
    } finally {
      rmSync(tmp, { force: true });
    }
  } catch {
    /* a cache we cannot write costs a compile per run, nothing else */
  }
}

/** compileSeccomp with the cache: `cacheRoot` is a state root (undefined: memory only).
 * A profile whose compile reports anything (errors or warnings) is never cached, so a hit
 * means "compiled, no issues". */
export function compileSeccompCached(profile: OciSeccomp, hostArch: HostArch, cacheRoot?: string): { result?: CompiledSeccomp; issues: ConfigIssue[] } {
  const key = seccompCacheKey(profile, hostArch);
  const dir = cacheRoot ? join(cacheRoot, SECCOMP_CACHE_DIR) : undefined;
  let hit = key ? memo.get(key) : undefined;
  if (!hit && key && dir) {
    hit = readEntry(dir, key);
    if (hit) memo.set(key, hit);
  }
  if (hit) {
    const result: CompiledSeccomp = { filter: hit.filter, flags: hit.flags };
    if (profile.listenerPath !== undefined) result.listenerPath = profile.listenerPath;
    if (profile.listenerMetadata !== undefined) result.listenerMetadata = profile.listenerMetadata;
    return { result, issues: [] };
  }
  const r = compileSeccomp(profile, { hostArch });
  if (key && r.result && !r.issues.length) {
    const e = { filter: r.result.filter, flags: r.result.flags };
    memo.set(key, e);
    if (dir) writeEntry(dir, key, e);
  }
  return r;
}

/** Forgets the in-memory entries (tests: the next lookup reads the file). */
export function clearSeccompMemo(): void {
  memo.clear();
}
