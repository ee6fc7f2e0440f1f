// /etc/hosts and /etc/resolv.conf of a networked sandbox, written into its private /etc
// (a directory of its root that the host can write) by a new file renamed over the old: the
// sandbox sees the change at once, and a symlink the sandbox put there is replaced, never
// followed.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runInUserNamespace } from '../../runtime/userns-exec.js';
import type { SandboxDefinition } from '../definition.js';
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
  const fd = openSync(tmp, 'wx', 0o644); // O_EXCL: never through a symlink
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

/** Writes hosts and resolv.conf into a sandbox's private /etc (rootfs/etc). */
export function writeSandboxEtc(rootfs: string, hosts: string, resolv: string): void {
  const etc = join(rootfs, 'etc');
  if (!existsSync(etc)) return;
  replaceFile(etc, 'hosts', hosts);
  replaceFile(etc, 'resolv.conf', resolv);
}

/** writeSandboxEtc for any sandbox: a user's sandbox with subordinate ids owns its /etc under
 * those ids, which the user reaches only as root of a user namespace holding them. There the
 * files are copied in under unpredictable names with O_EXCL (`set -C`), so a link the sandbox
 * planted is never followed, and renamed over the old ones. */
export async function writeSandboxEtcOf(def: SandboxDefinition, rootfs: string, hosts: string, resolv: string): Promise<void> {
  const u = def.userns;
  if (u.mode !== 'subids' || process.getuid?.() === 0) return writeSandboxEtc(rootfs, hosts, resolv);
  const etc = join(rootfs, 'etc');
  if (!existsSync(etc)) return;
  const src = mkdtempSync(join(dirname(rootfs), '.etc-'));
  try {
    writeFileSync(join(src, 'hosts'), hosts, { mode: 0o644 });
    writeFileSync(join(src, 'resolv.conf'), resolv, { mode: 0o644 });
    const tag = randomBytes(6).toString('hex');
    const script = 'set -Ce; for f in hosts resolv.conf; do t="$2/.moat-$f.$3"; cat -- "$1/$f" > "$t"; chown -h 1:1 -- "$t"; mv -f -- "$t" "$2/$f"; done';
    // inside runInUserNamespace's namespace, id 1 is the sandbox's root
    await runInUserNamespace({ uid: u.uid, gid: u.gid, size: u.size }, ['/bin/sh', '-c', script, 'sh', src, etc, tag], `write /etc/hosts of \`${def.name}\``);
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
}
