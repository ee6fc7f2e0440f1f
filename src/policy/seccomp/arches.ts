// The ABIs a filter can dispatch on: their OCI names, audit arch tokens and syscall tables.
import {
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_ARM,
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  X32_SYSCALL_BIT,
} from './constants.js';
import {
  SYSCALLS_AARCH64,
  SYSCALLS_ARM,
  SYSCALLS_X32,
  SYSCALLS_X86,
  SYSCALLS_X86_64,
  type SyscallTable,
} from './syscall-tables.js';

/** Host architectures moat runs on. */
export type HostArch = 'x86_64' | 'aarch64';

/** ABI names; they are also libseccomp's arch names (seccomp_arch_resolve_name). */
export type AbiName = 'x86_64' | 'x86' | 'x32' | 'aarch64' | 'arm';

/** One syscall ABI as seen by a seccomp filter. */
export interface Abi {
  name: AbiName;
  ociName: string;
  auditArch: number;
  hostArch: HostArch;
  /** 2: arguments are 64-bit (two BPF words); 1: only the low word is meaningful. */
  argWords: 1 | 2;
  /** The syscall numbers this ABI owns: x32 is AUDIT_ARCH_X86_64 with X32_SYSCALL_BIT set. */
  nrSpace: readonly [lo: number, hi: number];
  table: SyscallTable;
  byNr: ReadonlyMap<number, string>;
  /** Highest number in the generated table: numbers above are newer than moat's tables. */
  maxNr: number;
}

// byNr and maxNr are built on first use: a filter found in the compile cache (or one for
// fewer arches) never needs the reverse tables, and building all five is start-up time
function abi(name: AbiName, ociName: string, auditArch: number, hostArch: HostArch, argWords: 1 | 2, nrSpace: [number, number], table: SyscallTable): Abi {
  let byNr: Map<number, string> | undefined;
  const reverse = () => {
    if (!byNr) {
      byNr = new Map<number, string>();
      for (const [sys, nr] of Object.entries(table)) byNr.set(nr, sys);
    }
    return byNr;
  };
  let maxNr: number | undefined;
  return {
    name, ociName, auditArch, hostArch, argWords, nrSpace, table,
    get byNr() { return reverse(); },
    get maxNr() { return (maxNr ??= Math.max(...reverse().keys())); },
  };
}

const ALL_NRS: [number, number] = [0, 0xffffffff];

// x32 passes 64-bit registers, and the kernel hands most x32 calls to the native 64-bit
// handlers, so moat compares all 64 bits like on x86_64 (libseccomp compares only the low
// word on x32; see README.md "x32 arguments").
export const ABIS: Readonly<Record<AbiName, Abi>> = {
  x86_64: abi('x86_64', 'SCMP_ARCH_X86_64', AUDIT_ARCH_X86_64, 'x86_64', 2, [0, X32_SYSCALL_BIT - 1], SYSCALLS_X86_64),
  x86: abi('x86', 'SCMP_ARCH_X86', AUDIT_ARCH_I386, 'x86_64', 1, ALL_NRS, SYSCALLS_X86),
  x32: abi('x32', 'SCMP_ARCH_X32', AUDIT_ARCH_X86_64, 'x86_64', 2, [X32_SYSCALL_BIT, 0xffffffff], SYSCALLS_X32),
  aarch64: abi('aarch64', 'SCMP_ARCH_AARCH64', AUDIT_ARCH_AARCH64, 'aarch64', 2, ALL_NRS, SYSCALLS_AARCH64),
  arm: abi('arm', 'SCMP_ARCH_ARM', AUDIT_ARCH_ARM, 'aarch64', 1, ALL_NRS, SYSCALLS_ARM),
};

/** The ABI an OCI architecture name (SCMP_ARCH_*) stands for, if moat knows it. */
export function abiByOciName(ociName: string): Abi | undefined {
  return Object.values(ABIS).find((a) => a.ociName === ociName);
}

/** The host's native ABI: what a profile without `architectures` covers. */
export function nativeAbi(host: HostArch): Abi {
  return host === 'x86_64' ? ABIS.x86_64 : ABIS.aarch64;
}

/** Syscall number of `name` on `abi`, if the generated table knows it. */
export function syscallNumber(abi: Abi, name: string): number | undefined {
  return Object.hasOwn(abi.table, name) ? abi.table[name] : undefined;
}
