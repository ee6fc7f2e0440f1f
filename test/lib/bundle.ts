// Helpers for integration tests: busybox root filesystems with the probe,
// OCI bundles with a runc-like default config, and running the moat-oci CLI.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync, chmodSync, chownSync, constants, copyFileSync, existsSync, mkdirSync, mkdtempSync,
  openSync, readFileSync, readSync, closeSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The repository root: the nearest ancestor of this file whose package.json is "moat"
// (works from dist/test/lib/bundle.js and from test/lib/bundle.ts).
export const repoRoot: string = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

// Where `make -s -C test/probe` puts the static probe binary.
export const probePath: string = join(repoRoot, 'test', 'probe', 'probe');

// The CLI entry point that runCli runs.
export const cliPath: string = join(repoRoot, 'bin', 'moat-oci.cjs');
// What a user runs: the helper's CLI front, which runs cliPath for what it does not serve.
export const frontPath: string = join(repoRoot, 'bin', 'moat-oci');

const BUSYBOX = '/bin/busybox';

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'moat') return dir;
    } catch {
      // no package.json here: keep walking up
    }
    if (dirname(dir) === dir) return resolve(start, '..', '..', '..');
  }
}

// True when the ELF file at path has no program interpreter (is statically linked).
export function isStaticElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(64);
    readSync(fd, head, 0, 64, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2) return false; // ELF64 only
    const phoff = Number(head.readBigUInt64LE(32));
    const phentsize = head.readUInt16LE(54);
    const phnum = head.readUInt16LE(56);
    const ph = Buffer.alloc(phentsize * phnum);
    readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) if (ph.readUInt32LE(i * phentsize) === 3) return false; // PT_INTERP
    return true;
  } finally {
    closeSync(fd);
  }
}

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'user:x:1000:1000:user:/home/user:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  '',
].join('\n');

const GROUP = ['root:x:0:', 'tty:x:5:', 'user:x:1000:', 'nogroup:x:65534:', ''].join('\n');

// Options for makeRootfs.
export interface RootfsOptions {
  withProbe?: boolean; // copy the probe to /probe (default true)
}

// Builds a minimal busybox root in dir: /bin/busybox + applet symlinks, /probe,
// the usual empty directories, /etc/passwd (root, user 1000, nobody) and /etc/group.
export function makeRootfs(dir: string, opts: RootfsOptions = {}): void {
  if (!existsSync(BUSYBOX) || !isStaticElf(BUSYBOX)) {
    throw new Error(`${BUSYBOX} is missing or not static: install busybox-static (apt-get install busybox-static)`);
  }
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'proc', 'sys', 'dev', 'etc', 'run', 'var', 'home/user']) {
    mkdirSync(join(dir, d), { recursive: true, mode: 0o755 });
  }
  mkdirSync(join(dir, 'root'), { mode: 0o700 });
  for (const d of ['tmp', 'var/tmp']) {
    mkdirSync(join(dir, d), { recursive: true });
    chmodSync(join(dir, d), 0o1777);
  }
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n');
  for (const name of applets) {
    if (/^[\w.[-]+$/.test(name) && name !== 'busybox') symlinkSync('busybox', join(dir, 'bin', name));
  }
  writeFileSync(join(dir, 'etc/passwd'), PASSWD);
  writeFileSync(join(dir, 'etc/group'), GROUP);
  writeFileSync(join(dir, 'etc/hostname'), 'moat-test\n');
  writeFileSync(join(dir, 'etc/hosts'), '127.0.0.1\tlocalhost\n::1\tlocalhost\n');
  chmodSync(join(dir, 'home/user'), 0o755);
  if (isRoot()) chownSync(join(dir, 'home/user'), 1000, 1000);
  if (opts.withProbe ?? true) {
    if (!existsSync(probePath)) throw new Error(`${probePath} is missing: run make -s -C test/probe`);
    copyFileSync(probePath, join(dir, 'probe'));
    chmodSync(join(dir, 'probe'), 0o755);
  }
}

