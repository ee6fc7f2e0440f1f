// Overlay whiteouts and opaque dirs on the host side: a deleted path in an upper or lower
// layer is a 0:0 character device, a directory that hides the layers below carries
// `trusted.overlay.opaque=y` (overlayfs(5); the overlays moat makes are mounted by the host's
// root, so they read the trusted.* names). Node has no mknod or xattr calls: coreutils'
// mknod and the attr package's getfattr/setfattr do it.
import { execFileSync } from 'node:child_process';

/** The xattr that marks an opaque directory. */
export const OPAQUE_XATTR = 'trusted.overlay.opaque';

/** Makes `path` a whiteout. */
export function makeWhiteout(path: string): void {
  execFileSync('mknod', ['-m', '000', path, 'c', '0', '0']);
}

/** Marks a directory opaque. */
export function markOpaque(dir: string): void {
  // -h: never through a symlink (the caller checked that `dir` is a real directory)
  execFileSync('setfattr', ['-h', '-n', OPAQUE_XATTR, '-v', 'y', dir]);
}

/** True if the directory is marked opaque. */
export function isOpaque(dir: string): boolean {
  try {
    return execFileSync('getfattr', ['-h', '--absolute-names', '--only-values', '-n', OPAQUE_XATTR, dir], { stdio: ['ignore', 'pipe', 'ignore'] }).toString() === 'y';
  } catch {
    return false;
  }
}

/** Copies the opaque mark of `src` to `dst` (both directories). */
export function copyOverlayXattrs(src: string, dst: string): void {
  if (isOpaque(src)) markOpaque(dst);
}
