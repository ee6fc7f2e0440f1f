// The create/start/state/kill/delete lifecycle as containerd's shim drives it, exit codes,
// and failures that must leave nothing behind.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, timeScale } from '../lib/bundle.js';
import { Scratch, assertNoLeftovers, uniqueId } from '../lib/oci.js';

const skip = isRoot() ? false : 'integration tests create containers and need root';

async function waitFor(fn: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms * timeScale;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail('condition not met in time');
}

// every test twice: through bin/moat-oci's C front (native/front.c) and with it off (Node only)
for (const front of ['1', '0']) describe(`container lifecycle (MOAT_OCI_FRONT=${front})`, { skip }, () => {
  let s: Scratch;
  before(() => (s = new Scratch({ MOAT_OCI_FRONT: front })));
  after(async () => s.cleanup());

  test('create, start, state, kill, delete', async () => {
    const b = s.bundle((c) => (c.process.args = ['/probe', 'pause']));
    const id = uniqueId('life');
    const pidFile = join(b.dir, 'pid');
    const cr = await s.cli(['create', '--bundle', b.dir, '--pid-file', pidFile, id]);
    assert.equal(cr.code, 0, cr.stderr);
    const st = JSON.parse((await s.cli(['state', id])).stdout);
    assert.equal(st.status, 'created');
    assert.equal(st.id, id);
    assert.equal(st.bundle, b.dir);
    assert.equal(Number(readFileSync(pidFile, 'utf8')), st.pid);
    // created: the process waits in the helper, the user's program has not run yet
    assert.match(readFileSync(`/proc/${st.pid}/cmdline`, 'utf8'), /^(?!\/probe)/);
    assert.equal((await s.cli(['start', id])).code, 0);
    assert.equal(JSON.parse((await s.cli(['state', id])).stdout).status, 'running');
    const second = await s.cli(['start', id]);
    assert.notEqual(second.code, 0, 'start twice is refused');
    assert.match(second.stderr, /running, not created/);
    const list = JSON.parse((await s.cli(['list', '--format', 'json'])).stdout);
    assert.ok(list.some((c: any) => c.id === id && c.status === 'running'));
    const ps = JSON.parse((await s.cli(['ps', '--format', 'json', id])).stdout);
    assert.deepEqual(ps, [st.pid]);
    const del = await s.cli(['delete', id]);
    assert.notEqual(del.code, 0, 'a running container is not deleted without --force');
    assert.equal((await s.cli(['kill', id, 'KILL'])).code, 0);
    await waitFor(async () => JSON.parse((await s.cli(['state', id])).stdout).status === 'stopped');
    assert.equal((await s.cli(['delete', id])).code, 0);
    assertNoLeftovers(s.state.root, id);
    const gone = await s.cli(['state', id]);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /does not exist/);
  });

  test('exec while create is still setting the container up waits for it: it never joins a half-made container', async () => {
    // the createRuntime hook runs in the middle of create, after the namespaces exist and the
    // pid is recorded but before pivot_root: an exec joining then would see the host's files
    const b = s.bundle((c) => (c.process.args = ['/probe', 'pause']));
    const c = b.readConfig();
    c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `touch ${b.dir}/hook-started; sleep 2`] }] };
    b.writeConfig(c);
    const id = uniqueId('early');
    const creating = s.cli(['create', '--bundle', b.dir, id]);
    try {
      await waitFor(async () => existsSync(join(b.dir, 'hook-started')));
      // /probe exists only in the container's root
      const ex = await s.cli(['exec', id, '/probe', 'exit', '0']);
      assert.equal(ex.code, 0, ex.stderr);
      assert.equal((await creating).code, 0);
    } finally {
      await creating;
      await s.cli(['delete', '--force', id]);
    }
    assertNoLeftovers(s.state.root, id);
  });

  test('delete --force kills a running container; delete of a created one needs no force', async () => {
    const b = s.bundle((c) => (c.process.args = ['/probe', 'pause']));
    const id = uniqueId('force');
    assert.equal((await s.cli(['run', '-d', '-b', b.dir, id])).code, 0);
    const pid = JSON.parse((await s.cli(['state', id])).stdout).pid;
    assert.equal((await s.cli(['delete', '--force', id])).code, 0);
    const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
    assert.ok(!stat || / Z /.test(stat), `process ${pid} gone (or a zombie awaiting its reaper)`);
    assertNoLeftovers(s.state.root, id);
    const id2 = uniqueId('created');
    assert.equal((await s.cli(['create', '-b', b.dir, id2])).code, 0);
    assert.equal((await s.cli(['delete', id2])).code, 0);
    assertNoLeftovers(s.state.root, id2);
  });

  test('run exits with the container\'s status, or 128+N for signal N', async () => {
    assert.equal((await s.run(() => {}, ['/probe', 'exit', '7'])).code, 7);
    // pid 1 cannot be killed from inside its namespace: kill it from outside
    const b = s.bundle((c) => (c.process.args = ['/probe', 'pause']));
    const id = uniqueId('sig');
    const running = s.cli(['run', '-b', b.dir, id]);
    await waitFor(async () => (await s.cli(['state', id])).stdout.includes('"running"'));
    assert.equal((await s.cli(['kill', id, '9'])).code, 0);
    assert.equal((await running).code, 137);
    assertNoLeftovers(s.state.root, id);
    const missing = await s.run(() => {}, ['/no/such/program']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no\/such\/program/);
    assertNoLeftovers(s.state.root, missing.id);
  });

  test('kill sends the named signal; --all reaches every process', async () => {
    const b = s.bundle((c) => (c.process.args = ['/bin/sh', '-c', '/probe pause & /probe pause & wait']));
    const id = uniqueId('kill');
    assert.equal((await s.cli(['run', '-d', '-b', b.dir, id])).code, 0);
    await waitFor(async () => JSON.parse((await s.cli(['ps', '--format', 'json', id])).stdout).length === 3);
    assert.equal((await s.cli(['kill', '--all', id, 'SIGUSR1'])).code, 0);
    await waitFor(async () => JSON.parse((await s.cli(['state', id])).stdout).status === 'stopped');
    assert.equal((await s.cli(['kill', id, 'NOPE'])).code !== 0, true);
    assert.equal((await s.cli(['delete', id])).code, 0);
  });

  test('create of an existing ID fails and leaves the existing container untouched', async () => {
    const b = s.bundle((c) => (c.process.args = ['/probe', 'pause']));
    const id = uniqueId('dup');
    assert.equal((await s.cli(['run', '-d', '-b', b.dir, id])).code, 0);
    const before = JSON.parse((await s.cli(['state', id])).stdout);
    const again = await s.cli(['create', '-b', b.dir, id]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already exists/);
    const after = JSON.parse((await s.cli(['state', id])).stdout);
    assert.equal(after.status, 'running');
    assert.equal(after.pid, before.pid);
    assert.equal((await s.cli(['delete', '-f', id])).code, 0);
  });

  test('bad config: every issue named by its JSON path, nothing left behind', async () => {
    const b = s.bundle((c) => {
      c.process.user.uid = -1;
      c.mounts[1].destination = 'relative/dev';
      c.linux.namespaces.push({ type: 'bogus' });
      c.linux.sysctl = { 'kernel.panic': '1' };
    });
    const id = uniqueId('bad');
    const r = await s.cli(['create', '-b', b.dir, id]);
    assert.equal(r.code, 1);
    for (const p of ['process.user.uid', 'mounts[1].destination', 'linux.namespaces[6].type', 'linux.sysctl.kernel.panic']) assert.ok(r.stderr.includes(p), `${p} in ${r.stderr}`);
    assertNoLeftovers(s.state.root, id);
  });

  test('a failure during setup names the config field and leaves nothing behind', async () => {
    const b = s.bundle((c) => c.mounts.push({ destination: '/data', type: 'bind', source: '/nonexistent/moat/source', options: ['rbind'] }));
    const id = uniqueId('fail');
    const r = await s.cli(['create', '-b', b.dir, id]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /`mounts\[7\]`: bind source `\/nonexistent\/moat\/source`: ENOENT/);
    assertNoLeftovers(s.state.root, id);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    assert.ok(!mounts.includes(b.rootfs), 'no mount of the rootfs left in the host namespace');
  });

  test('hooks run in order, each with the state on stdin', async () => {
    const b = s.bundle();
    const logf = join(b.dir, 'hooks.log');
    const hook = (name: string) => {
      const path = join(b.dir, `hook-${name}.sh`);
      writeFileSync(path, `#!/bin/sh\nread -r state\necho "${name} $state" >> ${logf}\n`, { mode: 0o755 });
      return { path };
    };
    const cfg = b.readConfig();
    cfg.process.args = ['/probe', 'exit', '0'];
    cfg.hooks = {
      prestart: [hook('prestart')], createRuntime: [hook('createRuntime')],
      // createContainer runs in the container's namespaces before pivot: host paths resolve
      createContainer: [hook('createContainer')],
      poststart: [hook('poststart')], poststop: [hook('poststop')],
    };
    b.writeConfig(cfg);
    const id = uniqueId('hooks');
    const r = await s.cli(['run', '-b', b.dir, id]);
    assert.equal(r.code, 0, r.stderr);
    // run's delete removes the state dir off its path (StateStore.remove): done by the exit
    assert.deepEqual(readdirSync(s.state.root).filter((n) => n === id || n.startsWith('.gone-')), [], 'the state dir is gone once run has exited');
    const lines = readFileSync(logf, 'utf8').trim().split('\n');
    assert.deepEqual(lines.map((l) => l.split(' ')[0]), ['prestart', 'createRuntime', 'createContainer', 'poststart', 'poststop']);
    for (const l of lines) assert.equal(JSON.parse(l.slice(l.indexOf(' ') + 1)).id, id);
    assert.equal(JSON.parse(lines[4]!.slice(lines[4]!.indexOf(' ') + 1)).status, 'stopped');
  });

  test('a failing hook stops create and leaves nothing behind', async () => {
    const b = s.bundle((c) => (c.hooks = { createRuntime: [{ path: '/bin/false' }] }));
    const id = uniqueId('hookfail');
    const r = await s.cli(['create', '-b', b.dir, id]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /createRuntime hook `\/bin\/false` exited with status 1/);
    assertNoLeftovers(s.state.root, id);
  });

  test('a create killed half-way leaves a record that delete cleans up', async () => {
    const b = s.bundle((c) => (c.hooks = { createRuntime: [{ path: '/bin/sleep', args: ['sleep', '30'] }] }));
    const id = uniqueId('crash');
    const { spawn } = await import('node:child_process');
    const { cliPath } = await import('../lib/bundle.js');
    const cli = spawn(process.execPath, [cliPath, '--root', s.state.root, 'create', '-b', b.dir, id], { stdio: 'ignore' });
    // wait until the cgroup exists and the hook runs, then kill the CLI outright
    await waitFor(async () => existsSync(join(s.state.root, id, 'state.json')) && JSON.parse(readFileSync(join(s.state.root, id, 'state.json'), 'utf8')).cgroup !== undefined);
    await new Promise((r) => setTimeout(r, 200));
    cli.kill('SIGKILL');
    await new Promise((r) => cli.on('exit', r));
    const st = await s.cli(['state', id]);
    assert.equal(st.code, 0, 'the half-made container is visible');
    assert.equal((await s.cli(['delete', '--force', id])).code, 0);
    assertNoLeftovers(s.state.root, id);
  });
});
