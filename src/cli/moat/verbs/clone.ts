// moat clone SRC DST.
import { cloneSandbox } from '../../../manager/index.js';
import { UsageError } from '../../args.js';
import type { CommandContext } from '../commands.js';
import { out } from '../output.js';

export async function clone(ctx: CommandContext): Promise<number> {
  if (ctx.args.length !== 2) throw new UsageError('usage: moat clone SRC DST');
  const def = await cloneSandbox(ctx.store, ctx.args[0]!, ctx.args[1]!);
  if (ctx.flags.json) out(JSON.stringify(def) + '\n');
  return 0;
}
