// Runs the native helper on a Plan and speaks its sync protocol (see docs/helper.md):
// frames of u32 type, u32 length, payload on one socket, which first carries the Plan.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Socket } from 'node:net';
import { encodePlan, type PlanOp } from '../plan/wire.js';
import { errnoName, RuntimeError } from './errors.js';
import { helperPath } from './paths.js';
import { helperServer } from './helper-server.js';

export const MSG = { PID: 1, SYNC: 2, CONTINUE: 3, READY: 4, ERROR: 5, ABORT: 6, EXITED: 7, CGROUPS: 8 } as const;
const STAGES = ['', 'plan', 'setup', 'container setup', 'exec'];

/** The structured record the helper writes when an op fails. */
export interface HelperFailure {
  stage: string;
  opIndex: number;
  errno: number;
  message: string;
  origin?: string;
}

/** Turns the helper's record into a message naming the config field it came from. */
export function describeFailure(f: HelperFailure): string {
  const err = f.errno ? `: ${errnoName(f.errno)}` : '';
  return f.origin ? `\`${f.origin}\`: ${f.message}${err}` : `${f.stage}: ${f.message}${err}`;
}

/** Options for one helper run. */
export interface HelperRun {
  ops: PlanOp[];
  /** fds 3..3+N-1 of this process are passed on to the container */
  preserveFds?: number;
  /** answers a sync point; the returned bytes are the state document for hooks */
  onSync?: (name: string) => Promise<string>;
  /** stdio for the helper (and so the container); default: inherit */
  stdio?: ['inherit' | 'pipe' | 'ignore' | number, 'inherit' | 'pipe' | 'ignore' | number, 'inherit' | 'pipe' | 'ignore' | number];
}

/** A running helper: the container's pid once known, readiness, and the helper's exit. */
export interface HelperHandle {
  /** the spawned helper (undefined when it was forked by the helper server) */
  child?: ChildProcess;
  /** sends a signal to the helper (in the foreground it passes it on to the container) */
  kill: (sig: NodeJS.Signals) => void;
  pid: Promise<number>;
  /** resolves when the container waits for start (or when an exec'd process runs) */
  ready: Promise<void>;
  /** the helper's exit status (in the foreground: the container's), once the helper is gone
   * with its stdio closed: the container's mounts are gone then too */
  exit: Promise<number>;
  /** the same status, as soon as a foreground helper reports it (MSG_EXITED), before it has
   * reaped the container and unmounted its tree; else when `exit` resolves. For work that
   * may overlap that teardown (runContainer's cgroup and state removal) */
  status: Promise<number>;
}

function frame(type: number, payload: Uint8Array = new Uint8Array()): Buffer {
  const b = Buffer.alloc(8 + payload.length);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(payload.length, 4);
  b.set(payload, 8);
  return b;
}

/** The byte stream to one helper and its end, however it was started. */
interface HelperLink {
  write(b: Uint8Array): void;
  kill(sig: NodeJS.Signals): void;
  child?: ChildProcess;
}

type LinkEvents = { data: (b: Buffer) => void; exit: (status: number, how: string) => void; error: (e: Error) => void };

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15 };

function spawnLink(run: HelperRun, ev: LinkEvents): HelperLink {
  const keep = run.preserveFds ?? 0;
  const syncFd = 3 + keep;
  const stdio: StdioOptions = [...(run.stdio ?? ['inherit', 'inherit', 'inherit'])];
  for (let fd = 3; fd < syncFd; fd++) stdio.push(fd);
  stdio.push('pipe');
  const child = spawn(helperPath(), [String(syncFd)], { stdio, env: {} });
  const sock = child.stdio[syncFd] as Socket;
  child.on('error', ev.error);
  child.on('close', (code, signal) => {
    const status = code ?? 128 + (signal ? SIGNAL_NUMBERS[signal] ?? 1 : 1);
    ev.exit(status, signal ? `signal ${signal}` : `status ${status}`);
  });
  sock.on('data', ev.data);
  sock.on('error', () => {});
  return { write: (b) => sock.write(b), kill: (sig) => child.kill(sig), child };
}

