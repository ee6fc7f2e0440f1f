// Pure parts of networking: --publish parsing, subnets, the CNI config list, moat's iptables
// rules, the /etc files, and the network options of a sandbox definition.
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, IssueList } from '../../spec/issues.js';
import { defineSandbox } from '../definition.js';
import { buildConfList, pluginStdin } from './cni-config.js';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostsContent, resolvContent, writeSandboxEtc } from './etc-files.js';
import { findHelpers, startTimeOf, stopHelpers } from './helper-process.js';
import { networkRules } from './host-firewall.js';
import { pinNetns } from './netns-pin.js';
import { pastaPortArgs } from './pasta.js';
import { formatPublish, parsePublishList } from './publish.js';
import { formatSubnet, gatewayOf, overlaps, parseRouteDst, parseSubnet, pickFreeSubnet, type Subnet } from './subnet.js';

const host = { cpus: 4, memoryBytes: 8 * 1024 ** 3 };

test('--publish: [IP:]HOSTPORT:CTPORT[/tcp|udp]', () => {
  const issues = new IssueList();
  const m = parsePublishList(['8080:80', '127.0.0.1:2222:22/tcp', '5353:53/udp', '0.0.0.0:9000:9000'], issues);
  assert.deepEqual(issues.items, []);
  assert.deepEqual(m, [
    { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    { hostIP: '127.0.0.1', hostPort: 2222, containerPort: 22, protocol: 'tcp' },
    { hostPort: 5353, containerPort: 53, protocol: 'udp' },
    { hostPort: 9000, containerPort: 9000, protocol: 'tcp' },
  ]);
  assert.deepEqual(m.map(formatPublish), ['0.0.0.0:8080->80/tcp', '127.0.0.1:2222->22/tcp', '0.0.0.0:5353->53/udp', '0.0.0.0:9000->9000/tcp']);
});

test('--publish: each bad value is named by its index', () => {
  const issues = new IssueList();
  parsePublishList(['80', '8080:80/sctp', 'x:1:2', '0:80', '1:65536', '8080:81', '8080:82', '8080:82/udp', '1.2.3.4:8080:80'], issues);
  assert.deepEqual(issues.items.map((i) => [i.path, i.message.replace(/^`[^`]*` /, '')]), [
    ['--publish[0]', 'is not [IP:]HOSTPORT:CTPORT[/tcp|udp]'],
    ['--publish[1]', 'has protocol `sctp`: use tcp or udp'],
    ['--publish[2]', 'has host address `x`: use an IPv4 address'],
    ['--publish[3]', 'has host port `0`: use 1-65535'],
    ['--publish[4]', 'has container port `65536`: use 1-65535'],
    ['--publish[6]', 'host port 8080/tcp is published twice'],
    ['--publish[8]', 'host port 8080/tcp is published twice'],
  ]);
});

test('subnets: parse, overlap, gateway, the next free /24 of 10.129.0.0/16', () => {
  const s = parseSubnet('10.129.0.0/24') as Subnet;
  assert.equal(formatSubnet(s), '10.129.0.0/24');
  assert.equal(gatewayOf(s), '10.129.0.1');
  assert.match(parseSubnet('10.129.0.1/24') as string, /host bits set \(did you mean 10\.129\.0\.0\/24\?\)/);
  assert.match(parseSubnet('10.0.0.0/30') as string, /between \/8 and \/29/);
  assert.match(parseSubnet('300.1.1.0/24') as string, /not an IPv4 CIDR/);
  assert.ok(overlaps(s, parseSubnet('10.128.0.0/9') as Subnet));
  assert.ok(!overlaps(s, parseSubnet('10.129.1.0/24') as Subnet));
  assert.equal(formatSubnet(pickFreeSubnet([s])!), '10.129.1.0/24');
  assert.equal(formatSubnet(pickFreeSubnet([s, parseRouteDst('10.129.1.7')!, parseSubnet('10.129.2.0/23') as Subnet])!), '10.129.4.0/24');
  assert.equal(pickFreeSubnet([parseRouteDst('10.0.0.0/8')!]), undefined);
});

test('the CNI config list: bridge with host-local, portmap, firewall; what each plugin reads', () => {
  const list = buildConfList({ name: 'web', bridge: 'moat1', subnet: parseSubnet('10.129.1.0/24') as Subnet, ipamDir: '/data/networks/ipam' });
  assert.equal(list.cniVersion, '1.0.0');
  assert.deepEqual(list.plugins.map((p) => p.type), ['bridge', 'tuning', 'portmap', 'firewall']);
  assert.deepEqual(list.plugins[0]!.ipam, { type: 'host-local', ranges: [[{ subnet: '10.129.1.0/24', gateway: '10.129.1.1' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: '/data/networks/ipam' });
  assert.equal(list.plugins[0]!.bridge, 'moat1');
  const ports = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' as const }];
  const first = pluginStdin(list, 0, undefined, { portMappings: ports });
  assert.equal(first.prevResult, undefined);
  assert.equal(first.runtimeConfig, undefined, 'the bridge declares no portMappings capability');
  assert.equal(first.name, 'web');
  assert.deepEqual(list.plugins[1]!.sysctl, { 'net.ipv6.conf.eth0.disable_ipv6': '1' });
  const pm = pluginStdin(list, 2, { ips: [] }, { portMappings: ports });
  assert.deepEqual(pm.prevResult, { ips: [] });
  assert.deepEqual(pm.runtimeConfig, { portMappings: ports });
  assert.equal(pluginStdin(list, 2, undefined, { portMappings: [] }).runtimeConfig, undefined);
});

test('host rules: replies only from a bridge to the host; no routing between moat bridges', () => {
  const iso = networkRules({ name: 'moat0', bridge: 'moat0', isolated: true }).map(([c, r]) => `${c} ${r.join(' ')}`);
  assert.deepEqual(iso, [
    'MOAT-INPUT -i moat0 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment moat:moat0 -j ACCEPT',
    'MOAT-INPUT -i moat0 -m comment --comment moat:moat0 -j REJECT --reject-with icmp-port-unreachable',
    'MOAT-FORWARD -i moat0 -o moat+ -m conntrack ! --ctstate DNAT -m comment --comment moat:moat0 -j REJECT --reject-with icmp-port-unreachable',
    'MOAT-FORWARD -i moat0 -d 169.254.0.0/16 -m comment --comment moat:moat0 -j REJECT --reject-with icmp-port-unreachable',
    'MOAT-FORWARD -o moat0 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment moat:moat0 -j ACCEPT',
    'MOAT-FORWARD -o moat0 -m conntrack --ctstate DNAT -m comment --comment moat:moat0 -j ACCEPT',
    'MOAT-FORWARD -o moat0 -m comment --comment moat:moat0 -j REJECT --reject-with icmp-port-unreachable',
  ]);
  const shared = networkRules({ name: 'web', bridge: 'moat1', isolated: false }).map(([c, r]) => `${c} ${r.join(' ')}`);
  const ret = shared.indexOf('MOAT-FORWARD -i moat1 -o moat1 -m comment --comment moat:web -j RETURN');
  assert.ok(ret >= 0 && ret < shared.findIndex((r) => r.includes('-o moat+')));
  // members' own traffic returns before the rule closing the bridge to the rest
  assert.ok(ret < shared.indexOf('MOAT-FORWARD -o moat1 -m comment --comment moat:web -j REJECT --reject-with icmp-port-unreachable'));
});

test('/etc/hosts and resolv.conf of a networked sandbox', () => {
  assert.equal(hostsContent('vs1', '10.129.1.2', [{ name: 'vs2', hostname: 'vs2', address: '10.129.1.3' }, { name: 'db', hostname: 'pg', address: '10.129.1.4' }]),
    '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.129.1.2\tvs1\n10.129.1.3\tvs2\n10.129.1.4\tpg db\n');
  assert.equal(resolvContent('# hi\nnameserver 127.0.0.53\nnameserver ::1\nnameserver 192.0.2.53\nsearch lan\n'), '# hi\nnameserver 192.0.2.53\nsearch lan\n');
  assert.equal(resolvContent('nameserver 127.0.0.1\n', ['10.0.2.3']), 'nameserver 10.0.2.3\n');
});

test('pasta: published ports become -t/-u, and none otherwise (no automatic forwarding)', () => {
  assert.deepEqual(pastaPortArgs([]), ['-t', 'none', '-u', 'none']);
  assert.deepEqual(pastaPortArgs([{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }, { hostIP: '127.0.0.1', hostPort: 53, containerPort: 5353, protocol: 'udp' }]), ['-t', '8080:80', '-u', '127.0.0.1/53:5353']);
});

test('sandbox definitions: network modes and --publish', () => {
  assert.deepEqual(defineSandbox('a', { network: 'bridge', publish: ['8080:80'] }, host).network, { mode: 'bridge', publish: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] });
  assert.equal(defineSandbox('a', { network: 'moat0' }, host).network.mode, 'bridge');
  assert.equal(defineSandbox('a', { network: 'mynet' }, host).network.mode, 'mynet');
  assert.deepEqual(defineSandbox('a', { network: 'pasta' }, host).network, { mode: 'pasta' });
  const bad = (o: object) => {
    try {
      defineSandbox('a', o, host);
    } catch (e) {
      return (e as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
    }
    return [];
  };
  assert.match(bad({ network: 'bad/name' })[0]!, /^--network: `bad\/name` is not a network mode/);
  assert.match(bad({ network: 'none', publish: ['80:80'] })[0]!, /^--publish\[0\]: network `none` has no address/);
  assert.match(bad({ network: 'host', publish: ['80:80'] })[0]!, /^--publish\[0\]: network `host`/);
  assert.match(bad({ network: 'bridge', publish: ['80:80', 'x'] })[0]!, /^--publish\[1\]/);
});

test('writeSandboxEtc: a sandbox whose /etc is a symlink (to a stand-in for the host\'s /etc) is refused, the target untouched', () => {
  const work = mkdtempSync(join(tmpdir(), 'moat-etc-'));
  try {
    const hostEtc = join(work, 'host-etc'); // stands in for the host's /etc, never the real one
    mkdirSync(hostEtc);
    writeFileSync(join(hostEtc, 'hosts'), 'host hosts\n');
    writeFileSync(join(hostEtc, 'resolv.conf'), 'host resolv\n');
    const rootfs = join(work, 'rootfs');
    mkdirSync(rootfs);
    symlinkSync(hostEtc, join(rootfs, 'etc')); // what `rm -rf /etc; ln -s /etc /etc` leaves in an overlay's upper layer
    assert.throws(() => writeSandboxEtc(rootfs, 'new hosts\n', 'new resolv\n'), /etc is a symbolic link .*refusing/);
    assert.equal(readFileSync(join(hostEtc, 'hosts'), 'utf8'), 'host hosts\n');
    assert.equal(readFileSync(join(hostEtc, 'resolv.conf'), 'utf8'), 'host resolv\n');
    assert.deepEqual(readdirSync(hostEtc).sort(), ['hosts', 'resolv.conf']);
    // the same with a real directory: written (so the refusal above is the check, not a failure)
    const rootfs2 = join(work, 'rootfs2');
    mkdirSync(join(rootfs2, 'etc'), { recursive: true });
    symlinkSync(join(hostEtc, 'hosts'), join(rootfs2, 'etc/hosts')); // a link at the file itself is replaced, not followed
    writeSandboxEtc(rootfs2, 'new hosts\n', 'new resolv\n');
    assert.equal(readFileSync(join(rootfs2, 'etc/hosts'), 'utf8'), 'new hosts\n');
    assert.equal(readFileSync(join(rootfs2, 'etc/resolv.conf'), 'utf8'), 'new resolv\n');
    assert.deepEqual(readdirSync(join(rootfs2, 'etc')).sort(), ['hosts', 'resolv.conf']);
    assert.equal(readFileSync(join(hostEtc, 'hosts'), 'utf8'), 'host hosts\n');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('pinNetns refuses a process in the host\'s own network namespace (a reused pid)', () => {
  const work = mkdtempSync(join(tmpdir(), 'moat-pin-'));
  try {
    assert.throws(() => pinNetns(process.pid, join(work, 'pin')), /host's network namespace.*refusing to pin/);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('helpers are signalled only when they are one by name, uid, namespace and recorded start time', async () => {
  const work = mkdtempSync(join(tmpdir(), 'moat-helper-'));
  const marker = join(work, 'slirp.sock');
  const keep = 'setTimeout(() => {}, 60000)';
  symlinkSync(process.execPath, join(work, 'pasta')); // an executable named like a helper
  const helper = spawn(join(work, 'pasta'), ['-e', keep, '--', `--api-socket=${marker}`], { stdio: 'ignore' });
  const other = spawn(process.execPath, ['-e', keep, marker], { stdio: 'ignore' }); // the marker in an unrelated argv
  const exited = (c: typeof helper) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(undefined) : c.once('exit', r)));
  try {
    let start: number | undefined;
    for (let i = 0; i < 200 && !(start = startTimeOf(helper.pid!)); i++) await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 200 && !findHelpers(marker).includes(helper.pid!); i++) await new Promise((r) => setTimeout(r, 10)); // until exec'd
    assert.deepEqual(findHelpers(marker), [helper.pid], 'the scan finds the helper (marker as --api-socket=), not the other process');
    assert.deepEqual(findHelpers(marker, other.pid), [], 'a recorded pid that is not a helper');
    assert.deepEqual(findHelpers(marker, helper.pid, start! + 1), [], 'a recorded pid whose start time differs (reused)');
    await stopHelpers(marker, helper.pid, start! + 1);
    assert.equal(helper.exitCode ?? helper.signalCode, null, 'a reused pid was signalled');
    await stopHelpers(marker, helper.pid, start);
    await exited(helper);
    assert.equal(helper.signalCode, 'SIGTERM');
    await stopHelpers(marker, helper.pid, start); // gone: no ESRCH
    assert.equal(other.exitCode ?? other.signalCode, null, 'the process with the marker in its argv was signalled');
  } finally {
    for (const c of [helper, other]) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  }
});
