// The line format of test/seccomp/export-libseccomp.c: a profile as libseccomp calls, so
// the differential test can build the same profile with libseccomp.
import type { OciSeccomp } from '../../spec/oci-types.js';
import type { HostArch } from './arches.js';
import { SECCOMP_BADARCH_RET } from './codegen.js';
import { SECCOMP_OPS } from './conditions.js';
import { normalizeSeccomp } from './normalize.js';

const hex = (v: number | bigint) => '0x' + v.toString(16);

/**
 * `default`, `badarch`, `arch` and `rule` lines for `profile` on `host` (see the C file for
 * the format), plus `resolve` lines asking libseccomp for its number of every named syscall
 * on every ABI, so the test can tell where libseccomp's tables and moat's differ.
 * Undefined if the profile does not compile.
 */
export function toLibseccompLines(profile: OciSeccomp, host: HostArch): string | undefined {
  const { normalized: n } = normalizeSeccomp(profile, host, '');
  if (!n) return undefined;
  const lines = [`default ${hex(n.defaultAction)}`, `badarch ${hex(SECCOMP_BADARCH_RET)}`];
  for (const abi of n.abis) lines.push(`arch ${abi.name}`);
  const names = new Set<string>();
  for (const r of n.rules) {
    for (const name of r.names) {
      names.add(name);
      const args = r.conditions.map((c) => `${c.index} ${SECCOMP_OPS[c.op]} ${hex(c.value)} ${hex(c.valueTwo)}`);
      lines.push(`rule ${hex(r.action)} ${name} ${args.length}${args.length ? ' ' + args.join(' ') : ''}`);
    }
  }
  for (const abi of n.abis) for (const name of names) lines.push(`resolve ${abi.name} ${name}`);
  return lines.join('\n') + '\n';
}
