/* LSM_ATTR: writes a label to a proc attr file, the way each LSM takes it (the TypeScript
 * side decides file, value and order; see src/policy/mac):
 *   SELinux   /proc/thread-self/attr/exec            "user:role:type:level"
 *   AppArmor  /proc/thread-self/attr/apparmor/exec   "exec PROFILE"  (older: attr/exec)
 *   Smack     /proc/thread-self/attr/smack/current   "LABEL"         (older: /proc/self/attr/current)
 * PA_PATH is tried first, PA_SOURCE (optional) only when PA_PATH does not exist.  The value
 * goes in one write(2): the kernel takes a label per write, and a short write is an error.
 *
 * The exec labels are written inside the container, after its mounts: a mount the config made
 * could cover /proc/thread-self/attr (through an image's symlink into /proc, the shape of
 * CVE-2019-16884), and the write would land in an ordinary file with the container left
 * unconfined.  So the file written must be on procfs, and the fallback is taken only when the
 * first path's directory is procfs itself (a real kernel without that file), never because a
 * mount hid it. */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

static int on_procfs(int fd) {
  struct statfs st;
  return fstatfs(fd, &st) == 0 && st.f_type == PROC_SUPER_MAGIC;
}

/* The directory of `path` is procfs (or does not exist on it, for an older kernel). */
static int dir_on_procfs(const char *path) {
  char dir[PATH_MAX];
  const char *slash = strrchr(path, '/');
  size_t n = slash ? (size_t)(slash - path) : 0;
  if (n == 0 || n >= sizeof dir) return 0;
  memcpy(dir, path, n);
  dir[n] = 0;
  int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT && dir_on_procfs(dir);
  int ok = on_procfs(fd);
  close(fd);
  return ok;
}

void op_lsm_attr(const struct op *o) {
  const char *path = o->str[PA_PATH];
  int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno == ENOENT && has(o, PA_SOURCE)) {
    if (!dir_on_procfs(path)) die(EXDEV, "`%s`: its directory is not procfs (a mount covers it)", path);
    fd = open(path = o->str[PA_SOURCE], O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  }
  if (fd < 0) die(errno, "open `%s`", path);
  if (!on_procfs(fd)) die(EXDEV, "`%s` is not on procfs (a mount covers it): the label would not apply", path);
  size_t len = strlen(o->str[PA_DATA]);
  ssize_t n;
  do n = write(fd, o->str[PA_DATA], len); while (n < 0 && errno == EINTR);
  if (n < 0 || (size_t)n != len) die(n < 0 ? errno : EIO, "write `%s` to `%s`", o->str[PA_DATA], path);
  close(fd);
}
