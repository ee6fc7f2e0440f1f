// Runs the test suites with node's test runner: `unit` (no root), `integration` (root,
// real containers), or both when no argument is given.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

const unit = find(join(root, 'dist/src'));
const integration = find(join(root, 'dist/test'));
const files = which === 'unit' ? unit : which === 'integration' ? integration : [...unit, ...integration];
// Integration tests create real containers; they run one file at a time so that
// cgroups, mounts and timing of one file never interfere with another's.
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
