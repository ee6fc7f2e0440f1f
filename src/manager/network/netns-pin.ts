// Pins a sandbox's network namespace with a bind mount under the data dir, so that it
// outlives the sandbox's processes: CNI DEL then always finds the namespace, with the
// addresses the bridge plugin reads there to remove its masquerade rules. Without the pin,
// a sandbox killed before moat tears it down takes its veth with it but leaves those rules.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { NetworkError } from './errors.js';

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** True if `path` is a mount point in this mount namespace. */
export function isMounted(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => unescapeMount(l.split(' ')[4] ?? '') === path);
}

/** Throws if process `pid` is in moat's own or init's network namespace: a sandbox's pid
 * reused by a host process would otherwise make CNI ADD/DEL act on the host's namespace. */
export function refuseHostNetns(pid: number): void {
  let ino: number;
  try {
    ino = statSync(`/proc/${pid}/ns/net`).ino;
  } catch (e) {
    throw new NetworkError('ERR_NETWORK_HOST', `the network namespace of process ${pid}: ${(e as Error).message}`, { cause: e });
  }
  for (const other of ['/proc/self/ns/net', '/proc/1/ns/net']) {
    let o: number | undefined;
    try {
      o = statSync(other).ino;
    } catch {
      continue;
    }
    if (o === ino) throw new NetworkError('ERR_NETWORK_HOST', `process ${pid} is in the host's network namespace (${other}): refusing to pin it as a sandbox's (its pid reused?)`);
  }
}

/** Bind-mounts /proc/PID/ns/net on `path`, never the host's own namespace. */
export function pinNetns(pid: number, path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  if (isMounted(path)) return;
  refuseHostNetns(pid);
  try {
    execFileSync('mount', ['--bind', `/proc/${pid}/ns/net`, path], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    throw new NetworkError('ERR_NETWORK_HOST', `pin the network namespace of process ${pid} at \`${path}\`: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`, { cause: e });
  }
}

/** Unmounts and removes a pin (nothing if there is none). */
export function unpinNetns(path: string): void {
  while (isMounted(path)) {
    try {
      execFileSync('umount', [path], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      throw new NetworkError('ERR_NETWORK_HOST', `unmount the network namespace pin \`${path}\`: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`, { cause: e });
    }
  }
  rmSync(path, { force: true });
}
