// The OCI features document (runtime-spec features.md), truthful about this build and host.
import { existsSync } from 'node:fs';
import { seccompFeatures } from '../policy/seccomp/index.js';
import { MOUNT_OPTION_NAMES } from '../policy/mounts/option-names.js';
import { cgroupFeatures } from './cgroups/index.js';
import { cgroupHostInfo } from './host.js';

/** What `moat-oci features` prints. */
export function runtimeFeatures(): Record<string, unknown> {
  const sc = seccompFeatures();
  let cg: unknown;
  try {
    cg = cgroupFeatures(cgroupHostInfo());
  } catch (e) {
    cg = { error: (e as Error).message };
  }
  const landlock = existsSync('/sys/kernel/security/landlock');
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.2.0',
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: MOUNT_OPTION_NAMES,
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'],
      capabilities: (CAPS_LIST as readonly string[]).slice(),
      cgroup: cg,
      seccomp: { enabled: true, actions: sc.actions, operators: sc.operators, archs: sc.archs, knownFlags: sc.flags, supportedFlags: sc.flags },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: {
      'run.moat.version': '0.1.0',
      'run.moat.landlock.available': String(landlock),
      'run.moat.mac.layers': 'none (Landlock, SELinux, AppArmor and Smack backends are not in this build yet)',
    },
  };
}

import { CAPABILITIES as CAPS_LIST } from '../spec/capabilities.js';
