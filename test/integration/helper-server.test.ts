// The helper server (the library path's fork server): each scenario runs in this process with
// the server on and with it off (a spawned helper), and both must give the same result, seen
// from inside the container: its open fds (nothing of the server leaks in), exit statuses, a
// forwarded signal, a failure naming the config field. And an idle server never keeps Node
// alive, and goes away with it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, repoRoot, timeScale } from '../lib/bundle.js';
import { Scratch, uniqueId } from '../lib/oci.js';
import { runContainer } from '../../src/runtime/run.js';
import { createContainer } from '../../src/runtime/create.js';
import { deleteContainer, startContainer } from '../../src/runtime/lifecycle.js';
import { loadBundle } from '../../src/runtime/load-spec.js';
import { setHelperServer } from '../../src/runtime/helper-mode.js';
import { cpusetKeeperParent } from '../../src/runtime/helper-server.js';
import { probeCgroupHost, type ContainerCgroup } from '../../src/runtime/cgroups/index.js';
import { placeContainerCgroup } from '../../src/runtime/cgroups/cgroup-placement.js';
import { recipeTesting } from '../../src/runtime/cgroups/cgroup-recipe.js';
import { cgroupHostInfo } from '../../src/runtime/host.js';
import { configureLog } from '../../src/runtime/log.js';

const skip = isRoot() ? false : 'integration tests create containers and need root';

/** Pids of `moat-helper serve` processes whose parent is `ppid` (or, with `verb`, of another
 * verb: `spare`). */
function servers(ppid: number, verb = 'serve'): number[] {
  const out: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== ppid) continue;
      if (readFileSync(`/proc/${n}/cmdline`, 'utf8').split('\0').slice(1, 2)[0] === verb) out.push(Number(n));
    } catch {
      /* gone */
    }
  }
  return out;
}

