// The seed-000 flow with real networking: sandboxes vs1 and vs2 each serve HTTP (busybox
// httpd) and ssh (dropbear from the host's /usr), published on distinct host ports; a client
// in an "outside" namespace fetches both pages and completes both ssh handshakes; sandboxes on
// moat0 cannot reach each other, on a shared user network they can (by name), `--isolated`
// stops it again; no sandbox reaches the host's own services. moat runs inside a "host"
// namespace the test makes (never the root one); everything is torn down and checked.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasBinary, isRoot, removeTree } from '../lib/bundle.js';
import { assertSandboxGone, MoatScratch, waitFor } from '../lib/moat.js';
import { assertNetworkClean, HOST_ADDR, OUTSIDE_ADDR, TestNetns } from '../lib/netns.js';

const need = ['iptables', 'bridge', 'nsenter', 'dropbear', 'dbclient', 'dropbearkey'].filter((b) => !hasBinary(b));
const skip = !isRoot() ? 'networking tests need root' : need.length ? `needs ${need.join(', ')} (apt-get install iptables dropbear-bin)` : !existsSync('/usr/lib/cni/bridge') ? 'needs the CNI plugins (apt-get install containernetworking-plugins)' : false;

/** The server script both sandboxes run (as root): a page naming the sandbox, a CGI that
 * prints the client's address, and a user `web` whose key is the test's. dropbear is then run
 * as `web` by `moat exec -u` (sandboxes keep no CAP_SETUID/CAP_SETGID, so a root dropbear
 * could not switch to the logged-in user; one running as that user need not). */
const SERVE = `set -e
mkdir -p /tmp/www/cgi-bin /home/web/.ssh
grep -q '^web:' /etc/passwd || echo 'web:x:1000:1000:web:/home/web:/bin/sh' >> /etc/passwd
cp /keys/authorized_keys /home/web/.ssh/authorized_keys
echo "page of $(hostname)" > /tmp/www/index.html
printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho "$REMOTE_ADDR"\\n' > /tmp/www/cgi-bin/ip
chmod 755 /tmp/www/cgi-bin/ip
exec busybox httpd -f -p 80 -h /tmp/www
`;

const HTTPD = ['sh', '-c', 'mkdir -p /tmp/www && echo "page of $(hostname)" > /tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www'];

