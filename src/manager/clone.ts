// `moat clone SRC DST`: a new sandbox with SRC's definition and a copy of its private state
// (/etc, /var, /root, /home), owned by DST's own id range. SRC must not be running, so the copy
// is consistent.
import { copyFileSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { getTemplate } from './templates/index.js';
import { overlayWorkDir } from './templates/types.js';
import { copyOverlayXattrs, makeWhiteout } from './templates/whiteout.js';
import { ConfigError } from '../spec/issues.js';
import type { SandboxDefinition } from './definition.js';
import { ManagerError, withSandboxContext } from './errors.js';
import { withSandboxLock } from './lifecycle.js';
import { sandboxNameIssue } from './names.js';
import { sandboxStatus } from './status.js';
import type { SandboxStore } from './store.js';
import { assignUserNamespace, releaseUserNamespace } from './userns.js';

/** Copies a tree keeping modes, and owners as `mapId` says; device nodes are not copied but
 * overlay whiteouts (0:0 character devices) are, with overlay's opaque-dir marks. */
function copyTree(src: string, dst: string, mapId: (id: number) => number): void {
  const st = lstatSync(src);
  if (st.isDirectory()) {
    mkdirSync(dst, { recursive: true });
    copyOverlayXattrs(src, dst);
    for (const e of readdirSync(src)) copyTree(join(src, e), join(dst, e), mapId);
  } else if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
  else if (st.isFile()) copyFileSync(src, dst);
  else if (st.isCharacterDevice() && st.rdev === 0) makeWhiteout(dst);
  else return;
  lchownSync(dst, mapId(st.uid), mapId(st.gid));
  if (!st.isSymbolicLink()) chmodSync(dst, st.mode & 0o7777);
}

/** Makes DST from SRC. */
export async function cloneSandbox(store: SandboxStore, src: string, dst: string): Promise<SandboxDefinition> {
  const issue = sandboxNameIssue(dst, 'DST');
  if (issue) throw new ConfigError([issue], `clone \`${src}\``);
  return withSandboxLock(store, src, async () => {
    const from = store.read(src);
    if (from.userns.mode === 'subids') throw new ManagerError('ERR_USERNS', `clone \`${src}\`: a rootless sandbox whose files belong to subordinate ids cannot be cloned yet`);
    const { status } = sandboxStatus(store, src);
    if (status === 'running' || status === 'paused') throw new ManagerError('ERR_SANDBOX_RUNNING', `sandbox \`${src}\` is ${status}: stop it before cloning, so that the copy is consistent`);
    const def: SandboxDefinition = {
      ...structuredClone(from), name: dst, created: new Date().toISOString(), ephemeral: false,
      hostname: from.hostname === src.replace(/_/g, '-').slice(0, 63) ? dst.replace(/_/g, '-').slice(0, 63) : from.hostname,
      userns: from.userns.mode === 'private' ? { mode: 'private', start: 0, size: 0 } : { mode: 'host' },
    };
    await withSandboxLock(store, dst, async () => {
      try {
        await assignUserNamespace(store, def);
        const old = from.userns, now = def.userns;
        const mapId = (id: number) => (old.mode === 'private' && now.mode === 'private' && id >= old.start && id < old.start + old.size ? id - old.start + now.start : id);
        await store.create(def, (rootfs, writable) => {
          for (const d of writable) {
            rmSync(join(rootfs, d), { recursive: true, force: true });
            copyTree(join(store.layout.rootfs(src), d), join(rootfs, d), mapId);
          }
          if (getTemplate(def.template).rootOverlay) {
            // the source's upper layer was copied whole (whiteouts and opaque dirs too); the
            // clone uses the same shared lower dirs
            for (const f of ['lower.json', 'image.json']) if (existsSync(`${store.layout.rootfs(src)}.${f}`)) copyFileSync(`${store.layout.rootfs(src)}.${f}`, `${rootfs}.${f}`);
            mkdirSync(overlayWorkDir(rootfs), { mode: 0o700 });
          }
        });
      } catch (e) {
        if (!store.exists(dst)) await releaseUserNamespace(store, def).catch(() => {});
        throw withSandboxContext(e, `clone \`${src}\` to \`${dst}\``);
      }
    });
    return def;
  });
}
