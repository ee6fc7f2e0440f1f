/* Mount ops.  Every path inside the container is resolved beneath the container root with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), and mounts are made with the new mount API
 * on file descriptors (open_tree/fsmount + move_mount), so a symlink or rename inside the
 * rootfs cannot redirect a mount onto the host (CVE-2019-16884, CVE-2021-30465), and flags
 * such as read-only are set on the detached tree before it becomes visible. */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define RESOLVE_SAFE (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
#define MOVE_FDS (MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)

static int openat2_(int dirfd, const char *path, int flags, uint64_t resolve) {
  struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC), .resolve = resolve };
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

static int create_component(int dir, const char *name, int as_file) {
  if (!as_file) return mkdirat(dir, name, 0755) < 0 && errno != EEXIST ? -1 : 0;
  int fd = openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return errno == EEXIST ? 0 : -1;
  close(fd);
  return 0;
}

/* Opens `path` (absolute, inside the container) beneath the root; with `create` (1: a
 * directory, 2: a file) the missing components are made one at a time, each relative to a
 * parent that was itself resolved inside the root.  A dangling symlink on the way is followed
 * the way the kernel would follow it from inside the root (absolute targets restart at the
 * container's root), so what gets made is always inside the root. */
static int open_in_root_depth(const char *path, int flags, int create, int depth);

static int follow_dangling(int dir, const char *name, const char *done, const char *rest, int flags, int create, int depth) {
  char target[4096], next[8192];
  struct stat st;
  if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode)) return -2;
  ssize_t n = readlinkat(dir, name, target, sizeof target - 1);
  if (n < 0) return -1;
  target[n] = 0;
  if (snprintf(next, sizeof next, "%s/%s%s%s", target[0] == '/' ? "" : done, target, *rest ? "/" : "", rest) >= (int)sizeof next) {
    errno = ENAMETOOLONG;
    return -1;
  }
  return open_in_root_depth(next, flags, create, depth + 1);
}

