// Facts about the host that the runtime needs, probed once per process.
import { probeCgroupHost, type CgroupHost } from './cgroups/index.js';

let cgroupHost: CgroupHost | undefined;

/** The host's cgroup layout and our place in it (cached). */
export function cgroupHostInfo(): CgroupHost {
  return (cgroupHost ??= probeCgroupHost());
}
