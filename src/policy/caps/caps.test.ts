// Capability names and masks: kernel numbering (checked against <linux/capability.h> when it
// is installed), name normalisation, and 64-bit masks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { CAPABILITIES, capabilityMask, capabilityNumber, DEFAULT_CAPABILITIES } from './caps.js';

test('CAPABILITIES are numbered as in <linux/capability.h>', (t) => {
  const h = '/usr/include/linux/capability.h';
  if (!existsSync(h)) return t.skip(`${h} not installed (linux-libc-dev)`);
  const defs = new Map([...readFileSync(h, 'utf8').matchAll(/^#define (CAP_[A-Z_]+)\s+(\d+)\s*$/gm)].map((m) => [m[1]!, Number(m[2])]));
  for (const [i, name] of CAPABILITIES.entries()) assert.equal(defs.get(name), i, name);
  const last = /^#define CAP_LAST_CAP\s+(CAP_\w+)/m.exec(readFileSync(h, 'utf8'))![1]!;
  assert.ok(defs.get(last)! <= CAPABILITIES.length - 1, `${last} is known`);
});

test('capabilityNumber accepts CAP_ names, bare names and any case; rejects the rest', () => {
  assert.equal(capabilityNumber('CAP_CHOWN'), 0);
  assert.equal(capabilityNumber('CAP_SYS_ADMIN'), 21);
  assert.equal(capabilityNumber('sys_admin'), 21);
  assert.equal(capabilityNumber('cap_net_raw'), 13);
  assert.equal(capabilityNumber('CAP_CHECKPOINT_RESTORE'), 40);
  for (const bad of ['', 'CAP_', 'CAP_NOPE', 'constructor', '__proto__', 'CAP_SYS_ADMIN ', '21']) assert.equal(capabilityNumber(bad), undefined, JSON.stringify(bad));
});

test('capabilityMask: a bigint with one bit per capability, unknown names ignored', () => {
  assert.equal(capabilityMask([]), 0n);
  assert.equal(capabilityMask(['CAP_CHOWN', 'CAP_KILL']), 0b100001n);
  assert.equal(capabilityMask(['CAP_CHECKPOINT_RESTORE']), 1n << 40n, 'above bit 31');
  assert.equal(capabilityMask(['CAP_KILL', 'kill', 'CAP_NOPE']), 1n << 5n);
  assert.equal(capabilityMask([...CAPABILITIES]), (1n << BigInt(CAPABILITIES.length)) - 1n);
});

test('the default set is runc\'s 14 capabilities, all known', () => {
  assert.equal(DEFAULT_CAPABILITIES.length, 14);
  for (const c of DEFAULT_CAPABILITIES) assert.notEqual(capabilityNumber(c), undefined, c);
  assert.ok(!DEFAULT_CAPABILITIES.includes('CAP_SYS_ADMIN' as never));
});
