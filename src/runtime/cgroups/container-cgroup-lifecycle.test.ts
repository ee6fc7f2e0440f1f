import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeFakeCgroupfs, readFake, type FakeCgroupfs } from './fake-cgroupfs.js';
import { probeCgroupHost } from './probe-cgroup-host.js';
import { createContainerCgroup } from './create-container-cgroup.js';
import { destroyContainerCgroup } from './destroy-container-cgroup.js';
import { pauseContainerCgroup, resumeContainerCgroup } from './freeze-container-cgroup.js';
import { updateContainerCgroup } from './update-container-cgroup.js';
import { readCgroupStats, readOomCount } from './read-cgroup-stats.js';
import { CGROUP_MAX, parseIoStatV2 } from './parse-cgroup-files.js';
import type { ContainerCgroup } from './cgroup-types.js';

let fake: FakeCgroupfs | undefined;
let cg: ContainerCgroup | undefined;
afterEach(() => {
  try { if (cg) destroyContainerCgroup(cg); } finally { fake?.cleanup(); fake = cg = undefined; }
});

function create(mode: 'v1' | 'unified'): ContainerCgroup {
  fake = makeFakeCgroupfs(mode);
  const host = probeCgroupHost({ mountinfo: fake.mountinfo, procSelfCgroup: fake.procSelfCgroup, root: fake.root });
  return (cg = createContainerCgroup(host, { id: 'l1', resources: { memory: { limit: 1000 } } }));
}

test('v1 pause and resume through the freezer', () => {
  const c = create('v1');
  pauseContainerCgroup(c);
  assert.equal(readFake(c.dirs.freezer!, 'freezer.state'), 'FROZEN');
  resumeContainerCgroup(c);
  assert.equal(readFake(c.dirs.freezer!, 'freezer.state'), 'THAWED');
});

test('v1 update writes new values; bad values are issues', () => {
  const c = create('v1');
  const notes = updateContainerCgroup(c, { memory: { limit: 5000 }, pids: { limit: 9 }, cpu: { period: 50000, quota: 25000 } });
  assert.deepEqual(notes, []);
  assert.equal(readFake(c.dirs.memory!, 'memory.limit_in_bytes'), '5000');
  assert.equal(readFake(c.dirs.pids!, 'pids.max'), '9');
  assert.equal(readFake(c.dirs.cpu!, 'cpu.cfs_quota_us'), '25000');
  assert.throws(() => updateContainerCgroup(c, { pids: { limit: -3 } }), (e: { issues: { path: string }[] }) => e.issues[0]!.path === 'linux.resources.pids.limit');
  writeFileSync(join(c.dirs.memory!, 'memory.usage_in_bytes'), '9000');
  assert.throws(() => updateContainerCgroup(c, { memory: { limit: 6000, checkBeforeUpdate: true } }), /below the current usage `9000`/);
});

test('v1 stats in runc shape', () => {
  const c = create('v1');
  const s = readCgroupStats(c);
  assert.equal(s.memory.usage.usage, 4096);
  assert.equal(s.memory.usage.limit, 1000);
  assert.equal(s.memory.usage.max, 8192);
  assert.equal(s.memory.cache, 200);
  assert.equal(s.memory.oomKill, 2);
  assert.equal(readOomCount(c), 2);
  assert.deepEqual(s.cpu.usage.percpu, [100000, 23456]);
  assert.equal(s.cpu.usage.total, 123456);
  assert.equal(s.cpu.usage.user, 3 * 10_000_000);
  assert.deepEqual(s.cpu.throttling, { periods: 4, throttledPeriods: 1, throttledTime: 500 });
  assert.deepEqual(s.pids, { current: 1, limit: CGROUP_MAX });
  assert.deepEqual(s.blkio.ioServiceBytesRecursive, [{ major: 8, minor: 0, op: 'Read', value: 4096 }, { major: 8, minor: 0, op: 'Write', value: 0 }]);
});

test('v2 stats, update and pause', () => {
  const c = create('unified');
  const s = readCgroupStats(c);
  assert.equal(s.memory.usage.usage, 4096);
  assert.equal(s.memory.usage.limit, 1000);
  assert.equal(s.memory.usage.failcnt, 3);
  assert.equal(s.memory.oomKill, 1);
  assert.equal(s.cpu.usage.total, 10_000);
  assert.deepEqual(s.pids, { current: 2, limit: CGROUP_MAX });
  assert.equal(s.blkio.ioServicedRecursive.length, 3);
  updateContainerCgroup(c, { memory: { limit: 2000 } });
  assert.equal(readFake(c.dirs.unified!, 'memory.max'), '2000');
  // the fake kernel does not set cgroup.events itself: report frozen as the kernel would
  writeFileSync(join(c.dirs.unified!, 'cgroup.events'), 'populated 0\nfrozen 1\n');
  pauseContainerCgroup(c);
  assert.equal(readFake(c.dirs.unified!, 'cgroup.freeze'), '1');
});

test('hugetlb stats per page size, from the v2 files when that is where hugetlb lives', () => {
  const c = create('unified');
  assert.deepEqual(readCgroupStats(c).hugetlb, {});
  writeFileSync(join(c.dirs.unified!, 'hugetlb.2MB.current'), '4194304\n');
  writeFileSync(join(c.dirs.unified!, 'hugetlb.2MB.events'), 'max 2\n');
  assert.deepEqual(readCgroupStats(c).hugetlb, { '2MB': { usage: 4194304, max: 0, failcnt: 2 } });
});

test('io.stat parsing', () => {
  assert.deepEqual(parseIoStatV2('8:16 rbytes=5 wios=7 cost.usage=3\n').bytes, [{ major: 8, minor: 16, op: 'Read', value: 5 }]);
});

test('destroy: an empty cgroup goes by rmdir alone; one still holding a process goes to the kill path', () => {
  const c = create('v1');
  const dirs = [...new Set(Object.values(c.dirs))];
  // a pid no process has, in the first dir made (the last one removed): the kill finds
  // nothing to kill, and the dir stays busy
  const first = c.created[0]!;
  writeFileSync(join(first, 'cgroup.procs'), '4194303\n');
  assert.throws(() => destroyContainerCgroup(c), /still has processes.*4194303/);
  assert.deepEqual(dirs.filter((d) => existsSync(d)), [first], 'the empty dirs (the freezer among them) are gone; the kill path did not trip over them');
  writeFileSync(join(first, 'cgroup.procs'), '');
  destroyContainerCgroup(c);
  assert.deepEqual(dirs.filter((d) => existsSync(d)), []);
});
