#!/usr/bin/env node
// Where the library path's time goes (issue 8): runContainer's steps timed apart from a warm
// Node process on the bench's /bin/true bundle, plus the container cgroup's create and destroy
// alone. Run as root after `npm run build`: node bench/lib-profile.mjs [--n 40]
import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFixture } from './lib/fixture.mjs';
import { newId, since } from './lib/proc.mjs';
import { summarize } from './lib/stats.mjs';
import { leftovers } from './lib/cleanup.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(repo, 'dist', 'src', 'runtime', p));

async function main() {
  const args = process.argv.slice(2);
  const n = Number(args.includes('--n') ? args[args.indexOf('--n') + 1] : 40);
  const { createContainer } = await dist('create.js');
  const { startContainer, deleteContainer } = await dist('lifecycle.js');
  const { runContainer } = await dist('run.js');
  const { loadBundle } = await dist('load-spec.js');
  const { createContainerCgroup, destroyContainerCgroup } = await dist('cgroups/index.js');
  const { cgroupHostInfo } = await dist('host.js');
  const tmp = mkdtempSync(join(tmpdir(), 'moat-libprof-'));
  const root = join(tmp, 'root');
  mkdirSync(root);
  const left = [];
  const steps = { load: [], create: [], start: [], exit: [], delete: [], total: [], runContainer: [], cgroupCreate: [], cgroupDestroy: [] };
  try {
    const fx = await makeFixture(tmp, repo);
    const stdio = ['ignore', 'ignore', 'ignore'];
    for (let i = 0; i < n + 3; i++) {
      const id = newId('prof');
      const t0 = process.hrtime.bigint();
      const loaded = loadBundle(fx.bundles.true, root);
      const t1 = process.hrtime.bigint();
      const { helper } = await createContainer({ root, id, loaded, stdio, mode: 'foreground' });
      const t2 = process.hrtime.bigint();
      await startContainer(root, id);
      const t3 = process.hrtime.bigint();
      const code = await helper.exit;
      const t4 = process.hrtime.bigint();
      await deleteContainer(root, id, true);
      const t5 = process.hrtime.bigint();
      if (code !== 0) throw new Error(`/bin/true exited ${code}`);
      // the whole runContainer, alternating with the split steps
      const t6 = process.hrtime.bigint();
      const c2 = await runContainer({ root, id: newId('prof'), loaded: loadBundle(fx.bundles.true, root), stdio });
      if (c2 !== 0) throw new Error(`runContainer exited ${c2}`);
      const rc = since(t6);
      const t7 = process.hrtime.bigint();
      const cg = createContainerCgroup(cgroupHostInfo(), { id: newId('profcg'), ...(loaded.spec.linux?.resources ? { resources: loaded.spec.linux.resources } : {}), ...(loaded.spec.linux?.devices ? { devices: loaded.spec.linux.devices } : {}) });
      const t8 = process.hrtime.bigint();
      try { destroyContainerCgroup(cg); } catch (e) { left.push(cg); throw e; }
      const t9 = process.hrtime.bigint();
      if (i < 3) continue; // warm-up
      const ms = (a, b) => Number(b - a) / 1e6;
      steps.load.push(ms(t0, t1));
      steps.create.push(ms(t1, t2));
      steps.start.push(ms(t2, t3));
      steps.exit.push(ms(t3, t4));
      steps.delete.push(ms(t4, t5));
      steps.total.push(ms(t0, t5));
      steps.runContainer.push(rc);
      steps.cgroupCreate.push(ms(t7, t8));
      steps.cgroupDestroy.push(ms(t8, t9));
    }
    for (const [k, v] of Object.entries(steps)) {
      const s = summarize(v);
      console.log(`${k.padEnd(14)} min ${s.min.toFixed(2).padStart(7)} ms  median ${s.median.toFixed(2).padStart(7)} ms`);
    }
  } finally {
    for (const id of readdirSync(root)) if (!id.startsWith('.')) await deleteContainer(root, id, true).catch((e) => console.error(`delete ${id}: ${e.message}`));
    for (const cg of left) try { destroyContainerCgroup(cg); } catch (e) { console.error(e.message); }
    const { removeTree } = await import(join(repo, 'dist', 'test', 'lib', 'bundle.js'));
    removeTree(tmp);
    console.log('leftovers:', JSON.stringify(leftovers([])));
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
