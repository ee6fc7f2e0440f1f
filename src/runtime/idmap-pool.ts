// Private uid/gid ranges for containers: one range of 65536 ids per container, never handed to
// two at once, taken from root's subordinate range in /etc/subuid and /etc/subgid (added
// there if missing). Allocations live in one JSON file guarded by a lock file. Each entry
// names the process that made it (pid, its start time, the boot), so that a range whose
// maker died before its owner came to exist can be taken back (see `allocateRange`).
import { closeSync, existsSync, openSync, readFileSync, renameSync, appendFileSync, unlinkSync, writeSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { RuntimeError } from './errors.js';
import { processAlive, procStat } from './state.js';

/** A range of ids: [start, start + size). */
export interface IdRange {
  start: number;
  size: number;
}

/** Where ranges come from and where allocations are recorded. */
export interface IdPool {
  /** JSON file: owner -> start */
  file: string;
  range: IdRange;
}

/** The size of one container's range. */
export const RANGE_SIZE = 65536;
const DEFAULT_POOL_SIZE = RANGE_SIZE * 1024;

/** Parses /etc/subuid-style text: the ranges of `user`. */
export function parseSubids(text: string, user: string): IdRange[] {
  const out: IdRange[] = [];
  for (const line of text.split('\n')) {
    const [name, start, count] = line.trim().split(':');
    if (name === user && /^\d+$/.test(start ?? '') && /^\d+$/.test(count ?? '')) out.push({ start: Number(start), size: Number(count) });
  }
  return out;
}

/** The first free area above every range in the file, aligned to RANGE_SIZE. */
function freeArea(text: string, size: number): IdRange {
  let end = 1 << 20;
  for (const line of text.split('\n')) {
    const [, start, count] = line.trim().split(':');
    if (/^\d+$/.test(start ?? '') && /^\d+$/.test(count ?? '')) end = Math.max(end, Number(start) + Number(count));
  }
  const start = Math.ceil(end / RANGE_SIZE) * RANGE_SIZE;
  return { start, size };
}

/** Root's subordinate range, the same in the uid and gid files; with `create`, one is
 * added to both (at the same ids) where root has none. */
export function rootSubidRange(o: { subuid?: string; subgid?: string; create?: boolean } = {}): IdRange {
  const uidPath = o.subuid ?? '/etc/subuid', gidPath = o.subgid ?? '/etc/subgid';
  const read = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : '');
  const uidText = read(uidPath), gidText = read(gidPath);
  const u = parseSubids(uidText, 'root'), g = parseSubids(gidText, 'root');
  const both = u.find((r) => r.size >= RANGE_SIZE && g.some((x) => x.start === r.start && x.size === r.size));
  if (both) return both;
  if (!o.create) throw new RuntimeError('ERR_NOT_FOUND', `root has no subordinate range in both \`${uidPath}\` and \`${gidPath}\`; add one such as \`root:1000000000:${DEFAULT_POOL_SIZE}\` to each`);
  const a = freeArea(uidText, DEFAULT_POOL_SIZE), b = freeArea(gidText, DEFAULT_POOL_SIZE);
  const range = { start: Math.max(a.start, b.start), size: DEFAULT_POOL_SIZE };
  for (const [p, text] of [[uidPath, uidText], [gidPath, gidText]] as const)
    appendFileSync(p, `${text && !text.endsWith('\n') ? '\n' : ''}root:${range.start}:${range.size}\n`);
  return range;
}

/** One try at the pool's lock: true when taken; a dead holder's lock is removed (and the
 * caller tries again at once). Throws once `waited` is past the limit. */
function tryLock(lock: string, waited: number): boolean | 'retry' {
  try {
    const fd = openSync(lock, 'wx', 0o600);
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  let holder: number;
  try {
    holder = Number(readFileSync(lock, 'utf8'));
  } catch (e) {
    // released between our open and this read: try again at once
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'retry';
    throw e;
  }
  if (holder && !processAlive(holder)) {
    try {
      unlinkSync(lock);
    } catch {
      /* someone else took it over first */
    }
    return 'retry';
  }
  if (waited > 10_000) throw new RuntimeError('ERR_LOCKED', `id range pool \`${lock}\` is locked by process ${holder}`);
  return false;
}

function locked<T>(lock: string, fn: () => T): T {
  try {
    return fn();
  } finally {
    unlinkSync(lock);
  }
}

/** The pool lock (also used by the MCS pool), taken by waiting synchronously (for callers that cannot await). */
export function withLockSync<T>(file: string, fn: () => T): T {
  const lock = `${file}.lock`;
  mkdirSync(dirname(file), { recursive: true });
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let delay = 1, waited = 0; ; delay = Math.min(delay * 2, 50)) {
    const r = tryLock(lock, waited);
    if (r === true) return locked(lock, fn);
    if (r === false) {
      Atomics.wait(pause, 0, 0, delay);
      waited += delay;
    }
  }
}

