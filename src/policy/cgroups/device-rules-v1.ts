// Device rules as cgroup v1 `devices.allow`/`devices.deny` writes, and where v1 cannot say what the rules mean.
import type { OciDeviceCgroup } from '../../spec/oci-types.js';
import { normalizeDeviceRule, normalRulesAllow, type DeviceRequest, type NormalDeviceRule } from '../devices/device-rule-match.js';

/** One write into the v1 devices controller. */
export interface V1DeviceWrite {
  file: 'devices.allow' | 'devices.deny';
  value: string;
}

const ACCESS_LETTERS: [number, string][] = [[2, 'r'], [4, 'w'], [1, 'm']];
const letters = (bits: number) => ACCESS_LETTERS.filter(([b]) => bits & b).map(([, l]) => l).join('');
const num = (v: number | null) => (v === null ? '*' : String(v));

/**
 * Converts rules to v1 writes in order. v1 reads a bare `a` as every device with every access,
 * so a type `a` rule is written as `a` only when it is fully wildcard with `rwm`; otherwise it
 * is split into a `c` and a `b` line.
 */
export function deviceRulesToV1(rules: OciDeviceCgroup[]): V1DeviceWrite[] {
  const out: V1DeviceWrite[] = [];
  for (const r of rules.map(normalizeDeviceRule)) {
    if (r.access === 0) continue;
    const file = r.allow ? 'devices.allow' : 'devices.deny';
    if (r.type === 'a' && r.major === null && r.minor === null && r.access === 7) out.push({ file, value: 'a' });
    else for (const t of r.type === 'a' ? ['c', 'b'] : [r.type]) out.push({ file, value: `${t} ${num(r.major)}:${num(r.minor)} ${letters(r.access)}` });
  }
  return out;
}

interface V1Exception { type: 'c' | 'b'; major: number | null; minor: number | null; access: number }

/** A model of the kernel's v1 device controller (security/device_cgroup.c), for checking our writes. */
export class V1DeviceModel {
  behavior: 'allow' | 'deny' = 'allow';
  exceptions: V1Exception[] = [];
  write(w: V1DeviceWrite): void {
    const allowFile = w.file === 'devices.allow';
    if (w.value === 'a') {
      this.behavior = allowFile ? 'allow' : 'deny';
      this.exceptions = [];
      return;
    }
    const m = /^([cb]) (\*|\d+):(\*|\d+) ([rwm]+)$/.exec(w.value);
    if (!m) throw new Error(`v1 device model: bad rule \`${w.value}\``);
    const ex: V1Exception = { type: m[1] as 'c' | 'b', major: m[2] === '*' ? null : Number(m[2]), minor: m[3] === '*' ? null : Number(m[3]), access: normalizeDeviceRule({ allow: true, access: m[4]! }).access };
    // an allow in allow-default mode (or a deny in deny-default mode) removes exactly matching exceptions
    const removes = allowFile === (this.behavior === 'allow');
    const same = this.exceptions.find((e) => e.type === ex.type && e.major === ex.major && e.minor === ex.minor);
    if (removes) {
      if (same) same.access &= ~ex.access;
      this.exceptions = this.exceptions.filter((e) => e.access !== 0);
    } else if (same) same.access |= ex.access;
    else this.exceptions.push(ex);
  }
  allows(d: DeviceRequest): boolean {
    const covers = (e: V1Exception) => e.type === d.type && (e.major === null || e.major === d.major) && (e.minor === null || e.minor === d.minor);
    if (this.behavior === 'deny') return this.exceptions.some((e) => covers(e) && (d.access & ~e.access) === 0);
    return !this.exceptions.some((e) => covers(e) && (d.access & e.access) !== 0);
  }
}

/** Where the v1 controller, fed `deviceRulesToV1(rules)`, decides differently from the rules' meaning. */
export interface V1DeviceGaps {
  /** v1 allows, the rules deny: a v1-only host would be less strict than asked */
  looser: DeviceRequest[];
  /** v1 denies, the rules allow */
  stricter: DeviceRequest[];
}

// the kernel asks for mknod alone (mknod) or for read and/or write (open), never mknod with either
const REAL_ACCESS = [1, 2, 4, 6];

/** Compares v1 against `deviceRulesAllow` on every distinct device the rules mention, for each access the kernel asks. */
export function findV1DeviceGaps(rules: OciDeviceCgroup[]): V1DeviceGaps {
  const model = new V1DeviceModel();
  for (const w of deviceRulesToV1(rules)) model.write(w);
  const norm = rules.map(normalizeDeviceRule);
  const values = (pick: (r: NormalDeviceRule) => number | null) => {
    const set = new Set<number>();
    for (const r of norm) if (pick(r) !== null) set.add(pick(r)!);
    let other = 0;
    while (set.has(other)) other++;
    return [...set, other];
  };
  const gaps: V1DeviceGaps = { looser: [], stricter: [] };
  for (const type of ['c', 'b'] as const) for (const major of values((r) => r.major)) for (const minor of values((r) => r.minor)) {
    for (const access of REAL_ACCESS) {
      const d: DeviceRequest = { type, major, minor, access };
      const want = normalRulesAllow(norm, d), got = model.allows(d);
      if (got && !want) gaps.looser.push(d);
      if (!got && want) gaps.stricter.push(d);
    }
  }
  return gaps;
}
