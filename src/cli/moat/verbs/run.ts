// moat run: a command in a new sandbox, in the foreground.
import { runSandbox } from '../../../manager/index.js';
import { UsageError } from '../../args.js';
import type { CommandContext } from '../commands.js';
import { err } from '../output.js';
import { sandboxOptions } from '../sandbox-flags.js';

export async function run(ctx: CommandContext): Promise<number> {
  // an image (oci:DIR) and a unit (--unit) name their own command
  if (ctx.flags.init !== undefined) throw new UsageError('--init: a booted system runs in the background: moat create NAME --init systemd --template debian, then moat start NAME');
  if (!ctx.command.length && !ctx.flags.unit && !String(ctx.flags.template ?? '').startsWith('oci:')) throw new UsageError('run needs a command: moat run [--rm] [options] [--] COMMAND [ARGS...]');
  const o = { ...sandboxOptions(ctx), terminal: !!ctx.flags.tty, remove: !!ctx.flags.rm, progress: err };
  const r = await runSandbox(ctx.store, typeof ctx.flags.name === 'string' ? { ...o, name: ctx.flags.name } : o);
  return r.code;
}
