// `--unit NAME.service` (the seed-001 `virt-sandbox-service create -u httpd.service`): the
// unit's ExecStart runs as the sandbox's process with its Environment, User and
// WorkingDirectory; a packaged unit's /etc files seed the sandbox's private /etc.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot, isStaticElf, removeTree } from '../lib/bundle.js';
import { assertSandboxGone, MoatScratch, waitFor } from '../lib/moat.js';
import { owningPackage, packageEtcFiles } from '../../src/manager/unit.js';

const skip = !isRoot() ? 'integration tests create sandboxes and need root' : !existsSync('/bin/busybox') || !isStaticElf('/bin/busybox') ? 'needs busybox-static' : false;

/** A packaged unit with /etc files on this host, for the seeding test. */
function packagedUnit(): { name: string; pkg: string; etc: string } | undefined {
  for (const name of ['dbus.service', 'cron.service', 'ssh.service', 'rsyslog.service']) {
    const path = ['/lib/systemd/system', '/usr/lib/systemd/system'].map((d) => join(d, name)).find((p) => existsSync(p));
    const pkg = path && owningPackage(path);
    const etc = pkg && packageEtcFiles(pkg).find((f) => lstatSync(f, { throwIfNoEntry: false })?.isFile());
    if (pkg && etc) return { name, pkg, etc };
  }
  return undefined;
}

describe('moat: --unit runs a host service', { skip }, () => {
  let s: MoatScratch;
  let units: string;
  let env: Record<string, string>;
  before(() => {
    s = new MoatScratch();
    units = mkdtempSync(join(tmpdir(), 'moat-units-'));
    writeFileSync(join(units, 'moat-test-web.service'), [
      '[Unit]', 'Description=a web server for the test', '', '[Service]', 'Type=simple',
      'Environment=PORT=8080 "ROOT=/var/lib"',
      'ExecStart=/bin/busybox httpd -f -p 127.0.0.1:${PORT} -h ${ROOT}',
      'User=nobody', 'WorkingDirectory=/var', '',
    ].join('\n'));
    writeFileSync(join(units, 'moat-test-fork.service'), '[Service]\nType=forking\nExecStart=/bin/busybox httpd -p 8080\n');
    env = { MOAT_UNIT_PATH: `${units}:/lib/systemd/system:/usr/lib/systemd/system` };
  });
  after(async () => {
    await s.cleanup();
    removeTree(units);
  });

  test('the unit\'s ExecStart serves files as its User, from the sandbox\'s private /var', async () => {
    await s.ok(['create', 'web', '--unit', 'moat-test-web.service'], { env });
    const info = JSON.parse(await s.ok(['inspect', 'web', '--json'])) as { command: string[]; unit: { name: string }; spec: { process: { user: { uid: number }; cwd: string; env: string[] } } };
    assert.deepEqual(info.command, ['/bin/busybox', 'httpd', '-f', '-p', '127.0.0.1:8080', '-h', '/var/lib']);
    assert.equal(info.unit.name, 'moat-test-web.service');
    assert.equal(info.spec.process.user.uid, 65534);
    assert.equal(info.spec.process.cwd, '/var');
    assert.ok(info.spec.process.env.includes('ROOT=/var/lib'));
    await s.ok(['start', 'web']);
    await s.ok(['exec', '--user', '0', 'web', '--', 'sh', '-c', 'echo served-by-unit > /var/lib/index.html && chmod a+r /var/lib/index.html']);
    let body = '';
    await waitFor(async () => {
      const r = await s.moat(['exec', 'web', '--', '/bin/busybox', 'wget', '-qO-', 'http://127.0.0.1:8080/index.html']);
      body = r.stdout;
      return r.code === 0;
    }, 10_000, 'httpd answers');
    assert.equal(body, 'served-by-unit\n');
    const ps = await s.ok(['exec', 'web', '--', 'sh', '-c', 'stat -c %u /proc/1; tr "\\0" " " < /proc/1/cmdline']);
    assert.match(ps, /^65534\n\/bin\/busybox httpd -f/);
    await s.ok(['delete', '--force', 'web']);
    assertSandboxGone(s, 'web');
  });

  test('a packaged unit seeds the sandbox\'s /etc with its package\'s config files', { skip: packagedUnit() ? false : 'no packaged unit with /etc files on this host' }, async () => {
    const u = packagedUnit()!;
    await s.ok(['create', 'pkg', '--unit', u.name], { env });
    const info = JSON.parse(await s.ok(['inspect', 'pkg', '--json'])) as { unit: { package: string }; spec: { linux: { uidMappings: { hostID: number }[] } } };
    assert.equal(info.unit.package, u.pkg);
    const seeded = join(s.data, 'sandboxes', 'pkg', 'rootfs', u.etc);
    assert.ok(existsSync(seeded), `${u.etc} of ${u.pkg} seeded`);
    assert.equal(lstatSync(seeded).uid, info.spec.linux.uidMappings[0]!.hostID + lstatSync(u.etc).uid, 'owned by the sandbox\'s ids');
    await s.ok(['delete', 'pkg']);
    assertSandboxGone(s, 'pkg');
  });

  test('a missing unit, a forking unit, or a unit with a command: errors naming --unit, nothing made', async () => {
    for (const [args, re] of [
      [['create', 'bad', '--unit', 'moat-no-such.service'], /--unit.*no unit `moat-no-such.service`/],
      [['create', 'bad', '--unit', 'moat-test-fork.service'], /--unit.*Type=forking/],
      [['create', 'bad', '--unit', 'moat-test-web.service', '--', 'true'], /--unit.*not both/],
    ] as const) {
      const r = await s.moat([...args], { env });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, re);
      assert.ok(!s.sandboxDirs().includes('bad'));
    }
  });
});
