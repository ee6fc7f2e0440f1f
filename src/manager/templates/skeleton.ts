// The parts every sandbox root has: mountpoints for the kernel filesystems, private
// writable /etc, /var, /root, /home, and the /var symlinks into /run.
import { chmodSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

/** Makes the directories and symlinks shared by all templates. */
export function makeSkeleton(rootfs: string): void {
  for (const d of ['etc', 'proc', 'sys', 'dev', 'run', 'home', 'mnt', 'var/lib', 'var/log', 'var/cache', 'var/spool']) mkdirSync(join(rootfs, d), { recursive: true, mode: 0o755 });
  mkdirSync(join(rootfs, 'root'), { mode: 0o700 });
  for (const d of ['tmp', 'var/tmp']) {
    mkdirSync(join(rootfs, d), { recursive: true });
    chmodSync(join(rootfs, d), 0o1777);
  }
  symlinkSync('/run', join(rootfs, 'var/run'));
  symlinkSync('/run/lock', join(rootfs, 'var/lock'));
}
