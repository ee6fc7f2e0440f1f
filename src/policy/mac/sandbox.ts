// Which MAC layers a moat sandbox gets (`mac: required | best-effort | off`): Landlock plus
// whichever of SELinux, AppArmor and Smack the host has, each sandbox with labels of its
// own (an MCS category pair, a generated AppArmor profile, a Smack label). `required`
// refuses, with the reason, when a MAC module the host runs cannot be applied or when no
// layer applies at all; `best-effort` starts and names each layer it skipped.
import { apparmorProfileText } from './apparmor.js';
import { macBackendTitle, macUnavailable } from './none.js';
import { containerFileLabel, containerProcessLabel, mcsLevel } from './selinux.js';
import { smackRules } from './smack.js';
import type { MacBackendName, MacHost } from './types.js';

/** The sandbox setting. */
export type MacMode = 'required' | 'best-effort' | 'off';
export const MAC_MODES: readonly MacMode[] = ['required', 'best-effort', 'off'];

/** The host as a sandbox sees it: MAC modules and the Landlock ABI. */
export interface SandboxMacHost extends MacHost {
  landlockAbi: number;
  landlockReason?: string;
}

/** A sandbox's own MAC identity: `label` names its AppArmor profile and Smack label; `mcs`
 * is its category pair (allocated at create when the host has SELinux). */
export interface SandboxMacIds {
  label: string;
  mcs?: [number, number];
}

/** One layer and what it does for this sandbox. */
export interface MacLayerPlan {
  layer: 'Landlock' | 'SELinux' | 'AppArmor' | 'Smack';
  used: boolean;
  detail: string;
}

/** What the manager applies to the sandbox's spec, and what it says about it. */
export interface SandboxMacPlan {
  landlock: 'on' | 'best-effort' | 'off';
  selinux?: { label: string; mountLabel: string; level: string };
  apparmor?: { profile: string; text: string };
  smack?: { label: string; rules: string[] };
  layers: MacLayerPlan[];
  /** one message per layer left out (printed by best-effort) */
  skipped: string[];
  /** set when `required` cannot be met: the reason */
  refusal?: string;
}

const TITLE: Record<MacBackendName, MacLayerPlan['layer']> = { selinux: 'SELinux', apparmor: 'AppArmor', smack: 'Smack' };

/** Decides a sandbox's MAC layers. Pure: the host and the ids arrive as values. */
export function planSandboxMac(mode: MacMode, host: SandboxMacHost, ids: SandboxMacIds): SandboxMacPlan {
  const plan: SandboxMacPlan = { landlock: 'off', layers: [], skipped: [] };
  if (mode === 'off') {
    plan.layers.push({ layer: 'Landlock', used: false, detail: 'off (mac: off)' });
    for (const b of ['selinux', 'apparmor', 'smack'] as const) if (host.lsms.includes(b)) plan.layers.push({ layer: TITLE[b], used: false, detail: `off (mac: off); the host runs ${macBackendTitle(b)}` });
    return plan;
  }
  const skip = (layer: MacLayerPlan['layer'], why: string) => {
    plan.layers.push({ layer, used: false, detail: `skipped: ${why}` });
    plan.skipped.push(`${layer} skipped: ${why}`);
  };
  // an active module that moat cannot drive is a layer missing, which `required` refuses
  const missing: string[] = [];
  for (const b of ['selinux', 'apparmor', 'smack'] as const) {
    const listed = host.lsms.includes(b);
    const why = macUnavailable(b, host);
    if (why && !listed) continue; // the host does not run it: nothing to apply
    let reason = why;
    if (!reason && b === 'selinux' && !host.selinux!.mls) reason = 'the loaded SELinux policy has no MLS/MCS, so sandboxes cannot get category pairs';
    if (!reason && b === 'selinux' && !ids.mcs) reason = 'this sandbox has no MCS category pair (it was made when the host had no SELinux: re-create it)';
    if (!reason && b === 'apparmor' && !host.apparmor!.parser) reason = '`apparmor_parser` was not found (install Debian\'s `apparmor`, or set MOAT_APPARMOR_PARSER)';
    if (reason) {
      missing.push(`${TITLE[b]}: ${reason}`);
      skip(TITLE[b], reason);
      continue;
    }
    if (b === 'selinux') {
      const pair = ids.mcs!;
      plan.selinux = { label: containerProcessLabel(pair), mountLabel: containerFileLabel(pair), level: mcsLevel(pair) };
      plan.layers.push({ layer: 'SELinux', used: true, detail: `process \`${plan.selinux.label}\`, its tmpfs and devpts mounts \`${plan.selinux.mountLabel}\`: MCS keeps it from every other sandbox's files and processes (${host.selinux!.enforcing ? 'enforcing' : 'PERMISSIVE: denials are only logged'})` });
    } else if (b === 'apparmor') {
      plan.apparmor = { profile: ids.label, text: apparmorProfileText(ids.label) };
      plan.layers.push({ layer: 'AppArmor', used: true, detail: `generated profile \`${ids.label}\`: no mounts, no writes to /proc/sys, /sys or /proc/sysrq-trigger, no raw memory or firmware, ptrace and signals only within the profile` });
    } else {
      plan.smack = { label: ids.label, rules: smackRules(ids.label) };
      plan.layers.push({ layer: 'Smack', used: true, detail: `label \`${ids.label}\` (rules: ${plan.smack.rules.join('; ')}); no access to other labels, CAP_MAC_ADMIN and CAP_MAC_OVERRIDE never granted` });
    }
  }
  const others = plan.layers.filter((l) => l.used).length;
  if (host.landlockAbi > 0) {
    plan.landlock = mode === 'required' ? 'on' : 'best-effort';
    plan.layers.unshift({ layer: 'Landlock', used: true, detail: `ABI ${host.landlockAbi}: the sandbox's files only, signals and abstract sockets scoped` });
  } else {
    plan.layers.unshift({ layer: 'Landlock', used: false, detail: `skipped: ${host.landlockReason ?? 'no Landlock in this kernel'}` });
    plan.skipped.push(`Landlock skipped: ${host.landlockReason ?? 'no Landlock in this kernel'}`);
  }
  if (mode === 'required') {
    if (missing.length) plan.refusal = `mac is \`required\` but ${missing.join('; ')}; use --mac best-effort to start without it`;
    else if (others === 0 && host.landlockAbi === 0) plan.refusal = `mac is \`required\` but no MAC layer applies on this host (no Landlock: ${host.landlockReason ?? 'not in this kernel'}; no SELinux, AppArmor or Smack); use --mac best-effort or off`;
  }
  return plan;
}
