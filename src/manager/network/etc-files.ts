// /etc/hosts and /etc/resolv.conf of a networked sandbox, written into its private /etc
// (a directory of its root that the host can write) by a new file renamed over the old: the
// sandbox sees the change at once, and a symlink the sandbox put there is replaced, never
// followed.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, fstatSync, lstatSync, mkdtempSync, openSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runInUserNamespace } from '../../runtime/userns-exec.js';
import type { SandboxDefinition } from '../definition.js';
import { NetworkError } from './errors.js';
import { parseIPv4 } from './subnet.js';

/** The hosts file: loopback, the sandbox's own name, then its peers on a user network. */
export function hostsContent(hostname: string, own: string | undefined, peers: { name: string; hostname: string; address: string }[]): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', `${own ?? '127.0.1.1'}\t${hostname}`];
  for (const p of peers) lines.push(`${p.address}\t${p.hostname === p.name ? p.name : `${p.hostname} ${p.name}`}`);
  return lines.join('\n') + '\n';
}

/** The resolver config: the host's, without loopback nameservers (a resolver on the host's
 * 127.0.0.x is not reachable from the sandbox's namespace), or `extra` nameservers instead. */
export function resolvContent(hostResolv: string, extra: string[] = []): string {
  const out: string[] = [];
  for (const line of hostResolv.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m) {
      const ip = parseIPv4(m[1]!);
      if (m[1] === '::1' || (ip !== undefined && ip >>> 24 === 127)) continue;
    }
    if (line.trim()) out.push(line);
  }
  for (const ns of extra) out.unshift(`nameserver ${ns}`);
  return out.join('\n') + '\n';
}

/** The host's /etc/resolv.conf ('' when it has none). */
export function hostResolvConf(): string {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}

function replaceFile(dir: string, name: string, content: string): void {
  const tmp = join(dir, `.moat-${name}.${randomBytes(4).toString('hex')}`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644); // never through a symlink
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, join(dir, name));
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Opens rootfs/etc without following a symlink at `etc` (the sandbox can replace its own
 * /etc, with an overlay template its root is its writable upper layer: a link there to the
 * host's /etc must not make root write the host's files). undefined when there is none. */
function openSandboxEtc(rootfs: string): number | undefined {
  const etc = join(rootfs, 'etc');
  let st;
  try {
    st = lstatSync(etc);
  } catch {
    return undefined;
  }
  if (st.isSymbolicLink()) throw new NetworkError('ERR_NETWORK_HOST', `${etc} is a symbolic link (to ${safeReadlink(etc)}): refusing to write /etc/hosts and /etc/resolv.conf through it`);
  if (!st.isDirectory()) throw new NetworkError('ERR_NETWORK_HOST', `${etc} is not a directory: refusing to write /etc/hosts and /etc/resolv.conf`);
  let fd: number;
  try {
    fd = openSync(etc, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (e) {
    throw new NetworkError('ERR_NETWORK_HOST', `${etc}: not a real directory (${(e as Error).message}): refusing to write /etc/hosts and /etc/resolv.conf`, { cause: e });
  }
  const fst = fstatSync(fd);
  if (!fst.isDirectory() || fst.ino !== st.ino || fst.dev !== st.dev) {
    closeSync(fd);
    throw new NetworkError('ERR_NETWORK_HOST', `${etc} changed while being opened: refusing to write /etc/hosts and /etc/resolv.conf`);
  }
  return fd;
}

function safeReadlink(p: string): string {
  try {
    return readlinkSync(p);
  } catch {
    return '?';
  }
}

/** Writes hosts and resolv.conf into a sandbox's private /etc (rootfs/etc), beneath the fd
 * of that directory opened with O_NOFOLLOW (so neither `etc` nor the files are followed). */
export function writeSandboxEtc(rootfs: string, hosts: string, resolv: string): void {
  const fd = openSandboxEtc(rootfs);
  if (fd === undefined) return;
  try {
    const dir = `/proc/self/fd/${fd}`;
    replaceFile(dir, 'hosts', hosts);
    replaceFile(dir, 'resolv.conf', resolv);
  } finally {
    closeSync(fd);
  }
}

/** writeSandboxEtc for any sandbox: a user's sandbox with subordinate ids owns its /etc under
 * those ids, which the user reaches only as root of a user namespace holding them. There the
 * files are copied in under unpredictable names with O_EXCL (`set -C`), so a link the sandbox
 * planted is never followed, and renamed over the old ones. */
export async function writeSandboxEtcOf(def: SandboxDefinition, rootfs: string, hosts: string, resolv: string): Promise<void> {
  const u = def.userns;
  if (u.mode !== 'subids' || process.getuid?.() === 0) return writeSandboxEtc(rootfs, hosts, resolv);
  const etc = join(rootfs, 'etc');
  if (!existsSync(etc) && !isLink(etc)) return;
  closeSync(openSandboxEtc(rootfs)!); // a clear error for a link; the script checks again
  const src = mkdtempSync(join(dirname(rootfs), '.etc-'));
  try {
    writeFileSync(join(src, 'hosts'), hosts, { mode: 0o644 });
    writeFileSync(join(src, 'resolv.conf'), resolv, { mode: 0o644 });
    const tag = randomBytes(6).toString('hex');
    const script = 'set -Ce; if [ -L "$2" ] || [ ! -d "$2" ]; then echo "$2 is not a real directory: refusing to write /etc/hosts" >&2; exit 1; fi; cd -P -- "$2"; for f in hosts resolv.conf; do t="./.moat-$f.$3"; cat -- "$1/$f" > "$t"; chown -h 1:1 -- "$t"; mv -fT -- "$t" "./$f"; done';
    // inside runInUserNamespace's namespace, id 1 is the sandbox's root
    await runInUserNamespace({ uid: u.uid, gid: u.gid, size: u.size }, ['/bin/sh', '-c', script, 'sh', src, etc, tag], `write /etc/hosts of \`${def.name}\``);
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
