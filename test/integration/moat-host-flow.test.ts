// The seed-001 flow (virt-sandbox-service's): a named sandbox from the host template serves
// files with python's http.server from the host's /usr; it is started, entered with exec,
// has a private /etc and a read-only /usr, is stopped and deleted, and nothing is left.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot } from '../lib/bundle.js';
import { assertSandboxGone, MoatScratch, sandboxCgroupDirs, waitFor } from '../lib/moat.js';

const skip = !isRoot() ? 'integration tests create sandboxes and need root' : !existsSync('/usr/bin/python3') ? 'needs /usr/bin/python3 on the host' : false;

/** True if a TCP socket of the host's network namespace listens on `port`. */
function hostListens(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].some((f) => readFileSync(f, 'utf8').split('\n').slice(1).some((l) => {
    const c = l.trim().split(/\s+/);
    return c[1]?.endsWith(`:${hex}`) && c[3] === '0A';
  }));
}

describe('moat: the seed-001 flow on the host template', { skip }, () => {
  let s: MoatScratch;
  let www: string;
  before(() => {
    s = new MoatScratch();
    www = mkdtempSync(join(tmpdir(), 'moat-www-'));
    writeFileSync(join(www, 'index.html'), 'hello from the host\n');
  });
  after(async () => {
    await s.cleanup();
    rmSync(www, { recursive: true, force: true });
  });

  test('create, start, exec, private /etc, read-only /usr, stop, delete, nothing left', async (t) => {
    if (hostListens(8080)) return t.skip('something on the host listens on 8080 already');
    await s.ok(['create', 'web1', '--memory', '256M', '--pids', '64', '--volume', `${www}:/srv/www:ro`, '--', 'python3', '-m', 'http.server', '-d', '/srv/www', '8080']);
    let list = JSON.parse(await s.ok(['list', '--json']));
    assert.deepEqual(list.map((x: any) => [x.name, x.status]), [['web1', 'stopped']]);
    await s.ok(['start', 'web1']);
    list = JSON.parse(await s.ok(['list', '--json']));
    assert.equal(list[0].status, 'running');
    const pid = list[0].pid as number;
    assert.ok(existsSync(`/proc/${pid}`));

    // the server answers inside the sandbox's own network namespace
    const fetch = ['exec', 'web1', '--', 'python3', '-c', 'import urllib.request;print(urllib.request.urlopen("http://127.0.0.1:8080/index.html").read().decode(), end="")'];
    await waitFor(async () => (await s.moat(fetch)).code === 0, 15_000, 'http.server answers');
    assert.equal(await s.ok(fetch), 'hello from the host\n');
    // ...and the host's loopback does not reach it
    assert.equal(hostListens(8080), false, 'port 8080 is not listening on the host');

    // private /etc: the sandbox's own hostname and hosts, no shadow; host users unlisted
    assert.equal(await s.ok(['exec', 'web1', '--', 'cat', '/etc/hostname']), 'web1\n');
    const etc = await s.ok(['exec', 'web1', '--', 'sh', '-c', 'ls /etc; echo ---; cat /etc/passwd']);
    assert.ok(!/^shadow$/m.test(etc), 'no /etc/shadow in the sandbox');
    assert.ok(!etc.split('---')[1]!.split('\n').some((l) => Number(l.split(':')[2]) >= 1000 && Number(l.split(':')[2]) !== 65534), 'no host user accounts');
    // writing /etc changes the sandbox's copy only
    await s.ok(['exec', 'web1', '--', 'sh', '-c', 'echo sandboxed > /etc/motd']);
    assert.equal(readFileSync(join(s.data, 'sandboxes/web1/rootfs/etc/motd'), 'utf8'), 'sandboxed\n');
    assert.notEqual(existsSync('/etc/motd') ? readFileSync('/etc/motd', 'utf8') : '', 'sandboxed\n');

    // read-only /usr (shared from the host), and a read-only root
    const ro = await s.moat(['exec', 'web1', '--', 'sh', '-c', 'touch /usr/moat-test-x; touch /moat-test-y']);
    assert.notEqual(ro.code, 0);
    assert.match(ro.stderr, /\/usr\/moat-test-x'?: Read-only file system/);
    assert.match(ro.stderr, /\/moat-test-y'?: Read-only file system/);
    const errno = await s.ok(['exec', 'web1', '--', 'python3', '-c', 'import errno\ntry:\n  open("/usr/lib/moat-x", "w")\nexcept OSError as e:\n  print(errno.errorcode[e.errno])']);
    assert.equal(errno, 'EROFS\n');
    assert.equal(existsSync('/usr/moat-test-x'), false);
    // the volume is read-only too
    assert.notEqual((await s.moat(['exec', 'web1', '--', 'touch', '/srv/www/x'])).code, 0);
    // exec's exit status is the command's
    assert.equal((await s.moat(['exec', 'web1', '--', 'sh', '-c', 'exit 7'])).code, 7);

    // inspect shows every layer, active or not, and what the kernel reports
    const r = JSON.parse(await s.ok(['inspect', 'web1', '--json']));
    const layer = (n: string) => r.security.find((l: any) => l.layer === n);
    assert.equal(r.status, 'running');
    assert.equal(layer('seccomp').active, true);
    assert.match(layer('seccomp').observed, /Seccomp: 2/);
    assert.match(layer('no_new_privs').observed, /NoNewPrivs: 1/);
    assert.match(layer('namespaces').observed, /pid=private network=private ipc=private uts=private mount=private cgroup=private/);
    assert.equal(layer('user namespace').active, true);
    assert.match(layer('user namespace').detail, /root inside is host uid\/gid \d+/);
    assert.equal(layer('Landlock').active, true);
    assert.match(layer('Landlock').detail, /^on \(kernel ABI \d+\)/);
    assert.match(layer('SELinux/AppArmor/Smack').detail, /none on this host: Landlock is the MAC layer here/);
    assert.match(layer('cgroups').observed, /pids\.max=64/);
    assert.equal(r.network.mode, 'none');
    assert.equal(r.limits.memory, '256M');
    assert.match(await s.ok(['inspect', 'web1']), /\[active\]\s+Landlock: on/);

    // the server's output went to the log
    assert.match(await s.ok(['logs', 'web1']), /GET \/index\.html/);

    // a running sandbox is not deleted without --force
    const del = await s.moat(['delete', 'web1']);
    assert.equal(del.code, 1);
    assert.match(del.stderr, /is running: stop it first, or use --force/);

    await s.ok(['stop', 'web1', '--time', '1']);
    assert.equal(existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')), false, 'the server is gone');
    list = JSON.parse(await s.ok(['list', '--json']));
    assert.equal(list[0].status, 'stopped');
    for (const d of sandboxCgroupDirs('web1', s.data)) assert.equal(existsSync(d), false, `stop removes cgroup ${d}`);
    const ex = await s.moat(['exec', 'web1', '--', 'true']);
    assert.equal(ex.code, 125);
    assert.match(ex.stderr, /not running/);

    // the private /etc persists across restarts
    await s.ok(['start', 'web1']);
    assert.equal(await s.ok(['exec', 'web1', '--', 'cat', '/etc/motd']), 'sandboxed\n');
    await s.ok(['restart', 'web1', '--time', '0']);
    assert.equal(JSON.parse(await s.ok(['list', '--json']))[0].status, 'running');

    await s.ok(['delete', '--force', 'web1']);
    assert.deepEqual(JSON.parse(await s.ok(['list', '--json'])), []);
    assertSandboxGone(s, 'web1');
  });

  test('an idle sandbox stops at SIGTERM, before the grace time', async () => {
    await s.ok(['create', 'idle1']);
    await s.ok(['start', 'idle1']);
    const t0 = Date.now();
    await s.ok(['stop', 'idle1', '--time', '30']);
    assert.ok(Date.now() - t0 < 10_000, 'stopped by SIGTERM, not by the SIGKILL after 30s');
    await s.ok(['delete', 'idle1']);
    assertSandboxGone(s, 'idle1');
  });

  test('--network host is marked unsafe', async () => {
    await s.ok(['create', 'hostnet', '--network', 'host']);
    const r = JSON.parse(await s.ok(['inspect', 'hostnet', '--json']));
    assert.equal(r.network.unsafe, true);
    assert.match(await s.ok(['inspect', 'hostnet']), /network: +host \(UNSAFE\)/);
    assert.match(await s.ok(['create', '--help']), /host \(UNSAFE/);
    await s.ok(['delete', 'hostnet']);
  });
});
