// The helper as a fork server (native/server.c), for processes that run many containers:
// spawning from Node costs ~5 ms per container (libuv forks all of Node) plus the helper's
// re-exec from its sealed memfd; the server, spawned once, forks its sealed self (0.3-0.9 ms
// here), or hands the container to the spare helper it started ahead. It is only a faster way
// to start the same helper on the same Plan: every decision is still the Plan's, and the
// cgroup recipe the helper may make first is TypeScript's own earlier work replayed
// (cgroup-recipe.ts). Off by default in the CLIs (one container per process: nothing to
// amortize), on for the library; `setHelperServer(false)` (helper-mode.ts) turns it off.
//
// The server's stdio is this process's, so a child can inherit it or get /dev/null; any other
// stdio, or preserved fds, needs fds passed from Node, which Node cannot do: those runs are
// spawned as before. The server is unref'd while idle, so it never keeps Node alive, and it
// exits when this process does (its control socket closes).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { posix } from 'node:path';
import { helperServerOn } from './helper-mode.js';
import { cgroupHostInfo } from './host.js';
import { helperPath } from './paths.js';

const KIND = { SPAWN: 1, DATA: 2, KILL: 3, EXIT: 4, FAIL: 5 } as const;
const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15, SIGCONT: 18, SIGSTOP: 19, SIGWINCH: 28 };

interface Events { data: (b: Buffer) => void; exit: (status: number, how: string) => void; error: (e: Error) => void }

let current: Server | undefined;

/** The running server (started on first use), or undefined when it is off (helper-mode.ts). */
export function helperServer(): Server | undefined {
  if (!helperServerOn()) return undefined;
  if (!current || current.dead) current = new Server();
  return current;
}

/**
 * Where the server keeps an empty cpuset cgroup for as long as it runs (native/server.c: the
 * kernel's cpuset static keys stay on while one exists, so a container's cpuset mkdir does
 * not patch the kernel's text, ~2.5 ms each time here): our own cpuset cgroup, where
 * containers' cpuset cgroups go by default, if cpuset is a v1 hierarchy, or on cgroup2 if
 * our cgroup hands cpuset to its children. Only as root (else the mkdir is refused).
 */
export function cpusetKeeperParent(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const host = cgroupHostInfo();
    if (host.v1['cpuset']) return posix.join(host.v1['cpuset'], host.self['cpuset'] ?? '/');
    if (!host.unified) return undefined;
    const own = posix.join(host.unified, host.self[''] ?? '/');
    return readFileSync(posix.join(own, 'cgroup.subtree_control'), 'utf8').split(/\s+/).includes('cpuset') ? own : undefined;
  } catch {
    return undefined; /* no cgroups we can read: nothing to keep */
  }
}

function msg(kind: number, id: number, payload: Uint8Array = new Uint8Array()): Buffer {
  const b = Buffer.alloc(12 + payload.length);
  b.writeUInt32LE(kind, 0);
  b.writeUInt32LE(id, 4);
  b.writeUInt32LE(payload.length, 8);
  b.set(payload, 12);
  return b;
}

class Server {
  dead = false;
  private child: ChildProcess;
  private sock: Socket;
  private nextId = 1;
  private open_ = new Map<number, Events>();
  private buf: Buffer = Buffer.alloc(0);

  constructor() {
    const keep = cpusetKeeperParent();
    this.child = spawn(helperPath(), ['serve', '3', ...(keep ? [keep] : [])], { stdio: ['inherit', 'inherit', 'inherit', 'pipe'], env: {} });
    this.sock = this.child.stdio[3] as Socket;
    this.child.on('error', (e) => this.die(e));
    this.child.on('exit', (code, signal) => this.die(new Error(`helper server exited (${signal ?? `status ${code}`})`)));
    this.sock.on('error', () => {});
    this.sock.on('data', (chunk: Buffer) => this.onData(chunk));
    this.idle();
  }

  /** A link to a new helper; `ignore[i]`: stdio fd i is /dev/null, else inherited.
   * `deviceProgram`: the instructions of the Plan's device program, which the server loads
   * once per distinct program and lends to the helper (native/server.c). `cgroupRecipe`: the
   * container's cgroup, for the helper to make before its Plan comes (cgroup-recipe.ts). */
  open(ignore: boolean[], ev: Events, deviceProgram?: Uint8Array, cgroupRecipe?: Uint8Array): { write: (b: Uint8Array) => void; kill: (sig: NodeJS.Signals) => void } {
    const id = this.nextId++;
    this.open_.set(id, ev);
    this.busy();
    const head = Buffer.alloc(7);
    for (let i = 0; i < 3; i++) head[i] = ignore[i] ? 1 : 0;
    head.writeUInt32LE(deviceProgram?.length ?? 0, 3);
    this.sock.write(msg(KIND.SPAWN, id, Buffer.concat([head, deviceProgram ?? new Uint8Array(), cgroupRecipe ?? new Uint8Array()])));
    return {
      write: (b) => {
        if (!this.dead) this.sock.write(msg(KIND.DATA, id, b));
      },
      kill: (sig) => {
        const n = SIGNALS[sig];
        if (!n) throw new Error(`helper server: cannot forward ${sig}`);
        const p = Buffer.alloc(4);
        p.writeUInt32LE(n);
        if (!this.dead) this.sock.write(msg(KIND.KILL, id, p));
      },
    };
  }

  // referenced only while a helper runs: an idle server never keeps the process alive
  private busy(): void {
    this.child.ref();
    this.sock.ref();
  }
  private idle(): void {
    this.child.unref();
    this.sock.unref();
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 12) {
      const len = this.buf.readUInt32LE(8);
      if (this.buf.length < 12 + len) break;
      const kind = this.buf.readUInt32LE(0), id = this.buf.readUInt32LE(4);
      const payload = this.buf.subarray(12, 12 + len);
      this.buf = this.buf.subarray(12 + len);
      const ev = this.open_.get(id);
      if (!ev) continue;
      if (kind === KIND.DATA) ev.data(payload);
      else if (kind === KIND.EXIT || kind === KIND.FAIL) {
        this.open_.delete(id);
        if (!this.open_.size) this.idle();
        if (kind === KIND.FAIL) ev.error(new Error(`helper server: fork: errno ${payload.readUInt32LE(0)}`));
        else {
          const killed = payload.readUInt32LE(0) === 1, n = payload.readUInt32LE(4);
          ev.exit(killed ? 128 + n : n, killed ? `signal ${n}` : `status ${n}`);
        }
      }
    }
  }

  private die(e: Error): void {
    if (this.dead) return;
    this.dead = true;
    if (current === this) current = undefined;
    for (const ev of this.open_.values()) ev.error(e);
    this.open_.clear();
    this.sock.destroy();
  }
}
