// create and run.
import { createContainer } from '../../../runtime/create.js';
import { runContainer } from '../../../runtime/run.js';
import { loadBundle } from '../../../runtime/load-spec.js';
import { UsageError } from '../../args.js';
import type { CommandContext } from '../commands.js';

function common(ctx: CommandContext) {
  if (ctx.args.length !== 1) throw new UsageError('expected exactly one container ID');
  if (ctx.systemdCgroup) throw new UsageError('--systemd-cgroup: systemd is not running on this host (no /run/systemd/system)');
  const f = ctx.flags;
  const preserve = f['preserve-fds'] === undefined ? 0 : Number(f['preserve-fds']);
  if (!Number.isInteger(preserve) || preserve < 0 || preserve > 1000) throw new UsageError(`--preserve-fds must be a count, not \`${f['preserve-fds']}\``);
  return {
    root: ctx.root, id: ctx.args[0]!, loaded: loadBundle((f.bundle as string) ?? '.', ctx.root), preserveFds: preserve, noPivot: !!f['no-pivot'],
    ...(f['pid-file'] ? { pidFile: f['pid-file'] as string } : {}),
    ...(f['console-socket'] ? { consoleSocket: f['console-socket'] as string } : {}),
  };
}

export async function create(ctx: CommandContext): Promise<number> {
  await createContainer({ ...common(ctx), mode: 'detach', planCache: 'create' });
  return 0;
}

export async function run(ctx: CommandContext): Promise<number> {
  const detach = !!ctx.flags.detach;
  // --keep leaves the container behind: the C front's `run` does not
  return runContainer({ ...common(ctx), detach, keep: !!ctx.flags.keep, ...(ctx.flags.keep ? {} : { planCache: detach ? 'run-detach' : 'run' }) });
}
