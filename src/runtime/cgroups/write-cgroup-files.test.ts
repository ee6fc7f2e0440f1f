import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performCgroupWrites } from './write-cgroup-files.js';
import { cgroupfsHooks } from './cgroup-fs.js';

test('on EINVAL a partner write goes first, then the write is retried', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moat-w-'));
  const log: string[] = [];
  // a tiny fake kernel: memory.limit_in_bytes above the memsw limit is EINVAL
  let memsw = 100;
  const saved = cgroupfsHooks.write;
  cgroupfsHooks.write = (path, value) => {
    log.push(`${path.slice(dir.length + 1)}=${value}`);
    if (path.endsWith('memory.limit_in_bytes') && Number(value) > memsw) throw Object.assign(new Error('EINVAL'), { code: 'EINVAL' });
    if (path.endsWith('memsw.limit_in_bytes')) memsw = Number(value);
    writeFileSync(path, value);
  };
  try {
    performCgroupWrites([
      { dir, file: 'memory.limit_in_bytes', value: '500', path: 'a' },
      { dir, file: 'memory.memsw.limit_in_bytes', value: '800', path: 'b' },
    ]);
    assert.deepEqual(log, ['memory.limit_in_bytes=500', 'memory.memsw.limit_in_bytes=800', 'memory.limit_in_bytes=500']);
    assert.equal(readFileSync(join(dir, 'memory.limit_in_bytes'), 'utf8'), '500');
    assert.throws(() => performCgroupWrites([{ dir, file: 'memory.limit_in_bytes', value: '900', path: 'linux.resources.memory.limit' }]), /write `900` to `.*memory.limit_in_bytes` \(linux.resources.memory.limit\): EINVAL/);
  } finally {
    cgroupfsHooks.write = saved;
    rmSync(dir, { recursive: true });
  }
});
