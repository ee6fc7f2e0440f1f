// bin/moat-oci's C front (native/front.c): `state`, `kill`, `start` and `delete` served from
// state.bin without Node, differentially against the Node path (MOAT_OCI_FRONT=0), crossed
// (one path makes, the other operates), and every case it must hand to Node: a corrupt,
// truncated, stale, missing or symlinked record, bad input, a held lock, hooks, no helper.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath, frontPath, isRoot, runCli, timeScale, type CliResult } from '../lib/bundle.js';
import { Scratch, assertNoLeftovers, uniqueId } from '../lib/oci.js';
import { probeCgroupHost } from '../../src/runtime/cgroups/index.js';

const skip = isRoot() ? false : 'integration tests create containers and need root';
const helperBuilt = existsSync(join(frontPath, '..', '..', 'native', 'moat-helper'));

async function waitFor(fn: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms * timeScale;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail('condition not met in time');
}

// stderr without the front's debug notes
const errText = (r: CliResult) => r.stderr.split('\n').filter((l) => !l.startsWith('moat-oci front: ')).join('\n');

describe('moat-oci CLI front', { skip: skip || (!helperBuilt && 'native/moat-helper is not built') }, () => {
  let s: Scratch;
  before(() => (s = new Scratch()));
  after(async () => s.cleanup());

  const front = (args: string[]) => s.cli(args, { env: { MOAT_OCI_FRONT: '1', MOAT_OCI_FRONT_DEBUG: '1' } });
  const node = (args: string[]) => s.cli(args, { env: { MOAT_OCI_FRONT: '0', MOAT_OCI_FRONT_DEBUG: '1' } });
  const served = (r: CliResult, verb: string) => assert.match(r.stderr, new RegExp(`moat-oci front: served ${verb}\\b`), `front served ${verb}: ${r.stderr}`);
  const toNode = (r: CliResult) => assert.match(r.stderr, /moat-oci front: to node/, `front handed over to node: ${r.stderr}`);
  const pausing = () => s.bundle((c) => {
    c.process.args = ['/probe', 'pause'];
    c.annotations = { 'org.example/key': 'a "quoted" value\nwith a newline', 'b': '' };
  });

  test('state documents are byte-identical through the front and through Node', async () => {
    const b = pausing();
    const id = uniqueId('same');
    assert.equal((await node(['create', '-b', b.dir, id])).code, 0);
    for (const expect of ['created', 'running', 'stopped']) {
      const f = await front(['state', id]);
      const n = await node(['state', id]);
      served(f, 'state');
      assert.equal(f.code, 0);
      assert.equal(JSON.parse(f.stdout).status, expect);
      assert.equal(f.stdout, n.stdout);
      if (expect === 'created') assert.equal((await node(['start', id])).code, 0);
      if (expect === 'running') {
        assert.equal((await node(['kill', id, 'KILL'])).code, 0);
        await waitFor(async () => JSON.parse((await node(['state', id])).stdout).status === 'stopped');
      }
    }
    assert.equal((await node(['delete', id])).code, 0);
    assertNoLeftovers(s.state.root, id);
  });

  test('created by Node, then started, signalled and deleted by the front', async () => {
    const b = pausing();
    const id = uniqueId('cross');
    assert.equal((await node(['create', '-b', b.dir, id])).code, 0);
    const st = await front(['start', id]);
    served(st, 'start');
    assert.equal(st.code, 0);
    assert.equal(JSON.parse((await node(['state', id])).stdout).status, 'running');
    const k = await front(['kill', id, 'SIGKILL']);
    served(k, 'kill');
    await waitFor(async () => JSON.parse((await node(['state', id])).stdout).status === 'stopped');
    const d = await front(['delete', id]);
    served(d, 'delete');
    assert.equal(d.code, 0, d.stderr);
    assertNoLeftovers(s.state.root, id);
  });

  test('crossed: started by the front and deleted by Node, started by Node and deleted by the front', async () => {
    const b = pausing();
    const [a, c] = [uniqueId('fa'), uniqueId('na')];
    for (const id of [a, c]) assert.equal((await node(['create', '-b', b.dir, id])).code, 0);
    served(await front(['start', a]), 'start');
    assert.equal((await node(['start', c])).code, 0);
    const nd = await node(['delete', '--force', a]);
    assert.equal(nd.code, 0, nd.stderr);
    const fd = await front(['delete', '--force', c]);
    served(fd, 'delete');
    assert.equal(fd.code, 0, fd.stderr);
    for (const id of [a, c]) assertNoLeftovers(s.state.root, id);
  });

  test('delete --force of a created container and of one with child processes', async () => {
    const b = s.bundle((c) => (c.process.args = ['/bin/sh', '-c', '/probe pause & /probe pause & wait']));
    const [created, running] = [uniqueId('fc'), uniqueId('fr')];
    assert.equal((await node(['create', '-b', b.dir, created])).code, 0);
    assert.equal((await node(['run', '-d', '-b', b.dir, running])).code, 0);
    await waitFor(async () => JSON.parse((await node(['ps', '--format', 'json', running])).stdout).length === 3);
    const pids: number[] = JSON.parse((await node(['ps', '--format', 'json', running])).stdout);
    const plain = await front(['delete', running]);
    assert.notEqual(plain.code, 0, 'a running container needs --force');
    assert.match(errText(plain), /is running: stop it first or use --force/);
    const dc = await front(['delete', created]);
    served(dc, 'delete');
    const dr = await front(['delete', '-f', running]);
    served(dr, 'delete');
    for (const pid of pids) {
      const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
      assert.ok(!stat || / Z /.test(stat), `process ${pid} gone`);
    }
    for (const id of [created, running]) assertNoLeftovers(s.state.root, id);
  });

  test('a corrupt, truncated, stale, missing or symlinked state.bin sends the command to Node, with the same result', async () => {
    const b = pausing();
    const id = uniqueId('bad');
    assert.equal((await node(['run', '-d', '-b', b.dir, id])).code, 0);
    const dir = join(s.state.root, id);
    const bin = join(dir, 'state.bin'), json = join(dir, 'state.json');
    const good = readFileSync(bin), goodJson = readFileSync(json);
    const expected = (await node(['state', id])).stdout;
    const damage: Record<string, () => void> = {
      truncated: () => truncateSync(bin, good.length - 3),
      'flipped byte': () => { const c = Buffer.from(good); c[c.length - 10]! ^= 1; writeFileSync(bin, c); },
      'bad magic': () => { const c = Buffer.from(good); c[0] = 0x4e; writeFileSync(bin, c); },
      'other version': () => { const c = Buffer.from(good); c[8] = 9; writeFileSync(bin, c); },
      'stale (state.json changed since)': () => writeFileSync(json, Buffer.concat([goodJson, Buffer.from(' ')])),
      missing: () => unlinkSync(bin),
      symlink: () => { copyFileSync(bin, `${bin}.real`); unlinkSync(bin); symlinkSync(`${bin}.real`, bin); },
    };
    for (const [what, spoil] of Object.entries(damage)) {
      spoil();
      const f = await front(['state', id]);
      toNode(f);
      assert.equal(f.stdout, expected, what);
      rmSync(`${bin}.real`, { force: true });
      rmSync(bin, { force: true });
      writeFileSync(bin, good);
      writeFileSync(json, goodJson);
    }
    truncateSync(bin, 10);
    const d = await front(['delete', '--force', id]);
    toNode(d);
    assert.equal(d.code, 0, d.stderr);
    assertNoLeftovers(s.state.root, id);
  });

  test('bad input: the front prints no error of its own, only what Node prints', async () => {
    const b = pausing();
    const id = uniqueId('input');
    assert.equal((await node(['run', '-d', '-b', b.dir, id])).code, 0);
    const lines: string[][] = [
      ['kill', id, 'NOPE'], ['kill', id, '65'], ['kill', id, '0'], ['kill', id, '-1'], ['start', id], ['delete', id], ['delete', '--force=false', id],
      ['state', 'no-such-container'], ['state', 'bad/id'], ['state', '.hidden'], ['state'], ['state', id, 'extra'],
      ['kill', '--bogus', id], ['kill'], ['start'], ['--log-format', 'yaml', 'state', id], ['--root'],
    ];
    for (const args of lines) {
      const [f, n] = [await front(args), await node(args)];
      assert.equal(f.code, n.code, `${args.join(' ')}: exit status`);
      assert.equal(errText(f), errText(n), `${args.join(' ')}: stderr`);
      assert.equal(f.stdout, n.stdout, `${args.join(' ')}: stdout`);
    }
    assert.equal(JSON.parse((await node(['state', id])).stdout).status, 'running', 'no bad line changed the container');
    assert.equal((await front(['delete', '-f', id])).code, 0);
    assertNoLeftovers(s.state.root, id);
  });

  test('a lock held by a live process: the front leaves the wait to Node', async () => {
    const b = pausing();
    const id = uniqueId('lock');
    assert.equal((await node(['create', '-b', b.dir, id])).code, 0);
    const lock = join(s.state.root, id, 'lock');
    writeFileSync(lock, String(process.pid));
    const starting = front(['start', id]);
    await new Promise((r) => setTimeout(r, 300 * timeScale));
    assert.equal(JSON.parse((await front(['state', id])).stdout).status, 'created', 'start waited for the lock');
    unlinkSync(lock);
    const r = await starting;
    toNode(r);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse((await front(['state', id])).stdout).status, 'running');
    served(await front(['delete', '-f', id]), 'delete');
    assertNoLeftovers(s.state.root, id);
  });

  test('a paused container: state, kill and delete go to Node', async () => {
    const b = pausing();
    const id = uniqueId('pause');
    assert.equal((await node(['run', '-d', '-b', b.dir, id])).code, 0);
    const p = await node(['pause', id]);
    assert.equal(p.code, 0, p.stderr);
    const st = await front(['state', id]);
    toNode(st);
    assert.equal(JSON.parse(st.stdout).status, 'paused');
    const plain = await front(['delete', id]);
    toNode(plain);
    assert.match(errText(plain), /is paused: stop it first or use --force/);
    const d = await front(['delete', '-f', id]);
    toNode(d);
    assert.equal(d.code, 0, d.stderr);
    assertNoLeftovers(s.state.root, id);
  });

  test('concurrent deletes of one container: one deletes, the others find it gone', async () => {
    const b = pausing();
    const id = uniqueId('race');
    assert.equal((await node(['run', '-d', '-b', b.dir, id])).code, 0);
    const rs = await Promise.all([front(['delete', '-f', id]), front(['delete', '-f', id]), node(['delete', '-f', id]), front(['delete', '-f', id])]);
    assert.equal(rs.filter((r) => r.code === 0).length, 1, rs.map((r) => r.stderr).join('\n'));
    for (const r of rs) if (r.code !== 0) assert.match(errText(r), /does not exist|is locked/);
    assertNoLeftovers(s.state.root, id);
  });

  test('hooks: start and delete go to Node, which runs them', async () => {
    const b = s.bundle((c) => (c.process.args = ['/probe', 'pause']));
    const cfg = b.readConfig();
    cfg.hooks = { poststart: [{ path: '/bin/touch', args: ['touch', join(b.dir, 'poststart')] }], poststop: [{ path: '/bin/touch', args: ['touch', join(b.dir, 'poststop')] }] };
    b.writeConfig(cfg);
    const id = uniqueId('hooks');
    assert.equal((await node(['create', '-b', b.dir, id])).code, 0);
    served(await front(['state', id]), 'state');
    const st = await front(['start', id]);
    toNode(st);
    assert.ok(existsSync(join(b.dir, 'poststart')));
    const d = await front(['delete', '-f', id]);
    toNode(d);
    assert.ok(existsSync(join(b.dir, 'poststop')));
    assertNoLeftovers(s.state.root, id);
  });

  // ---- create and run from the Plan cache (native/front-create.c, src/runtime/plan-cache.ts) ----
  const hit = (r: CliResult) => assert.match(r.stderr, /moat-oci front: plan cache hit/, `plan cache hit: ${r.stderr}`);
  const miss = (r: CliResult) => assert.match(r.stderr, /moat-oci front: plan cache miss/, `plan cache miss: ${r.stderr}`);
  const cacheDir = () => join(s.state.root, '.plan-cache');

  test('the inside of a container is the same from the Plan cache as from Node', async () => {
    const cases: [string[], (c: any) => void][] = [
      [['pid1'], () => {}], [['id'], (c) => (c.process.user = { uid: 1000, gid: 1000, additionalGids: [5, 44] })],
      [['status'], () => {}], [['hostname'], (c) => (c.hostname = 'cached')], [['mounts'], () => {}], [['ls', '/dev'], () => {}],
      [['rlimits'], (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 123, hard: 456 }])], [['cwd'], (c) => (c.process.cwd = '/tmp')],
      [['env'], (c) => c.process.env.push('GREETING=hello world')], [['umask'], (c) => (c.process.user.umask = 0o077)], [['fds'], () => {}],
      [['read', '/proc/self/cgroup'], () => {}], [['ls', '/sys/fs/cgroup'], (c) => c.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro'] })],
    ];
    for (const [args, config] of cases) {
      const b = s.bundle((c) => ((c.process.args = ['/probe', ...args]), config(c)));
      const first = await front(['run', '-b', b.dir, uniqueId('in')]);
      miss(first);
      const cached = await front(['run', '-b', b.dir, uniqueId('in')]);
      hit(cached);
      served(cached, 'run');
      const plain = await node(['run', '-b', b.dir, uniqueId('in')]);
      assert.equal(cached.code, plain.code, `${args.join(' ')}: ${cached.stderr}`);
      // what differs from any run to the next: inode and device numbers (a fresh proc, sysfs
      // or tmpfs gets the next free anonymous device, which other mounts on the host move),
      // mount ids, the fd table's size and memory figures of /proc/PID/status
      const noisy = new Set(['ino', 'devMajor', 'devMinor', 'majorMinor', 'raw', 'mountId', 'parentId', 'id', 'parent', 'dev']);
      const norm = (t: string) => JSON.stringify(JSON.parse(t.replace(/in-\d+-\d+-[0-9a-f]+/g, 'ID').replace(/moat-cli-\w+/g, 'CLI')), (k, v) => (noisy.has(k) ? undefined : v));
      assert.equal(norm(cached.stdout), norm(plain.stdout), args.join(' '));
      assert.equal(errText(cached).replace(/moat-oci front: .*\n/g, ''), errText(plain), `${args.join(' ')}: warnings`);
    }
    for (const id of readdirSync(s.state.root).filter((n) => !n.startsWith('.'))) assert.fail(`left behind: ${id}`);
  });

  test('create from the Plan cache: state, pid file, start, kill and delete, crossed with Node', async () => {
    const b = pausing();
    const warm = uniqueId('warm');
    miss(await front(['create', '-b', b.dir, warm]));
    const id = uniqueId('pc');
    const pidFile = join(b.dir, 'pc.pid');
    const cr = await front(['create', '--bundle', b.dir, '--pid-file', pidFile, id]);
    hit(cr);
    served(cr, 'create');
    assert.equal(cr.code, 0, cr.stderr);
    const [ns, fs] = [await node(['state', id]), await front(['state', id])];
    assert.equal(ns.stdout, fs.stdout, 'Node reads the front\'s state.json as the front reads its state.bin');
    const st = JSON.parse(ns.stdout);
    assert.equal(st.status, 'created');
    assert.equal(Number(readFileSync(pidFile, 'utf8')), st.pid);
    const rec = JSON.parse(readFileSync(join(s.state.root, id, 'state.json'), 'utf8'));
    const other = JSON.parse(readFileSync(join(s.state.root, warm, 'state.json'), 'utf8'));
    assert.deepEqual(Object.keys(rec), Object.keys(other));
    assert.deepEqual(rec.spec, other.spec);
    assert.deepEqual(Object.values(rec.cgroup.dirs).map((d: any) => d.replace(id, 'X')), Object.values(other.cgroup.dirs).map((d: any) => d.replace(warm, 'X')));
    for (const d of Object.values(rec.cgroup.dirs) as string[]) assert.ok(existsSync(d), `cgroup ${d} made`);
    assert.equal((await node(['start', id])).code, 0);
    assert.equal(JSON.parse((await front(['state', id])).stdout).status, 'running');
    assert.deepEqual(JSON.parse((await node(['ps', '--format', 'json', id])).stdout), [st.pid], 'the container runs in its cgroup, the helper is gone');
    assert.equal((await node(['delete', '-f', id])).code, 0);
    served(await front(['delete', '-f', warm]), 'delete');
    for (const x of [id, warm]) assertNoLeftovers(s.state.root, x);
  });

  test('the pid file is written through a new file of an unpredictable name: a symlink planted at the old name `.<pid>.pid` is never followed (front and Node)', async () => {
    const b = pausing();
    const warm = uniqueId('warm');
    miss(await front(['create', '-b', b.dir, warm]));
    const ids = [warm];
    const victim = join(b.dir, 'victim');
    // the shell plants the symlink at `.$$.pid` and execs the CLI: bin/moat-oci, the helper's
    // sealed re-exec and Node all keep that pid, so the old name is exactly this one
    const plant = ['sh', '-c', 'ln -s "$0" "$1/.$$.pid" && shift && exec "$@"'];
    for (const [how, env] of [['front', { MOAT_OCI_FRONT: '1', MOAT_OCI_FRONT_DEBUG: '1' }], ['node', { MOAT_OCI_FRONT: '0' }]] as const) {
      writeFileSync(victim, 'untouched');
      const dir = mkdtempSync(join(b.dir, 'pids-'));
      const pidFile = join(dir, 'c.pid');
      const id = uniqueId('pf');
      ids.push(id);
      const r = await runCli(['--root', s.state.root, 'create', '-b', b.dir, '--pid-file', pidFile, id], { env, wrapper: [...plant, victim, dir] });
      if (how === 'front') hit(r), served(r, 'create');
      assert.equal(r.code, 0, `${how}: ${r.stderr}`);
      assert.equal(readFileSync(victim, 'utf8'), 'untouched', `${how}: the file the planted symlink points to is untouched`);
      const st = JSON.parse((await node(['state', id])).stdout);
      assert.equal(Number(readFileSync(pidFile, 'utf8')), st.pid, `${how}: the pid file holds the pid`);
      const rest = readdirSync(dir).filter((n) => n !== 'c.pid');
      assert.equal(rest.length, 1, `${how}: no temporary file left: ${rest.join(' ')}`);
      assert.ok(lstatSync(join(dir, rest[0]!)).isSymbolicLink(), `${how}: the planted symlink is all that is left`);
    }
    for (const id of ids) {
      const d = await node(['delete', '-f', id]);
      assert.equal(d.code, 0, `delete ${id}: ${d.stderr}`);
    }
    for (const id of ids) assertNoLeftovers(s.state.root, id);
  });

  test('one changed byte of config.json misses, and Node makes the new container', async () => {
    const b = s.bundle((c) => ((c.process.args = ['/probe', 'hostname']), (c.hostname = 'before')));
    miss(await front(['run', '-b', b.dir, uniqueId('byte')]));
    hit(await front(['run', '-b', b.dir, uniqueId('byte')]));
    writeFileSync(join(b.dir, 'config.json'), readFileSync(join(b.dir, 'config.json'), 'utf8').replace('"before"', '"bef0re"'));
    const r = await front(['run', '-b', b.dir, uniqueId('byte')]);
    miss(r);
    assert.match(r.stdout, /bef0re/);
    const again = await front(['run', '-b', b.dir, uniqueId('byte')]);
    hit(again);
    assert.match(again.stdout, /bef0re/);
  });

  test('a corrupt or truncated cache entry goes to Node, with the right result', async () => {
    const b = s.bundle((c) => (c.process.args = ['/probe', 'exit', '5']));
    const before = new Set(existsSync(cacheDir()) ? readdirSync(cacheDir()) : []);
    miss(await front(['run', '-b', b.dir, uniqueId('ce')]));
    const added = readdirSync(cacheDir()).filter((n) => !before.has(n));
    assert.equal(added.length, 1, 'one entry stored');
    const entry = join(cacheDir(), added[0]!);
    hit(await front(['run', '-b', b.dir, uniqueId('ce')]));
    const good = readFileSync(entry);
    const spoil: Record<string, Buffer> = {
      truncated: good.subarray(0, good.length - 7), 'flipped byte': Buffer.from(good.map((x, k) => (k === good.length >> 1 ? x ^ 4 : x))), empty: Buffer.alloc(0),
      'wrong magic': Buffer.concat([Buffer.from('MOATPC99'), good.subarray(8)]),
    };
    for (const [what, bytes] of Object.entries(spoil)) {
      writeFileSync(entry, bytes);
      const r = await front(['run', '-b', b.dir, uniqueId('ce')]);
      miss(r);
      assert.equal(r.code, 5, `${what}: ${r.stderr}`);
    }
    // a symlink in place of the entry is not followed (O_NOFOLLOW): the front misses
    writeFileSync(`${entry}.elsewhere`, good);
    rmSync(entry);
    symlinkSync(`${entry}.elsewhere`, entry);
    miss(await front(['run', '-b', b.dir, uniqueId('ce')]));
    rmSync(`${entry}.elsewhere`);
    // the cache runs Plans as root: an entry or a cache dir that another user owns or may
    // write is not read (each case stores a fresh entry through Node first)
    const spoilers: Record<string, () => void> = {
      'entry writable by others': () => chmodSync(entry, 0o666),
      'entry of another user': () => chownSync(entry, 65534, 65534),
      'cache dir writable by others': () => chmodSync(cacheDir(), 0o777),
    };
    for (const [what, spoilIt] of Object.entries(spoilers)) {
      rmSync(entry, { force: true });
      miss(await front(['run', '-b', b.dir, uniqueId('ce')]));
      hit(await front(['run', '-b', b.dir, uniqueId('ce')]));
      spoilIt();
      const r = await front(['run', '-b', b.dir, uniqueId('ce')]);
      miss(r);
      assert.equal(r.code, 5, what);
      chmodSync(cacheDir(), 0o700);
    }
  });

  test('a failing Plan step from the cache undoes everything; Node then reports it by field', async () => {
    const src = mkdtempSync(join(tmpdir(), 'moat-front-src-'));
    const b = s.bundle((c) => ((c.process.args = ['/probe', 'pause']), c.mounts.push({ destination: '/data', type: 'bind', source: src, options: ['rbind'] })));
    try {
      const warm = uniqueId('warm');
      miss(await front(['create', '-b', b.dir, warm]));
      assert.equal((await front(['delete', '-f', warm])).code, 0);
      rmSync(src, { recursive: true });
      const id = uniqueId('fail');
      const r = await front(['create', '-b', b.dir, id]);
      hit(r);
      toNode(r);
      assert.equal(r.code, 1);
      assert.match(errText(r), /`mounts\[7\]`: bind source `[^`]+`: ENOENT/);
      assertNoLeftovers(s.state.root, id);
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });

  test('a cgroup dir that existed before is never removed by the front\'s undo', async () => {
    const b = pausing();
    miss(await front(['create', '-b', b.dir, uniqueId('warm')]));
    const id = uniqueId('pre');
    const host = probeCgroupHost();
    if (!host.v1.pids) return;
    const theirs = join(host.v1.pids, host.self.pids ?? '/', `moat-${id}`);
    mkdirSync(theirs);
    try {
      const r = await front(['create', '-b', b.dir, id]);
      hit(r);
      toNode(r);
      assert.notEqual(r.code, 0);
      assert.match(errText(r), /already exists/);
      assert.ok(existsSync(theirs), 'the dir someone else made is still there');
    } finally {
      rmdirSync(theirs);
    }
    assertNoLeftovers(s.state.root, id);
  });

  test('an existing id through the cache: Node says so, the container is untouched', async () => {
    const b = pausing();
    const id = uniqueId('dup');
    miss(await front(['run', '-d', '-b', b.dir, id]));
    const before = (await node(['state', id])).stdout;
    const again = await front(['run', '-d', '-b', b.dir, id]);
    hit(again);
    assert.notEqual(again.code, 0);
    assert.match(errText(again), /already exists/);
    assert.equal((await node(['state', id])).stdout, before);
    assert.equal((await front(['delete', '-f', id])).code, 0);
    assertNoLeftovers(s.state.root, id);
  });

  test('concurrent creates with one cache key', async () => {
    const b = pausing();
    const warm = uniqueId('warm');
    miss(await front(['create', '-b', b.dir, warm]));
    const ids = Array.from({ length: 6 }, () => uniqueId('many'));
    const rs = await Promise.all(ids.map((id) => front(['create', '-b', b.dir, id])));
    for (const r of rs) (hit(r), assert.equal(r.code, 0, r.stderr));
    const pids = new Set<number>();
    for (const id of ids) {
      const st = JSON.parse((await node(['state', id])).stdout);
      assert.equal(st.status, 'created');
      pids.add(st.pid);
    }
    assert.equal(pids.size, ids.length);
    const ds = await Promise.all([...ids, warm].map((id) => front(['delete', id])));
    for (const d of ds) assert.equal(d.code, 0, d.stderr);
    for (const id of [...ids, warm]) assertNoLeftovers(s.state.root, id);
  });

  test('run from the cache: exit status, 128+N for a signal, and what is never cached', async () => {
    const b = s.bundle((c) => (c.process.args = ['/probe', 'exit', '7']));
    miss(await front(['run', '-b', b.dir, uniqueId('st')]));
    const r = await front(['run', '-b', b.dir, uniqueId('st')]);
    hit(r);
    assert.equal(r.code, 7);
    const p = pausing();
    for (const cached of [false, true]) {
      const id = uniqueId('sig');
      const running = front(['run', '-b', p.dir, id]);
      await waitFor(async () => (await node(['state', id])).stdout.includes('"running"'));
      assert.equal((await node(['kill', id, '9'])).code, 0);
      const done = await running;
      (cached ? hit : miss)(done);
      assert.equal(done.code, 137);
      assertNoLeftovers(s.state.root, id);
    }
    // a program that is not there: the container's own error, from the cache as from Node
    const missing = s.bundle((c) => (c.process.args = ['/no/such/program']));
    miss(await front(['run', '-b', missing.dir, uniqueId('nx')]));
    const [fr, nr] = [await front(['run', '-b', missing.dir, uniqueId('nx')]), await node(['run', '-b', missing.dir, uniqueId('nx')])];
    hit(fr);
    assert.equal(fr.code, nr.code);
    assert.match(errText(fr), /exec `\/no\/such\/program`/);
    // hooks and terminals are never cached: every run goes through Node
    const h = s.bundle((c) => ((c.process.args = ['/probe', 'exit', '0']), (c.hooks = { poststop: [{ path: '/bin/true' }] })));
    for (let k = 0; k < 2; k++) miss(await front(['run', '-b', h.dir, uniqueId('hook')]));
  });

  test('MOAT_OCI_FRONT=0, a missing helper, and a symlinked bin/moat-oci', async () => {
    const off = await runCli(['--version'], { env: { MOAT_OCI_FRONT: '0', MOAT_OCI_FRONT_DEBUG: '1' } });
    assert.equal(off.code, 0);
    assert.doesNotMatch(off.stderr, /moat-oci front/);
    const t = mkdtempSync(join(tmpdir(), 'moat-front-'));
    try {
      // a checkout without native/moat-helper: Node runs directly
      const bin = join(t, 'pkg', 'bin');
      mkdirSync(bin, { recursive: true });
      copyFileSync(frontPath, join(bin, 'moat-oci'));
      symlinkSync(cliPath, join(bin, 'moat-oci.cjs'));
      const { spawnSync } = await import('node:child_process');
      const noHelper = spawnSync(join(bin, 'moat-oci'), ['--version'], { env: { ...process.env, MOAT_OCI_FRONT_DEBUG: '1' }, encoding: 'utf8' });
      assert.equal(noHelper.status, 0, noHelper.stderr);
      assert.match(noHelper.stdout, /moat-oci version/);
      assert.doesNotMatch(noHelper.stderr, /moat-oci front/);
      // as npm links it: node_modules/.bin/moat-oci -> the package's bin/moat-oci
      symlinkSync(frontPath, join(t, 'moat-oci'));
      const b = pausing();
      const id = uniqueId('link');
      assert.equal((await node(['create', '-b', b.dir, id])).code, 0);
      const linked = spawnSync(join(t, 'moat-oci'), ['--root', s.state.root, 'state', id], { env: { ...process.env, MOAT_OCI_FRONT_DEBUG: '1' }, encoding: 'utf8' });
      assert.equal(linked.status, 0, linked.stderr);
      assert.match(linked.stderr, /moat-oci front: served state/);
      assert.equal(JSON.parse(linked.stdout).status, 'created');
      served(await front(['delete', id]), 'delete');
      assertNoLeftovers(s.state.root, id);
    } finally {
      rmSync(t, { recursive: true, force: true });
    }
  });
});
