// Pure cgroup v2, for real, in real containers through the moat-oci CLI: memory.max, pids.max,
// cpu.max, the device eBPF program, cgroup.freeze (pause/resume) and cgroup.kill (kill/delete).
// Run by `npm run test:vm` in the cgroup-v2 VM (plain JS against dist/: it is not part of the
// build, so `npm test` on a v1/hybrid host never runs it). CLI calls get a long timeout: the VM
// is emulated (TCG) and a `moat-oci run` there takes 5-20 s.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Scratch, assertNoLeftovers, parseProbe, uniqueId } from '../../dist/test/lib/oci.js';
import { isRoot } from '../../dist/test/lib/bundle.js';
import { probeCgroupHost } from '../../dist/src/runtime/cgroups/index.js';

const CLI_MS = 180_000;
const MiB = 1024 * 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const read = (dir, file) => readFileSync(join(dir, file), 'utf8').trim();
const kv = (text, key) => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1]);

function skipReason() {
  if (!isRoot()) return 'needs root';
  try {
    if (probeCgroupHost().mode !== 'unified') return 'not a pure cgroup v2 host (run it with `npm run test:vm`)';
  } catch (e) {
    return `no cgroups: ${e.message}`;
  }
  return false;
}
const skip = skipReason();
if (skip) console.log(`# skipping cgroup-v2: ${skip}`);

async function waitFor(what, fn, ms = 20_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(100);
  }
  assert.fail(`${what}: not within ${ms}ms`);
}

