// The "none" backend: what a host without SELinux, AppArmor or Smack gets. It labels nothing,
// and says why each named layer is absent, so that a request for one is refused by name.
import type { MacBackendName, MacHost } from './types.js';

const NAMES: Record<MacBackendName, string> = { selinux: 'SELinux', apparmor: 'AppArmor', smack: 'Smack' };

/** The display name of a backend. */
export function macBackendTitle(b: MacBackendName): string {
  return NAMES[b];
}

/** Why `backend` cannot be used on `host`, or undefined when it can. */
export function macUnavailable(backend: MacBackendName, host: MacHost): string | undefined {
  const listed = host.lsms.includes(backend);
  const list = host.lsms.length ? `the active LSMs are \`${host.lsms.join(',')}\`` : 'no LSM list (is securityfs mounted at /sys/kernel/security?)';
  if (backend === 'selinux') {
    if (!host.selinux) return listed ? 'SELinux is active but selinuxfs is not mounted at /sys/fs/selinux' : `this host has no SELinux (${list})`;
    if (!host.selinux.policyLoaded) return 'SELinux has no policy loaded';
    return undefined;
  }
  if (backend === 'apparmor') return host.apparmor ? undefined : `this host has no AppArmor (${list})`;
  if (!host.smack) return listed ? 'Smack is active but smackfs is not mounted at /sys/fs/smackfs' : `this host has no Smack (${list})`;
  if (!host.smack.load2) return 'smackfs has no `load2`';
  return undefined;
}

/** The backends usable on `host`, in the order moat prefers them. */
export function macBackendsOf(host: MacHost): MacBackendName[] {
  return (['selinux', 'apparmor', 'smack'] as const).filter((b) => !macUnavailable(b, host));
}
