// The Plan cache of the CLI front (docs/performance.md, "The CLI fast path"): after a
// successful `create` (or `run`), TypeScript stores what it did so that the helper's front
// (native/front-create.c) can do the same for the next container of a byte-identical
// config.json on an identical host without starting Node: the encoded Plan, the cgroup dirs
// and writes, the warnings it printed, and the state records. Container-specific values
// (the id; the pid, its start time and the creation time in the state records) are
// placeholders that C substitutes, in the Plan only inside the attributes marked here.
// C validates nothing: it checks the entry's integrity, compares the key fields verbatim
// (config.json's bytes, bundle, root, flags) and re-reads the host facts listed here.
//
// File `<root>/.plan-cache/<fnv1a64 hex of the key fields>`:
//   "MOATPC01" u32 version u32 body_len u64 fnv1a64(body) body
//   body := str mode, str root, str bundle, str flags, str config,
//           u32 n, fact[n] (u32 kind, str path, str expected)      kind 1 file, 2 stat, 3 cgroup mounts
//           str warnings, u32 n, str mkdir[n], u32 n, (str path, str value)[n],
//           str plan, u32 n, u32 mark[n], str stateJson,
//           u32 srecFlags, str srec[9], u32 n, str owned[n], u32 n, str created[n]
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OciMount, OciSpec } from '../spec/oci-types.js';
import { compileMountOptions, MOUNT_ATTR } from '../policy/mounts/options.js';
import type { CgroupHost, ContainerCgroup } from './cgroups/cgroup-types.js';
import { fnv1a64, RecordWriter, srecStrings } from './state-record.js';
import type { ContainerRecord } from './state.js';
import { helperPath } from './paths.js';

export const PLAN_CACHE_DIR = '.plan-cache';
const MAGIC = 'MOATPC01';
const VERSION = 1;
const MAX_ENTRIES = 256;
export const PH = { id: '@@MOAT_ID@@', pid: '"@@MOAT_PID@@"', start: '@@MOAT_START@@', created: '@@MOAT_CREATED@@' } as const;
const FACT = { FILE: 1, STAT: 2, MOUNTS: 3 } as const;

/** What a create did that C replays: cgroup writes in order, and the warnings printed. */
export interface PlanCapture {
  writes: { path: string; value: string }[];
  warnings: string[];
}

/** The key fields: the command's mode and everything of its command line that reaches the Plan. */
export interface PlanKey {
  mode: 'create' | 'run' | 'run-detach';
  root: string;
  bundle: string;
  noPivot: boolean;
}

/** Why a create may not be cached (undefined: it may). Anything container-specific beyond
 * the id, and anything TypeScript does during the container's life (hooks, a seccomp agent),
 * keeps it on the Node path. */
export function uncacheableReason(spec: OciSpec, o: { consoleSocket?: string; preserveFds?: number; rootless: boolean }): string | undefined {
  if (o.rootless) return 'rootless';
  if (process.env.MOAT_HELPER) return 'MOAT_HELPER set';
  if (o.consoleSocket || spec.process?.terminal) return 'terminal';
  if (o.preserveFds) return 'preserved fds';
  if (Object.values(spec.hooks ?? {}).some((h) => Array.isArray(h) && h.length)) return 'hooks';
  if (spec.linux?.seccomp?.listenerPath) return 'seccomp listener';
  if (spec.linux?.cgroupsPath) return 'cgroupsPath';
  if (spec.mounts?.some(isWritableCgroupMount)) return 'read-write cgroup mount (delegation)';
  if (spec.linux?.uidMappings?.length || spec.linux?.gidMappings?.length) return 'id maps';
  if (Object.keys(spec.annotations ?? {}).some((k) => k.includes('idmap'))) return 'idmap annotation';
  if (spec.mounts?.some((m) => m.options?.some((x) => /idmap/.test(x)) || m.uidMappings || m.gidMappings)) return 'id-mapped mount';
  // labels: Smack rules are loaded by TypeScript at create, and a label names host policy
  if (spec.process?.selinuxLabel || spec.process?.apparmorProfile || spec.linux?.mountLabel) return 'MAC label';
  if (Object.keys(spec.annotations ?? {}).some((k) => k.startsWith('run.moat.smack') || k.startsWith('run.moat.overlay'))) return 'smack or overlay annotation';
  return undefined;
}

/** A `cgroup`/`cgroup2` mount that is not read-only (by its options as the mount compiles them). */
export function isWritableCgroupMount(m: OciMount): boolean {
  if (m.type !== 'cgroup' && m.type !== 'cgroup2') return false;
  const o = compileMountOptions(m.type, m.options ?? []);
  return ((o.attrSet | o.rattrSet) & MOUNT_ATTR.RDONLY) === 0;
}

