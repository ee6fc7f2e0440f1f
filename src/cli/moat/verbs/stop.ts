// moat stop: SIGTERM, then SIGKILL after the grace time.
import { stopSandbox } from '../../../manager/index.js';
import { UsageError } from '../../args.js';
import type { CommandContext } from '../commands.js';
import { oneName } from '../sandbox-flags.js';

/** The --time flag in seconds (default 10). */
export function graceSeconds(ctx: CommandContext): number {
  const t = ctx.flags.time;
  if (t === undefined) return 10;
  if (typeof t !== 'string' || !/^\d+(\.\d+)?$/.test(t)) throw new UsageError(`--time must be a number of seconds, not \`${String(t)}\``);
  return Number(t);
}

export async function stop(ctx: CommandContext): Promise<number> {
  await stopSandbox(ctx.store, oneName(ctx, 'stop NAME [--time S]'), graceSeconds(ctx));
  return 0;
}
