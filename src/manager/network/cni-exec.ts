// Runs one CNI plugin as the CNI spec says: CNI_* variables in the environment, the config
// on stdin, a result (or an error object) on stdout.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { NetworkError } from './errors.js';

/** Where the plugins are looked for: $MOAT_CNI_PATH, then Debian's and the upstream dir. */
export function cniPath(): string[] {
  return (process.env.MOAT_CNI_PATH ?? '/usr/lib/cni:/opt/cni/bin').split(':').filter(Boolean);
}

/** The directory holding plugin `type`, or a NetworkError saying how to get it. */
export function findPlugin(type: string): string {
  for (const d of cniPath()) {
    try {
      accessSync(join(d, type), constants.X_OK);
      return d;
    } catch {
      /* next dir */
    }
  }
  throw new NetworkError('ERR_NETWORK_HOST', `CNI plugin \`${type}\` not found in ${cniPath().join(':')}: apt-get install containernetworking-plugins`);
}

/** The runtime arguments of one invocation. */
export interface CniRuntime {
  containerId: string;
  /** path of the sandbox's network namespace ('' once it is gone: DEL only) */
  netns: string;
  ifname: string;
}

/** Runs `type` with `command` (ADD, DEL, CHECK); returns the parsed result (ADD) or undefined. */
export function execCniPlugin(type: string, command: 'ADD' | 'DEL' | 'CHECK', rt: CniRuntime, conf: Record<string, unknown>): unknown {
  const dir = findPlugin(type);
  const env: Record<string, string> = {
    PATH: process.env.PATH?.includes('/sbin') ? process.env.PATH : `/usr/local/sbin:/usr/sbin:/sbin:${process.env.PATH ?? '/usr/bin:/bin'}`,
    CNI_COMMAND: command,
    CNI_CONTAINERID: rt.containerId,
    CNI_NETNS: rt.netns,
    CNI_IFNAME: rt.ifname,
    CNI_PATH: cniPath().join(':'),
  };
  const r = spawnSync(join(dir, type), [], { env, input: JSON.stringify(conf), encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new NetworkError('ERR_NETWORK_CNI', `CNI ${command} \`${type}\`: ${r.error.message}`, { cause: r.error });
  if (r.status !== 0) {
    let msg = (r.stderr || r.stdout || '').trim();
    try {
      const e = JSON.parse(r.stdout) as { code?: number; msg?: string; details?: string };
      msg = `${e.msg ?? 'failed'}${e.details ? `: ${e.details}` : ''} (code ${e.code})`;
    } catch {
      /* not JSON: keep the raw text */
    }
    throw new NetworkError('ERR_NETWORK_CNI', `CNI ${command} \`${type}\`: ${msg || `exit status ${r.status}`}`);
  }
  if (command !== 'ADD') return undefined;
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new NetworkError('ERR_NETWORK_CNI', `CNI ADD \`${type}\`: result is not JSON: ${r.stdout.slice(0, 200)}`);
  }
}