/** The cgroup mounts of /proc/self/mountinfo, one `mountpoint fstype superoptions` line each
 * (native/front-create.c computes the same). */
export function cgroupMountSummary(mountinfo: string): string {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' '), post = line.slice(sep + 3).split(' ');
    if (post[0] === 'cgroup' || post[0] === 'cgroup2') out.push(`${pre[4]} ${post[0]} ${post[2] ?? ''}`);
  }
  return out.join('\n');
}

function statFact(path: string): string {
  const st = statSync(path, { bigint: true });
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
}

/** The host facts the Plan and the cgroup writes were derived from, as C re-reads them. */
function hostFacts(host: CgroupHost): [number, string, string][] {
  const file = (p: string): [number, string, string] => [FACT.FILE, p, readFileSync(p, 'latin1')];
  const facts = [
    file('/proc/self/cgroup'), file('/proc/sys/kernel/random/boot_id'), file('/proc/sys/kernel/osrelease'),
    [FACT.MOUNTS, '', cgroupMountSummary(readFileSync('/proc/self/mountinfo', 'utf8'))] as [number, string, string],
    [FACT.STAT, helperPath(), statFact(helperPath())] as [number, string, string],
    // the code that compiled the Plan: the bundle (or this module), which every build rewrites
    [FACT.STAT, fileURLToPath(import.meta.url), statFact(fileURLToPath(import.meta.url))] as [number, string, string],
  ];
  if (host.unified) facts.push(file(join(host.unified, host.self[''] ?? '/', 'cgroup.controllers')));
  if (host.v1.cpuset) for (const f of ['cpuset.cpus', 'cpuset.mems']) facts.push(file(join(host.v1.cpuset, host.self.cpuset ?? '/', f)));
  return facts;
}

/** The entry's file name: C computes the same from the command line and config.json. */
export function planCacheName(key: PlanKey, config: Uint8Array): string {
  const head = Buffer.from(`${key.mode}\0${key.root}\0${key.bundle}\0${keyFlags(key)}\0`);
  return fnv1a64(Buffer.concat([head, config])).toString(16).padStart(16, '0');
}

function keyFlags(key: PlanKey): string {
  return key.noPivot ? 'no-pivot' : '';
}

/** Walks an encoded Plan's attributes: calls `fn(ordinal, payload offset, length)` for each. */
export function forEachPlanAttr(plan: Uint8Array, fn: (ordinal: number, off: number, len: number) => void): void {
  const v = new DataView(plan.buffer, plan.byteOffset, plan.byteLength);
  let off = 20, ordinal = 0;
  for (let op = 0, n = v.getUint32(12, true); op < n; op++) {
    const end = off + 8 + v.getUint32(off + 4, true);
    for (off += 8; off < end; ordinal++) {
      const len = v.getUint32(off + 4, true);
      fn(ordinal, off + 8, len);
      off += 8 + len;
    }
  }
}

/** Replaces the id placeholder inside the marked attributes (the algorithm of front-create.c). */
export function substitutePlan(plan: Uint8Array, marks: number[], id: string): Buffer {
  const parts: Buffer[] = [Buffer.from(plan.subarray(0, 20))];
  const v = new DataView(plan.buffer, plan.byteOffset, plan.byteLength);
  let off = 20, ordinal = 0;
  for (let op = 0, n = v.getUint32(12, true); op < n; op++) {
    const end = off + 8 + v.getUint32(off + 4, true);
    const head = Buffer.from(plan.subarray(off, off + 8));
    const attrs: Buffer[] = [];
    for (off += 8; off < end; ordinal++) {
      const len = v.getUint32(off + 4, true);
      let data = Buffer.from(plan.subarray(off + 8, off + 8 + len));
      if (marks.includes(ordinal)) data = Buffer.from(data.toString('utf8').split(PH.id).join(id));
      const ah = Buffer.from(plan.subarray(off, off + 8));
      ah.writeUInt32LE(data.length, 4);
      attrs.push(ah, data);
      off += 8 + len;
    }
    const body = Buffer.concat(attrs);
    head.writeUInt32LE(body.length, 4);
    parts.push(head, body);
  }
  const out = Buffer.concat(parts);
  out.writeUInt32LE(out.length, 16);
  return out;
}

