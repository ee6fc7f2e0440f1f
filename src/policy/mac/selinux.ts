// SELinux (sVirt style): contexts `user:role:type:level`, MCS levels `s0:cX,cY`, the exec
// label written to /proc/thread-self/attr/exec right before execve, and `context="..."` for
// the container's tmpfs and devpts mounts from `linux.mountLabel`.
import type { MacBackendResult, MacIssue } from './types.js';

/** The highest MCS category (c0..c1023, as in container-selinux and libvirt's sVirt). */
export const MCS_MAX_CATEGORY = 1023;

/** The type and user/role moat's sandboxes run under (container-selinux's names). */
export const SELINUX_CONTAINER = { user: 'system_u', role: 'system_r', type: 'container_t', fileRole: 'object_r', fileType: 'container_file_t' } as const;

/** Mount types that take `context=` (filesystems without labels of their own). Not mqueue:
 * the kernel refuses context= on it in a user namespace (only tmpfs, ramfs, devpts and
 * overlay may carry one there), and a sandbox has its own. */
export const SELINUX_CONTEXT_FSTYPES = ['tmpfs', 'devpts'] as const;

const PART = /^[A-Za-z0-9_.-]+$/;
const LEVEL = /^s\d+(?::c\d+(?:[.,]c\d+)*)?(?:-s\d+(?::c\d+(?:[.,]c\d+)*)?)?$/;

/** Why `ctx` is not a SELinux context (`user:role:type[:level]`), or undefined. */
export function selinuxContextIssue(ctx: string): string | undefined {
  if (/[\s"'\\\0]/.test(ctx)) return 'must not contain whitespace, quotes, backslashes or NUL';
  const parts = ctx.split(':');
  if (parts.length < 3) return 'must be `user:role:type` or `user:role:type:level`';
  const [user, role, type] = parts as [string, string, string];
  for (const [n, v] of [['user', user], ['role', role], ['type', type]] as const) if (!PART.test(v)) return `has an invalid ${n} \`${v}\``;
  const level = parts.slice(3).join(':');
  if (parts.length > 3 && !LEVEL.test(level)) return `has an invalid MLS/MCS level \`${level}\``;
  return undefined;
}

/** The MCS level of a category pair: `s0:c3,c7` (lower category first, as the kernel prints it). */
export function mcsLevel(pair: readonly [number, number]): string {
  const [a, b] = pair[0] <= pair[1] ? pair : [pair[1], pair[0]];
  return `s0:c${a},c${b}`;
}

/** Why `pair` is not a valid category pair, or undefined. */
export function mcsPairIssue(pair: readonly number[]): string | undefined {
  if (pair.length !== 2 || !pair.every((c) => Number.isInteger(c) && c >= 0 && c <= MCS_MAX_CATEGORY)) return `must be two categories between c0 and c${MCS_MAX_CATEGORY}`;
  if (pair[0] === pair[1]) return 'must be two different categories';
  return undefined;
}

/** A sandbox's process label: `system_u:system_r:container_t:s0:cX,cY`. */
export function containerProcessLabel(pair: readonly [number, number]): string {
  const c = SELINUX_CONTAINER;
  return `${c.user}:${c.role}:${c.type}:${mcsLevel(pair)}`;
}

/** A sandbox's file label: `system_u:object_r:container_file_t:s0:cX,cY`. */
export function containerFileLabel(pair: readonly [number, number]): string {
  const c = SELINUX_CONTAINER;
  return `${c.user}:${c.fileRole}:${c.fileType}:${mcsLevel(pair)}`;
}

/** The mount data option for a label: `context="system_u:object_r:...:s0:c1,c2"` (quoted: the
 * level's commas would otherwise split the option string). */
export function selinuxMountOption(label: string): string {
  return `context="${label}"`;
}

/** The write that sets the exec label. */
export function selinuxAttrWrite(label: string): MacBackendResult['attr'] {
  return { backend: 'selinux', path: '/proc/thread-self/attr/exec', value: label, when: 'exec', origin: 'process.selinuxLabel' };
}

/** The SELinux backend's output for a process label and/or a mount label (both checked). */
export function compileSelinux(label: string | undefined, mountLabel: string | undefined, issues: MacIssue[]): MacBackendResult | undefined {
  const bad = label !== undefined ? selinuxContextIssue(label) : undefined;
  if (bad) issues.push({ code: 'invalid_value', path: 'process.selinuxLabel', message: `\`${label}\` ${bad}` });
  const badMount = mountLabel !== undefined ? selinuxContextIssue(mountLabel) : undefined;
  if (badMount) issues.push({ code: 'invalid_value', path: 'linux.mountLabel', message: `\`${mountLabel}\` ${badMount}` });
  if (bad || badMount) return undefined;
  const mountData: MacBackendResult['mountData'] = {};
  if (mountLabel) for (const t of SELINUX_CONTEXT_FSTYPES) mountData[t] = [selinuxMountOption(mountLabel)];
  return { backend: 'selinux', label: label ?? '', ...(label ? { attr: selinuxAttrWrite(label) } : {}), mountData };
}
