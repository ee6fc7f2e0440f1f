// Runs the test suites: `unit` (no root), `integration` (root, real containers), `vm` (qemu
// VMs: cgroup v2 and the LSM kernels), or all of them when no argument is given. The VM suite
// runs first so that node's test runner prints the closing summary; it is skipped, saying
// why, where qemu or the test kernel is missing (MOAT_SKIP_VM=1 skips it too).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const which = process.argv[2] ?? 'all';

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

function vmSkipReason() {
  if (process.env.MOAT_SKIP_VM === '1') return 'MOAT_SKIP_VM=1';
  const qemu = (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, 'qemu-system-x86_64')));
  if (!qemu) return 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)';
  const kernel = resolve(process.env.MOAT_VM_KERNEL ?? join(root, '..', 'shared', 'vm', 'bzImage'));
  if (!existsSync(kernel)) return `no test kernel at \`${kernel}\``;
  return undefined;
}

let failed = false;
if (which === 'all' || which === 'vm') {
  const why = vmSkipReason();
  if (why) console.log(`vm: skipped: ${why}`);
  else failed ||= spawnSync(process.execPath, [join(root, 'scripts', 'test-vm.mjs')], { stdio: 'inherit' }).status !== 0;
}
if (which !== 'vm') {
  const unit = find(join(root, 'dist/src'));
  const integration = find(join(root, 'dist/test'));
  const files = which === 'unit' ? unit : which === 'integration' ? integration : [...unit, ...integration];
  // Integration tests create real containers; they run one file at a time so that
  // cgroups, mounts and timing of one file never interfere with another's.
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
  failed ||= r.status !== 0;
}
process.exit(failed ? 1 : 0);
