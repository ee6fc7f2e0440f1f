// The device cgroup rule list every container gets: deny all, the default devices, the user's rules, linux.devices.
import type { OciDevice, OciDeviceCgroup } from '../../spec/oci-types.js';
import { IssueList, jsonPath, type ConfigIssue } from '../../spec/issues.js';

const rwm = 'rwm';
const char = (major: number | null, minor: number | null, access = rwm): OciDeviceCgroup => ({ allow: true, type: 'c', major, minor, access });

/**
 * Devices every container may use: /dev/null, zero, full, tty, random, urandom, ptmx and the
 * pts slaves. Unlike runc, no `c *:* m` / `b *:* m`: a container may not even make a node
 * for a device it was not given (the seed's `mknod /dev/sda1`); a config can allow it.
 * /dev/console is deliberately absent: the container's console is a pts (136:*), never the host's 5:1.
 */
export const DEFAULT_DEVICE_RULES: readonly OciDeviceCgroup[] = Object.freeze([
  char(1, 3), // /dev/null
  char(1, 5), // /dev/zero
  char(1, 7), // /dev/full
  char(5, 0), // /dev/tty
  char(1, 8), // /dev/random
  char(1, 9), // /dev/urandom
  char(5, 2), // /dev/ptmx
  char(136, null), // /dev/pts/*
]);

/** The full rule list, in order: deny all, `linux.resources.devices`, the defaults, then allow
 * rules for `linux.devices`. The defaults come after the user's rules, as in runc, so that the
 * deny-all rule every generated config starts with does not take /dev/null away. */
export function effectiveDeviceRules(devices: OciDevice[] | undefined, rules: OciDeviceCgroup[] | undefined): OciDeviceCgroup[] {
  const out: OciDeviceCgroup[] = [{ allow: false, type: 'a', major: null, minor: null, access: rwm }];
  for (const r of rules ?? []) out.push({ ...r });
  out.push(...DEFAULT_DEVICE_RULES);
  for (const d of devices ?? []) {
    // fifos (`p`) are not device nodes: the device controller never sees them
    if (d.type === 'p' || d.major === undefined || d.minor === undefined) continue;
    out.push({ allow: true, type: d.type === 'b' ? 'b' : 'c', major: d.major, minor: d.minor, access: rwm });
  }
  return out;
}

const ACCESS = /^(?!.*(.).*\1)[rwm]{1,3}$/;
const isNum = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= -1 && v <= 0xffffffff;

/** Validates `linux.resources.devices` and the device numbers of `linux.devices`. */
export function checkDeviceRules(devices: OciDevice[] | undefined, rules: OciDeviceCgroup[] | undefined, paths = { devices: 'linux.devices', rules: 'linux.resources.devices' }): ConfigIssue[] {
  const issues = new IssueList();
  (rules ?? []).forEach((r, i) => {
    const p = jsonPath(paths.rules, i);
    if (typeof r.allow !== 'boolean') issues.add('ERR_DEVICE_RULE', jsonPath(p, 'allow'), 'must be `true` or `false`');
    if (r.type !== undefined && !['a', 'c', 'b'].includes(r.type)) issues.add('ERR_DEVICE_RULE', jsonPath(p, 'type'), `must be \`a\`, \`c\` or \`b\`, got \`${String(r.type)}\``);
    for (const k of ['major', 'minor'] as const) {
      const v = r[k];
      if (v !== undefined && v !== null && !isNum(v)) issues.add('ERR_DEVICE_RULE', jsonPath(p, k), `must be a device number or \`-1\`, got \`${String(v)}\``);
    }
    if (r.access !== undefined && !ACCESS.test(r.access)) issues.add('ERR_DEVICE_RULE', jsonPath(p, 'access'), `must be letters of \`rwm\`, got \`${String(r.access)}\``);
  });
  (devices ?? []).forEach((d, i) => {
    if (d.type === 'p') return;
    for (const k of ['major', 'minor'] as const) {
      const v = d[k];
      if (!(typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) {
        issues.add('ERR_DEVICE_RULE', jsonPath(jsonPath(paths.devices, i), k), `a \`${d.type}\` device needs a device number, got \`${String(v)}\``);
      }
    }
  });
  return issues.items;
}
