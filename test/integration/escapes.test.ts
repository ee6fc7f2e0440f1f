// Known ways out of containers, and the tests that show moat stops them. Tests are named
// after the CVE they guard where there is one.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath, isRoot, runCli } from '../lib/bundle.js';
import { Scratch, parseProbe, uniqueId } from '../lib/oci.js';

const skip = isRoot() ? false : 'integration tests create containers and need root';
const helperBin = join(cliPath, '..', '..', 'native', 'moat-helper');

/** Runs the CLI with extra fds from this process at 3, 4, ... (for --preserve-fds). */
const cliWithFds = (root: string, args: string[], extra: number[]) => runCli(['--root', root, ...args], { extraFds: extra });

describe('escapes', { skip }, () => {
  let s: Scratch;
  before(() => (s = new Scratch()));
  after(async () => s.cleanup());

  test('CVE-2024-21626: a leaked or passed host fd cannot become the working directory', async () => {
    const hostDir = openSync('/', 'r');
    try {
      const b = s.bundle((c) => {
        c.process.args = ['/probe', 'cwd'];
        c.process.cwd = '/proc/self/fd/3';
      });
      const id = uniqueId('cve21626');
      const r = await cliWithFds(s.state.root, ['run', '--preserve-fds', '1', '-b', b.dir, id], [hostDir]);
      assert.notEqual(r.code, 0, `the container started in a host directory: ${r.stdout}`);
      assert.match(r.stderr, /`process\.cwd`: cwd `\/proc\/self\/fd\/3`: ELOOP/);
      // a passed fd is still passed (that is what --preserve-fds is for), and nothing else is
      const b2 = s.bundle((c) => (c.process.args = ['/probe', 'fds']));
      const r2 = await cliWithFds(s.state.root, ['run', '--preserve-fds', '1', '-b', b2.dir, uniqueId('fds')], [hostDir]);
      assert.equal(r2.code, 0, r2.stderr);
      const fds = parseProbe(r2.stdout).map((f: any) => f.fd);
      assert.ok(fds.includes(3), 'fd 3 was preserved');
      assert.ok(fds.every((fd: number) => fd <= 4), `only 0-3 (and the probe's own) reach the container: ${fds}`);
    } finally {
      closeSync(hostDir);
    }
  });

  test('CVE-2019-5736: the helper binary cannot be written through /proc/<pid>/exe', async () => {
    const before = createHash('sha256').update(readFileSync(helperBin)).digest('hex');
    const b = s.bundle((c) => (c.process.args = ['/probe', 'pause']));
    const id = uniqueId('cve5736');
    assert.equal((await s.cli(['create', '-b', b.dir, id])).code, 0);
    // until start, the container's process is the helper: the one moment a container
    // could reach the runtime's binary
    const pid = JSON.parse((await s.cli(['state', id])).stdout).pid;
    assert.match(readlinkSync(`/proc/${pid}/exe`), /^\/memfd:moat-helper/, 'the helper runs from a memfd copy');
    assert.throws(() => openSync(`/proc/${pid}/exe`, 'r+'), /EPERM|EACCES|ETXTBSY/, 'not even root on the host can write it');
    const inside = await s.cli(['exec', id, '/probe', 'open', '/proc/1/exe', 'w']);
    assert.equal(parseProbe(inside.stdout).ok, false, 'a process in the container cannot open it for writing');
    const viaPath = await s.cli(['exec', id, '/probe', 'open', '/proc/1/exe', 'p']);
    assert.equal(parseProbe(viaPath.stdout).ok, false, 'nor hold it open (the helper is not dumpable)');
    await s.cli(['delete', '--force', id]);
    assert.equal(createHash('sha256').update(readFileSync(helperBin)).digest('hex'), before);
  });

  test('CVE-2021-30465: a symlink in the rootfs cannot redirect a mount onto the host', async () => {
    const hostDir = mkdtempSync(join(tmpdir(), 'moat-target-'));
    try {
      writeFileSync(join(hostDir, 'secret'), 'host data');
      const b = s.bundle((c) => {
        c.mounts.push({ destination: '/mnt/evil', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
        c.process.args = ['/probe', 'ls', hostDir];
      });
      mkdirSync(join(b.rootfs, 'mnt'), { recursive: true });
      symlinkSync(hostDir, join(b.rootfs, 'mnt', 'evil'));
      const r = await s.cli(['run', '-b', b.dir, uniqueId('cve30465')]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(parseProbe(r.stdout), [], 'the tmpfs landed inside the rootfs, at the symlink\'s target there');
      assert.equal(readFileSync(join(hostDir, 'secret'), 'utf8'), 'host data');
      assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(hostDir), 'nothing mounted on the host directory');
      assert.ok(existsSync(join(b.rootfs, hostDir)), 'the target was made inside the rootfs');
    } finally {
      rmSync(hostDir, { recursive: true, force: true });
    }
  });

  test('`kill -9 -1` in one container kills only its own tasks', async () => {
    const victim = s.bundle((c) => (c.process.args = ['/probe', 'pause']));
    const vid = uniqueId('victim');
    assert.equal((await s.cli(['run', '-d', '-b', victim.dir, vid])).code, 0);
    const hostChild = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
    try {
      const r = await s.run(() => {}, ['/bin/sh', '-c', '/probe pause & sleep 0.1; kill -9 -1; sleep 0.1; /probe ps']);
      assert.equal(r.code, 0, r.stderr);
      const ps = parseProbe(r.stdout);
      // sh execs the last command, so pid 1 is `/probe ps` itself: the background task is gone
      assert.deepEqual(ps.map((p: any) => p.pid), [1], 'its own background task died');
      assert.equal(JSON.parse((await s.cli(['state', vid])).stdout).status, 'running', 'the other container lives');
      assert.equal(hostChild.exitCode, null, 'the host process lives');
      assert.ok(existsSync(`/proc/${hostChild.pid}`));
    } finally {
      hostChild.kill('SIGKILL');
      await s.cli(['delete', '-f', vid]);
    }
  });

  test('the host\'s key files and kernel knobs are out of reach', async () => {
    const r = await s.run((c) => {
      for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_DAC_OVERRIDE', 'CAP_SYS_ADMIN');
    }, ['/bin/sh', '-c', '/probe write /proc/sysrq-trigger c; /probe write /sys/kernel/profiling 1; /probe write /proc/sys/vm/drop_caches 3; /probe read /proc/kcore; /probe open /dev/mem r']);
    assert.equal(r.code, 0, r.stderr);
    const res = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    for (const x of res) assert.equal(x.ok, false, JSON.stringify(x));
  });
});
