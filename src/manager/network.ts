// Sandbox networking: `none` (a private network namespace with loopback only, the default)
// and `host` (the host's network stack: UNSAFE). The networking issue adds bridge and user
// networks here: `applyNetwork` shapes the spec, `setUpNetwork` runs once the container's
// namespaces exist (before its process starts), `tearDownNetwork` after it is gone.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { OciSpec } from '../spec/oci-types.js';
import type { NetworkMode, SandboxDefinition } from './definition.js';

/** One line on each mode, for help and inspect. */
export const NETWORK_MODES: Record<NetworkMode, string> = {
  none: 'a private network namespace with only loopback (default)',
  host: "UNSAFE: the host's network stack: the sandbox can reach and bind every host address and port, and the host's abstract unix sockets",
};

/** Removes the network namespace from the spec for `host`. */
export function applyNetwork(spec: OciSpec, def: SandboxDefinition): void {
  if (def.network.mode === 'host') spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'network');
}

function ipCommand(): string[] {
  for (const p of ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip']) if (existsSync(p)) return [p];
  return ['/bin/busybox', 'ip'];
}

/** Brings up loopback in the new network namespace of the container with host pid `pid`
 * (a new namespace has `lo` down). */
export function setUpNetwork(def: SandboxDefinition, pid: number): void {
  if (def.network.mode !== 'none') return;
  // nsenter (util-linux, essential on Debian) enters only the network namespace, so the
  // host's `ip` binary runs with the host's file system and the sandbox's network
  const [ip, ...pre] = ipCommand();
  execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, '--', ip!, ...pre, 'link', 'set', 'lo', 'up'], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Releases what setUpNetwork took (nothing for none and host). */
export function tearDownNetwork(def: SandboxDefinition): void {
  void def;
}
