// The meaning of a device rule list: the reference the eBPF program and the v1 writes are tested against.
import type { OciDeviceCgroup } from '../../spec/oci-types.js';

/** Access bits as the kernel's BPF_DEVCG_ACC_*: mknod 1, read 2, write 4. */
export const DEVCG_ACC = { m: 1, r: 2, w: 4 } as const;
/** Device types as the kernel's BPF_DEVCG_DEV_*: block 1, char 2. */
export const DEVCG_DEV = { b: 1, c: 2 } as const;

/** A device rule with defaults filled in: `null` major/minor is a wildcard, access is a bit mask. */
export interface NormalDeviceRule {
  allow: boolean;
  type: 'a' | 'c' | 'b';
  major: number | null;
  minor: number | null;
  access: number;
}

/** One access attempt: device type, numbers and the requested access bits. */
export interface DeviceRequest {
  type: 'c' | 'b';
  major: number;
  minor: number;
  access: number;
}

/** Access string (`rwm` subset) to DEVCG_ACC bits; unknown letters are ignored (validation reports them). */
export function accessBits(access: string | undefined): number {
  let bits = 0;
  for (const ch of access ?? 'rwm') bits |= DEVCG_ACC[ch as keyof typeof DEVCG_ACC] ?? 0;
  return bits;
}

/** Fills OCI defaults: type `a`, access `rwm`, missing or `-1` major/minor = wildcard. */
export function normalizeDeviceRule(r: OciDeviceCgroup): NormalDeviceRule {
  const num = (v: number | null | undefined) => (v === undefined || v === null || v < 0 ? null : v);
  return { allow: r.allow, type: r.type ?? 'a', major: num(r.major), minor: num(r.minor), access: accessBits(r.access) };
}

/** True when a rule's type and numbers cover the device (access not considered). */
export function ruleMatchesDevice(r: NormalDeviceRule, d: DeviceRequest): boolean {
  return (r.type === 'a' || r.type === d.type) && (r.major === null || r.major === d.major) && (r.minor === null || r.minor === d.minor);
}

/**
 * Decides a request the way moat means a rule list: default deny, and for every requested
 * access bit the LAST rule that covers the device and names that bit decides it; the request
 * is allowed only if every bit is. An empty request is denied.
 */
export function deviceRulesAllow(rules: OciDeviceCgroup[], d: DeviceRequest): boolean {
  return normalRulesAllow(rules.map(normalizeDeviceRule), d);
}

/** `deviceRulesAllow` on rules already normalized (callers that ask many requests normalize once). */
export function normalRulesAllow(norm: readonly NormalDeviceRule[], d: DeviceRequest): boolean {
  if (d.access === 0) return false;
  for (const bit of [1, 2, 4]) {
    if (!(d.access & bit)) continue;
    let allowed = false;
    for (const r of norm) if (ruleMatchesDevice(r, d) && r.access & bit) allowed = r.allow;
    if (!allowed) return false;
  }
  return true;
}
