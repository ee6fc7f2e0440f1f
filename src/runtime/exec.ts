// exec: one more process inside a running container, with the container's security
// settings unless the caller overrides them.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { buildExecPlan } from '../plan/build-plan.js';
import { compileLandlock } from '../policy/landlock/index.js';
import { ConfigError } from '../spec/issues.js';
import type { OciProcess } from '../spec/oci-types.js';
import { cgroupJoinDirs, execLeafDir, type ContainerCgroup } from './cgroups/index.js';
import { RuntimeError, withContext } from './errors.js';
import { describeFailure, runHelper } from './helper-proc.js';
import { landlockHost } from './landlock.js';
import { compileMac } from '../policy/mac/index.js';
import { macHost } from './mac/index.js';
import { checkSpec } from './load-spec.js';
import { log } from './log.js';
import { statusOf } from './lifecycle.js';
import { StateStore } from './state.js';

/** True if the container's user namespace forbids setgroups (a single-id rootless map). */
function setgroupsDenied(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/setgroups`, 'utf8').trim() === 'deny';
  } catch {
    return false;
  }
}

/** Options of `exec`. */
export interface ExecOptions {
  root: string;
  id: string;
  process: OciProcess;
  detach?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds?: number;
}

/** Runs a process in the container; returns its exit status (0 at once when detached). */
export async function execInContainer(o: ExecOptions): Promise<number> {
  const store = new StateStore(o.root);
  // create holds the container's lock until its process waits for start: an exec must never
  // join namespaces still being set up (before pivot_root the mount namespace is a copy of
  // the host's). Taken and given back: the exec'd process may run for as long as it likes.
  // A create's hooks (network set-up, say) may take a while: exec waits up to a minute.
  (await store.lock(o.id, 60_000))();
  const rec = store.read(o.id);
  const status = statusOf(store, rec);
  if (status !== 'running' && status !== 'created') throw new RuntimeError('ERR_NOT_RUNNING', `exec in \`${o.id}\`: container is ${status}`);
  if (o.process.terminal && o.detach && !o.consoleSocket)
    throw new RuntimeError('ERR_UNSUPPORTED', 'a detached process with a terminal needs --console-socket');
  // the process is checked and the seccomp filter compiled by the same code as at create
  const loaded = checkSpec({ ...rec.spec, process: o.process }, rec.bundle, o.root);
  for (const w of loaded.warnings) log('warn', `${w.path}: ${w.message}`);
  // the exec'd process starts outside the container's Landlock domain: it gets an equal
  // one of its own (a sibling; see RulesetUse.exec for what that means for scoping)
  const landlock = compileLandlock(loaded.spec, landlockHost(o.root), { exec: true });
  if (landlock.issues.length) throw new ConfigError(landlock.issues, `exec in \`${o.id}\``);
  for (const w of landlock.warnings) log('warn', `${w.path}: ${w.message}`);
  // the process's labels (process.selinuxLabel, process.apparmorProfile, the container's
  // Smack label) are taken as at create
  const mac = compileMac(loaded.spec, macHost());
  if (mac.issues.length) throw new ConfigError(mac.issues, `exec in \`${o.id}\``);
  const cg = rec.cgroup as ContainerCgroup | undefined;
  const built = buildExecPlan(loaded.spec, {
    pid: rec.pid, namespaces: rec.namespaces as never, cgroupDirs: cg ? execJoinDirs(cg) : [], detach: !!o.detach,
    ...(o.consoleSocket ? { consoleSocket: o.consoleSocket } : {}), preserveFds: o.preserveFds ?? 0,
    ...(loaded.seccomp ? { seccomp: loaded.seccomp } : {}),
    ...(landlock.bytes ? { landlock: landlock.bytes } : {}),
    // a rootless container's user namespace denies setgroups: leave the groups as they are
    setgroupsDenied: setgroupsDenied(rec.pid),
    ...(mac.attrs.length ? { mac: { attrs: mac.attrs, mountData: {} } } : {}),
  });
  for (const w of built.warnings) log('warn', `${w.path}: ${w.message}`);
  const helper = runHelper({ ops: built.ops, preserveFds: o.preserveFds ?? 0 });
  let pid: number;
  try {
    pid = await helper.pid;
  } catch (e) {
    throw withContext(e, `exec in \`${o.id}\``);
  }
  if (o.pidFile) {
    const p = resolve(o.pidFile);
    const tmp = join(dirname(p), `.${process.pid}.pid`);
    writeFileSync(tmp, String(pid));
    renameSync(tmp, p);
  }
  const code = await helper.exit;
  // an error record means the process never reached exec
  const failure = (await helper.ready.then(() => undefined, (e: { failure?: Parameters<typeof describeFailure>[0] }) => e.failure));
  if (failure) throw new RuntimeError('ERR_HELPER', `exec in \`${o.id}\`: ${describeFailure(failure)}`);
  return o.detach ? 0 : code;
}

/** The dirs an exec'd process joins: the container's, but where the container manages a
 * delegated cgroup2 dir and has enabled controllers for its children (systemd does on a
 * cgroup2 host), that dir may hold no process (cgroup v2's no-internal-process rule): the
 * process goes to a leaf beneath it instead, removed with the container. */
function execJoinDirs(cg: ContainerCgroup): string[] {
  const v2 = cg.dirs.unified;
  return cgroupJoinDirs(cg).map((d) => (d === v2 && cg.delegated?.includes(d) ? execLeafDir(d) : d));
}
