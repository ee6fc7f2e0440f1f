// The host template: the host's /usr (and /bin, /sbin, /lib* as the host lays them out)
// bound read-only, so that updating a package on the host updates every sandbox; a private
// /etc seeded from the host's; private /var, /root, /home; /tmp and /run on tmpfs.
// Nothing is copied but the /etc seeds.
import { existsSync, lstatSync, mkdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { OciMount } from '../../spec/oci-types.js';
import { ETC_SHARED_DIRS, seedEtcFromHost } from './etc-seeds.js';
import { makeSkeleton } from './skeleton.js';
import { IDLE_SH, RO_BIND, type Template } from './types.js';

/** Top-level dirs that hold programs and libraries: a symlink on merged-/usr hosts. */
const SYSTEM_DIRS = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];

/** How the host lays out one top-level dir: a symlink (replicated) or a dir (bound). */
export function hostSystemLayout(hostRoot = '/'): { links: [string, string][]; dirs: string[] } {
  const links: [string, string][] = [];
  const dirs = ['usr'];
  for (const d of SYSTEM_DIRS) {
    try {
      const st = lstatSync(join(hostRoot, d));
      if (st.isSymbolicLink()) links.push([d, readlinkSync(join(hostRoot, d))]);
      else if (st.isDirectory()) dirs.push(d);
    } catch {
      /* the host has no such dir */
    }
  }
  return { links, dirs };
}

export const hostTemplate: Template = {
  name: 'host',
  description: "the host's /usr read-only, private /etc, /var and /tmp (nothing downloaded)",
  hostIssues: () => {
    try {
      lstatSync('/usr/bin/sh');
      return [];
    } catch {
      return [{ code: 'ERR_TEMPLATE', path: '--template', message: 'template `host` needs /usr/bin/sh on the host' }];
    }
  },
  prepare(rootfs, hostname) {
    makeSkeleton(rootfs);
    const { links, dirs } = hostSystemLayout();
    for (const d of dirs) mkdirSync(join(rootfs, d), { mode: 0o755 });
    for (const [name, target] of links) symlinkSync(target, join(rootfs, name));
    seedEtcFromHost(join(rootfs, 'etc'), hostname);
  },
  mounts(rootfs) {
    const system = hostSystemLayout().dirs.map((d): OciMount => ({ destination: `/${d}`, type: 'bind', source: `/${d}`, options: [...RO_BIND] }));
    void rootfs;
    return system;
  },
  lateMounts(rootfs) {
    return ETC_SHARED_DIRS.filter((d) => existsSync(join('/etc', d)) && existsSync(join(rootfs, 'etc', d)))
      .map((d): OciMount => ({ destination: `/etc/${d}`, type: 'bind', source: `/etc/${d}`, options: [...RO_BIND] }));
  },
  writable: ['etc', 'var', 'root', 'home'],
  path: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  idleCommand: IDLE_SH,
};
