// The generated syscall tables: plausible, and reproducible from their sources.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { libseccompVersion, repoRoot } from '../../../test/seccomp/libseccomp-export.js';
import { ABIS } from './arches.js';
import { SYSCALL_TABLE_SOURCES } from './syscall-tables.js';

test('tables hold the well-known numbers', () => {
  assert.equal(ABIS.x86_64.table.read, 0);
  assert.equal(ABIS.x86_64.table.clone3, 435);
  assert.equal(ABIS.x86.table.socketcall, 102);
  assert.equal(ABIS.x32.table.read, 0x40000000);
  assert.equal(ABIS.x32.table.rt_sigaction, 0x40000200);
  assert.equal(ABIS.aarch64.table.openat, 56);
  assert.equal(ABIS.arm.table.set_tls, 0xf0005);
  for (const abi of Object.values(ABIS)) assert.ok(abi.byNr.size > 300, abi.name);
});

test('regenerating the tables gives the committed file', (t) => {
  const headers = readFileSync('/usr/include/linux/version.h', { encoding: 'utf8', flag: 'r' });
  const m = /LINUX_VERSION_MAJOR (\d+)\s+#define LINUX_VERSION_PATCHLEVEL (\d+)\s+#define LINUX_VERSION_SUBLEVEL (\d+)/.exec(headers);
  const kernel = m ? `${m[1]}.${m[2]}.${m[3]}` : 'unknown';
  if (!existsSync('/usr/include/x86_64-linux-gnu/asm/unistd_x32.h')) return t.skip('no x86_64 kernel headers');
  if (spawnSync('gcc', ['--version']).status !== 0) return t.skip('gcc is not installed');
  const lib = libseccompVersion();
  if (lib !== SYSCALL_TABLE_SOURCES.libseccomp || kernel !== SYSCALL_TABLE_SOURCES.kernelHeaders) {
    return t.skip(`tables come from headers ${SYSCALL_TABLE_SOURCES.kernelHeaders} and libseccomp ${SYSCALL_TABLE_SOURCES.libseccomp}; this machine has ${kernel} and ${lib ?? 'no libseccomp'}`);
  }
  const dir = join(repoRoot, 'src/policy/seccomp');
  const r = spawnSync(process.execPath, [join(dir, 'gen-tables.mjs'), '--stdout'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, readFileSync(join(dir, 'syscall-tables.ts'), 'utf8'));
});
