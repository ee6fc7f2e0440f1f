// The cgroup runtime layer: probe the host, create/update/pause/destroy a container's cgroup, read stats.
export type { CgroupHost, CgroupMode, ContainerCgroup } from './cgroup-types.js';
export { CgroupError } from './cgroup-error.js';
export { probeCgroupHost } from './probe-cgroup-host.js';
export { createContainerCgroup, type CreateCgroupOptions } from './create-container-cgroup.js';
export { cgroupJoinDirs } from './cgroup-join-dirs.js';
export { captureRecipe, keepRecipe, recipeFor, renderRecipe, withWritesSeen } from './cgroup-recipe.js';
export { removeCreatedDirs } from './write-cgroup-files.js';
export { deviceProgramFor } from './container-devices.js';
export { destroyContainerCgroup, killContainerCgroup } from './destroy-container-cgroup.js';
export { isContainerCgroupFrozen, pauseContainerCgroup, resumeContainerCgroup } from './freeze-container-cgroup.js';
export { updateContainerCgroup } from './update-container-cgroup.js';
export { readCgroupStats, readOomCount, type CgroupStats } from './read-cgroup-stats.js';
export { cgroupFeatures, type CgroupFeatures } from './cgroup-features.js';
export { delegateContainerCgroup, execLeafDir, treePids } from './delegate-container-cgroup.js';
