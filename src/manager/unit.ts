// `--unit NAME.service`: a host service's command as the sandbox's process. The unit file is
// read from the host's unit dirs (`systemctl cat` is not everywhere), drop-ins applied, and
// its [Service] ExecStart, Environment, EnvironmentFile, User, Group and WorkingDirectory
// turned into the sandbox's process; the unit's package's /etc files (dpkg -S, dpkg -L) seed
// the sandbox's private /etc.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { ConfigIssue } from '../spec/issues.js';

/** Where unit files are looked for, first match wins ($MOAT_UNIT_PATH, colon-separated,
 * replaces the list). */
export function unitDirs(): string[] {
  const env = process.env.MOAT_UNIT_PATH;
  return env ? env.split(':').filter(Boolean) : ['/etc/systemd/system', '/run/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];
}

/** A unit turned into what a sandbox runs. */
export interface HostUnit {
  name: string;
  /** the unit file read (its drop-ins applied) */
  path: string;
  command: string[];
  env: string[];
  user?: { uid: number; gid: number };
  cwd?: string;
  /** the Debian package that owns the unit file, if any */
  package?: string;
}

type Service = Map<string, string[]>;

/** Parses the [Service] section: key -> values in order (continuation lines joined). */
function parseService(text: string, into: Service): void {
  let section = '';
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1]!;
      continue;
    }
    if (section !== 'Service') continue;
    const eq = line.indexOf('=');
    if (eq < 1) continue;
    const key = line.slice(0, eq).trim(), value = line.slice(eq + 1).trim();
    // an empty assignment resets a list (how drop-ins replace ExecStart)
    if (value === '') into.set(key, []);
    else into.set(key, [...(into.get(key) ?? []), value]);
  }
}

/** Splits a command line as systemd does: quotes, backslash escapes, ${VAR} (one word) and
 * $VAR (split on whitespace). Unknown variables expand to nothing, as in systemd. */
export function splitUnitCommand(line: string, env: Map<string, string>): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length) break;
    let word = '';
    let quoted = false;
    const bare = /^\$([A-Za-z_][A-Za-z0-9_]*)(?=\s|$)/.exec(line.slice(i));
    if (bare) {
      out.push(...(env.get(bare[1]!) ?? '').split(/\s+/).filter(Boolean));
      i += bare[0].length;
      continue;
    }
    while (i < line.length && !/\s/.test(line[i]!)) {
      const c = line[i]!;
      if (c === '"' || c === "'") {
        quoted = true;
        const end = line.indexOf(c, i + 1);
        const body = end < 0 ? line.slice(i + 1) : line.slice(i + 1, end);
        word += body.replace(/\\(.)/g, '$1');
        i = end < 0 ? line.length : end + 1;
      } else if (c === '\\' && i + 1 < line.length) {
        word += line[i + 1];
        i += 2;
      } else if (c === '$' && line[i + 1] === '{') {
        const end = line.indexOf('}', i);
        word += env.get(line.slice(i + 2, end < 0 ? undefined : end)) ?? '';
        i = end < 0 ? line.length : end + 1;
      } else {
        word += c;
        i++;
      }
    }
    if (word || quoted) out.push(word);
  }
  return out;
}

/** Parses `Environment=` values: space-separated, optionally quoted, KEY=VALUE words. */
function parseEnvironment(values: string[], env: Map<string, string>): void {
  for (const v of values) for (const w of splitUnitCommand(v.replace(/\$/g, '\\$'), new Map())) {
    const eq = w.indexOf('=');
    if (eq > 0) env.set(w.slice(0, eq), w.slice(eq + 1));
  }
}

/** Reads an EnvironmentFile (KEY=VALUE lines, # comments, optional quotes). */
function readEnvironmentFile(path: string, env: Map<string, string>): void {
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!.trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    env.set(m[1]!, v);
  }
}

/** A user or group by name or number in a host account file (`passwd` or `group`). */
function lookup(file: string, who: string): { id: number; gid: number; home: string } | undefined {
  if (/^\d+$/.test(who)) return { id: Number(who), gid: Number(who), home: '/' };
  try {
    const f = readFileSync(file, 'utf8').split('\n').map((l) => l.split(':')).find((p) => p[0] === who);
    return f ? { id: Number(f[2]), gid: Number(f[3] ?? f[2]), home: f[5] ?? '/' } : undefined;
  } catch {
    return undefined;
  }
}

