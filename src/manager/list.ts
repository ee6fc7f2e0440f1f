// `moat list`: every sandbox with what it is doing now.
import { sandboxStatus, type SandboxStatus } from './status.js';
import type { SandboxStore } from './store.js';

/** One row of `moat list`. */
export interface SandboxSummary {
  name: string;
  status: SandboxStatus;
  pid?: number;
  /** the exit status of a sandbox whose process ended (128+N for signal N) */
  exitCode?: number;
  template: string;
  network: string;
  command: string[];
  created: string;
}

/** Lists the sandboxes (a sandbox deleted while we list is left out). */
export function listSandboxes(store: SandboxStore): SandboxSummary[] {
  const out: SandboxSummary[] = [];
  for (const name of store.names()) {
    try {
      const def = store.read(name);
      const { status, pid, exitCode } = sandboxStatus(store, name);
      out.push({ name, status, ...(pid ? { pid } : {}), ...(exitCode !== undefined ? { exitCode } : {}), template: def.template, network: def.network.mode, command: def.init === 'systemd' ? ['/sbin/init'] : def.command, created: def.created });
    } catch {
      /* deleted meanwhile */
    }
  }
  return out;
}
