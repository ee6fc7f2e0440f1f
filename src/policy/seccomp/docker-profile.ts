// Docker-format seccomp profile files (archMap, per-rule includes/excludes) to OciSeccomp,
// resolved for one container the way Docker (moby/profiles/seccomp) resolves them.
import { IssueList, jsonPath, type ConfigIssue } from '../../spec/issues.js';
import type { OciSeccomp, OciSeccompArg, OciSeccompSyscall } from '../../spec/oci-types.js';
import { parseSeccompAction } from './actions.js';
import type { HostArch } from './arches.js';
import { normalizeSeccompArgs } from './conditions.js';
import { SECCOMP_INVALID } from './issue-codes.js';

/** What a Docker profile's includes/excludes are resolved against. */
export interface DockerProfileOptions {
  /** Capabilities the container holds (includes.caps needs all, excludes.caps any). */
  capabilities?: string[];
  /** Needed when the profile has archMap or per-rule arches. */
  hostArch?: HostArch;
  /**
   * Host kernel release (`uname -r`) for minKernel. Unknown: includes.minKernel rules are
   * left out and excludes.minKernel rules kept, i.e. the kernel is taken as old.
   */
  kernelVersion?: string;
}

// Docker compares includes.arches with Go's name of the host (amd64, arm64).
const HOST_ALIASES: Readonly<Record<HostArch, string[]>> = {
  x86_64: ['amd64', 'x86_64', 'SCMP_ARCH_X86_64'],
  aarch64: ['arm64', 'aarch64', 'SCMP_ARCH_AARCH64'],
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function strings(v: unknown, path: string, issues: IssueList): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
  issues.add(SECCOMP_INVALID, path, 'must be an array of strings');
  return undefined;
}

function kernelAtLeast(kernel: string | undefined, min: string): boolean {
  if (kernel === undefined) return false;
  const parse = (s: string) => (/^(\d+)\.(\d+)/.exec(s) ?? []).slice(1).map(Number);
  const [a, b] = parse(kernel);
  const [c, d] = parse(min);
  if (a === undefined || c === undefined) return false;
  return a > c || (a === c && b >= d);
}

function architectures(doc: Obj, base: string, opts: DockerProfileOptions, issues: IssueList): string[] | undefined {
  const listed = strings(doc.architectures, jsonPath(base, 'architectures'), issues);
  if (doc.archMap === undefined || doc.archMap === null) return listed;
  if (listed?.length) issues.add(SECCOMP_INVALID, jsonPath(base, 'archMap'), 'use either architectures or archMap, not both');
  if (!Array.isArray(doc.archMap)) return void issues.add(SECCOMP_INVALID, jsonPath(base, 'archMap'), 'archMap must be an array');
  if (!opts.hostArch) return void issues.add(SECCOMP_INVALID, jsonPath(base, 'archMap'), 'archMap needs the host architecture');
  const out: string[] = [];
  doc.archMap.forEach((m: unknown, i: number) => {
    const p = jsonPath(jsonPath(base, 'archMap'), i);
    if (!isObj(m) || typeof m.architecture !== 'string') return issues.add(SECCOMP_INVALID, p, 'an archMap entry needs `architecture`');
    const subs = strings(m.subArchitectures, jsonPath(p, 'subArchitectures'), issues) ?? [];
    if (HOST_ALIASES[opts.hostArch as HostArch].includes(m.architecture)) out.push(m.architecture, ...subs);
  });
  return out;
}

// Docker's order: excludes (arches, caps, minKernel) first, then includes.
function applies(sc: Obj, p: string, opts: DockerProfileOptions, issues: IssueList): boolean {
  const caps = new Set(opts.capabilities ?? []);
  const host = opts.hostArch ? HOST_ALIASES[opts.hostArch] : undefined;
  const check = (key: 'includes' | 'excludes') => {
    const v = sc[key];
    if (v === undefined || v === null) return undefined;
    if (!isObj(v)) return void issues.add(SECCOMP_INVALID, jsonPath(p, key), `${key} must be an object`);
    const arches = strings(v.arches, jsonPath(jsonPath(p, key), 'arches'), issues);
    if (arches?.length && !host) issues.add(SECCOMP_INVALID, jsonPath(jsonPath(p, key), 'arches'), 'per-rule arches need the host architecture');
    const c = strings(v.caps, jsonPath(jsonPath(p, key), 'caps'), issues);
    const min = typeof v.minKernel === 'string' ? v.minKernel : undefined;
    return { arches, caps: c, min };
  };
  const ex = check('excludes');
  const inc = check('includes');
  if (ex?.arches?.some((a) => host?.includes(a))) return false;
  if (ex?.caps?.some((c) => caps.has(c))) return false;
  if (ex?.min && kernelAtLeast(opts.kernelVersion, ex.min)) return false;
  if (inc?.arches?.length && !inc.arches.some((a) => host?.includes(a))) return false;
  if (inc?.caps?.length && !inc.caps.every((c) => caps.has(c))) return false;
  if (inc?.min && !kernelAtLeast(opts.kernelVersion, inc.min)) return false;
  return true;
}

