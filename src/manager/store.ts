// The sandbox store: definitions and roots on disk. A sandbox appears by one rename (from
// staging/, fully made) and disappears by one rename (into trash/), so a crash at any point
// leaves the old state or the new; leftovers in staging/ and trash/ are swept by the next
// command.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fsyncDir } from './atomic.js';
import { ownSandboxTree, reclaimUserNamespaces, releaseSweptUserNamespace, removeSandboxTree } from './userns.js';
import { crashPoint } from './crash.js';
import type { SandboxDefinition } from './definition.js';
import { ManagerError } from './errors.js';
import { Layout } from './layout.js';
import { sandboxNameIssue } from './names.js';
import { getTemplate } from './templates/index.js';
import { seedUnitEtc } from './unit.js';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readDefinition(dir: string): SandboxDefinition | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'sandbox.json'), 'utf8')) as SandboxDefinition;
  } catch {
    return undefined;
  }
}

/** Sandboxes under one data directory. */
export class SandboxStore {
  readonly layout: Layout;
  constructor(dataDir: string) {
    this.layout = new Layout(dataDir);
  }

  /** Makes the data directory and sweeps what crashed commands left in staging/ and trash/
   * (and, when there was such a leftover, the id ranges of creates that died before their
   * sandbox was staged). */
  async open(): Promise<this> {
    this.layout.ensure();
    let swept = false;
    for (const n of readdirSync(this.layout.staging)) {
      const pid = Number(n.split('.').at(-2));
      if (!pid || !pidAlive(pid)) swept = (await this.sweep(join(this.layout.staging, n))) || swept;
    }
    for (const n of readdirSync(this.layout.trash)) swept = (await this.sweep(join(this.layout.trash, n))) || swept;
    if (swept) await reclaimUserNamespaces().catch(() => {});
    return this;
  }

  /** Removes a crashed command's tree, and returns the id range its sandbox held. */
  private async sweep(dir: string): Promise<boolean> {
    const def = readDefinition(dir);
    try {
      await removeSandboxTree(dir, def);
    } catch {
      return false; // another command may be removing it at the same time; the next one tries again
    }
    try {
      if (def) releaseSweptUserNamespace(this, def);
    } catch {
      /* the pool is busy: the next allocation takes the range back */
    }
    return true;
  }

  /** Names of every sandbox, sorted. */
  names(): string[] {
    try {
      return readdirSync(this.layout.sandboxes).filter((n) => !sandboxNameIssue(n) && existsSync(this.layout.definition(n))).sort();
    } catch {
      return [];
    }
  }

  exists(name: string): boolean {
    return existsSync(this.layout.definition(name));
  }

  /** The definition of a sandbox. */
  read(name: string): SandboxDefinition {
    const issue = sandboxNameIssue(name);
    if (issue) throw new ManagerError('ERR_SANDBOX_NOT_FOUND', issue.message);
    try {
      return JSON.parse(readFileSync(this.layout.definition(name), 'utf8')) as SandboxDefinition;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ManagerError('ERR_SANDBOX_NOT_FOUND', `sandbox \`${name}\` does not exist`);
      throw new ManagerError('ERR_IO', `read sandbox \`${name}\`: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Makes a sandbox: its root and definition in a staging dir, then one rename into place. */
  async create(def: SandboxDefinition, seed?: (rootfs: string, writable: string[]) => void): Promise<void> {
    if (this.exists(def.name)) throw new ManagerError('ERR_SANDBOX_EXISTS', `sandbox \`${def.name}\` already exists`);
    const stage = join(this.layout.staging, `${def.name}.${process.pid}.${randomBytes(4).toString('hex')}`);
    mkdirSync(stage, { mode: 0o711 });
    try {
      // the definition first: whoever sweeps a crashed stage learns from it whose ids own the
      // tree (a rootless one is removed from a user namespace) and which range to give back
      writeFileSync(join(stage, 'sandbox.json'), JSON.stringify(def, null, 2) + '\n', { mode: 0o644 });
      const rootfs = join(stage, 'rootfs');
      mkdirSync(rootfs, { mode: 0o755 });
      const t = getTemplate(def.template);
      // (a clone of an overlay root copies the source's upper layer and lower dirs instead)
      if (!(seed && t.rootOverlay)) t.prepare(rootfs, def.hostname, this.layout.data);
      // the private dirs: the template's seeds owned by the sandbox's root, or (clone) a copy
      if (seed) seed(rootfs, t.rootOverlay ? ['.'] : t.writable);
      else {
        await ownSandboxTree(rootfs, t.rootOverlay ? ['.'] : t.writable, def);
        // --unit: the config files of the service's package, owners kept (shifted into range)
        if (def.unit?.package) seedUnitEtc(join(rootfs, 'etc'), def.unit.package, def.userns.mode === 'private' ? def.userns.start : 0);
      }
      writeFileSync(join(stage, 'console.log'), '', { mode: 0o600 });
      crashPoint('create:staged');
      try {
        // a directory rename never replaces a non-empty directory: the name's atomic test
        renameSync(stage, this.layout.sandbox(def.name));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new ManagerError('ERR_SANDBOX_EXISTS', `sandbox \`${def.name}\` already exists`);
        throw e;
      }
      fsyncDir(this.layout.sandboxes);
      crashPoint('create:committed');
    } catch (e) {
      await removeSandboxTree(stage, def).catch(() => rmSync(stage, { recursive: true, force: true }));
      throw e;
    }
  }

  /** Removes a sandbox's files: one rename out of sight, then the slow removal. */
  async remove(name: string): Promise<void> {
    const def = readDefinition(this.layout.sandbox(name));
    const gone = join(this.layout.trash, `${name}.${process.pid}.${randomBytes(4).toString('hex')}`);
    try {
      renameSync(this.layout.sandbox(name), gone);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    fsyncDir(this.layout.sandboxes);
    crashPoint('delete:trashed');
    await removeSandboxTree(gone, def);
  }
}
