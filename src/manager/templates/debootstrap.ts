// debootstrap: a minimal Debian tree from Debian's archive, with a progress bar on stderr
// while it builds (plain lines when stderr is not a terminal). The mirror is
// $MOAT_DEBIAN_MIRROR, else the one the host's apt sources use, else deb.debian.org.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isatty } from 'node:tty';
import { ManagerError } from '../errors.js';

/** The default mirror when the host names none. */
export const DEFAULT_DEBIAN_MIRROR = 'http://deb.debian.org/debian';

/** util-linux's setpriv (for --pdeathsig). */
const SETPRIV = '/usr/bin/setpriv';

/** Where debootstrap lives on Debian. */
export const DEBOOTSTRAP = '/usr/sbin/debootstrap';

/** Packages added to minbase: ps, top and kill for `moat exec`; systemd as init for
 * `--init systemd` (systemd-sysv pulls in systemd). Kept small: every data dir builds its cache once. */
export const DEBIAN_EXTRA_PACKAGES = ['procps', 'systemd-sysv'];

/** The Debian suite of the host (`bookworm` when the host does not say). */
export function hostSuite(osRelease = '/etc/os-release'): string {
  try {
    const text = readFileSync(osRelease, 'utf8');
    const field = (k: string) => new RegExp(`^${k}="?([a-z0-9]+)"?$`, 'm').exec(text)?.[1];
    const codename = field('VERSION_CODENAME');
    if (field('ID') === 'debian' && codename) return codename;
  } catch {
    /* no os-release */
  }
  return 'bookworm';
}

/** The Debian mirror in the host's apt sources (one-line and deb822 formats) that serves
 * `suite` (not the security archive), or undefined. */
export function hostDebianMirror(suite: string, aptDir = '/etc/apt'): string | undefined {
  const files: string[] = [];
  if (existsSync(join(aptDir, 'sources.list'))) files.push(join(aptDir, 'sources.list'));
  try {
    for (const n of readdirSync(join(aptDir, 'sources.list.d')).sort()) if (/\.(list|sources)$/.test(n)) files.push(join(aptDir, 'sources.list.d', n));
  } catch {
    /* none */
  }
  const candidates: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    if (f.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, 'mi').exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
        if (!field('Types').includes('deb') || !field('Suites').includes(suite) || field('Enabled')[0] === 'no') continue;
        candidates.push(...field('URIs'));
      }
    } else {
      for (const line of text.split('\n')) {
        const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s/.exec(line);
        if (m && m[2] === suite) candidates.push(m[1]!);
      }
    }
  }
  return candidates.find((u) => /^https?:\/\//.test(u) && !/security/.test(u));
}

/** The mirror debootstrap uses. */
export function debianMirror(suite: string): string {
  return process.env.MOAT_DEBIAN_MIRROR || hostDebianMirror(suite) || DEFAULT_DEBIAN_MIRROR;
}

/** Formats a debian-installer info record (`I: NAME`, `IA: arg`..., `IF: printf format`). */
function formatRecord(fmt: string, args: string[]): string {
  let i = 0;
  return fmt.replace(/%[sd]/g, () => args[i++] ?? '');
}

/** Draws progress on stderr: a bar on a terminal, a line per tenth otherwise. */
class Progress {
  private readonly tty = isatty(2);
  private lastTenth = -1;
  private text = '';
  private width = 0;
  constructor(private readonly what: string, private readonly write: (s: string) => void) {}
  update(fraction: number, text: string): void {
    if (text) this.text = text;
    const pct = Math.max(0, Math.min(100, Math.floor(fraction * 100)));
    if (this.tty) {
      const filled = Math.round(pct / 4);
      const line = `${this.what} [${'#'.repeat(filled)}${'.'.repeat(25 - filled)}] ${String(pct).padStart(3)}% ${this.text}`.slice(0, (process.stderr.columns || 80) - 1);
      this.write(`\r${line.padEnd(this.width)}`);
      this.width = line.length;
    } else if (Math.floor(pct / 10) > this.lastTenth) {
      this.lastTenth = Math.floor(pct / 10);
      this.write(`${this.what}: ${pct}% ${this.text}\n`);
    }
  }
  done(): void {
    if (this.tty && this.width) this.write(`\r${' '.repeat(this.width)}\r`);
  }
}

/** Runs debootstrap into `target` (an empty dir). */
export async function runDebootstrap(target: string, suite: string, write: (s: string) => void): Promise<void> {
  const mirror = debianMirror(suite);
  const args = ['--variant=minbase', `--include=${DEBIAN_EXTRA_PACKAGES.join(',')}`, '--debian-installer', suite, target, mirror];
  const progress = new Progress(`moat: building the debian ${suite} template from ${mirror}`, write);
  progress.update(0, 'starting');
  // --debian-installer: machine-readable progress (P: now end) and info records on fd 3; the
  // full log on stdout and stderr, kept for the error message
  // setpriv --pdeathsig: a moat killed mid-build takes debootstrap with it (the next build
  // removes the staging dir it leaves)
  const [cmd, argv] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'KILL', '--', DEBOOTSTRAP, ...args]] : [DEBOOTSTRAP, args];
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive' } });
  const log: string[] = [];
  const keep = (b: Buffer) => {
    log.push(...b.toString().split('\n').filter(Boolean));
    if (log.length > 200) log.splice(0, log.length - 200);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let fraction = 0, text = '', errors: string[] = [];
  let rec: { kind: string; args: string[] } | undefined;
  let buf = '';
  (child.stdio[3] as NodeJS.ReadableStream).on('data', (b: Buffer) => {
    buf += b.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = /^(P|I|W|E|PA|IA|WA|EA|PF|IF|WF|EF): ?(.*)$/.exec(line);
      if (!m) continue;
      const [, tag, rest] = m as unknown as [string, string, string];
      if (tag === 'P') {
        const [now, end] = rest.split(' ').map(Number);
        if (end) fraction = now! / end;
        rec = { kind: 'P', args: [] };
      } else if (tag.length === 1) rec = { kind: tag, args: [] };
      else if (tag.endsWith('A')) rec?.args.push(rest);
      else if (tag.endsWith('F') && rec) {
        const msg = formatRecord(rest, rec.args);
        if (rec.kind === 'E') errors.push(msg);
        else if (rec.kind === 'I' || rec.kind === 'P') text = msg;
        progress.update(fraction, text);
        rec = undefined;
      }
    }
  });
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, sig) => resolve(c ?? 128 + (sig ? 15 : 0)));
  });
  if (code === 0) progress.update(1, 'done');
  progress.done();
  if (code !== 0) {
    errors = errors.length ? errors : log.slice(-5);
    throw new ManagerError('ERR_TEMPLATE', `template \`debian\`: debootstrap ${suite} from ${mirror} failed (exit ${code}): ${errors.join('; ')}`);
  }
}
