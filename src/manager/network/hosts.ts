// Names on a network: every member's /etc/hosts lists its own address and, on a user network
// whose members may talk, every other member by sandbox name and hostname. Rewritten for all
// members whenever one joins or leaves.
import { readFileSync } from 'node:fs';
import type { SandboxDefinition } from '../definition.js';
import type { Layout } from '../layout.js';
import { allAttachments } from './attachment.js';
import { hostResolvConf, hostsContent, resolvContent, writeSandboxEtc } from './etc-files.js';
import type { NetworkDef } from './store.js';

function hostnameOf(layout: Layout, name: string): string {
  try {
    return (JSON.parse(readFileSync(layout.definition(name), 'utf8')) as SandboxDefinition).hostname;
  } catch {
    return name;
  }
}

/** The bare address of `A.B.C.D/N`. */
export function bareAddress(cidr: string): string {
  return cidr.split('/')[0]!;
}

/** Rewrites /etc/hosts (and resolv.conf) of every sandbox attached to `net` (but `leaving`). */
export function refreshNetworkHosts(layout: Layout, net: NetworkDef, leaving?: string): void {
  const members = allAttachments(layout)
    .filter(({ sandbox, a }) => sandbox !== leaving && a.kind === 'cni' && a.network === net.name && a.addresses?.length)
    .map(({ sandbox, a }) => ({ name: sandbox, hostname: hostnameOf(layout, sandbox), address: bareAddress(a.addresses![0]!) }));
  const resolv = resolvContent(hostResolvConf());
  for (const m of members) {
    const peers = net.isolated ? [] : members.filter((p) => p.name !== m.name);
    try {
      writeSandboxEtc(layout.rootfs(m.name), hostsContent(m.hostname, m.address, peers), resolv);
    } catch (e) {
      // a member being deleted meanwhile is skipped quietly; a refusal (its /etc replaced by
      // a link) is said, and that member keeps its old files
      if ((e as { code?: string }).code === 'ERR_NETWORK_HOST') process.stderr.write(`moat: warning: not refreshing /etc/hosts of \`${m.name}\`: ${(e as Error).message}\n`);
    }
  }
}
