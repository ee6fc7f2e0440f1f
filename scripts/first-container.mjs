// The README's first command: a secure container from a tiny busybox root, no download.
// Builds a temporary bundle with `moat-oci spec`, runs it, and removes everything again.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin', 'moat-oci.js');
if (!existsSync('/bin/busybox')) throw new Error('install busybox-static first (apt-get install busybox-static)');
const bundle = mkdtempSync(join(tmpdir(), 'moat-first-'));
try {
  const rootfs = join(bundle, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'etc']) mkdirSync(join(rootfs, d));
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  execFileSync('chmod', ['755', join(rootfs, 'bin', 'busybox')]);
  for (const a of ['sh', 'id', 'grep', 'cat', 'hostname', 'ls', 'echo', 'ps']) symlinkSync('busybox', join(rootfs, 'bin', a));
  writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  execFileSync(process.execPath, [cli, 'spec', '-b', bundle]);
  const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  config.process.terminal = false;
  config.process.args = ['/bin/sh', '-c', 'echo "hello from $(hostname): pid $$, $(id)"; grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status; echo processes:; ps'];
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config, null, 2));
  const r = spawnSync(process.execPath, [cli, '--root', join(bundle, 'state'), 'run', '-b', bundle, `first-${process.pid}`], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
} finally {
  rmSync(bundle, { recursive: true, force: true });
}
