import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blkioWeightToIoWeight, cpuMaxLine, cpuSharesToWeight, memoryToV2, swapToV2, throttleRateToV2 } from './convert-v1-v2.js';

test('cpu shares to weight uses the OCI formula at the ends and the default', () => {
  assert.equal(cpuSharesToWeight(2), 1);
  assert.equal(cpuSharesToWeight(262144), 10000);
  assert.equal(cpuSharesToWeight(1024), 1 + Math.floor((1022 * 9999) / 262142)); // 39
  assert.equal(cpuSharesToWeight(1024), 39);
});

test('blkio weight to io weight is linear 10..1000 -> 1..10000', () => {
  assert.equal(blkioWeightToIoWeight(10), 1);
  assert.equal(blkioWeightToIoWeight(1000), 10000);
  assert.equal(blkioWeightToIoWeight(500), 1 + Math.floor((490 * 9999) / 990));
});

test('swap is memory+swap on v1 and swap alone on v2', () => {
  assert.deepEqual(swapToV2(300, 100), { value: '200' });
  assert.deepEqual(swapToV2(100, 100), { value: '0' });
  assert.deepEqual(swapToV2(-1, 100), { value: 'max' });
  assert.ok('error' in swapToV2(50, 100));
  assert.ok('error' in swapToV2(200, undefined));
  assert.ok('error' in swapToV2(200, -1));
});

test('cpu.max, memory and throttle values', () => {
  assert.equal(cpuMaxLine(50000, 100000), '50000 100000');
  assert.equal(cpuMaxLine(undefined, 100000), 'max 100000');
  assert.equal(cpuMaxLine(-1, undefined), 'max');
  assert.equal(cpuMaxLine(20000, undefined), '20000');
  assert.equal(memoryToV2(-1), 'max');
  assert.equal(memoryToV2(4096), '4096');
  assert.equal(throttleRateToV2(0), 'max');
});
