#!/usr/bin/env node
// moat's benchmark against runc and crun (issue 8). Run as root after `npm run build`:
//
//   npm run bench [-- --rounds 20 --seq 100 --concurrent 50 --quick
//                     --variants moat,node,node-modules,node-bundle,node-snapshot,bun-bundle
//                     --phases floor,run,split,seq,concurrent --out FILE --library-here]
//
// Builds one busybox bundle, then measures in interleaved rounds (so the machine's noise hits
// every runtime alike): (1) `run` of /bin/true, (2) create/start/delete apart, (3) N
// sequential runs, (4) N concurrent sleep containers created+started then deleted, with
// their memory and a check that no runtime process stays behind, (5) the library path
// (runContainer from a warm Node process), (6) the floors: `node -e 0`, `bun -e 0`, and a
// static program spawned from Node. Prints one table and writes bench/results/*.json.
// The library path runs in a warm Node process of its own (lib/library-worker.mjs); with
// --library-here also in the bench's process, which spawns the other runtimes between its
// runs (a row of its own; not by default: its server, spare and container add their own
// background work to the rounds).
// Every container, cgroup and state dir is removed at the end, also after a failure.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupAll, isClean, leftovers, pidsWithArg } from './lib/cleanup.mjs';
import { describeConfig, makeFixture } from './lib/fixture.mjs';
import { containerMemory, kernelMemory, memAvailable } from './lib/memory.mjs';
import { benchEnv, newId, since, timed } from './lib/proc.mjs';
import { fork } from 'node:child_process';
import { printTable } from './lib/report.mjs';
import { bwrapArgv, findBun, setupRuntimes } from './lib/runtimes.mjs';
import { rotate, summarize } from './lib/stats.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');

function parseOptions(argv) {
  const o = { phases: ['floor', 'run', 'split', 'seq', 'concurrent'], rounds: 20, splitRounds: 10, seq: 100, concurrent: 50, variants: ['moat', 'node'], floorRounds: 20, out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const [k, v = argv[++i]] = argv[i].includes('=') ? argv[i].split('=') : [argv[i]];
    if (k === '--rounds') o.rounds = Number(v);
    else if (k === '--split-rounds') o.splitRounds = Number(v);
    else if (k === '--seq') o.seq = Number(v);
    else if (k === '--concurrent') o.concurrent = Number(v);
    else if (k === '--variants') o.variants = v.split(',');
    else if (k === '--phases') o.phases = v.split(',');
    else if (k === '--floor-rounds') o.floorRounds = Number(v);
    else if (k === '--out') o.out = v;
    else if (k === '--library-here') o.libraryHere = true, i--;
    else if (k === '--quick') Object.assign(o, { rounds: 5, splitRounds: 3, seq: 20, concurrent: 10, floorRounds: 5 }), i--;
    else throw new Error(`unknown option \`${k}\` (see the head of bench/bench.mjs)`);
  }
  return o;
}

const log = (s) => process.stderr.write(`bench: ${s}\n`);

// (1) and (5): run of /bin/true per runtime, the library path and bwrap in the same rounds
async function phaseRun(ctx) {
  const { oci, bundles, rounds, lib, bwrap } = ctx;
  const HERE = 'moat library, in the bench process';
  const samples = Object.fromEntries([...oci.map((r) => r.name), 'moat library', ...(ctx.libraryHere ? [HERE] : []), ...(bwrap ? ['bwrap'] : [])].map((n) => [n, []]));
  const errors = Object.fromEntries(Object.keys(samples).map((n) => [n, 0]));
  const actors = [
    ...oci.map((rt) => async () => {
      const r = await timed(rt.argv('run', '-b', bundles.true, newId('run')));
      if (r.code !== 0) errors[rt.name]++;
      else samples[rt.name].push(r.ms);
    }),
    async () => {
      const r = await lib.timedRun(newId('lib'));
      if (r.code !== 0) errors['moat library']++;
      else samples['moat library'].push(r.ms);
    },
    ...(ctx.libraryHere ? [async () => {
      const t0 = process.hrtime.bigint();
      const code = await lib.runHere(newId('lib'));
      if (code !== 0) errors[HERE]++;
      else samples[HERE].push(since(t0));
    }] : []),
    ...(bwrap ? [async () => {
      const r = await timed(bwrap);
      if (r.code !== 0) errors.bwrap++;
      else samples.bwrap.push(r.ms);
    }] : []),
  ];
  for (let i = 0; i < 3; i++) await lib.run(newId('warm')), ctx.libraryHere && (await lib.runHere(newId('warm'))); // the library path is measured warm
  for (let round = 0; round < rounds; round++) for (const act of rotate(actors, round)) await act();
  return Object.fromEntries(Object.entries(samples).map(([n, s]) => [n, { ...summarize(s), errors: errors[n] }]));
}