// A runc-like default config (mirrors `runc spec` of runc 1.1, plus a cgroup namespace):
// non-terminal, root user, runs `/probe id`, read-only root, runc's 3 default capabilities.
export function defaultConfig(): any {
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  const hardened = ['nosuid', 'noexec', 'nodev'];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['/probe', 'id'],
      env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
      cwd: '/',
      capabilities: { bounding: [...caps], effective: [...caps], permitted: [...caps], ambient: [...caps] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'moat-test',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      {
        destination: '/dev/pts', type: 'devpts', source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: [...hardened, 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: [...hardened] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: [...hardened, 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [...hardened, 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'].map((type) => ({ type })),
      maskedPaths: [
        '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

// Options for makeBundle.
export interface BundleOptions {
  config?: (c: any) => void; // mutates the (default or base) config before it is written
  baseConfig?: object; // replaces defaultConfig() (deep-copied)
  rootfs?: RootfsOptions;
}

// A bundle on disk and ways to read, rewrite and remove it.
export interface Bundle {
  dir: string;
  rootfs: string;
  configPath: string;
  readConfig(): any;
  writeConfig(c: object): void;
  cleanup(): void;
}

// Creates os.tmpdir()/moat-test-XXXXXX with rootfs/ and config.json.
export function makeBundle(opts: BundleOptions = {}): Bundle {
  const dir = mkdtempSync(join(tmpdir(), 'moat-test-'));
  chmodSync(dir, 0o755);
  const rootfs = join(dir, 'rootfs');
  const configPath = join(dir, 'config.json');
  const bundle: Bundle = {
    dir,
    rootfs,
    configPath,
    readConfig: () => JSON.parse(readFileSync(configPath, 'utf8')),
    writeConfig: (c) => writeFileSync(configPath, JSON.stringify(c, null, 2)),
    cleanup: () => removeTree(dir),
  };
  try {
    mkdirSync(rootfs, { mode: 0o755 });
    makeRootfs(rootfs, opts.rootfs);
    const config = opts.baseConfig ? structuredClone(opts.baseConfig) : defaultConfig();
    opts.config?.(config);
    bundle.writeConfig(config);
  } catch (err) {
    bundle.cleanup();
    throw err;
  }
  return bundle;
}

// Mount points at or below dir in this mount namespace, deepest first.
function mountsUnder(dir: string): string[] {
  let info = '';
  try {
    info = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return info
    .split('\n')
    .map((line) => unescape(line.split(' ')[4] ?? ''))
    .filter((mp) => mp === dir || mp.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
}

// rm -rf that first lazily unmounts anything left mounted inside, and never throws.
export function removeTree(dir: string): void {
  for (const mp of mountsUnder(resolve(dir))) {
    try {
      execFileSync('umount', ['-l', mp], { stdio: 'ignore' });
    } catch {
      // best effort
    }
  }
  if (mountsUnder(resolve(dir)).length > 0) return; // never recurse into a live mount
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    // tolerant: a leftover temp dir is better than a failed test teardown
  }
}

// Result of runCli.
export interface CliResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** the CLI process's pid */
  pid?: number;
}

// Options for runCli.
export interface CliOptions {
  input?: string;
  timeoutMs?: number; // default 30 000
  env?: object; // merged over process.env
  extraFds?: number[]; // fds of this process passed at 3, 4, ... (for --preserve-fds)
  script?: string; // a Node script to run instead of bin/moat-oci (the front, see native/front.c)
  wrapper?: string[]; // a command that runs the CLI (like nsenter --net=PATH)
}

// Runs `bin/moat-oci ...args` (MOAT_OCI_FRONT=0 in env: the Node path only); on timeout SIGKILLs that child (by pid) only. Output
// goes through temporary files, not pipes: a detached container inherits the CLI's stdio
// and must not die of SIGPIPE when the test stops reading.
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const env = { ...process.env, ...(opts.env as Record<string, string> | undefined) };
    const dir = mkdtempSync(join(tmpdir(), 'moat-cli-'));
    const outPath = join(dir, 'out');
    const errPath = join(dir, 'err');
    const inPath = join(dir, 'in');
    writeFileSync(inPath, opts.input ?? '');
    const fds = [openSync(inPath, 'r'), openSync(outPath, 'w'), openSync(errPath, 'w')];
    let child;
    try {
      const argv = opts.script ? [process.execPath, opts.script, ...args] : [frontPath, ...args];
      if (opts.wrapper?.length) argv.unshift(...opts.wrapper);
      child = spawn(argv[0]!, argv.slice(1), { env, stdio: [...fds, ...(opts.extraFds ?? [])] });
    } finally {
      for (const fd of fds) closeSync(fd);
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, (opts.timeoutMs ?? 30_000) * timeScale);
    child.on('error', (err) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const stdout = readFileSync(outPath, 'utf8');
      const stderr = readFileSync(errPath, 'utf8');
      rmSync(dir, { recursive: true, force: true });
      resolvePromise({ code, signal, stdout, stderr, timedOut, ...(child.pid ? { pid: child.pid } : {}) });
    });
  });
}

// Slower machines (a TCG VM) scale every wait of the tests by MOAT_TEST_TIME_SCALE.
export const timeScale: number = Number(process.env.MOAT_TEST_TIME_SCALE ?? '1') || 1;

let idCounter = 0;

// A container ID unique to this test run: prefix-pid-counter-random.
export function uniqueId(prefix = 'moat'): string {
  idCounter += 1;
  return `${prefix}-${process.pid}-${idCounter}-${randomBytes(3).toString('hex')}`;
}

// A fresh temporary directory for the runtime's --root state.
export function withTempState(): { root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'moat-state-'));
  return { root, cleanup: () => removeTree(root) };
}

// True when running as uid 0.
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

// True when an executable called name is on PATH (or in /usr/sbin, /sbin).
export function hasBinary(name: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  return dirs.some((d) => {
    if (!d) return false;
    try {
      accessSync(join(d, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

// Parses the probe's JSON output (the last non-empty line of stdout).
export function parseProbe<T = any>(stdout: string): T {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const last = lines[lines.length - 1];
  if (last === undefined) throw new Error('probe printed nothing');
  return JSON.parse(last) as T;
}

/** The ordinary user of the rootless tests (made by `.ci/run`). */
export const ROOTLESS_TEST_USER = 'moat-rootless';

/** uid and gid of the rootless tests' user, undefined if it does not exist. */
export function lookupTestUser(name = ROOTLESS_TEST_USER): { uid: number; gid: number } | undefined {
  const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) return undefined;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Runs `argv` with stdin /dev/null and stdout/stderr through temp files (a detached container
 * keeps the runner's stdio open, so pipes would never close); SIGKILLed after `timeoutMs`. */
export function runThroughFiles(argv: string[], o: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const dir = mkdtempSync(join(tmpdir(), 'moat-out-'));
    const out = join(dir, 'out'), err = join(dir, 'err');
    const fds = [openSync('/dev/null', 'r'), openSync(out, 'w'), openSync(err, 'w')];
    const child = spawn(argv[0]!, argv.slice(1), { cwd: o.cwd, env: o.env, stdio: fds });
    for (const fd of fds) closeSync(fd);
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); rmSync(dir, { recursive: true, force: true }); reject(e); });
    child.on('exit', (code) => {
      clearTimeout(timer);
      const r = { code, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
      rmSync(dir, { recursive: true, force: true });
      resolve(r);
    });
  });
}
