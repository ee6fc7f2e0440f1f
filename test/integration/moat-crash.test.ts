// Crash safety: `moat` SIGKILLed at named points of create, start and delete (the test-only
// MOAT_TEST_CRASH_AT hook) leaves the old state or the new; the next command sees a
// consistent state (taking over the dead command's lock), and delete cleans up.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot, removeTree } from '../lib/bundle.js';
import { assertSandboxGone, MoatScratch } from '../lib/moat.js';

const skip = isRoot() ? false : 'integration tests create sandboxes and need root';

const crashAt = (point: string) => ({ env: { MOAT_TEST_CRASH_AT: point } });

function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

describe('moat: crash safety', { skip }, () => {
  let s: MoatScratch;
  before(() => (s = new MoatScratch()));
  after(async () => s.cleanup());

  const status = async (name: string) => (JSON.parse(await s.ok(['list', '--json'])) as { name: string; status: string; pid?: number }[]).find((x) => x.name === name);

  test('killed mid-create (staged, not yet committed): no sandbox, and the name is free', async () => {
    const r = await s.moat(['create', 'c1'], crashAt('create:staged'));
    assert.equal(r.signal, 'SIGKILL');
    assert.equal(s.entries('staging').length, 1, 'the half-made sandbox is in staging');
    assert.equal(await status('c1'), undefined, 'list does not show it');
    assert.deepEqual(s.entries('staging'), [], 'the next command swept it');
    await s.ok(['create', 'c1', '--template', 'busybox']);
    await s.ok(['delete', 'c1']);
    assertSandboxGone(s, 'c1');
  });

  test('killed after its id range was allocated, before anything was staged: the next allocation takes the range back', async () => {
    // a pool of this test's own, so that no other sandbox's allocation interferes
    const dir = mkdtempSync(join(tmpdir(), 'moat-pool-'));
    const pool = join(dir, 'idmap.json');
    const env = { MOAT_IDMAP_POOL: pool };
    const entries = () => JSON.parse(readFileSync(pool, 'utf8')) as Record<string, { start: number; pid: number }>;
    try {
      const r = await s.moat(['create', 'r1', '--template', 'busybox'], { env: { ...env, MOAT_TEST_CRASH_AT: 'create:allocated' } });
      assert.equal(r.signal, 'SIGKILL');
      const leaked = entries()[`${s.data}:r1`];
      assert.ok(leaked, 'the dead create left its range allocated');
      assert.equal(leaked.pid, r.pid, 'the entry names the process that made it');
      assert.deepEqual(s.entries('staging'), [], 'nothing was staged');
      assert.equal(await status('r1'), undefined);
      await s.ok(['create', 'r2', '--template', 'busybox'], { env });
      const now = entries();
      assert.equal(now[`${s.data}:r1`], undefined, 'the range of the dead create was taken back');
      assert.equal(now[`${s.data}:r2`]?.start, leaked.start, 'and handed to the next sandbox');
      await s.ok(['delete', 'r2'], { env });
      assert.deepEqual(entries(), {});
      assertSandboxGone(s, 'r2');
    } finally {
      removeTree(dir);
    }
  });

  test('killed right after create committed: the sandbox is complete', async () => {
    const r = await s.moat(['create', 'c2', '--template', 'busybox'], crashAt('create:committed'));
    assert.equal(r.signal, 'SIGKILL');
    assert.equal((await status('c2'))?.status, 'stopped');
    await s.ok(['start', 'c2']);
    assert.equal((await status('c2'))?.status, 'running');
    await s.ok(['delete', '--force', 'c2']);
    assertSandboxGone(s, 'c2');
  });

  test('killed mid-start (container made, not started): list says so; start recovers', async () => {
    await s.ok(['create', 'c3', '--template', 'busybox']);
    const r = await s.moat(['start', 'c3'], crashAt('start:created'));
    assert.equal(r.signal, 'SIGKILL');
    const st = await status('c3');
    assert.equal(st?.status, 'created', 'the container waits, its command never ran');
    const waiting = st!.pid!;
    assert.ok(alive(waiting));
    await s.ok(['start', 'c3']);
    const after = await status('c3');
    assert.equal(after?.status, 'running');
    assert.notEqual(after?.pid, waiting);
    assert.ok(!alive(waiting), 'the stale container was cleared');
    await s.ok(['delete', '--force', 'c3']);
    assertSandboxGone(s, 'c3');
  });

  test('killed mid-start: delete (without --force) cleans up', async () => {
    await s.ok(['create', 'c4', '--template', 'busybox']);
    await s.moat(['start', 'c4'], crashAt('start:created'));
    const pid = (await status('c4'))!.pid!;
    await s.ok(['delete', 'c4']);
    assert.ok(!alive(pid));
    assertSandboxGone(s, 'c4');
  });

  test('killed after start, holding the lock: the next command takes the lock over', async () => {
    await s.ok(['create', 'c5', '--template', 'busybox']);
    await s.moat(['start', 'c5'], crashAt('start:started'));
    assert.ok(existsSync(`${s.data}/locks/c5.lock`), 'the dead command left its lock');
    assert.equal((await status('c5'))?.status, 'running');
    await s.ok(['stop', 'c5']);
    assert.equal((await status('c5'))?.status, 'stopped');
    await s.ok(['delete', 'c5']);
    assertSandboxGone(s, 'c5');
  });

  test('killed mid-delete (container gone, files not yet): delete again finishes', async () => {
    await s.ok(['create', 'c6', '--template', 'busybox']);
    await s.ok(['start', 'c6']);
    const pid = (await status('c6'))!.pid!;
    const r = await s.moat(['delete', '--force', 'c6'], crashAt('delete:stopped'));
    assert.equal(r.signal, 'SIGKILL');
    assert.ok(!alive(pid));
    assert.equal((await status('c6'))?.status, 'stopped');
    await s.ok(['delete', 'c6']);
    assertSandboxGone(s, 'c6');
  });

  test('killed mid-delete (files moved to trash): the sandbox is gone, the next command sweeps', async () => {
    await s.ok(['create', 'c7', '--template', 'busybox']);
    const r = await s.moat(['delete', 'c7'], crashAt('delete:trashed'));
    assert.equal(r.signal, 'SIGKILL');
    assert.equal(s.entries('trash').length, 1);
    assert.equal(await status('c7'), undefined);
    const again = await s.moat(['delete', 'c7']);
    assert.match(again.stderr, /does not exist/);
    assertSandboxGone(s, 'c7');
  });
});
