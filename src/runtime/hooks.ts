// Hooks that run in the runtime's namespaces (prestart, createRuntime, poststart, poststop),
// each with the state document on stdin, its own env, and its timeout.
// node:child_process (with net, stream and dgram behind it) is loaded only when a hook runs:
// it is ~10 ms of a cold `start`, `state` or `delete`, and most containers have no hooks.
import type { OciHook, OciState } from '../spec/oci-types.js';
import { RuntimeError } from './errors.js';

/** Runs one hook; rejects with its output if it fails or times out. */
export async function runHook(kind: string, hook: OciHook, state: OciState): Promise<void> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const args = hook.args?.length ? hook.args : [hook.path];
    const child = spawn(hook.path, args.slice(1), { argv0: args[0]!, env: envObject(hook.env ?? []), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = hook.timeout ? setTimeout(() => child.kill('SIGKILL'), hook.timeout * 1000) : undefined;
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new RuntimeError('ERR_HOOK', `${kind} hook \`${hook.path}\`: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const why = signal === 'SIGKILL' && hook.timeout ? `timed out after ${hook.timeout}s` : signal ? `killed by ${signal}` : `exited with status ${code}`;
      reject(new RuntimeError('ERR_HOOK', `${kind} hook \`${hook.path}\` ${why}${out.trim() ? `: ${out.trim().slice(0, 500)}` : ''}`));
    });
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify(state));
  });
}

/** Runs hooks of one kind in order, stopping at the first failure. */
export async function runHooks(kind: string, hooks: OciHook[] | undefined, state: OciState): Promise<void> {
  if (!hooks?.length) return;
  for (const h of hooks) await runHook(kind, h, state);
}

function envObject(env: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    const i = e.indexOf('=');
    if (i > 0) out[e.slice(0, i)] = e.slice(i + 1);
  }
  return out;
}
