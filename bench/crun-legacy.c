/* crun-legacy RUNTIME ARGS...
 *
 * crun 1.8 refuses a hybrid cgroup host ("cgroups in hybrid mode not supported, drop all
 * controllers from cgroupv2") when the v2 hierarchy at /sys/fs/cgroup/unified still holds a
 * controller.  This wrapper makes crun see a cgroup-v1-only host, as runc effectively uses
 * this one: it unshares a private mount namespace, detaches /sys/fs/cgroup/unified there (the
 * host's mounts are untouched) and execs the runtime.  Containers keep every namespace,
 * seccomp and their v1 cgroups.  The wrapper's own cost (one exec plus the unshare) is
 * measured by the benchmark and reported next to crun's figures. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: crun-legacy RUNTIME ARGS...\n");
    return 2;
  }
  if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
    fprintf(stderr, "crun-legacy: private mount namespace: %s\n", strerror(errno));
    return 125;
  }
  if (umount2("/sys/fs/cgroup/unified", MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) {
    fprintf(stderr, "crun-legacy: umount `/sys/fs/cgroup/unified`: %s\n", strerror(errno));
    return 125;
  }
  execv(argv[1], argv + 1);
  fprintf(stderr, "crun-legacy: exec `%s`: %s\n", argv[1], strerror(errno));
  return 127;
}
