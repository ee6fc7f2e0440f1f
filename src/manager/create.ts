// `moat create`: a named sandbox from a template, ready for `start`.
import { defineSandbox, type SandboxDefinition, type SandboxOptions } from './definition.js';
import { withSandboxContext } from './errors.js';
import { hostLimits } from './host-limits.js';
import { withSandboxLock } from './lifecycle.js';
import { checkNetworkExists } from './network.js';
import { assignUserNamespace, releaseUserNamespace } from './userns.js';
import type { SandboxStore } from './store.js';

/** Validates everything first (nothing is made when anything is wrong), then makes it. */
export async function createSandbox(store: SandboxStore, name: string, o: SandboxOptions): Promise<SandboxDefinition> {
  const def = defineSandbox(name, o, hostLimits());
  await withSandboxLock(store, name, async () => {
    try {
      checkNetworkExists(store.layout, def);
      await assignUserNamespace(store, def);
      store.create(def);
    } catch (e) {
      if (!store.exists(name)) await releaseUserNamespace(store, def).catch(() => {});
      throw withSandboxContext(e, `create \`${name}\``);
    }
  });
  return def;
}
