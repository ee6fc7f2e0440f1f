// The profile's intent, computed straight from the OciSeccomp (no BPF): the oracle the
// compiled filters are checked against. Deliberately written apart from the compiler;
// it shares only the generated syscall tables and the documented policy choices:
// - an ABI the profile does not list: SECCOMP_RET_KILL_PROCESS;
// - x86_64 and x32 share AUDIT_ARCH_X86_64 and split on bit 0x40000000 of the number
//   (nr -1 belongs to x86_64 when x32 is not listed);
// - a number the ABI's table does not know: ERRNO(ENOSYS) when the default action is an
//   errno, else the default action;
// - the first rule naming the syscall whose conditions all hold decides;
// - x86 and arm compare the low 32 bits of arguments and values only.
import type { OciSeccomp } from '../../src/spec/oci-types.js';
import { ABIS, type Abi, type HostArch } from '../../src/policy/seccomp/arches.js';

const RET: Record<string, number> = {
  SCMP_ACT_KILL: 0,
  SCMP_ACT_KILL_THREAD: 0,
  SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_TRAP: 0x00030000,
  SCMP_ACT_ERRNO: 0x00050000,
  SCMP_ACT_NOTIFY: 0x7fc00000,
  SCMP_ACT_TRACE: 0x7ff00000,
  SCMP_ACT_LOG: 0x7ffc0000,
  SCMP_ACT_ALLOW: 0x7fff0000,
};

/** The SECCOMP_RET_* value of an OCI action (errnoRet defaults to EPERM). */
export function actionRet(action: string, errnoRet: number | undefined): number {
  const base = RET[action];
  if (base === undefined) throw new Error(`reference: unknown action ${action}`);
  if (action === 'SCMP_ACT_ERRNO' || action === 'SCMP_ACT_TRACE') return (base | (errnoRet ?? 1)) >>> 0;
  return base;
}

function pickAbi(profile: OciSeccomp, host: HostArch, arch: number, nr: number): Abi | 'kill' | 'minus1' {
  const listed = profile.architectures?.length ? profile.architectures : [host === 'x86_64' ? 'SCMP_ARCH_X86_64' : 'SCMP_ARCH_AARCH64'];
  const has = (abi: Abi) => abi.hostArch === host && listed.includes(abi.ociName);
  const u = nr >>> 0;
  if (arch === 0xc000003e) {
    if (u >= 0x40000000) return has(ABIS.x32) ? ABIS.x32 : u === 0xffffffff && has(ABIS.x86_64) ? 'minus1' : 'kill';
    return has(ABIS.x86_64) ? ABIS.x86_64 : 'kill';
  }
  for (const abi of [ABIS.x86, ABIS.aarch64, ABIS.arm]) if (arch === abi.auditArch && has(abi)) return abi;
  return 'kill';
}

/** What `profile` means for one call on a `host` machine, as a SECCOMP_RET_* value. */
export function referenceVerdict(profile: OciSeccomp, host: HostArch, call: { arch: number; nr: number; args?: bigint[] }): number {
  const def = actionRet(profile.defaultAction, profile.defaultErrnoRet);
  const unknown = profile.defaultAction === 'SCMP_ACT_ERRNO' ? 0x00050000 + 38 : def;
  const abi = pickAbi(profile, host, call.arch, call.nr);
  if (abi === 'kill') return 0x80000000;
  if (abi === 'minus1') return unknown;
  const name = abi.byNr.get(call.nr >>> 0);
  if (name === undefined) return unknown;
  const mask = abi.argWords === 1 ? 0xffffffffn : 0xffffffffffffffffn;
  for (const rule of profile.syscalls ?? []) {
    if (!rule.names.includes(name)) continue;
    const all = (rule.args ?? []).every((c) => {
      const a = BigInt.asUintN(64, call.args?.[c.index] ?? 0n) & mask;
      const v = BigInt(c.value) & mask;
      switch (c.op) {
        case 'SCMP_CMP_NE': return a !== v;
        case 'SCMP_CMP_LT': return a < v;
        case 'SCMP_CMP_LE': return a <= v;
        case 'SCMP_CMP_EQ': return a === v;
        case 'SCMP_CMP_GE': return a >= v;
        case 'SCMP_CMP_GT': return a > v;
        case 'SCMP_CMP_MASKED_EQ': return (a & v) === (BigInt(c.valueTwo ?? 0) & mask);
      }
    });
    if (all) return actionRet(rule.action, rule.errnoRet);
  }
  return def;
}
