// The private /etc of a sandbox: seeded with copies of what programs need from the host's
// /etc (never secrets such as shadow or ssl/private), so that the host's /etc stays unseen.
import { copyFileSync, cpSync, existsSync, mkdirSync, lstatSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Files copied from the host's /etc when present (symlinks are copied as symlinks). */
export const ETC_SEEDS = [
  'nsswitch.conf', 'resolv.conf', 'ld.so.cache', 'ld.so.conf', 'localtime', 'timezone', 'os-release',
  'protocols', 'services', 'mime.types', 'host.conf', 'gai.conf', 'bash.bashrc', 'profile', 'shells',
  'environment', 'inputrc', 'debian_version', 'issue', 'login.defs',
];

/** Small directories copied whole. */
export const ETC_SEED_DIRS = ['ld.so.conf.d', 'profile.d'];

/** Host directories of public data shared read-only into the private /etc (bound at start,
 * not copied: they are large, and the host's updates to them should reach sandboxes). */
export const ETC_SHARED_DIRS = ['ssl/certs', 'alternatives'];

/** System accounts only (uid/gid below 1000, and nobody): host users stay unlisted. */
function systemEntries(text: string): string {
  return text.split('\n').filter((l) => {
    const id = Number(l.split(':')[2]);
    return l && (id < 1000 || id === 65534);
  }).join('\n') + '\n';
}

function copyEntry(src: string, dst: string): void {
  const st = lstatSync(src);
  if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
  else if (st.isFile()) copyFileSync(src, dst);
}

/** Hosts file of a sandbox: loopback names and its own hostname. */
export function hostsFile(hostname: string): string {
  return `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${hostname}\n`;
}

/** Seeds `etc` (an empty dir) from the host's /etc. */
export function seedEtcFromHost(etc: string, hostname: string, hostEtc = '/etc'): void {
  for (const f of ETC_SEEDS) if (exists(join(hostEtc, f))) copyEntry(join(hostEtc, f), join(etc, f));
  for (const d of ETC_SEED_DIRS) {
    if (!existsSync(join(hostEtc, d))) continue;
    mkdirSync(dirname(join(etc, d)), { recursive: true });
    cpSync(join(hostEtc, d), join(etc, d), { recursive: true, verbatimSymlinks: true });
  }
  for (const d of ETC_SHARED_DIRS) if (existsSync(join(hostEtc, d))) mkdirSync(join(etc, d), { recursive: true, mode: 0o755 });
  for (const f of ['passwd', 'group']) {
    const src = join(hostEtc, f);
    writeFileSync(join(etc, f), existsSync(src) ? systemEntries(readFileSync(src, 'utf8')) : '');
  }
  writeFileSync(join(etc, 'hostname'), `${hostname}\n`);
  writeFileSync(join(etc, 'hosts'), hostsFile(hostname));
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
