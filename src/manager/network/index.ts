// Sandbox networking, by mode:
//   none         a private network namespace with loopback only (the default)
//   host         the host's network stack (UNSAFE)
//   bridge       the default network `moat0` (CNI bridge, 10.129.0.0/24, members isolated)
//   NAME         a user network from `moat network create` (members reach each other unless
//                it was created --isolated, and find each other by name)
//   pasta        user-mode networking by pasta (rootless default)
//   slirp4netns  user-mode networking by slirp4netns
// `setUpNetwork` runs once the sandbox's namespaces exist, before its first process runs;
// `tearDownNetwork` after it is gone (or from a later command, after a crash): it works from
// the sandbox's record alone, whatever the definition says.
import { closeSync, openSync } from 'node:fs';
import type { OciSpec } from '../../spec/oci-types.js';
import type { SandboxDefinition } from '../definition.js';
import type { Layout } from '../layout.js';
import { readAttachment, removeAttachment, type Attachment } from './attachment.js';
import { attachCni, checkCni, detachCni } from './cni-attach.js';
import { hostResolvConf, hostsContent, resolvContent, writeSandboxEtcOf } from './etc-files.js';
import { stopHelpers } from './helper-process.js';
import { unpinNetns } from './netns-pin.js';
import { bareAddress } from './hosts.js';
import { startPasta } from './pasta.js';
import { formatPublish, type PortMapping } from './publish.js';
import { SLIRP_DNS, startSlirp } from './slirp4netns.js';
import { DEFAULT_NETWORK, networkExists, readNetwork, withNetworkLock } from './store.js';
import { ConfigError } from '../../spec/issues.js';
import { checkPortsFree } from './cni-attach.js';
import { NetworkError } from './errors.js';

/** One line on each built-in mode, for help and inspect. */
export const NETWORK_MODES: Record<string, string> = {
  none: 'a private network namespace with only loopback (default)',
  host: "UNSAFE: the host's network stack: the sandbox can reach and bind every host address and port, and the host's abstract unix sockets",
  bridge: `the default network \`${DEFAULT_NETWORK}\` (10.129.0.0/24): an address of its own, outbound traffic masqueraded, published ports forwarded; sandboxes on it cannot reach each other nor the host's own services`,
  pasta: "user-mode networking by pasta: the host's addresses copied in, published ports forwarded by pasta; no access to the host's loopback",
  slirp4netns: "user-mode networking by slirp4netns (10.0.2.100/24): published ports forwarded by slirp4netns; no access to the host's loopback",
};

/** Modes that give the sandbox an address (and so may publish ports). */
export function hasAddress(mode: string): boolean {
  return mode !== 'none' && mode !== 'host';
}

/** One line on a mode (a user network's from its definition, when it can be read). */
export function describeNetworkMode(mode: string, layout?: Layout): string {
  if (NETWORK_MODES[mode]) return NETWORK_MODES[mode]!;
  if (mode === DEFAULT_NETWORK) return NETWORK_MODES.bridge!;
  try {
    const n = layout ? readNetwork(layout, mode) : undefined;
    if (n) return `user network \`${mode}\` (${n.subnet}, bridge ${n.bridge}): ${n.isolated ? 'members cannot reach each other' : 'members reach each other and resolve each other by name'}; no access to the host's own services`;
  } catch {
    /* removed */
  }
  return `user network \`${mode}\``;
}

/** Removes the network namespace from the spec for `host`. */
export function applyNetwork(spec: OciSpec, def: SandboxDefinition): void {
  if (def.network.mode === 'host') spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'network');
}

function publishOf(def: SandboxDefinition): PortMapping[] {
  return def.network.publish ?? [];
}

/** Why a non-root user cannot use a mode (bridges and iptables rules need root). */
function rootlessIssue(mode: string): string | undefined {
  if (!hasAddress(mode) || mode === 'pasta' || mode === 'slirp4netns' || process.getuid?.() === 0) return undefined;
  return `network \`${mode}\` needs root (it makes bridges and firewall rules): use --network pasta or slirp4netns`;
}

/** Connects the sandbox whose first process is `pid` (created, not yet started). Nothing to
 * do for none (the helper brings `lo` up in every new network namespace) or host. */
export async function setUpNetwork(layout: Layout, def: SandboxDefinition, pid: number): Promise<void> {
  const mode = def.network.mode;
  if (!hasAddress(mode)) return;
  const rootless = rootlessIssue(mode);
  if (rootless) throw new NetworkError('ERR_NETWORK_HOST', rootless);
  if (!needsStartedProcess(def)) await connect(layout, def, pid);
}

/** For a user (not root), pasta and slirp4netns attach once the sandbox's first process has
 * exec'd: before that it is the helper, not dumpable, with its memory still owned by the
 * user's own namespace, so `/proc/PID/ns/*` opens only with CAP_SYS_PTRACE there, which a user
 * lacks (and making the helper dumpable would let the sandbox's processes, of the user's own
 * uid in single-id mode, ptrace it while it holds host fds). After exec the process belongs to
 * the sandbox's user namespace, which the user owns. A server that binds its port at start is
 * reachable once pasta has attached, a moment later. */
