// Landlock rulesets for containers (issue 6): the annotation `run.moat.landlock` (see
// options.ts), the ruleset built from the container's root and mounts (ruleset.ts) and the
// payload of the Plan's `landlock` op (encode.ts). What the host offers arrives as a value.
import type { OciSpec } from '../../spec/oci-types.js';
import type { ConfigIssue } from '../../spec/issues.js';
import { encodeLandlock } from './encode.js';
import { LANDLOCK_ANNOTATION, LANDLOCK_PATH, parseLandlockAnnotation } from './options.js';
import { buildRuleset, type LandlockRuleset, type RulesetUse } from './ruleset.js';

export { encodeLandlock, encodeLandlockProbe, LANDLOCK_PAYLOAD_VERSION } from './encode.js';
export { LANDLOCK_ANNOTATION, parseLandlockAnnotation, type LandlockOptions } from './options.js';
export { buildRuleset, pathRules, type LandlockRule, type LandlockRuleset, type RulesetUse } from './ruleset.js';
export { LANDLOCK_ABI_KNOWN } from './rights.js';

/** What the host offers: the Landlock ABI version (0 when Landlock is off), and why not. */
export interface LandlockHost {
  abi: number;
  /** when abi is 0: the reason, e.g. "disabled at boot (EOPNOTSUPP)" */
  reason?: string;
}

/** A compiled ruleset for the helper's `landlock` op, or nothing. */
export interface CompiledLandlock {
  bytes?: Uint8Array;
  ruleset?: LandlockRuleset;
  issues: ConfigIssue[];
  warnings: ConfigIssue[];
}

/** Compiles the container's Landlock ruleset from its spec (annotation `run.moat.landlock`).
 * `on` refuses (an issue) what the kernel cannot enforce at all; lower ABIs get the subset,
 * each right left out named in a warning; `best-effort` turns the refusals into warnings.
 * @example compileLandlock(spec, { abi: 7 }).bytes // the payload for buildPlan's ctx.landlock */
export function compileLandlock(spec: OciSpec, host: LandlockHost, use: RulesetUse = {}): CompiledLandlock {
  const { options, issues } = parseLandlockAnnotation(spec.annotations?.[LANDLOCK_ANNOTATION]);
  const warnings: ConfigIssue[] = [];
  if (!options) return { issues, warnings };
  const refuse = (code: string, message: string) => {
    if (options.mode === 'on') issues.push({ code, path: LANDLOCK_PATH, message: `${message}; set it to \`best-effort\` to start without` });
    else warnings.push({ code, path: LANDLOCK_PATH, message: `${message}: skipped (best-effort)` });
  };
  if (host.abi < 1) {
    refuse('landlock_unavailable', `Landlock is requested but this kernel has none (${host.reason ?? 'no Landlock'})`);
    return { issues, warnings };
  }
  const built = buildRuleset(spec, options, host.abi, use);
  if (built.droppedExplicit.length) refuse('landlock_downgrade', `Landlock ABI ${host.abi} cannot enforce ${built.droppedExplicit.join(', ')}`);
  if (built.dropped.length)
    warnings.push({ code: 'landlock_downgrade', path: LANDLOCK_PATH, message: `Landlock ABI ${host.abi} on this kernel: not enforced: ${built.dropped.join(', ')}` });
  if (issues.length) return { issues, warnings };
  return { bytes: encodeLandlock(built.ruleset), ruleset: built.ruleset, issues, warnings };
}
