// Where a data directory keeps things. Everything of one sandbox is under `sandboxes/NAME`;
// the runtime's OCI state (which says what runs) is under `runtime/`.
//
//   <data>/sandboxes/NAME/sandbox.json   the definition (written once, atomically)
//   <data>/sandboxes/NAME/rootfs/        the root: mountpoints, symlinks, private /etc, /var...
//   <data>/sandboxes/NAME/console.log    the sandbox's stdout and stderr
//   <data>/runtime/NAME/                 the OCI runtime's state of the running container
//                                        (a non-root user's: under $XDG_RUNTIME_DIR/moat/, see
//                                        `rootlessRuntimeRoot`)
//   <data>/locks/NAME.lock               held while a command changes the sandbox
//   <data>/staging/NAME.PID.RAND/        a sandbox being made; renamed into sandboxes/
//   <data>/trash/NAME.PID.RAND/          a sandbox being removed; renamed out of sandboxes/
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The default data directory (root's). */
export const DEFAULT_DATA_DIR = '/var/lib/moat';

/** A non-root user's default data directory: `$XDG_DATA_HOME/moat`, else `~/.local/share/moat`. */
export function userDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/')) return join(env.XDG_DATA_HOME, 'moat');
  return join(env.HOME || homedir(), '.local', 'share', 'moat');
}

/** The data directory from a flag, then MOAT_DATA_DIR, then the default (root's, or the
 * user's own for anyone else). */
export function resolveDataDir(flag?: string): string {
  return resolve(flag || process.env.MOAT_DATA_DIR || (process.getuid?.() === 0 ? DEFAULT_DATA_DIR : userDataDir()));
}

/** A dir that is the caller's own and closed to others (a runtime dir we may use). */
function ownPrivateDir(dir: string, uid: number): boolean {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/** Where a non-root user's runtime state of a data dir goes: `$XDG_RUNTIME_DIR/moat/HASH`
 * (or `/run/user/UID/moat/HASH`), a tmpfs that a reboot empties, keyed by the data dir so two
 * data dirs never share container names. Where neither is the user's own 0700 dir, the data
 * dir's own `runtime/` (0700, the user's) serves. */
export function rootlessRuntimeRoot(data: string, env: NodeJS.ProcessEnv = process.env, uid = process.getuid!()): string {
  const hash = createHash('sha256').update(resolve(data)).digest('hex').slice(0, 12);
  for (const base of [env.XDG_RUNTIME_DIR, `/run/user/${uid}`])
    if (base && base.startsWith('/') && ownPrivateDir(base, uid)) return join(base, 'moat', hash);
  return join(data, 'runtime');
}

/** Paths inside one data directory. */
export class Layout {
  readonly runtimeRoot: string;
  constructor(readonly data: string) {
    this.runtimeRoot = process.getuid?.() === 0 ? join(data, 'runtime') : rootlessRuntimeRoot(data);
  }
  get sandboxes(): string {
    return join(this.data, 'sandboxes');
  }
  get locks(): string {
    return join(this.data, 'locks');
  }
  get staging(): string {
    return join(this.data, 'staging');
  }
  get trash(): string {
    return join(this.data, 'trash');
  }
  sandbox(name: string): string {
    return join(this.sandboxes, name);
  }
  definition(name: string): string {
    return join(this.sandbox(name), 'sandbox.json');
  }
  rootfs(name: string): string {
    return join(this.sandbox(name), 'rootfs');
  }
  consoleLog(name: string): string {
    return join(this.sandbox(name), 'console.log');
  }
  lock(name: string): string {
    return join(this.locks, `${name}.lock`);
  }

  /** Makes the top-level directories. `sandboxes/` is 0711: traversable (a mapped root
   * from issue 5 must reach its rootfs), not listable by others. */
  ensure(): void {
    mkdirSync(this.data, { recursive: true, mode: 0o711 });
    mkdirSync(this.sandboxes, { recursive: true, mode: 0o711 });
    for (const d of [this.runtimeRoot, this.locks, this.staging, this.trash]) mkdirSync(d, { recursive: true, mode: 0o700 });
  }
}
