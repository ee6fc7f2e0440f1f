/* LSM_ATTR: writes a label to a proc attr file, the way each LSM takes it (the TypeScript
 * side decides file, value and order; see src/policy/mac):
 *   SELinux   /proc/thread-self/attr/exec            "user:role:type:level"
 *   AppArmor  /proc/thread-self/attr/apparmor/exec   "exec PROFILE"  (older: attr/exec)
 *   Smack     /proc/thread-self/attr/smack/current   "LABEL"         (older: /proc/self/attr/current)
 * PA_PATH is tried first, PA_SOURCE (optional) only when PA_PATH does not exist.  The value
 * goes in one write(2): the kernel takes a label per write, and a short write is an error. */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

void op_lsm_attr(const struct op *o) {
  const char *path = o->str[PA_PATH];
  int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno == ENOENT && has(o, PA_SOURCE)) fd = open(path = o->str[PA_SOURCE], O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) die(errno, "open `%s`", path);
  size_t len = strlen(o->str[PA_DATA]);
  ssize_t n;
  do n = write(fd, o->str[PA_DATA], len); while (n < 0 && errno == EINTR);
  if (n < 0 || (size_t)n != len) die(n < 0 ? errno : EIO, "write `%s` to `%s`", o->str[PA_DATA], path);
  close(fd);
}
