import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planCgroupWrites } from './plan-cgroup-writes.js';
import type { OciResources } from '../../spec/oci-types.js';

const files = (r: OciResources, mode: 'v1' | 'v2') => planCgroupWrites(r, mode).writes.map((w) => `${w.file}=${w.value}`);

test('memory v1: limit before memsw, reservation, flags', () => {
  const r = planCgroupWrites({ memory: { limit: 1 << 20, swap: 2 << 20, reservation: 1 << 19, swappiness: 10, disableOOMKiller: true, useHierarchy: true, kernelTCP: 4096 } }, 'v1');
  assert.deepEqual(r.issues, []);
  assert.deepEqual(r.writes.map((w) => w.file), ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes', 'memory.soft_limit_in_bytes', 'memory.swappiness', 'memory.oom_control', 'memory.use_hierarchy', 'memory.kmem.tcp.limit_in_bytes']);
  assert.equal(r.writes[0]!.path, 'linux.resources.memory.limit');
  assert.equal(r.writes[0]!.controller, 'memory');
});

test('memory v2: swap converted, v1-only fields are issues, kernel is a note', () => {
  assert.deepEqual(files({ memory: { limit: 100, swap: 300, reservation: 50 } }, 'v2'), ['memory.max=100', 'memory.swap.max=200', 'memory.low=50']);
  const r = planCgroupWrites({ memory: { swappiness: 5, disableOOMKiller: true, kernel: 1, kernelTCP: 5 } }, 'v2');
  assert.deepEqual(r.issues.map((i) => i.path).sort(), ['linux.resources.memory.disableOOMKiller', 'linux.resources.memory.kernelTCP', 'linux.resources.memory.swappiness']);
  assert.deepEqual(r.notes.map((i) => i.path), ['linux.resources.memory.kernel']);
  assert.deepEqual(files({ memory: { limit: -1, swap: -1 } }, 'v2'), ['memory.max=max', 'memory.swap.max=max']);
});

test('invalid memory values name their json path', () => {
  const r = planCgroupWrites({ memory: { limit: -5, swap: 10, reservation: 1.5 } }, 'v1', 'x');
  assert.deepEqual(r.issues.map((i) => i.path), ['x.memory.limit', 'x.memory.reservation']);
  const s = planCgroupWrites({ memory: { limit: 100, swap: 50 } }, 'v1');
  assert.deepEqual(s.issues.map((i) => i.path), ['linux.resources.memory.swap']);
  assert.match(s.issues[0]!.message, /`50`/);
  assert.equal(planCgroupWrites({ memory: { useHierarchy: false } }, 'v1').issues.length, 1);
});

test('cpu v1 order: period before quota before burst; rt period before runtime', () => {
  assert.deepEqual(files({ cpu: { shares: 512, quota: 20000, period: 100000, burst: 1000, realtimeRuntime: 950, realtimePeriod: 1000, cpus: '0-1', mems: '0', idle: 0 } }, 'v1'), [
    'cpu.shares=512', 'cpu.cfs_period_us=100000', 'cpu.cfs_quota_us=20000', 'cpu.cfs_burst_us=1000', 'cpu.rt_period_us=1000', 'cpu.rt_runtime_us=950', 'cpuset.cpus=0-1', 'cpuset.mems=0', 'cpu.idle=0',
  ]);
});

test('cpu v2: weight, cpu.max, burst; realtime refused', () => {
  assert.deepEqual(files({ cpu: { shares: 1024, quota: 20000, period: 100000, burst: 1000, cpus: '1' } }, 'v2'), ['cpu.weight=39', 'cpu.max=20000 100000', 'cpu.max.burst=1000', 'cpuset.cpus=1']);
  const r = planCgroupWrites({ cpu: { realtimeRuntime: 5 } }, 'v2');
  assert.equal(r.issues[0]!.path, 'linux.resources.cpu.realtimeRuntime');
  const bad = planCgroupWrites({ cpu: { shares: 1, period: 10, quota: 5, cpus: 'a-b', idle: 3 } }, 'v2');
  assert.deepEqual(bad.issues.map((i) => i.path), ['linux.resources.cpu.shares', 'linux.resources.cpu.period', 'linux.resources.cpu.quota', 'linux.resources.cpu.cpus', 'linux.resources.cpu.idle']);
  assert.deepEqual(bad.writes, []);
});

test('pids: positive, -1 and 0 are max, others refused', () => {
  assert.deepEqual(files({ pids: { limit: 32 } }, 'v1'), ['pids.max=32']);
  assert.deepEqual(files({ pids: { limit: -1 } }, 'v2'), ['pids.max=max']);
  assert.equal(planCgroupWrites({ pids: { limit: -7 } }, 'v2').issues[0]!.path, 'linux.resources.pids.limit');
});

test('blockIO v1 and v2 with fallbacks and throttles', () => {
  const b: OciResources = { blockIO: { weight: 500, leafWeight: 300, weightDevice: [{ major: 8, minor: 0, weight: 100 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1000 }], throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 0 }] } };
  const v1 = planCgroupWrites(b, 'v1');
  assert.deepEqual(v1.writes.map((w) => `${w.file}=${w.value}`), ['blkio.weight=500', 'blkio.leaf_weight=300', 'blkio.weight_device=8:0 100', 'blkio.throttle.read_bps_device=8:0 1000', 'blkio.throttle.write_iops_device=8:16 0']);
  assert.deepEqual(v1.writes[0]!.fallback, { file: 'blkio.bfq.weight', value: '500' });
  assert.equal(v1.writes[3]!.path, 'linux.resources.blockIO.throttleReadBpsDevice[0].rate');
  const v2 = planCgroupWrites(b, 'v2');
  assert.deepEqual(v2.writes.map((w) => `${w.file}=${w.value}`), ['io.weight=default 4950', 'io.weight=8:0 910', 'io.max=8:0 rbps=1000', 'io.max=8:16 wiops=max']);
  assert.deepEqual(v2.issues.map((i) => i.path), ['linux.resources.blockIO.leafWeight']);
  assert.equal(planCgroupWrites({ blockIO: { weight: 5000 } }, 'v1').issues[0]!.path, 'linux.resources.blockIO.weight');
});

