// moat's own iptables rules in the host's network namespace, in two chains of the filter
// table that INPUT and FORWARD jump to first:
//
//   MOAT-INPUT    traffic from a moat bridge to the host itself: only replies (ESTABLISHED,
//                 RELATED) pass, so a sandbox reaches none of the host's own services; what
//                 a sandbox may reach on the host is what is published to it, never the rest
//   MOAT-FORWARD  traffic routed from a moat bridge to any moat bridge is refused, except
//                 connections DNATed to a published port and, on a network that is not
//                 isolated, traffic between its own members: so networks do not reach each
//                 other, and on isolated ones (moat0, `--isolated`) a member cannot reach
//                 another through the host (a frame sent to the gateway's MAC with a peer's
//                 IP); bridge port isolation stops the direct (layer 2) path, this the routed;
//                 traffic from a bridge to 169.254.0.0/16 (metadata services) is refused;
//                 traffic INTO a bridge from elsewhere (a LAN neighbour routing to the
//                 sandbox subnet via the host) passes only as a reply or when DNATed to a
//                 published port, so unpublished ports are unreachable
//
// With ip6tables present, the same two chains in its filter table drop all IPv6 traffic
// from or into each bridge (sandboxes get no IPv6 address; this is a second layer).
//
// Every rule carries the comment `moat:NETWORK`; a network's rules are added when its first
// sandbox joins and removed when its last one leaves, and the chains go with the last rule.
import { spawnSync } from 'node:child_process';
import { NetworkError } from './errors.js';
import type { NetworkDef } from './store.js';

type Bin = 'iptables' | 'ip6tables';

function ipt(args: string[], bin: Bin = 'iptables'): { ok: boolean; out: string; err: string } {
  const r = spawnSync(bin, ['-w', '-t', 'filter', ...args], { encoding: 'utf8' });
  if (r.error) throw new NetworkError('ERR_NETWORK_HOST', `${bin}: ${r.error.message} (apt-get install iptables)`, { cause: r.error });
  return { ok: r.status === 0, out: r.stdout, err: r.stderr.trim() };
}

function must(args: string[], bin: Bin = 'iptables'): void {
  const r = ipt(args, bin);
  if (!r.ok) throw new NetworkError('ERR_NETWORK_HOST', `${bin} ${args.join(' ')}: ${r.err}`);
}

/** True if ip6tables is installed and works in this namespace (sandboxes get no IPv6
 * address, and their eth0 has IPv6 disabled: these rules are a second layer). */
