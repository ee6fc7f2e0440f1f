// The host's Landlock support, as the runtime sees it (issue 6 fills this in).
import type { LandlockHost } from '../policy/landlock/index.js';

/** Probes the running kernel's Landlock ABI (0: none). */
export function landlockHost(): LandlockHost {
  return { abi: 0 };
}
