// exec into a running container, terminals (console socket and the foreground relay), and
// bundles written by `runc spec` and `moat-oci spec`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { hasBinary, isRoot, probePath, makeRootfs, removeTree, timeScale } from '../lib/bundle.js';
import { Scratch, assertNoLeftovers, parseProbe, uniqueId } from '../lib/oci.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

const skip = isRoot() ? false : 'integration tests create containers and need root';

async function waitFile(p: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms * timeScale;
  while (!existsSync(p)) {
    if (Date.now() > end) assert.fail(`${p} did not appear`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Starts the probe's console-socket receiver; resolves with what the container printed. */
function recvtty(sock: string, input = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(probePath, ['recvtty', sock, ...(input ? [input] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    const t = setTimeout(() => c.kill('SIGKILL'), 15000);
    c.on('close', (code) => {
      clearTimeout(t);
      if (code === 0) resolve(out);
      else reject(new Error(`recvtty: ${code} ${err}`));
    });
  });
}

describe('exec and terminals', { skip }, () => {
  let s: Scratch;
  let id: string;
  before(async () => {
    s = new Scratch();
    const b = s.bundle((c) => {
      c.process.args = ['/probe', 'pause'];
      c.hostname = 'exec-host';
    });
    id = uniqueId('exec');
    const r = await s.cli(['run', '-d', '-b', b.dir, id]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => s.cleanup());

  test('exec joins the container: its hostname, its pid namespace, its security settings', async () => {
    const h = await s.cli(['exec', id, '/probe', 'hostname']);
    assert.equal(h.code, 0, h.stderr);
    assert.equal(parseProbe(h.stdout).hostname, 'exec-host');
    const p = parseProbe((await s.cli(['exec', id, '/probe', 'pid1'])).stdout);
    assert.equal(p.isPid1, false);
    assert.deepEqual(p.cmdline, ['/probe', 'pause']);
    const st = parseProbe((await s.cli(['exec', id, '/probe', 'status'])).stdout);
    assert.equal(st.CapBnd, '0000000020000420');
    assert.equal(st.NoNewPrivs, 1);
    const hostNs = execFileSync('readlink', ['/proc/self/ns/mnt']).toString().trim();
    const ns = parseProbe((await s.cli(['exec', id, '/probe', 'ns'])).stdout);
    assert.notEqual(ns.mnt, hostNs);
  });

  test('exec passes the exit status and takes env, cwd, user and capability overrides', async () => {
    assert.equal((await s.cli(['exec', id, '/probe', 'exit', '42'])).code, 42);
    const env = parseProbe((await s.cli(['exec', '-e', 'X=1', '--env', 'PATH=/bin', id, '/probe', 'env'])).stdout);
    assert.ok(env.includes('X=1') && env.includes('PATH=/bin'));
    assert.equal(parseProbe((await s.cli(['exec', '--cwd', '/tmp', id, '/probe', 'cwd'])).stdout).cwd, '/tmp');
    const who = parseProbe((await s.cli(['exec', '-u', '1000:1000', id, '/probe', 'id'])).stdout);
    assert.equal(who.uid, 1000);
    assert.equal(who.gid, 1000);
    const caps = parseProbe((await s.cli(['exec', '--cap', 'CAP_SYS_ADMIN', id, '/probe', 'caps'])).stdout);
    assert.ok(caps.effective.includes('CAP_SYS_ADMIN'));
    const missing = await s.cli(['exec', id, '/no/such']);
    assert.notEqual(missing.code, 0);
  });

  test('exec --process runs a full OCI process; -d returns at once with a pid file', async () => {
    const b = s.bundle();
    const pf = join(b.dir, 'process.json');
    writeFileSync(pf, JSON.stringify({ args: ['/probe', 'argv', 'a b'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['A=1'] }));
    const r = await s.cli(['exec', '--process', pf, id]);
    assert.deepEqual(parseProbe(r.stdout).argv, ['a b']);
    const pidFile = join(b.dir, 'exec.pid');
    const d = await s.cli(['exec', '-d', '--pid-file', pidFile, id, '/probe', 'sleep', '0.2']);
    assert.equal(d.code, 0, d.stderr);
    assert.ok(Number(readFileSync(pidFile, 'utf8')) > 0);
  });

  test('a terminal goes over --console-socket: the process sees a tty it owns', async () => {
    const b = s.bundle((c) => {
      c.process.terminal = true;
      c.process.consoleSize = { height: 33, width: 101 };
      c.process.args = ['/probe', 'tty'];
    });
    const sock = join(b.dir, 'console.sock');
    const got = recvtty(sock);
    await waitFile(sock);
    const cid = uniqueId('tty');
    const r = await s.cli(['run', '-d', '--console-socket', sock, '-b', b.dir, cid]);
    assert.equal(r.code, 0, r.stderr);
    const t = JSON.parse((await got).trim());
    for (const fd of t.fds) assert.equal(fd.isatty, true);
    assert.match(t.fds[0].ttyname, /^\/dev\/pts\/\d+$/);
    assert.equal(t.fds[0].rows, 33);
    assert.equal(t.fds[0].cols, 101);
    assert.equal(t.ctty, true);
    await s.cli(['delete', '-f', cid]);
    assertNoLeftovers(s.state.root, cid);
  });

  test('a detached terminal without a console socket is refused', async () => {
    const b = s.bundle((c) => (c.process.terminal = true));
    const cid = uniqueId('notty');
    const r = await s.cli(['create', '-b', b.dir, cid]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /console-socket/);
    assertNoLeftovers(s.state.root, cid);
  });

  test('a bundle from `runc spec` runs unchanged (terminal relayed in the foreground)', { skip: hasBinary('runc') ? false : 'runc is not installed' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moat-runcspec-'));
    try {
      mkdirSync(join(dir, 'rootfs'));
      makeRootfs(join(dir, 'rootfs'));
      execFileSync('runc', ['spec'], { cwd: dir });
      const cid = uniqueId('runcspec');
      const r = await s.cli(['run', '-b', dir, cid], { input: 'echo hello-$((6*7))\nexit 3\n' });
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stdout, /hello-42/);
      assertNoLeftovers(s.state.root, cid);
    } finally {
      removeTree(dir);
    }
  });

  test('a bundle from `moat-oci spec` runs ordinary programs under its default seccomp profile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moat-moatspec-'));
    try {
      mkdirSync(join(dir, 'rootfs'));
      makeRootfs(join(dir, 'rootfs'));
      assert.equal((await s.cli(['spec', '-b', dir])).code, 0);
      const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
      cfg.process.terminal = false;
      cfg.process.args = ['/bin/sh', '-c', 'echo $(echo a | grep a) | wc -c; ls /proc/self/fd >/dev/null; sleep 0.01 & wait; /probe syscall-name mount str:none str:/mnt str:tmpfs 0 0; /probe syscall-name keyctl 0'];
      writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
      const cid = uniqueId('moatspec');
      const r = await s.cli(['run', '-b', dir, cid]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines[0], '2');
      assert.equal(JSON.parse(lines[1]!).errno, 'EPERM', 'mount is denied');
      assert.equal(JSON.parse(lines[2]!).errno, 'EPERM', 'keyctl is denied');
    } finally {
      removeTree(dir);
    }
  });

  test('exec into a stopped container fails', async () => {
    const b = s.bundle((c) => (c.process.args = ['/probe', 'exit', '0']));
    const cid = uniqueId('stopped');
    await s.cli(['run', '-d', '-b', b.dir, cid]);
    await new Promise((r) => setTimeout(r, 200));
    const r = await s.cli(['exec', cid, '/probe', 'id']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /stopped/);
    await s.cli(['delete', cid]);
  });
});
