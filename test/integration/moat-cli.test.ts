// The moat command line: `moat run` exit statuses, --help everywhere, and errors that name
// what is wrong and leave nothing half-made.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isRoot } from '../lib/bundle.js';
import { assertSandboxGone, MoatScratch } from '../lib/moat.js';

const skip = isRoot() ? false : 'integration tests create sandboxes and need root';

describe('moat CLI', { skip }, () => {
  let s: MoatScratch;
  before(() => (s = new MoatScratch()));
  after(async () => s.cleanup());

  test('run --rm: the exit status is the command\'s, and nothing is left', async () => {
    const t = await s.moat(['run', '--rm', '--', '/bin/true']);
    assert.equal(t.code, 0, t.stderr);
    assert.equal((await s.moat(['run', '--rm', '--', 'sh', '-c', 'exit 3'])).code, 3);
    assert.equal((await s.moat(['run', '--rm', 'false'])).code, 1);
    assert.deepEqual(s.sandboxDirs(), []);
    assert.deepEqual(s.entries('runtime'), []);
  });

  test('run: a secure sandbox from the host template, in one command', async () => {
    const out = await s.ok(['run', '--rm', '--name', 'first', '--', 'sh', '-c', 'echo "$(hostname) $$"; grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status; ls /usr/bin/python3 /bin/sh >/dev/null && echo host-usr']);
    assert.match(out, /^first 1\n/);
    assert.match(out, /CapEff:\s+0000000020000420/);
    assert.match(out, /NoNewPrivs:\s+1/);
    assert.match(out, /Seccomp:\s+2/);
    assert.match(out, /host-usr/);
    assertSandboxGone(s, 'first');
  });

  test('run: loopback only by default; --network host sees the host interfaces', async () => {
    const none = await s.ok(['run', '--rm', '--', 'sh', '-c', 'ls /sys/class/net']);
    assert.equal(none.trim(), 'lo');
    const host = await s.ok(['run', '--rm', '--network', 'host', '--', 'sh', '-c', 'ls /sys/class/net']);
    assert.notEqual(host.trim(), 'lo');
  });

  test('run without --rm keeps a stopped sandbox; limits apply', async () => {
    const r = await s.moat(['run', '--name', 'kept', '--pids', '20', '--memory', '64M', '--', 'sh', '-c', 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '20');
    const list = JSON.parse(await s.ok(['list', '--json']));
    assert.deepEqual(list.map((x: any) => [x.name, x.status]), [['kept', 'stopped']]);
    await s.ok(['delete', 'kept']);
    assertSandboxGone(s, 'kept');
  });

  test('--help on every command', async () => {
    const top = await s.ok(['--help']);
    for (const cmd of ['run', 'create', 'start', 'stop', 'restart', 'exec', 'list', 'inspect', 'logs', 'delete']) {
      assert.match(top, new RegExp(`^  ${cmd} `, 'm'));
      const h = await s.ok([cmd, '--help']);
      assert.match(h, new RegExp(`^usage: moat ${cmd}`), cmd);
    }
  });

  test('bad input: an error naming what is wrong, and nothing made', async () => {
    const cases: [string[], RegExp, number][] = [
      [['create', 'Bad/Name'], /invalid sandbox name `Bad\/Name`/, 1],
      [['create', 'x1', '--template', 'nosuch'], /--template: no template `nosuch`/, 1],
      [['create', 'x1', '--template', 'oci:/nonexistent'], /--template: template `oci:\/nonexistent`: not an OCI image layout/, 1],
      [['create', 'x1', '--memory', 'lots'], /--memory: `lots` is not a size/, 1],
      [['create', 'x1', '--memory', '1P'], /--memory: `1P` is not a size/, 1],
      [['create', 'x1', '--memory', '100000G'], /more than this host's/, 1],
      [['create', 'x1', '--cpus', '4096'], /--cpus: `4096` is more than this host's/, 1],
      [['create', 'x1', '--pids', '0'], /--pids: `0` is not a process count/, 1],
      [['create', 'x1', '--volume', 'relative:/x'], /host path `relative` must be absolute/, 1],
      [['create', 'x1', '--volume', '/tmp:/proc/x'], /is reserved/, 1],
      [['create', 'x1', '--network', 'nosuchnet'], /--network: network `nosuchnet` does not exist/, 1],
      [['create', 'x1', '--network', 'a/b'], /--network: `a\/b` is not a network mode/, 1],
      [['create', 'x1', '--network', 'none', '--publish', '80:80'], /--publish\[0\]: network `none` has no address/, 1],
      [['create', 'x1', '--env', 'novalue'], /`novalue` is not KEY=VALUE/, 1],
      [['create', 'x1', '--bogus'], /unknown flag `--bogus`/, 2],
      [['start', 'nosuch'], /sandbox `nosuch` does not exist/, 1],
      [['run', '--memory', 'x', '--', 'true'], /--memory/, 125],
      [['frobnicate'], /unknown command `frobnicate`/, 2],
    ];
    for (const [args, re, code] of cases) {
      const r = await s.moat(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
    }
    // every issue is reported at once
    const many = await s.moat(['create', 'x1', '--memory', 'lots', '--pids', '-1', '--cpus', 'zero']);
    assert.match(many.stderr, /--memory[\s\S]*--cpus[\s\S]*--pids/);
    assert.deepEqual(s.sandboxDirs(), []);
    assert.deepEqual(s.entries('staging'), []);
    assert.deepEqual(s.entries('runtime'), []);
  });

  test('names are unique; a second create of a name fails and keeps the first', async () => {
    await s.ok(['create', 'dup', '--template', 'busybox']);
    const r = await s.moat(['create', 'dup']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /sandbox `dup` already exists/);
    assert.equal(JSON.parse(await s.ok(['inspect', 'dup', '--json'])).template, 'busybox');
    await s.ok(['delete', 'dup']);
  });

  test('concurrent creates of one name: exactly one wins, the store stays consistent', async () => {
    const rs = await Promise.all([0, 1, 2, 3].map((i) => s.moat(['create', 'race', '--template', i % 2 ? 'busybox' : 'host'])));
    assert.equal(rs.filter((r) => r.code === 0).length, 1, rs.map((r) => r.stderr).join('\n'));
    for (const r of rs.filter((x) => x.code !== 0)) assert.match(r.stderr, /already exists|locked/);
    assert.deepEqual(s.sandboxDirs(), ['race']);
    assert.deepEqual(s.entries('staging'), []);
    await s.ok(['delete', 'race']);
    assertSandboxGone(s, 'race');
  });
});