export async function withLock<T>(file: string, fn: () => T): Promise<T> {
  const lock = `${file}.lock`;
  mkdirSync(dirname(file), { recursive: true });
  for (let delay = 1, waited = 0; ; delay = Math.min(delay * 2, 50)) {
    const r = tryLock(lock, waited);
    if (r === true) return locked(lock, fn);
    if (r === false) {
      await new Promise((res) => setTimeout(res, delay));
      waited += delay;
    }
  }
}

/** The process that made an allocation: its pid, that pid's start time (field 22 of
 * /proc/PID/stat, against pid reuse) and the boot it ran in. */
export interface Creator {
  pid: number;
  pidStart: string;
  boot: string;
}

/** One allocation. A bare number is an entry of an older moat: no creator is known, so it
 * is never reclaimed (its maker may be mid-create). */
export type PoolEntry = number | ({ start: number } & Partial<Creator>);

/** Decides whether an entry whose creator is gone may be taken back (its owner does not exist). */
export type OwnerGone = (owner: string) => boolean;

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** This process, as the creator of an allocation. */
export function currentCreator(): Creator {
  return { pid: process.pid, pidStart: procStat(process.pid)?.start ?? '', boot: bootId() };
}

/** True when the process that made an entry is known and no longer runs (another boot, or
 * its pid is gone or belongs to a newer process). */
export function creatorGone(e: PoolEntry, boot = bootId()): boolean {
  if (typeof e === 'number' || !e.pid || e.pidStart === undefined || !e.boot) return false;
  if (e.boot !== boot) return true;
  const st = procStat(e.pid);
  return !st || st.start !== e.pidStart || st.state === 'Z' || st.state === 'X';
}

function startOf(e: PoolEntry): number {
  return typeof e === 'number' ? e : e.start;
}

function readAllocations(file: string): Record<string, PoolEntry> {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, PoolEntry>) : {};
}

/** Drops the entries whose creator is gone and whose owner does not exist; returns their owners. */
function dropStale(a: Record<string, PoolEntry>, ownerGone: OwnerGone | undefined): string[] {
  if (!ownerGone) return [];
  const boot = bootId();
  const out: string[] = [];
  for (const [owner, e] of Object.entries(a)) {
    if (creatorGone(e, boot) && ownerGone(owner)) {
      delete a[owner];
      out.push(owner);
    }
  }
  return out;
}

function writeAllocations(file: string, a: Record<string, PoolEntry>): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  writeSync(fd, JSON.stringify(a));
  closeSync(fd);
  renameSync(tmp, file);
}

/** Gives `owner` a range of its own (the same one again if it already has one), recording
 * this process as its creator. First, ranges whose creator died and whose owner does not
 * exist (`ownerGone`: a create killed between allocation and commit) are taken back. */
export async function allocateRange(pool: IdPool, owner: string, ownerGone?: OwnerGone): Promise<IdRange> {
  return withLock(pool.file, () => {
    const a = readAllocations(pool.file);
    const reclaimed = dropStale(a, (o) => o !== owner && !!ownerGone?.(o)).length > 0;
    const mine = a[owner];
    if (mine !== undefined) {
      // a new create of this owner (the previous one left its range): it is ours now
      a[owner] = { start: startOf(mine), ...currentCreator() };
      writeAllocations(pool.file, a);
      return { start: startOf(mine), size: RANGE_SIZE };
    }
    const used = new Set(Object.values(a).map(startOf));
    for (let start = pool.range.start; start + RANGE_SIZE <= pool.range.start + pool.range.size; start += RANGE_SIZE) {
      if (used.has(start)) continue;
      a[owner] = { start, ...currentCreator() };
      writeAllocations(pool.file, a);
      return { start, size: RANGE_SIZE };
    }
    if (reclaimed) writeAllocations(pool.file, a);
    throw new RuntimeError('ERR_UNSUPPORTED', `no free id range left in ${pool.range.start}-${pool.range.start + pool.range.size - 1} (${used.size} in use)`);
  });
}

/** Takes back the ranges whose creator died and whose owner does not exist; returns their owners. */
export async function reclaimRanges(pool: Pick<IdPool, 'file'>, ownerGone: OwnerGone): Promise<string[]> {
  if (!existsSync(pool.file)) return [];
  return withLock(pool.file, () => {
    const a = readAllocations(pool.file);
    const gone = dropStale(a, ownerGone);
    if (gone.length) writeAllocations(pool.file, a);
    return gone;
  });
}

/** The allocations of a pool file, for reports (`moat check`, tests). */
export function readPool(file: string): Record<string, PoolEntry> {
  try {
    return readAllocations(file);
  } catch {
    return {};
  }
}

/** Gives `owner`'s range back to the pool, waiting synchronously for the lock. */
export function freeRangeSync(pool: Pick<IdPool, 'file'>, owner: string): void {
  withLockSync(pool.file, () => {
    const a = readAllocations(pool.file);
    if (a[owner] === undefined) return;
    delete a[owner];
    writeAllocations(pool.file, a);
  });
}

/** Gives `owner`'s range back to the pool. */
export async function freeRange(pool: Pick<IdPool, 'file'>, owner: string): Promise<void> {
  await withLock(pool.file, () => {
    const a = readAllocations(pool.file);
    if (a[owner] === undefined) return;
    delete a[owner];
    writeAllocations(pool.file, a);
  });
}