// (2): create, start (then wait, untimed, for /bin/true to exit), delete
async function phaseSplit(ctx) {
  const { oci, bundles, splitRounds } = ctx;
  const out = Object.fromEntries(oci.map((r) => [r.name, { create: [], start: [], delete: [], errors: 0 }]));
  for (let round = 0; round < splitRounds; round++) {
    for (const rt of rotate(oci, round)) {
      const id = newId('split');
      const s = out[rt.name];
      const c = await timed(rt.argv('create', '-b', bundles.true, id));
      if (c.code !== 0) { s.errors++; continue; }
      const st = await timed(rt.argv('start', id));
      if (st.code !== 0) s.errors++;
      for (let i = 0; i < 200; i++) {
        const q = await timed(rt.argv('state', id), { capture: true });
        if (q.code !== 0 || /"status":\s*"stopped"/.test(q.stdout)) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      const d = await timed(rt.argv('delete', id));
      if (d.code !== 0) { s.errors++; await timed(rt.argv('delete', '--force', id)); }
      s.create.push(c.ms);
      if (st.code === 0) s.start.push(st.ms);
      if (d.code === 0) s.delete.push(d.ms);
    }
  }
  return Object.fromEntries(Object.entries(out).map(([n, s]) => [n, { create: summarize(s.create), start: summarize(s.start), delete: summarize(s.delete), errors: s.errors }]));
}

// (3): N sequential runs per runtime, interleaved in blocks of 10
async function phaseSequential(ctx) {
  const { oci, bundles, seq } = ctx;
  const out = Object.fromEntries(oci.map((r) => [r.name, { ms: 0, errors: 0, runs: 0 }]));
  const block = Math.min(10, seq);
  for (let done = 0, b = 0; done < seq; done += block, b++) {
    for (const rt of rotate(oci, b)) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < Math.min(block, seq - done); i++) {
        const r = await timed(rt.argv('run', '-b', bundles.true, newId('seq')));
        if (r.code !== 0) out[rt.name].errors++;
        out[rt.name].runs++;
      }
      out[rt.name].ms += since(t0);
    }
  }
  return out;
}

