// moat delete: a sandbox and everything it holds.
import { deleteSandbox } from '../../../manager/index.js';
import type { CommandContext } from '../commands.js';
import { oneName } from '../sandbox-flags.js';

export async function del(ctx: CommandContext): Promise<number> {
  await deleteSandbox(ctx.store, oneName(ctx, 'delete NAME [--force]'), !!ctx.flags.force);
  return 0;
}
