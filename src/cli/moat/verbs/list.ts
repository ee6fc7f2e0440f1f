// moat list: the sandboxes and what they are doing now.
import { listSandboxes } from '../../../manager/index.js';
import type { CommandContext } from '../commands.js';
import { out, table } from '../output.js';

export async function list(ctx: CommandContext): Promise<number> {
  const all = listSandboxes(ctx.store);
  if (ctx.flags.json) out(JSON.stringify(all) + '\n');
  else if (ctx.flags.quiet) out(all.map((s) => `${s.name}\n`).join(''));
  else {
    const cmd = (c: string[]) => (c.length ? c.join(' ') : '(idle)').slice(0, 40);
    out(table([['NAME', 'STATUS', 'PID', 'TEMPLATE', 'NETWORK', 'COMMAND'], ...all.map((s) => [s.name, s.exitCode !== undefined ? `${s.status} (${s.exitCode})` : s.status, s.pid ? String(s.pid) : '-', s.template, s.network === 'host' ? 'host (unsafe)' : s.network, cmd(s.command)])]));
  }
  return 0;
}
