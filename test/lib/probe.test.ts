// Smoke tests of the test tooling: the probe run directly on the host, and a
// bundle's rootfs entered with chroot(8).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type Bundle, hasBinary, isRoot, makeBundle, parseProbe, probePath, uniqueId } from './bundle.js';

function probe(...args: string[]): any {
  return parseProbe(execFileSync(probePath, args, { encoding: 'utf8' }));
}

function hasKeys(obj: object, keys: string[]): void {
  for (const k of keys) assert.ok(k in obj, `missing key ${k} in ${JSON.stringify(obj).slice(0, 200)}`);
}

describe('probe on the host', () => {
  it('id', () => {
    const id = probe('id');
    hasKeys(id, ['uid', 'gid', 'euid', 'egid', 'groups', 'pid', 'ppid']);
    assert.equal(id.uid, process.getuid?.());
    assert.ok(Array.isArray(id.groups));
  });

  it('status', () => {
    const st = probe('status');
    hasKeys(st, ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp', 'Seccomp_filters', 'Uid', 'Gid', 'Groups']);
    assert.match(st.CapBnd, /^[0-9a-f]{16}$/);
    assert.equal(st.Uid.length, 4);
    assert.equal(typeof st.NoNewPrivs, 'number');
  });

  it('mounts', () => {
    const mounts = probe('mounts');
    assert.ok(mounts.length > 0);
    hasKeys(mounts[0], ['mountPoint', 'fsType', 'source', 'options', 'superOptions', 'propagation']);
    assert.ok(mounts.some((m: any) => m.mountPoint === '/'));
  });

  it('ls /dev', () => {
    const entries = probe('ls', '/dev');
    const nul = entries.find((e: any) => e.name === 'null');
    assert.ok(nul, 'no /dev/null');
    assert.deepEqual([nul.type, nul.major, nul.minor, nul.mode], ['char', 1, 3, '0666']);
  });

  it('read /proc/self/status and a missing file', () => {
    const r = probe('read', '/proc/self/status');
    assert.equal(r.ok, true);
    assert.match(r.content, /^Name:\tprobe$/m);
    assert.deepEqual(probe('read', '/nonexistent/x'), {
      ok: false, errno: 'ENOENT', error: 'No such file or directory',
    });
  });

  it('compat32', () => {
    const c = probe('compat32');
    hasKeys(c, ['int80', 'x32']);
    hasKeys(c.int80, ['supported', 'ret', 'errno', 'signal']);
    assert.equal(typeof c.x32.supported, 'boolean');
  });

  it('fds', () => {
    const fds = probe('fds');
    assert.ok(fds.some((f: any) => f.fd === 1));
    hasKeys(fds[0], ['fd', 'target', 'cloexec']);
  });

  it('escapes strings as valid JSON', () => {
    const weird = 'a"b\\c\nd\te\u0001€';
    assert.deepEqual(probe('argv', weird, ''), { argv: [weird, ''] });
  });

  it('fails with exit 2 on usage errors', () => {
    const r = spawnSync(probePath, ['no-such-command']);
    assert.equal(r.status, 2);
  });
});

describe('makeBundle', { skip: !isRoot() || !hasBinary('chroot') ? 'needs root and chroot' : false }, () => {
  let bundle: Bundle | undefined;
  after(() => bundle?.cleanup());

  it('builds a rootfs that runs the probe and busybox', () => {
    bundle = makeBundle({ config: (c) => (c.hostname = uniqueId('h')) });
    assert.equal(readlinkSync(join(bundle.rootfs, 'bin/sh')), 'busybox');
    assert.ok(lstatSync(join(bundle.rootfs, 'probe')).isFile());
    assert.match(bundle.readConfig().hostname, /^h-\d+-\d+-[0-9a-f]{6}$/);
    const id = parseProbe(execFileSync('chroot', [bundle.rootfs, '/probe', 'id'], { encoding: 'utf8' }));
    assert.equal(id.uid, 0);
    const sh = execFileSync('chroot', [bundle.rootfs, '/bin/sh', '-c', 'echo ok'], { encoding: 'utf8' });
    assert.equal(sh, 'ok\n');
  });

  it('cleanup removes the bundle', () => {
    assert.ok(bundle);
    bundle.cleanup();
    assert.equal(existsSync(bundle.dir), false);
  });
});
