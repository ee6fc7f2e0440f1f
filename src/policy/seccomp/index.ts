// The seccomp compiler: OCI profiles to classic BPF, moat's default profile, Docker profile
// files, and an emulator to check and measure filters.
export { compileSeccomp, type CompiledSeccomp, type CompileSeccompOptions } from './compile.js';
export { defaultSeccompProfile } from './default-profile.js';
export { parseDockerSeccompProfile, type DockerProfileOptions } from './docker-profile.js';
export { seccompFeatures, seccompFeaturesFor, type SeccompHost } from './features.js';
export { emulateSeccomp, type SeccompCall } from './emulator.js';
export { seccompStats, type SeccompMixEntry } from './stats.js';
export { splitSeccompIssues, SECCOMP_WARNING_CODES } from './issue-codes.js';
export { SECCOMP_BADARCH_RET } from './codegen.js';
export type { HostArch } from './arches.js';