function needsStartedProcess(def: SandboxDefinition): boolean {
  return (def.network.mode === 'pasta' || def.network.mode === 'slirp4netns') && process.getuid?.() !== 0;
}

/** Runs after the sandbox's process was started: connects what setUpNetwork left for then. */
export async function setUpNetworkStarted(layout: Layout, def: SandboxDefinition, pid: number): Promise<void> {
  if (!needsStartedProcess(def)) return;
  const end = Date.now() + 5000;
  for (let d = 1; ; d = Math.min(d * 2, 50)) {
    try {
      closeSync(openSync(`/proc/${pid}/ns/net`, 'r'));
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'EACCES' || code === 'EPERM' ? (Date.now() > end ? 'did not exec its command in time' : undefined) : `is gone (${code})`;
      if (why) throw new NetworkError('ERR_NETWORK_HOST', `network \`${def.network.mode}\`: the sandbox's process ${pid} ${why}`, { cause: e });
      await new Promise((r) => setTimeout(r, d));
    }
  }
  await connect(layout, def, pid);
}

async function connect(layout: Layout, def: SandboxDefinition, pid: number): Promise<void> {
  const mode = def.network.mode;
  try {
    await withNetworkLock(layout, async () => {
      if (mode === 'pasta' || mode === 'slirp4netns') {
        checkPortsFree(layout, def.name, publishOf(def));
        const a = mode === 'pasta' ? startPasta(layout, def, pid, publishOf(def)) : await startSlirp(layout, def, pid, publishOf(def));
        const own = a.addresses?.[0] ? bareAddress(a.addresses[0]) : undefined;
        await writeSandboxEtcOf(def, layout.rootfs(def.name), hostsContent(def.hostname, own, []), resolvContent(hostResolvConf(), mode === 'slirp4netns' ? [SLIRP_DNS] : []));
      } else attachCni(layout, def, pid, mode, publishOf(def));
    });
  } catch (e) {
    throw new NetworkError((e as NetworkError).code ?? 'ERR_NETWORK_HOST', `network \`${mode}\`: ${(e as Error).message}`, { cause: e });
  }
}

/** Undoes what setUpNetwork (or a crashed one) did, from the sandbox's record. */
export async function tearDownNetwork(layout: Layout, def: SandboxDefinition): Promise<void> {
  if (!readAttachment(layout, def.name)) return;
  await withNetworkLock(layout, async () => {
    const a = readAttachment(layout, def.name);
    if (!a) return;
    if (a.kind === 'cni') detachCni(layout, def.name, a);
    else {
      await stopHelpers(a.marker, a.pid, a.pidStart);
      if (a.netnsPin) unpinNetns(a.netnsPin);
      removeAttachment(layout, def.name);
    }
  });
}

/** What inspect shows of a sandbox's network now. */
export interface NetworkState {
  attached: boolean;
  network?: string;
  addresses: string[];
  gateway?: string;
  hostInterface?: string;
  ports: string[];
  /** CNI CHECK of a bridge attachment (running sandboxes): `passed` or what failed */
  check?: string;
}

/** The sandbox's network as its record says (addresses only while it is attached). */
export function networkState(layout: Layout, def: SandboxDefinition, running = false): NetworkState {
  const a: Attachment | undefined = readAttachment(layout, def.name);
  const ports = (a?.publish ?? publishOf(def)).map(formatPublish);
  if (!a) return { attached: false, addresses: [], ports };
  return {
    attached: true, addresses: a.addresses ?? [], ports,
    ...(running && a.kind === 'cni' ? { check: checkCni(a) } : {}),
    ...(a.kind === 'cni' ? { network: a.network, ...(a.gateway ? { gateway: a.gateway } : {}), ...(a.hostVeth ? { hostInterface: a.hostVeth } : {}) } : { network: a.kind }),
  };
}

export { parsePublishList, formatPublish, type PortMapping } from './publish.js';
export { createNetwork, listNetworks, readNetwork, removeNetwork, networkExists, confListPath, DEFAULT_NETWORK, RESERVED_NETWORK_NAMES, type NetworkDef } from './store.js';
export { allAttachments } from './attachment.js';
export { NetworkError } from './errors.js';

/** Refuses a sandbox on a user network that does not exist (at create, before anything is made). */
export function checkNetworkExists(layout: Layout, def: SandboxDefinition): void {
  const rootless = rootlessIssue(def.network.mode);
  if (rootless) throw new ConfigError([{ code: 'ERR_NETWORK', path: '--network', message: rootless }], 'invalid sandbox');
  if (!hasAddress(def.network.mode) || ['bridge', 'pasta', 'slirp4netns'].includes(def.network.mode)) return;
  if (!networkExists(layout, def.network.mode)) throw new ConfigError([{ code: 'ERR_NETWORK', path: '--network', message: `network \`${def.network.mode}\` does not exist (moat network create ${def.network.mode})` }], 'invalid sandbox');
}
