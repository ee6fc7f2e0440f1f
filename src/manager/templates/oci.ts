// The `oci:DIR` template: an OCI image layout on disk (as `skopeo copy oci:DIR` or
// `podman save --format oci-dir` leave it). Its layers are unpacked once per data dir and
// shared, as the read-only lower layers of each sandbox's overlay root; the image's config
// gives the command, environment, working dir and user when the sandbox names none.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagerError } from '../errors.js';
import { hostsFile } from './etc-seeds.js';
import { ensureImageLayers, layerDir, ociImageIssues, readOciImage, type ImageProcess } from './oci-image.js';
import { overlayWorkDir, readOverlayLowers, writeOverlayLowers, type Template } from './types.js';

/** The config of the image a sandbox was made from, kept next to its upper dir. */
function imageConfigPath(rootfs: string): string {
  return `${rootfs}.image.json`;
}

/** Numeric `uid[:gid]`, or a name looked up in the image's /etc/passwd (top layer first). */
function imageUser(user: string | undefined, lowers: string[]): { uid: number; gid: number } | undefined {
  if (!user) return undefined;
  const [u, g] = user.split(':') as [string, string | undefined];
  const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);
  let uid = num(u), gid = num(g);
  if (uid === undefined) {
    for (const l of lowers) {
      const p = join(l, 'etc/passwd');
      if (!existsSync(p)) continue;
      const line = readFileSync(p, 'utf8').split('\n').find((x) => x.split(':')[0] === u);
      if (line) {
        uid = Number(line.split(':')[2]);
        gid ??= Number(line.split(':')[3]);
      }
      break;
    }
  }
  if (uid === undefined || Number.isNaN(uid)) return undefined;
  return { uid, gid: gid ?? uid };
}

/** The template of one image layout. */
export function ociTemplate(dir: string): Template {
  return {
    name: `oci:${dir}`,
    description: 'an OCI image layout on disk, its layers unpacked once and shared',
    hostIssues: () => ociImageIssues(dir),
    async ensureShared(dataDir, progress) {
      await ensureImageLayers(dataDir, readOciImage(dir), progress);
    },
    prepare(rootfs, hostname, dataDir) {
      const image = readOciImage(dir);
      const lowers = image.layers.map((l) => layerDir(dataDir, l.digest)).reverse();
      for (const l of lowers) if (!existsSync(l)) throw new ManagerError('ERR_TEMPLATE', `template \`oci:${dir}\`: layer \`${l}\` is not unpacked (the image changed during create?)`);
      writeOverlayLowers(rootfs, dataDir, lowers);
      writeFileSync(imageConfigPath(rootfs), JSON.stringify({ manifest: image.manifestDigest, config: image.config }, null, 2) + '\n', { mode: 0o644 });
      mkdirSync(overlayWorkDir(rootfs), { mode: 0o700 });
      // the sandbox's names in its upper layer; mountpoints the image may lack
      for (const d of ['etc', 'proc', 'sys', 'dev', 'tmp', 'run']) mkdirSync(join(rootfs, d), { mode: 0o755 });
      writeFileSync(join(rootfs, 'etc/hostname'), `${hostname}\n`);
      writeFileSync(join(rootfs, 'etc/hosts'), hostsFile(hostname));
      if (existsSync('/etc/resolv.conf')) copyFileSync('/etc/resolv.conf', join(rootfs, 'etc/resolv.conf'));
      const cwd = image.config.WorkingDir;
      if (cwd && cwd !== '/' && !lowers.some((l) => existsSync(join(l, cwd)))) mkdirSync(join(rootfs, cwd), { recursive: true, mode: 0o755 });
    },
    rootOverlay: readOverlayLowers,
    imageProcess(rootfs, dataDir) {
      const c = (JSON.parse(readFileSync(imageConfigPath(rootfs), 'utf8')) as { config: ImageProcess }).config;
      const args = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
      const user = imageUser(c.User, readOverlayLowers(rootfs, dataDir));
      return { ...(args.length ? { args } : {}), ...(c.Env ? { env: c.Env } : {}), ...(c.WorkingDir ? { cwd: c.WorkingDir } : {}), ...(user ? { user } : {}) };
    },
    mounts: () => [],
    writable: [],
    path: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    idleCommand: ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'],
  };
}
