// The cBPF emulator: hand-assembled programs with known results.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emulateSeccomp } from './index.js';

function prog(...ins: [number, number, number, number][]): Uint8Array {
  const out = new Uint8Array(ins.length * 8);
  const v = new DataView(out.buffer);
  ins.forEach(([code, jt, jf, k], i) => {
    v.setUint16(i * 8, code, true);
    v.setUint8(i * 8 + 2, jt);
    v.setUint8(i * 8 + 3, jf);
    v.setUint32(i * 8 + 4, k >>> 0, true);
  });
  return out;
}

test('loads seccomp_data fields little-endian and counts steps', () => {
  const p = prog([0x20, 0, 0, 0x1c], [0x16, 0, 0, 0]); // ld args[1] hi; ret A
  assert.deepEqual(emulateSeccomp(p, { arch: 0, nr: 0, args: [0n, 0x1234567800000000n] }), { ret: 0x12345678, steps: 2 });
  const nr = prog([0x20, 0, 0, 0], [0x16, 0, 0, 0]);
  assert.equal(emulateSeccomp(nr, { arch: 0, nr: -1 }).ret, 0xffffffff);
  const ip = prog([0x20, 0, 0, 8], [0x16, 0, 0, 0]);
  assert.equal(emulateSeccomp(ip, { arch: 0, nr: 0, ip: 0xabcn }).ret, 0xabc);
});

test('jumps, ALU, scratch memory, X register', () => {
  const p = prog(
    [0x20, 0, 0, 4], // ld arch
    [0x54, 0, 0, 0xff], // and 0xff
    [0x02, 0, 0, 3], // st M[3]
    [0x45, 1, 0, 0x80], // jset 0x80 -> +1
    [0x06, 0, 0, 1], // ret 1
    [0x61, 0, 0, 3], // ldx M[3]
    [0x87, 0, 0, 0], // txa
    [0x04, 0, 0, 1], // add 1
    [0x35, 0, 1, 0xbf], // jge 0xbf
    [0x05, 0, 0, 1], // ja +1
    [0x06, 0, 0, 2], // ret 2
    [0x06, 0, 0, 3], // ret 3
  );
  assert.deepEqual(emulateSeccomp(p, { arch: 0xc00000be, nr: 0 }), { ret: 3, steps: 10 });
  assert.equal(emulateSeccomp(p, { arch: 0xc000003e, nr: 0 }).ret, 1);
});

test('refuses what the kernel would refuse', () => {
  assert.throws(() => emulateSeccomp(prog([0x20, 0, 0, 64], [0x06, 0, 0, 0]), { arch: 0, nr: 0 }), /outside/);
  assert.throws(() => emulateSeccomp(prog([0x20, 0, 0, 0]), { arch: 0, nr: 0 }), /end/);
  assert.throws(() => emulateSeccomp(prog([0x05, 0, 0, 5], [0x06, 0, 0, 0]), { arch: 0, nr: 0 }), /out of the program/);
});
