// Seccomp benchmark: `npm run build && node bench/seccomp.mjs [--calls N] [--runs R]`.
//
// 1. Size of moat's default filter and instructions executed per syscall (emulator count)
//    over a realistic x86_64 mix, against libseccomp's filter for the same profile
//    (test/seccomp/export-libseccomp.c).
// 2. The cost of getpid() in a loop (bench/getpid-loop.c, static) under each filter loaded
//    directly into a process, and inside containers: moat with its filter and without one,
//    runc with the same profile (compiled by its libseccomp) and without one, and crun if
//    this host lets it run (crun 1.8 refuses hybrid cgroup hosts: reported as unavailable).
// Prints a table and writes bench/results/seccomp.json. Not part of the test suite.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist', p));
const { compileSeccomp, defaultSeccompProfile, seccompStats, emulateSeccomp } = await dist('src/policy/seccomp/index.js');
const { ABIS } = await dist('src/policy/seccomp/arches.js');
const { toLibseccompLines } = await dist('src/policy/seccomp/libseccomp-lines.js');
const { buildLibseccompExporter, runLibseccompExporter } = await dist('test/seccomp/libseccomp-export.js');
const { makeBundle, removeTree } = await dist('test/lib/bundle.js');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const CALLS = arg('--calls', 200_000);
const RUNS = arg('--runs', 5);

// what is timed runs without the CA variable (it makes node read certificates at start)
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

/** A server-like x86_64 mix: weights roughly as `strace -c` shows for a busy service
 * (the same mix as src/policy/seccomp/stats.test.ts). */
const MIX = [
  ['read', 20], ['write', 15], ['epoll_wait', 10], ['futex', 10], ['recvfrom', 6], ['sendto', 6],
  ['openat', 5], ['close', 5], ['fstat', 4], ['newfstatat', 4], ['mmap', 3], ['munmap', 2],
  ['mprotect', 2], ['clock_gettime', 3], ['getpid', 2], ['lseek', 2], ['brk', 1], ['rt_sigprocmask', 2],
  ['madvise', 1], ['getdents64', 1], ['epoll_ctl', 2], ['accept4', 1], ['ioctl', 1], ['pread64', 1],
].map(([name, weight]) => ({ arch: ABIS.x86_64.auditArch, nr: ABIS.x86_64.table[name], args: [0n, 0n, 0n, 0n, 0n, 0n], weight }));
const getpidCall = { arch: ABIS.x86_64.auditArch, nr: ABIS.x86_64.table.getpid, args: [0n, 0n, 0n, 0n, 0n, 0n] };

