// `moat create`: a named sandbox from a template, ready for `start`.
import { defineSandbox, type SandboxDefinition, type SandboxOptions } from './definition.js';
import { withSandboxContext } from './errors.js';
import { crashPoint } from './crash.js';
import { requireHostPrerequisites } from './host-check.js';
import { hostLimits, warnMissingLimits } from './host-limits.js';
import { withSandboxLock } from './lifecycle.js';
import { checkNetworkExists } from './network.js';
import { assignUserNamespace, releaseUserNamespace } from './userns.js';
import type { SandboxStore } from './store.js';
import { getTemplate } from './templates/index.js';

/** Builds what the sandbox's template shares (a cache), once per data dir. */
export async function ensureTemplateShared(store: SandboxStore, def: SandboxDefinition, progress: (s: string) => void = () => {}): Promise<void> {
  try {
    await getTemplate(def.template).ensureShared?.(store.layout.data, progress);
  } catch (e) {
    throw withSandboxContext(e, `create \`${def.name}\``);
  }
}

/** Validates everything first (nothing is made when anything is wrong), then makes it. */
export async function createSandbox(store: SandboxStore, name: string, o: SandboxOptions, progress?: (s: string) => void): Promise<SandboxDefinition> {
  const host = hostLimits();
  const def = defineSandbox(name, o, host);
  // a failing prerequisite is named with its fix now, not met as a bare errno at start
  if (def.userns.mode !== 'host') requireHostPrerequisites(store.layout.data);
  await ensureTemplateShared(store, def, progress);
  await withSandboxLock(store, name, async () => {
    try {
      checkNetworkExists(store.layout, def);
      await assignUserNamespace(store, def);
      crashPoint('create:allocated');
      await store.create(def);
      warnMissingLimits(def);
    } catch (e) {
      if (!store.exists(name)) await releaseUserNamespace(store, def).catch(() => {});
      throw withSandboxContext(e, `create \`${name}\``);
    }
  });
  return def;
}
