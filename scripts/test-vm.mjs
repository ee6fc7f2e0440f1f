// `npm run test:vm`: runs the tests that need a kernel this host lacks (pure cgroup v2, and
// later AppArmor, SELinux, Smack) in small qemu VMs (TCG; no KVM needed), one per entry of
// test/vm/vms.mjs, and prints one summary line per VM. Exits non-zero if a test failed or a
// VM did not finish.
//
// The guest: ../shared/vm/bzImage (or $MOAT_VM_KERNEL), an initramfs made here from the host's
// static busybox and test/vm/init.sh, the host's / over 9p (read-only, under an overlay with a
// tmpfs upper layer), this project over a writable 9p share at its host path (so dist/ and
// native/moat-helper are the host's build: run `npm run build` first), and the host's node.
//
//   node scripts/test-vm.mjs [name...] [--all] [--no-lsm] [--timeout=SEC] [--keep] [--quiet|--verbose] [--cmd=SHELL]
//
// Every temporary file (initramfs, per-VM job dir, console logs, the compiled SELinux policy)
// is in one dir under os.tmpdir(), named at start and removed at exit unless --keep is given.
// Tools a VM needs (`debs` in vms.mjs: apparmor's apparmor_parser, checkpolicy) come from
// Debian packages fetched with `apt-get download` and unpacked with `dpkg-deb -x` into the
// cache dir $MOAT_VM_CACHE (default ~/.cache/moat-vm), which the guest sees at the same path.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { VMS } from '../test/vm/vms.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const QEMU = 'qemu-system-x86_64';
const BUSYBOX = '/bin/busybox';
const DEFAULT_TIMEOUT_S = { tests: 1800, boot: 120 };

// ---- arguments ----------------------------------------------------------------------------

function parseArgs(argv) {
  const opts = { names: [], all: false, noLsm: false, timeoutS: undefined, keep: false, quiet: false, verbose: false, cmd: undefined };
  for (const a of argv) {
    if (a === '--all') opts.all = true;
    else if (a === '--no-lsm') opts.noLsm = true;
    else if (a === '--keep') opts.keep = true;
    else if (a === '--quiet') opts.quiet = true;
    else if (a === '--verbose') opts.verbose = true;
    else if (a.startsWith('--cmd=')) opts.cmd = a.slice('--cmd='.length);
    else if (a.startsWith('--timeout=')) opts.timeoutS = Number(a.slice('--timeout='.length));
    else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/test-vm.mjs [name...] [--all] [--no-lsm] [--timeout=SEC] [--keep] [--quiet|--verbose] [--cmd=SHELL]');
      console.log(`VMs: ${VMS.map((v) => v.name + (v.heavy ? ' (only when named or --all)' : '')).join(', ')}`);
      process.exit(0);
    } else if (a.startsWith('-')) die(`unknown option \`${a}\``);
    else opts.names.push(a);
  }
  if (opts.cmd !== undefined && opts.names.length !== 1) die('--cmd wants exactly one VM name');
  if (opts.timeoutS !== undefined && !(opts.timeoutS > 0)) die('--timeout wants a number of seconds');
  for (const n of opts.names) if (!VMS.some((v) => v.name === n)) die(`no VM called \`${n}\` (have: ${VMS.map((v) => v.name).join(', ')})`);
  return opts;
}

function selectVms(opts) {
  if (opts.names.length > 0) return VMS.filter((v) => opts.names.includes(v.name));
  return VMS.filter((v) => (opts.all || !v.heavy) && !(opts.noLsm && v.lsm));
}

function die(msg) {
  console.error(`test-vm: ${msg}`);
  process.exit(2);
}

// ---- host checks --------------------------------------------------------------------------

function onPath(name) {
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (d && existsSync(join(d, name))) return join(d, name);
  }
  return undefined;
}

