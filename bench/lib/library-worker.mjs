// The library path's own warm Node process (bench phase 5): loads moat's runtime once, then
// on each request runs one container of the bundle to completion with runContainer, the way a
// program that runs sandboxes would, and reports the time of the `await` measured in here.
// A process of its own because the bench's process spawns every other runtime: Node's
// fork-based spawn leaves its pages write-protected, and its next writes fault again (~180
// more faults and ~3 ms more CPU per container, measured), a cost of the harness, not of moat.
import { join } from 'node:path';

let run;
process.on('message', async (m) => {
  if (m.cmd === 'init') {
    const { runContainer } = await import(join(m.repo, 'dist', 'src', 'runtime', 'run.js'));
    const { loadBundle } = await import(join(m.repo, 'dist', 'src', 'runtime', 'load-spec.js'));
    // full isolation: the same config.json as the CLIs, parsed and compiled each time
    run = (id) => runContainer({ root: m.root, id, loaded: loadBundle(m.bundle, m.root), stdio: ['ignore', 'ignore', 'ignore'] });
    process.send({ ready: true });
  } else if (m.cmd === 'run') {
    const t0 = process.hrtime.bigint();
    let code;
    try {
      code = await run(m.id);
    } catch (e) {
      process.stderr.write(`library worker: ${e.message}\n`);
      code = -1;
    }
    process.send({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code });
  } else if (m.cmd === 'exit') process.exit(0);
});