static int open_in_root_depth(const char *path, int flags, int create, int depth) {
  if (H.root_fd < 0 && (H.root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) return -1;
  int fd = openat2_(H.root_fd, path, flags, RESOLVE_SAFE);
  if (fd >= 0 || errno != ENOENT || !create) return fd;
  if (depth > 40) { errno = ELOOP; return -1; }
  char buf[4096], done[4096] = "";
  if (strlen(path) >= sizeof buf) { errno = ENAMETOOLONG; return -1; }
  strcpy(buf, path);
  int dir = openat2_(H.root_fd, "/", O_PATH | O_DIRECTORY, RESOLVE_SAFE);
  char *save = NULL;
  for (char *c = strtok_r(buf, "/", &save); c && dir >= 0; c = strtok_r(NULL, "/", &save)) {
    int last = save == NULL || *save == 0;
    if (!strcmp(c, "..")) { close(dir); errno = EINVAL; return -1; }
    int next = openat2_(dir, c, O_PATH, RESOLVE_SAFE);
    if (next < 0 && errno == ENOENT) {
      int r = follow_dangling(dir, c, done, save ? save : "", flags, create, depth);
      if (r != -2) { int e = errno; close(dir); errno = e; return r; }
      if (create_component(dir, c, last && create == 2) < 0) { int e = errno; close(dir); errno = e; return -1; }
      next = openat2_(dir, c, O_PATH, RESOLVE_SAFE);
    }
    int e = errno;
    close(dir);
    errno = e;
    dir = next;
    size_t l = strlen(done);
    snprintf(done + l, sizeof done - l, "/%s", c);
  }
  if (dir < 0) return -1;
  close(dir);
  return openat2_(H.root_fd, path, flags, RESOLVE_SAFE);
}

int open_in_root(const char *path, int flags, int create) {
  return open_in_root_depth(path, flags, create, 0);
}

static void set_attrs(int mfd, const char *what, uint64_t set, uint64_t clr, uint64_t prop, unsigned flags) {
  if (!set && !clr && !prop) return;
  struct mount_attr a = { .attr_set = set, .attr_clr = clr, .propagation = prop };
  if (syscall(SYS_mount_setattr, mfd, "", AT_EMPTY_PATH | flags, &a, sizeof a) < 0)
    die(errno, "set mount attributes on `%s`", what);
}

static void attach(int mfd, const char *target, int create) {
  int t = open_in_root(target, O_PATH, create);
  if (t < 0) die(errno, "open mount target `%s`", target);
  if (move_mount(mfd, "", t, "", MOVE_FDS) < 0) die(errno, "mount on `%s`", target);
  close(t);
}

/* Mount data is split at commas outside double quotes, as mount(2) does for LSM options:
 * `context="system_u:object_r:container_file_t:s0:c1,c2"` is one option. */
static char *next_option(char **cur) {
  char *start = *cur;
  if (!start) return NULL;
  int quoted = 0;
  char *p = start;
  for (; *p && (quoted || *p != ','); p++) if (*p == '"') quoted = !quoted;
  *cur = *p ? p + 1 : NULL;
  *p = 0;
  return start;
}

/* fsconfig takes the value itself: the quotes that kept its commas together go. */
static char *unquote(char *v) {
  size_t n = strlen(v);
  if (n >= 2 && v[0] == '"' && v[n - 1] == '"') { v[n - 1] = 0; return v + 1; }
  return v;
}

/* fsopen/fsconfig/fsmount: the kernel's own error text (from the context fd) goes into ours. */
static int fs_mount(const char *type, const char *source, const char *data, uint64_t attrs) {
  int fs = fsopen(type, FSOPEN_CLOEXEC);
  if (fs < 0) die(errno, "filesystem `%s`", type);
  if (source && *source && fsconfig(fs, FSCONFIG_SET_STRING, "source", source, 0) < 0)
    die(errno, "`%s` source `%s`", type, source);
  char *opts = strdup(data ? data : ""), *next = opts;
  for (char *kv; (kv = next_option(&next));) {
    if (!*kv) continue;
    char *eq = strchr(kv, '=');
    if (eq) *eq = 0;
    int r = eq ? fsconfig(fs, FSCONFIG_SET_STRING, kv, unquote(eq + 1), 0) : fsconfig(fs, FSCONFIG_SET_FLAG, kv, NULL, 0);
    if (r < 0) die(errno, "`%s` option `%s`", type, kv);
  }
  free(opts);
  if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
    int e = errno;
    char log[512] = "";
    ssize_t n = read(fs, log, sizeof log - 1);
    log[n > 0 ? n : 0] = 0;
    die(e, "create `%s` filesystem%s%s", type, *log ? ": " : "", log);
  }
  int m = fsmount(fs, FSMOUNT_CLOEXEC, (unsigned)attrs);
  if (m < 0) die(errno, "mount `%s` filesystem", type);
  close(fs);
  return m;
}

/* Propagation of "/" in the new mount namespace, so nothing we mount leaks to the host. */
void op_root_propagation(const struct op *o) {
  if (mount(NULL, "/", NULL, o->num[PA_PROPAGATION], NULL) < 0) die(errno, "set propagation of `/`");
}

/* Binds the rootfs onto itself so that it is a mount point pivot_root accepts, and opens it
 * as the root every later path resolves beneath. */
