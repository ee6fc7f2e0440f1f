// moat networks on disk. A data directory keeps, under `networks/`:
//
//   NAME.json       the network's definition (subnet, bridge, isolated)
//   NAME.conflist   its CNI configuration list, as the plugins get it
//   ipam/           host-local's leases (one dir per network, one file per address)
//   .lock           held while a sandbox joins or leaves any network
//
// and under `netns/` a bind mount of each attached sandbox's network namespace, which keeps
// the namespace (and what the plugins put in it) alive until moat has torn it down.
// `moat0` is built in: it is written on first use and cannot be removed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, IssueList } from '../../spec/issues.js';
import { writeFileAtomic } from '../atomic.js';
import type { Layout } from '../layout.js';
import { takeLock } from '../lock.js';
import { sandboxNameIssue } from '../names.js';
import { buildConfList, type CniConfList } from './cni-config.js';
import { NetworkError } from './errors.js';
import { formatSubnet, gatewayOf, MOAT0_SUBNET, overlaps, parseRouteDst, parseSubnet, pickFreeSubnet, type Subnet } from './subnet.js';

/** The default network's name, and the one `--network bridge` means. */
export const DEFAULT_NETWORK = 'moat0';

/** Mode names that are not networks. */
export const RESERVED_NETWORK_NAMES = ['none', 'host', 'bridge', 'pasta', 'slirp4netns', 'default'];

/** A stored network. */
export interface NetworkDef {
  version: 1;
  name: string;
  subnet: string;
  gateway: string;
  /** the host's bridge device */
  bridge: string;
  /** members cannot reach each other (bridge port isolation) */
  isolated: boolean;
  builtin: boolean;
  created: string;
}

/** Paths of the networking state of a data directory. */
export function networksDir(layout: Layout): string {
  return join(layout.data, 'networks');
}
export function ipamDir(layout: Layout): string {
  return join(networksDir(layout), 'ipam');
}
export function netnsDir(layout: Layout): string {
  return join(layout.data, 'netns');
}
function defPath(layout: Layout, name: string): string {
  return join(networksDir(layout), `${name}.json`);
}
export function confListPath(layout: Layout, name: string): string {
  return join(networksDir(layout), `${name}.conflist`);
}

function ensureDirs(layout: Layout): void {
  for (const d of [networksDir(layout), ipamDir(layout), netnsDir(layout)]) mkdirSync(d, { recursive: true, mode: 0o700 });
}

/** Runs `fn` holding the networks' lock (joins, leaves, create and rm are serialised). */
export async function withNetworkLock<T>(layout: Layout, fn: () => Promise<T> | T): Promise<T> {
  ensureDirs(layout);
  const release = await takeLock(join(networksDir(layout), '.lock'), 'the networks');
  try {
    return await fn();
  } finally {
    release();
  }
}

function moat0(): NetworkDef {
  const s = parseSubnet(MOAT0_SUBNET) as Subnet;
  return { version: 1, name: DEFAULT_NETWORK, subnet: MOAT0_SUBNET, gateway: gatewayOf(s), bridge: 'moat0', isolated: true, builtin: true, created: new Date(0).toISOString() };
}

/** The network called `name` (`bridge` is moat0); NetworkError if there is none. */
export function readNetwork(layout: Layout, name: string): NetworkDef {
  const n = name === 'bridge' ? DEFAULT_NETWORK : name;
  if (sandboxNameIssue(n)) throw new NetworkError('ERR_NETWORK_NOT_FOUND', `network \`${name}\` does not exist`);
  try {
    return JSON.parse(readFileSync(defPath(layout, n), 'utf8')) as NetworkDef;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    if (n === DEFAULT_NETWORK) return moat0();
    throw new NetworkError('ERR_NETWORK_NOT_FOUND', `network \`${name}\` does not exist (see moat network ls)`);
  }
}

/** True if a user network of this name exists (moat0 always does). */
export function networkExists(layout: Layout, name: string): boolean {
  return name === DEFAULT_NETWORK || name === 'bridge' || (!sandboxNameIssue(name) && existsSync(defPath(layout, name)));
}

/** The config list of a network, written (with its definition) if it is not yet. */
export function ensureConfList(layout: Layout, net: NetworkDef): CniConfList {
  ensureDirs(layout);
  const path = confListPath(layout, net.name);
  if (!existsSync(defPath(layout, net.name))) writeFileAtomic(defPath(layout, net.name), JSON.stringify(net, null, 2) + '\n', 0o600);
  const list = buildConfList({ name: net.name, bridge: net.bridge, subnet: parseSubnet(net.subnet) as Subnet, ipamDir: ipamDir(layout) });
  const text = JSON.stringify(list, null, 2) + '\n';
  let old = '';
  try {
    old = readFileSync(path, 'utf8');
  } catch {
    /* first use */
  }
  if (old !== text) writeFileAtomic(path, text, 0o600);
  return list;
}