/** What a helper made of its cgroup recipe (MSG_CGROUPS): `made` dirs, in the recipe's order;
 * `failed` the index of the step that failed (-1: none), with its errno. */
export interface RecipeReport {
  made: number;
  failed: number;
  errno: number;
}

/** A helper forked ahead of its Plan (prepareHelper). */
export interface PreparedHelper {
  /** sends the Plan: from here it is runHelper's helper */
  run(run: HelperRun): HelperHandle;
  /** the Plan will not come: the helper is killed (it has made nothing, or some of its cgroup
   * recipe's dirs: `cgroups` says how many if it stopped at a step, nothing if killed) */
  cancel(): void;
  /** with a cgroup recipe: the helper's report on it; undefined if the helper ended without
   * one (it may have made any prefix of the recipe's dirs) */
  cgroups?: Promise<RecipeReport | undefined>;
}

/** The link to a helper forked by the server, or undefined where it cannot serve this run
 * (the server is off, or stdio other than inherited or ignored, or preserved fds). */
function serverLink(stdio: HelperRun['stdio'], preserveFds: number | undefined, ev: LinkEvents, deviceProgram?: () => Uint8Array | undefined, cgroupRecipe?: Uint8Array): HelperLink | undefined {
  if ((preserveFds ?? 0) !== 0 || !(stdio ?? []).every((m) => m === 'inherit' || m === 'ignore')) return undefined;
  const server = helperServer();
  return server?.open((stdio ?? []).map((m) => m === 'ignore') as boolean[], ev, deviceProgram?.(), cgroupRecipe);
}

/**
 * Has the helper server fork a helper now, before its Plan exists, so that the fork and the
 * helper's start overlap the caller's own work until the Plan is built (create's state
 * record and cgroups, ~1.5 ms); undefined where runHelper would not use the server. The
 * helper waits for its Plan on its socket. `deviceProgram`: the instructions the Plan's
 * program will have, for the server to lend it already loaded (it is used only if they are
 * byte for byte the Plan's).
 */
export function prepareHelper(o: { stdio?: HelperRun['stdio']; preserveFds?: number; deviceProgram?: Uint8Array; cgroupRecipe?: Uint8Array }): PreparedHelper | undefined {
  const s = session();
  const link = serverLink(o.stdio, o.preserveFds, s.ev, () => o.deviceProgram, o.cgroupRecipe);
  if (!link) return undefined;
  let used = false;
  return {
    ...(o.cgroupRecipe ? { cgroups: s.cgroups } : {}),
    run: (run) => {
      if (used) throw new Error('prepared helper: run twice');
      try {
        const h = s.start(link, run);
        used = true;
        return h;
      } catch (e) {
        link.kill('SIGKILL');
        used = true;
        throw e;
      }
    },
    cancel: () => {
      if (!used) link.kill('SIGKILL');
      used = true;
    },
  };
}

/** Starts the helper on a Plan. With stdio only inherited or ignored and no preserved fds,
 * a process that has the helper server on (see helper-server.ts) forks it from there. */
export function runHelper(run: HelperRun): HelperHandle {
  const s = session();
  const link = serverLink(run.stdio, run.preserveFds, s.ev, () => run.ops.find((o) => o.op === 'device_bpf')?.bytes) ?? spawnLink(run, s.ev);
  return s.start(link, run);
}

