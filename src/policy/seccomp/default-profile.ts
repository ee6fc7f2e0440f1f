// moat's default seccomp profile: an allow-list, EPERM for everything else.
import type { OciSeccomp, OciSeccompSyscall } from '../../spec/oci-types.js';
import { ENOSYS, EPERM } from './constants.js';
import { DEFAULT_ALLOWED, DEFAULT_BY_CAPABILITY } from './default-syscalls.js';

/**
 * personality(2) values allowed: PER_LINUX (0), UNAME26 (0x0020000), PER_LINUX32 (0x0008),
 * UNAME26|PER_LINUX32, and 0xffffffff (query only). Other personalities switch ABI quirks
 * (e.g. READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE) that weaken the process.
 */
export const DEFAULT_PERSONALITIES: readonly number[] = [0x0, 0x0008, 0x20000, 0x20008, 0xffffffff];

/**
 * clone(2) flags that create namespaces: CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS |
 * CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET. New namespaces, the user
 * namespace above all, open kernel surface meant for root (many LPEs start there).
 */
export const CLONE_NAMESPACE_FLAGS = 0x7e020000;
/** unshare(2) also takes CLONE_NEWTIME (0x80), which clone(2) cannot (it is CSIGNAL there). */
export const UNSHARE_NAMESPACE_FLAGS = CLONE_NAMESPACE_FLAGS | 0x80;

const ALLOW = 'SCMP_ACT_ALLOW';

function namespaceRules(caps: ReadonlySet<string>): OciSeccompSyscall[] {
  if (caps.has('CAP_SYS_ADMIN')) return [{ names: ['clone', 'clone3', 'unshare'], action: ALLOW }];
  return [
    // clone only without namespace flags (flags are argument 0 on x86 and arm).
    { names: ['clone'], action: ALLOW, args: [{ index: 0, op: 'SCMP_CMP_MASKED_EQ', value: CLONE_NAMESPACE_FLAGS, valueTwo: 0 }] },
    // clone3 passes its flags in memory, where seccomp cannot look: ENOSYS makes glibc and
    // musl fall back to clone, whose flags the rule above checks.
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
    // unshare without namespace flags (CLONE_FILES, CLONE_FS, CLONE_SYSVSEM) is harmless.
    { names: ['unshare'], action: ALLOW, args: [{ index: 0, op: 'SCMP_CMP_MASKED_EQ', value: UNSHARE_NAMESPACE_FLAGS, valueTwo: 0 }] },
  ];
}

/**
 * The default profile for a container holding `capabilities` (e.g. the bounding set):
 * default action ERRNO(EPERM), an allow-list of the syscalls ordinary programs use, the
 * syscalls of the capabilities held, and argument filters on personality, clone and
 * unshare. Every syscall left out has its reason in default-syscalls.ts.
 *
 * @example
 * const { result } = compileSeccomp(defaultSeccompProfile(['CAP_CHOWN', 'CAP_NET_BIND_SERVICE']), { hostArch: 'x86_64' });
 */
export function defaultSeccompProfile(capabilities: string[]): OciSeccomp {
  const caps = new Set(capabilities);
  const unlocked = DEFAULT_BY_CAPABILITY.filter((e) => e.caps.some((c) => caps.has(c))).flatMap((e) => e.names);
  const syscalls: OciSeccompSyscall[] = [
    { names: [...DEFAULT_ALLOWED], action: ALLOW },
    ...DEFAULT_PERSONALITIES.map((value): OciSeccompSyscall => ({ names: ['personality'], action: ALLOW, args: [{ index: 0, op: 'SCMP_CMP_EQ', value }] })),
    ...namespaceRules(caps),
  ];
  if (unlocked.length > 0) syscalls.push({ names: [...new Set(unlocked)].sort(), action: ALLOW });
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EPERM,
    // Only the ABIs of the host's family are compiled: x86_64, x86, x32 on x86_64 hosts,
    // aarch64 and arm on arm64 hosts.
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
    syscalls,
  };
}
