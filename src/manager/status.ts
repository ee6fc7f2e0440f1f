// What a sandbox is doing, derived every time from the runtime's state (a pid checked
// against its start time), never from a flag of ours that a crash could leave stale.
import { containerExists, containerState } from '../runtime/lifecycle.js';
import { StateStore } from '../runtime/state.js';
import type { SandboxStore } from './store.js';

/** `running`/`paused`: its process lives; `created`: set up but never started (a start
 * that crashed); `exited`: its process ended and it awaits stop or start; `stopped`: no
 * container at all. */
export type SandboxStatus = 'running' | 'paused' | 'created' | 'exited' | 'stopped';

/** The status of a sandbox and, while it has one, the host pid of its first process. */
export function sandboxStatus(store: SandboxStore, name: string): { status: SandboxStatus; pid?: number; exitCode?: number } {
  const root = store.layout.runtimeRoot;
  if (!containerExists(root, name)) return { status: 'stopped' };
  try {
    const st = containerState(root, name);
    if (st.status === 'stopped') {
      // written by the exit waiter of `start` (128+N for signal N); a moment after the
      // process ends, or never for a sandbox started by an older moat
      const exitCode = new StateStore(root).exitStatus(name);
      return exitCode === undefined ? { status: 'exited' } : { status: 'exited', exitCode };
    }
    if (st.status === 'creating') return { status: 'created' };
    return st.pid ? { status: st.status, pid: st.pid } : { status: st.status };
  } catch {
    // the runtime dir exists without state.json: a create that died before it wrote one
    return { status: 'created' };
  }
}

/** True while the sandbox's processes may run. */
export function isActive(status: SandboxStatus): boolean {
  return status === 'running' || status === 'paused';
}
