#!/usr/bin/env node
// What each runtime charges to an idle container's memory cgroup (issue 8): one `sleep`
// container per runtime (the bench's bundle, after one untimed create+delete so moat's C front
// serves it), then the container's v1 memory files side by side: usage, kmem usage, the
// non-zero memory.stat lines and memory.kmem.slabinfo's caches (active objects x size).
// Run as root after `npm run build`: node bench/memory-probe.mjs [--variants moat,node] [--n 3]
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupAll, leftovers, taggedPids } from './lib/cleanup.mjs';
import { makeFixture } from './lib/fixture.mjs';
import { newId, timed } from './lib/proc.mjs';
import { setupRuntimes } from './lib/runtimes.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const read = (p) => { try { return readFileSync(p, 'utf8'); } catch { return ''; } };

function memDirOf(pid) {
  const l = read(`/proc/${pid}/cgroup`).split('\n').find((x) => /^\d+:memory:/.test(x));
  return l ? `/sys/fs/cgroup/memory${l.split(':')[2]}` : undefined;
}

// slabinfo lines: name active_objs num_objs objsize ...: bytes of the active objects per cache
function slabs(dir) {
  const out = {};
  for (const l of read(join(dir, 'memory.kmem.slabinfo')).split('\n').slice(2)) {
    const f = l.trim().split(/\s+/);
    if (f.length > 4 && Number(f[1])) out[f[0]] = (out[f[0]] ?? 0) + Number(f[1]) * Number(f[3]);
  }
  return out;
}

function snapshot(dir) {
  const stat = {};
  for (const l of read(join(dir, 'memory.stat')).split('\n')) {
    const [k, v] = l.split(' ');
    if (k && !k.startsWith('total_') && Number(v)) stat[k] = Number(v);
  }
  return { usage: Number(read(join(dir, 'memory.usage_in_bytes'))), kmem: Number(read(join(dir, 'memory.kmem.usage_in_bytes'))), stat, slabs: slabs(dir) };
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
  const n = Number(opt('--n', 3));
  const tmp = mkdtempSync(join(tmpdir(), 'moat-memprobe-'));
  let runtimes = [];
  try {
    const fx = await makeFixture(tmp, repo);
    runtimes = (await setupRuntimes({ repo, tmp, bundles: fx.bundles, variants: opt('--variants', 'moat').split(',') })).filter((r) => r.available && r.kind === 'oci');
    const result = {};
    for (const rt of runtimes) {
      const warm = newId('warm');
      await timed(rt.argv('create', '-b', fx.bundles.sleep, warm));
      await timed(rt.argv('delete', '--force', warm));
      const snaps = [];
      for (let i = 0; i < n; i++) {
        const id = newId('mem');
        if ((await timed(rt.argv('create', '-b', fx.bundles.sleep, id))).code !== 0 || (await timed(rt.argv('start', id))).code !== 0) throw new Error(`${rt.name}: create/start failed`);
        await new Promise((r) => setTimeout(r, 300));
        const pids = taggedPids().filter((p) => read(`/proc/${p}/cgroup`).includes(id));
        const dir = memDirOf(pids[0]);
        snaps.push({ ...snapshot(dir), dir, procs: pids.map((p) => read(`/proc/${p}/comm`).trim()) });
        await timed(rt.argv('delete', '--force', id));
      }
      result[rt.name] = snaps;
    }
    // side by side: the median snapshot's figures
    const mid = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
    const names = Object.keys(result);
    const row = (label, f) => console.log(label.padEnd(34) + names.map((nm) => String(mid(result[nm].map(f))).padStart(12)).join(''));
    console.log(''.padEnd(34) + names.map((nm) => nm.padStart(12)).join(''));
    row('usage_in_bytes', (s) => s.usage);
    row('kmem.usage_in_bytes', (s) => s.kmem);
    const keys = new Set(names.flatMap((nm) => result[nm].flatMap((s) => Object.keys(s.stat))));
    for (const k of keys) row(`stat ${k}`, (s) => s.stat[k] ?? 0);
    const caches = new Set(names.flatMap((nm) => result[nm].flatMap((s) => Object.keys(s.slabs))));
    // memory.kmem.slabinfo is empty on newer kernels (6.x here): then there are no slab rows
    for (const c of [...caches].sort()) row(`slab ${c}`, (s) => s.slabs[c] ?? 0);
    if (caches.size) row('slab total', (s) => Object.values(s.slabs).reduce((a, b) => a + b, 0));
    for (const nm of names) console.log(`${nm}: ${result[nm][0].dir} procs ${result[nm][0].procs.join(',')}`);
  } finally {
    await cleanupAll(runtimes);
    const left = leftovers(runtimes);
    const { removeTree } = await import(join(repo, 'dist', 'test', 'lib', 'bundle.js'));
    if (existsSync(tmp)) removeTree(tmp);
    console.log('leftovers:', JSON.stringify(left));
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
