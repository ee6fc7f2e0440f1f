// Joining a sandbox to a bridge network through the CNI plugins, and leaving it. Both run
// holding the networks' lock, so that the first join of a network adds its host rules and
// the last leave removes them (and the bridge) without racing another sandbox.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { crashPoint } from '../crash.js';
import type { SandboxDefinition } from '../definition.js';
import type { Layout } from '../layout.js';
import { allAttachments, writeAttachment, removeAttachment, type CniAttachment } from './attachment.js';
import { pluginStdin } from './cni-config.js';
import { execCniPlugin, type CniRuntime } from './cni-exec.js';
import { NetworkError } from './errors.js';
import { refreshNetworkHosts } from './hosts.js';
import { ensureNetworkRules, removeNetworkRules } from './host-firewall.js';
import { isMounted, pinNetns, unpinNetns } from './netns-pin.js';
import { samePort, type PortMapping } from './publish.js';
import { ensureConfList, ipamDir, netnsDir, readNetwork, type NetworkDef } from './store.js';

/** The CNI container ID of a sandbox: unique per data directory (host-local's leases and
 * portmap's chains are keyed by it). */
export function cniContainerId(layout: Layout, name: string): string {
  return `moat-${createHash('sha256').update(layout.data).digest('hex').slice(0, 8)}-${name}`;
}

/** The interfaces and addresses of a CNI 1.0 result. */
interface CniResult {
  interfaces?: { name: string; sandbox?: string }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
}

function run(cmd: string, args: string[]): { ok: boolean; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, err: (r.stderr ?? String(r.error ?? '')).trim() };
}

/** Turns on bridge port isolation for the sandbox's host-side veth: isolated ports of a
 * bridge forward frames only to non-isolated ports (the bridge itself, the host), never to
 * each other. The bridge plugin has no option for it (it sets hairpin and promiscuous mode
 * only), so moat sets the flag itself, before the sandbox's first process runs. */
function isolatePort(veth: string): void {
  const r = run('bridge', ['link', 'set', 'dev', veth, 'isolated', 'on']);
  if (!r.ok) throw new NetworkError('ERR_NETWORK_HOST', `isolate bridge port \`${veth}\` (needs iproute2 with \`bridge link ... isolated\` and Linux 4.18): ${r.err}`);
}

/** Checks that no other sandbox publishes one of `publish`'s host ports. */
export function checkPortsFree(layout: Layout, self: string, publish: PortMapping[]): void {
  for (const { sandbox, a } of allAttachments(layout)) {
    if (sandbox === self) continue;
    const clash = publish.find((p) => a.publish.some((q) => samePort(p, q)));
    if (clash) throw new NetworkError('ERR_PORT_IN_USE', `host port ${clash.hostPort}/${clash.protocol} is already published by sandbox \`${sandbox}\``);
  }
}

/** Joins a sandbox whose first process is `pid` (created, not started) to network `name`.
 * On failure the record stays: the caller's teardown undoes what was done. */
export function attachCni(layout: Layout, def: SandboxDefinition, pid: number, name: string, publish: PortMapping[]): CniAttachment {
  const net = readNetwork(layout, name);
  const list = ensureConfList(layout, net);
  checkPortsFree(layout, def.name, publish);
  const a: CniAttachment = {
    kind: 'cni', network: net.name, bridge: net.bridge, containerId: cniContainerId(layout, def.name), ifname: 'eth0',
    netnsPin: join(netnsDir(layout), def.name), confList: list, publish, results: [],
  };
  writeAttachment(layout, def.name, a); // before anything it describes exists
  ensureNetworkRules(net);
  pinNetns(pid, a.netnsPin);
  const rt: CniRuntime = { containerId: a.containerId, netns: a.netnsPin, ifname: a.ifname };
  let prev: unknown;
  list.plugins.forEach((p, i) => {
    prev = execCniPlugin(p.type, 'ADD', rt, pluginStdin(list, i, prev, { portMappings: publish }));
    a.results.push(prev);
    if (i === 0) {
      const r = prev as CniResult;
      a.hostVeth = r.interfaces?.find((x) => !x.sandbox && x.name !== net.bridge)?.name;
      if (!a.hostVeth) throw new NetworkError('ERR_NETWORK_CNI', 'CNI ADD `bridge`: the result names no host-side interface');
      if (net.isolated) isolatePort(a.hostVeth);
    }
    writeAttachment(layout, def.name, a);
    if (i === 0) crashPoint('network:bridge-added');
  });
  // the firewall plugin put its FORWARD jump on top: moat's chains go first again
  ensureNetworkRules(net);
  const r = prev as CniResult;
  a.addresses = (r.ips ?? []).map((ip) => ip.address);
  a.gateway = r.ips?.[0]?.gateway;
  writeAttachment(layout, def.name, a);
  refreshNetworkHosts(layout, net);
  return a;
}

