// moat create: a named sandbox, ready to start.
import { createSandbox } from '../../../manager/index.js';
import type { CommandContext } from '../commands.js';
import { err, out } from '../output.js';
import { oneName, sandboxOptions } from '../sandbox-flags.js';

export async function create(ctx: CommandContext): Promise<number> {
  const name = oneName(ctx, 'create NAME [options] [-- COMMAND...]');
  const def = await createSandbox(ctx.store, name, sandboxOptions(ctx), err);
  out(ctx.flags.json ? JSON.stringify(def) + '\n' : `${name}\n`);
  return 0;
}
