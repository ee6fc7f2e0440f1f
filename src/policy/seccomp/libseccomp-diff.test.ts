// Differential test: moat's filter and libseccomp's filter for the same profile, run in
// the emulator over the same calls, must decide the same.
//
// Compared only where both define behaviour; the intentional differences are skipped:
// - numbers moat's tables do not know: moat returns ENOSYS (errno default) by design;
// - syscalls whose number libseccomp's tables give differently or not at all (its tables
//   are from another kernel than the headers moat's x86 tables come from);
// - x86 socketcall and ipc: libseccomp also turns rules on socket(), shmget()... into
//   rules on the multiplexers; moat keeps names to their own numbers;
// - x32 calls to syscalls with argument rules: libseccomp compares only the low 32 bits
//   on x32, moat all 64 (see README.md);
// - bad arch: moat kills the process; the exporter sets libseccomp's bad-arch action to the same.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { OciSeccomp } from '../../spec/oci-types.js';
import { buildLibseccompExporter, runLibseccompExporter, type Exporter } from '../../../test/seccomp/libseccomp-export.js';
import { callsFor, prng, randomProfile, type TestCall } from '../../../test/seccomp/random-profile.js';
import { ABIS, type Abi } from './arches.js';
import { compileSeccomp, defaultSeccompProfile, emulateSeccomp } from './index.js';
import { toLibseccompLines } from './libseccomp-lines.js';

let exporter: Exporter;
before(() => {
  exporter = buildLibseccompExporter();
});
after(() => {
  const e = exporter;
  if (e.skip === undefined) e.cleanup();
});

const listed = (profile: OciSeccomp) => (profile.architectures?.length ? profile.architectures : ['SCMP_ARCH_X86_64']);

function abiOf(call: TestCall, profile: OciSeccomp): Abi | undefined {
  const abi = Object.values(ABIS).find((a) => a.auditArch === call.arch && (a.name !== 'x32' || call.nr >>> 0 >= 0x40000000) && (a.name !== 'x86_64' || call.nr >>> 0 < 0x40000000));
  return abi && listed(profile).includes(abi.ociName) ? abi : undefined;
}

function compare(bin: string, profile: OciSeccomp, seed: number): { compared: number; skipped: number } {
  const ours = compileSeccomp(profile, { hostArch: 'x86_64' }).result;
  assert.ok(ours, 'moat compiles the profile');
  const filter = ours.filter;
  const lines = toLibseccompLines(profile, 'x86_64');
  assert.ok(lines);
  const theirs = runLibseccompExporter(bin, lines);
  assert.deepEqual(theirs.ruleErrors, [], 'libseccomp accepts every rule');
  const argRules = new Set((profile.syscalls ?? []).filter((s) => s.args?.length).flatMap((s) => s.names));
  const errnoDefault = profile.defaultAction === 'SCMP_ACT_ERRNO';
  let compared = 0;
  let skipped = 0;
  for (const call of callsFor(prng(seed), profile, 'x86_64')) {
    const abi = abiOf(call, profile);
    const name = abi?.byNr.get(call.nr >>> 0);
    const theirNrs = abi && theirs.resolved.get(abi.name);
    // nr -1 on x86_64 without x32 falls to the unknown-number verdict too
    const minus1 = call.nr === -1 && call.arch === ABIS.x86_64.auditArch && listed(profile).includes('SCMP_ARCH_X86_64');
    if ((abi && name === undefined) || minus1) {
      if (errnoDefault) {
        skipped++;
        continue;
      }
    } else if (abi && name !== undefined) {
      const same = theirNrs?.get(name) === call.nr >>> 0;
      // A name only moat's table has, with no number libseccomp uses for something else.
      const onlyOurs = !theirNrs?.has(name) && ![...(theirNrs?.values() ?? [])].includes(call.nr >>> 0);
      const multiplexer = abi.name === 'x86' && (name === 'socketcall' || name === 'ipc');
      const x32Args = abi.name === 'x32' && argRules.has(name);
      if (!(same || onlyOurs) || multiplexer || x32Args) {
        skipped++;
        continue;
      }
    }
    const a: number = emulateSeccomp(filter, call).ret;
    const b = emulateSeccomp(theirs.filter, call).ret;
    if (a !== b) assert.fail(`seed ${seed}: arch 0x${call.arch.toString(16)} nr ${call.nr} (${name}) args ${call.args.map((x) => '0x' + x.toString(16))}: moat 0x${a.toString(16)}, libseccomp 0x${b.toString(16)}`);
    compared++;
  }
  if (process.env.SECCOMP_DIFF_STATS) console.log({ seed, compared, skipped });
  return { compared, skipped };
}

test('default profile: moat and libseccomp decide the same', (t) => {
  const e = exporter;
  if (e.skip !== undefined) return t.skip(e.skip);
  for (const caps of [[], ['CAP_SYS_ADMIN'], ['CAP_SYS_PTRACE', 'CAP_SYS_TIME', 'CAP_BPF', 'CAP_PERFMON']]) {
    const { compared } = compare(e.bin, defaultSeccompProfile(caps), 11);
    assert.ok(compared > 3000, `${compared} calls compared`);
  }
});

test('random profiles: moat and libseccomp decide the same', (t) => {
  const e = exporter;
  if (e.skip !== undefined) return t.skip(e.skip);
  let compared = 0;
  for (let seed = 100; seed < 130; seed++) compared += compare(e.bin, randomProfile(prng(seed), 'x86_64', true), seed).compared;
  assert.ok(compared > 5000, `${compared} calls compared`);
});