describe('moat networking: the seed-000 flow', { skip }, () => {
  let net: TestNetns;
  let s: MoatScratch;
  let keys: string;
  const addr: Record<string, string> = {};

  const address = async (name: string) => {
    const r = JSON.parse(await s.ok(['inspect', '--json', name])) as { network: { addresses: string[] } };
    return r.network.addresses[0]!.split('/')[0]!;
  };
  const fetchFrom = (ns: string, url: string) => net.try(ns, 'busybox', ['wget', '-qO-', url]) // (not -T: busybox 1.35's wget crashes with it);
  /** TCP connect from inside a sandbox (busybox nc, 3 s timeout): true if it connected. */
  const connects = async (from: string, host: string, port: number) => (await s.moat(['exec', from, '--', 'busybox', 'nc', '-w', '3', host, String(port)], { input: '' })).code === 0;
  const ssh = (port: number) =>
    net.try(net.outside, 'env', [`HOME=${keys}`, 'dbclient', '-y', '-i', join(keys, 'id'), '-p', String(port), `web@${HOST_ADDR}`, 'echo', 'ssh-ok']);

  let iptBefore: string[];
  before(async () => {
    net = new TestNetns();
    s = new MoatScratch(net.wrap(net.host));
    iptBefore = net.iptablesSave();
    keys = mkdtempSync(join(tmpdir(), 'moat-keys-'));
    chmodSync(keys, 0o755);
    for (const k of ['id', 'hostkey']) execFileSync('dropbearkey', ['-t', 'ed25519', '-f', join(keys, k)], { stdio: 'ignore' });
    chmodSync(join(keys, 'hostkey'), 0o644); // readable by the sandbox's user
    const pub = execFileSync('dropbearkey', ['-y', '-f', join(keys, 'id')], { encoding: 'utf8' }).split('\n').find((l) => l.startsWith('ssh-'))!;
    writeFileSync(join(keys, 'authorized_keys'), pub + '\n', { mode: 0o644 });
    writeFileSync(join(keys, 'serve.sh'), SERVE, { mode: 0o644 });
    for (const [name, web, sshPort] of [['vs1', 8081, 2201], ['vs2', 8082, 2202]] as const) {
      await s.ok(['create', name, '--network', 'bridge', '-p', `${web}:80`, '--publish', `${sshPort}:2222/tcp`, '-v', `${keys}:/keys:ro`, '--', 'sh', '/keys/serve.sh']);
      await s.ok(['start', name]);
      await waitFor(async () => (await s.moat(['exec', name, '--', 'grep', '-q', '^web:', '/etc/passwd'])).code === 0, 10_000, `${name} set up`);
      // dropbear daemonises: exec returns, it stays in the sandbox
      await s.ok(['exec', '-u', '1000:1000', name, '--', 'dropbear', '-r', '/keys/hostkey', '-p', '2222', '-P', '/tmp/dropbear.pid']);
      addr[name] = await address(name);
    }
    await waitFor(() => fetchFrom(net.outside, `http://${HOST_ADDR}:8081/`).code === 0 && fetchFrom(net.outside, `http://${HOST_ADDR}:8082/`).code === 0, 20_000, 'both web servers answer');
  });
  after(async () => {
    try {
      await s?.cleanup();
    } finally {
      net?.cleanup();
      if (keys) removeTree(keys);
    }
  });

  test('outside fetches both pages through the published ports', () => {
    assert.equal(fetchFrom(net.outside, `http://${HOST_ADDR}:8081/`).out, 'page of vs1\n');
    assert.equal(fetchFrom(net.outside, `http://${HOST_ADDR}:8082/`).out, 'page of vs2\n');
  });

  test('outside completes an ssh handshake with each sandbox', async () => {
    for (const port of [2201, 2202]) {
      let r = ssh(port);
      await waitFor(() => (r = ssh(port)).code === 0, 15_000, `ssh on ${port}`).catch(() => assert.fail(`ssh to ${port} failed: ${r.out}`));
      assert.match(r.out, /ssh-ok/);
    }
  });

  test('the server sees the outside client\'s own address (no SNAT)', () => {
    const r = fetchFrom(net.outside, `http://${HOST_ADDR}:8082/cgi-bin/ip`);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`\\b${OUTSIDE_ADDR.replace(/\./g, '\\.')}\\b`));
  });

  test('published ports are reachable from the host itself', () => {
    assert.equal(fetchFrom(net.host, `http://${HOST_ADDR}:8081/`).out, 'page of vs1\n');
    assert.equal(fetchFrom(net.host, `http://127.0.0.1:8082/`).out, 'page of vs2\n');
  });

  test('sandboxes get their own address, hostname and /etc/hosts', async () => {
    assert.match(addr.vs1!, /^10\.129\.0\.\d+$/);
    assert.notEqual(addr.vs1, addr.vs2);
    const hosts = await s.ok(['exec', 'vs1', '--', 'cat', '/etc/hosts']);
    assert.match(hosts, new RegExp(`^${addr.vs1!.replace(/\./g, '\\.')}\\s+vs1$`, 'm'));
    assert.doesNotMatch(hosts, /vs2/, 'moat0 members are not listed to each other');
    assert.equal((await s.ok(['exec', 'vs1', '--', 'hostname'])).trim(), 'vs1');
    // IPv4 only (moat's host rules are IPv4): not even a link-local IPv6 address
    assert.doesNotMatch(await s.ok(['exec', 'vs1', '--', 'ip', '-6', 'addr', 'show', 'dev', 'eth0']), /inet6/);
    const text = await s.ok(['inspect', 'vs1']);
    assert.match(text, new RegExp(`address:\\s+${addr.vs1!.replace(/\./g, '\\.')}/24 \\(gateway 10\\.129\\.0\\.1`));
    assert.match(text, /ports:\s+0\.0\.0\.0:8081->80\/tcp 0\.0\.0\.0:2201->2222\/tcp/);
    assert.match(text, /\[active\] network: bridge: .*\n\s+observed: CNI CHECK: passed \(portmap not checked/);
  });

  test('on moat0, vs1 cannot open a TCP connection to vs2 (bridge port isolation)', async () => {
    assert.ok(await connects('vs1', addr.vs1!, 80), 'control: vs1 reaches its own address');
    assert.ok(!(await connects('vs1', addr.vs2!, 80)), 'vs1 reached vs2 on moat0');
    assert.ok(!(await connects('vs2', addr.vs1!, 2222)), 'vs2 reached vs1 on moat0');
    // which layer stops it (in the test's namespace): with br_netfilter loaded, bridged
    // frames also pass iptables FORWARD, where MOAT-FORWARD refuses them too; without that
    // chain port isolation alone still stops vs1, and without both it connects
    const veth = (JSON.parse(await s.ok(['inspect', '--json', 'vs2'])) as { network: { hostInterface: string } }).network.hostInterface;
    net.inHost('iptables', ['-w', '-D', 'FORWARD', '-j', 'MOAT-FORWARD']);
    try {
      assert.ok(!(await connects('vs1', addr.vs2!, 80)), 'port isolation alone did not stop vs1');
      net.inHost('bridge', ['link', 'set', 'dev', veth, 'isolated', 'off']);
      try {
        assert.ok(await connects('vs1', addr.vs2!, 80), 'without port isolation and MOAT-FORWARD vs1 reaches vs2');
      } finally {
        net.inHost('bridge', ['link', 'set', 'dev', veth, 'isolated', 'on']);
      }
    } finally {
      net.inHost('iptables', ['-w', '-I', 'FORWARD', '1', '-j', 'MOAT-FORWARD']);
    }
  });

  test('on moat0, routing through the gateway does not connect vs1 and vs2 either (MOAT-FORWARD)', async () => {
    // what sandboxes holding CAP_NET_ADMIN could do (one would suffice for one-way UDP): the
    // test routes each to the other through the gateway, from outside
    const pids = JSON.parse(await s.ok(['list', '--json'])) as { name: string; pid?: number }[];
    const inNs = (name: string, args: string[]) => execFileSync('nsenter', [`--net=/proc/${pids.find((x) => x.name === name)!.pid}/ns/net`, ...args], { stdio: 'ignore' });
    const routedConnect = () => {
      try {
        inNs('vs1', ['busybox', 'nc', '-w', '3', addr.vs2!, '80']);
        return true;
      } catch {
        return false;
      }
    };
    inNs('vs1', ['ip', 'route', 'add', `${addr.vs2}/32`, 'via', '10.129.0.1']);
    inNs('vs2', ['ip', 'route', 'add', `${addr.vs1}/32`, 'via', '10.129.0.1']);
    try {
      assert.ok(!routedConnect(), 'vs1 reached vs2 routed through the host');
      // the same with moat's FORWARD chain unhooked (in the test's namespace): it connects
      net.inHost('iptables', ['-w', '-D', 'FORWARD', '-j', 'MOAT-FORWARD']);
      try {
        assert.ok(routedConnect(), 'without MOAT-FORWARD the routed path is open');
      } finally {
        net.inHost('iptables', ['-w', '-I', 'FORWARD', '1', '-j', 'MOAT-FORWARD']);
      }
    } finally {
      inNs('vs1', ['ip', 'route', 'del', `${addr.vs2}/32`]);
      inNs('vs2', ['ip', 'route', 'del', `${addr.vs1}/32`]);
    }
  });

  test('no sandbox reaches the host\'s own services; without moat\'s INPUT rules it would', async () => {
    const listener = net.spawnIn(net.host, 'busybox', ['nc', '-ll', '-p', '9999', '-e', 'echo', 'host-service']);
    try {
      await waitFor(() => net.try(net.host, 'busybox', ['nc', '-w', '2', '127.0.0.1', '9999']).code === 0, 10_000, 'the host listener');
      assert.equal(net.try(net.outside, 'busybox', ['nc', '-w', '2', HOST_ADDR, '9999']).code, 0, 'control: outside reaches it');
      for (const target of ['10.129.0.1', HOST_ADDR]) assert.ok(!(await connects('vs1', target, 9999)), `vs1 reached the host's service at ${target}`);
      // the same with moat's rules unhooked (in the test's own namespace): it connects
      net.inHost('iptables', ['-w', '-D', 'INPUT', '-j', 'MOAT-INPUT']);
      try {
        assert.ok(await connects('vs1', '10.129.0.1', 9999), 'without MOAT-INPUT the sandbox reaches the host');
      } finally {
        net.inHost('iptables', ['-w', '-I', 'INPUT', '1', '-j', 'MOAT-INPUT']);
      }
    } finally {
      listener.kill('SIGKILL');
    }
  });

  test('a neighbour routing to the sandbox subnet through the host reaches only published ports; without moat\'s rules it would reach the rest', () => {
    const subnet = '10.129.0.0/16';
    net.inOutside('ip', ['route', 'add', subnet, 'via', HOST_ADDR]);
    const forwarding = net.inHost('sysctl', ['-n', 'net.ipv4.ip_forward']).trim();
    net.inHost('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    try {
      const tcp = (host: string, port: number) => net.try(net.outside, 'busybox', ['nc', '-w', '3', host, String(port)], 10_000).code === 0;
      assert.ok(tcp(HOST_ADDR, 8081), 'control: the published port answers');
      if (existsSync('/usr/sbin/ip6tables')) {
        const v6 = net.inHost('ip6tables', ['-w', '-S', 'MOAT-FORWARD']);
        for (const dir of ['-i', '-o']) assert.match(v6, new RegExp(`-A MOAT-FORWARD ${dir} moat0 .*-j DROP`), `IPv6 ${dir} moat0 dropped`);
      }
      assert.ok(!tcp(addr.vs1!, 80), 'the unpublished (direct) port 80 of vs1 answered the neighbour');
      assert.ok(!tcp(addr.vs2!, 2222), 'the unpublished (direct) port 2222 of vs2 answered the neighbour');
      // the same with moat's FORWARD chain unhooked (in the test's own namespace): it connects
      net.inHost('iptables', ['-w', '-D', 'FORWARD', '-j', 'MOAT-FORWARD']);
      try {
        assert.ok(tcp(addr.vs1!, 80), 'without MOAT-FORWARD the neighbour reaches the unpublished port');
      } finally {
        net.inHost('iptables', ['-w', '-I', 'FORWARD', '1', '-j', 'MOAT-FORWARD']);
      }
    } finally {
      net.inHost('sysctl', ['-qw', `net.ipv4.ip_forward=${forwarding}`]);
      net.inOutside('ip', ['route', 'del', subnet, 'via', HOST_ADDR]);
    }
  });

  test('a host port can be published once; bad --publish values name the field', async () => {
    await s.ok(['create', 'dup', '--template', 'busybox', '--network', 'bridge', '-p', '8081:80']);
    const r = await s.moat(['start', 'dup']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /host port 8081\/tcp is already published by sandbox `vs1`/);
    await s.ok(['delete', 'dup']);
    assertSandboxGone(s, 'dup');
    const bad = await s.moat(['create', 'bad', '--network', 'bridge', '-p', '80:80', '-p', '1.2.3:70000:80/sctp']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--publish\[1\]/);
    const none = await s.moat(['create', 'bad', '--network', 'none', '-p', '80:80']);
    assert.match(none.stderr, /--publish\[0\].*no address/);
    const missing = await s.moat(['create', 'bad', '--network', 'nosuchnet']);
    assert.match(missing.stderr, /--network.*`nosuchnet` does not exist/);
    assert.ok(!s.sandboxDirs().includes('bad'));
  });

  test('on a shared user network members reach each other by name; --isolated stops it', async () => {
    await s.ok(['network', 'create', 'shared']);
    await s.ok(['network', 'create', 'iso', '--isolated', '--subnet', '10.130.7.0/24']);
    const nets = JSON.parse(await s.ok(['network', 'ls', '--json'])) as { name: string; subnet: string; isolated: boolean }[];
    assert.deepEqual(nets.map((n) => [n.name, n.subnet, n.isolated]), [['moat0', '10.129.0.0/24', true], ['iso', '10.130.7.0/24', true], ['shared', '10.129.1.0/24', false]]);
    for (const [n, network] of [['u1', 'shared'], ['u2', 'shared'], ['i1', 'iso'], ['i2', 'iso']] as const) {
      await s.ok(['create', n, '--template', 'busybox', '--network', network, '--', ...HTTPD]);
      await s.ok(['start', n]);
    }
    const i2 = await address('i2');
    assert.match(i2, /^10\.130\.7\./);
    await waitFor(async () => (await s.moat(['exec', 'u2', '--', 'nc', '-w', '2', '127.0.0.1', '80'], { input: '' })).code === 0, 10_000, 'u2 serves');
    await waitFor(async () => (await s.moat(['exec', 'i2', '--', 'nc', '-w', '2', '127.0.0.1', '80'], { input: '' })).code === 0, 10_000, 'i2 serves');
    assert.match(await s.ok(['exec', 'u1', '--', 'cat', '/etc/hosts']), /\bu2$/m);
    assert.ok(await connects('u1', 'u2', 80), 'u1 reaches u2 by name on a shared network');
    assert.ok(!(await connects('i1', i2, 80)), 'i1 reached i2 on an --isolated network');
    assert.ok(!(await connects('u1', addr.vs1!, 80)), 'u1 reached vs1 on another network');
    const info = JSON.parse(await s.ok(['network', 'inspect', 'shared'])) as { bridge: string; confList: { plugins: { type: string }[] }; attached: { sandbox: string; addresses: string[] }[] };
    assert.equal(info.bridge, 'moat1');
    assert.deepEqual(info.confList.plugins.map((p) => p.type), ['bridge', 'tuning', 'portmap', 'firewall']);
    assert.deepEqual(info.attached.map((m) => m.sandbox), ['u1', 'u2']);
    const rm = await s.moat(['network', 'rm', 'shared']);
    assert.match(rm.stderr, /used by sandboxes `u1`, `u2`/);
    for (const n of ['u1', 'u2', 'i1', 'i2']) await s.ok(['delete', '--force', n]);
    await s.ok(['network', 'rm', 'shared']);
    await s.ok(['network', 'rm', 'iso']);
    assert.ok(!net.links().some((l) => l === 'moat1' || l === 'moat2'), 'user network bridges removed');
  });

  test('run --rm on moat0: an address while the command runs, nothing after', async () => {
    const out = await s.ok(['run', '--rm', '--name', 'once', '--network', 'bridge', '-p', '8099:80', '--template', 'busybox', '--', 'sh', '-c', 'ip -4 -o addr show dev eth0; cat /etc/resolv.conf >/dev/null']);
    assert.match(out, /inet 10\.129\.0\.\d+\/24/);
    assertSandboxGone(s, 'once');
    assert.equal(fetchFrom(net.outside, `http://${HOST_ADDR}:8099/`).code !== 0, true);
  });

  for (const [mode, port] of [['pasta', 18080], ['slirp4netns', 18081]] as const) {
    test(`${mode}: a published port is reachable from the host namespace`, { skip: hasBinary(mode) ? false : `needs ${mode}` }, async () => {
      const name = `um-${mode}`;
      await s.ok(['create', name, '--template', 'busybox', '--network', mode, '-p', `${port}:80`, '--', ...HTTPD]);
      await s.ok(['start', name]);
      await waitFor(() => fetchFrom(net.host, `http://127.0.0.1:${port}/`).code === 0, 15_000, `${mode} forwards ${port}`);
      assert.equal(fetchFrom(net.host, `http://127.0.0.1:${port}/`).out, `page of ${name}\n`);
      await s.ok(['delete', '--force', name]);
      assertSandboxGone(s, name);
      assert.equal(fetchFrom(net.host, `http://127.0.0.1:${port}/`).code !== 0, true, 'the forward went with the sandbox');
      assert.ok(!readdirSync('/proc').some((p) => /^\d+$/.test(p) && cmdline(Number(p)).includes(s.data)), `a ${mode} process of the sandbox is left`);
    });
  }

  test('teardown leaves no veth, rule, lease, pin or namespace mount', async () => {
    for (const n of ['vs1', 'vs2']) await s.ok(['delete', '--force', n]);
    for (const n of ['vs1', 'vs2']) assertSandboxGone(s, n);
    assertNetworkClean(net, s.data, iptBefore);
  });
});

