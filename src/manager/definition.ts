// A sandbox's definition: what the user asked for, validated and normalised once, at create.
// It is all the manager needs to build the OCI spec at every start.
import { existsSync } from 'node:fs';
import { isAbsolute, posix } from 'node:path';
import { ConfigError, IssueList } from '../spec/issues.js';
import { sandboxNameIssue } from './names.js';
import { parsePublishList, type PortMapping } from './network/publish.js';
import { MAC_MODES, type MacMode } from '../policy/mac/sandbox.js';
import { normalizeTemplateName, templateIssues } from './templates/index.js';
import { readHostUnit } from './unit.js';

/** A host directory bound into the sandbox. */
export interface VolumeDef {
  host: string;
  container: string;
  readonly: boolean;
}

/** Network modes: `none` (the default; `bridge` or `pasta` when ports are published), `host`, `bridge` (the network moat0), `pasta`,
 * `slirp4netns`, or the name of a user network (see src/manager/network/index.ts). */
export type NetworkMode = string;

/** Modes that are not user networks. */
export const BUILTIN_NETWORK_MODES = ['none', 'host', 'bridge', 'pasta', 'slirp4netns'];

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
  /** `pids` is absent only where cgroup limits cannot be set (rootless on this host) */
  limits: { memory?: number; cpus?: number; pids?: number };
  readOnly: boolean;
  volumes: VolumeDef[];
  /** `publish`: host ports forwarded to the sandbox (absent: none) */
  network: { mode: NetworkMode; publish?: PortMapping[] };
  /** `private`: a host uid/gid range of the sandbox's own (allocated at create, freed at
   * delete); `host`: shares the host's ids (root inside is root outside); `subids` and
   * `single`: a non-root user's sandbox (see userns.ts) */
  userns: UserNamespaceDef;
  /** made by `moat run` */
  ephemeral: boolean;
  /** MAC layers (absent in older definitions: `required`) */
  mac?: MacMode;
  /** the SELinux MCS category pair, when the host ran SELinux at create */
  mcs?: [number, number];
  /** `--unit`: the host service whose command runs (its user and working dir apply; its
   * package's /etc files were copied into the sandbox's /etc at create) */
  unit?: { name: string; package?: string; user?: { uid: number; gid: number }; cwd?: string };
  /** `--init systemd`: systemd boots as the sandbox's PID 1 (its cgroup is delegated to it) */
  init?: 'systemd';
}

/** A sandbox's user namespace. Made by root: `host` or `private` (a range from root's pool).
 * Made by another user: `subids` (ids from the user's /etc/subuid and /etc/subgid ranges:
 * a slice of its own, or the whole range `shared` by the user's sandboxes when it is too
 * small to slice) or `single` (the user has no subordinate ids: root inside is the user). */
export type UserNamespaceDef =
  | { mode: 'host' }
  | { mode: 'private'; start: number; size: number }
  | { mode: 'subids'; uid: number; gid: number; size: number; shared: boolean }
  | { mode: 'single'; uid: number; gid: number };

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
  /** `[IP:]HOSTPORT:CTPORT[/tcp|udp]` values of --publish */
  publish?: string[];
  /** `private` (default: a uid range of the sandbox's own) or `host` */
  userns?: string;
  command?: string[];
  terminal?: boolean;
  ephemeral?: boolean;
  /** `required` (default), `best-effort` or `off` */
  mac?: string;
  /** a host service unit (NAME.service) whose command runs */
  unit?: string;
  /** `systemd`: boot systemd as PID 1 */
  init?: string;
}

/** Values of --init. */
export const INIT_MODES = ['systemd'];

