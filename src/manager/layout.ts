// Where a data directory keeps things. Everything of one sandbox is under `sandboxes/NAME`;
// the runtime's OCI state (which says what runs) is under `runtime/`.
//
//   <data>/sandboxes/NAME/sandbox.json   the definition (written once, atomically)
//   <data>/sandboxes/NAME/rootfs/        the root: mountpoints, symlinks, private /etc, /var...
//   <data>/sandboxes/NAME/console.log    the sandbox's stdout and stderr
//   <data>/runtime/NAME/                 the OCI runtime's state of the running container
//   <data>/locks/NAME.lock               held while a command changes the sandbox
//   <data>/staging/NAME.PID.RAND/        a sandbox being made; renamed into sandboxes/
//   <data>/trash/NAME.PID.RAND/          a sandbox being removed; renamed out of sandboxes/
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The default data directory. */
export const DEFAULT_DATA_DIR = '/var/lib/moat';

/** The data directory from a flag, then MOAT_DATA_DIR, then the default. */
export function resolveDataDir(flag?: string): string {
  return resolve(flag || process.env.MOAT_DATA_DIR || DEFAULT_DATA_DIR);
}

/** Paths inside one data directory. */
export class Layout {
  constructor(readonly data: string) {}
  get sandboxes(): string {
    return join(this.data, 'sandboxes');
  }
  get runtimeRoot(): string {
    return join(this.data, 'runtime');
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
