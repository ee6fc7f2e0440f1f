// SELinux MCS category pairs for sandboxes: a pair (cX,cY, X<Y, c0-c1023) of their own, never
// held by two live sandboxes at once, kept in one JSON file (owner -> [X, Y]) under the same
// lock-file discipline as the id range pool, given back at delete.
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { MCS_MAX_CATEGORY } from '../../policy/mac/index.js';
import { RuntimeError } from '../errors.js';
import { withLock, withLockSync } from '../idmap-pool.js';

/** The host-wide pool file ($MOAT_MCS_POOL overrides it). */
export function mcsPoolFile(): string {
  return process.env.MOAT_MCS_POOL ?? '/var/lib/moat/mcs.json';
}

type Pairs = Record<string, [number, number]>;

function readPairs(file: string): Pairs {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Pairs) : {};
}

function writePairs(file: string, a: Pairs): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  writeSync(fd, JSON.stringify(a));
  closeSync(fd);
  renameSync(tmp, file);
}

const key = (p: readonly [number, number]) => `${p[0]},${p[1]}`;

/** A free pair: random (so that a pair says nothing about when a sandbox was made), and a
 * scan from c0 when random tries keep hitting used ones. */
function freePair(used: Set<string>, max: number): [number, number] | undefined {
  for (let i = 0; i < 64; i++) {
    const a = randomInt(0, max + 1), b = randomInt(0, max + 1);
    if (a === b) continue;
    const p: [number, number] = a < b ? [a, b] : [b, a];
    if (!used.has(key(p))) return p;
  }
  for (let a = 0; a < max; a++) for (let b = a + 1; b <= max; b++) if (!used.has(`${a},${b}`)) return [a, b];
  return undefined;
}

/** Gives `owner` a category pair of its own (the same one again if it has one). `max` is the
 * highest category (tests use small pools). */
export async function allocateMcsPair(file: string, owner: string, max = MCS_MAX_CATEGORY): Promise<[number, number]> {
  return withLock(file, () => {
    const a = readPairs(file);
    if (a[owner]) return a[owner]!;
    const p = freePair(new Set(Object.values(a).map(key)), max);
    if (!p) throw new RuntimeError('ERR_UNSUPPORTED', `no free MCS category pair left in c0-c${max} (${Object.keys(a).length} in use)`);
    a[owner] = p;
    writePairs(file, a);
    return p;
  });
}

/** Every pair now held, by owner. */
export function mcsAllocations(file: string): Pairs {
  return readPairs(file);
}

/** Gives `owner`'s pair back. */
export async function freeMcsPair(file: string, owner: string): Promise<void> {
  await withLock(file, () => {
    const a = readPairs(file);
    if (!a[owner]) return;
    delete a[owner];
    writePairs(file, a);
  });
}

/** Gives `owner`'s pair back, waiting synchronously for the lock (crash sweeps). */
export function freeMcsPairSync(file: string, owner: string): void {
  withLockSync(file, () => {
    const a = readPairs(file);
    if (!a[owner]) return;
    delete a[owner];
    writePairs(file, a);
  });
}