// (4): N containers of sleep, each created then started, all at once; memory; all deleted at once
async function phaseConcurrent(ctx) {
  const { oci, bundles, concurrent } = ctx;
  const out = {};
  for (const rt of oci) {
    // untimed, for every runtime alike: one create+delete of the bundle first, so the burst
    // measures the steady state (for moat: a first create of a bundle is the Node path, which
    // stores the Plan its C front replays; the moat/node column is that cold path throughout)
    const warm = newId('warm');
    await timed(rt.argv('create', '-b', bundles.sleep, warm));
    await timed(rt.argv('delete', '--force', warm));
    const ids = Array.from({ length: concurrent }, () => newId('conc'));
    const memBefore = memAvailable(), kernBefore = kernelMemory();
    const t0 = process.hrtime.bigint();
    const started = await Promise.all(ids.map(async (id) => {
      const c = await timed(rt.argv('create', '-b', bundles.sleep, id));
      if (c.code !== 0) return false;
      return (await timed(rt.argv('start', id))).code === 0;
    }));
    const startMs = since(t0);
    await new Promise((r) => setTimeout(r, 300)); // let the sleeps settle
    const mem = containerMemory(ids);
    const memAfter = memAvailable(), kernAfter = kernelMemory();
    const resident = pidsWithArg(rt.root).length; // a runtime CLI (node, bun, runc...) still alive
    const t1 = process.hrtime.bigint();
    const deleted = await Promise.all(ids.map(async (id) => (await timed(rt.argv('delete', '--force', id))).code === 0));
    const deleteMs = since(t1);
    const left = leftovers([rt]);
    out[rt.name] = {
      containers: concurrent, startMs, deleteMs, totalMs: startMs + deleteMs,
      errors: started.filter((x) => !x).length + deleted.filter((x) => !x).length,
      memory: { ...mem, perContainerCgroupBytes: mem.cgroupBytes / concurrent, perContainerPss: mem.pss / concurrent, perContainerMemAvailableDelta: (memBefore - memAfter) / concurrent, perContainerExactBytes: mem.exactBytes / concurrent, perContainerKmem: mem.kmemBytes / concurrent, perContainerHostKernelDelta: (kernAfter - kernBefore) / concurrent },
      residentRuntimeProcesses: resident,
      leftovers: left,
    };
    log(`concurrent ${rt.name}: ${(startMs / 1000).toFixed(2)} s up, ${(deleteMs / 1000).toFixed(2)} s down, ${out[rt.name].errors} errors`);
  }
  return out;
}

// (6): the floors
async function phaseFloor(ctx) {
  const { floorRounds, bun, busybox } = ctx;
  const cmds = { 'node -e 0': [process.execPath, '-e', '0'], ...(bun ? { 'bun -e 0': [bun, '-e', '0'] } : {}), 'static C program (spawn from Node)': [busybox, 'true'] };
  const samples = Object.fromEntries(Object.keys(cmds).map((k) => [k, []]));
  const { spawnSync } = await import('node:child_process');
  samples['static C program (spawnSync from Node)'] = [];
  for (let round = 0; round < floorRounds; round++) {
    for (const [k, argv] of rotate(Object.entries(cmds), round)) samples[k].push((await timed(argv)).ms);
    const t0 = process.hrtime.bigint();
    spawnSync(busybox, ['true'], { stdio: 'ignore' });
    samples['static C program (spawnSync from Node)'].push(since(t0));
  }
  const out = Object.fromEntries(Object.entries(samples).map(([k, s]) => [k, summarize(s)]));
  if (ctx.crunWrapper) {
    // what bench/crun-legacy.c adds to each crun call: its exec + unshare(CLONE_NEWNS) + umount
    const w = [], d = [];
    for (let i = 0; i < floorRounds; i++) {
      w.push((await timed([ctx.crunWrapper, busybox, 'true'])).ms);
      d.push((await timed([busybox, 'true'])).ms);
    }
    const sw = summarize(w), sd = summarize(d);
    out['crun-legacy wrapper overhead'] = { min: sw.min - sd.min, median: sw.median - sd.median, n: sw.n };
  }
  return out;
}