/** A one-layer OCI image layout of busybox-static (sh, rm, ln, sleep, ...) in `dir`. */
function busyboxImage(work: string, dir: string): void {
  const l = join(work, 'layer');
  for (const d of ['bin', 'etc', 'tmp']) mkdirSync(join(l, d), { recursive: true });
  copyFileSync('/bin/busybox', join(l, 'bin/busybox'));
  chmodSync(join(l, 'bin/busybox'), 0o755);
  for (const a of ['sh', 'rm', 'ln', 'sleep', 'cat', 'ls', 'readlink']) symlinkSync('busybox', join(l, 'bin', a));
  writeFileSync(join(l, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
  const blob = (data: Buffer, mediaType: string) => {
    const hex = createHash('sha256').update(data).digest('hex');
    writeFileSync(join(dir, 'blobs/sha256', hex), data);
    return { mediaType, digest: `sha256:${hex}`, size: data.length };
  };
  const layer = blob(execFileSync('tar', ['-C', l, '--owner=0', '--group=0', '--numeric-owner', '--sort=name', '-cf', '-', '.'], { maxBuffer: 64 << 20 }), 'application/vnd.oci.image.layer.v1.tar');
  const config = blob(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'], Env: ['PATH=/bin'] }, rootfs: { type: 'layers', diff_ids: [] } })), 'application/vnd.oci.image.config.v1+json');
  const manifest = blob(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [layer] })), 'application/vnd.oci.image.manifest.v1+json');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [manifest] }));
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
}

