// The sandbox manager: named secure sandboxes from templates (the `moat` CLI's brain).
export { SandboxStore } from './store.js';
export { resolveDataDir, DEFAULT_DATA_DIR, Layout } from './layout.js';
export { defineSandbox, parseSize, DEFAULT_PIDS, type SandboxDefinition, type SandboxOptions } from './definition.js';
export { createSandbox } from './create.js';
export { cloneSandbox } from './clone.js';
export { startSandbox, stopSandbox, deleteSandbox } from './lifecycle.js';
export { runSandbox, type RunOptions } from './run.js';
export { execInSandbox, type ExecOptions } from './exec.js';
export { listSandboxes, type SandboxSummary } from './list.js';
export { inspectSandbox, type SandboxReport, type SecurityLayer } from './inspect.js';
export { readSandboxLog } from './logs.js';
export { sandboxStatus, type SandboxStatus } from './status.js';
export { TEMPLATES } from './templates/index.js';
export { ManagerError } from './errors.js';
export { HOST_CHECKS, runHostChecks, hostCheckContext, type HostCheck, type HostCheckContext, type CheckResult, type CheckStatus } from './host-check.js';