test('hugepages, network, rdma', () => {
  const r: OciResources = { hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }], network: { classID: 0x100001, priorities: [{ name: 'eth0', priority: 5 }] }, rdma: { mlx5_0: { hcaHandles: 3, hcaObjects: 1000 } } };
  assert.deepEqual(files(r, 'v1'), ['hugetlb.2MB.limit_in_bytes=4194304', 'net_cls.classid=1048577', 'net_prio.ifpriomap=eth0 5', 'rdma.max=mlx5_0 hca_handle=3 hca_object=1000']);
  const v2 = planCgroupWrites(r, 'v2');
  assert.deepEqual(v2.writes.map((w) => w.file), ['hugetlb.2MB.max', 'rdma.max']);
  assert.deepEqual(v2.issues.map((i) => i.path), ['linux.resources.network.classID', 'linux.resources.network.priorities[0]']);
  assert.equal(planCgroupWrites({ hugepageLimits: [{ pageSize: '2M', limit: 1 }] }, 'v1').issues[0]!.path, 'linux.resources.hugepageLimits[0].pageSize');
});

test('unified: v2 only, applied last, reserved and odd keys refused', () => {
  const r = planCgroupWrites({ unified: { 'memory.high': '1000', 'cgroup.max.descendants': '10' }, pids: { limit: 5 } }, 'v2');
  assert.deepEqual(r.writes.map((w) => [w.controller, w.file]), [['pids', 'pids.max'], ['memory', 'memory.high'], ['', 'cgroup.max.descendants']]);
  assert.equal(r.writes[1]!.path, 'linux.resources.unified.memory.high');
  const bad = planCgroupWrites({ unified: { 'cgroup.procs': '1', '../x': '1', 'memory.max': '1' } }, 'v2');
  assert.equal(bad.issues.length, 2);
  assert.equal(planCgroupWrites({ unified: { 'memory.high': '1' } }, 'v1').issues.length, 1);
});
