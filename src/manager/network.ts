// Sandbox networking: `none` (a private network namespace with loopback only, the default)
// and `host` (the host's network stack: UNSAFE). The networking issue adds bridge and user
// networks here: `applyNetwork` shapes the spec, `setUpNetwork` runs once the container's
// namespaces exist (before its process starts), `tearDownNetwork` after it is gone.
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

/** Runs once the container's namespaces exist, before its process starts. Nothing to do for
 * none (the helper brings `lo` up in every new network namespace) or host. */
export function setUpNetwork(def: SandboxDefinition, pid: number): void {
  void def;
  void pid;
}

/** Releases what setUpNetwork took (nothing for none and host). */
export function tearDownNetwork(def: SandboxDefinition): void {
  void def;
}
