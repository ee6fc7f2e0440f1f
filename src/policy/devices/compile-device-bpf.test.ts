import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileDeviceBpf } from './compile-device-bpf.js';
import { deviceCtx, runBpf } from './bpf-interpreter.js';
import { DEVCG_DEV, deviceRulesAllow } from './device-rule-match.js';
import { decodeBpf, encodeBpf, insn } from './bpf-insn.js';
import type { OciDeviceCgroup } from '../../spec/oci-types.js';

const run = (prog: Uint8Array, type: 'c' | 'b', major: number, minor: number, access: number) => runBpf(prog, deviceCtx(DEVCG_DEV[type], access, major, minor));

// deterministic pseudo-random numbers (xorshift32) so failures reproduce
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
}

function randomRules(next: () => number): OciDeviceCgroup[] {
  const pick = <T>(xs: T[]) => xs[next() % xs.length]!;
  const rules: OciDeviceCgroup[] = [];
  const n = next() % 12;
  for (let i = 0; i < n; i++) {
    const acc = ['r', 'w', 'm', 'rw', 'rm', 'wm', 'rwm'];
    rules.push({ allow: next() % 2 === 0, type: pick(['a', 'c', 'b', undefined] as const), major: pick([null, undefined, -1, 1, 2, 3, 0x7fffffff, 0xfffffffe]), minor: pick([null, 0, 1, 2, 5]), access: pick(acc) });
  }
  return rules;
}

test('encoding is 8 bytes little endian per instruction and round-trips', () => {
  const bytes = encodeBpf([insn(0x61, 2, 1, 4, -2)]);
  assert.deepEqual([...bytes], [0x61, 0x12, 4, 0, 0xfe, 0xff, 0xff, 0xff]);
  assert.deepEqual(decodeBpf(bytes), [{ code: 0x61, dst: 2, src: 1, off: 4, imm: -2 }]);
});

test('empty rule list denies everything, allow-all allows everything', () => {
  const none = compileDeviceBpf([]);
  assert.equal(run(none, 'c', 1, 3, 2), 0n);
  const all = compileDeviceBpf([{ allow: true, access: 'rwm' }]);
  for (let a = 1; a <= 7; a++) assert.equal(run(all, 'b', 8, 0, a), 1n);
});

test('a deny of one access bit wins over an earlier wider allow', () => {
  const p = compileDeviceBpf([{ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }]);
  assert.equal(run(p, 'c', 1, 3, 2), 1n); // read
  assert.equal(run(p, 'c', 1, 3, 6), 0n); // read+write
  assert.equal(run(p, 'c', 1, 4, 2), 0n);
  assert.equal(run(p, 'b', 1, 3, 2), 0n);
});

test('program matches the rule semantics on random rules, devices and every access mask', () => {
  const next = rng(42);
  let checked = 0;
  for (let round = 0; round < 300; round++) {
    const rules = randomRules(next);
    const prog = compileDeviceBpf(rules);
    for (let k = 0; k < 30; k++) {
      const type = next() % 2 ? 'c' : 'b';
      const major = [1, 2, 3, 4, 0x7fffffff, 0xfffffffe][next() % 6]!;
      const minor = next() % 7;
      for (let access = 0; access <= 7; access++) {
        const want = deviceRulesAllow(rules, { type, major, minor, access }) ? 1n : 0n;
        assert.equal(run(prog, type, major, minor, access), want, JSON.stringify({ rules, type, major, minor, access }));
        checked++;
      }
    }
  }
  assert.ok(checked > 70000);
});

test('rejects numbers that do not fit a u32', () => {
  assert.throws(() => compileDeviceBpf([{ allow: true, type: 'c', major: 2 ** 33, access: 'r' }]), /not a u32/);
});
