// The debian template: a full Debian tree made once with debootstrap into
// `<data>/cache/debian-SUITE/` and shared read-only by every debian sandbox as the lower
// layer of an overlay; each sandbox's own upper layer is its rootfs dir, so a sandbox may
// `apt-get install` without touching the cache or any other sandbox.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCacheOnce, cacheRoot } from './cache.js';
import { DEBOOTSTRAP, hostSuite, runDebootstrap } from './debootstrap.js';
import { hostsFile } from './etc-seeds.js';
import { ManagerError } from '../errors.js';
import { IDLE_SH, overlayWorkDir, readOverlayLowers, writeOverlayLowers, type Template } from './types.js';

function suite(): string {
  return process.env.MOAT_DEBIAN_SUITE || hostSuite();
}

/** The cache dir of the debian template in a data dir. */
export function debianCacheDir(dataDir: string, s = suite()): string {
  return join(cacheRoot(dataDir), `debian-${s}`);
}

export const debianTemplate: Template = {
  name: 'debian',
  description: 'a full Debian tree (debootstrap, built once per data dir) under a private writable overlay',
  hostIssues: () => (existsSync(DEBOOTSTRAP) ? [] : [{ code: 'ERR_TEMPLATE', path: '--template', message: 'template `debian` needs debootstrap: apt-get install debootstrap' }]),
  async ensureShared(dataDir, progress) {
    const s = suite();
    await buildCacheOnce(debianCacheDir(dataDir, s), `the debian ${s} template cache`, (stage) => runDebootstrap(stage, s, progress));
  },
  prepare(rootfs, hostname, dataDir) {
    const lower = debianCacheDir(dataDir);
    if (!existsSync(lower)) throw new ManagerError('ERR_TEMPLATE', `template \`debian\`: no cache \`${lower}\``);
    writeOverlayLowers(rootfs, dataDir, [lower]);
    // the upper layer holds only what differs from the cache: this sandbox's names
    mkdirSync(overlayWorkDir(rootfs), { mode: 0o700 });
    mkdirSync(join(rootfs, 'etc'), { mode: 0o755 });
    writeFileSync(join(rootfs, 'etc/hostname'), `${hostname}\n`);
    writeFileSync(join(rootfs, 'etc/hosts'), hostsFile(hostname));
    if (existsSync('/etc/resolv.conf')) copyFileSync('/etc/resolv.conf', join(rootfs, 'etc/resolv.conf'));
  },
  rootOverlay: readOverlayLowers,
  mounts: () => [],
  writable: [],
  path: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  idleCommand: IDLE_SH,
};
