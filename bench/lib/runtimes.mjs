// The runtimes under test, each with its own temporary --root: moat-oci (as shipped, plus any
// start-up variants asked for), runc, crun (directly, or through bench/crun-legacy.c on a
// hybrid-cgroup host that crun 1.8 refuses), and bwrap as a namespaces-only reference.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newId, timed } from './proc.mjs';

function which(name) {
  for (const d of (process.env.PATH ?? '').split(':').concat(['/usr/local/sbin', '/usr/sbin', '/sbin'])) {
    if (d && existsSync(join(d, name))) return join(d, name);
  }
  return undefined;
}

/** An OCI runtime with runc's CLI: argv for a verb, its state root, and whether it runs here. */
function ociRuntime(name, prefix, root, note = '') {
  return { name, kind: 'oci', root, note, available: true, reason: '', argv: (...args) => [...prefix, '--root', root, ...args] };
}

/**
 * moat-oci start-up variants (for comparing options; `moat` is what bin/moat-oci does, `node` the Node path alone):
 *   node-modules  node on dist/src (one ES module per source file)
 *   node-bundle   node importing dist/bundle/moat-oci.cjs from an ES module (no code cache)
 *   node-nocache  node requiring the same bundle (CommonJS loader, no code cache)
 *   node-snapshot node --snapshot-blob dist/bundle/moat-oci.blob (scripts/bundle.mjs --snapshot)
 *   bun-bundle    bun on the same bundle
 */
function moatVariant(variant, repo, tmp, root, bun) {
  const entry = (target) => {
    const p = join(tmp, `entry-${variant}.mjs`);
    writeFileSync(p, `import { main } from ${JSON.stringify(target)};\nmain(process.argv.slice(2));\n`);
    return p;
  };
  const bundle = join(repo, 'dist', 'bundle', 'moat-oci.cjs');
  switch (variant) {
    case 'moat': return ociRuntime('moat', [join(repo, 'bin', 'moat-oci')], root, 'bin/moat-oci as shipped (the C front, Node for the rest)');
    case 'node': return ociRuntime('moat/node', [join(repo, 'bin', 'moat-oci.cjs')], root, 'bin/moat-oci.cjs: the Node path only');
    case 'node-nocache': {
      const p = join(tmp, 'entry-node-nocache.cjs');
      writeFileSync(p, `require(${JSON.stringify(bundle)}).main(process.argv.slice(2));\n`);
      return ociRuntime('moat/node-nocache', [process.execPath, p], root, 'node, one bundled file, no code cache');
    }
    case 'node-modules': return ociRuntime('moat/node-modules', [process.execPath, entry(join(repo, 'dist', 'src', 'cli', 'oci', 'main.js'))], root, 'node, dist/src modules');
    case 'node-bundle':
      if (!existsSync(bundle)) return { name: 'moat/node-bundle', available: false, reason: 'no dist/bundle (run node scripts/bundle.mjs)' };
      return ociRuntime('moat/node-bundle', [process.execPath, entry(bundle)], root, 'node, one bundled file');
    case 'node-snapshot': {
      const blob = join(repo, 'dist', 'bundle', 'moat-oci.blob');
      if (!existsSync(blob)) return { name: 'moat/node-snapshot', available: false, reason: 'no snapshot (node scripts/bundle.mjs --snapshot)' };
      return ociRuntime('moat/node-snapshot', [process.execPath, '--snapshot-blob', blob, '--'], root, 'node, start-up snapshot with the run path warmed');
    }
    case 'bun-bundle':
      if (!existsSync(bundle) || !bun) return { name: 'moat/bun-bundle', available: false, reason: bun ? 'no dist/bundle' : 'bun not installed' };
      return ociRuntime('moat/bun-bundle', [bun, entry(bundle)], root, 'bun, one bundled file');
    default: throw new Error(`unknown moat variant \`${variant}\``);
  }
}

/** Finds bun: the npm package's binary in the repo, else on PATH. */
export function findBun(repo) {
  const local = join(repo, 'node_modules', '.bin', 'bun');
  return existsSync(local) ? local : which('bun');
}

/** Detects and prepares every runtime; each gets <tmp>/root-<name>. */
export async function setupRuntimes({ repo, tmp, bundles, variants }) {
  const rootOf = (n) => {
    const r = join(tmp, `root-${n.replace(/\W/g, '_')}`);
    mkdirSync(r, { recursive: true, mode: 0o700 });
    return r;
  };
  const bun = findBun(repo);
  const list = variants.map((v) => moatVariant(v, repo, tmp, rootOf(`moat-${v}`), bun));
  const runc = which('runc');
  list.push(runc ? ociRuntime('runc', [runc], rootOf('runc')) : { name: 'runc', available: false, reason: 'runc not installed' });
  list.push(await setupCrun(repo, tmp, bundles, rootOf('crun')));
  for (const rt of list) if (rt.available) await smokeTest(rt, bundles);
  return list;
}

// one `run` of /bin/true: a runtime that cannot do it is reported, not benchmarked
async function smokeTest(rt, bundles) {
  const r = await timed(rt.argv('run', '-b', bundles.true, newId('smoke')), { capture: true });
  if (r.code !== 0) {
    rt.available = false;
    rt.reason = `\`run\` of /bin/true failed (${r.code}): ${(r.stderr || r.stdout).trim().split('\n').pop()}`;
  }
}

async function setupCrun(repo, tmp, bundles, root) {
  const crun = which('crun');
  if (!crun) return { name: 'crun', available: false, reason: 'crun not installed' };
  const direct = ociRuntime('crun', [crun], root);
  const r = await timed(direct.argv('run', '-b', bundles.true, newId('probe')), { capture: true });
  if (r.code === 0) return direct;
  const why = (r.stderr || r.stdout).trim().split('\n').pop();
  if (!/hybrid/.test(why)) return { name: 'crun', available: false, reason: why };
  // crun refuses the hybrid cgroup layout: run it where /sys/fs/cgroup/unified is unmounted
  const wrapper = join(tmp, 'crun-legacy');
  const cc = await timed(['gcc', '-O2', '-static', '-o', wrapper, join(repo, 'bench', 'crun-legacy.c')], { capture: true });
  if (cc.code !== 0) return { name: 'crun', available: false, reason: `${why} (and the workaround did not build: ${cc.stderr.trim()})` };
  return { ...ociRuntime('crun', [wrapper, crun], root, 'via bench/crun-legacy.c: cgroup v1 only, in a private mount namespace'), refusal: why, wrapper };
}

/** The bwrap command for /bin/true on the rootfs: namespaces only (no cgroup, no seccomp). */
export function bwrapArgv(rootfs) {
  const bwrap = which('bwrap');
  if (!bwrap) return undefined;
  return [bwrap, '--unshare-all', '--die-with-parent', '--new-session', '--ro-bind', rootfs, '/', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '/bin/true'];
}
