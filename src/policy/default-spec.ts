// The config `moat-oci spec` writes: runc's default, made stricter (a cgroup namespace, the
// default seccomp profile, more masked paths).
import type { OciSpec } from '../spec/oci-types.js';
import { defaultSeccompProfile } from './seccomp/index.js';

const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** Paths masked in every default config: runc's list plus what later CVEs added. */
export const DEFAULT_MASKED_PATHS = [
  '/proc/acpi', '/proc/asound', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
  '/sys/devices/virtual/powercap', // CVE-2020-8694: RAPL power readings leak secrets
];

/** Paths made read-only in every default config. */
export const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Options of `defaultOciSpec`. */
export interface DefaultSpecOptions {
  /** for an unprivileged user: map that user to root in a user namespace */
  rootless?: { uid: number; gid: number };
}

/** A complete default config.json, as `moat-oci spec` writes it. */
export function defaultOciSpec(o: DefaultSpecOptions = {}): OciSpec {
  const spec: OciSpec = {
    ociVersion: '1.0.2',
    // Landlock on (issue 6): refuse to start on a kernel without it
    annotations: { 'run.moat.landlock': 'on' },
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'moat',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', ...(o.rootless ? [] : ['gid=5'])] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
      seccomp: defaultSeccompProfile(CAPS),
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
    },
  };
  if (o.rootless) {
    spec.linux!.namespaces!.push({ type: 'user' });
    spec.linux!.uidMappings = [{ containerID: 0, hostID: o.rootless.uid, size: 1 }];
    spec.linux!.gidMappings = [{ containerID: 0, hostID: o.rootless.gid, size: 1 }];
    delete spec.linux!.resources;
    // a rootless user cannot mount sysfs for a network namespace it does not own: bind it
    spec.mounts![5] = { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro', 'rro'] };
  }
  return spec;
}