/** Every network: moat0 first, then user networks by name. */
export function listNetworks(layout: Layout): NetworkDef[] {
  let names: string[] = [];
  try {
    names = readdirSync(networksDir(layout)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).filter((n) => n !== DEFAULT_NETWORK && !sandboxNameIssue(n)).sort();
  } catch {
    /* no networks yet */
  }
  const out = [readNetwork(layout, DEFAULT_NETWORK)];
  for (const n of names) {
    try {
      out.push(readNetwork(layout, n));
    } catch {
      /* removed meanwhile */
    }
  }
  return out;
}

/** IPv4 routes of this network namespace (what a new subnet must not overlap). */
export function hostRoutes(): { dst: Subnet; dev: string }[] {
  try {
    const routes = JSON.parse(execFileSync('ip', ['-4', '-j', 'route', 'show', 'table', 'all'], { encoding: 'utf8' })) as { dst: string; dev?: string; type?: string }[];
    const out: { dst: Subnet; dev: string }[] = [];
    for (const r of routes) {
      if (r.dst === 'default' || (r.type && r.type !== 'unicast')) continue;
      const dst = parseRouteDst(r.dst);
      if (dst) out.push({ dst, dev: r.dev ?? '' });
    }
    return out;
  } catch {
    return [];
  }
}

/** Options of `moat network create`. */
export interface NetworkOptions {
  subnet?: string;
  isolated?: boolean;
}

/** Makes a user network (checked in full first: nothing is written when anything is wrong). */
export async function createNetwork(layout: Layout, name: string, o: NetworkOptions): Promise<NetworkDef> {
  return withNetworkLock(layout, () => {
    const issues = new IssueList();
    const nameIssue = sandboxNameIssue(name, 'NAME');
    if (nameIssue) issues.items.push({ ...nameIssue, message: nameIssue.message.replace('sandbox', 'network') });
    else if (RESERVED_NETWORK_NAMES.includes(name) || name === DEFAULT_NETWORK) issues.add('ERR_NETWORK_NAME', 'NAME', `\`${name}\` is reserved (a network mode or the default network)`);
    else if (existsSync(defPath(layout, name))) throw new NetworkError('ERR_NETWORK_EXISTS', `network \`${name}\` already exists`);
    const others = listNetworks(layout);
    const used = [...others.map((n) => parseSubnet(n.subnet) as Subnet), ...hostRoutes().filter((r) => !others.some((n) => n.bridge === r.dev)).map((r) => r.dst)];
    let subnet: Subnet | undefined;
    if (o.subnet !== undefined) {
      const s = parseSubnet(o.subnet);
      if (typeof s === 'string') issues.add('ERR_SUBNET', '--subnet', s);
      else {
        const clash = others.find((n) => overlaps(parseSubnet(n.subnet) as Subnet, s));
        const route = hostRoutes().find((r) => overlaps(r.dst, s) && !others.some((n) => n.bridge === r.dev));
        if (clash) issues.add('ERR_SUBNET', '--subnet', `\`${o.subnet}\` overlaps network \`${clash.name}\` (${clash.subnet})`);
        else if (route) issues.add('ERR_SUBNET', '--subnet', `\`${o.subnet}\` overlaps this host's route to ${formatSubnet(route.dst)} (${route.dev})`);
        else subnet = s;
      }
    } else {
      subnet = pickFreeSubnet(used);
      if (!subnet) issues.add('ERR_SUBNET', '--subnet', 'no free /24 left in 10.129.0.0/16: give one with --subnet');
    }
    if (!issues.ok) throw new ConfigError(issues.items, `invalid network \`${name}\``);
    const bridges = new Set(others.map((n) => n.bridge));
    let i = 1;
    while (bridges.has(`moat${i}`)) i++;
    const net: NetworkDef = { version: 1, name, subnet: formatSubnet(subnet!), gateway: gatewayOf(subnet!), bridge: `moat${i}`, isolated: !!o.isolated, builtin: false, created: new Date().toISOString() };
    writeFileAtomic(defPath(layout, name), JSON.stringify(net, null, 2) + '\n', 0o600);
    ensureConfList(layout, net);
    return net;
  });
}

/** Removes a user network; refused while a sandbox is attached to it, or one is defined on it. */
export async function removeNetwork(layout: Layout, name: string, usedBy: string[]): Promise<void> {
  await withNetworkLock(layout, () => {
    const net = readNetwork(layout, name);
    if (net.builtin) throw new NetworkError('ERR_NETWORK_IN_USE', `network \`${net.name}\` is built in and cannot be removed`);
    if (usedBy.length) throw new NetworkError('ERR_NETWORK_IN_USE', `network \`${name}\` is used by sandbox${usedBy.length > 1 ? 'es' : ''} ${usedBy.map((s) => `\`${s}\``).join(', ')}: delete ${usedBy.length > 1 ? 'them' : 'it'} first`);
    rmSync(confListPath(layout, name), { force: true });
    rmSync(defPath(layout, name), { force: true });
    rmSync(join(ipamDir(layout), name), { recursive: true, force: true });
  });
}
