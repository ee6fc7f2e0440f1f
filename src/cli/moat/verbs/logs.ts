// moat logs: the sandbox's output.
import { readSandboxLog } from '../../../manager/index.js';
import type { CommandContext } from '../commands.js';
import { out } from '../output.js';
import { oneName } from '../sandbox-flags.js';

export async function logs(ctx: CommandContext): Promise<number> {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  try {
    await readSandboxLog(ctx.store, oneName(ctx, 'logs NAME [-f]'), out, !!ctx.flags.follow, ac.signal);
  } finally {
    process.off('SIGINT', stop);
  }
  return 0;
}
