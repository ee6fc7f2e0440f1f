// Turns the sandbox flags of create and run into manager options.
import { UsageError } from '../args.js';
import type { SandboxOptions } from '../../manager/index.js';
import type { CommandContext } from './commands.js';

/** The SandboxOptions given by flags (values are checked by the manager, all at once). */
export function sandboxOptions(ctx: CommandContext): SandboxOptions {
  const f = ctx.flags;
  const o: SandboxOptions = { readOnly: !!f['read-only'], volumes: (f.volume as string[]) ?? [], env: (f.env as string[]) ?? [], publish: (f.publish as string[]) ?? [], command: ctx.command };
  for (const k of ['template', 'memory', 'cpus', 'pids', 'hostname', 'network', 'userns', 'mac'] as const) if (typeof f[k] === 'string') o[k] = f[k] as string;
  if (typeof f.unit === 'string') o.unit = f.unit;
  if (typeof f.init === 'string') o.init = f.init;
  return o;
}

/** The one NAME a command takes. */
export function oneName(ctx: CommandContext, usage: string): string {
  if (ctx.args.length !== 1) throw new UsageError(`expected one sandbox NAME: moat ${usage}`);
  return ctx.args[0]!;
}
