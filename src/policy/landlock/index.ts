// Landlock rulesets for containers (issue 6): not built yet. compileLandlock is the entry
// point the runtime calls; it returns no ruleset until the backend exists.
import type { OciSpec } from '../../spec/oci-types.js';
import type { ConfigIssue } from '../../spec/issues.js';

/** What the host offers: the Landlock ABI version (0 when Landlock is off). */
export interface LandlockHost {
  abi: number;
}

/** A compiled ruleset for the helper's `landlock` op, or nothing. */
export interface CompiledLandlock {
  bytes?: Uint8Array;
  issues: ConfigIssue[];
  warnings: ConfigIssue[];
}

/** Compiles the container's Landlock ruleset from its spec (annotation `run.moat.landlock`). */
export function compileLandlock(spec: OciSpec, host: LandlockHost): CompiledLandlock {
  void spec;
  void host;
  return { issues: [], warnings: [] };
}
