// `moat run`: a sandbox made for one command, run in the foreground with the caller's
// stdio; the exit status is the command's (128+N if a signal N ended it).
import { randomBytes } from 'node:crypto';
import { createContainer } from '../runtime/create.js';
import { startContainer } from '../runtime/lifecycle.js';
import { ensureTemplateShared } from './create.js';
import { defineSandbox, type SandboxOptions } from './definition.js';
import { withSandboxContext } from './errors.js';
import { crashPoint } from './crash.js';
import { explainStartFailure, requireHostPrerequisites } from './host-check.js';
import { hostLimits, warnMissingLimits } from './host-limits.js';
import { takeLock } from './lock.js';
import { loadSandboxSpec, removeContainer, withSandboxLock } from './lifecycle.js';
import { setUpNetwork, setUpNetworkStarted } from './network.js';
import type { SandboxStore } from './store.js';
import { assignUserNamespace, releaseUserNamespace } from './userns.js';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

/** Options of `moat run`. */
export interface RunOptions extends SandboxOptions {
  name?: string;
  /** delete the sandbox when the command ends */
  remove?: boolean;
  /** where a template's first build reports progress */
  progress?: (s: string) => void;
}

/** Runs a command in a new sandbox; returns its exit status. */
export async function runSandbox(store: SandboxStore, o: RunOptions): Promise<{ name: string; code: number }> {
  const name = o.name ?? `run-${randomBytes(4).toString('hex')}`;
  const host = hostLimits();
  const def = defineSandbox(name, { ...o, ephemeral: true }, host);
  // a failing prerequisite is named with its fix now, not met as a bare errno at start
  if (def.userns.mode !== 'host') requireHostPrerequisites(store.layout.data);
  await ensureTemplateShared(store, def, o.progress);
  const release = await takeLock(store.layout.lock(name), `sandbox \`${name}\``);
  let locked = true;
  let made = false;
  let code = 1;
  try {
    await assignUserNamespace(store, def);
    crashPoint('create:allocated');
    await store.create(def);
    made = true;
    warnMissingLimits(def);
    const { helper } = await createContainer({ root: store.layout.runtimeRoot, id: name, loaded: loadSandboxSpec(store, def), mode: 'foreground' });
    const forward = (sig: NodeJS.Signals) => helper.kill(sig);
    for (const s of FORWARDED) process.on(s, forward);
    try {
      const pid = await helper.pid;
      await setUpNetwork(store.layout, def, pid);
      await startContainer(store.layout.runtimeRoot, name);
      await setUpNetworkStarted(store.layout, def, pid);
      // while the command runs, other commands (exec, stop, inspect) may act on it
      release();
      locked = false;
      code = await helper.exit;
    } catch (e) {
      helper.kill('SIGKILL');
      throw e;
    } finally {
      for (const s of FORWARDED) process.off(s, forward);
    }
  } catch (e) {
    throw withSandboxContext(explainStartFailure(e), `run \`${name}\``);
  } finally {
    if (locked) release();
    if (made) await withSandboxLock(store, name, async () => {
      if (!store.exists(name)) return;
      await removeContainer(store, store.read(name));
      if (o.remove) {
        await store.remove(name);
        await releaseUserNamespace(store, def);
      }
    }).catch(() => {});
  }
  return { name, code };
}