/** The promises and protocol of one helper; `start` gives it its Plan. */
function session(): { ev: LinkEvents; start: (link: HelperLink, run: HelperRun) => HelperHandle; cgroups: Promise<RecipeReport | undefined> } {
  let run: HelperRun | undefined;
  let failure: HelperFailure | undefined;
  let readyDone = false;
  let resolvePid!: (pid: number) => void, rejectPid!: (e: Error) => void;
  let resolveReady!: () => void, rejectReady!: (e: Error) => void;
  let resolveExit!: (n: number) => void, rejectExit!: (e: Error) => void;
  const pid = new Promise<number>((res, rej) => ((resolvePid = res), (rejectPid = rej)));
  const ready = new Promise<void>((res, rej) => ((resolveReady = res), (rejectReady = rej)));
  const exit = new Promise<number>((res, rej) => ((resolveExit = res), (rejectExit = rej)));
  let resolveStatus!: (n: number) => void;
  const status = new Promise<number>((res, rej) => ((resolveStatus = res), exit.then(res, rej)));
  let resolveCgroups!: (r: RecipeReport | undefined) => void;
  const cgroups = new Promise<RecipeReport | undefined>((res) => ((resolveCgroups = res), exit.then(() => res(undefined), () => res(undefined))));
  pid.catch(() => {});
  ready.catch(() => {});
  exit.catch(() => {});
  status.catch(() => {});
  const fail = (status: string) => {
    const msg = failure ? describeFailure(failure) : `helper exited with ${status} before the container was ready`;
    const err = new RuntimeError('ERR_HELPER', msg);
    (err as RuntimeError & { failure?: HelperFailure }).failure = failure;
    rejectPid(err);
    rejectReady(err);
  };
  let buf: Buffer = Buffer.alloc(0);
  let link!: HelperLink;
  const onMessage = async (type: number, payload: Buffer) => {
    if (type === MSG.PID) resolvePid(payload.readUInt32LE(0));
    // a foreground helper's status of the container, sent before it reaps the container and
    // exits (native/ops-host.c wait_child): the same number as its exit status, ~1 ms sooner
    else if (type === MSG.EXITED) resolveStatus(payload.readUInt32LE(0));
    else if (type === MSG.CGROUPS) resolveCgroups({ made: payload.readUInt32LE(0), failed: payload.readInt32LE(4), errno: payload.readUInt32LE(8) });
    else if (type === MSG.READY) {
      readyDone = true;
      resolveReady();
    } else if (type === MSG.ERROR) {
      const opIndex = payload.readInt32LE(4);
      failure = { stage: STAGES[payload.readUInt32LE(0)] ?? 'helper', opIndex, errno: payload.readUInt32LE(8), message: payload.subarray(12).toString('utf8') };
      const origin = run?.ops[opIndex]?.origin;
      if (origin) failure.origin = origin;
    } else if (type === MSG.SYNC) {
      const name = payload.toString('utf8');
      try {
        const state = run?.onSync ? await run.onSync(name) : '';
        link.write(frame(MSG.CONTINUE, Buffer.from(state)));
      } catch (e) {
        failure = { stage: 'hooks', opIndex: -1, errno: 0, message: (e as Error).message };
        link.write(frame(MSG.ABORT));
      }
    }
  };
  const ev: LinkEvents = {
    data: (chunk) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 8) {
        const len = buf.readUInt32LE(4);
        if (buf.length < 8 + len) break;
        const type = buf.readUInt32LE(0);
        const payload = buf.subarray(8, 8 + len);
        buf = buf.subarray(8 + len);
        void onMessage(type, payload);
      }
    },
    exit: (status, how) => {
      if (!readyDone) fail(how);
      resolveExit(status);
    },
    error: (e) => {
      rejectExit(new RuntimeError('ERR_HELPER', `start helper: ${e.message}`, { cause: e }));
      fail('an error');
    },
  };
  return {
    ev,
    cgroups,
    start: (l, r) => {
      link = l;
      run = r;
      link.write(encodePlan(r.ops));
      return { ...(link.child ? { child: link.child } : {}), pid, ready, exit, status, kill: (sig) => link.kill(sig) };
    },
  };
}
