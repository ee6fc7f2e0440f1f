// MCS pairs: unique under concurrency (several processes allocating into one pool at once),
// the same pair for the same owner, reuse after free, a clear error when the pool is full.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { allocateMcsPair, freeMcsPair, freeMcsPairSync, mcsAllocations } from './mcs-pool.js';

const moduleUrl = pathToFileURL(fileURLToPath(new URL('./mcs-pool.js', import.meta.url))).href;

function allocIn(file: string, owners: string[], max: number): Promise<string> {
  const code = `import { allocateMcsPair } from ${JSON.stringify(moduleUrl)};
    const out = [];
    for (const o of ${JSON.stringify(owners)}) out.push([o, await allocateMcsPair(${JSON.stringify(file)}, o, ${max})]);
    process.stdout.write(JSON.stringify(out));`;
  return new Promise((res, rej) => {
    const c = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('close', (st) => (st === 0 ? res(out) : rej(new Error(`child exited ${st}`))));
  });
}

test('pairs are unique across concurrent processes, and stable per owner', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'moat-mcs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'mcs.json');
  // 6 processes x 8 owners into a pool of 28 pairs (c0-c7): many collisions if unlocked
  const outs = await Promise.all([0, 1, 2, 3, 4, 5].map((p) => allocIn(file, Array.from({ length: 4 }, (_, i) => `p${p}-o${i}`), 7)));
  const got = outs.flatMap((o) => JSON.parse(o) as [string, [number, number]][]);
  assert.equal(got.length, 24);
  const pairs = got.map(([, p]) => `${p[0]},${p[1]}`);
  assert.equal(new Set(pairs).size, 24, 'no pair handed out twice');
  for (const [, [a, b]] of got) assert.ok(a < b && a >= 0 && b <= 7, `${a},${b} in range and ordered`);
  const recorded = mcsAllocations(file);
  assert.equal(Object.keys(recorded).length, 24, 'every allocation persisted');
  assert.deepEqual(await allocateMcsPair(file, 'p0-o0', 7), recorded['p0-o0'], 'same owner, same pair');
});

test('a freed pair is used again; a full pool is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'moat-mcs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'mcs.json');
  // c0-c2: exactly three pairs
  const a = await allocateMcsPair(file, 'a', 2), b = await allocateMcsPair(file, 'b', 2), c = await allocateMcsPair(file, 'c', 2);
  assert.equal(new Set([a, b, c].map(String)).size, 3);
  await assert.rejects(allocateMcsPair(file, 'd', 2), /no free MCS category pair left in c0-c2 \(3 in use\)/);
  await freeMcsPair(file, 'b');
  assert.deepEqual(await allocateMcsPair(file, 'd', 2), b, 'the freed pair is reused');
  freeMcsPairSync(file, 'a');
  freeMcsPairSync(file, 'nobody');
  assert.deepEqual(Object.keys(mcsAllocations(file)).sort(), ['c', 'd']);
});
