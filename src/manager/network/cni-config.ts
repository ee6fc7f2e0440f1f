// The CNI network configuration list (spec 1.0.0) of a moat network: a bridge with
// host-local IPAM, tuning (IPv6 off in the sandbox), then portmap (for --publish) and firewall (accepts the sandbox's traffic
// in FORWARD when the host's policy is DROP, as Docker leaves it). Pure: the same network
// always gives the same list, which is stored next to the network for anyone to inspect.
import type { PortMapping } from './publish.js';
import { formatSubnet, gatewayOf, type Subnet } from './subnet.js';

/** The CNI spec version moat speaks. */
export const CNI_VERSION = '1.0.0';

/** What a network config is built from. */
export interface NetworkConfigInput {
  name: string;
  bridge: string;
  subnet: Subnet;
  /** host-local's lease directory (moat's data dir, so a data dir holds all its state) */
  ipamDir: string;
}

/** One plugin's entry in a config list. */
export interface CniPluginConf {
  type: string;
  capabilities?: Record<string, boolean>;
  [k: string]: unknown;
}

/** A CNI network configuration list. */
export interface CniConfList {
  cniVersion: string;
  name: string;
  plugins: CniPluginConf[];
}

/** The config list of a moat network. */
export function buildConfList(n: NetworkConfigInput): CniConfList {
  return {
    cniVersion: CNI_VERSION,
    name: n.name,
    plugins: [
      {
        type: 'bridge', bridge: n.bridge, isGateway: true, ipMasq: true, hairpinMode: false, promiscMode: false,
        ipam: { type: 'host-local', ranges: [[{ subnet: formatSubnet(n.subnet), gateway: gatewayOf(n.subnet) }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: n.ipamDir },
      },
      // IPv4 only: moat's host rules are iptables (IPv4) rules, so the sandbox gets no IPv6
      // at all, not even a link-local address from which to reach the host's [::] services
      { type: 'tuning', sysctl: { 'net.ipv6.conf.eth0.disable_ipv6': '1' } },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      { type: 'firewall', backend: 'iptables' },
    ],
  };
}

/** What one plugin reads on stdin: the list's name and version, its own entry, the result
 * of the plugin before it (ADD) or of the whole ADD (DEL, CHECK), and the runtime config of
 * the capabilities it declares. */
export function pluginStdin(list: CniConfList, index: number, prevResult: unknown, runtime: { portMappings: PortMapping[] }): Record<string, unknown> {
  const p = list.plugins[index]!;
  const conf: Record<string, unknown> = { cniVersion: list.cniVersion, name: list.name, ...p };
  if (prevResult !== undefined) conf.prevResult = prevResult;
  if (p.capabilities?.portMappings && runtime.portMappings.length) conf.runtimeConfig = { portMappings: runtime.portMappings };
  return conf;
}
