// Writes the seed corpus (native/fuzz/seeds/*.plan): valid plans from encodePlan and
// buildPlan.  Run after `npm run build`:  node native/fuzz/make-seeds.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', '..', 'dist', 'src');
const { encodePlan } = await import(join(dist, 'plan', 'wire.js'));
const { buildPlan, buildExecPlan } = await import(join(dist, 'plan', 'build-plan.js'));
const { defaultOciSpec } = await import(join(dist, 'policy', 'default-spec.js'));

const ctx = { bundle: '/b', mode: 'detach', fifoPath: '/run/moat/x/exec.fifo', cgroupDirs: ['/sys/fs/cgroup/moat-x'], cgroupMounts: { '': '/sys/fs/cgroup/moat-x' } };
const seeds = {
  empty: [],
  one: [{ op: 'cgroup_join', path: '/sys/fs/cgroup/x' }],
  every_kind: [
    { op: 'clone', flags: 0x20000, mode: 0, uidMap: '0 1000 1\n', gidMap: '0 1000 1\n', value: 2 },
    { op: 'set_user', uid: 1, gid: 2, groups: [3, 4, 5], flags: 1 },
    { op: 'seccomp', bytes: new Uint8Array([6, 0, 0, 0, 0, 0, 0xff, 0x7f]), flags: 0, data: '{}' },
    { op: 'exec', args: ['sh', '-c', 'echo hi'], env: ['A=1', 'B=2'], path: '/bin/sh', keepFds: 2 },
  ],
  default_spec: buildPlan(defaultOciSpec(), { ...ctx, seccomp: { filter: new Uint8Array(64), flags: 0 } }).ops,
  rootless_spec: buildPlan(defaultOciSpec({ rootless: { uid: 1000, gid: 1000 } }), ctx).ops,
  // at the parser's MAX_REPEAT limit (4096 strings and groups of one op), and one past it
  max_repeat: [{ op: 'set_user', uid: 0, gid: 0, groups: Array.from({ length: 4096 }, (_, i) => i) }, { op: 'exec', args: Array.from({ length: 4096 }, () => '') }],
  over_repeat: [{ op: 'exec', args: Array.from({ length: 4097 }, () => 'x') }],
  exec_plan: buildExecPlan(defaultOciSpec(), { pid: 42, namespaces: ['user', 'mount', 'pid'], cgroupDirs: ['/sys/fs/cgroup/x'], detach: true }).ops,
};
mkdirSync(join(here, 'seeds'), { recursive: true });
for (const [name, ops] of Object.entries(seeds)) {
  const bytes = encodePlan(ops);
  writeFileSync(join(here, 'seeds', `${name}.plan`), bytes);
  console.log(`${name}.plan: ${ops.length} ops, ${bytes.length} bytes`);
}