// The library path, in its own warm Node process (lib/library-worker.mjs: why) and, for
// comparison, in this one, which spawns every other runtime between its runs
async function libraryRunner(root, bundleDir) {
  const { runContainer } = await import(join(repo, 'dist', 'src', 'runtime', 'run.js'));
  const { loadBundle } = await import(join(repo, 'dist', 'src', 'runtime', 'load-spec.js'));
  const worker = fork(join(repo, 'bench', 'lib', 'library-worker.mjs'), [], { env: benchEnv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = [];
  worker.on('message', (m) => waiting.shift()?.resolve(m));
  worker.on('exit', (code, sig) => { for (const w of waiting.splice(0)) w.reject(new Error(`library worker exited (${sig ?? code})`)); });
  const ask = (m) => new Promise((resolve, reject) => { waiting.push({ resolve, reject }); worker.send(m); });
  await ask({ cmd: 'init', repo, root, bundle: bundleDir });
  return {
    // full isolation: the same config.json as the CLIs, parsed and compiled each time
    run: async (id) => (await ask({ cmd: 'run', id })).code,
    timedRun: (id) => ask({ cmd: 'run', id }).catch(() => ({ ms: 0, code: -1 })),
    runHere: (id) => runContainer({ root, id, loaded: loadBundle(bundleDir, root), stdio: ['ignore', 'ignore', 'ignore'] }),
    close: () => new Promise((r) => { if (worker.exitCode !== null || worker.signalCode) return r(); worker.once('exit', r); worker.send({ cmd: 'exit' }); }),
  };
}

async function main() {
  const o = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('the benchmark runs containers: run it as root');
  const tmp = mkdtempSync(join(tmpdir(), 'moat-bench-'));
  let runtimes = [];
  let libWorker;
  const results = { date: new Date().toISOString(), host: {}, options: o };
  let failed;
  const removeTmp = async () => {
    const { removeTree } = await import(join(repo, 'dist', 'test', 'lib', 'bundle.js')).catch(() => ({}));
    if (removeTree) removeTree(tmp);
  };
  const onSignal = (sig) => {
    log(`${sig}: cleaning up`);
    Promise.resolve(libWorker?.close()).then(() => cleanupAll(runtimes)).then(removeTmp).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    log(`fixture in ${tmp}`);
    const fx = await makeFixture(tmp, repo);
    results.isolation = describeConfig(fx.config);
    runtimes = await setupRuntimes({ repo, tmp, bundles: fx.bundles, variants: o.variants });
    const libRoot = join(tmp, 'root-moat-library');
    mkdirSync(libRoot);
    runtimes.push({ name: 'moat library', root: libRoot, argv: (...a) => [process.execPath, join(repo, 'bin', 'moat-oci.js'), '--root', libRoot, ...a] });
    const oci = runtimes.filter((r) => r.available && r.kind === 'oci');
    results.runtimes = runtimes.map((r) => ({ name: r.name, available: r.available ?? true, reason: r.reason || undefined, note: r.note || undefined, refusal: r.refusal }));
    for (const r of runtimes) log(`${r.name}: ${r.available === false ? `unavailable (${r.reason})` : `ok${r.note ? ` (${r.note})` : ''}`}`);
    const ctx = {
      ...o, oci, bundles: fx.bundles, lib: (libWorker = await libraryRunner(libRoot, fx.bundles.true)), bwrap: bwrapArgv(fx.rootfs),
      bun: findBun(repo), busybox: join(fx.rootfs, 'bin', 'busybox'), crunWrapper: runtimes.find((r) => r.wrapper)?.wrapper,
    };
    results.host = { node: process.version, cpus: (await import('node:os')).cpus().length, load: (await import('node:os')).loadavg() };
    const want = (p) => o.phases.includes(p);
    if (want('floor')) log('(6) floors'), (results.floor = await phaseFloor(ctx));
    if (want('run')) log('(1)+(5) run of /bin/true, library path'), (results.run = await phaseRun(ctx));
    if (want('split')) log('(2) create/start/delete'), (results.split = await phaseSplit(ctx));
    if (want('seq')) log(`(3) ${o.seq} sequential runs`), (results.sequential = await phaseSequential(ctx));
    if (want('concurrent')) log(`(4) ${o.concurrent} concurrent`), (results.concurrent = await phaseConcurrent(ctx));
  } catch (e) {
    failed = e;
  } finally {
    await libWorker?.close();
    await cleanupAll(runtimes);
    results.leftoversAfterCleanup = leftovers(runtimes);
    await removeTmp();
  }
  if (failed) throw failed;
  const outDir = join(repo, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const file = o.out ?? join(outDir, `bench-${results.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  printTable(results);
  process.stdout.write(`\nJSON: ${file}\nleftovers after cleanup: ${isClean(results.leftoversAfterCleanup) ? 'none' : JSON.stringify(results.leftoversAfterCleanup)}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench: ${e.stack ?? e}\n`);
  process.exit(1);
});
