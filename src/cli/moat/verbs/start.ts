// moat start: start a sandbox in the background.
import { startSandbox } from '../../../manager/index.js';
import type { CommandContext } from '../commands.js';
import { out } from '../output.js';
import { oneName } from '../sandbox-flags.js';

export async function start(ctx: CommandContext): Promise<number> {
  const name = oneName(ctx, 'start NAME [--json]');
  const { pid } = await startSandbox(ctx.store, name);
  if (ctx.flags.json) out(JSON.stringify({ name, pid }) + '\n');
  return 0;
}
