// The lifecycle verbs after create: start, kill, delete, state, list, ps, pause/resume.
import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeSync, constants as fsc } from 'node:fs';
import type { OciState } from '../spec/oci-types.js';
import { backoffMs } from './cgroups/cgroup-fs.js';
import { destroyContainerCgroup, treePids, isContainerCgroupFrozen, killContainerCgroup, pauseContainerCgroup, resumeContainerCgroup, type ContainerCgroup } from './cgroups/index.js';
import { RuntimeError } from './errors.js';
import { runHooks } from './hooks.js';
import { log } from './log.js';
// not create.js: it loads the helper's spawn (node:child_process, net, stream: ~10 ms cold)
import { containerStatus, ociState, procStat, StateStore, type ContainerRecord } from './state.js';

/** The OCI state of a container, plus what `list` shows. */
export interface ContainerInfo extends OciState {
  rootfs: string;
  created: string;
  owner: string;
}

// the same freezer `pause` uses: v1 `freezer` when mounted, else cgroup2 `cgroup.freeze` (a
// hybrid host without the v1 freezer pauses through the cgroup2 dir)
function isPaused(rec: ContainerRecord): boolean {
  const cg = rec.cgroup as ContainerCgroup | undefined;
  return cg ? isContainerCgroupFrozen(cg) : false;
}

/** Status of a container right now. */
export function statusOf(store: StateStore, rec: ContainerRecord): OciState['status'] {
  return containerStatus(store, rec, isPaused(rec));
}

/** The `state` document of one container. */
export function containerState(root: string, id: string): ContainerInfo {
  const store = new StateStore(root);
  const rec = store.read(id);
  return { ...ociState(rec, statusOf(store, rec)), rootfs: rec.rootfs, created: rec.created, owner: rec.owner };
}

/** Every container under a root. */
export function listContainers(root: string): ContainerInfo[] {
  const out: ContainerInfo[] = [];
  for (const id of new StateStore(root).ids()) {
    try {
      out.push(containerState(root, id));
    } catch {
      /* deleted while we listed */
    }
  }
  return out;
}

/** Releases a created container: its process goes on to exec the user's program.
 * `held`: the container's lock is already ours (createContainer's `holdLock`); this releases it.
 * `record`: with `held`, the record create wrote under that same lock (not read again). */
export async function startContainer(root: string, id: string, held?: () => void, record?: ContainerRecord): Promise<void> {
  const store = new StateStore(root);
  const release = held ?? (await store.lock(id));
  let rec;
  try {
    rec = held && record?.id === id ? record : store.read(id);
    const status = statusOf(store, rec);
    if (status !== 'created') throw new RuntimeError('ERR_NOT_CREATED', `container \`${id}\` is ${status}, not created`);
    let fd: number;
    try {
      // non-blocking: with no reader left (the container died) this fails at once
      fd = openSync(store.fifo(id), fsc.O_WRONLY | fsc.O_NONBLOCK);
    } catch (e) {
      throw new RuntimeError('ERR_NOT_RUNNING', `start \`${id}\`: the container process is gone`, { cause: e });
    }
    try {
      writeSync(fd, '0');
    } finally {
      closeSync(fd);
    }
    unlinkSync(store.fifo(id));
  } finally {
    release();
  }
  // after the lock is given back: a hook may itself `exec` in the container (exec waits for
  // the lock, which create and start hold while the container is being made)
  await afterStart(rec);
}

/** The poststart hooks of a started container (a failing one is logged, as the spec says:
 * the container keeps running). Run with the container's lock given back. */
export async function afterStart(rec: ContainerRecord): Promise<void> {
  try {
    await runHooks('poststart', rec.spec.hooks?.poststart, ociState(rec, 'running'));
  } catch (e) {
    log('warn', (e as Error).message);
  }
}

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31 };

/** Parses a signal given as a name (`TERM`, `SIGTERM`) or a number. */
export function parseSignal(s: string): number {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= 64) return n;
  } else {
    const name = s.toUpperCase().replace(/^SIG/, '');
    if (SIGNALS[name]) return SIGNALS[name]!;
    const rt = /^RTMIN(\+(\d+))?$/.exec(name);
    if (rt) return 34 + Number(rt[2] ?? 0);
  }
  throw new RuntimeError('ERR_UNSUPPORTED', `unknown signal \`${s}\``);
}

