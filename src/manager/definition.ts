// A sandbox's definition: what the user asked for, validated and normalised once, at create.
// It is all the manager needs to build the OCI spec at every start.
import { existsSync } from 'node:fs';
import { isAbsolute, posix } from 'node:path';
import { ConfigError, IssueList } from '../spec/issues.js';
import { sandboxNameIssue } from './names.js';
import { normalizeTemplateName, templateIssues } from './templates/index.js';
import { readHostUnit } from './unit.js';

/** A host directory bound into the sandbox. */
export interface VolumeDef {
  host: string;
  container: string;
  readonly: boolean;
}

/** Network modes `moat` knows; `none` is the default (issue 9 adds bridge and user networks). */
export type NetworkMode = 'none' | 'host';

/** The stored definition of one sandbox (`sandbox.json`). */
export interface SandboxDefinition {
  version: 1;
  name: string;
  template: string;
  created: string;
  command: string[];
  env: string[];
  hostname: string;
  terminal: boolean;
  limits: { memory?: number; cpus?: number; pids: number };
  readOnly: boolean;
  volumes: VolumeDef[];
  network: { mode: NetworkMode };
  /** `private`: a host uid/gid range of the sandbox's own (allocated at create, freed at
   * delete); `host`: shares the host's ids (root inside is root outside) */
  userns: { mode: 'host' } | { mode: 'private'; start: number; size: number };
  /** made by `moat run` */
  ephemeral: boolean;
  /** `--unit`: the host service whose command runs (its user and working dir apply; its
   * package's /etc files were copied into the sandbox's /etc at create) */
  unit?: { name: string; package?: string; user?: { uid: number; gid: number }; cwd?: string };
}

/** What a user can ask for on `create` and `run` (flag values as given). */
export interface SandboxOptions {
  template?: string;
  memory?: string;
  cpus?: string;
  pids?: string;
  readOnly?: boolean;
  volumes?: string[];
  env?: string[];
  hostname?: string;
  network?: string;
  /** `private` (default: a uid range of the sandbox's own) or `host` */
  userns?: string;
  command?: string[];
  terminal?: boolean;
  ephemeral?: boolean;
  /** a host service unit (NAME.service) whose command runs */
  unit?: string;
}

/** Facts about the host that decide whether a limit is possible. */
export interface HostLimits {
  cpus: number;
  memoryBytes: number;
}

