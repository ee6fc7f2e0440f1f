// moat restart: stop, then start.
import { startSandbox, stopSandbox } from '../../../manager/index.js';
import type { CommandContext } from '../commands.js';
import { oneName } from '../sandbox-flags.js';
import { graceSeconds } from './stop.js';

export async function restart(ctx: CommandContext): Promise<number> {
  const name = oneName(ctx, 'restart NAME [--time S]');
  await stopSandbox(ctx.store, name, graceSeconds(ctx));
  await startSandbox(ctx.store, name);
  return 0;
}
