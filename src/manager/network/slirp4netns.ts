// `slirp4netns` mode: the older user-mode stack (libslirp) in the host's namespace. The
// sandbox gets 10.0.2.100/24 on tap0, gateway 10.0.2.2, DNS 10.0.2.3; published ports are
// added through its API socket (`add_hostfwd`). `--disable-host-loopback` keeps the sandbox
// off the host's 127.0.0.1; (Not `--enable-sandbox`: run as root in the host's mount namespace it unmounted the host's /run/netns/* mounts here.)
import { spawn } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { SandboxDefinition } from '../definition.js';
import type { Layout } from '../layout.js';
import { crashPoint } from '../crash.js';
import { writeAttachment, type HelperAttachment } from './attachment.js';
import { NetworkError } from './errors.js';
import { netnsAddresses, startTimeOf } from './helper-process.js';
import type { PortMapping } from './publish.js';

/** The sandbox's address in slirp4netns's default network. */
export const SLIRP_ADDRESS = '10.0.2.100';
/** The DNS forwarder slirp4netns offers. */
export const SLIRP_DNS = '10.0.2.3';

/** One request on the API socket; resolves with the reply. */
function slirpApi(socket: string, request: object): Promise<{ return?: unknown; error?: { desc?: string } }> {
  return new Promise((resolve, reject) => {
    const c = connect(socket);
    let buf = '';
    c.on('connect', () => c.end(JSON.stringify(request)));
    c.on('data', (d) => (buf += d.toString()));
    c.on('error', reject);
    c.on('close', () => {
      try {
        resolve(JSON.parse(buf));
      } catch {
        reject(new Error(`bad reply \`${buf.slice(0, 100)}\``));
      }
    });
  });
}

/** Starts slirp4netns for the sandbox whose first process is `pid`, waits until it has
 * configured the sandbox's tap0, and adds the published ports. */
export async function startSlirp(layout: Layout, def: SandboxDefinition, pid: number, publish: PortMapping[]): Promise<HelperAttachment> {
  const marker = join(layout.sandbox(def.name), 'slirp.sock');
  const a: HelperAttachment = { kind: 'slirp4netns', marker, publish };
  writeAttachment(layout, def.name, a); // before the helper exists
  rmSync(marker, { force: true });
  const log = openSync(join(layout.sandbox(def.name), 'slirp4netns.log'), 'a', 0o600);
  const args = ['--configure', '--mtu=65520', '--disable-host-loopback', '--enable-seccomp', '--ready-fd=3', `--api-socket=${marker}`, String(pid), 'tap0'];
  let child;
  try {
    child = spawn('slirp4netns', args, { detached: true, stdio: ['ignore', log, log, 'pipe'] });
  } finally {
    closeSync(log);
  }
  const ready = await new Promise<string | undefined>((resolve) => {
    const pipe = child.stdio[3] as NodeJS.ReadableStream;
    pipe.once('data', () => resolve(undefined));
    child.once('error', (e) => resolve(`${e.message}${(e as NodeJS.ErrnoException).code === 'ENOENT' ? ' (apt-get install slirp4netns)' : ''}`));
    child.once('exit', (code, sig) => resolve(`exited (${sig ?? code}); see ${join(layout.sandbox(def.name), 'slirp4netns.log')}`));
  });
  (child.stdio[3] as NodeJS.ReadableStream & { destroy(): void }).destroy();
  child.removeAllListeners();
  child.unref();
  crashPoint('network:helper-started');
  if (child.pid) {
    a.pid = child.pid;
    a.pidStart = startTimeOf(child.pid);
    writeAttachment(layout, def.name, a);
  }
  if (ready) throw new NetworkError('ERR_NETWORK_HELPER', `start slirp4netns: ${ready}`);
  for (const p of publish) {
    const r = await slirpApi(marker, { execute: 'add_hostfwd', arguments: { proto: p.protocol, host_addr: p.hostIP ?? '0.0.0.0', host_port: p.hostPort, guest_addr: SLIRP_ADDRESS, guest_port: p.containerPort } }).catch((e: Error) => ({ error: { desc: e.message } }));
    if (r.error) throw new NetworkError('ERR_NETWORK_HELPER', `slirp4netns: publish ${p.hostPort}/${p.protocol}: ${r.error.desc ?? JSON.stringify(r.error)}`);
  }
  a.addresses = netnsAddresses(pid);
  writeAttachment(layout, def.name, a);
  return a;
}