describe('cgroup v2 in real containers', { skip }, () => {
  let s, host;
  const ids = new Set();
  const cli = (args, opts = {}) => s.cli(args, { timeoutMs: CLI_MS, ...opts });
  const dirOf = (id) => join(host.unified, host.self[''] ?? '/', `moat-${id}`);

  before(() => {
    s = new Scratch();
    host = probeCgroupHost();
  });
  after(async () => {
    await s.cleanup();
  });

  async function detached(args, config = () => {}) {
    const b = s.bundle((c) => {
      c.process.args = args;
      config(c);
    });
    const id = uniqueId('v2');
    ids.add(id);
    const r = await cli(['run', '-d', '-b', b.dir, id]);
    assert.equal(r.code, 0, `run -d: ${r.stderr}`);
    const st = await cli(['state', id]);
    assert.equal(st.code, 0, st.stderr);
    return { id, pid: JSON.parse(st.stdout).pid };
  }

  async function exec(id, ...args) {
    return cli(['exec', id, ...args]);
  }

  async function remove(id) {
    const r = await cli(['delete', '--force', id]);
    assert.equal(r.code, 0, `delete --force: ${r.stderr}`);
    assertNoLeftovers(s.state.root, id);
  }

  test('memory.max and pids.max are written; the container is in its own cgroup2 dir', async () => {
    const { id, pid } = await detached(['/probe', 'pause'], (c) => {
      c.linux.resources.memory = { limit: 64 * MiB, swap: 64 * MiB };
      c.linux.resources.pids = { limit: 64 };
    });
    const dir = dirOf(id);
    assert.equal(read(dir, 'memory.max'), String(64 * MiB));
    assert.equal(read(dir, 'memory.swap.max'), '0', 'swap = limit means no swap');
    assert.equal(read(dir, 'pids.max'), '64');
    assert.match(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), new RegExp(`^0::.*/moat-${id}$`, 'm'));
    await remove(id);
  });

  test('memory: an allocation past memory.max is OOM-killed inside, the container survives', async () => {
    const { id } = await detached(['/probe', 'pause'], (c) => (c.linux.resources.memory = { limit: 64 * MiB, swap: 64 * MiB }));
    const dir = dirOf(id);
    const alloc = await exec(id, '/probe', 'alloc', '256');
    assert.equal(alloc.code, 137, `the allocator is SIGKILLed (${alloc.stdout}${alloc.stderr})`);
    assert.ok(kv(read(dir, 'memory.events'), 'oom_kill') >= 1, `memory.events: ${read(dir, 'memory.events')}`);
    const peakFile = existsSync(join(dir, 'memory.peak')) ? Number(read(dir, 'memory.peak')) : undefined;
    if (peakFile !== undefined) assert.ok(peakFile <= 64 * MiB, `memory.peak ${peakFile}`);
    assert.equal(JSON.parse((await cli(['state', id])).stdout).status, 'running');
    await remove(id);
  });

  test('pids: forks stop at pids.max', async () => {
    const { id } = await detached(['/probe', 'pause'], (c) => (c.linux.resources.pids = { limit: 16 }));
    const r = await exec(id, '/probe', 'fork', '100');
    assert.equal(r.code, 0, r.stderr);
    const p = parseProbe(r.stdout);
    assert.equal(p.errno, 'EAGAIN');
    assert.ok(p.created < 16, `created ${p.created}`);
    assert.ok(kv(read(dirOf(id), 'pids.events'), 'max') > 0, 'pids.events counts refused forks');
    await remove(id);
  });

  test('cpu: cpu.max 50000 100000 throttles a busy loop', async () => {
    const { id } = await detached(['/bin/sh', '-c', 'while :; do :; done'], (c) => (c.linux.resources.cpu = { quota: 50000, period: 100000 }));
    const dir = dirOf(id);
    assert.equal(read(dir, 'cpu.max'), '50000 100000');
    await sleep(3000);
    const stat = read(dir, 'cpu.stat');
    assert.ok(kv(stat, 'nr_throttled') > 0, `cpu.stat: ${stat}`);
    await remove(id);
  });

  test('devices: the eBPF program allows /dev/null and refuses a device the rules omit', async () => {
    const b = s.bundle((c) => {
      for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_MKNOD');
      c.linux.resources.devices.push({ allow: true, type: 'b', major: 8, minor: 0, access: 'm' });
      c.process.args = ['/bin/sh', '-c', '/probe mknod /dev/sda b 8 0; /probe open /dev/sda r; /probe open /dev/null rw; /probe mknod /dev/sdb b 8 16'];
    });
    const id = uniqueId('v2');
    ids.add(id);
    const r = await cli(['run', '-b', b.dir, id]);
    assert.equal(r.code, 0, r.stderr);
    const [mk, open, nul, other] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(mk.ok, true, `mknod of an allowed device: ${JSON.stringify(mk)}`);
    assert.equal(open.errno, 'EPERM', `the rules give \`m\`, not \`r\`: ${JSON.stringify(open)}`);
    assert.equal(nul.ok, true, `/dev/null: ${JSON.stringify(nul)}`);
    assert.equal(other.errno, 'EPERM', `mknod of a device the rules omit: ${JSON.stringify(other)}`);
    assertNoLeftovers(s.state.root, id);
  });

  test('pause and resume: cgroup.freeze stops the container and lets it go', async () => {
    const { id, pid } = await detached(['/probe', 'count', '/dev/shm/count', '5']);
    const dir = dirOf(id);
    const count = () => Number(readFileSync(`/proc/${pid}/root/dev/shm/count`, 'utf8'));
    await waitFor('the counter to start', () => existsSync(`/proc/${pid}/root/dev/shm/count`) && count() > 0);
    const p = await cli(['pause', id]);
    assert.equal(p.code, 0, `pause: ${p.stderr}`);
    assert.equal(read(dir, 'cgroup.freeze'), '1');
    assert.equal(kv(read(dir, 'cgroup.events'), 'frozen'), 1, 'cgroup.events says frozen');
    assert.equal(JSON.parse((await cli(['state', id])).stdout).status, 'paused');
    const c1 = count();
    await sleep(1000);
    assert.equal(count(), c1, 'no progress while frozen');
    const r = await cli(['resume', id]);
    assert.equal(r.code, 0, `resume: ${r.stderr}`);
    assert.equal(read(dir, 'cgroup.freeze'), '0');
    await waitFor('progress after resume', () => count() > c1 + 5);
    assert.equal(JSON.parse((await cli(['state', id])).stdout).status, 'running');
    await remove(id);
  });

  test('kill --all and delete --force: every process of the cgroup dies (cgroup.kill)', async () => {
    const { id, pid } = await detached(['/bin/sh', '-c', 'sleep 1000 & sleep 1000 & exec /probe pause']);
    const dir = dirOf(id);
    await waitFor('three processes', () => read(dir, 'cgroup.procs').split('\n').filter(Boolean).length >= 3);
    const procs = read(dir, 'cgroup.procs').split('\n').filter(Boolean).map(Number);
    const k = await cli(['kill', '--all', id, 'KILL']);
    assert.equal(k.code, 0, `kill --all: ${k.stderr}`);
    await waitFor('the cgroup to empty', () => !existsSync(dir) || kv(read(dir, 'cgroup.events'), 'populated') === 0);
    for (const p of procs) assert.ok(!existsSync(`/proc/${p}/stat`) || / Z /.test(readFileSync(`/proc/${p}/stat`, 'utf8')), `pid ${p} (pid 1: ${pid}) is gone`);
    await remove(id);
  });

  test('update: pids.max changed live', async () => {
    const { id } = await detached(['/probe', 'pause'], (c) => (c.linux.resources.pids = { limit: 64 }));
    const u = await cli(['update', '--pids-limit', '10', id]);
    assert.equal(u.code, 0, `update: ${u.stderr}`);
    assert.equal(read(dirOf(id), 'pids.max'), '10');
    await remove(id);
  });

  test('events --stats reads the cgroup2 files', async () => {
    const { id } = await detached(['/probe', 'pause'], (c) => {
      c.linux.resources.pids = { limit: 32 };
      c.linux.resources.memory = { limit: 32 * MiB };
    });
    const r = await cli(['events', '--stats', id]);
    assert.equal(r.code, 0, `events --stats: ${r.stderr}`);
    const d = JSON.parse(r.stdout).data;
    assert.equal(d.memory.usage.limit, 32 * MiB);
    assert.ok(d.memory.usage.usage > 0, 'memory usage');
    assert.deepEqual(d.pids, { current: 1, limit: 32 });
    assert.ok(d.cpu.usage.total > 0, 'cpu usage');
    await remove(id);
  });

  test('features: the cgroup section says v2', async () => {
    const r = await cli(['features']);
    assert.equal(r.code, 0, r.stderr);
    const f = JSON.parse(r.stdout).linux.cgroup;
    assert.equal(f.v2, true);
    assert.equal(f.v1, false);
  });

  test('nothing is left beneath our own cgroup', async () => {
    await s.cleanup();
    s = new Scratch();
    for (const id of ids) assertNoLeftovers(s.state.root, id);
  });
});
