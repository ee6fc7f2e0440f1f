import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkResourcesDocument, mergeResources, planResourcesUpdate } from './update-resources.js';

test('checkResourcesDocument: known keys with the right shapes', () => {
  assert.deepEqual(checkResourcesDocument({ pids: { limit: 5 }, devices: [], unified: { 'memory.high': '1' } }), []);
  assert.deepEqual(checkResourcesDocument([]).map((i) => i.path), ['linux.resources']);
  const issues = checkResourcesDocument({ pid: { limit: 1 }, memory: 5, devices: {} });
  assert.deepEqual(issues.map((i) => i.path), ['linux.resources.pid', 'linux.resources.memory', 'linux.resources.devices']);
});

test('planResourcesUpdate: devices are never applied, a changed list is reported', () => {
  const stored = { devices: [{ allow: false, access: 'rwm' }] };
  const same = planResourcesUpdate(stored, { devices: [{ allow: false, access: 'rwm' }], pids: { limit: 3 } });
  assert.deepEqual(same, { apply: { pids: { limit: 3 } }, notes: [] });
  const other = planResourcesUpdate(stored, { devices: [{ allow: true, access: 'rwm' }] });
  assert.deepEqual(other.apply, {});
  assert.deepEqual(other.notes.map((n) => n.path), ['linux.resources.devices']);
});

test('planResourcesUpdate: a new memory limit carries the stored memory+swap limit', () => {
  assert.deepEqual(planResourcesUpdate({ memory: { limit: 1, swap: 4 } }, { memory: { limit: 2 } }).apply, { memory: { limit: 2, swap: 4 } });
  assert.deepEqual(planResourcesUpdate({ memory: { limit: 1 } }, { memory: { limit: 2 } }).apply, { memory: { limit: 2 } });
  assert.deepEqual(planResourcesUpdate({ memory: { limit: 1, swap: 4 } }, { memory: { limit: 2, swap: 8 } }).apply, { memory: { limit: 2, swap: 8 } });
});

test('mergeResources: objects merge, arrays and values replace, the inputs are untouched', () => {
  const stored = { memory: { limit: 1, swap: 2 }, cpu: { shares: 10 }, hugepageLimits: [{ pageSize: '2MB', limit: 1 }] };
  const merged = mergeResources(stored, { memory: { limit: 3 }, hugepageLimits: [], pids: { limit: 7 } });
  assert.deepEqual(merged, { memory: { limit: 3, swap: 2 }, cpu: { shares: 10 }, hugepageLimits: [], pids: { limit: 7 } });
  assert.deepEqual(stored.memory, { limit: 1, swap: 2 });
});
