// run: create, start, wait, delete; the exit status is the container's (128+N for signal N).
import { createContainer, type CreateOptions, type Created } from './create.js';
import { afterStart, deleteContainer, startContainer } from './lifecycle.js';
import { withContext } from './errors.js';
import { log } from './log.js';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

/** Runs a container to completion (or, detached, until it has started). */
export async function runContainer(o: CreateOptions & { detach?: boolean; keep?: boolean }): Promise<number> {
  if (o.detach) {
    await createContainer({ ...o, mode: 'detach' });
    try {
      await startContainer(o.root, o.id);
    } catch (e) {
      await deleteContainer(o.root, o.id, true).catch(() => {});
      throw withContext(e, `run \`${o.id}\``);
    }
    return 0;
  }
  // the lock create took is held on into start (nothing can come between the two). Without
  // the CLI's Plan cache (whose `run` the C front replays as create and start), the container
  // starts by itself once set up: no exec fifo, no round trip through this process (~1-2 ms)
  const direct = !o.planCache;
  // signals to us go to the helper, which passes them to the container's process; taken from
  // before create (the process may run as soon as it is set up), kept until there is a helper
  let helper: Created['helper'] | undefined;
  const pending: NodeJS.Signals[] = [];
  const forward = (sig: NodeJS.Signals) => (helper ? helper.kill(sig) : pending.push(sig));
  for (const s of FORWARDED) process.on(s, forward);
  let created: Created;
  try {
    created = await createContainer({ ...o, mode: 'foreground', holdLock: true, direct });
  } catch (e) {
    for (const s of FORWARDED) process.off(s, forward);
    throw e;
  }
  const { release, record } = created;
  helper = created.helper;
  for (const sig of pending.splice(0)) helper.kill(sig);
  let code: number | undefined;
  try {
    if (direct) {
      release?.();
      await afterStart(record);
    } else await startContainer(o.root, o.id, release, record);
    // the status comes before the helper has reaped the process and unmounted its tree:
    // the delete below (cgroups, state) overlaps that; poststop hooks and our return wait
    code = await helper.status;
  } catch (e) {
    helper.kill('SIGKILL');
    throw withContext(e, `run \`${o.id}\``);
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
    const gone = helper.exit.then(() => {}, () => {});
    if (!o.keep) await deleteContainer(o.root, o.id, true, { record, deferDirRemoval: true, beforePoststop: gone }).catch((e) => log('error', `delete \`${o.id}\`: ${(e as Error).message}`));
    await gone;
  }
  return code;
}
