// moat exec: a command in a running sandbox.
import { execInSandbox, type ExecOptions } from '../../../manager/index.js';
import { UsageError } from '../../args.js';
import type { CommandContext } from '../commands.js';
import { oneName } from '../sandbox-flags.js';

export async function exec(ctx: CommandContext): Promise<number> {
  const name = oneName(ctx, 'exec NAME [-it] [--] COMMAND [ARGS...]');
  if (!ctx.command.length) throw new UsageError('exec needs a command: moat exec NAME [-it] [--] COMMAND [ARGS...]');
  const f = ctx.flags;
  const o: ExecOptions = { args: ctx.command, tty: !!f.tty, env: (f.env as string[]) ?? [] };
  for (const kv of o.env!) if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(kv)) throw new UsageError(`--env \`${kv}\` is not KEY=VALUE`);
  if (typeof f.workdir === 'string') o.cwd = f.workdir;
  if (typeof f.user === 'string') {
    const m = /^(\d+)(?::(\d+))?$/.exec(f.user);
    if (!m) throw new UsageError(`--user must be UID[:GID], not \`${f.user}\``);
    o.user = m[2] ? { uid: Number(m[1]), gid: Number(m[2]) } : { uid: Number(m[1]) };
  }
  return execInSandbox(ctx.store, name, o);
}
