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
