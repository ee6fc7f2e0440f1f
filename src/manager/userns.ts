// User namespaces for sandboxes: the hook issue 5 fills in. Today a sandbox shares the
// host's uids (root inside is root outside, contained by the other layers); issue 5 gives
// each sandbox a private 65536-id range, allocated at create and stored in `def.userns`,
// and presents the rootfs through idmapped mounts.
import type { OciSpec } from '../spec/oci-types.js';
import type { SandboxDefinition } from './definition.js';

/** Adds the user namespace and id mappings of a sandbox to its spec (none yet). */
export function applyUserNamespace(spec: OciSpec, def: SandboxDefinition): void {
  if (def.userns.mode === 'host') return;
  void spec;
}

/** What `inspect` says about the user-namespace layer. */
export function describeUserNamespace(def: SandboxDefinition): { active: boolean; detail: string } {
  void def;
  return { active: false, detail: 'not yet: sandboxes share the host uids (root inside is root outside); private uid ranges come with user namespaces (issue 5)' };
}
