// Crash safety of networking: `moat` SIGKILLed in the middle of joining a network (after the
// bridge plugin made the veth and took a lease, before the rest of the chain), or after a
// user-mode helper started but before its pid was recorded, leaves a record that the next
// command (start, stop, delete) uses to remove everything; a sandbox whose processes all died
// behind moat's back is torn down as well (its namespace is pinned). Runs in a test-made
// namespace, like moat-network.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { hasBinary, isRoot } from '../lib/bundle.js';
import { assertSandboxGone, MoatScratch, waitFor } from '../lib/moat.js';
import { assertNetworkClean, processesMentioning, TestNetns } from '../lib/netns.js';

const skip = !isRoot() ? 'networking tests need root' : !hasBinary('iptables') || !existsSync('/usr/lib/cni/bridge') ? 'needs iptables and containernetworking-plugins' : false;

const crashAt = (point: string) => ({ env: { MOAT_TEST_CRASH_AT: point } });
const HTTPD = ['sh', '-c', 'mkdir -p /tmp/www && echo "page of $(hostname)" > /tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www'];

describe('moat networking: crash safety', { skip }, () => {
  let net: TestNetns;
  let s: MoatScratch;
  let iptBefore: string[];
  before(() => {
    net = new TestNetns();
    s = new MoatScratch(net.wrap(net.host));
    iptBefore = net.iptablesSave();
  });
  after(async () => {
    try {
      await s?.cleanup();
    } finally {
      net?.cleanup();
    }
  });

  const leases = () => {
    const d = join(s.data, 'networks', 'ipam', 'moat0');
    return existsSync(d) ? readdirSync(d).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)) : [];
  };
  const fetch = (port: number) => net.try(net.outside, 'busybox', ['wget', '-qO-', `http://198.18.0.1:${port}/`]);

  test('killed after the bridge plugin ran: start again recovers, delete removes all', async () => {
    await s.ok(['create', 'c1', '--template', 'busybox', '--network', 'bridge', '-p', '8091:80', '--', ...HTTPD]);
    const r = await s.moat(['start', 'c1'], crashAt('network:bridge-added'));
    assert.equal(r.signal, 'SIGKILL');
    assert.equal(leases().length, 1, 'the lease the crashed start took');
    assert.ok(net.links().some((l) => l.startsWith('veth')), 'the veth the crashed start made');
    await s.ok(['start', 'c1']);
    assert.equal(leases().length, 1, 'the stale lease was released, a new one taken');
    await waitFor(() => fetch(8091).code === 0, 15_000, 'c1 serves through its published port');
    assert.equal(fetch(8091).out, 'page of c1\n');
    await s.ok(['delete', '--force', 'c1']);
    assertSandboxGone(s, 'c1');
    assertNetworkClean(net, s.data, iptBefore);
  });

  test('killed after the bridge plugin ran: delete (without --force) removes all', async () => {
    await s.ok(['create', 'c2', '--template', 'busybox', '--network', 'bridge', '-p', '8092:80']);
    assert.equal((await s.moat(['start', 'c2'], crashAt('network:bridge-added'))).signal, 'SIGKILL');
    await s.ok(['delete', 'c2']);
    assertSandboxGone(s, 'c2');
    assertNetworkClean(net, s.data, iptBefore);
  });

  test('every process of the sandbox killed behind moat\'s back: stop still tears its network down', async () => {
    await s.ok(['create', 'c3', '--template', 'busybox', '--network', 'bridge', '-p', '8093:80']);
    await s.ok(['start', 'c3']);
    const pid = (JSON.parse(await s.ok(['list', '--json'])) as { name: string; pid?: number }[]).find((x) => x.name === 'c3')!.pid!;
    process.kill(pid, 'SIGKILL'); // pid 1 of the sandbox the test started: the rest dies with it
    await waitFor(async () => (JSON.parse(await s.ok(['list', '--json'])) as { name: string; status: string }[]).find((x) => x.name === 'c3')!.status !== 'running', 10_000, 'c3 exits');
    await s.ok(['stop', 'c3']);
    assertNetworkClean(net, s.data, iptBefore);
    await s.ok(['delete', 'c3']);
    assertSandboxGone(s, 'c3');
  });

  for (const mode of ['pasta', 'slirp4netns'] as const) {
    test(`${mode}: killed after the helper started, before its pid was recorded: delete stops it`, { skip: hasBinary(mode) ? false : `needs ${mode}` }, async () => {
      const name = `h-${mode}`;
      await s.ok(['create', name, '--template', 'busybox', '--network', mode, '-p', '8094:80']);
      assert.equal((await s.moat(['start', name], crashAt('network:helper-started'))).signal, 'SIGKILL');
      assert.ok(processesMentioning(join(s.data, 'sandboxes', name)).length > 0, `the ${mode} the crashed start launched`);
      await s.ok(['delete', '--force', name]);
      assertSandboxGone(s, name);
      assertNetworkClean(net, s.data, iptBefore);
    });
  }
});