function checkHost() {
  const qemu = onPath(QEMU);
  if (!qemu) die(`\`${QEMU}\` not found: install Debian's \`qemu-system-x86\` (apt-get install --no-install-recommends qemu-system-x86)`);
  const kernel = resolve(process.env.MOAT_VM_KERNEL ?? join(root, '..', 'shared', 'vm', 'bzImage'));
  if (!existsSync(kernel)) die(`no test kernel at \`${kernel}\` (see ../shared/vm/README.md, or set MOAT_VM_KERNEL)`);
  if (!existsSync(BUSYBOX)) die(`no \`${BUSYBOX}\`: install Debian's \`busybox-static\``);
  const bb = readFileSync(BUSYBOX);
  // a static binary has no PT_INTERP: cheap check for the interpreter path in the file
  if (bb.includes('/lib64/ld-linux')) die(`\`${BUSYBOX}\` is not static: install Debian's \`busybox-static\``);
  if (root.includes(' ')) die(`the project path \`${root}\` has a space; the kernel command line cannot carry it`);
  const node = realpathSync(process.execPath);
  return { qemu, kernel, node };
}

// ---- initramfs (gzip'd cpio "newc", written here: no cpio package needed) --------------------

function cpioEntry(name, mode, data = Buffer.alloc(0), rdev = [0, 0], ino = 0) {
  const nameBuf = Buffer.from(name + '\0');
  const fields = [ino, mode, 0, 0, 1, 0, data.length, 0, 0, rdev[0], rdev[1], nameBuf.length, 0];
  const header = Buffer.from('070701' + fields.map((f) => f.toString(16).padStart(8, '0')).join(''));
  const pad = (n) => Buffer.alloc((4 - (n % 4)) % 4);
  return Buffer.concat([header, nameBuf, pad(header.length + nameBuf.length), data, pad(data.length)]);
}

function buildInitramfs(dest) {
  const S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFCHR = 0o020000;
  const parts = [];
  let ino = 1;
  for (const d of ['bin', 'dev', 'proc', 'sys', 'mnt', 'newroot', 'tmp']) parts.push(cpioEntry(d, S_IFDIR | 0o755, undefined, undefined, ino++));
  parts.push(cpioEntry('dev/console', S_IFCHR | 0o600, undefined, [5, 1], ino++));
  parts.push(cpioEntry('bin/busybox', S_IFREG | 0o755, readFileSync(BUSYBOX), undefined, ino++));
  parts.push(cpioEntry('init', S_IFREG | 0o755, readFileSync(join(root, 'test/vm/init.sh')), undefined, ino++));
  parts.push(cpioEntry('TRAILER!!!', 0));
  writeFileSync(dest, gzipSync(Buffer.concat(parts), { level: 6 }));
}

// ---- tools from Debian packages ------------------------------------------------------------

function cacheDir() {
  return resolve(process.env.MOAT_VM_CACHE ?? join(homedir(), '.cache', 'moat-vm'));
}

/** Unpacks each package (fetched once with `apt-get download`) into <cache>/<pkg>/. */
function ensureDebs(names) {
  const cache = cacheDir();
  const debs = join(cache, 'debs');
  mkdirSync(debs, { recursive: true, mode: 0o755 });
  for (const name of names) {
    const dest = join(cache, name);
    if (existsSync(join(dest, '.unpacked'))) continue;
    console.log(`test-vm: fetching Debian's \`${name}\` into \`${debs}\` (apt-get download)`);
    const dl = spawnSync('apt-get', ['download', '-q', name], { cwd: debs, encoding: 'utf8' });
    const deb = (existsSync(debs) ? readdirSync(debs) : []).filter((f) => f.startsWith(`${name}_`) && f.endsWith('.deb')).sort().pop();
    if (!deb) die(`\`apt-get download ${name}\` failed: ${(dl.stderr || dl.error?.message || '').trim()}`);
    rmSync(dest, { recursive: true, force: true });
    const x = spawnSync('dpkg-deb', ['-x', join(debs, deb), dest], { encoding: 'utf8' });
    if (x.status !== 0) die(`\`dpkg-deb -x ${deb}\` failed: ${(x.stderr || x.error?.message || '').trim()}`);
    writeFileSync(join(dest, '.unpacked'), deb + '\n');
  }
  return cache;
}

/** Compiles a policy.conf with the cached checkpolicy (MLS/MCS, unknown classes allowed). */
function compileSelinuxPolicy(cache, conf, dest) {
  const checkpolicy = join(cache, 'checkpolicy', 'usr', 'bin', 'checkpolicy');
  const r = spawnSync(checkpolicy, ['-M', '-U', 'allow', '-c', '33', '-o', dest, join(root, conf)], { encoding: 'utf8' });
  if (r.status !== 0) die(`checkpolicy \`${conf}\` failed: ${(r.stderr || r.stdout || r.error?.message || '').trim()}`);
}