void op_root_bind(const struct op *o) {
  const char *p = o->str[PA_PATH];
  int tree = has(o, PA_VALUE) ? idmap_tree_fd(o->num[PA_VALUE]) : -1;
  if (has(o, PA_VALUE) && tree < 0) die(EINVAL, "no id-mapped tree from op %llu", (unsigned long long)o->num[PA_VALUE]);
  if (tree >= 0) {
    /* The id-mapped copy is attached over "/" of our new mount namespace, and the tree's fd
     * is the root from here on: no path to the rootfs is walked by the container's process,
     * which in its user namespace may not be allowed to.  A mount stacked on the process's
     * root is not seen by path lookups, so host paths (bind sources) still resolve as
     * before; pivot_root then enters the tree through the fd. */
    if (move_mount(tree, "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) < 0) die(errno, "attach id-mapped rootfs `%s`", p);
    H.root_fd = tree;
    return;
  }
  if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) die(errno, "bind rootfs `%s`", p);
  H.root_fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (H.root_fd < 0) die(errno, "open rootfs `%s`", p);
}

void op_mount(const struct op *o) {
  const char *type = o->str[PA_FSTYPE], *target = o->str[PA_PATH];
  uint64_t flags = has(o, PA_FLAGS) ? o->num[PA_FLAGS] : 0;
  int mfd, create = 1;
  if (!strcmp(type, "bind")) {
    struct stat st;
    const char *src = o->str[PA_SOURCE];
    if (!src || stat(src, &st) < 0) die(src ? errno : EINVAL, "bind source `%s`", src ? src : "");
    create = S_ISDIR(st.st_mode) ? 1 : 2;
    mfd = has(o, PA_VALUE) ? idmap_tree_fd(o->num[PA_VALUE])
                           : open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | ((flags & 1) ? AT_RECURSIVE : 0));
    if (mfd < 0) die(errno, "clone mount `%s`", src);
    set_attrs(mfd, target, o->num[PA_RATTR_SET], o->num[PA_RATTR_CLR], 0, AT_RECURSIVE);
    set_attrs(mfd, target, o->num[PA_ATTR_SET], o->num[PA_ATTR_CLR], 0, 0);
  } else {
    mfd = fs_mount(type, o->str[PA_SOURCE], o->str[PA_DATA], o->num[PA_ATTR_SET]);
    set_attrs(mfd, target, o->num[PA_RATTR_SET], o->num[PA_RATTR_CLR], 0, AT_RECURSIVE);
  }
  attach(mfd, target, create);
  uint64_t prop = o->num[PA_PROPAGATION];
  set_attrs(mfd, target, 0, 0, prop & ~(uint64_t)MS_REC, (prop & MS_REC) ? AT_RECURSIVE : 0);
  close(mfd);
}

static int open_parent(const char *path, const char **base) {
  char dir[4096];
  const char *slash = strrchr(path, '/');
  if (!slash || slash[1] == 0 || (size_t)(slash - path) >= sizeof dir) { errno = EINVAL; return -1; }
  memcpy(dir, path, (size_t)(slash - path));
  dir[slash - path] = 0;
  *base = slash + 1;
  return open_in_root(*dir ? dir : "/", O_PATH | O_DIRECTORY, 1);
}

/* Device nodes: mknod where we may, else (in a user namespace) a bind of the host's node,
 * checked to be the device the config names. */
void op_mkdev(const struct op *o) {
  const char *path = o->str[PA_PATH], *base;
  dev_t dev = makedev((unsigned)o->num[PA_MAJOR], (unsigned)o->num[PA_MINOR]);
  mode_t mode = (mode_t)o->num[PA_MODE];
  if (has(o, PA_FLAGS) && (o->num[PA_FLAGS] & 1)) {
    struct stat st;
    int src = open(o->str[PA_SOURCE], O_PATH | O_CLOEXEC | O_NOFOLLOW);
    if (src < 0 || fstat(src, &st) < 0) die(errno, "host device `%s`", o->str[PA_SOURCE]);
    if ((st.st_mode & S_IFMT) != (mode & S_IFMT) || st.st_rdev != dev)
      die(EINVAL, "host `%s` is not device %u:%u", o->str[PA_SOURCE], major(dev), minor(dev));
    int tree = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (tree < 0) die(errno, "clone `%s`", o->str[PA_SOURCE]);
    attach(tree, path, 2);
    close(tree);
    close(src);
    return;
  }
  int pd = open_parent(path, &base);
  if (pd < 0) die(errno, "parent of device `%s`", path);
  if (unlinkat(pd, base, 0) < 0 && errno != ENOENT) die(errno, "replace `%s`", path);
  if (mknodat(pd, base, mode, dev) < 0) die(errno, "mknod `%s`", path);
  if (fchownat(pd, base, (uid_t)o->num[PA_UID], (gid_t)o->num[PA_GID], AT_SYMLINK_NOFOLLOW) < 0)
    die(errno, "chown `%s`", path);
  close(pd);
}

