// moat start: start a sandbox in the background.
import { startSandbox } from '../../../manager/index.js';
import type { CommandContext } from '../commands.js';
import { oneName } from '../sandbox-flags.js';

export async function start(ctx: CommandContext): Promise<number> {
  await startSandbox(ctx.store, oneName(ctx, 'start NAME'));
  return 0;
}
