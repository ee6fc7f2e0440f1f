// Property tests: the compiled filter, run in the emulator, decides what the profile says
// (the reference evaluator computes that straight from the profile).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OciSeccomp } from '../../spec/oci-types.js';
import { callsFor, prng, randomProfile } from '../../../test/seccomp/random-profile.js';
import { referenceVerdict } from '../../../test/seccomp/reference-evaluator.js';
import type { HostArch } from './arches.js';
import { compileSeccomp, defaultSeccompProfile, emulateSeccomp, splitSeccompIssues } from './index.js';

function check(profile: OciSeccomp, host: HostArch, seed: number): number {
  const { result, issues } = compileSeccomp(profile, { hostArch: host });
  assert.deepEqual(splitSeccompIssues(issues).errors, [], 'profile compiles');
  assert.ok(result);
  const filter = result.filter;
  const r = prng(seed);
  const calls = callsFor(r, profile, host);
  for (const call of calls) {
    const got: number = emulateSeccomp(filter, call).ret;
    const want = referenceVerdict(profile, host, call);
    if (got !== want) {
      assert.fail(`seed ${seed}: arch 0x${call.arch.toString(16)} nr ${call.nr} args ${call.args.map((a) => '0x' + a.toString(16))}: filter 0x${got.toString(16)}, profile 0x${want.toString(16)}\n${JSON.stringify(profile, (_, v) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v))}`);
    }
  }
  return calls.length;
}

test('default profile: filter verdicts equal the profile', () => {
  for (const caps of [[], ['CAP_SYS_ADMIN'], ['CAP_SYS_PTRACE', 'CAP_SYS_TIME', 'CAP_BPF'], ['CAP_SYSLOG', 'CAP_SYS_NICE', 'CAP_SYS_MODULE']]) {
    for (const host of ['x86_64', 'aarch64'] as const) check(defaultSeccompProfile(caps), host, 7);
  }
});

test('random profiles (overlapping rules, all actions, all ABIs): filter verdicts equal the profile', () => {
  let calls = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const host: HostArch = seed % 3 === 0 ? 'aarch64' : 'x86_64';
    calls += check(randomProfile(prng(seed), host, false), host, seed * 31);
  }
  assert.ok(calls > 10000, `${calls} calls checked`);
});
