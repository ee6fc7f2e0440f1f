// Whether runHelper may use the helper server (helper-server.ts). A module of its own, with no
// imports, so that the CLIs can turn it off without loading node:child_process at start-up.
let serverOn = true;

/** Turns the helper server on or off for this process (the CLIs turn it off: one container
 * per process leaves nothing to amortize, and a spawned helper is one process fewer). */
export function setHelperServer(on: boolean): void {
  serverOn = on;
}

/** True when runHelper may use the helper server. */
export function helperServerOn(): boolean {
  return serverOn;
}