describe('helper server', { skip }, () => {
  let s: Scratch;
  let out: string;
  before(() => {
    s = new Scratch();
    out = join(s.state.root, '..', `${uniqueId('out')}`);
    mkdirSync(out, { mode: 0o755 });
  });
  after(async () => {
    setHelperServer(true);
    await s.cleanup();
    const { removeTree } = await import('../lib/bundle.js');
    removeTree(out);
  });

  // a container whose process writes what the probe prints into the host dir `out`
  function bundleWriting(args: string[], file: string) {
    return s.bundle((c) => {
      c.process.args = ['/bin/sh', '-c', `${args.join(' ')} > /out/${file}`];
      c.root.readonly = true;
      c.mounts.push({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] });
    });
  }

  for (const mode of ['server', 'spawn'] as const) {
    test(`${mode}: the container's fds are its stdio only; exit statuses pass through`, async () => {
      setHelperServer(mode === 'server');
      const b = bundleWriting(['/probe', 'fds'], `fds-${mode}.json`);
      const code = await runContainer({ root: s.state.root, id: uniqueId('hs'), loaded: loadBundle(b.dir, s.state.root), stdio: ['ignore', 'ignore', 'ignore'] });
      assert.equal(code, 0);
      const fds = JSON.parse(readFileSync(join(out, `fds-${mode}.json`), 'utf8'));
      // stdin and stderr /dev/null, stdout the file: nothing of the helper or the server
      assert.deepEqual(fds.map((f: { fd: number; target: string }) => `${f.fd} ${f.target}`), ['0 /dev/null', `1 /out/fds-${mode}.json`, '2 /dev/null']);
      const e = s.bundle((c) => (c.process.args = ['/probe', 'exit', '7']));
      assert.equal(await runContainer({ root: s.state.root, id: uniqueId('hs'), loaded: loadBundle(e.dir), stdio: ['ignore', 'inherit', 'inherit'] }), 7);
      if (mode === 'server') assert.equal(servers(process.pid).length, 1, 'one server, forked from');
      else assert.equal(servers(process.pid).length <= 1, true);
    });

    // the library's run has no separate start: no exec fifo, never `created`, the process runs
    // once set up, and poststart hooks still run after it started (the CLI's `run` keeps the
    // fifo: the C front replays it as create and start)
    test(`${mode}: runContainer starts the container by itself; poststart hooks run after`, async () => {
      setHelperServer(mode === 'server');
      const go = join(out, `go-${mode}`), started = join(out, `started-${mode}`), hooked = join(out, `poststart-${mode}`);
      const b = s.bundle((c) => {
        c.process.args = ['/bin/sh', '-c', `: > /out/started-${mode}; while [ ! -e /out/go-${mode} ]; do sleep 0.05; done; exit 3`];
        c.mounts.push({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] });
        c.hooks = { poststart: [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${hooked}`] }] };
      });
      const id = uniqueId('hsrun');
      const root = s.state.root;
      const run = runContainer({ root, id, loaded: loadBundle(b.dir, root), stdio: ['ignore', 'ignore', 'ignore'] });
      try {
        const end = Date.now() + 20_000 * timeScale;
        while (!(existsSync(started) && existsSync(hooked)) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
        assert.ok(existsSync(started), 'the container process ran without a start');
        assert.equal(existsSync(join(root, id, 'exec.fifo')), false, 'no exec fifo');
        const { containerState } = await import('../../src/runtime/lifecycle.js');
        assert.equal(containerState(root, id).status, 'running');
        const end2 = Date.now() + 5000 * timeScale;
        while (!readFileSync(hooked, 'utf8') && Date.now() < end2) await new Promise((r) => setTimeout(r, 10));
        assert.equal(JSON.parse(readFileSync(hooked, 'utf8')).status, 'running', 'the poststart hook got the running state');
      } finally {
        mkdirSync(go);
      }
      assert.equal(await run, 3);
      assert.equal(existsSync(join(root, id)), false);
    });

    test(`${mode}: a signal sent to the helper reaches the container's process`, async () => {
      setHelperServer(mode === 'server');
      const b = s.bundle((c) => (c.process.args = ['/probe', 'pause']));
      const id = uniqueId('hs');
      const root = s.state.root;
      const { helper, record } = await createContainer({ root, id, loaded: loadBundle(b.dir), mode: 'foreground', stdio: ['ignore', 'ignore', 'ignore'] });
      try {
        await startContainer(root, id);
        // the probe is its namespace's init: a signal without a handler (or sigwait) would be
        // dropped, so wait until it has blocked or caught SIGTERM
        const end = Date.now() + 10_000 * timeScale;
        const termBit = 1n << 14n;
        const waits = () => {
          const st = existsSync(`/proc/${record.pid}/status`) ? readFileSync(`/proc/${record.pid}/status`, 'utf8') : '';
          return ['SigBlk', 'SigCgt'].some((k) => (BigInt('0x' + (new RegExp(`^${k}:\\s*([0-9a-f]+)`, 'm').exec(st)?.[1] ?? '0')) & termBit) !== 0n);
        };
        while (!waits() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
        helper.kill('SIGTERM');
        const status = await Promise.race([helper.exit, new Promise<number>((r) => setTimeout(() => r(-1), 10_000 * timeScale))]);
        assert.equal(status, 128 + 15, 'the paused probe died of the forwarded SIGTERM');
      } finally {
        await deleteContainer(root, id, true);
      }
    });

    test(`${mode}: a failing op is reported against its config field, and nothing is left`, async () => {
      setHelperServer(mode === 'server');
      const b = s.bundle((c) => c.mounts.push({ destination: '/x', type: 'bind', source: '/nonexistent-moat-src', options: ['rbind'] }));
      const id = uniqueId('hs');
      await assert.rejects(
        runContainer({ root: s.state.root, id, loaded: loadBundle(b.dir), stdio: ['ignore', 'ignore', 'ignore'] }),
        (e: Error) => /mounts\[\d+\]/.test(e.message) && /ENOENT/.test(e.message),
      );
      assert.equal(existsSync(join(s.state.root, id)), false);
    });
  }

  // the server loads each distinct device program once and lends its fd to the helpers it
  // forks (native/server.c): every container still gets it attached to its own cgroup2 dir,
  // and no container process ever holds it
  test('server: a lent device program is attached to each container and held by none of them', async (t) => {
    const host = probeCgroupHost();
    if (host.mode !== 'hybrid' || !host.v1.devices) return t.skip('needs a hybrid cgroup host with the v1 `devices` controller (the program is then shown alone)');
    setHelperServer(true);
    for (const n of [1, 2, 3]) {
      const id = uniqueId('hsdev');
      // a createRuntime hook opens the v1 list to all: only the program is left to refuse
      const v1 = join(host.v1.devices, host.self.devices ?? '/', `moat-${id}`);
      const b = s.bundle((c) => {
        c.process.args = ['/bin/sh', '-c', `/probe fds > /out/devfds-${n}.json; /probe mknod /dev/sdz b 8 0 > /out/mknod-${n}.json`];
        for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_MKNOD');
        c.mounts.push({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] });
        c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `echo a > ${v1}/devices.allow`] }] };
      });
      const code = await runContainer({ root: s.state.root, id, loaded: loadBundle(b.dir, s.state.root), stdio: ['ignore', 'ignore', 'ignore'] });
      assert.equal(code, 0);
      const fds = JSON.parse(readFileSync(join(out, `devfds-${n}.json`), 'utf8'));
      assert.deepEqual(fds.map((f: { fd: number; target: string }) => `${f.fd} ${f.target}`), ['0 /dev/null', `1 /out/devfds-${n}.json`, '2 /dev/null'], `container ${n}`);
      const mk = JSON.parse(readFileSync(join(out, `mknod-${n}.json`), 'utf8'));
      assert.equal(mk.errno, 'EPERM', `container ${n}: the program refuses \`b 8:0\``);
    }
    // and the program the containers got is the server's: it holds one loaded program
    const [server] = servers(process.pid);
    assert.ok(server, 'a server runs');
    const progs = readdirSync(`/proc/${server}/fd`).filter((fd) => {
      try { return readlinkSync(`/proc/${server}/fd/${fd}`) === 'anon_inode:bpf-prog'; } catch { return false; }
    });
    assert.equal(progs.length, 1, 'one program for one device policy');
  });

  // a process's second container of a config gets its cgroup from its helper, which makes the
  // dirs and writes that Node made for the first (the recipe, cgroup-recipe.ts) before its Plan
  // comes: the same limits and device list, seen from the host while each container waits
  test('server: later containers of a config get the cgroup the first got, made by their helpers', async () => {
    setHelperServer(true);
    const logFile = join(out, 'recipe.log');
    configureLog({ debug: true, file: logFile });
    const b = s.bundle((c) => {
      c.process.args = ['/bin/true'];
      c.linux.resources = { ...c.linux.resources, pids: { limit: 77 }, memory: { limit: 96 * 1024 * 1024 }, cpu: { shares: 512 } };
    });
    const files = ['pids.max', 'memory.limit_in_bytes', 'memory.max', 'cpu.shares', 'cpu.weight', 'cpuset.cpus', 'cpuset.mems', 'devices.list'];
    const seen: string[] = [];
    try {
      for (const n of [1, 2, 3]) {
        const id = uniqueId('hsrecipe');
        const { helper, record } = await createContainer({ root: s.state.root, id, loaded: loadBundle(b.dir, s.state.root), mode: 'foreground', stdio: ['ignore', 'ignore', 'ignore'] });
        try {
          const cg = record.cgroup as ContainerCgroup;
          const view: Record<string, string> = {};
          for (const [key, dir] of Object.entries(cg.dirs)) {
            assert.ok(dir.endsWith(`/moat-${id}`), `${key}: ${dir} is this container's`);
            for (const f of files) if (existsSync(join(dir, f))) view[`${key}/${f}`] = readFileSync(join(dir, f), 'utf8');
          }
          assert.ok(Object.keys(view).some((k) => k.endsWith('pids.max')), 'a pids limit to compare');
          seen.push(JSON.stringify(view));
          await startContainer(s.state.root, id);
          assert.equal(await helper.exit, 0);
        } finally {
          await deleteContainer(s.state.root, id, true);
        }
        assert.ok(Object.values((record.cgroup as ContainerCgroup).dirs).every((d) => !existsSync(d)), `container ${n}: its cgroup dirs are gone`);
      }
    } finally {
      configureLog({ debug: false, file: undefined });
    }
    assert.equal(seen[1], seen[0], 'the second container\'s cgroup is the first\'s');
    assert.equal(seen[2], seen[0], 'and the third\'s');
    assert.match(seen[0]!, /"[^"]*pids\.max":"77\\n"/);
    const made = readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes('cgroup made by its helper from the recipe'));
    assert.equal(made.length, 2, 'the second and third cgroups came from the recipe');
  });

  // a config of its own (its pids limit), one container of it run, so that its recipe is kept
  async function recipeKept(pidsLimit: number) {
    setHelperServer(true);
    const b = s.bundle((c) => {
      c.process.args = ['/bin/true'];
      c.linux.resources = { ...c.linux.resources, pids: { limit: pidsLimit } };
    });
    assert.equal(await runContainer({ root: s.state.root, id: uniqueId('hsrecipe'), loaded: loadBundle(b.dir, s.state.root), stdio: ['ignore', 'ignore', 'ignore'] }), 0);
    return b;
  }

  // a recipe that fails at a step (here a limit the kernel refuses, put in by the test): the
  // dirs the helper made are removed, Node makes the cgroup itself and starts another helper,
  // and the container runs with its limits; nothing is left
  test('server: a cgroup recipe that fails at a step: Node makes the cgroup and the container runs', async () => {
    const b = await recipeKept(55);
    const logFile = join(out, 'recipe-fail.log');
    configureLog({ debug: true, file: logFile });
    recipeTesting.tamper = (steps) => steps.map((st) => (st.kind === 'write' && st.file === 'pids.max' ? { ...st, value: 'not-a-number' } : st));
    const id = uniqueId('hsrecipe');
    const dirs = [...new Set(Object.values(placeContainerCgroup(cgroupHostInfo(), id).dirs))];
    try {
      const { helper, record } = await createContainer({ root: s.state.root, id, loaded: loadBundle(b.dir, s.state.root), mode: 'foreground', stdio: ['ignore', 'ignore', 'ignore'] });
      try {
        const pids = Object.values((record.cgroup as ContainerCgroup).dirs).find((d) => existsSync(join(d, 'pids.max')))!;
        assert.equal(readFileSync(join(pids, 'pids.max'), 'utf8'), '55\n', 'the limit, as Node wrote it');
        await startContainer(s.state.root, id);
        assert.equal(await helper.exit, 0);
      } finally {
        await deleteContainer(s.state.root, id, true);
      }
    } finally {
      recipeTesting.tamper = undefined;
      configureLog({ debug: false, file: undefined });
    }
    const lines = readFileSync(logFile, 'utf8');
    assert.match(lines, /cgroup recipe: step \d+ failed \(errno 22\); making the cgroup in Node/);
    assert.doesNotMatch(lines, /cgroup made by its helper from the recipe/);
    for (const d of dirs) assert.equal(existsSync(d), false, `${d}: gone`);
    assert.equal(existsSync(join(s.state.root, id)), false, 'no state');
  });

  // a dir of the next container's cgroup that is there already (planted here): no recipe is
  // sent (its dirs must be this create's), Node's own create refuses as it always has, and
  // the dir that was there stays
  test('server: a cgroup dir that is there already: no recipe, Node\'s create refuses, nothing of it removed', async () => {
    const b = await recipeKept(56);
    const id = uniqueId('hsrecipe');
    const dirs = [...new Set(Object.values(placeContainerCgroup(cgroupHostInfo(), id).dirs))];
    const planted = dirs[dirs.length - 1]!;
    mkdirSync(planted);
    const logFile = join(out, 'recipe-planted.log');
    configureLog({ debug: true, file: logFile });
    try {
      await assert.rejects(runContainer({ root: s.state.root, id, loaded: loadBundle(b.dir, s.state.root), stdio: ['ignore', 'ignore', 'ignore'] }), /already exists/);
      for (const d of dirs.slice(0, -1)) assert.equal(existsSync(d), false, `${d}: not left`);
      assert.ok(existsSync(planted), 'the dir that was there before stays');
      assert.equal(existsSync(join(s.state.root, id)), false, 'no state');
    } finally {
      configureLog({ debug: false, file: undefined });
      rmdirSync(planted);
    }
    assert.doesNotMatch(existsSync(logFile) ? readFileSync(logFile, 'utf8') : '', /cgroup recipe|from the recipe/, 'no recipe was sent');
    // and the config's next container is made from the recipe again
    assert.equal(await runContainer({ root: s.state.root, id: uniqueId('hsrecipe'), loaded: loadBundle(b.dir, s.state.root), stdio: ['ignore', 'ignore', 'ignore'] }), 0);
  });

  // the server starts the next container's helper ahead (native/server.c): it holds
  // nothing of the server's (its stdio and its socket only), and the next container uses it
  test('server: the spare helper started ahead holds only its stdio and socket', async () => {
    setHelperServer(true);
    const b = s.bundle((c) => (c.process.args = ['/bin/true']));
    assert.equal(await runContainer({ root: s.state.root, id: uniqueId('hsspare'), loaded: loadBundle(b.dir), stdio: ['ignore', 'ignore', 'ignore'] }), 0);
    const [server] = servers(process.pid);
    assert.ok(server, 'a server runs');
    const end = Date.now() + 5000 * timeScale;
    while (!servers(server!, 'spare').length && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    const [spare] = servers(server!, 'spare');
    assert.ok(spare, 'the server started a spare when the container got its Plan');
    // (while it starts, its re-exec check holds /proc/self/exe open for a moment)
    const fds = () => readdirSync(`/proc/${spare}/fd`).map(Number).sort((x, y) => x - y);
    const end2 = Date.now() + 5000 * timeScale;
    while (fds().length !== 4 && Date.now() < end2) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(fds(), [0, 1, 2, 3], 'stdio and its socket');
    assert.match(readlinkSync(`/proc/${spare}/fd/3`), /^socket:/);
    // the next container's helper is that spare: the container process is its child
    const id = uniqueId('hsspare');
    const { helper, record } = await createContainer({ root: s.state.root, id, loaded: loadBundle(b.dir), mode: 'foreground', stdio: ['ignore', 'ignore', 'ignore'] });
    try {
      const st = readFileSync(`/proc/${record.pid}/stat`, 'utf8');
      assert.equal(Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]), spare, 'the spare served this container');
      await startContainer(s.state.root, id);
      assert.equal(await helper.exit, 0);
    } finally {
      await deleteContainer(s.state.root, id, true);
    }
  });

  // runContainer holds create's lock on into start: between the two, the lock is ours (no
  // other verb can come between), and start releases it
  test('createContainer with holdLock: the lock stays ours until start releases it', async () => {
    setHelperServer(true);
    const b = s.bundle((c) => (c.process.args = ['/bin/true']));
    const id = uniqueId('hslock');
    const root = s.state.root;
    const { helper, release } = await createContainer({ root, id, loaded: loadBundle(b.dir), mode: 'foreground', stdio: ['ignore', 'ignore', 'ignore'], holdLock: true });
    try {
      assert.equal(typeof release, 'function');
      assert.equal(readFileSync(join(root, id, 'lock'), 'utf8'), String(process.pid), 'the lock names this process');
      await startContainer(root, id, release);
      assert.equal(existsSync(join(root, id, 'lock')), false, 'start released it');
      assert.equal(await helper.exit, 0);
    } finally {
      await deleteContainer(root, id, true);
    }
    assert.equal(existsSync(join(root, id)), false);
  });

  test('an idle server keeps no process alive, and exits with its process', async () => {
    const b = s.bundle((c) => (c.process.args = ['/bin/true']));
    const script = `
      const { runContainer } = await import(${JSON.stringify(join(repoRoot, 'dist/src/runtime/run.js'))});
      const { loadBundle } = await import(${JSON.stringify(join(repoRoot, 'dist/src/runtime/load-spec.js'))});
      const code = await runContainer({ root: ${JSON.stringify(s.state.root)}, id: ${JSON.stringify(uniqueId('hs'))}, loaded: loadBundle(${JSON.stringify(b.dir)}), stdio: ['ignore', 'ignore', 'ignore'] });
      await new Promise((r) => setTimeout(r, 300)); // time for the server's spare to be seen
      process.stdout.write(String(code));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    let server: number[] = [];
    const spares = new Set<number>();
    const poll = setInterval(() => {
      server = server.length ? server : servers(child.pid!);
      for (const p of server.flatMap((pid) => servers(pid, 'spare'))) spares.add(p);
    }, 5);
    const code = await new Promise<number | null>((res) => {
      const t = setTimeout(() => { child.kill('SIGKILL'); res(null); }, 20_000 * timeScale);
      child.on('close', (c) => (clearTimeout(t), res(c)));
    });
    clearInterval(poll);
    assert.equal(code, 0, 'the process ended by itself: the idle server did not hold its event loop');
    assert.equal(stdout, '0');
    for (const pid of server) {
      const end = Date.now() + 5000 * timeScale;
      while (existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z') && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      const st = existsSync(`/proc/${pid}`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
      assert.ok(!st || st.includes(') Z'), `server ${pid} exited with its process`);
      const keep = cpusetKeeperParent();
      if (keep) assert.equal(existsSync(join(keep, `moat--keep-${pid}`)), false, 'its cpuset keeper went with it');
    }
    assert.equal(spares.size, 1, 'the server had started a spare helper after the container');
    for (const pid of spares) {
      const end = Date.now() + 5000 * timeScale;
      const alive = () => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z');
      while (alive() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      assert.equal(alive(), false, `spare ${pid} ended with its server`);
    }
  });

  // the server keeps an empty cpuset cgroup while it runs (native/server.c: the kernel's cpuset
  // static keys then stay on); it removes it when it ends, by its process's end or a signal,
  // and a new server removes those of servers killed outright (here a planted one)
  test('the cpuset keeper: there while the server runs, empty; gone when it ends; dead ones swept', async (t) => {
    const parent = cpusetKeeperParent();
    if (!parent) return t.skip('no cpuset hierarchy this process may make a cgroup in');
    setHelperServer(true);
    const b = s.bundle((c) => (c.process.args = ['/bin/true']));
    assert.equal(await runContainer({ root: s.state.root, id: uniqueId('hskeep'), loaded: loadBundle(b.dir), stdio: ['ignore', 'ignore', 'ignore'] }), 0);
    const [mine] = servers(process.pid);
    assert.ok(mine, 'a server runs');
    const keeper = join(parent, `moat--keep-${mine}`);
    assert.ok(existsSync(keeper), `${keeper} exists`);
    assert.equal(readFileSync(join(keeper, 'cgroup.procs'), 'utf8'), '', 'nothing runs in it');
    // a keeper whose server is gone (a pid no process has), and a server ended by SIGTERM
    const gone = spawn('true');
    await new Promise((r) => gone.on('close', r));
    const stale = join(parent, `moat--keep-${gone.pid}`);
    mkdirSync(stale);
    try {
      const script = `
        const { runContainer } = await import(${JSON.stringify(join(repoRoot, 'dist/src/runtime/run.js'))});
        const { loadBundle } = await import(${JSON.stringify(join(repoRoot, 'dist/src/runtime/load-spec.js'))});
        await runContainer({ root: ${JSON.stringify(s.state.root)}, id: ${JSON.stringify(uniqueId('hskeep'))}, loaded: loadBundle(${JSON.stringify(b.dir)}), stdio: ['ignore', 'ignore', 'ignore'] });
        process.stdout.write('ran'); setInterval(() => {}, 1000);`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        await new Promise<void>((res, rej) => {
          const tm = setTimeout(() => rej(new Error('the child did not run its container')), 20_000 * timeScale);
          child.stdout.on('data', () => (clearTimeout(tm), res()));
        });
        const [theirs] = servers(child.pid!);
        assert.ok(theirs, 'the child runs a server');
        assert.equal(existsSync(stale), false, 'the new server removed the keeper of a server that is gone');
        assert.ok(existsSync(join(parent, `moat--keep-${theirs}`)), 'and made its own');
        process.kill(theirs!, 'SIGTERM');
        const end = Date.now() + 5000 * timeScale;
        while (existsSync(join(parent, `moat--keep-${theirs}`)) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
        assert.equal(existsSync(join(parent, `moat--keep-${theirs}`)), false, 'a server ended by SIGTERM removes its keeper');
      } finally {
        child.kill('SIGKILL');
        await new Promise((r) => child.on('close', r));
      }
    } finally {
      try { rmdirSync(stale); } catch { /* removed by the server */ }
    }
    assert.ok(existsSync(keeper), 'ours is still there');
  });

  // the server forks the helper before the Plan exists (prepareHelper); a create that fails
  // before its Plan is sent kills that helper: nothing of it stays
  test('server: a create that fails before its Plan leaves no helper waiting for one', async () => {
    setHelperServer(true);
    // a cgroup that exists already: createContainerCgroup refuses it, after the fork
    const taken = uniqueId('hstaken');
    const b = s.bundle((c) => (c.linux.cgroupsPath = `/${taken}`));
    const first = s.bundle((c) => { c.process.args = ['/bin/true']; c.linux.cgroupsPath = `/${taken}`; });
    const keepId = uniqueId('hsfirst');
    const { helper } = await createContainer({ root: s.state.root, id: keepId, loaded: loadBundle(first.dir), mode: 'foreground', stdio: ['ignore', 'ignore', 'ignore'] });
    try {
      const [server] = servers(process.pid);
      const id = uniqueId('hsfail');
      await assert.rejects(createContainer({ root: s.state.root, id, loaded: loadBundle(b.dir), mode: 'foreground', stdio: ['ignore', 'ignore', 'ignore'] }), /already exists/);
      assert.equal(existsSync(join(s.state.root, id)), false, 'no state');
      const children = () => readdirSync('/proc').filter((n) => /^\d+$/.test(n) && (() => { try { const st = readFileSync(`/proc/${n}/stat`, 'utf8'); return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]) === server; } catch { return false; } })());
      const end = Date.now() + 5000 * timeScale;
      // the first container's helper is the server's one child left
      while (children().length > 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      assert.equal(children().length, 1, 'the failed create\'s helper is gone');
    } finally {
      await deleteContainer(s.state.root, keepId, true);
      await helper.exit.catch(() => {});
    }
  });
});
