// spec and features.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultOciSpec } from '../../../policy/default-spec.js';
import { runtimeFeatures } from '../../../runtime/features.js';
import { UsageError } from '../../args.js';
import type { CommandContext } from '../commands.js';
import { out } from '../output.js';

export async function spec(ctx: CommandContext): Promise<number> {
  const dir = (ctx.flags.bundle as string) ?? '.';
  const path = join(dir, 'config.json');
  if (existsSync(path)) throw new UsageError(`\`${path}\` exists already; remove it first`);
  const rootless = ctx.flags.rootless ? { uid: process.getuid!(), gid: process.getgid!() } : undefined;
  writeFileSync(path, JSON.stringify(defaultOciSpec(rootless ? { rootless } : {}), null, '\t') + '\n');
  return 0;
}

export async function features(): Promise<number> {
  out(JSON.stringify(runtimeFeatures(), null, 2) + '\n');
  return 0;
}
