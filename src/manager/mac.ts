// MAC for named sandboxes (`mac: required | best-effort | off`): at create each sandbox gets
// its own MCS category pair when the host runs SELinux; at start its layers are decided
// (src/policy/mac/sandbox.ts), its generated AppArmor profile is loaded and its labels put in
// the spec; at delete the pair, the profile and the Smack rules go.
import { resolve } from 'node:path';
import { planSandboxMac, smackRevokeRules, SMACK_LABEL_ANNOTATION, type SandboxMacHost, type SandboxMacPlan } from '../policy/mac/index.js';
import type { OciSpec } from '../spec/oci-types.js';
import { landlockHost } from '../runtime/landlock.js';
import { log } from '../runtime/log.js';
import { allocateMcsPair, freeMcsPair, freeMcsPairSync, loadApparmorProfile, loadSmackRules, macHost, mcsPoolFile, removeApparmorProfile } from '../runtime/mac/index.js';
import { macUnavailable } from '../policy/mac/index.js';
import type { SandboxDefinition } from './definition.js';
import { ManagerError } from './errors.js';
import { sandboxCgroupsPath } from './spec.js';
import type { SandboxStore } from './store.js';

export { MAC_MODES, type MacMode } from '../policy/mac/index.js';

function owner(store: SandboxStore, name: string): string {
  return `${resolve(store.layout.data)}:${name}`;
}

/** The sandbox's AppArmor profile name and Smack label (unique across data dirs, like its cgroup). */
export function sandboxMacLabel(store: SandboxStore, name: string): string {
  return sandboxCgroupsPath(name, store.layout.data);
}

/** What the host offers a sandbox (MAC modules and Landlock). */
export function sandboxMacHost(store: SandboxStore): SandboxMacHost {
  const ll = landlockHost(store.layout.runtimeRoot);
  return { ...macHost(), landlockAbi: ll.abi, ...(ll.reason ? { landlockReason: ll.reason } : {}) };
}

/** Gives a new sandbox its MCS pair when the host runs SELinux (before its files are made). */
export async function assignMacIds(store: SandboxStore, def: SandboxDefinition): Promise<void> {
  delete def.mcs;
  if ((def.mac ?? 'required') === 'off' || macUnavailable('selinux', macHost())) return;
  def.mcs = await allocateMcsPair(mcsPoolFile(), owner(store, def.name));
}

/** Takes back what a deleted sandbox held: its MCS pair, its AppArmor profile, its Smack rules. */
export async function releaseMacIds(store: SandboxStore, def: SandboxDefinition): Promise<void> {
  if (def.mcs) await freeMcsPair(mcsPoolFile(), owner(store, def.name));
  unloadSandboxMac(store, def);
}

/** The same for a sandbox whose create or delete crashed (synchronous, for the sweep). */
export function releaseSweptMacIds(store: SandboxStore, def: SandboxDefinition): void {
  if (store.exists(def.name)) return;
  if (def.mcs) freeMcsPairSync(mcsPoolFile(), owner(store, def.name));
  try {
    unloadSandboxMac(store, def);
  } catch {
    /* a sweep does what it can */
  }
}

function unloadSandboxMac(store: SandboxStore, def: SandboxDefinition): void {
  const host = macHost();
  const label = sandboxMacLabel(store, def.name);
  if (host.apparmor) removeApparmorProfile(label);
  if (host.smack?.load2) loadSmackRules(smackRevokeRules(label));
}

/** The sandbox's MAC plan on this host (for start and inspect). */
export function sandboxMacPlan(store: SandboxStore, def: SandboxDefinition): SandboxMacPlan {
  return planSandboxMac(def.mac ?? 'required', sandboxMacHost(store), { label: sandboxMacLabel(store, def.name), ...(def.mcs ? { mcs: def.mcs } : {}) });
}

/** Puts a plan's labels into the spec (pure). */
export function applyMacPlan(spec: OciSpec, plan: SandboxMacPlan): void {
  const p = spec.process!;
  spec.annotations = { ...spec.annotations, 'run.moat.landlock': plan.landlock };
  if (plan.landlock === 'off') delete spec.annotations['run.moat.landlock'];
  if (plan.selinux) {
    p.selinuxLabel = plan.selinux.label;
    spec.linux!.mountLabel = plan.selinux.mountLabel;
  }
  if (plan.apparmor) p.apparmorProfile = plan.apparmor.profile;
  if (plan.smack) spec.annotations[SMACK_LABEL_ANNOTATION] = plan.smack.label;
}

/** At start: decides the layers (refusing an unmet `required`, naming what best-effort skips),
 * loads the generated AppArmor profile, and labels the spec. */
export function prepareSandboxMac(store: SandboxStore, def: SandboxDefinition, spec: OciSpec): SandboxMacPlan {
  const plan = sandboxMacPlan(store, def);
  if (plan.refusal) throw new ManagerError('ERR_MAC', plan.refusal);
  for (const s of plan.skipped) log('warn', `sandbox \`${def.name}\`: ${s} (mac: best-effort)`);
  if (plan.apparmor) loadApparmorProfile(macHost().apparmor!.parser!, plan.apparmor.text, plan.apparmor.profile);
  applyMacPlan(spec, plan);
  return plan;
}
