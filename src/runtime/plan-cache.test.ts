// The Plan cache's pure parts: the id placeholder substituted only in marked attributes with
// every length following (the algorithm native/front-create.c implements), the templates'
// rendering, the cgroup mount summary C computes too, and the cacheability rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodePlan, type PlanOp } from '../plan/wire.js';
import { cgroupMountSummary, forEachPlanAttr, PH, planCacheName, renderTemplate, substitutePlan, uncacheableReason } from './plan-cache.js';

const ops = (id: string): PlanOp[] => [
  { op: 'cgroup_join', path: `/sys/fs/cgroup/pids/moat-${id}` },
  { op: 'cgroup_join', path: `/sys/fs/cgroup/memory/moat-${id}` },
  { op: 'hostname', name: 'static' },
  { op: 'open_fifo', path: `/run/moat-oci/${id}/exec.fifo` },
  { op: 'rlimit', value: 7, soft: 10, hard: 20 },
];

test('substituting the id into the marked attributes reproduces the real Plan byte for byte', () => {
  const template = encodePlan(ops(PH.id));
  const marks: number[] = [];
  forEachPlanAttr(template, (ord, off, len) => {
    if (Buffer.from(template.subarray(off, off + len)).includes(PH.id)) marks.push(ord);
  });
  assert.deepEqual(marks, [0, 1, 3]);
  for (const id of ['a', 'web-1', 'x'.repeat(200)]) assert.deepEqual(substitutePlan(template, marks, id), Buffer.from(encodePlan(ops(id))));
  // unmarked attributes keep the placeholder text: C substitutes nowhere else
  assert.ok(substitutePlan(template, [0], 'zz').includes(PH.id));
});

test('templates render the pid as a number and the rest as text', () => {
  const t = `{"id":"${PH.id}","pid":${PH.pid},"pidStart":"${PH.start}","created":"${PH.created}","dir":"/x/moat-${PH.id}"}`;
  const out = renderTemplate(t, { id: 'c1', pid: '42', start: '777', created: '2026-01-01T00:00:00.000Z' });
  assert.deepEqual(JSON.parse(out), { id: 'c1', pid: 42, pidStart: '777', created: '2026-01-01T00:00:00.000Z', dir: '/x/moat-c1' });
});

test('the cgroup mount summary keeps mount point, type and super options of cgroup mounts only', () => {
  const mi = [
    '25 1 0:23 / /sys rw,nosuid - sysfs sysfs rw',
    '30 25 0:26 / /sys/fs/cgroup/memory rw,nosuid shared:9 - cgroup cgroup rw,memory',
    '31 25 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate',
  ].join('\n');
  assert.equal(cgroupMountSummary(mi), '/sys/fs/cgroup/memory cgroup rw,memory\n/sys/fs/cgroup/unified cgroup2 rw,nsdelegate');
});

test('the entry name covers the command, root, bundle, flags and every config byte', () => {
  const key = { mode: 'run' as const, root: '/run/moat-oci', bundle: '/b', noPivot: false };
  const a = planCacheName(key, Buffer.from('{"a":1}'));
  assert.match(a, /^[0-9a-f]{16}$/);
  for (const other of [planCacheName({ ...key, mode: 'create' }, Buffer.from('{"a":1}')), planCacheName({ ...key, noPivot: true }, Buffer.from('{"a":1}')), planCacheName({ ...key, bundle: '/c' }, Buffer.from('{"a":1}')), planCacheName(key, Buffer.from('{"a":2}'))]) assert.notEqual(other, a);
});

test('what is never cached', () => {
  const base = { ociVersion: '1.2.0', root: { path: 'rootfs' }, process: { cwd: '/', args: ['/bin/true'] } } as any;
  const o = { rootless: false };
  assert.equal(uncacheableReason(base, o), undefined);
  assert.equal(uncacheableReason(base, { rootless: true }), 'rootless');
  assert.equal(uncacheableReason(base, { ...o, consoleSocket: '/s' }), 'terminal');
  assert.equal(uncacheableReason({ ...base, process: { ...base.process, terminal: true } }, o), 'terminal');
  assert.equal(uncacheableReason(base, { ...o, preserveFds: 1 }), 'preserved fds');
  assert.equal(uncacheableReason({ ...base, hooks: { poststop: [{ path: '/bin/true' }] } }, o), 'hooks');
  assert.equal(uncacheableReason({ ...base, linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/l' } } }, o), 'seccomp listener');
  assert.equal(uncacheableReason({ ...base, linux: { cgroupsPath: '/x' } }, o), 'cgroupsPath');
  assert.equal(uncacheableReason({ ...base, linux: { uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] } }, o), 'id maps');
});