void op_symlink(const struct op *o) {
  const char *path = o->str[PA_PATH], *base;
  int pd = open_parent(path, &base);
  if (pd < 0) die(errno, "parent of `%s`", path);
  if (symlinkat(o->str[PA_SOURCE], pd, base) < 0) {
    char cur[4096];
    ssize_t n = readlinkat(pd, base, cur, sizeof cur - 1);
    if (errno != EEXIST || n < 0 || (cur[n] = 0, strcmp(cur, o->str[PA_SOURCE])))
      die(errno == EEXIST ? EEXIST : errno, "symlink `%s`", path);
  }
  close(pd);
}

/* pivot_root(".", ".") stacks the old root on the new one; it is made a slave before the lazy
 * unmount so that the unmount cannot propagate back to the host. */
void op_pivot(const struct op *o) {
  if (fchdir(H.root_fd) < 0) die(errno, "enter rootfs");
  if (o->num[PA_FLAGS] & 1) {
    if (mount(".", "/", NULL, MS_MOVE, NULL) < 0) die(errno, "move rootfs to `/`");
    if (chroot(".") < 0) die(errno, "chroot");
  } else {
    if (syscall(SYS_pivot_root, ".", ".") < 0) die(errno, "pivot_root");
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) die(errno, "make old root a slave");
    if (umount2(".", MNT_DETACH) < 0) die(errno, "detach old root");
  }
  if (chdir("/") < 0) die(errno, "chdir `/`");
  close(H.root_fd);
  H.root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (H.root_fd < 0) die(errno, "open new root");
}

/* The container's /dev/null, opened without following any symlink and checked to be the
 * null device, so that a container cannot get something else bound over a masked path
 * (CVE-2025-31133). */
static int devnull(void) {
  struct stat st;
  if (H.devnull_fd >= 0) return H.devnull_fd;
  H.devnull_fd = openat2_(H.root_fd, "/dev/null", O_PATH | O_NOFOLLOW, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
  if (H.devnull_fd < 0 || fstat(H.devnull_fd, &st) < 0) die(errno, "open `/dev/null` to mask with");
  if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) die(EINVAL, "`/dev/null` is not the null device");
  return H.devnull_fd;
}

/* Masked paths: /dev/null over files, an empty read-only tmpfs over directories. */
void op_mask(const struct op *o) {
  struct stat st;
  int t = open_in_root(o->str[PA_PATH], O_PATH, 0);
  if (t < 0 && errno == ENOENT) return;
  if (t < 0 || fstat(t, &st) < 0) die(errno, "mask `%s`", o->str[PA_PATH]);
  int m = S_ISDIR(st.st_mode)
    ? fs_mount("tmpfs", "tmpfs", "size=0,mode=0555", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)
    : open_tree(devnull(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (m < 0) die(errno, "mask `%s`", o->str[PA_PATH]);
  if (move_mount(m, "", t, "", MOVE_FDS) < 0) die(errno, "mask `%s`", o->str[PA_PATH]);
  close(m);
  close(t);
}

/* Read-only paths: a recursive read-only bind of the path over itself. */
void op_readonly(const struct op *o) {
  int t = open_in_root(o->str[PA_PATH], O_PATH, 0);
  if (t < 0 && errno == ENOENT) return;
  if (t < 0) die(errno, "read-only `%s`", o->str[PA_PATH]);
  int m = open_tree(t, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
  if (m < 0) die(errno, "clone `%s`", o->str[PA_PATH]);
  set_attrs(m, o->str[PA_PATH], MOUNT_ATTR_RDONLY, 0, 0, AT_RECURSIVE);
  if (move_mount(m, "", t, "", MOVE_FDS) < 0) die(errno, "read-only `%s`", o->str[PA_PATH]);
  close(m);
  close(t);
}

void op_remount_root(const struct op *o) {
  (void)o;
  struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
  if (syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, &a, sizeof a) < 0) die(errno, "make `/` read-only");
}
