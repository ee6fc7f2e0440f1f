/* Id-mapped mounts (mount_setattr MOUNT_ATTR_IDMAP): a tree whose files, owned by host ids on
 * disk, appear with the container's ids, so no rootfs is ever chowned.  Marking a mount
 * id-mapped needs privilege over the filesystem's user namespace (the host's), so it is done
 * here, before clone, by the runtime-privileged helper; the container process inherits the
 * detached tree's fd and attaches it (ROOT_BIND or MOUNT with VALUE = this op's index). */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int tree_fds[PLAN_MAX_OPS];
static int tree_init;

static void write_map(pid_t pid, const char *file, const char *data) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, data, strlen(data)) != (ssize_t)strlen(data)) die(errno, "write `%s`", path);
  close(fd);
}

/* A user namespace with the given maps, held by a throwaway child only long enough to open
 * its namespace file. */
static int make_userns(const char *uid_map, const char *gid_map) {
  int go[2];
  if (pipe2(go, O_CLOEXEC) < 0) die(errno, "pipe");
  pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) die(errno, "clone a user namespace for an id-mapped mount");
  if (pid == 0) {
    char b;
    close(go[1]);
    (void)!read(go[0], &b, 1);
    _exit(0);
  }
  close(go[0]);
  write_map(pid, "uid_map", uid_map);
  write_map(pid, "gid_map", gid_map);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
  int ns = open(path, O_RDONLY | O_CLOEXEC);
  int e = errno;
  close(go[1]);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
  if (ns < 0) die(e, "open `%s`", path);
  return ns;
}

void op_idmap_tree(const struct op *o) {
  if (!tree_init) { for (size_t i = 0; i < PLAN_MAX_OPS; i++) tree_fds[i] = -1; tree_init = 1; }
  int rec = has(o, PA_FLAGS) && (o->num[PA_FLAGS] & 1);
  int ns = make_userns(o->str[PA_UID_MAP], o->str[PA_GID_MAP]);
  int tree = open_tree(AT_FDCWD, o->str[PA_PATH], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rec ? AT_RECURSIVE : 0));
  if (tree < 0) die(errno, "clone mount `%s`", o->str[PA_PATH]);
  struct mount_attr a = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)ns };
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0), &a, sizeof a) < 0)
    die(errno, "id-map `%s` (the filesystem may not support id-mapped mounts)", o->str[PA_PATH]);
  close(ns);
  tree_fds[H.op_index] = tree;
}

/* The tree made by the IDMAP_TREE op at `op_index`, or -1. */
int idmap_tree_fd(uint64_t op_index) {
  return tree_init && op_index < PLAN_MAX_OPS ? tree_fds[op_index] : -1;
}

/* A detached overlay whose lower layers are read-only trees shared by many containers (a
 * template's cache, an image's layers), each usually an id-mapped tree made by IDMAP_TREE
 * just before, and whose upper and work dirs are the container's own.  It is made here, by
 * the runtime-privileged helper, before clone: the lower layers are owned by the host's root
 * and seen through their id-mapped trees, so the container's root sees them as its own
 * files, while what it writes lands in the upper dir owned by its own host ids.  The tree's
 * fd is used by ROOT_BIND (VALUE = this op's index) like an id-mapped rootfs. */
void op_overlay_tree(const struct op *o) {
  if (!tree_init) { for (size_t i = 0; i < PLAN_MAX_OPS; i++) tree_fds[i] = -1; tree_init = 1; }
  if (o->ngroups && o->ngroups != o->nargs) die(EINVAL, "overlay: %zu lower dirs but %zu id-mapped trees", o->nargs, o->ngroups);
  int fs = fsopen("overlay", FSOPEN_CLOEXEC);
  if (fs < 0) die(errno, "filesystem `overlay`");
  for (size_t i = 0; i < o->nargs; i++) {
    int tree = o->ngroups ? idmap_tree_fd(o->groups[i]) : -1;
    if (o->ngroups && tree < 0) die(EINVAL, "overlay lower `%s`: no id-mapped tree from op %llu", o->args[i], (unsigned long long)o->groups[i]);
    /* an id-mapped tree is detached: it has no path, so it is handed over by fd */
    int r = tree >= 0 ? fsconfig(fs, FSCONFIG_SET_FD, "lowerdir+", NULL, tree)
                      : fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", o->args[i], 0);
    if (r < 0) die(errno, "overlay lower dir `%s`", o->args[i]);
  }
  if (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", o->str[PA_PATH], 0) < 0) die(errno, "overlay upper dir `%s`", o->str[PA_PATH]);
  if (fsconfig(fs, FSCONFIG_SET_STRING, "workdir", o->str[PA_SOURCE], 0) < 0) die(errno, "overlay work dir `%s`", o->str[PA_SOURCE]);
  if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
    int e = errno;
    char log[512] = "";
    ssize_t n = read(fs, log, sizeof log - 1);
    log[n > 0 ? n : 0] = 0;
    die(e, "create overlay over `%s`%s%s", o->str[PA_PATH], *log ? ": " : "", log);
  }
  /* nosuid and nodev whatever the Plan says: defence in depth, no overlay of ours needs them */
  unsigned attrs = (unsigned)(has(o, PA_ATTR_SET) ? o->num[PA_ATTR_SET] : 0) | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  int m = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
  if (m < 0) die(errno, "mount overlay over `%s`", o->str[PA_PATH]);
  close(fs);
  for (size_t i = 0; i < o->ngroups; i++) {
    /* the overlay holds its own references to its layers */
    int t = idmap_tree_fd(o->groups[i]);
    if (t >= 0) { close(t); tree_fds[o->groups[i]] = -1; }
  }
  tree_fds[H.op_index] = m;
}
