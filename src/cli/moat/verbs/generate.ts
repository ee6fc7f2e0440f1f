// moat generate systemd NAME: print a unit file for the sandbox.
import { join, resolve } from 'node:path';
import { systemdUnit } from '../../../manager/systemd-unit.js';
import { UsageError } from '../../args.js';
import type { CommandContext } from '../commands.js';
import { out } from '../output.js';

export async function generate(ctx: CommandContext): Promise<number> {
  const [kind, name, ...rest] = ctx.args;
  if (kind !== 'systemd' || !name || rest.length) throw new UsageError('usage: moat generate systemd NAME [--time S]');
  const def = ctx.store.read(name);
  const grace = ctx.flags.time === undefined ? 10 : Number(ctx.flags.time);
  if (!Number.isInteger(grace) || grace < 0) throw new UsageError(`--time must be whole seconds, not \`${ctx.flags.time}\``);
  const cli = resolve(join(process.argv[1] ?? '', '..', 'moat.js'));
  out(systemdUnit(def, { node: process.execPath, cli, dataDir: ctx.store.layout.data, graceSeconds: grace }));
  return 0;
}
