// A container's device policy as v1 writes (v1, hybrid) and an eBPF program (hybrid, unified).
import type { OciDevice, OciDeviceCgroup } from '../../spec/oci-types.js';
import { IssueList, type ConfigIssue } from '../../spec/issues.js';
import { checkDeviceRules, effectiveDeviceRules } from '../../policy/cgroups/device-rules.js';
import { deviceRulesToV1, findV1DeviceGaps } from '../../policy/cgroups/device-rules-v1.js';
import { compileDeviceBpf } from '../../policy/devices/compile-device-bpf.js';
import type { ContainerCgroup } from './cgroup-types.js';
import type { ResolvedWrite } from './resolve-cgroup-writes.js';

const RULES_PATH = 'linux.resources.devices';

/**
 * Decides how devices are enforced. On a hybrid host BOTH are applied (defence in depth): the
 * v1 lists, and the eBPF program on the cgroup2 dir, which also enforces the deny rules v1
 * cannot express. On a v1-only host such rules are an issue (a note with `bestEffort`).
 */
export function planContainerDevices(cg: ContainerCgroup, devices: OciDevice[] | undefined, rules: OciDeviceCgroup[] | undefined, bestEffort = false): { writes: ResolvedWrite[]; deviceBpf?: ContainerCgroup['deviceBpf']; issues: ConfigIssue[]; notes: ConfigIssue[] } {
  const issues = new IssueList(), notes = new IssueList();
  checkDeviceRules(devices, rules).forEach((i) => issues.add(i.code, i.path, i.message));
  if (!issues.ok) return { writes: [], issues: issues.items, notes: [] };
  const all = effectiveDeviceRules(devices, rules);
  const bpfDir = cg.mode !== 'v1' ? cg.dirs.unified : undefined;
  const writes: ResolvedWrite[] = [];
  if (cg.mode !== 'unified') {
    const dir = cg.dirs.devices;
    if (!dir) {
      if (bpfDir) notes.add('CGROUP_DEVICES', RULES_PATH, 'the v1 `devices` controller is not mounted: devices are enforced by the eBPF program alone');
      else (bestEffort ? notes : issues).add('ERR_CGROUP_UNAVAILABLE', RULES_PATH, 'the v1 `devices` controller is not mounted');
    } else {
      for (const w of deviceRulesToV1(all)) writes.push({ dir, file: w.file, value: w.value, path: RULES_PATH });
      const looser = findV1DeviceGaps(all).looser;
      if (looser.length) {
        const d = looser[0]!;
        const msg = `cgroup v1 cannot deny \`${d.type} ${d.major}:${d.minor}\` after a wider allow rule`;
        if (bpfDir) notes.add('CGROUP_DEVICES', RULES_PATH, `${msg}: enforced by the eBPF program alone`);
        else (bestEffort ? notes : issues).add('ERR_DEVICE_RULE', RULES_PATH, msg);
      }
    }
  }
  const out: ReturnType<typeof planContainerDevices> = { writes, issues: issues.items, notes: notes.items };
  if (bpfDir) out.deviceBpf = { dir: bpfDir, insns: Buffer.from(compileDeviceBpf(all)).toString('base64') };
  return out;
}

/** The device program's instructions for these rules, as planContainerDevices compiles them
 * for a host with a cgroup2 dir (create hands them to the helper server early, to be lent
 * loaded); undefined when the rules have issues (createContainerCgroup reports them). */
export function deviceProgramFor(devices: OciDevice[] | undefined, rules: OciDeviceCgroup[] | undefined): Uint8Array | undefined {
  if (checkDeviceRules(devices, rules).length) return undefined;
  return compileDeviceBpf(effectiveDeviceRules(devices, rules));
}
