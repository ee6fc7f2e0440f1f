// The debian template: one debootstrap per data dir (two concurrent creates build it once,
// a later create reuses it), shared read-only as the lower layer of each sandbox's overlay;
// what a sandbox writes lands in its own upper dir, unseen by other sandboxes and the cache,
// and goes with `delete`. debootstrap runs once for this whole file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot } from '../lib/bundle.js';
import { assertSandboxGone, MoatScratch } from '../lib/moat.js';
import { debianMirror, hostSuite } from '../../src/manager/templates/debootstrap.js';

const suite = process.env.MOAT_DEBIAN_SUITE || hostSuite();
const mirror = debianMirror(suite);

async function mirrorReachable(): Promise<boolean> {
  try {
    const r = await fetch(`${mirror}/dists/${suite}/Release`, { method: 'HEAD', signal: AbortSignal.timeout(15_000) });
    return r.ok;
  } catch {
    return false;
  }
}

const skip = !isRoot() ? 'integration tests create sandboxes and need root' : !existsSync('/usr/sbin/debootstrap') ? 'needs debootstrap (apt-get install debootstrap)' : !(await mirrorReachable()) ? `the Debian mirror ${mirror} is not reachable` : false;

const BUILD_MS = 20 * 60_000;

describe('moat: the debian template', { skip }, () => {
  let s: MoatScratch;
  let cache: string;
  let builds: string[];
  before(async () => {
    s = new MoatScratch();
    cache = join(s.data, 'cache', `debian-${suite}`);
    // two creates at once, before any cache exists: one builds, the other waits for it
    const rs = await Promise.all(['d1', 'd2'].map((n) => s.moat(['create', n, '--template', 'debian'], { timeoutMs: BUILD_MS })));
    for (const r of rs) assert.equal(r.code, 0, r.stderr);
    builds = rs.map((r) => r.stderr).filter((e) => /building the debian/.test(e));
    for (const n of ['d1', 'd2']) await s.ok(['start', n]);
  });
  after(async () => s.cleanup());

  test('debootstrap ran once for two concurrent creates, with progress on stderr', () => {
    assert.equal(builds.length, 1, 'exactly one create built the cache');
    assert.match(builds[0]!, /: 100% /, 'progress reached 100%');
    assert.ok(existsSync(join(cache, 'etc/debian_version')));
  });

  test('a Debian userland: debian_version, dpkg, the packages moat adds', async () => {
    const out = await s.ok(['exec', 'd1', '--', 'sh', '-c', 'cat /etc/debian_version; dpkg -l dpkg procps | grep -c "^ii"; cat /etc/hostname; id -u']);
    const [version, installed, hostname, uid] = out.split('\n');
    assert.equal(version, readFileSync(join(cache, 'etc/debian_version'), 'utf8').trim());
    assert.equal(installed, '2');
    assert.equal(hostname, 'd1');
    assert.equal(uid, '0');
  });

  test('the shared layer is id-mapped: its root-owned files belong to the sandbox root; the root is nosuid,nodev', async () => {
    const out = await s.ok(['exec', 'd1', '--', 'sh', '-c', 'stat -c %u:%g /usr/bin/dpkg; grep " / / " /proc/self/mountinfo']);
    const [owner, root] = out.split('\n');
    assert.equal(owner, '0:0');
    assert.match(root!, /overlay/);
    assert.match(root!, /nosuid/);
    assert.match(root!, /nodev/);
  });

  test('a write in one sandbox is seen neither in another nor in the cache', async () => {
    await s.ok(['exec', 'd1', '--', 'sh', '-c', 'echo d1-secret > /root/secret; echo changed > /etc/motd; rm /etc/issue']);
    assert.equal(await s.ok(['exec', 'd1', '--', 'cat', '/root/secret']), 'd1-secret\n');
    const d2 = await s.moat(['exec', 'd2', '--', 'sh', '-c', 'cat /root/secret; cat /etc/issue >/dev/null && echo issue-present; grep -c changed /etc/motd']);
    assert.match(d2.stdout, /issue-present/);
    assert.doesNotMatch(d2.stdout, /d1-secret/);
    assert.ok(!existsSync(join(cache, 'root/secret')), 'the cache is untouched');
    assert.ok(existsSync(join(cache, 'etc/issue')), 'a delete in a sandbox leaves the cache file');
    assert.doesNotMatch(readFileSync(join(cache, 'etc/motd'), 'utf8'), /changed/);
    // what d1 wrote is in its own upper layer, owned by its own host ids
    const upper = join(s.data, 'sandboxes', 'd1', 'rootfs');
    const info = JSON.parse(await s.ok(['inspect', 'd1', '--json'])) as { spec: { linux: { uidMappings: { hostID: number }[] } } };
    assert.equal(statSync(join(upper, 'root/secret')).uid, info.spec.linux.uidMappings[0]!.hostID);
    assert.equal(statSync(join(upper, 'etc/issue')).isCharacterDevice(), true, 'the delete is a whiteout in the upper layer');
  });

  test('a third create reuses the cache (no second debootstrap); delete removes the upper layer', async () => {
    const ino = statSync(cache).ino;
    const r = await s.moat(['create', 'd3', '--template', 'debian']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /building/);
    assert.equal(statSync(cache).ino, ino);
    await s.ok(['start', 'd3']);
    await s.ok(['exec', 'd3', '--', 'sh', '-c', 'echo x > /var/tmp/mine']);
    assert.ok(existsSync(join(s.data, 'sandboxes', 'd3', 'rootfs', 'var/tmp/mine')));
    await s.ok(['delete', '--force', 'd3']);
    assertSandboxGone(s, 'd3');
    assert.ok(existsSync(join(cache, 'etc/debian_version')), 'the cache stays for other sandboxes');
  });

  test('clone copies the upper layer, whiteouts included', async () => {
    await s.ok(['stop', 'd1']);
    await s.ok(['clone', 'd1', 'd1c']);
    await s.ok(['start', 'd1c']);
    const out = await s.moat(['exec', 'd1c', '--', 'sh', '-c', 'cat /root/secret; test -e /etc/issue || echo issue-gone']);
    assert.equal(out.stdout, 'd1-secret\nissue-gone\n');
    await s.ok(['delete', '--force', 'd1c']);
    assertSandboxGone(s, 'd1c');
  });
});
