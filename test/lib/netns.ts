// Network namespaces for networking tests: a "host" namespace where moat runs (never the
// root namespace) and an "outside" one joined to it by a veth pair, like another machine on
// the host's LAN. Both are deleted by cleanup(), which tests call also when they fail.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The host's address on the link to outside, and outside's. */
export const HOST_ADDR = '198.18.0.1';
export const OUTSIDE_ADDR = '198.18.0.2';

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A host/outside pair of network namespaces. */
export class TestNetns {
  readonly host: string;
  readonly outside: string;
  private procs: ChildProcess[] = [];

  constructor() {
    const id = `mt${process.pid}${randomBytes(2).toString('hex')}`;
    this.host = `${id}h`;
    this.outside = `${id}o`;
    try {
      sh('ip', ['netns', 'add', this.host]);
      sh('ip', ['netns', 'add', this.outside]);
      // the veth is made inside the host namespace, its peer moved straight to outside
      this.inHost('ip', ['link', 'add', 'uplink0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.outside]);
      for (const [ns, dev, addr] of [[this.host, 'uplink0', HOST_ADDR], [this.outside, 'eth0', OUTSIDE_ADDR]] as const) {
        this.run(ns, 'ip', ['link', 'set', 'lo', 'up']);
        this.run(ns, 'ip', ['link', 'set', dev, 'up']);
        this.run(ns, 'ip', ['addr', 'add', `${addr}/24`, 'dev', dev]);
      }
      // pasta needs a default route to find the host's "external" interface
      this.inHost('ip', ['route', 'add', 'default', 'via', OUTSIDE_ADDR]);
    } catch (e) {
      this.cleanup();
      throw e;
    }
  }

  /** The nsenter prefix that runs a command in namespace `ns`. */
  wrap(ns: string): string[] {
    return ['nsenter', `--net=/run/netns/${ns}`];
  }

  run(ns: string, cmd: string, args: string[]): string {
    return sh('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args]);
  }
  inHost(cmd: string, args: string[]): string {
    return this.run(this.host, cmd, args);
  }
  inOutside(cmd: string, args: string[]): string {
    return this.run(this.outside, cmd, args);
  }

  /** Runs a command in `ns`; returns its exit code and output (never throws). */
  try(ns: string, cmd: string, args: string[], timeoutMs = 20_000): { code: number; out: string } {
    try {
      return { code: 0, out: execFileSync('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs }) };
    } catch (e) {
      const x = e as { status?: number; stdout?: string; stderr?: string };
      return { code: x.status ?? -1, out: `${x.stdout ?? ''}${x.stderr ?? ''}` };
    }
  }

  /** Starts a long-running process in `ns` (stopped by cleanup, by its pid). */
  spawnIn(ns: string, cmd: string, args: string[]): ChildProcess {
    const p = spawn('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args], { stdio: 'ignore' });
    this.procs.push(p);
    return p;
  }

  /** iptables-save of the host namespace without its comments and counters. */
  iptablesSave(): string[] {
    const lines = (out: string) => out.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/, ''));
    const v6 = existsSync('/usr/sbin/ip6tables-save') ? lines(this.inHost('ip6tables-save', [])).filter((l) => !PLUGIN_GLOBAL.test(l)).map((l) => `ip6 ${l}`) : [];
    return [...lines(this.inHost('iptables-save', [])), ...v6];
  }

  /** Names of the host namespace's links. */
  links(): string[] {
    return (JSON.parse(this.inHost('ip', ['-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);
  }

  cleanup(): void {
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    for (const ns of [this.host, this.outside]) {
      if (!existsSync(`/run/netns/${ns}`)) continue;
      try {
        sh('ip', ['netns', 'del', ns]);
      } catch {
        /* reported by the leftover check of the next run */
      }
    }
  }
}

/** Chains the CNI plugins make once per namespace and leave, empty, for every other CNI user
 * (podman, ...): `firewall`'s CNI-FORWARD/CNI-ADMIN and `portmap`'s CNI-HOSTPORT-*. */
const PLUGIN_GLOBAL = /CNI-FORWARD|CNI-ADMIN|CNI-HOSTPORT-(DNAT|MASQ|SETMARK)|^\*|^COMMIT|^:(INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) /;

/** Pids of processes whose command line mentions `text`. */
export function processesMentioning(text: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text);
    } catch {
      return false;
    }
  });
}

/** Asserts that moat left nothing of its networking in the host namespace and data dir: no
 * link but the test's, no iptables rule but the plugins' global chains, no IPAM state, no
 * namespace pin, no helper process. */
export function assertNetworkClean(net: TestNetns, data: string, iptBefore: string[]): void {
  assert.deepEqual(net.links().sort(), ['lo', 'uplink0'], 'links left in the host namespace');
  const added = net.iptablesSave().filter((l) => !iptBefore.includes(l) && !PLUGIN_GLOBAL.test(l));
  assert.deepEqual(added, [], 'iptables rules left');
  const ipam = join(data, 'networks', 'ipam');
  assert.deepEqual(existsSync(ipam) ? readdirSync(ipam) : [], [], 'IPAM state (leases) left');
  const pins = join(data, 'netns');
  assert.deepEqual(existsSync(pins) ? readdirSync(pins) : [], [], 'namespace pins left');
  assert.deepEqual(processesMentioning(data), [], 'helper processes left');
}