/** The package that owns a file, asking dpkg for the path and its /usr or / twin. */
export function owningPackage(path: string): string | undefined {
  const twins = [path, path.startsWith('/usr/') ? path.slice(4) : `/usr${path}`];
  for (const p of twins) {
    try {
      const out = execFileSync('dpkg-query', ['-S', p], { stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' });
      const pkg = out.split('\n')[0]?.split(':')[0]?.split(',')[0]?.trim();
      if (pkg && !pkg.startsWith('diversion by')) return pkg;
    } catch {
      /* not owned */
    }
  }
  return undefined;
}

/** The files (and dirs) a package installed under /etc. */
export function packageEtcFiles(pkg: string): string[] {
  try {
    return execFileSync('dpkg-query', ['-L', pkg], { stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' }).split('\n').filter((p) => p.startsWith('/etc/'));
  } catch {
    return [];
  }
}

/** Reads a host unit; returns it, or the issues (against `--unit`) that make it unusable.
 * `onHost`: the sandbox runs the host's programs (the host template), so the program must
 * exist here. */
export function readHostUnit(name: string, onHost = true): { unit?: HostUnit; issues: ConfigIssue[] } {
  const issue = (message: string) => ({ issues: [{ code: 'ERR_UNIT', path: '--unit', message }] });
  if (!/^[A-Za-z0-9:_.\\-]+\.service$/.test(name)) return issue(`\`${name}\` is not a service unit name (NAME.service; template instances NAME@X.service are not supported)`);
  const dirs = unitDirs();
  const path = dirs.map((d) => join(d, name)).find((p) => existsSync(p));
  if (!path) return issue(`no unit \`${name}\` in ${dirs.join(', ')}`);
  if (readFileSync(path, 'utf8').trim() === '' || (lstatSync(path).isSymbolicLink() && readlinkSync(path) === '/dev/null')) return issue(`unit \`${name}\` is masked`);
  const svc: Service = new Map();
  parseService(readFileSync(path, 'utf8'), svc);
  for (const d of dirs) {
    const dropins = join(d, `${name}.d`);
    if (!existsSync(dropins)) continue;
    for (const f of readdirSync(dropins).filter((n) => n.endsWith('.conf')).sort()) parseService(readFileSync(join(dropins, f), 'utf8'), svc);
  }
  const type = svc.get('Type')?.at(-1) ?? 'simple';
  if (type === 'forking') return issue(`unit \`${name}\` is Type=forking: its ExecStart daemonizes, and a sandbox's process must stay in the foreground`);
  const starts = svc.get('ExecStart') ?? [];
  if (starts.length !== 1) return issue(starts.length ? `unit \`${name}\` has ${starts.length} ExecStart lines; a sandbox runs one command` : `unit \`${name}\` has no ExecStart`);
  const env = new Map<string, string>();
  for (const f of svc.get('EnvironmentFile') ?? []) {
    const optional = f.startsWith('-');
    const p = optional ? f.slice(1) : f;
    if (existsSync(p)) readEnvironmentFile(p, env);
    else if (!optional) return issue(`unit \`${name}\`: EnvironmentFile \`${p}\` does not exist`);
  }
  parseEnvironment(svc.get('Environment') ?? [], env);
  let line = starts[0]!;
  // prefixes: `-` (failure ignored) and `@` (argv[0] given) are fine; `+`, `!`, `!!` ask for
  // privileges a sandbox never grants
  const prefix = /^[-@:+!]*/.exec(line)![0];
  if (/[+!]/.test(prefix)) return issue(`unit \`${name}\`: ExecStart prefix \`${prefix}\` asks for full privileges, which a sandbox does not give`);
  line = line.slice(prefix.length);
  const unknown = /%[^%nNpP]/.exec(line);
  if (unknown) return issue(`unit \`${name}\`: ExecStart specifier \`${unknown[0]}\` is not supported`);
  const prefixName = name.replace(/\.service$/, '');
  line = line.replace(/%([%nNpP])/g, (_, c: string) => (c === '%' ? '%' : c === 'n' ? name : prefixName));
  let command = splitUnitCommand(line, env);
  if (prefix.includes('@')) command = [command[0]!, ...command.slice(2)];
  if (!command.length) return issue(`unit \`${name}\`: ExecStart is empty`);
  if (onHost && isAbsolute(command[0]!) && !existsSync(command[0]!)) return issue(`unit \`${name}\`: ExecStart program \`${command[0]}\` is not on the host`);
  if (!isAbsolute(command[0]!)) {
    const found = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].map((d) => join(d, command[0]!)).find((p) => existsSync(p));
    if (!found) return issue(`unit \`${name}\`: ExecStart program \`${command[0]}\` is not on the host`);
    command[0] = found;
  }
  const unit: HostUnit = { name, path, command, env: [...env].map(([k, v]) => `${k}=${v}`) };
  const user = svc.get('User')?.at(-1), group = svc.get('Group')?.at(-1);
  if (user) {
    const u = lookup('/etc/passwd', user);
    if (!u) return issue(`unit \`${name}\`: User \`${user}\` is not a host user`);
    unit.user = { uid: u.id, gid: u.gid };
  }
  if (group) {
    const g = lookup('/etc/group', group);
    if (!g) return issue(`unit \`${name}\`: Group \`${group}\` is not a host group`);
    unit.user = { uid: unit.user?.uid ?? 0, gid: g.id };
  }
  const wd = svc.get('WorkingDirectory')?.at(-1)?.replace(/^-/, '');
  if (wd === '~') unit.cwd = (user && lookup('/etc/passwd', user)?.home) || '/root';
  else if (wd && isAbsolute(wd)) unit.cwd = wd;
  const pkg = owningPackage(path);
  if (pkg) unit.package = pkg;
  return { unit, issues: [] };
}

/** Copies the unit's package's /etc files into the sandbox's /etc (`etc`), owners shifted by
 * `idBase` (the sandbox's host id for its root; 0 without a private range). */
export function seedUnitEtc(etc: string, pkg: string, idBase: number): void {
  for (const p of packageEtcFiles(pkg)) {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      continue; // a conffile the admin removed
    }
    const dst = join(etc, p.slice('/etc/'.length));
    if (existsSync(dst)) continue;
    // (dpkg lists a dir before what it holds; a parent it does not list is made here)
    for (let d = dirname(dst), made = mkdirSync(dirname(dst), { recursive: true, mode: 0o755 }); made && d.length >= made.length; d = dirname(d)) lchownSync(d, idBase, idBase);
    if (st.isDirectory()) mkdirSync(dst, { mode: st.mode & 0o7777 });
    else if (st.isSymbolicLink()) symlinkSync(readlinkSync(p), dst);
    else if (st.isFile()) copyFileSync(p, dst);
    else continue;
    lchownSync(dst, idBase + st.uid, idBase + st.gid);
    if (!st.isSymbolicLink()) chmodSync(dst, st.mode & 0o7777);
  }
}
