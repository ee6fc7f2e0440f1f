import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, symlinkSync } from 'node:fs';
import { cgroupfsHooks } from './cgroup-fs.js';
import { join } from 'node:path';
import { makeFakeCgroupfs, readFake, type FakeCgroupfs } from './fake-cgroupfs.js';
import { probeCgroupHost } from './probe-cgroup-host.js';
import { createContainerCgroup } from './create-container-cgroup.js';
import { destroyContainerCgroup } from './destroy-container-cgroup.js';
import { cgroupJoinDirs } from './cgroup-join-dirs.js';
import { compileDeviceBpf } from '../../policy/devices/compile-device-bpf.js';
import { effectiveDeviceRules } from '../../policy/cgroups/device-rules.js';
import type { CgroupHost } from './cgroup-types.js';

let fake: FakeCgroupfs | undefined;
afterEach(() => { fake?.cleanup(); fake = undefined; });

function setup(mode: 'v1' | 'hybrid' | 'unified'): CgroupHost {
  fake = makeFakeCgroupfs(mode);
  return probeCgroupHost({ mountinfo: fake.mountinfo, procSelfCgroup: fake.procSelfCgroup, root: fake.root });
}

test('v1: dirs beneath our own cgroup, limits written, cpuset inherited, devices listed, then destroyed', () => {
  const host = setup('v1');
  const r = fake!.root;
  const cg = createContainerCgroup(host, { id: 'c1', cgroupsPath: 'pod/c1', resources: { memory: { limit: 1 << 24 }, pids: { limit: 64 }, cpu: { shares: 512, quota: 50000, period: 100000 }, blockIO: { weight: 300 } } });
  assert.equal(cg.dirs.memory, join(r, 'memory/workplace/abc/pod/c1'));
  assert.equal(cg.dirs.pids, join(r, 'pids/pod/c1'));
  assert.equal(cg.deviceBpf, undefined);
  assert.equal(readFake(cg.dirs.memory!, 'memory.limit_in_bytes'), String(1 << 24));
  assert.equal(readFake(cg.dirs.pids!, 'pids.max'), '64');
  assert.equal(readFake(cg.dirs.cpu!, 'cpu.cfs_quota_us'), '50000');
  assert.equal(readFake(cg.dirs.blkio!, 'blkio.bfq.weight'), '300', 'falls back to the bfq file');
  assert.equal(readFake(cg.dirs.cpuset!, 'cpuset.cpus'), '0-3');
  assert.equal(readFake(join(r, 'cpuset/pod'), 'cpuset.mems'), '0');
  assert.equal(readFake(cg.dirs.devices!, 'devices.deny'), 'a');
  assert.equal(readFake(cg.dirs.devices!, 'devices.allow'), 'c 136:* rwm');
  assert.equal(cgroupJoinDirs(cg).length, 8, 'cpu,cpuacct share one dir');
  assert.ok(cg.created.indexOf(join(r, 'pids/pod')) < cg.created.indexOf(join(r, 'pids/pod/c1')));
  destroyContainerCgroup(cg);
  for (const d of cg.created) assert.ok(!existsSync(d), d);
  assert.ok(existsSync(join(r, 'memory/workplace/abc')), 'our own cgroup stays');
  destroyContainerCgroup(cg); // already gone is fine
});

test('v1: config issues name fields and leave nothing behind', () => {
  const host = setup('v1');
  assert.throws(
    () => createContainerCgroup(host, { id: 'c2', resources: { memory: { limit: 100, swap: 200 }, blockIO: { leafWeight: 100 }, unified: { 'memory.high': '1' }, devices: [{ allow: true, type: 'c', major: 10, access: 'rwm' }, { allow: false, type: 'c', major: 10, minor: 200, access: 'rwm' }] } }),
    (err: { code: string; issues: { path: string; message: string }[] }) => {
      assert.equal(err.code, 'ERR_INVALID_CONFIG');
      const paths = err.issues.map((i) => i.path);
      assert.deepEqual(paths.sort(), ['linux.resources.blockIO.leafWeight', 'linux.resources.devices', 'linux.resources.memory.swap', 'linux.resources.unified.memory.high']);
      assert.match(err.issues.find((i) => i.path.endsWith('swap'))!.message, /swap accounting is off/);
      return true;
    },
  );
  assert.ok(!existsSync(join(fake!.root, 'pids/moat-c2')));
  assert.ok(!existsSync(join(fake!.root, 'memory/workplace/abc/moat-c2')));
});

test('v1: bestEffort turns missing files into notes', () => {
  const host = setup('v1');
  const cg = createContainerCgroup(host, { id: 'c3', bestEffort: true, resources: { memory: { limit: 100, swap: 200 } } });
  assert.deepEqual(cg.notes?.map((n) => n.path), ['linux.resources.memory.swap']);
  assert.equal(readFake(cg.dirs.memory!, 'memory.limit_in_bytes'), '100');
  destroyContainerCgroup(cg);
});

