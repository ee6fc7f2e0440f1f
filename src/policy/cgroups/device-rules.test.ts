import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DEVICE_RULES, checkDeviceRules, effectiveDeviceRules } from './device-rules.js';
import { V1DeviceModel, deviceRulesToV1, findV1DeviceGaps } from './device-rules-v1.js';
import { deviceRulesAllow } from '../devices/device-rule-match.js';

test('effective rules: deny all, user rules, defaults, then linux.devices', () => {
  const rules = effectiveDeviceRules(
    [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229 }, { type: 'p', path: '/dev/fifo' }, { type: 'b', path: '/dev/sda', major: 8, minor: 0 }],
    [{ allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }],
  );
  assert.deepEqual(rules[0], { allow: false, type: 'a', major: null, minor: null, access: 'rwm' });
  assert.equal(rules.length, 1 + DEFAULT_DEVICE_RULES.length + 1 + 2);
  assert.deepEqual(rules.at(-2), { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' });
  assert.deepEqual(rules.at(-1), { allow: true, type: 'b', major: 8, minor: 0, access: 'rwm' });
  const req = (major: number, minor: number, access = 6) => deviceRulesAllow(rules, { type: 'c', major, minor, access });
  assert.ok(req(1, 3) && req(1, 9) && req(136, 4) && req(5, 2));
  assert.ok(!req(5, 1), 'the host console 5:1 is not allowed');
  assert.ok(!req(1, 1), '/dev/mem is not allowed');
  assert.ok(!req(1, 1, 1), 'mknod of a device not given is not allowed');
  assert.deepEqual(rules[1], { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }, 'user rules come before the defaults');
});

test('v1 writes: deny all first, type a split unless full wildcard', () => {
  const w = deviceRulesToV1([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }, { allow: false, type: 'a', access: 'm' }, { allow: true, type: 'b', major: 8, access: 'r' }]);
  assert.deepEqual(w, [
    { file: 'devices.deny', value: 'a' },
    { file: 'devices.allow', value: 'c 1:3 rw' },
    { file: 'devices.deny', value: 'c *:* m' },
    { file: 'devices.deny', value: 'b *:* m' },
    { file: 'devices.allow', value: 'b 8:* r' },
  ]);
});

test('v1 model agrees with the rule meaning for the default list plus typical user rules', () => {
  const rules = effectiveDeviceRules([{ type: 'c', path: '/dev/fuse', major: 10, minor: 229 }], [{ allow: true, type: 'c', major: 4, minor: null, access: 'rw' }]);
  assert.deepEqual(findV1DeviceGaps(rules), { looser: [], stricter: [] });
});

test('v1 cannot carve a deny out of a wider allow: reported as looser', () => {
  const rules = effectiveDeviceRules([], [{ allow: true, type: 'c', major: 10, access: 'rwm' }, { allow: false, type: 'c', major: 10, minor: 200, access: 'rwm' }]);
  const gaps = findV1DeviceGaps(rules);
  assert.ok(gaps.looser.some((d) => d.major === 10 && d.minor === 200));
  const m = new V1DeviceModel();
  for (const w of deviceRulesToV1(rules)) m.write(w);
  assert.ok(m.allows({ type: 'c', major: 10, minor: 200, access: 2 }));
});

test('device rule validation names paths', () => {
  const issues = checkDeviceRules([{ type: 'c', path: '/dev/x' }], [{ allow: true, type: 'x' as 'a', access: 'rrw', major: 1.5 }]);
  assert.deepEqual(issues.map((i) => i.path), ['linux.resources.devices[0].type', 'linux.resources.devices[0].major', 'linux.resources.devices[0].access', 'linux.devices[0].major', 'linux.devices[0].minor']);
  assert.deepEqual(checkDeviceRules(undefined, [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: -1, minor: null, access: 'm' }]), []);
});
