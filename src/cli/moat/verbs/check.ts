// moat check: the host's prerequisites for sandboxes, ok/warn/fail, each with its fix.
import { hostCheckContext, runHostChecks, type CheckResult } from '../../../manager/index.js';
import type { CommandContext } from '../commands.js';
import { out } from '../output.js';

function text(head: string, rs: CheckResult[]): string {
  const lines = [head];
  let section = '';
  for (const r of rs) {
    if (r.section !== section) lines.push(`${(section = r.section)}:`);
    lines.push(`  ${`[${r.status}]`.padEnd(7)}${r.title}: ${r.detail}`);
    if (r.fix && r.status !== 'ok') lines.push(`         fix: ${r.fix}`);
  }
  return lines.join('\n') + '\n';
}

export async function check(ctx: CommandContext): Promise<number> {
  const c = hostCheckContext(ctx.store.layout.data);
  const rs = await runHostChecks(c);
  const ok = !rs.some((r) => r.status === 'fail');
  if (ctx.flags.json) out(JSON.stringify({ ok, user: c.user, rootless: c.rootless, dataDir: c.dataDir, checks: rs }, null, 2) + '\n');
  else out(text(`moat check: uid ${c.user.uid} (${c.user.name})${c.rootless ? ', rootless' : ''}, data dir ${c.dataDir}: ${ok ? 'sandboxes can run' : 'sandboxes CANNOT run until the failures below are fixed'}`, rs));
  return ok ? 0 : 1;
}