/** Undoes an attachment: CNI DEL of the whole list in reverse order with the last result
 * recorded (the plugins tolerate what never happened), the pin, then the network's rules and
 * bridge if no one else is on it. Errors keep the record, for the next command to retry. */
export function detachCni(layout: Layout, sandbox: string, a: CniAttachment): void {
  const rt: CniRuntime = { containerId: a.containerId, netns: isMounted(a.netnsPin) ? a.netnsPin : '', ifname: a.ifname };
  const prev = a.results.at(-1);
  const errors: string[] = [];
  for (let i = a.confList.plugins.length - 1; i >= 0; i--) {
    try {
      execCniPlugin(a.confList.plugins[i]!.type, 'DEL', rt, pluginStdin(a.confList, i, prev, { portMappings: a.publish }));
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length) throw new NetworkError('ERR_NETWORK_CNI', `leave network \`${a.network}\`: ${errors.join('; ')}`);
  unpinNetns(a.netnsPin);
  let net: NetworkDef;
  try {
    net = readNetwork(layout, a.network);
  } catch {
    net = { version: 1, name: a.network, bridge: a.bridge, isolated: true, subnet: '', gateway: '', builtin: false, created: '' };
  }
  // the network's host state goes first and the record last: a failure (or a kill) before
  // the end keeps the record, so the next command finds this attachment and retries
  if (!allAttachments(layout).some((o) => o.sandbox !== sandbox && o.a.kind === 'cni' && o.a.network === a.network)) {
    removeNetworkRules(net);
    run('ip', ['link', 'del', 'dev', a.bridge]);
    // what host-local keeps when no lease is left (its lock, a rotation hint)
    rmSync(join(ipamDir(layout), a.network), { recursive: true, force: true });
  } else refreshNetworkHosts(layout, net, sandbox);
  removeAttachment(layout, sandbox);
}

/** Plugins whose CHECK is skipped, and why. portmap 1.1.1 (Debian 12) checks for IPv6 DNAT
 * chains even for a sandbox with no IPv6 address, for which its ADD made none. */
const CHECK_SKIPPED: Record<string, string> = { portmap: 'its CHECK wants IPv6 rules it never makes for IPv4-only sandboxes' };

/** CNI CHECK of an attachment, in list order with the ADD result: `passed` (naming what was
 * skipped) when every plugin agrees the sandbox is attached as recorded, else what the first
 * one that does not says. */
export function checkCni(a: CniAttachment): string {
  if (!a.addresses || !isMounted(a.netnsPin)) return 'failed: not attached (a start is under way, or crashed)';
  const skipped: string[] = [];
  const rt: CniRuntime = { containerId: a.containerId, netns: a.netnsPin, ifname: a.ifname };
  for (let i = 0; i < a.confList.plugins.length; i++) {
    const type = a.confList.plugins[i]!.type;
    if (CHECK_SKIPPED[type]) {
      skipped.push(`${type} not checked: ${CHECK_SKIPPED[type]}`);
      continue;
    }
    try {
      execCniPlugin(type, 'CHECK', rt, pluginStdin(a.confList, i, a.results.at(-1), { portMappings: a.publish }));
    } catch (e) {
      return `failed: ${(e as Error).message}`;
    }
  }
  return `passed${skipped.length ? ` (${skipped.join('; ')})` : ''}`;
}
