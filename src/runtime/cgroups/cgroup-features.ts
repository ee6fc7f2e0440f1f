// The cgroup part of `moat-oci features`: what this host's cgroups can do.
import type { CgroupHost } from './cgroup-types.js';

/** OCI features.json `linux.cgroup` fields, plus the controllers and how devices are enforced. */
export interface CgroupFeatures {
  v1: boolean;
  v2: boolean;
  systemd: boolean;
  systemdUser: boolean;
  rdma: boolean;
  mode: CgroupHost['mode'];
  controllers: { v1: string[]; v2: string[] };
  /** `v1`: devices.allow/deny lists; `ebpf`: a BPF_PROG_TYPE_CGROUP_DEVICE program; `v1+ebpf` on hybrid hosts */
  devices: 'v1' | 'ebpf' | 'v1+ebpf' | 'none';
  /** what `pause` freezes with: the v1 `freezer` controller, cgroup2 `cgroup.freeze`, or nothing */
  freezer: 'v1' | 'v2' | 'none';
}

/** Describes the host's cgroup support for `moat-oci features`. */
export function cgroupFeatures(host: CgroupHost): CgroupFeatures {
  // named hierarchies (`name=systemd`) hold no controller
  const v1 = Object.keys(host.v1).filter((c) => !c.startsWith('name=')).sort();
  const v2 = [...host.unifiedControllers].sort();
  const ebpf = host.mode !== 'v1' && host.unified !== undefined;
  const v1Devices = v1.includes('devices');
  return {
    v1: host.mode !== 'unified',
    v2: host.unified !== undefined,
    systemd: false, // the systemd driver needs d-bus, not implemented
    systemdUser: false,
    rdma: v1.includes('rdma') || v2.includes('rdma'),
    mode: host.mode,
    controllers: { v1, v2 },
    devices: v1Devices && ebpf ? 'v1+ebpf' : ebpf ? 'ebpf' : v1Devices ? 'v1' : 'none',
    freezer: host.mode !== 'unified' && v1.includes('freezer') ? 'v1' : host.unified !== undefined ? 'v2' : 'none',
  };
}
