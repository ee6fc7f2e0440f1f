// Container state on disk: one directory per container under the runtime root, state.json
// written whole to a temporary file and moved into place, and a lock per container.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rm, rmdir, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { OciSpec, OciState } from '../spec/oci-types.js';
import { RuntimeError } from './errors.js';
import { encodeStateRecord } from './state-record.js';

/** What the runtime remembers about one container. */
export interface ContainerRecord {
  id: string;
  bundle: string;
  rootfs: string;
  pid: number;
  /** start time of `pid` (field 22 of /proc/PID/stat), to notice pid reuse */
  pidStart: string;
  created: string;
  owner: string;
  annotations: Record<string, string>;
  /** the namespaces the container has of its own (joined by `exec`) */
  namespaces: string[];
  cgroup?: unknown;
  spec: OciSpec;
  /** set once the container has been seen to stop */
  stopped?: boolean;
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,253}$/;

/** Checks a container ID: letters, digits and `_.+-`, not starting with a symbol. */
export function checkId(id: string): void {
  if (!ID_RE.test(id)) throw new RuntimeError('ERR_INVALID_ID', `invalid container id \`${id}\`: use letters, digits and \`_.+-\`, starting with a letter or digit`);
}

/** The state directory of a runtime root. */
export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, id);
  }
  fifo(id: string): string {
    return join(this.dir(id), 'exec.fifo');
  }
  /** Where the exit waiter writes the first process's status (`create` with recordExit). */
  exitFile(id: string): string {
    return join(this.dir(id), 'exit-status');
  }
  /** The recorded exit status of the container's first process, once it has ended. */
  exitStatus(id: string): number | undefined {
    const s = readFileSafe(this.exitFile(id)).trim();
    return /^\d+$/.test(s) ? Number(s) : undefined;
  }

  /** Reserves the ID: the directory's creation is the atomic test for existence. */
  reserve(id: string): void {
    checkId(id);
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    sweepAside(this.root);
    try {
      mkdirSync(this.dir(id), { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new RuntimeError('ERR_CONTAINER_EXISTS', `container \`${id}\` already exists`);
      throw e;
    }
  }

  /** Writes state.json and its binary twin state.bin (state-record.ts), each written whole
   * to `.NAME.PID` and then moved into place. state.bin goes first and carries the digest of
   * the state.json it belongs to: a reader between the two sees a mismatch (or no state.json)
   * and takes the Node path.
   * `bin: false` writes state.json alone (create's records before the pid is known): the C
   * front then finds no state.bin, or one whose digest does not match, and hands the verb to
   * Node, which reads state.json.
   * The old file is unlinked before the new one is renamed into place, not renamed over: on
   * ext4 a rename over a file makes the kernel allocate the new file's blocks and start
   * writing it at once (`auto_da_alloc`), and freeing those blocks at the next write or the
   * delete then waits for the disk (a discard, where mounted `discard`): together ~1.5 ms of
   * a container's ~9 ms of CPU in a warm process, measured here. A file created and unlinked
   * within the writeback delay never reaches the disk. Readers cover the moment between
   * unlink and rename (`read`), and a writer killed in it (its complete temporary file is
   * taken as state.json). */
  write(rec: ContainerRecord, bin = true): void {
    const dir = this.dir(rec.id);
    const json = Buffer.from(JSON.stringify(rec));
    const jsonTmp = join(dir, `${TMP_JSON}${process.pid}`);
    // no fsync: runtime state means nothing after a reboot (its pids are gone)
    writeNew(jsonTmp, json);
    if (bin) {
      const binTmp = join(dir, `.state.bin.${process.pid}`);
      writeNew(binTmp, encodeStateRecord(rec, json, process.getuid?.() !== 0));
      replaceFile(binTmp, join(dir, 'state.bin'));
    }
    replaceFile(jsonTmp, join(dir, 'state.json'));
  }

  read(id: string): ContainerRecord {
    checkId(id);
    const dir = this.dir(id);
    const deadline = Date.now() + 200;
    for (;;) {
      try {
        return JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as ContainerRecord;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new RuntimeError('ERR_IO', `read state of \`${id}\`: ${(e as Error).message}`, { cause: e });
      }
      // no state.json: a writer between its unlink and its rename (it has a temporary file
      // and is alive: read again), or one killed there (take its file), or no record at all
      const pending = pendingWrites(dir);
      if (!pending.length) throw new RuntimeError('ERR_NOT_FOUND', `container \`${id}\` does not exist`);
      if (pending.some((w) => processAlive(w.pid)) && Date.now() < deadline) {
        Atomics.wait(PAUSE, 0, 0, 0.2);
        continue;
      }
      if (!adoptPendingWrite(dir, pending)) throw new RuntimeError('ERR_NOT_FOUND', `container \`${id}\` does not exist`);
    }
  }

  /** IDs with a state directory and a record (including ones still being created). */
  ids(): string[] {
    try {
      return readdirSync(this.root).filter((n) => ID_RE.test(n) && (existsSync(join(this.root, n, 'state.json')) || pendingWrites(join(this.root, n)).length > 0));
    } catch {
      return [];
    }
  }

  /** Removes a container's dir. `defer`: it is renamed aside (`.gone-PID-RANDOM`; the id is
   * free at once) and removed on libuv's threadpool, and the caller goes on: on ext4 mounted
   * `discard` removing a directory waits for the disk to discard its block (~0.9 ms of a
   * warm runContainer here). What is still pending when the process exits is removed then;
   * what a killed process left, by the next process that reserves an id in this root. */
  remove(id: string, defer = false): void {
    // the files a container's dir holds by the time it is deleted, removed by name (rmSync
    // reads the dir and lstats each entry first); anything else (an `exit-status` still being
    // written, a temporary file of a crashed writer) leaves the dir not empty, and then:
    const dir = this.dir(id);
    for (const f of ['state.bin', 'state.json', 'exec.fifo', 'lock']) {
      try {
        unlinkSync(join(dir, f));
      } catch {
        /* not there */
      }
    }
    if (defer && removeAside(this.root, dir)) return;
    try {
      rmdirSync(dir);
      return;
    } catch {
      /* not empty, or gone */
    }
    // a detached container's exit waiter (native/waiter.c) writes `exit-status` once, when
    // the container's first process is reaped, which may fall while the tree is removed (a
    // loaded host can delay it): ENOTEMPTY is retried for up to about two seconds
    rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 10 });
  }

  /** Takes the container's lock: an O_EXCL file naming its holder; a dead holder's lock is
   * taken over. Returns the release function. */
  async lock(id: string, timeoutMs = 10_000): Promise<() => void> {
    const path = join(this.dir(id), 'lock');
    const deadline = Date.now() + timeoutMs;
    const release = () => {
      try {
        if (Number(readFileSafe(path)) === process.pid) unlinkSync(path);
      } catch {
        /* removed with the state directory */
      }
    };
    for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return release;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw new RuntimeError('ERR_NOT_FOUND', `container \`${id}\` does not exist`);
        if (code !== 'EEXIST') throw e;
      }
      const holder = Number(readFileSafe(path));
      if (holder && !processAlive(holder)) {
        // the holder died: replace its lock by rename; of several takers the last rename
        // wins, and each checks by reading the lock back
        const tmp = `${path}.${process.pid}`;
        writeFileSync(tmp, String(process.pid));
        try {
          renameSync(tmp, path);
        } catch {
          rmSync(tmp, { force: true });
        }
        if (Number(readFileSafe(path)) === process.pid) return release;
        continue;
      }
      if (Date.now() > deadline) throw new RuntimeError('ERR_LOCKED', `container \`${id}\` is locked by process ${holder}`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

const TMP_JSON = '.state.json.';
const ASIDE = /^\.gone-(\d+)-[0-9a-f]{12}$/;
const aside = new Set<string>(); // this process's dirs renamed aside and not yet removed
const swept = new Set<string>(); // roots whose dead processes' leftovers were removed
let exitHooked = false;
const PAUSE = new Int32Array(new SharedArrayBuffer(4)); // for Atomics.wait: a short sync sleep

/** StateStore.remove's deferred removal; false if the dir could not be renamed aside. */
function removeAside(root: string, dir: string): boolean {
  const to = join(root, `.gone-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    renameSync(dir, to);
  } catch {
    return false;
  }
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', () => {
      for (const d of aside) rmSync(d, { recursive: true, force: true });
    });
  }
  aside.add(to);
  // an `exit-status` a detached container's waiter writes late makes it not empty (see remove)
  rmdir(to, (e) => (e ? rm(to, { recursive: true, force: true, maxRetries: 20, retryDelay: 10 }, () => aside.delete(to)) : aside.delete(to)));
  return true;
}

/** Removes what killed processes left renamed aside in this root (once per root and process). */
function sweepAside(root: string): void {
  if (swept.has(root)) return;
  swept.add(root);
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  for (const n of names) {
    const m = ASIDE.exec(n);
    if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) rmSync(join(root, n), { recursive: true, force: true });
  }
}

/** Moves `tmp` to `dest`, removing `dest` first (StateStore.write says why). A reader that
 * took `tmp` meanwhile (`adoptPendingWrite`, after waiting 200 ms for this process) has
 * already put the same bytes there. */
function replaceFile(tmp: string, dest: string): void {
  try {
    unlinkSync(dest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  try {
    renameSync(tmp, dest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync(dest)) throw e;
  }
}

/** The temporary state.json files in a container's dir: `.state.json.PID`. */
function pendingWrites(dir: string): { name: string; pid: number }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(TMP_JSON) && /^\d+$/.test(n.slice(TMP_JSON.length))).map((name) => ({ name, pid: Number(name.slice(TMP_JSON.length)) }));
}

/** With no state.json, the newest temporary file that holds a whole record is the record its
 * writer was moving into place when it died (it unlinks state.json only once that file is
 * complete; a file it was still writing is older than state.json, which then exists).
 * Returns false if none holds a record. */
function adoptPendingWrite(dir: string, pending: { name: string }[]): boolean {
  let best: { name: string; mtime: number } | undefined;
  for (const w of pending) {
    try {
      const p = join(dir, w.name);
      JSON.parse(readFileSync(p, 'utf8'));
      const mtime = statSync(p).mtimeMs;
      if (!best || mtime > best.mtime) best = { name: w.name, mtime };
    } catch {
      /* cut short by its writer's death, or gone */
    }
  }
  if (!best) return false;
  try {
    renameSync(join(dir, best.name), join(dir, 'state.json'));
  } catch {
    /* another reader, or the writer, put it there */
  }
  return true;
}

function writeNew(path: string, b: Uint8Array): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    for (let off = 0; off < b.length; ) off += writeSync(fd, b, off);
  } finally {
    closeSync(fd);
  }
}

function readFileSafe(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

/** True if the process exists (signal 0). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Start time and state letter of a process from /proc/PID/stat, or undefined if gone. */
export function procStat(pid: number): { start: string; state: string } | undefined {
  const s = readFileSafe(`/proc/${pid}/stat`);
  if (!s) return undefined;
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0]!, start: rest[19]! };
}

/** The OCI status of a recorded container, derived from what the kernel says now. */
export function containerStatus(store: StateStore, rec: ContainerRecord, paused: boolean): OciState['status'] {
  if (rec.stopped || !rec.pid) return 'stopped';
  const st = procStat(rec.pid);
  if (!st || st.start !== rec.pidStart || st.state === 'Z' || st.state === 'X') return 'stopped';
  if (existsSync(store.fifo(rec.id))) return 'created';
  return paused ? 'paused' : 'running';
}

/** The OCI state document of a record with a given status. */
export function ociState(rec: Pick<ContainerRecord, 'id' | 'pid' | 'bundle' | 'annotations' | 'spec'>, status: OciState['status']): OciState {
  const s: OciState = { ociVersion: rec.spec.ociVersion, id: rec.id, status, bundle: rec.bundle };
  if (status !== 'stopped' && rec.pid) s.pid = rec.pid;
  if (Object.keys(rec.annotations).length) s.annotations = rec.annotations;
  return s;
}
