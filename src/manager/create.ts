// `moat create`: a named sandbox from a template, ready for `start`.
import { defineSandbox, type SandboxDefinition, type SandboxOptions } from './definition.js';
import { withSandboxContext } from './errors.js';
import { hostLimits } from './host-limits.js';
import { withSandboxLock } from './lifecycle.js';
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
  const def = defineSandbox(name, o, hostLimits());
  await ensureTemplateShared(store, def, progress);
  await withSandboxLock(store, name, async () => {
    try {
      await assignUserNamespace(store, def);
      store.create(def);
    } catch (e) {
      if (!store.exists(name)) await releaseUserNamespace(store, def).catch(() => {});
      throw withSandboxContext(e, `create \`${name}\``);
    }
  });
  return def;
}
