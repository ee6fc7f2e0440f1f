import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fnv1a64 } from './state-record.js';

// the definition, one BigInt step per byte: what native/front-record.c computes in C
function reference(b: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const c of b) h = BigInt.asUintN(64, (h ^ BigInt(c)) * 0x100000001b3n);
  return h;
}

test('fnv1a64: the published vectors, and the definition on random and all-0xff bytes', () => {
  assert.equal(fnv1a64(new Uint8Array()), 0xcbf29ce484222325n);
  assert.equal(fnv1a64(Buffer.from('a')), 0xaf63dc4c8601ec8cn);
  assert.equal(fnv1a64(Buffer.from('foobar')), 0x85944171f73967e8n);
  for (let n = 0; n < 200; n++) {
    const b = randomBytes(n * 13);
    assert.equal(fnv1a64(b), reference(b), `${n * 13} random bytes`);
  }
  const ff = Buffer.alloc(4096, 0xff);
  assert.equal(fnv1a64(ff), reference(ff));
});
