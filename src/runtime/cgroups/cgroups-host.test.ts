// Integration: a real container cgroup on this host, beneath our own cgroup (root only).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { probeCgroupHost } from './probe-cgroup-host.js';
import { createContainerCgroup } from './create-container-cgroup.js';
import { destroyContainerCgroup } from './destroy-container-cgroup.js';
import { cgroupJoinDirs } from './cgroup-join-dirs.js';
import { readCgroupStats } from './read-cgroup-stats.js';
import { removeCreatedDirs } from './write-cgroup-files.js';
import type { CgroupHost, ContainerCgroup } from './cgroup-types.js';

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'needs root';
  try {
    probeCgroupHost();
    return false;
  } catch (err) {
    return `no cgroup file system: ${(err as Error).message}`;
  }
}

const skip = skipReason();
if (skip) console.log(`# skipping cgroups-host: ${skip}`);

let cg: ContainerCgroup | undefined;
let child: ChildProcess | undefined;

after(() => {
  // whatever happened: end our child (by pid) and remove only the dirs this test created
  if (child?.pid && child.exitCode === null && child.signalCode === null) {
    try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  if (cg && cg.created.some((d) => existsSync(d))) {
    try { destroyContainerCgroup(cg); } catch { removeCreatedDirs(cg.created, 3000); }
  }
});

const MiB = 1024 * 1024;

test('create a container cgroup beneath our own, join a child, destroy it', { skip }, async () => {
  const host: CgroupHost = probeCgroupHost();
  const id = `itest-${process.pid}`;
  cg = createContainerCgroup(host, { id, resources: { memory: { limit: 64 * MiB }, pids: { limit: 32 } } });
  const memDir = host.mode === 'unified' ? cg.dirs.unified! : cg.dirs.memory!;
  const own = host.mode === 'unified' ? join(host.unified!, host.self['']!) : join(host.v1.memory!, host.self.memory!);
  assert.equal(memDir, join(own, `moat-${id}`), 'beneath our own memory cgroup');
  const read = (dir: string, f: string) => readFileSync(join(dir, f), 'utf8').trim();
  if (host.mode === 'unified') {
    assert.equal(read(memDir, 'memory.max'), String(64 * MiB));
    assert.equal(read(memDir, 'pids.max'), '32');
  } else {
    assert.equal(read(memDir, 'memory.limit_in_bytes'), String(64 * MiB));
    assert.equal(read(cg.dirs.pids!, 'pids.max'), '32');
    assert.match(read(cg.dirs.devices!, 'devices.list'), /^c 1:3 rwm$/m);
  }
  if (host.mode !== 'v1') assert.ok(cg.deviceBpf && cg.deviceBpf.dir === cg.dirs.unified);
  console.log(`# mode ${host.mode}; dirs ${JSON.stringify(cg.dirs)}`);

  child = spawn('sleep', ['30'], { stdio: 'ignore' });
  const pid = child.pid!;
  const exited = new Promise<string>((resolve) => child!.once('exit', (code, signal) => resolve(String(signal ?? code))));
  for (const dir of cgroupJoinDirs(cg)) writeFileSync(join(dir, 'cgroup.procs'), String(pid));
  assert.match(read(memDir, 'cgroup.procs'), new RegExp(`^${pid}$`, 'm'));
  const procCgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  assert.match(procCgroup, new RegExp(`moat-${id}`));
  assert.equal(readCgroupStats(cg).pids.current, 1);

  destroyContainerCgroup(cg);
  assert.equal(await exited, 'SIGKILL');
  for (const d of cg.created) assert.ok(!existsSync(d), `\`${d}\` removed`);
  assert.ok(existsSync(own), 'our own cgroup is untouched');
});