// ---- one VM -------------------------------------------------------------------------------

function shQuote(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

/** Writes job.env and job.sh (run by test/vm/stage2.sh in the guest) into dir. */
function writeJob(vm, dir, node, cmd) {
  const present = vm.tests.filter((t) => existsSync(join(root, t)));
  const missing = vm.tests.filter((t) => !existsSync(join(root, t)));
  writeFileSync(join(dir, 'job.env'), [
    `MOAT_VM_NAME=${shQuote(vm.name)}`,
    `MOAT_VM_CGROUP=${shQuote(vm.cgroup ?? 'none')}`,
    `MOAT_VM_LSM=${shQuote(vm.lsm ?? '')}`,
    '',
  ].join('\n'));
  const lines = ['set -u', `export MOAT_VM=${shQuote(vm.name)} TMPDIR=/tmp HOME=/root NO_COLOR=1 MOAT_VM_CACHE=${shQuote(cacheDir())}`];
  for (const [k, v] of Object.entries(vm.env ?? {})) lines.push(`export ${k}=${shQuote(v.replaceAll('$CACHE', cacheDir()))}`);
  if (vm.lsm) lines.push(`/bin/busybox sh test/vm/check-lsm.sh ${shQuote(vm.lsm)} || exit 1`);
  // per-VM set-up after the LSM check (loading the compiled SELinux policy, say)
  for (const l of vm.setup ?? []) lines.push(l);
  if (vm.scope && vm.cgroup === 'v2') {
    // as systemd does: every ancestor hands its controllers down; the leaf holds the runner
    lines.push(`cg=/sys/fs/cgroup; ctl="$(sed 's/\\([^ ]*\\)/+\\1/g' $cg/cgroup.controllers)"`);
    const segs = vm.scope.split('/');
    segs.forEach((seg, i) => {
      lines.push(`cg="$cg/${seg}"; mkdir -p "$cg"`);
      if (i < segs.length - 1) lines.push(`echo "$ctl" > "$cg/cgroup.subtree_control"`);
    });
    lines.push('echo $$ > "$cg/cgroup.procs"', 'echo "moat-vm: test runner in cgroup $(cat /proc/self/cgroup)"');
  }
  if (cmd !== undefined) {
    lines.push(`export PATH="${dirname(node)}:$PATH"`, cmd);
  } else if (present.length > 0) {
    // the spec report goes to the console; a TAP copy goes to the job dir, where the kernel's
    // console messages (an OOM kill, say) cannot cut into the summary lines we count
    lines.push(`exec ${shQuote(node)} --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout --test-reporter=tap --test-reporter-destination=/moat-vm/result.tap ${present.map(shQuote).join(' ')}`);
  }
  lines.push('');
  writeFileSync(join(dir, 'job.sh'), lines.join('\n'));
  return { present, missing, cmd, dir };
}

function qemuArgs(vm, kernel, initrd, jobDir, verbose) {
  const append = ['console=ttyS0', 'panic=-1', ...(verbose ? [] : ['quiet', 'loglevel=1']), 'rdinit=/init', `moat.project=${root}`, ...vm.append];
  const share = (id, path, extra) => [
    '-fsdev', `local,id=${id},path=${path},security_model=none,multidevs=remap${extra}`,
    '-device', `virtio-9p-pci,fsdev=${id},mount_tag=${id}`,
  ];
  return [
    '-nodefaults', '-no-user-config', '-no-reboot',
    // one vCPU: with several, multi-threaded TCG can race the guest kernel's live code patching
    // (an int3 oops in a static key seen here), which is the emulator's bug, not the guest's
    '-machine', 'pc,accel=tcg', '-cpu', 'max', '-smp', String(vm.cpus ?? 1), '-m', String(vm.memoryMiB ?? 2048),
    '-display', 'none', '-serial', 'stdio', '-monitor', 'none',
    '-kernel', kernel, '-initrd', initrd, '-append', append.join(' '),
    ...share('hostroot', '/', ',readonly=on'),
    ...share('project', root, ''),
    ...share('job', jobDir, ''),
  ];
}

let current; // the qemu child now running, so that a signal to us ends it (by pid)

function runQemu(qemu, args, timeoutS, quiet, label, logPath) {
  return new Promise((resolvePromise) => {
    const started = Date.now();
    const child = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    current = child;
    let out = '';
    let partial = '';
    let bootedAt;
    const emit = (chunk) => {
      const text = chunk.toString('utf8').replace(/\r/g, '');
      out += text;
      if (bootedAt === undefined && out.includes('moat-vm: lsm:')) bootedAt = Date.now();
      if (quiet) return;
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop();
      for (const l of lines) process.stdout.write(`[${label}] ${l}\n`);
    };
    child.stdout.on('data', emit);
    child.stderr.on('data', emit);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutS * 1000);
    child.on('error', (err) => {
      out += `\nqemu: ${err.message}\n`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      current = undefined;
      if (!quiet && partial) process.stdout.write(`[${label}] ${partial}\n`);
      writeFileSync(logPath, out);
      resolvePromise({ out, code, signal, timedOut, seconds: (Date.now() - started) / 1000, bootSeconds: bootedAt ? (bootedAt - started) / 1000 : undefined });
    });
  });
}

