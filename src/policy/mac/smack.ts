// Smack: one label per container (seed 000, "Smack-protected containers"). The label is
// taken by writing it to /proc/thread-self/attr/smack/current (before Linux 5.8:
// /proc/self/attr/current), which needs CAP_MAC_ADMIN in the initial user namespace, so the
// helper writes it before it joins or makes a user namespace. Access rules in the shape of
// the seed's Listing 1 go to /sys/fs/smackfs/load2; filesystems the container mounts carry
// its label through smackfsroot=/smackfsdef= (or, in a user namespace of its own, get it from
// the kernel, which refuses those options there). CAP_MAC_ADMIN and CAP_MAC_OVERRIDE would
// let the container rewrite or bypass all of this: they are never granted.
import type { MacBackendResult, MacIssue } from './types.js';

/** Smack's longest label (SMK_LONGLABEL - 1). */
export const SMACK_LABEL_MAX = 255;
/** Labels with a meaning of their own (floor, hat, star, web, huh): never a container's. */
export const SMACK_SPECIAL_LABELS = ['_', '^', '*', '@', '?'] as const;
/** The capabilities a Smack-confined container must never hold. */
export const SMACK_FORBIDDEN_CAPS = ['CAP_MAC_ADMIN', 'CAP_MAC_OVERRIDE'] as const;
/** Filesystems a container mounts that get its label as their root and default. */
export const SMACK_LABELLED_FSTYPES = ['tmpfs', 'devpts', 'mqueue'] as const;

/** Why `label` cannot be a container's Smack label, or undefined. */
export function smackLabelIssue(label: string): string | undefined {
  if (label.length === 0) return 'must not be empty';
  if (label.length > SMACK_LABEL_MAX) return `is longer than ${SMACK_LABEL_MAX} characters`;
  if (/[^\x21-\x7e]/.test(label) || /[/"'\\]/.test(label)) return 'must be printable ASCII without whitespace, `/`, quotes or backslashes';
  if (label.startsWith('-')) return 'must not start with `-`';
  if ((SMACK_SPECIAL_LABELS as readonly string[]).includes(label)) return `is one of Smack's built-in labels (${SMACK_SPECIAL_LABELS.join(' ')}), which confine nothing`;
  return undefined;
}

/** The write that gives the helper, and so the container, its label. */
export function smackAttrWrite(label: string, origin: string): NonNullable<MacBackendResult['attr']> {
  return { backend: 'smack', path: '/proc/thread-self/attr/smack/current', fallback: '/proc/self/attr/current', value: label, when: 'current', origin };
}

/** Listing 1 of seed 000 for one container: it may write the floor (`_`: pipes, sockets,
 * the network, its volumes) and the host (floor) may manage its files and processes. Nothing
 * lets one container label reach another. With `x` beside the listing's `rwa`: making a file
 * in a floor directory is one `wx` request (search and write), which the implicit floor
 * read/execute grant does not cover (the VM test saw `requested=wx` denied). Each string is
 * one `load2` write. */
export function smackRules(label: string): string[] {
  return [`${label} _ rwxa`, `_ ${label} rwxa`];
}

/** The `load2` writes that take a container's rules away again (access `-`: none). */
export function smackRevokeRules(label: string): string[] {
  return [`${label} _ -`, `_ ${label} -`];
}

/** Mount data that labels a filesystem the container mounts (only where the container shares
 * the host's user namespace: in its own, the kernel refuses the options and uses the
 * mounter's label, which the helper has set already). */
export function smackMountOptions(label: string): string[] {
  return [`smackfsroot=${label}`, `smackfsdef=${label}`];
}

/** The Smack backend's output for a container label. */
export function compileSmack(label: string, o: { origin: string; ownUserNs: boolean }, issues: MacIssue[]): MacBackendResult | undefined {
  const bad = smackLabelIssue(label);
  if (bad) {
    issues.push({ code: 'invalid_value', path: o.origin, message: `\`${label}\` ${bad}` });
    return undefined;
  }
  const mountData: MacBackendResult['mountData'] = {};
  if (!o.ownUserNs) for (const t of SMACK_LABELLED_FSTYPES) mountData[t] = smackMountOptions(label);
  return { backend: 'smack', label, attr: smackAttrWrite(label, o.origin), mountData, smackRules: smackRules(label), forbiddenCaps: [...SMACK_FORBIDDEN_CAPS] };
}