function cgroupPids(cg: ContainerCgroup | undefined): number[] {
  const dir = cg && Object.values(cg.dirs)[0];
  if (!dir) return [];
  // a delegated dir: the container's own cgroups beneath it too
  if (cg.delegated?.includes(dir)) return treePids(dir);
  try {
    return readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Sends a signal to the container's first process (or with `all`, to all of them). */
export async function killContainer(root: string, id: string, signal: string, all = false): Promise<void> {
  const store = new StateStore(root);
  const rec = store.read(id);
  const status = statusOf(store, rec);
  if (status === 'stopped') throw new RuntimeError('ERR_NOT_RUNNING', `container \`${id}\` is not running`);
  const sig = parseSignal(signal);
  const pids = all ? cgroupPids(rec.cgroup as ContainerCgroup) : [rec.pid];
  for (const pid of pids.length ? pids : [rec.pid]) {
    try {
      process.kill(pid, sig);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }
}

/** The pids of the container's processes, as the host sees them. */
export function containerPids(root: string, id: string): number[] {
  const rec = new StateStore(root).read(id);
  const pids = cgroupPids(rec.cgroup as ContainerCgroup);
  return pids.length ? pids : procStat(rec.pid) ? [rec.pid] : [];
}

// Node has no pidfd: the wait for a SIGKILLed process polls /proc/PID/stat, first once per
// event-loop turn (a killed task is usually gone within a millisecond), then backing off
async function waitGone(pid: number, start: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (let n = 0; Date.now() < deadline; n++) {
    const st = procStat(pid);
    if (!st || st.start !== start || st.state === 'Z') return true;
    const d = backoffMs(n, 20);
    await new Promise((r) => (d < 1 ? setImmediate(r) : setTimeout(r, d)));
  }
  return false;
}

/** For runContainer's own delete: the record create wrote (what delete needs of it, the pid,
 * the cgroup and the poststop hooks, never changes), and the state dir removed off the
 * caller's path (StateStore.remove). */
export interface DeleteOptions {
  record?: ContainerRecord;
  deferDirRemoval?: boolean;
  /** awaited before the poststop hooks: the helper gone, and with it the container's mounts */
  beforePoststop?: Promise<void>;
}

/** Deletes a container: kills what is left (a running one only with `force`), removes its
 * cgroup and state, then runs the poststop hooks. */
export async function deleteContainer(root: string, id: string, force = false, o: DeleteOptions = {}): Promise<void> {
  const store = new StateStore(root);
  const release = await store.lock(id);
  try {
    const rec = o.record?.id === id ? o.record : store.read(id);
    const status = statusOf(store, rec);
    if ((status === 'running' || status === 'paused') && !force)
      throw new RuntimeError('ERR_RUNNING', `container \`${id}\` is ${status}: stop it first or use --force`);
    const cg = rec.cgroup as ContainerCgroup | undefined;
    if (status !== 'stopped') {
      if (status === 'paused' && cg) resumeContainerCgroup(cg);
      try {
        process.kill(rec.pid, 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
      if (cg) killContainerCgroup(cg);
      if (!(await waitGone(rec.pid, rec.pidStart, 10_000))) throw new RuntimeError('ERR_RUNNING', `container \`${id}\`: process ${rec.pid} did not die`);
    }
    if (cg) destroyContainerCgroup(cg);
    store.remove(id, !!o.deferDirRemoval);
    await o.beforePoststop;
    try {
      await runHooks('poststop', rec.spec.hooks?.poststop, ociState(rec, 'stopped'));
    } catch (e) {
      log('warn', (e as Error).message);
    }
  } finally {
    release();
  }
}

/** Freezes or thaws every process of the container. */
export async function setPaused(root: string, id: string, paused: boolean): Promise<void> {
  const store = new StateStore(root);
  const release = await store.lock(id);
  try {
    const rec = store.read(id);
    const status = statusOf(store, rec);
    const cg = rec.cgroup as ContainerCgroup | undefined;
    if (!cg) throw new RuntimeError('ERR_UNSUPPORTED', `container \`${id}\` has no cgroup to freeze`);
    if (paused && status !== 'running') throw new RuntimeError('ERR_NOT_RUNNING', `container \`${id}\` is ${status}, not running`);
    if (!paused && status !== 'paused') throw new RuntimeError('ERR_NOT_RUNNING', `container \`${id}\` is ${status}, not paused`);
    (paused ? pauseContainerCgroup : resumeContainerCgroup)(cg);
  } finally {
    release();
  }
}

/** True if a container with this ID exists under the root. */
export function containerExists(root: string, id: string): boolean {
  return existsSync(new StateStore(root).dir(id));
}

/** The stored record of a container. */
export function containerRecord(root: string, id: string): ContainerRecord {
  return new StateStore(root).read(id);
}
