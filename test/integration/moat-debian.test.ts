// The debian template: one debootstrap per data dir (two concurrent creates build it once,
// a later create reuses it), shared read-only as the lower layer of each sandbox's overlay;
// what a sandbox writes lands in its own upper dir, unseen by other sandboxes and the cache,
// and goes with `delete`. debootstrap runs once for this whole file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot } from '../lib/bundle.js';
import { assertSandboxGone, MoatScratch, sandboxCgroupDirs } from '../lib/moat.js';
import { probeCgroupHost } from '../../src/runtime/cgroups/index.js';
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
  let shared: string | undefined;
  after(async () => {
    await s.cleanup();
    if (shared) rmSync(shared, { recursive: true, force: true });
  });

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

  test('--init systemd: systemd boots as PID 1 in a delegated cgroup, runs a unit as another user, and halts on stop', async () => {
    shared = mkdtempSync(join(tmpdir(), 'moat-systemd-'));
    chmodSync(shared, 0o777); // the unit writes here as `nobody`
    await s.ok(['create', 'sys', '--template', 'debian', '--init', 'systemd', '--volume', `${shared}:/shared`]);
    await s.ok(['start', 'sys']);
    // waits for the boot to finish (systemctl fails until systemd's socket is up); `running`
    // means no unit failed
    const boot = await s.moat(['exec', 'sys', '--', 'sh', '-c', 'for i in $(seq 300); do st=$(systemctl is-system-running --wait 2>/dev/null); case $st in running|degraded|maintenance|stopping) break ;; esac; sleep 0.1; done; echo $st'], { timeoutMs: 60_000 });
    const failed = boot.stdout.trim() === 'running' ? '' : await s.moat(['exec', 'sys', '--', 'systemctl', '--failed', '--no-pager']).then((r) => r.stdout);
    assert.equal(boot.stdout.trim(), 'running', `systemd state ${boot.stdout.trim()}; failed units:\n${failed}`);
    const unit = [
      '[Service]', 'User=nobody', 'RuntimeDirectory=hello',
      'ExecStart=/bin/sh -c "id -u > /run/hello/uid; exec sleep infinity"',
      'ExecStop=/bin/sh -c "echo stopped-cleanly > /shared/marker"',
    ].join('\n');
    const out = await s.ok(['exec', 'sys', '--', 'sh', '-c', `cat /proc/1/comm; grep '^0::' /proc/1/cgroup
      printf '%s\\n' '${unit}' > /etc/systemd/system/hello.service
      systemctl daemon-reload && systemctl start hello && systemctl is-active hello
      for i in $(seq 100); do [ -s /run/hello/uid ] && break; sleep 0.1; done; cat /run/hello/uid
      echo 1 > /sys/fs/cgroup/cgroup.max.descendants 2>/dev/null && echo limit-writable || echo limit-denied`]);
    assert.deepEqual(out.trim().split('\n'), ['systemd', '0::/init.scope', 'active', '65534', 'limit-denied']);
    // on the host: systemd's cgroups are beneath the sandbox's own cgroup2 dir, made by (and
    // owned by) the sandbox's root; every process there is still in the sandbox's v1 cgroups,
    // so the limits set from outside hold for all of them
    const info = JSON.parse(await s.ok(['inspect', 'sys', '--json'])) as { pid: number; spec: { linux: { uidMappings: { hostID: number }[] } } };
    const host = probeCgroupHost();
    const v2 = sandboxCgroupDirs('sys', s.data).find((d) => host.unified && d.startsWith(host.unified + '/'));
    const v1Pids = host.v1.pids ? sandboxCgroupDirs('sys', s.data).find((d) => d.startsWith(host.v1.pids! + '/')) : undefined;
    if (v2) {
      const svc = join(v2, 'system.slice', 'hello.service');
      assert.ok(existsSync(svc), `${svc} made by the sandbox's systemd`);
      assert.equal(statSync(svc).uid, info.spec.linux.uidMappings[0]!.hostID, 'owned by the sandbox root\'s host uid');
      assert.equal(statSync(v2).uid, info.spec.linux.uidMappings[0]!.hostID, 'the sandbox\'s cgroup2 dir is delegated to its root');
      assert.equal(readFileSync(join(v2, 'cgroup.max.descendants'), 'utf8').trim(), '1024', 'capped, by a file that stays the host\'s');
      assert.equal(statSync(join(v2, 'cgroup.max.descendants')).uid, 0);
      const svcPids = readFileSync(join(svc, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
      assert.ok(svcPids.length > 0);
      if (v1Pids) {
        const inLimit = readFileSync(join(v1Pids, 'cgroup.procs'), 'utf8').split('\n');
        for (const p of svcPids) assert.ok(inLimit.includes(p), `service pid ${p} is in the sandbox's pids cgroup`);
      }
    }
    // no console: `moat logs` says where systemd's services log
    assert.match((await s.moat(['logs', 'sys'])).stderr, /journalctl/);
    // SIGRTMIN+3: systemd stops its units (ExecStop runs) and halts; a SIGKILL would not
    await s.ok(['stop', 'sys']);
    assert.equal(readFileSync(join(shared, 'marker'), 'utf8'), 'stopped-cleanly\n');
    assert.match(await s.ok(['list']), /sys\s+stopped/);
    for (const d of sandboxCgroupDirs('sys', s.data)) assert.equal(existsSync(d), false, `cgroup ${d} removed with what systemd made beneath it`);
    await s.ok(['delete', 'sys']);
    assertSandboxGone(s, 'sys');
  });
});
