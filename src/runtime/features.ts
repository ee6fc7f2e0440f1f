// The OCI features document (runtime-spec features.md), truthful about this build and host.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { seccompFeaturesFor, type SeccompHost } from '../policy/seccomp/index.js';
import { MOUNT_OPTION_NAMES } from '../policy/mounts/option-names.js';
import { cgroupFeatures } from './cgroups/index.js';
import { cgroupHostInfo } from './host.js';
import { landlockHost } from './landlock.js';
import { macHostReport } from './mac/index.js';

/** What the kernel says about seccomp: the actions it has, its release, the host ABI. */
function seccompHost(): SeccompHost {
  let actionsAvail: string[] | undefined;
  try {
    actionsAvail = readFileSync('/proc/sys/kernel/seccomp/actions_avail', 'utf8').trim().split(/\s+/);
  } catch {
    // no seccomp filter support in this kernel: enabled is false
  }
  const m = /^(\d+)\.(\d+)/.exec(release());
  const kernelVersion: [number, number] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  const hostArch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  return { ...(actionsAvail ? { actionsAvail } : {}), kernelVersion, hostArch };
}

/** What `moat-oci features` prints. */
export function runtimeFeatures(): Record<string, unknown> {
  const { enforcedArchs, ...seccomp } = seccompFeaturesFor(seccompHost());
  let cg: unknown;
  try {
    cg = cgroupFeatures(cgroupHostInfo());
  } catch (e) {
    cg = { error: (e as Error).message };
  }
  const landlock = landlockHost();
  const mac = macHostReport(undefined, landlock);
  const used = (l: string) => mac.layers.some((x) => x.layer === l && x.used);
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.2.0',
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: MOUNT_OPTION_NAMES,
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'],
      capabilities: (CAPS_LIST as readonly string[]).slice(),
      cgroup: cg,
      seccomp,
      apparmor: { enabled: used('AppArmor') },
      selinux: { enabled: used('SELinux') },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: true } },
    },
    annotations: {
      'run.moat.version': '0.1.0',
      'run.moat.landlock.available': String(landlock.abi > 0),
      'run.moat.landlock.abi': String(landlock.abi),
      ...(landlock.reason ? { 'run.moat.landlock.reason': landlock.reason } : {}),
      'run.moat.seccomp.enforcedArchs': enforcedArchs.join(','),
      'run.moat.mac.lsms': mac.lsms.join(','),
      'run.moat.mac.layers': mac.layers.filter((l) => l.used).map((l) => l.layer.toLowerCase()).join(',') || 'none',
      ...Object.fromEntries(mac.layers.map((l) => [`run.moat.mac.${l.layer.toLowerCase()}`, l.detail])),
      'run.moat.smack.label': 'the container\'s Smack label (annotation; the OCI spec has no Smack field)',
    },
  };
}

import { CAPABILITIES as CAPS_LIST } from '../spec/capabilities.js';