const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']; // the bundle's (runc spec's) caps
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

const work = mkdtempSync(join(tmpdir(), 'moat-bench-seccomp-'));
const cleanups = [() => rmSync(work, { recursive: true, force: true })];
const results = { date: new Date().toISOString(), calls: CALLS, runs: RUNS, kernel: spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim(), filters: [], getpid: [], loadavgBefore: loadavg()[0] };

try {
  // ---- 1. static: instruction counts ----------------------------------------------------
  const exporter = buildLibseccompExporter();
  if (exporter.cleanup) cleanups.push(exporter.cleanup);
  const profiles = [
    ['default, runc caps', defaultSeccompProfile(CAPS)],
    ['default, +SYS_ADMIN +SYS_PTRACE', defaultSeccompProfile([...CAPS, 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE'])],
  ];
  const filterFiles = {};
  for (const [label, profile] of profiles) {
    const ours = compileSeccomp(profile, { hostArch: 'x86_64' }).result;
    const s = seccompStats(ours.filter, MIX);
    const row = { profile: label, compiler: 'moat', instructions: s.instructions, avgExecuted: s.avgExecuted, maxExecuted: s.maxExecuted, getpidExecuted: emulateSeccomp(ours.filter, getpidCall).steps };
    results.filters.push(row);
    if (!filterFiles.moat) writeFileSync((filterFiles.moat = join(work, 'moat.bpf')), ours.filter);
    if (exporter.skip) {
      results.filters.push({ profile: label, compiler: 'libseccomp', unavailable: exporter.skip });
      continue;
    }
    const theirs = runLibseccompExporter(exporter.bin, toLibseccompLines(profile, 'x86_64') ?? '');
    const t = seccompStats(theirs.filter, MIX);
    results.filters.push({ profile: label, compiler: 'libseccomp', instructions: t.instructions, avgExecuted: t.avgExecuted, maxExecuted: t.maxExecuted, getpidExecuted: emulateSeccomp(theirs.filter, getpidCall).steps });
    if (!filterFiles.libseccomp) writeFileSync((filterFiles.libseccomp = join(work, 'libseccomp.bpf')), theirs.filter);
  }

  // ---- 2. getpid in a loop --------------------------------------------------------------
  const loop = join(work, 'getpid-loop');
  const cc = spawnSync('gcc', ['-O2', '-static', '-o', loop, join(root, 'bench/getpid-loop.c')], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`build getpid-loop: ${cc.stderr}`);
  const parse = (out) => JSON.parse(out.trim().split('\n').at(-1));
  // configurations are run round-robin, RUNS rounds, so that load from other work on the
  // machine spreads over all of them; each run reports its fastest 10k-call chunk
  const configs = [];
  const measure = (where, filter, runOnce) => configs.push({ where, filter, runOnce, best: [], mean: [] });
  const host = (file) => () => {
    const r = spawnSync(loop, [String(CALLS), ...(file ? [file] : [])], { encoding: 'utf8', env });
    if (r.status !== 0) throw new Error(`getpid-loop: ${r.stderr.trim()}`);
    return parse(r.stdout);
  };
  measure('process', 'none', host());
  measure('process', 'moat (default profile)', host(filterFiles.moat));
  if (filterFiles.libseccomp) measure('process', 'libseccomp (same profile)', host(filterFiles.libseccomp));

  const profile = defaultSeccompProfile(CAPS);
  const bundle = (seccomp) => {
    const b = makeBundle({ rootfs: { withProbe: false }, config: (c) => {
      c.process.args = ['/getpid-loop', String(CALLS)];
      if (seccomp) c.linux.seccomp = seccomp;
      else delete c.linux.seccomp;
    } });
    cleanups.push(() => b.cleanup());
    copyFileSync(loop, join(b.rootfs, 'getpid-loop'));
    chmodSync(join(b.rootfs, 'getpid-loop'), 0o755);
    return b;
  };
  const withSeccomp = bundle(profile);
  const without = bundle(undefined);
  let runCount = 0;
  const runtime = (name, argv0, args) => {
    const state = join(work, `${name}-state`);
    mkdirSync(state, { recursive: true });
    return (b) => (i) => {
      const id = `bench-seccomp-${name}-${process.pid}-${i}-${++runCount}`;
      const r = spawnSync(argv0, [...args, '--root', state, 'run', '--bundle', b.dir, id], { encoding: 'utf8', env, timeout: 120_000 });
      spawnSync(argv0, [...args, '--root', state, 'delete', '--force', id], { env });
      if (r.status !== 0) throw new Error(`${name} run: ${(r.stderr || r.error?.message || `status ${r.status}`).trim()}`);
      return parse(r.stdout);
    };
  };
  const moat = runtime('moat', process.execPath, [join(root, 'bin/moat-oci.js')]);
  measure('moat container', 'moat (default profile)', moat(withSeccomp));
  measure('moat container', 'none', moat(without));
  for (const name of ['runc', 'crun']) {
    if (spawnSync(name, ['--version']).status !== 0) {
      configs.push({ where: `${name} container`, filter: 'libseccomp (same profile)', error: `${name} is not installed` });
      continue;
    }
    const rt = runtime(name, name, []);
    // one try first: crun 1.8 refuses hybrid cgroup hosts ("cgroups in hybrid mode not supported")
    try {
      rt(without)('probe');
    } catch (e) {
      configs.push({ where: `${name} container`, filter: 'libseccomp (same profile)', error: e.message.split('\n')[0] });
      continue;
    }
    measure(`${name} container`, 'libseccomp (same profile)', rt(withSeccomp));
    measure(`${name} container`, 'none', rt(without));
  }
  for (let round = 0; round < RUNS; round++) {
    for (const c of configs) {
      if (c.error) continue;
      try {
        const r = c.runOnce(round);
        c.best.push(r.ns_per_call);
        c.mean.push(r.mean_ns_per_call);
      } catch (e) {
        c.error = e.message.split('\n')[0];
      }
    }
  }
  for (const c of configs) {
    results.getpid.push(c.error ? { where: c.where, filter: c.filter, unavailable: c.error }
      : { where: c.where, filter: c.filter, nsPerCall: median(c.best), minNsPerCall: Math.min(...c.best), meanNsPerCall: median(c.mean), samples: c.best });
  }
} finally {
  for (const c of cleanups.reverse()) try { c(); } catch { /* best effort */ }
}

// ---- report ---------------------------------------------------------------------------
results.loadavgAfter = loadavg()[0];
const pad = (s, n) => String(s).padEnd(n);
console.log(`seccomp filters (x86_64, ${MIX.length}-syscall weighted mix, emulator counts)`);
console.log(`${pad('profile', 34)}${pad('compiler', 12)}${pad('insns', 7)}${pad('avg/call', 10)}${pad('max/call', 10)}getpid`);
for (const f of results.filters) {
  if (f.unavailable) console.log(`${pad(f.profile, 34)}${pad(f.compiler, 12)}unavailable: ${f.unavailable}`);
  else console.log(`${pad(f.profile, 34)}${pad(f.compiler, 12)}${pad(f.instructions, 7)}${pad(f.avgExecuted.toFixed(2), 10)}${pad(f.maxExecuted, 10)}${f.getpidExecuted}`);
}
console.log(`\nload average ${results.loadavgBefore.toFixed(1)} before, ${results.loadavgAfter.toFixed(1)} after (a shared machine: timing differences below the spread of the samples are noise)`);
console.log(`getpid() x ${CALLS} per run, ${RUNS} runs round-robin; ns per call: median over runs of the fastest 10k-call chunk, its minimum, and the median mean`);
console.log(`${pad('where', 18)}${pad('filter', 28)}${pad('ns/call', 10)}${pad('min', 10)}mean`);
for (const g of results.getpid) {
  if (g.unavailable) console.log(`${pad(g.where, 18)}${pad(g.filter, 28)}unavailable: ${g.unavailable}`);
  else console.log(`${pad(g.where, 18)}${pad(g.filter, 28)}${pad(g.nsPerCall.toFixed(1), 10)}${pad(g.minNsPerCall.toFixed(1), 10)}${g.meanNsPerCall.toFixed(1)}`);
}
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/seccomp.json'), JSON.stringify(results, null, 2) + '\n');
console.log('\nwrote bench/results/seccomp.json');