/** Facts about the host that decide whether a limit is possible. */
export interface HostLimits {
  cpus: number;
  memoryBytes: number;
  /** the caller is not root (its sandboxes are rootless) */
  rootless?: boolean;
  /** why this caller cannot set cgroup limits here (unset: it can) */
  noCgroupLimits?: string;
  /** the host has a cgroup2 hierarchy (the only kind moat delegates to a sandbox) */
  cgroup2?: boolean;
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
  // without cgroups a limit cannot be kept: one asked for is refused by name; the default
  // pids limit is left out (and reported at create, start and in inspect)
  const limits: SandboxDefinition['limits'] = host.noCgroupLimits ? {} : { pids: DEFAULT_PIDS };
  for (const k of ['memory', 'cpus', 'pids'] as const)
    if (o[k] !== undefined && host.noCgroupLimits) issues.add('ERR_LIMIT', `--${k}`, `cannot be set: ${host.noCgroupLimits}`);
  if (o.memory !== undefined && !host.noCgroupLimits) {
    const m = parseSize(o.memory);
    if (m === undefined) issues.add('ERR_LIMIT', '--memory', `\`${o.memory}\` is not a size (like 256M or 1G)`);
    else if (m < MIN_MEMORY) issues.add('ERR_LIMIT', '--memory', `\`${o.memory}\` is below the minimum of 6M`);
    else if (m > host.memoryBytes) issues.add('ERR_LIMIT', '--memory', `\`${o.memory}\` is more than this host's ${formatSize(host.memoryBytes)} of memory`);
    else limits.memory = m;
  }
  if (o.cpus !== undefined && !host.noCgroupLimits) {
    const c = Number(o.cpus);
    if (!/^\d*\.?\d+$/.test(o.cpus) || !(c >= 0.01)) issues.add('ERR_LIMIT', '--cpus', `\`${o.cpus}\` is not a CPU count of at least 0.01`);
    else if (c > host.cpus) issues.add('ERR_LIMIT', '--cpus', `\`${o.cpus}\` is more than this host's ${host.cpus} CPUs`);
    else limits.cpus = c;
  }
  if (o.pids !== undefined && !host.noCgroupLimits) {
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
  // No network unless asked for (least privilege: a sandbox reaches nothing and nothing
  // reaches it); publishing a port asks for one: moat0 for root, pasta for a user.
  const network = o.network === 'moat0' ? 'bridge' : o.network ?? (o.publish?.length ? (host.rootless ? 'pasta' : 'bridge') : 'none');
  if (!BUILTIN_NETWORK_MODES.includes(network) && sandboxNameIssue(network))
    issues.add('ERR_NETWORK', '--network', `\`${network}\` is not a network mode (${BUILTIN_NETWORK_MODES.join(', ')}) nor a network name`);
  const publish = parsePublishList(o.publish ?? [], issues);
  if (publish.length && (network === 'none' || network === 'host'))
    issues.add('ERR_PUBLISH', '--publish[0]', `network \`${network}\` has no address to publish to: use --network bridge, pasta, slirp4netns or a user network`);
  const userns = o.userns ?? 'private';
  if (userns !== 'private' && userns !== 'host') issues.add('ERR_USERNS', '--userns', `\`${userns}\` is not private or host`);
  else if (userns === 'host' && host.rootless) issues.add('ERR_USERNS', '--userns', '`host` needs root: a non-root user\'s sandbox always has a user namespace');
  const mac = o.mac ?? 'required';
  if (!(MAC_MODES as readonly string[]).includes(mac)) issues.add('ERR_MAC', '--mac', `\`${mac}\` is not ${MAC_MODES.join(', ')}`);
  const unit = o.unit === undefined ? undefined : readHostUnit(o.unit, template === 'host');
  if (unit) issues.items.push(...unit.issues);
  if (unit && o.command?.length) issues.add('ERR_UNIT', '--unit', 'give a unit or a command, not both');
  if (o.init !== undefined) {
    // systemd manages cgroups of its own: it needs a user namespace to own them and a cgroup
    // to be delegated, and it is the sandbox's command
    if (!INIT_MODES.includes(o.init)) issues.add('ERR_INIT', '--init', `\`${o.init}\` is not an init (${INIT_MODES.join(', ')})`);
    else if (template !== 'debian' && !template.startsWith('oci:')) issues.add('ERR_INIT', '--init', `template \`${template}\` has no systemd: use --template debian (or oci:DIR of an image with systemd)`);
    else if (o.command?.length || o.unit !== undefined) issues.add('ERR_INIT', '--init', 'systemd is the sandbox\'s command: give no command and no --unit (enable units inside the sandbox instead)');
    else if (userns === 'host') issues.add('ERR_INIT', '--init', 'systemd needs the sandbox\'s own user namespace to manage its cgroup: drop --userns host');
    else if (host.rootless) issues.add('ERR_INIT', '--init', 'systemd needs a cgroup delegated to the sandbox, which only root can make: run moat as root');
    else if (host.noCgroupLimits) issues.add('ERR_INIT', '--init', `systemd needs a cgroup of the sandbox's own, which cannot be made here: ${host.noCgroupLimits}`);
    else if (!host.cgroup2) issues.add('ERR_INIT', '--init', 'systemd needs a cgroup2 hierarchy to manage (moat does not delegate cgroup v1): this host mounts none');
  }
  if (!issues.ok) throw new ConfigError(issues.items, `invalid sandbox \`${name}\``);
  const u = unit?.unit;
  return {
    version: 1, name, template, created: new Date().toISOString(),
    command: u ? u.command : o.command?.length ? o.command : [], env: u ? [...u.env, ...env] : env, hostname, terminal: !!o.terminal,
    ...(u ? { unit: { name: u.name, ...(u.package ? { package: u.package } : {}), ...(u.user ? { user: u.user } : {}), ...(u.cwd ? { cwd: u.cwd } : {}) } } : {}),
    limits, readOnly: !!o.readOnly, volumes, network: { mode: network, ...(publish.length ? { publish } : {}) }, userns: userns === 'host' ? { mode: 'host' } : { mode: 'private', start: 0, size: 0 }, ephemeral: !!o.ephemeral,
    mac: mac as MacMode, ...(o.init ? { init: o.init as 'systemd' } : {}),
  };
}