/** Default pids limit: enough for any service, a wall against fork bombs. */
export const DEFAULT_PIDS = 1024;
const MIN_MEMORY = 6 * 1024 * 1024;
const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Parses `256M`, `1.5g`, `512k`, `1048576` into bytes; undefined if malformed. */
export function parseSize(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([kmgt]?)b?$/i.exec(s.trim());
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

/** Formats bytes the way --memory takes them. */
export function formatSize(n: number): string {
  for (const [u, f] of [['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const) if (n >= f && n % f === 0) return `${n / f}${u}`;
  return String(n);
}

const CONTAINER_ONLY = ['/proc', '/sys', '/dev'];

function parseVolume(v: string, path: string, issues: IssueList): VolumeDef | undefined {
  const parts = v.split(':');
  if (parts.length < 2 || parts.length > 3 || (parts[2] !== undefined && parts[2] !== 'ro' && parts[2] !== 'rw')) {
    issues.add('ERR_VOLUME', path, `\`${v}\` is not HOST:CONTAINER[:ro|rw]`);
    return undefined;
  }
  const [host, ct] = parts as [string, string];
  if (!isAbsolute(host)) issues.add('ERR_VOLUME', path, `host path \`${host}\` must be absolute`);
  else if (!existsSync(host)) issues.add('ERR_VOLUME', path, `host path \`${host}\` does not exist`);
  const dest = posix.normalize(ct);
  if (!isAbsolute(ct)) issues.add('ERR_VOLUME', path, `container path \`${ct}\` must be absolute`);
  else if (dest === '/' || CONTAINER_ONLY.some((p) => dest === p || dest.startsWith(p + '/')))
    issues.add('ERR_VOLUME', path, `container path \`${ct}\` is reserved (/, /proc, /sys and /dev belong to the sandbox)`);
  return { host, container: dest, readonly: parts[2] === 'ro' };
}

/** Builds and checks a definition; throws ConfigError listing every problem. */
export function defineSandbox(name: string, o: SandboxOptions, host: HostLimits): SandboxDefinition {
  const issues = new IssueList();
  const nameIssue = sandboxNameIssue(name);
  if (nameIssue) issues.items.push(nameIssue);
  const template = normalizeTemplateName(o.template ?? 'host');
  for (const i of templateIssues(template)) issues.items.push(i);
  const limits: SandboxDefinition['limits'] = { pids: DEFAULT_PIDS };
  if (o.memory !== undefined) {
    const m = parseSize(o.memory);
    if (m === undefined) issues.add('ERR_LIMIT', '--memory', `\`${o.memory}\` is not a size (like 256M or 1G)`);
    else if (m < MIN_MEMORY) issues.add('ERR_LIMIT', '--memory', `\`${o.memory}\` is below the minimum of 6M`);
    else if (m > host.memoryBytes) issues.add('ERR_LIMIT', '--memory', `\`${o.memory}\` is more than this host's ${formatSize(host.memoryBytes)} of memory`);
    else limits.memory = m;
  }
  if (o.cpus !== undefined) {
    const c = Number(o.cpus);
    if (!/^\d*\.?\d+$/.test(o.cpus) || !(c >= 0.01)) issues.add('ERR_LIMIT', '--cpus', `\`${o.cpus}\` is not a CPU count of at least 0.01`);
    else if (c > host.cpus) issues.add('ERR_LIMIT', '--cpus', `\`${o.cpus}\` is more than this host's ${host.cpus} CPUs`);
    else limits.cpus = c;
  }
  if (o.pids !== undefined) {
    const p = Number(o.pids);
    if (!/^\d+$/.test(o.pids) || p < 1 || p > 4194304) issues.add('ERR_LIMIT', '--pids', `\`${o.pids}\` is not a process count between 1 and 4194304`);
    else limits.pids = p;
  }
  const volumes: VolumeDef[] = [];
  (o.volumes ?? []).forEach((v, i) => {
    const vol = parseVolume(v, `--volume[${i}]`, issues);
    if (!vol) return;
    if (volumes.some((x) => x.container === vol.container)) issues.add('ERR_VOLUME', `--volume[${i}]`, `\`${vol.container}\` is given twice`);
    volumes.push(vol);
  });
  const env: string[] = [];
  (o.env ?? []).forEach((kv, i) => {
    const eq = kv.indexOf('=');
    if (eq < 1 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(kv.slice(0, eq))) issues.add('ERR_ENV', `--env[${i}]`, `\`${kv}\` is not KEY=VALUE`);
    else env.push(kv);
  });
  const hostname = o.hostname ?? name.replace(/_/g, '-').slice(0, 63);
  // (a hostname derived from an invalid name was reported with the name)
  if ((o.hostname !== undefined || !nameIssue) && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/.test(hostname)) issues.add('ERR_HOSTNAME', '--hostname', `\`${hostname}\` is not a valid hostname`);
  const network = o.network ?? 'none';
  if (network !== 'none' && network !== 'host') {
    const later = ['bridge', 'pasta', 'slirp4netns'].includes(network) ? ' yet (the networking issue adds it)' : '';
    issues.add('ERR_NETWORK', '--network', `network mode \`${network}\` is not available${later}: use none or host`);
  }
  const userns = o.userns ?? 'private';
  if (userns !== 'private' && userns !== 'host') issues.add('ERR_USERNS', '--userns', `\`${userns}\` is not private or host`);
  const unit = o.unit === undefined ? undefined : readHostUnit(o.unit, template === 'host');
  if (unit) issues.items.push(...unit.issues);
  if (unit && o.command?.length) issues.add('ERR_UNIT', '--unit', 'give a unit or a command, not both');
  if (!issues.ok) throw new ConfigError(issues.items, `invalid sandbox \`${name}\``);
  const u = unit?.unit;
  return {
    version: 1, name, template, created: new Date().toISOString(),
    command: u ? u.command : o.command?.length ? o.command : [], env: u ? [...u.env, ...env] : env, hostname, terminal: !!o.terminal,
    ...(u ? { unit: { name: u.name, ...(u.package ? { package: u.package } : {}), ...(u.user ? { user: u.user } : {}), ...(u.cwd ? { cwd: u.cwd } : {}) } } : {}),
    limits, readOnly: !!o.readOnly, volumes, network: { mode: network as NetworkMode }, userns: userns === 'host' ? { mode: 'host' } : { mode: 'private', start: 0, size: 0 }, ephemeral: !!o.ephemeral,
  };
}
