// The compiled-filter cache: a hit gives the compiler's bytes, a corrupt or torn file is a
// miss (and is replaced), concurrent writers leave one intact entry and no temp files, and a
// profile with warnings is never cached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileSeccomp, defaultSeccompProfile } from '../policy/seccomp/index.js';
import { clearSeccompMemo, compileSeccompCached, decodeSeccompCacheFile, SECCOMP_CACHE_DIR, seccompCacheKey } from './seccomp-cache.js';

function scratch(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'moat-sccache-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

const profile = defaultSeccompProfile(['CAP_CHOWN']);
const fresh = compileSeccomp(profile, { hostArch: 'x86_64' }).result!;

test('a miss compiles and writes the entry; a hit (memory or file) gives the same bytes', () => {
  const s = scratch();
  try {
    clearSeccompMemo();
    const a = compileSeccompCached(profile, 'x86_64', s.dir);
    assert.deepEqual(Buffer.from(a.result!.filter), Buffer.from(fresh.filter));
    const key = seccompCacheKey(profile, 'x86_64')!;
    const file = join(s.dir, SECCOMP_CACHE_DIR, key);
    const entry = decodeSeccompCacheFile(readFileSync(file))!;
    assert.deepEqual(Buffer.from(entry.filter), Buffer.from(fresh.filter));
    assert.equal(entry.flags, fresh.flags);
    clearSeccompMemo();
    const b = compileSeccompCached(profile, 'x86_64', s.dir);
    assert.deepEqual(Buffer.from(b.result!.filter), Buffer.from(fresh.filter));
    assert.deepEqual(b.issues, []);
    // another profile, another key
    assert.notEqual(seccompCacheKey({ ...profile, defaultAction: 'SCMP_ACT_KILL' }, 'x86_64'), key);
    assert.notEqual(seccompCacheKey(profile, 'aarch64'), key);
  } finally {
    s.done();
  }
});

test('a corrupt or truncated cache file is a miss and is replaced by the compiled bytes', () => {
  const s = scratch();
  try {
    clearSeccompMemo();
    compileSeccompCached(profile, 'x86_64', s.dir);
    const file = join(s.dir, SECCOMP_CACHE_DIR, seccompCacheKey(profile, 'x86_64')!);
    const good = readFileSync(file);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 3]! ^= 0x40; // one instruction changed: the digest no longer matches
    for (const bad of [flipped, good.subarray(0, good.length - 8), Buffer.from('garbage'), Buffer.alloc(0)]) {
      assert.equal(decodeSeccompCacheFile(bad), undefined);
      writeFileSync(file, bad);
      clearSeccompMemo();
      const r = compileSeccompCached(profile, 'x86_64', s.dir);
      assert.deepEqual(Buffer.from(r.result!.filter), Buffer.from(fresh.filter));
      assert.deepEqual(readFileSync(file), good, 'the bad file was replaced');
    }
  } finally {
    s.done();
  }
});

test('a profile that compiles with warnings is not cached', () => {
  const s = scratch();
  try {
    clearSeccompMemo();
    const p = { ...profile, syscalls: [...(profile.syscalls ?? []), { names: ['no_such_syscall_xyz'], action: 'SCMP_ACT_ALLOW' as const }] };
    const r = compileSeccompCached(p, 'x86_64', s.dir);
    assert.ok(r.issues.length > 0, 'the unknown syscall is reported');
    let entries: string[] = [];
    try { entries = readdirSync(join(s.dir, SECCOMP_CACHE_DIR)); } catch { /* never made */ }
    assert.deepEqual(entries, []);
    // and the warning is reported again next time
    assert.ok(compileSeccompCached(p, 'x86_64', s.dir).issues.length > 0);
  } finally {
    s.done();
  }
});

test('concurrent writers of one key leave one intact entry and no temp files', async () => {
  const s = scratch();
  try {
    const mod = fileURLToPath(new URL('./seccomp-cache.js', import.meta.url));
    const pol = fileURLToPath(new URL('../policy/seccomp/index.js', import.meta.url));
    const script = `const { compileSeccompCached } = await import(${JSON.stringify(mod)}); const { defaultSeccompProfile } = await import(${JSON.stringify(pol)});
      const r = compileSeccompCached(defaultSeccompProfile(['CAP_CHOWN']), 'x86_64', ${JSON.stringify(s.dir)}); process.stdout.write(Buffer.from(r.result.filter).toString('base64'));`;
    const outs = await Promise.all(Array.from({ length: 6 }, () => new Promise<string>((res, rej) => {
      const c = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.on('error', rej);
      c.on('close', (code) => (code === 0 ? res(out) : rej(new Error(`writer exited ${code}`))));
    })));
    for (const o of outs) assert.equal(o, Buffer.from(fresh.filter).toString('base64'));
    const names = readdirSync(join(s.dir, SECCOMP_CACHE_DIR));
    assert.deepEqual(names, [seccompCacheKey(profile, 'x86_64')]);
    assert.ok(decodeSeccompCacheFile(readFileSync(join(s.dir, SECCOMP_CACHE_DIR, names[0]!))));
  } finally {
    s.done();
  }
});
