// compileSeccomp: an OCI seccomp profile to the classic-BPF program the kernel loads.
import type { ConfigIssue } from '../../spec/issues.js';
import type { OciSeccomp } from '../../spec/oci-types.js';
import type { HostArch } from './arches.js';
import { assembleBpf } from './bpf-asm.js';
import { emitSeccompProgram } from './codegen.js';
import { BPF_MAXINSNS } from './constants.js';
import { SECCOMP_FILTER_TOO_LARGE } from './issue-codes.js';
import { normalizeSeccomp } from './normalize.js';

/** A filter ready for seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog). */
export interface CompiledSeccomp {
  /** struct sock_filter[]: 8 bytes each (u16 code, u8 jt, u8 jf, u32 k), little-endian. */
  filter: Uint8Array;
  /** SECCOMP_FILTER_FLAG_* bits; NEW_LISTENER (8) when a rule uses SCMP_ACT_NOTIFY. */
  flags: number;
  listenerPath?: string;
  listenerMetadata?: string;
}

/** Options of compileSeccomp. */
export interface CompileSeccompOptions {
  hostArch: HostArch;
  /** JSON path of the profile in the user's document, for issues. */
  path?: string;
}

/**
 * Compiles an OCI seccomp profile for a host. `result` is set when no issue is an error
 * (warnings: see splitSeccompIssues).
 *
 * @example
 * const { result, issues } = compileSeccomp(defaultSeccompProfile(['CAP_CHOWN']), { hostArch: 'x86_64' });
 * if (!result) throw new ConfigError(issues);
 */
export function compileSeccomp(profile: OciSeccomp, opts: CompileSeccompOptions): { result?: CompiledSeccomp; issues: ConfigIssue[] } {
  const base = opts.path ?? 'linux.seccomp';
  const { normalized, issues } = normalizeSeccomp(profile, opts.hostArch, base);
  if (!normalized) return { issues: issues.items };
  const filter = assembleBpf(emitSeccompProgram(normalized).ins);
  const count = filter.length / 8;
  if (count > BPF_MAXINSNS) {
    issues.add(SECCOMP_FILTER_TOO_LARGE, base, `the filter needs ${count} instructions, the kernel allows ${BPF_MAXINSNS}: use fewer argument rules`);
    return { issues: issues.items };
  }
  const result: CompiledSeccomp = { filter, flags: normalized.flags };
  if (profile.listenerPath !== undefined) result.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata !== undefined) result.listenerMetadata = profile.listenerMetadata;
  return { result, issues: issues.items };
}
