// moat logs: the sandbox's output.
import { readSandboxLog } from '../../../manager/index.js';
import type { CommandContext } from '../commands.js';
import { out } from '../output.js';
import { oneName } from '../sandbox-flags.js';

export async function logs(ctx: CommandContext): Promise<number> {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  const name = oneName(ctx, 'logs NAME [-f]');
  // systemd as PID 1 has no console here: its services log to its journal
  if (ctx.store.read(name).init === 'systemd') process.stderr.write(`moat: \`${name}\` runs systemd, whose services log to its journal: moat exec ${name} -- journalctl\n`);
  try {
    await readSandboxLog(ctx.store, name, out, !!ctx.flags.follow, ac.signal);
  } finally {
    process.off('SIGINT', stop);
  }
  return 0;
}
