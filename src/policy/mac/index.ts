// Mandatory access control besides Landlock (issue 6): one module per backend (selinux.ts,
// apparmor.ts, smack.ts; none.ts for hosts with none of them) behind compileMac, which
// turns a container's spec and the host's facts (values, probed by src/runtime/mac) into the
// exact proc attr writes, the mount data, the Smack rules and the capabilities to refuse.
// A label asked for on a host without its LSM is an issue naming the field, never dropped.
import type { OciSpec } from '../../spec/oci-types.js';
import { compileApparmor } from './apparmor.js';
import { macBackendTitle, macUnavailable } from './none.js';
import { compileSelinux } from './selinux.js';
import { compileSmack } from './smack.js';
import type { MacAttrWrite, MacBackendName, MacBackendResult, MacHost, MacIssue } from './types.js';

export * from './types.js';
export * from './selinux.js';
export * from './apparmor.js';
export * from './smack.js';
export * from './none.js';
export * from './sandbox.js';

/** The OCI spec has no Smack field: a container's Smack label comes in this annotation. */
export const SMACK_LABEL_ANNOTATION = 'run.moat.smack.label';

/** What compileMac makes of a container. */
export interface CompiledMac {
  layers: MacBackendResult[];
  /** the proc attr writes, in the order the plan makes them */
  attrs: MacAttrWrite[];
  /** extra mount data by filesystem type */
  mountData: Record<string, string[]>;
  /** Smack rules to load before the container starts (and revoke when it is deleted) */
  smackRules: string[];
  issues: MacIssue[];
}

function unavailableIssue(b: MacBackendName, path: string, host: MacHost, value: string): MacIssue | undefined {
  const why = macUnavailable(b, host);
  return why ? { code: 'mac_unavailable', path, message: `\`${value}\` needs ${macBackendTitle(b)}, but ${why}; remove the field to run without it` } : undefined;
}

/** Compiles the MAC labels a spec asks for (process.selinuxLabel, linux.mountLabel,
 * process.apparmorProfile, annotation run.moat.smack.label) against what the host has.
 * @example compileMac(spec, { lsms: ['landlock'] }).issues // [{ path: 'process.selinuxLabel', ... }] when one is set */
export function compileMac(spec: OciSpec, host: MacHost): CompiledMac {
  const issues: MacIssue[] = [];
  const layers: MacBackendResult[] = [];
  const p = spec.process;
  const want = (b: MacBackendName, path: string, value: string | undefined): boolean => {
    if (value === undefined || value === '') return false;
    const i = unavailableIssue(b, path, host, value);
    if (i) issues.push(i);
    return !i;
  };
  const se = want('selinux', 'process.selinuxLabel', p?.selinuxLabel);
  const seMount = want('selinux', 'linux.mountLabel', spec.linux?.mountLabel);
  if (se || seMount) {
    const r = compileSelinux(se ? p!.selinuxLabel : undefined, seMount ? spec.linux!.mountLabel : undefined, issues);
    if (r) layers.push(r);
  }
  if (want('apparmor', 'process.apparmorProfile', p?.apparmorProfile)) {
    const r = compileApparmor(p!.apparmorProfile!, issues);
    if (r) layers.push(r);
  }
  const smackPath = `annotations.${SMACK_LABEL_ANNOTATION}`;
  const smack = spec.annotations?.[SMACK_LABEL_ANNOTATION];
  if (want('smack', smackPath, smack)) {
    const ownUserNs = (spec.linux?.namespaces ?? []).some((n) => n.type === 'user');
    const r = compileSmack(smack!, { origin: smackPath, ownUserNs }, issues);
    if (r) {
      layers.push(r);
      // a capability that lets the container rewrite or bypass the rules is refused by name
      const caps = p?.capabilities ?? {};
      for (const set of ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const)
        (caps[set] ?? []).forEach((c, i) => {
          if (r.forbiddenCaps!.includes(c)) issues.push({ code: 'mac_capability', path: `process.capabilities.${set}[${i}]`, message: `\`${c}\` would let the container change or bypass its Smack rules (${smackPath}); remove it` });
        });
    }
  }
  const mountData: Record<string, string[]> = {};
  for (const l of layers) for (const [t, d] of Object.entries(l.mountData)) (mountData[t] ??= []).push(...(d ?? []));
  // Smack's label is taken first (before any user namespace), the exec labels last
  const attrs = layers.flatMap((l) => (l.attr ? [l.attr] : [])).sort((a, b) => Number(a.when === 'exec') - Number(b.when === 'exec'));
  return { layers, attrs, mountData, smackRules: layers.flatMap((l) => l.smackRules ?? []), issues };
}
