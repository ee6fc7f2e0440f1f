// Template caches: built once under a lock, renamed into place whole; a crashed build's
// staging dir and lock are cleared by the next build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCacheOnce } from './cache.js';

test('concurrent builders build once; the cache appears whole', async () => {
  const d = mkdtempSync(join(tmpdir(), 'moat-cache-'));
  try {
    const target = join(d, 'cache', 'thing');
    let builds = 0;
    const build = async (stage: string) => {
      builds++;
      assert.ok(!existsSync(target), 'nothing at the target while building');
      await new Promise((r) => setTimeout(r, 50));
      writeFileSync(join(stage, 'done'), 'x');
    };
    const made = await Promise.all([buildCacheOnce(target, 'thing', build), buildCacheOnce(target, 'thing', build), buildCacheOnce(target, 'thing', build)]);
    assert.equal(builds, 1);
    assert.deepEqual(made.filter(Boolean).length, 1);
    assert.ok(existsSync(join(target, 'done')));
    assert.equal(await buildCacheOnce(target, 'thing', build), false, 'an existing cache is reused');
    assert.equal(builds, 1);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a crashed build (staging dir, lock of a dead process) is cleared; a failed build leaves nothing', async () => {
  const d = mkdtempSync(join(tmpdir(), 'moat-cache-'));
  try {
    const target = join(d, 'thing');
    mkdirSync(join(d, '.thing.staging.999999'));
    writeFileSync(join(d, '.thing.staging.999999', 'half'), '');
    writeFileSync(`${target}.lock`, '999999 1\n'); // no such process
    await assert.rejects(buildCacheOnce(target, 'thing', async (stage) => {
      writeFileSync(join(stage, 'partial'), '');
      throw new Error('download failed');
    }), /download failed/);
    assert.deepEqual(readdirSync(d), [], 'no staging dir, no lock, no cache');
    assert.equal(await buildCacheOnce(target, 'thing', async (stage) => writeFileSync(join(stage, 'ok'), '')), true);
    assert.deepEqual(readdirSync(d), ['thing']);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