/** Everything the store needs from one successful create. */
export interface PlanCacheInput {
  key: PlanKey;
  id: string;
  host: CgroupHost;
  /** the Plan TypeScript ran, and the same Plan built with the id placeholder */
  plan: Uint8Array;
  template: Uint8Array;
  record: ContainerRecord;
  capture: PlanCapture;
}

function templateRecord(rec: ContainerRecord, id: string): ContainerRecord {
  const cg = rec.cgroup as ContainerCgroup | undefined;
  const sub = (s: string) => s.split(`/moat-${id}`).join(`/moat-${PH.id}`);
  const tcg = cg && { ...cg, dirs: Object.fromEntries(Object.entries(cg.dirs).map(([k, d]) => [k, sub(d)])), created: cg.created.map(sub), ...(cg.deviceBpf ? { deviceBpf: { ...cg.deviceBpf, dir: sub(cg.deviceBpf.dir) } } : {}) };
  return { ...rec, id: PH.id, pid: PH.pid as unknown as number, pidStart: PH.start, created: PH.created, ...(tcg ? { cgroup: tcg } : {}) };
}

// the JSON form of the pid placeholder is `"\"@@MOAT_PID@@\""`: C replaces the quoted text
function jsonTemplate(rec: ContainerRecord): string {
  return JSON.stringify(rec).split(JSON.stringify(PH.pid)).join(PH.pid);
}

/** Fills the placeholders in (native/front-create.c does the same). */
export function renderTemplate(t: string, v: { id: string; pid: string; start: string; created: string }): string {
  return t.split(PH.pid).join(v.pid).split(PH.start).join(v.start).split(PH.created).join(v.created).split(PH.id).join(v.id);
}

/** Stores a create's result for the front; any doubt (placeholders already in the data, a
 * substitution that does not reproduce the Plan exactly) stores nothing. Never throws. */
export function storePlanCache(i: PlanCacheInput, config: Uint8Array): void {
  try {
    const real = JSON.stringify(i.record);
    if (real.includes('@@MOAT_') || Buffer.from(i.plan).includes('@@MOAT_') || config.includes(0)) return;
    const marks: number[] = [];
    forEachPlanAttr(i.template, (ord, off, len) => {
      if (Buffer.from(i.template.subarray(off, off + len)).includes(PH.id)) marks.push(ord);
    });
    if (!substitutePlan(i.template, marks, i.id).equals(Buffer.from(i.plan))) return;
    const trec = templateRecord(i.record, i.id);
    const tjson = jsonTemplate(trec);
    const values = { id: i.id, pid: String(i.record.pid), start: i.record.pidStart, created: i.record.created };
    if (renderTemplate(tjson, values) !== real) return;
    const kind = srecStrings(i.record).strings[5]!;
    const s = srecStrings(trec, false, kind);
    s.strings = s.strings.map((x) => x.split(JSON.stringify(PH.pid)).join(PH.pid));
    const want = srecStrings(i.record);
    const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, k) => renderTemplate(x, values) === b[k]);
    if (s.flags !== want.flags || !same(s.strings, want.strings) || !same(s.owned, want.owned) || !same(s.created, want.created)) return;
    const cg = i.record.cgroup as ContainerCgroup | undefined;
    const sub = (s: string) => s.split(`/moat-${i.id}`).join(`/moat-${PH.id}`);
    const w = new RecordWriter();
    for (const s of [i.key.mode, i.key.root, i.key.bundle, keyFlags(i.key)]) w.str(s);
    w.str(config);
    const facts = hostFacts(i.host);
    w.u32(facts.length);
    for (const [k, p, e] of facts) (w.u32(k), w.str(p), w.str(e));
    w.str(i.capture.warnings.join(''));
    w.strs((cg?.created ?? []).map(sub));
    w.u32(i.capture.writes.length);
    for (const x of i.capture.writes) (w.str(sub(x.path)), w.str(x.value));
    w.str(i.template);
    w.u32(marks.length);
    for (const m of marks) w.u32(m);
    w.str(tjson);
    w.u32(s.flags);
    w.stateStrings(s);
    writeEntry(join(i.key.root, PLAN_CACHE_DIR), planCacheName(i.key, config), w.framed(MAGIC, VERSION));
  } catch {
    /* a cache that cannot be written is only slower */
  }
}

function writeEntry(dir: string, name: string, b: Buffer): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (readdirSync(dir).length >= MAX_ENTRIES) return;
  const tmp = join(dir, `.${name}.${process.pid}.${createHash('sha256').update(b).digest('hex').slice(0, 8)}`);
  writeFileSync(tmp, b, { mode: 0o600 });
  renameSync(tmp, join(dir, name));
}
