// start, state, kill, delete, list, ps, pause, resume.
import { containerPids, containerState, deleteContainer, killContainer, listContainers, setPaused, startContainer } from '../../../runtime/lifecycle.js';
import { UsageError } from '../../args.js';
import type { CommandContext } from '../commands.js';
import { out } from '../output.js';

function oneId(ctx: CommandContext): string {
  if (ctx.args.length !== 1) throw new UsageError('expected exactly one container ID');
  return ctx.args[0]!;
}

export async function start(ctx: CommandContext): Promise<number> {
  await startContainer(ctx.root, oneId(ctx));
  return 0;
}

export async function state(ctx: CommandContext): Promise<number> {
  out(JSON.stringify(containerState(ctx.root, oneId(ctx)), null, 2) + '\n');
  return 0;
}

export async function kill(ctx: CommandContext): Promise<number> {
  if (ctx.args.length < 1 || ctx.args.length > 2) throw new UsageError('usage: kill [--all] ID [SIGNAL]');
  await killContainer(ctx.root, ctx.args[0]!, ctx.args[1] ?? 'SIGTERM', !!ctx.flags.all);
  return 0;
}

export async function del(ctx: CommandContext): Promise<number> {
  await deleteContainer(ctx.root, oneId(ctx), !!ctx.flags.force);
  return 0;
}

export async function list(ctx: CommandContext): Promise<number> {
  const all = listContainers(ctx.root);
  const format = (ctx.flags.format as string) ?? 'table';
  if (ctx.flags.quiet) out(all.map((c) => c.id + '\n').join(''));
  else if (format === 'json') out(JSON.stringify(all) + '\n');
  else if (format === 'table') {
    const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...all.map((c) => [c.id, String(c.pid ?? 0), c.status, c.bundle, c.created, c.owner])];
    const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    out(rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('   ').trimEnd() + '\n').join(''));
  } else throw new UsageError(`--format must be table or json, not \`${format}\``);
  return 0;
}

export async function ps(ctx: CommandContext): Promise<number> {
  const pids = containerPids(ctx.root, oneId(ctx));
  const format = (ctx.flags.format as string) ?? 'table';
  if (format === 'json') out(JSON.stringify(pids) + '\n');
  else out('PID\n' + pids.map((p) => `${p}\n`).join(''));
  return 0;
}

export async function pause(ctx: CommandContext): Promise<number> {
  await setPaused(ctx.root, oneId(ctx), true);
  return 0;
}

export async function resume(ctx: CommandContext): Promise<number> {
  await setPaused(ctx.root, oneId(ctx), false);
  return 0;
}
