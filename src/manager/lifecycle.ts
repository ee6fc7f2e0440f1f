// start, stop, restart and delete of named sandboxes. Each holds the sandbox's lock, so
// concurrent commands on one sandbox run one after the other.
import { closeSync, openSync } from 'node:fs';
import { createContainer } from '../runtime/create.js';
import { checkSpec } from '../runtime/load-spec.js';
import { containerExists, deleteContainer, killContainer, startContainer } from '../runtime/lifecycle.js';
import { crashPoint } from './crash.js';
import { explainStartFailure } from './host-check.js';
import { warnMissingLimits } from './host-limits.js';
import { releaseUserNamespace } from './userns.js';
import { ManagerError, withSandboxContext } from './errors.js';
import { takeLock } from './lock.js';
import { sandboxNameIssue } from './names.js';
import { setUpNetwork, setUpNetworkStarted, tearDownNetwork } from './network.js';
import { buildSandboxSpec, SYSTEMD_STOP_SIGNAL } from './spec.js';
import { prepareSandboxMac } from './mac.js';
import { sandboxStatus } from './status.js';
import type { SandboxStore } from './store.js';
import type { SandboxDefinition } from './definition.js';
import type { LoadedSpec } from '../runtime/load-spec.js';

/** Refuses names that could not be a sandbox (before they reach a path). */
export function checkName(name: string): void {
  const issue = sandboxNameIssue(name);
  if (issue) throw new ManagerError('ERR_SANDBOX_NOT_FOUND', issue.message);
}

/** Runs `fn` holding the sandbox's lock. */
export async function withSandboxLock<T>(store: SandboxStore, name: string, fn: () => Promise<T>): Promise<T> {
  checkName(name);
  const release = await takeLock(store.layout.lock(name), `sandbox \`${name}\``);
  try {
    return await fn();
  } finally {
    release();
  }
}

/** The validated spec of a sandbox, ready for createContainer. */
export function loadSandboxSpec(store: SandboxStore, def: SandboxDefinition): LoadedSpec {
  const spec = buildSandboxSpec(def, store.layout.rootfs(def.name), store.layout.data);
  // MAC labels (and the generated AppArmor profile) are decided against the host at each start
  prepareSandboxMac(store, def, spec);
  return checkSpec(spec, store.layout.sandbox(def.name));
}

/** Removes the sandbox's runtime container, whatever it is doing (call with the lock held). */
export async function removeContainer(store: SandboxStore, def: SandboxDefinition): Promise<void> {
  if (containerExists(store.layout.runtimeRoot, def.name)) await deleteContainer(store.layout.runtimeRoot, def.name, true);
  await tearDownNetwork(store.layout, def);
}

/** Starts a stopped sandbox in the background, its stdout and stderr going to console.log. */
export async function startSandbox(store: SandboxStore, name: string): Promise<{ pid: number }> {
  return withSandboxLock(store, name, async () => {
    const def = store.read(name);
    const { status } = sandboxStatus(store, name);
    if (status === 'running' || status === 'paused') throw new ManagerError('ERR_SANDBOX_RUNNING', `sandbox \`${name}\` is already ${status}`);
    try {
      // an exited container, or one left `created` by a start that crashed (we hold the
      // lock, so its maker is gone): clear it first
      await removeContainer(store, def);
      const loaded = loadSandboxSpec(store, def);
      warnMissingLimits(def);
      const log = openSync(store.layout.consoleLog(name), 'a', 0o600);
      let pid: number;
      try {
        ({ record: { pid } } = await createContainer({ root: store.layout.runtimeRoot, id: name, loaded, mode: 'detach', recordExit: true, stdio: ['ignore', log, log] }));
      } finally {
        closeSync(log);
      }
      crashPoint('start:created');
      try {
        await setUpNetwork(store.layout, def, pid);
        await startContainer(store.layout.runtimeRoot, name);
        await setUpNetworkStarted(store.layout, def, pid);
      } catch (e) {
        await removeContainer(store, def).catch(() => {});
        throw e;
      }
      crashPoint('start:started');
      return { pid };
    } catch (e) {
      throw withSandboxContext(explainStartFailure(e), `start \`${name}\``);
    }
  });
}

async function waitStopped(store: SandboxStore, name: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (let d = 5; ; d = Math.min(d * 2, 100)) {
    const { status } = sandboxStatus(store, name);
    if (status === 'exited' || status === 'stopped') return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, d));
  }
}

/** Stops a sandbox: SIGTERM to its first process, SIGKILL to all after `graceSeconds`;
 * then its container (cgroup, runtime state) is removed. Returns false if it was not running. */
export async function stopSandbox(store: SandboxStore, name: string, graceSeconds = 10): Promise<boolean> {
  return withSandboxLock(store, name, async () => {
    const def = store.read(name);
    const { status } = sandboxStatus(store, name);
    if (status === 'stopped') return false;
    try {
      if (status === 'running') {
        // systemd halts on SIGRTMIN+3 (it ignores SIGTERM as PID 1)
        await killContainer(store.layout.runtimeRoot, name, def.init === 'systemd' ? SYSTEMD_STOP_SIGNAL : 'TERM').catch(() => {});
        await waitStopped(store, name, graceSeconds * 1000);
      }
      // deleting with force SIGKILLs whatever is left in the cgroup
      await removeContainer(store, def);
      return status === 'running' || status === 'paused';
    } catch (e) {
      throw withSandboxContext(e, `stop \`${name}\``);
    }
  });
}

/** Deletes a sandbox and everything it holds. A running one only with `force`. */
export async function deleteSandbox(store: SandboxStore, name: string, force = false): Promise<void> {
  await withSandboxLock(store, name, async () => {
    const def = store.read(name);
    const { status } = sandboxStatus(store, name);
    if ((status === 'running' || status === 'paused') && !force)
      throw new ManagerError('ERR_SANDBOX_RUNNING', `sandbox \`${name}\` is ${status}: stop it first, or use --force`);
    try {
      await removeContainer(store, def);
      crashPoint('delete:stopped');
      await store.remove(name);
      await releaseUserNamespace(store, def);
    } catch (e) {
      throw withSandboxContext(e, `delete \`${name}\``);
    }
  });
}
