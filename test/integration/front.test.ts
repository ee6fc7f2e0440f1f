// bin/moat-oci's C front (native/front.c): `state`, `kill`, `start` and `delete` served from
// state.bin without Node, differentially against the Node path (MOAT_OCI_FRONT=0), crossed
// (one path makes, the other operates), and every case it must hand to Node: a corrupt,
// truncated, stale, missing or symlinked record, bad input, a held lock, hooks, no helper.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath, frontPath, isRoot, runCli, timeScale, type CliResult } from '../lib/bundle.js';
import { Scratch, assertNoLeftovers, uniqueId } from '../lib/oci.js';

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