function rule(sc: Obj, p: string, issues: IssueList): OciSeccompSyscall | undefined {
  let names = strings(sc.names, jsonPath(p, 'names'), issues);
  if (typeof sc.name === 'string') {
    if (names?.length) issues.add(SECCOMP_INVALID, jsonPath(p, 'name'), 'use either name or names, not both');
    names = [sc.name];
  }
  if (!names?.length) return void issues.add(SECCOMP_INVALID, jsonPath(p, 'names'), 'a rule needs names');
  // Checked here so that issues point into the Docker file, not into the converted profile.
  const before = issues.items.length;
  parseSeccompAction(sc.action, sc.errnoRet, { action: jsonPath(p, 'action'), errnoRet: jsonPath(p, 'errnoRet') }, issues);
  normalizeSeccompArgs(sc.args, jsonPath(p, 'args'), issues);
  if (issues.items.length > before) return undefined;
  const out: OciSeccompSyscall = { names, action: sc.action as string };
  if (sc.errnoRet !== undefined) out.errnoRet = sc.errnoRet as number;
  if (Array.isArray(sc.args) && sc.args.length) out.args = sc.args as OciSeccompArg[];
  return out;
}

/**
 * Reads a Docker-format profile (e.g. moby's default.json) into the OciSeccomp it stands
 * for on this host and container. Paths in issues are relative to `path` (default: root).
 *
 * @example
 * const { profile, issues } = parseDockerSeccompProfile(JSON.parse(text), '', { hostArch: 'x86_64', capabilities: caps });
 */
export function parseDockerSeccompProfile(doc: unknown, path = '', opts: DockerProfileOptions = {}): { profile?: OciSeccomp; issues: ConfigIssue[] } {
  const issues = new IssueList();
  if (!isObj(doc)) {
    issues.add(SECCOMP_INVALID, path, 'a seccomp profile must be a JSON object');
    return { issues: issues.items };
  }
  parseSeccompAction(doc.defaultAction, doc.defaultErrnoRet, { action: jsonPath(path, 'defaultAction'), errnoRet: jsonPath(path, 'defaultErrnoRet') }, issues);
  const profile: OciSeccomp = { defaultAction: doc.defaultAction as string, syscalls: [] };
  if (doc.defaultErrnoRet !== undefined) profile.defaultErrnoRet = doc.defaultErrnoRet as number;
  const arches = architectures(doc, path, opts, issues);
  if (arches?.length) profile.architectures = arches;
  const flags = strings(doc.flags, jsonPath(path, 'flags'), issues);
  if (flags) profile.flags = flags;
  for (const k of ['listenerPath', 'listenerMetadata'] as const) {
    if (typeof doc[k] === 'string') profile[k] = doc[k] as string;
    else if (doc[k] !== undefined) issues.add(SECCOMP_INVALID, jsonPath(path, k), `${k} must be a string`);
  }
  const syscalls = doc.syscalls ?? [];
  if (!Array.isArray(syscalls)) issues.add(SECCOMP_INVALID, jsonPath(path, 'syscalls'), 'syscalls must be an array');
  else
    syscalls.forEach((sc: unknown, i: number) => {
      const p = jsonPath(jsonPath(path, 'syscalls'), i);
      if (!isObj(sc)) return issues.add(SECCOMP_INVALID, p, 'a syscall rule must be an object');
      const r = rule(sc, p, issues);
      if (r && applies(sc, p, opts, issues)) profile.syscalls?.push(r);
    });
  return issues.ok ? { profile, issues: issues.items } : { issues: issues.items };
}
