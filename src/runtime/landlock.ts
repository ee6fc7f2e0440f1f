// The host's Landlock ABI. TypeScript cannot make the syscall, so the helper answers a probe
// Plan (one `landlock` op with the PROBE flag) once per boot; the answer is kept in the state
// root, keyed by the boot id, since the ABI cannot change without a reboot. A `create` thus
// reads one small file and spawns nothing. If the file lies (says more than the kernel has),
// the helper refuses the ruleset, which carries the ABI it needs; it never applies less.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LandlockHost } from '../policy/landlock/index.js';
import { encodeLandlockProbe } from '../policy/landlock/index.js';
import { encodePlan } from '../plan/wire.js';
import { errnoName } from './errors.js';
import { helperPath } from './paths.js';

/** The cache file in a state root (not a valid container id, so never mistaken for one). */
export const LANDLOCK_CACHE = '.landlock-abi';

interface CacheEntry extends LandlockHost {
  bootId: string;
}

const memo = new Map<string, LandlockHost>();

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

function reasonOf(errno: number): string {
  if (errno === 38) return 'not built into this kernel (ENOSYS)';
  if (errno === 95) return 'disabled at boot (EOPNOTSUPP): add `landlock` to the `lsm=` kernel parameter';
  return `unavailable (${errnoName(errno)})`;
}

/** Asks the helper (a Plan of one probe op on stdin, the answer on stdout). */
export function probeLandlock(): LandlockHost {
  const r = spawnSync(helperPath(), ['0'], { input: encodePlan([{ op: 'landlock', bytes: encodeLandlockProbe() }]), env: {}, timeout: 10_000, encoding: 'utf8' });
  const m = /^(\d+) (\d+)\n$/.exec(r.stdout ?? '');
  if (r.status !== 0 || !m) {
    const why = r.error?.message ?? ((r.stderr ?? '').trim() || `status ${r.status}`);
    return { abi: 0, reason: `the Landlock probe failed: ${why}` };
  }
  const abi = Number(m[1]);
  return abi > 0 ? { abi } : { abi: 0, reason: reasonOf(Number(m[2])) };
}

/** The running kernel's Landlock ABI (0: none, with the reason), cached per boot in
 * `cacheDir` (the state root) when given. */
export function landlockHost(cacheDir?: string): LandlockHost {
  const key = cacheDir ?? '';
  const known = memo.get(key);
  if (known) return known;
  const boot = bootId();
  const file = cacheDir ? join(cacheDir, LANDLOCK_CACHE) : undefined;
  if (file && boot) {
    try {
      const c = JSON.parse(readFileSync(file, 'utf8')) as CacheEntry;
      if (c.bootId === boot && Number.isInteger(c.abi) && c.abi >= 0) {
        const host: LandlockHost = c.abi > 0 ? { abi: c.abi } : { abi: 0, reason: String(c.reason ?? 'unknown') };
        memo.set(key, host);
        return host;
      }
    } catch {
      /* no cache yet, or unreadable: probe */
    }
  }
  const host = probeLandlock();
  // a failed probe is not cached: the next run tries again
  if (file && boot && !host.reason?.startsWith('the Landlock probe failed')) {
    try {
      mkdirSync(cacheDir!, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}`;
      writeFileSync(tmp, JSON.stringify({ bootId: boot, ...host }), { mode: 0o600 });
      renameSync(tmp, file);
    } catch {
      /* a cache we cannot write costs one probe per run, nothing else */
    }
  }
  memo.set(key, host);
  return host;
}
