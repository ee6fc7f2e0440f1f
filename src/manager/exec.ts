// `moat exec`: one more process in a running sandbox, with the sandbox's security settings
// (namespaces, cgroup, seccomp, capabilities, no_new_privs).
import { containerRecord } from '../runtime/lifecycle.js';
import { execInContainer } from '../runtime/exec.js';
import type { OciProcess } from '../spec/oci-types.js';
import { ManagerError } from './errors.js';
import { checkName } from './lifecycle.js';
import { sandboxStatus } from './status.js';
import type { SandboxStore } from './store.js';

/** Options of `moat exec`. */
export interface ExecOptions {
  args: string[];
  tty?: boolean;
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid?: number };
}

/** Runs a process in a running sandbox; returns its exit status. */
export async function execInSandbox(store: SandboxStore, name: string, o: ExecOptions): Promise<number> {
  checkName(name);
  store.read(name);
  const { status } = sandboxStatus(store, name);
  if (status !== 'running') throw new ManagerError('ERR_SANDBOX_NOT_RUNNING', `exec in \`${name}\`: sandbox is ${status}, not running`);
  const base = containerRecord(store.layout.runtimeRoot, name).spec.process!;
  const p: OciProcess = { ...structuredClone(base), args: o.args, terminal: !!o.tty };
  delete p.consoleSize;
  for (const kv of o.env ?? []) {
    const key = kv.slice(0, kv.indexOf('=') + 1);
    p.env = [...(p.env ?? []).filter((e) => !e.startsWith(key)), kv];
  }
  if (o.tty && !p.env?.some((e) => e.startsWith('TERM='))) p.env = [...(p.env ?? []), `TERM=${process.env.TERM ?? 'xterm'}`];
  if (o.cwd) p.cwd = o.cwd;
  if (o.user) p.user = { ...p.user, uid: o.user.uid, gid: o.user.gid ?? o.user.uid };
  return execInContainer({ root: store.layout.runtimeRoot, id: name, process: p });
}
