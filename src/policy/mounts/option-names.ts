// Every mount option `compileMountOptions` understands, for the features document.
/** Option names, as `runc features` lists them. */
export const MOUNT_OPTION_NAMES = [
  'async', 'atime', 'bind', 'idmap', 'ridmap', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'lazytime', 'mand', 'noatime', 'nodev',
  'nodiratime', 'noexec', 'nolazytime', 'nomand', 'norelatime', 'nostrictatime', 'nosuid', 'nosymfollow', 'private',
  'rbind', 'relatime', 'remount', 'ro', 'rprivate', 'rshared', 'rslave', 'runbindable', 'rw', 'shared', 'slave',
  'strictatime', 'suid', 'symfollow', 'sync', 'unbindable', 'ratime', 'rdev', 'rdiratime', 'rexec', 'rnoatime',
  'rnodev', 'rnodiratime', 'rnoexec', 'rnorelatime', 'rnostrictatime', 'rnosuid', 'rnosymfollow', 'ro', 'rrelatime',
  'rro', 'rrw', 'rstrictatime', 'rsuid', 'rsymfollow',
];
