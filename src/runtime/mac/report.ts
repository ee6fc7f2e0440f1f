// What `moat check` and `moat-oci features` say about MAC: the host's LSMs and what moat
// uses of each.
import { landlockHost } from '../landlock.js';
import { macUnavailable, type MacBackendName, type MacHost } from '../../policy/mac/index.js';
import { macHost } from './host.js';

/** One MAC layer on this host. */
export interface MacLayerReport {
  layer: 'Landlock' | 'SELinux' | 'AppArmor' | 'Smack';
  /** the kernel runs it */
  active: boolean;
  /** moat confines containers with it */
  used: boolean;
  detail: string;
}

/** The host's LSMs and what moat does with each. */
export interface MacHostReport {
  lsms: string[];
  layers: MacLayerReport[];
}

const TITLE: Record<MacBackendName, MacLayerReport['layer']> = { selinux: 'SELinux', apparmor: 'AppArmor', smack: 'Smack' };
const USE: Record<MacBackendName, string> = {
  selinux: 'process.selinuxLabel / linux.mountLabel; sandboxes: container_t with an MCS pair of their own',
  apparmor: 'process.apparmorProfile; sandboxes: a generated profile each',
  smack: 'annotation run.moat.smack.label; sandboxes: a label each, with load2 rules',
};

/** Reports the host's LSMs and which of them moat uses (for `moat check`, `moat-oci features`).
 * @example macHostReport().layers.filter((l) => l.used).map((l) => l.layer) // ['Landlock', 'AppArmor'] */
export function macHostReport(host: MacHost = macHost(), landlock = landlockHost()): MacHostReport {
  const layers: MacLayerReport[] = [{
    layer: 'Landlock', active: landlock.abi > 0, used: landlock.abi > 0,
    detail: landlock.abi > 0 ? `ABI ${landlock.abi}: every container's ruleset from its mounts (annotation run.moat.landlock)` : `not available: ${landlock.reason ?? 'no Landlock'}`,
  }];
  for (const b of ['selinux', 'apparmor', 'smack'] as const) {
    const active = host.lsms.includes(b);
    const why = macUnavailable(b, host);
    let detail = why ? (active ? `active, but not usable: ${why}` : 'not active on this host') : `used: ${USE[b]}`;
    if (!why && b === 'apparmor' && !host.apparmor?.parser) detail += '; `apparmor_parser` not found, so sandboxes cannot load their generated profiles';
    if (!why && b === 'selinux') detail += `; ${host.selinux!.enforcing ? 'enforcing' : 'permissive'}${host.selinux!.mls ? ', MCS' : ', no MCS in the policy'}`;
    layers.push({ layer: TITLE[b], active, used: !why, detail });
  }
  return { lsms: host.lsms, layers };
}
