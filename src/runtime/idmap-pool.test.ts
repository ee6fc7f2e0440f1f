// The id range pool: distinct ranges under concurrency, reuse after free, /etc/subuid handling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocateRange, creatorGone, freeRange, parseSubids, RANGE_SIZE, readPool, reclaimRanges, rootSubidRange } from './idmap-pool.js';

function scratch(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'moat-idpool-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('concurrent allocations get disjoint ranges; a freed range is reused', async () => {
  const s = scratch();
  try {
    const pool = { file: join(s.dir, 'alloc.json'), range: { start: 1_000_000, size: RANGE_SIZE * 64 } };
    const got = await Promise.all(Array.from({ length: 40 }, (_, i) => allocateRange(pool, `sb${i}`)));
    const starts = got.map((r) => r.start);
    assert.equal(new Set(starts).size, 40, 'no range handed out twice');
    for (const r of got) assert.ok(r.start >= pool.range.start && r.start + r.size <= pool.range.start + pool.range.size);
    assert.deepEqual(await allocateRange(pool, 'sb7'), got[7], 'the same owner keeps its range');
    await freeRange(pool, 'sb7');
    const again = await allocateRange(pool, 'newcomer');
    assert.equal(again.start, got[7]!.start, 'the freed range is the first free one');
  } finally {
    s.done();
  }
});

test('an exhausted pool is an error naming the pool', async () => {
  const s = scratch();
  try {
    const pool = { file: join(s.dir, 'alloc.json'), range: { start: 0, size: RANGE_SIZE * 2 } };
    await allocateRange(pool, 'a');
    await allocateRange(pool, 'b');
    await assert.rejects(allocateRange(pool, 'c'), /no free id range left in 0-131071/);
  } finally {
    s.done();
  }
});

test('root\'s subordinate range is read, and added to both files when missing', () => {
  const s = scratch();
  try {
    const subuid = join(s.dir, 'subuid'), subgid = join(s.dir, 'subgid');
    writeFileSync(subuid, 'user:100000:65536\n');
    writeFileSync(subgid, 'user:100000:65536\n');
    assert.throws(() => rootSubidRange({ subuid, subgid }), /root has no subordinate range/);
    const r = rootSubidRange({ subuid, subgid, create: true });
    assert.ok(r.start >= 165536 && r.start % RANGE_SIZE === 0);
    assert.deepEqual(parseSubids(readFileSync(subuid, 'utf8'), 'root'), [r]);
    assert.deepEqual(parseSubids(readFileSync(subgid, 'utf8'), 'root'), [r]);
    assert.deepEqual(rootSubidRange({ subuid, subgid }), r, 'found again without changing the files');
  } finally {
    s.done();
  }
});

test('a range whose creator died and whose owner does not exist is taken back; others stay', async () => {
  const s = scratch();
  try {
    const file = join(s.dir, 'alloc.json');
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    writeFileSync(file, JSON.stringify({
      legacy: 1_000_000, // an older moat's entry: its maker is unknown, it stays
      dead: { start: 1_065_536, pid: 2 ** 22 + 1, pidStart: '1', boot }, // no such pid
      otherBoot: { start: 1_131_072, pid: process.pid, pidStart: 'x', boot: 'another-boot' },
      exists: { start: 1_196_608, pid: 2 ** 22 + 1, pidStart: '1', boot }, // its sandbox exists
    }));
    assert.equal(creatorGone(readPool(file).dead!), true);
    const pool = { file, range: { start: 1_000_000, size: RANGE_SIZE * 8 } };
    const r = await allocateRange(pool, 'new', (o) => o !== 'exists');
    assert.equal(r.start, 1_065_536, 'the first reclaimed range is handed out');
    const now = readPool(file);
    assert.deepEqual(Object.keys(now).sort(), ['exists', 'legacy', 'new']);
    const mine = now.new as { pid: number; boot: string };
    assert.equal(mine.pid, process.pid, 'the entry names its creator');
    assert.equal(creatorGone(now.new!), false, 'a live creator is not gone');
    assert.deepEqual(await reclaimRanges(pool, () => true), ['exists']);
  } finally {
    s.done();
  }
});