describe('moat networking: a sandbox that replaced its /etc by a link', { skip }, () => {
  test('an overlay (oci:) sandbox links /etc to a stand-in for the host\'s /etc: the next start refuses, the target is untouched', async () => {
    const net = new TestNetns();
    const s = new MoatScratch(net.wrap(net.host));
    const work = mkdtempSync(join(tmpdir(), 'moat-etclink-'));
    try {
      const image = join(work, 'image');
      mkdirSync(image);
      busyboxImage(work, image);
      const hostEtc = join(work, 'host-etc'); // stands in for the host's /etc: NEVER the real one
      mkdirSync(hostEtc);
      writeFileSync(join(hostEtc, 'hosts'), 'the host\'s hosts\n');
      writeFileSync(join(hostEtc, 'resolv.conf'), 'the host\'s resolv.conf\n');
      await s.ok(['create', 'ev', '--template', `oci:${image}`, '--network', 'bridge', '--', 'sleep', '1000']);
      await s.ok(['start', 'ev']);
      await s.ok(['exec', 'ev', '--', 'sh', '-c', `rm -rf /etc && ln -s ${hostEtc} /etc && readlink /etc`]);
      assert.ok(lstatSync(join(s.data, 'sandboxes/ev/rootfs/etc')).isSymbolicLink(), 'the sandbox\'s upper layer holds the link');
      await s.ok(['stop', 'ev']);
      // the start's attach refreshes the network's hosts files: this member's is skipped
      // with a warning naming the link (the sandbox runs, with the files it has)
      const r = await s.moat(['start', 'ev']);
      assert.match(r.stderr, /not refreshing \/etc\/hosts of `ev`: .*etc is a symbolic link .*refusing to write \/etc\/hosts/, `start: exit ${r.code}, stderr: ${r.stderr}`);
      assert.equal(readFileSync(join(hostEtc, 'hosts'), 'utf8'), 'the host\'s hosts\n');
      assert.equal(readFileSync(join(hostEtc, 'resolv.conf'), 'utf8'), 'the host\'s resolv.conf\n');
      assert.deepEqual(readdirSync(hostEtc).sort(), ['hosts', 'resolv.conf']);
      await s.ok(['delete', '--force', 'ev']);
      assertSandboxGone(s, 'ev');
    } finally {
      try {
        await s.cleanup();
      } finally {
        net.cleanup();
        removeTree(work);
      }
    }
  });
});

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}
