// Shared template caches under `<data>/cache/`: trees that many sandboxes use read-only (a
// debootstrapped Debian, an image's unpacked layers). Each is built once: under a lock (so
// concurrent creates build it once and the others wait), in a staging dir next to it, then
// renamed into place, so a cache dir that exists is complete. A crashed build leaves only a
// staging dir, removed by the next builder.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fsyncDir } from '../atomic.js';
import { takeLock } from '../lock.js';

/** How long a create waits for another command's build of the same cache. */
const BUILD_WAIT_MS = 60 * 60 * 1000;

/** The cache dir of a data dir. */
export function cacheRoot(dataDir: string): string {
  return join(dataDir, 'cache');
}

/** Makes `dir` with `build` (which fills the staging dir it is given) unless it exists.
 * Returns true if this call built it. */
export async function buildCacheOnce(dir: string, what: string, build: (stage: string) => Promise<void>): Promise<boolean> {
  if (existsSync(dir)) return false;
  const parent = dirname(dir);
  // 0711: a sandbox's root (an unprivileged host uid) never lists the caches
  mkdirSync(parent, { recursive: true, mode: 0o711 });
  const release = await takeLock(`${dir}.lock`, what, BUILD_WAIT_MS);
  try {
    if (existsSync(dir)) return false;
    // we hold the lock: any staging dir of this cache is a crashed build's
    for (const n of readdirSync(parent)) if (n.startsWith(`.${basename(dir)}.staging.`)) rmSync(join(parent, n), { recursive: true, force: true });
    const stage = join(parent, `.${basename(dir)}.staging.${process.pid}`);
    mkdirSync(stage, { mode: 0o755 });
    try {
      await build(stage);
      renameSync(stage, dir);
      fsyncDir(parent);
    } catch (e) {
      rmSync(stage, { recursive: true, force: true });
      throw e;
    }
    return true;
  } finally {
    release();
  }
}
