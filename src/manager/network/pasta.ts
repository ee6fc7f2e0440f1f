// `pasta` mode (Debian's `passt`): a user-mode network stack in the host's namespace that
// gives the sandbox a tap device with copies of the host's addresses and routes, and
// forwards published ports from the host. Works for any user (the rootless default).
//
// Locked down: no automatic port forwarding in either direction (`-t none -u none` unless
// published, `-T none -U none`: the sandbox reaches none of the host's loopback ports), and
// `--no-map-gw`, so the gateway address is not the host.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SandboxDefinition } from '../definition.js';
import type { Layout } from '../layout.js';
import { crashPoint } from '../crash.js';
import { writeAttachment, type HelperAttachment } from './attachment.js';
import { NetworkError } from './errors.js';
import { netnsAddresses, startTimeOf } from './helper-process.js';
import { pinNetns } from './netns-pin.js';
import { netnsDir } from './store.js';
import type { PortMapping } from './publish.js';

/** The -t/-u arguments of the published ports (`[ADDR/]HOSTPORT:CTPORT`). */
export function pastaPortArgs(publish: PortMapping[]): string[] {
  const args: string[] = [];
  for (const proto of ['tcp', 'udp'] as const) {
    const ports = publish.filter((p) => p.protocol === proto);
    const flag = proto === 'tcp' ? '-t' : '-u';
    if (!ports.length) args.push(flag, 'none');
    for (const p of ports) args.push(flag, `${p.hostIP ? `${p.hostIP}/` : ''}${p.hostPort}:${p.containerPort}`);
  }
  return args;
}

/** Starts pasta for the sandbox whose first process is `pid`; it daemonises once the
 * sandbox's interface is configured, writing its pid to the marker file. */
export function startPasta(layout: Layout, def: SandboxDefinition, pid: number, publish: PortMapping[]): HelperAttachment {
  const marker = join(layout.sandbox(def.name), 'pasta.pid');
  const root = process.getuid?.() === 0;
  const a: HelperAttachment = { kind: 'pasta', marker, publish, ...(root ? { netnsPin: join(netnsDir(layout), def.name) } : {}) };
  writeAttachment(layout, def.name, a); // before the helper exists
  rmSync(marker, { force: true });
  // As root: the sandbox's process is not dumpable until its exec, so /proc/PID/ns/* opens
  // only with CAP_SYS_PTRACE, which pasta drops; it gets the namespace by a pin instead, and
  // keeps uid 0 (as `nobody` it could not enter a namespace owned by root's user namespace).
  let target = [String(pid)];
  if (a.netnsPin) {
    pinNetns(pid, a.netnsPin);
    target = ['--runas', '0:0', '--netns', a.netnsPin, '--netns-only'];
  }
  const args = ['--quiet', '--config-net', '--no-map-gw', '-T', 'none', '-U', 'none', ...pastaPortArgs(publish), '--log-file', join(layout.sandbox(def.name), 'pasta.log'), '-P', marker, ...target];
  const r = spawnSync('pasta', args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  if (r.error) throw new NetworkError('ERR_NETWORK_HELPER', `start pasta: ${r.error.message}${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? ' (apt-get install passt)' : ''}`, { cause: r.error });
  if (r.status !== 0) {
    let log = '';
    try {
      log = readFileSync(join(layout.sandbox(def.name), 'pasta.log'), 'utf8');
    } catch {
      /* none */
    }
    const why = (log || r.stderr).split('\n').filter((l) => l && !l.includes('syslog')).slice(-3).join('; ');
    const tun = /tun/i.test(why) && process.getuid?.() !== 0 ? ' (a user\'s pasta needs /dev/net/tun readable and writable: see `moat check`)' : '';
    throw new NetworkError('ERR_NETWORK_HELPER', `pasta exited with status ${r.status}: ${why}${tun}`);
  }
  crashPoint('network:helper-started');
  a.pid = Number(readFileSync(marker, 'utf8').trim()) || undefined;
  if (a.pid) a.pidStart = startTimeOf(a.pid);
  a.addresses = netnsAddresses(pid);
  writeAttachment(layout, def.name, a);
  return a;
}