function hasIp6tables(): boolean {
  const r = spawnSync('ip6tables', ['-w', '-t', 'filter', '-S', 'INPUT'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
}

const INPUT = 'MOAT-INPUT';
const FORWARD = 'MOAT-FORWARD';

/** The rules of one network, as [chain, rule spec]. */
export function networkRules(net: Pick<NetworkDef, 'name' | 'bridge' | 'isolated'>): [string, string[]][] {
  const c = ['-m', 'comment', '--comment', `moat:${net.name}`];
  const rules: [string, string[]][] = [
    [INPUT, ['-i', net.bridge, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', ...c, '-j', 'ACCEPT']],
    [INPUT, ['-i', net.bridge, ...c, '-j', 'REJECT', '--reject-with', 'icmp-port-unreachable']],
  ];
  // members of a shared network talk (bridged, or routed when br_netfilter sends bridged
  // traffic through iptables); else nothing routed from this bridge to any moat bridge
  if (!net.isolated) rules.push([FORWARD, ['-i', net.bridge, '-o', net.bridge, ...c, '-j', 'RETURN']]);
  rules.push([FORWARD, ['-i', net.bridge, '-o', 'moat+', '-m', 'conntrack', '!', '--ctstate', 'DNAT', ...c, '-j', 'REJECT', '--reject-with', 'icmp-port-unreachable']]);
  // no sandbox reaches the link-local range (cloud metadata services, 169.254.169.254)
  rules.push([FORWARD, ['-i', net.bridge, '-d', '169.254.0.0/16', ...c, '-j', 'REJECT', '--reject-with', 'icmp-port-unreachable']]);
  // into the bridge from anywhere else (a neighbour routing to the sandboxes' subnet through
  // the host): only replies and connections DNATed to a published port
  rules.push([FORWARD, ['-o', net.bridge, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', ...c, '-j', 'ACCEPT']]);
  rules.push([FORWARD, ['-o', net.bridge, '-m', 'conntrack', '--ctstate', 'DNAT', ...c, '-j', 'ACCEPT']]);
  rules.push([FORWARD, ['-o', net.bridge, ...c, '-j', 'REJECT', '--reject-with', 'icmp-port-unreachable']]);
  return rules;
}

/** The IPv6 rules of one network: nothing from or into its bridge is forwarded or reaches
 * the host. */
export function networkRules6(net: Pick<NetworkDef, 'name' | 'bridge'>): [string, string[]][] {
  const c = ['-m', 'comment', '--comment', `moat:${net.name}`];
  return [
    [INPUT, ['-i', net.bridge, ...c, '-j', 'DROP']],
    [FORWARD, ['-i', net.bridge, ...c, '-j', 'DROP']],
    [FORWARD, ['-o', net.bridge, ...c, '-j', 'DROP']],
  ];
}

function ensureChain(chain: string, from: string, bin: Bin = 'iptables'): void {
  const ipt_ = (a: string[]) => ipt(a, bin);
  const must_ = (a: string[]) => must(a, bin);
  if (!ipt_(['-S', chain]).ok) must_(['-N', chain]);
  // first in its parent chain: before the firewall plugin's CNI-FORWARD accepts the
  // sandbox's traffic (the plugin inserts its own jump at the top on each ADD)
  const jump = `-A ${from} -j ${chain}`;
  const listed = () => ipt_(['-S', from]).out.split('\n').filter((l) => l.startsWith('-A '));
  if (listed()[0] === jump) return;
  // the new jump goes in first, then later copies go by number (never a moment without one)
  must_(['-I', from, '1', '-j', chain]);
  const rules = listed();
  for (let i = rules.length - 1; i >= 1; i--) if (rules[i] === jump) must_(['-D', from, String(i + 1)]);
}

/** Adds a network's rules (idempotent), and puts moat's chains first. */
export function ensureNetworkRules(net: NetworkDef): void {
  ensureChain(INPUT, 'INPUT');
  ensureChain(FORWARD, 'FORWARD');
  for (const [chain, spec] of networkRules(net)) if (!ipt(['-C', chain, ...spec]).ok) must(['-A', chain, ...spec]);
  if (!hasIp6tables()) return;
  ensureChain(INPUT, 'INPUT', 'ip6tables');
  ensureChain(FORWARD, 'FORWARD', 'ip6tables');
  for (const [chain, spec] of networkRules6(net)) if (!ipt(['-C', chain, ...spec], 'ip6tables').ok) must(['-A', chain, ...spec], 'ip6tables');
}

/** Removes a network's rules; the chains and their jumps go when they are empty. */
export function removeNetworkRules(net: NetworkDef): void {
  removeRules([...networkRules({ ...net, isolated: true }), ...networkRules({ ...net, isolated: false })], 'iptables');
  if (hasIp6tables()) removeRules(networkRules6(net), 'ip6tables');
}

function removeRules(rules: [string, string[]][], bin: Bin): void {
  for (const [chain, spec] of rules) {
    while (ipt(['-D', chain, ...spec], bin).ok) {
      /* every copy */
    }
  }
  for (const [chain, from] of [[INPUT, 'INPUT'], [FORWARD, 'FORWARD']] as const) {
    const r = ipt(['-S', chain], bin);
    if (!r.ok || r.out.split('\n').some((l) => l.startsWith('-A '))) continue;
    while (ipt(['-D', from, '-j', chain], bin).ok) {
      /* every jump */
    }
    ipt(['-X', chain], bin);
  }
}
