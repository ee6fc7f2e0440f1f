// Builds everything: the TypeScript (tsc into dist/) and the native helper and probe (make).
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

run('make', ['-s', '-C', 'native']);
run('make', ['-s', '-C', 'test/probe']);
run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
// one file per CLI entry point: Node loads one bundle far faster than ~80 modules
run(process.execPath, [join(root, 'scripts', 'bundle.mjs')]);