test('an existing leaf is refused and not removed; a write failure cleans up', () => {
  const host = setup('v1');
  const cg = createContainerCgroup(host, { id: 'c4' });
  assert.throws(() => createContainerCgroup(host, { id: 'c4' }), /already exists/);
  assert.ok(existsSync(cg.dirs.pids!));
  destroyContainerCgroup(cg);
  // a write the kernel refuses: the fake makes the new leaf's pids.max a symlink to a directory (EISDIR)
  const saved = cgroupfsHooks.afterMkdir;
  cgroupfsHooks.afterMkdir = (dir) => {
    saved(dir);
    if (dir === join(host.v1.pids!, 'c5/deeper')) { rmSync(join(dir, 'pids.max')); symlinkSync('/', join(dir, 'pids.max')); }
  };
  try {
    assert.throws(() => createContainerCgroup(host, { id: 'c5', cgroupsPath: '/c5/deeper', resources: { pids: { limit: 5 } } }), (e: Error & { code: string }) => e.code === 'ERR_CGROUP' && /EISDIR/.test(e.message) && /pids\.limit/.test(e.message));
  } finally {
    cgroupfsHooks.afterMkdir = saved;
  }
  for (const h of ['pids', 'memory', 'devices']) assert.ok(!existsSync(join(fake!.root, h, 'c5')), h);
});

test('hybrid: v1 limits and devices, a cgroup2 dir with the device program', () => {
  const host = setup('hybrid');
  const cg = createContainerCgroup(host, { id: 'h1', resources: { pids: { limit: 10 }, devices: [{ allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' }] }, devices: [{ type: 'b', path: '/dev/sda', major: 8, minor: 0 }] });
  assert.equal(cg.dirs.unified, join(fake!.root, 'unified/moat-h1'));
  assert.equal(cg.deviceBpf?.dir, cg.dirs.unified);
  const want = compileDeviceBpf(effectiveDeviceRules([{ type: 'b', path: '/dev/sda', major: 8, minor: 0 }], [{ allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' }]));
  assert.deepEqual(Buffer.from(cg.deviceBpf!.insns, 'base64'), Buffer.from(want));
  assert.equal(readFake(cg.dirs.devices!, 'devices.allow'), 'b 8:0 rwm');
  assert.equal(readFake(cg.dirs.pids!, 'pids.max'), '10');
  assert.ok(cgroupJoinDirs(cg).includes(cg.dirs.unified!));
  destroyContainerCgroup(cg);
  assert.ok(!existsSync(cg.dirs.unified!));
});

test('hybrid: a deny v1 cannot express is a note, enforced by the program', () => {
  const host = setup('hybrid');
  const cg = createContainerCgroup(host, { id: 'h2', resources: { devices: [{ allow: true, type: 'c', major: 10, access: 'rwm' }, { allow: false, type: 'c', major: 10, minor: 200, access: 'rwm' }] } });
  assert.match(cg.notes?.[0]?.message ?? '', /ebpf program alone/i);
  destroyContainerCgroup(cg);
});

test('unified: controllers enabled only in dirs moat created (our own cgroup is delegated, not written), v2 files written', () => {
  const host = setup('unified');
  const own = join(fake!.root, 'workplace/abc');
  const cg = createContainerCgroup(host, { id: 'u1', cgroupsPath: 'pod/u1', resources: { memory: { limit: 1000, swap: -1 }, pids: { limit: 7 }, cpu: { shares: 1024, quota: 20000, period: 100000 } } });
  assert.deepEqual(Object.keys(cg.dirs), ['unified']);
  assert.equal(cg.dirs.unified, join(own, 'pod/u1'));
  assert.equal(readFake(own, 'cgroup.subtree_control'), 'cpuset cpu io memory pids', 'our own cgroup is never written');
  assert.equal(readFake(join(own, 'pod'), 'cgroup.subtree_control'), '+pids');
  assert.equal(readFake(cg.dirs.unified!, 'memory.max'), '1000');
  assert.equal(readFake(cg.dirs.unified!, 'pids.max'), '7');
  assert.equal(readFake(cg.dirs.unified!, 'cpu.weight'), '39');
  assert.equal(readFake(cg.dirs.unified!, 'cpu.max'), '20000 100000');
  assert.ok(cg.deviceBpf);
  destroyContainerCgroup(cg);
  assert.ok(!existsSync(join(own, 'pod')));
  assert.ok(existsSync(own));
});

test('unified: an undelegated controller is an issue naming the field (a note with bestEffort)', () => {
  const host = setup('unified');
  assert.throws(() => createContainerCgroup(host, { id: 'u2', resources: { hugepageLimits: [{ pageSize: '2MB', limit: 0 }] } }), (e: { issues: { path: string }[] }) => e.issues[0]!.path === 'linux.resources.hugepageLimits[0].limit');
  const cg = createContainerCgroup(host, { id: 'u3', bestEffort: true, resources: { hugepageLimits: [{ pageSize: '2MB', limit: 0 }], memory: { swappiness: 3 } } });
  assert.deepEqual(cg.notes?.map((n) => n.path), ['linux.resources.memory.swappiness', 'linux.resources.hugepageLimits[0].limit']);
  assert.match(cg.notes![0]!.message, /^skipped: /);
  destroyContainerCgroup(cg);
});

test('systemd driver: refused clearly when systemd is not running', { skip: existsSync('/run/systemd/system') ? 'systemd is running here' : false }, () => {
  const host = setup('v1');
  assert.throws(() => createContainerCgroup(host, { id: 's1', systemd: true, cgroupsPath: 'machine.slice:moat:s1' }), /systemd is not running/);
  assert.throws(() => createContainerCgroup(host, { id: 's1', systemd: true, cgroupsPath: 'nope' }), { code: 'ERR_INVALID_CONFIG' });
});