// ---- parsing the console ------------------------------------------------------------------

/** The last `ℹ <key> N` (spec reporter) or `# <key> N` (tap) line of the runner's summary. */
function runnerCount(out, key) {
  const re = new RegExp(`^(?:ℹ|#) ${key} (\\d+)\\s*$`, 'gm');
  let m, last;
  while ((m = re.exec(out))) last = Number(m[1]);
  return last;
}

/** Names of failed tests from the spec reporter's closing `✖ failing tests:` section. */
function failingTests(out) {
  const at = out.lastIndexOf('✖ failing tests:');
  if (at < 0) return [];
  return out.slice(at).split('\n').slice(1)
    .filter((l) => /^\s*✖ /.test(l) && !/^\s*✖ failing tests:/.test(l))
    .map((l) => l.trim().replace(/^✖ /, ''));
}

function fmtS(s) {
  return s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(1)}s`;
}

function summarize(vm, run, job) {
  const done = /^MOAT-VM-DONE rc=(\d+)$/m.exec(run.out);
  const rc = done ? Number(done[1]) : undefined;
  const time = `${fmtS(run.seconds)}${run.bootSeconds ? `, booted in ${fmtS(run.bootSeconds)}` : ''}`;
  if (!done) {
    const why = run.timedOut ? `timed out after ${fmtS(run.seconds)}` : `qemu exited (${run.signal ?? `code ${run.code}`}) before the job finished`;
    return { ok: false, line: `${vm.name}: did not finish: ${why}` };
  }
  const lsmLine = /^MOAT-VM-LSM (active|inactive) ([^:]+): (.*)$/m.exec(run.out);
  if (vm.lsm && (!lsmLine || lsmLine[1] !== 'active')) {
    return { ok: false, line: `${vm.name}: boots, LSM NOT active (${lsmLine ? lsmLine[3] : 'no check output'}) (${time})` };
  }
  if (job.cmd !== undefined) return { ok: rc === 0, line: `${vm.name}: --cmd exited ${rc} (${time})` };
  if (job.present.length === 0) {
    const what = vm.tests.length === 0 ? 'no moat backend yet' : `test files not built: ${job.missing.join(', ')}`;
    return { ok: rc === 0 && vm.tests.length === 0, line: `${vm.name}: boots${vm.lsm ? ', LSM active' : ''}; 0 tests (${what}) (${time})` };
  }
  const tap = join(job.dir, 'result.tap');
  const report = existsSync(tap) ? readFileSync(tap, 'utf8') : run.out;
  const pass = runnerCount(report, 'pass');
  const fail = runnerCount(report, 'fail');
  const cancelled = runnerCount(report, 'cancelled') ?? 0;
  // a skipped describe() counts as no skipped test: count the reporter's `﹣` lines too
  const skipped = Math.max(runnerCount(report, 'skipped') ?? 0, (run.out.match(/^\s*﹣ /gm) ?? []).length);
  if (pass === undefined || fail === undefined) {
    return { ok: false, line: `${vm.name}: the test runner printed no summary (exit ${rc}) (${time})` };
  }
  const failed = fail + cancelled;
  const extra = [
    skipped ? `${skipped} skipped` : '',
    cancelled ? `${cancelled} of the failed cancelled` : '',
    job.missing.length ? `not built, not run: ${job.missing.join(', ')}` : '',
    rc !== 0 && failed === 0 ? `runner exited ${rc}` : '',
  ].filter(Boolean);
  const line = `${vm.name}: ${pass} passed, ${failed} failed${extra.length ? `; ${extra.join('; ')}` : ''} (${time})`;
  return { ok: failed === 0 && rc === 0, line, failing: failingTests(run.out) };
}

// ---- main ---------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const vms = selectVms(opts);
  if (vms.length === 0) die('no VM selected');
  const { qemu, kernel, node } = checkHost();
  for (const need of ['dist/test/integration', 'native/moat-helper']) {
    if (!existsSync(join(root, need))) die(`no \`${need}\`: run \`npm run build\` first (the VM runs the host's build)`);
  }

  const work = mkdtempSync(join(tmpdir(), 'moat-vm-'));
  chmodSync(work, 0o755);
  const cleanup = () => {
    if (current?.pid && current.exitCode === null && current.signalCode === null) {
      try { process.kill(current.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    if (!opts.keep) rmSync(work, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      console.error(`test-vm: ${sig}: stopping qemu${opts.keep ? '' : `, removing \`${work}\``}`);
      cleanup();
      process.exit(130);
    });
  }
  console.log(`test-vm: work dir \`${work}\` (initramfs, job dirs, console logs; ${opts.keep ? 'kept: --keep' : 'removed at exit'})`);
  console.log(`test-vm: kernel \`${kernel}\`, node \`${node}\`, qemu \`${qemu}\` (TCG)`);

  const results = [];
  try {
    const initrd = join(work, 'initramfs.cpio.gz');
    buildInitramfs(initrd);
    console.log(`test-vm: initramfs \`${initrd}\` (${Math.round(statSync(initrd).size / 1024)} KiB, busybox + test/vm/init.sh)`);
    for (const vm of vms) {
      let s;
      // a guest that dies before its job ends (an emulator fault, not a test failure) gets one
      // more boot; the summary says so
      for (let attempt = 1; attempt <= 2; attempt++) {
        const jobDir = join(work, attempt === 1 ? vm.name : `${vm.name}.retry`);
        mkdirSync(jobDir);
        if (vm.debs?.length) ensureDebs(vm.debs);
        // the compiled policy is a temporary file of this run: it goes with the job dir
        if (vm.selinuxPolicy) compileSelinuxPolicy(cacheDir(), vm.selinuxPolicy, join(jobDir, 'policy.33'));
        const job = writeJob(vm, jobDir, node, opts.cmd);
        for (const m of job.missing) console.log(`test-vm: ${vm.name}: \`${m}\` is not built; not run`);
        const timeoutS = opts.timeoutS ?? (job.present.length > 0 ? DEFAULT_TIMEOUT_S.tests : DEFAULT_TIMEOUT_S.boot);
        console.log(`test-vm: ${vm.name}: booting (${vm.append.join(' ')}; ${job.present.length} test files; timeout ${timeoutS}s)`);
        const run = await runQemu(qemu, qemuArgs(vm, kernel, initrd, jobDir, opts.verbose), timeoutS, opts.quiet, vm.name, join(jobDir, 'console.log'));
        s = summarize(vm, run, job);
        if (attempt === 2) s.line += ' (second boot: the first guest died before its job finished)';
        const died = /MOAT-VM-DONE/.test(run.out) === false && !run.timedOut;
        if (!died) break;
        console.log(`test-vm: ${vm.name}: the guest died before its job finished; booting it once more`);
      }
      results.push(s);
      console.log(`test-vm: ${s.line}`);
    }
  } finally {
    cleanup();
  }

  console.log('\ntest-vm summary:');
  for (const r of results) {
    console.log(r.line);
    for (const f of r.failing ?? []) console.log(`  ✖ ${f}`);
  }
  if (opts.keep) console.log(`(console logs kept in \`${work}/<vm>/console.log\`)`);
  process.exit(results.every((r) => r.ok) ? 0 : 1);
}

main().catch((err) => {
  console.error(`test-vm: ${err.stack ?? err}`);
  process.exit(1);
});
