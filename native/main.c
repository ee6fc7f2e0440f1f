/* moat-helper SYNC_FD
 *
 * Reads one Plan from SYNC_FD and executes its ops in order; CLONE splits the work between
 * this process (which reports the container's pid and then exits, or waits for it in the
 * foreground) and the container process, which runs the remaining ops and ends in EXEC. */
#include "helper.h"
#include "front.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;
typedef void (*op_fn)(const struct op *);

static const op_fn ops[PLAN_OP_MAX] = {
  [PLAN_OP_CGROUP_JOIN] = op_cgroup_join, [PLAN_OP_DEVICE_BPF] = op_device_bpf,
  [PLAN_OP_NS_JOIN] = op_ns_join, [PLAN_OP_CONNECT] = op_connect,
  [PLAN_OP_TIME_OFFSETS] = op_time_offsets, [PLAN_OP_IDMAP_TREE] = op_idmap_tree,
  [PLAN_OP_OVERLAY_TREE] = op_overlay_tree, [PLAN_OP_HOSTNAME] = op_hostname,
  [PLAN_OP_DOMAINNAME] = op_domainname, [PLAN_OP_ROOT_PROPAGATION] = op_root_propagation,
  [PLAN_OP_ROOT_BIND] = op_root_bind, [PLAN_OP_MOUNT] = op_mount, [PLAN_OP_MKDEV] = op_mkdev,
  [PLAN_OP_SYMLINK] = op_symlink, [PLAN_OP_OPEN_FIFO] = op_open_fifo, [PLAN_OP_HOOK] = op_hook,
  [PLAN_OP_PIVOT] = op_pivot, [PLAN_OP_SYSCTL] = op_sysctl, [PLAN_OP_MASK] = op_mask,
  [PLAN_OP_READONLY] = op_readonly, [PLAN_OP_REMOUNT_ROOT] = op_remount_root,
  [PLAN_OP_CONSOLE] = op_console, [PLAN_OP_RLIMIT] = op_rlimit,
  [PLAN_OP_OOM_SCORE_ADJ] = op_oom_score_adj, [PLAN_OP_PERSONALITY] = op_personality,
  [PLAN_OP_UMASK] = op_umask, [PLAN_OP_CHDIR] = op_chdir, [PLAN_OP_WAIT_START] = op_wait_start,
  [PLAN_OP_SET_USER] = op_set_user, [PLAN_OP_CAPS] = op_caps,
  [PLAN_OP_NO_NEW_PRIVS] = op_no_new_privs, [PLAN_OP_SECCOMP] = op_seccomp,
  [PLAN_OP_LANDLOCK] = op_landlock, [PLAN_OP_LOOPBACK_UP] = op_loopback_up,
  [PLAN_OP_LSM_ATTR] = op_lsm_attr, [PLAN_OP_UNSHARE] = op_unshare,
};

/* CVE-2019-5736: a container process must never get a writable handle on the helper binary
 * through /proc/<pid>/exe.  The helper runs from a sealed memfd copy of itself, so what
 * /proc/<pid>/exe shows cannot be written, and it is non-dumpable until exec. */
void ensure_sealed(char **argv) {
  int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0) die(errno, "open `/proc/self/exe`");
  int seals = fcntl(self, F_GET_SEALS);
  if (seals >= 0 && (seals & F_SEAL_WRITE)) { close(self); return; }
  struct stat st;
  int mem = memfd_create("moat-helper", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mem < 0 || fstat(self, &st) < 0) die(errno, "copy helper to memfd");
  for (off_t off = 0; off < st.st_size;) {
    ssize_t n = sendfile(mem, self, &off, (size_t)(st.st_size - off));
    if (n <= 0) die(errno, "copy helper to memfd");
  }
  if (fcntl(mem, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) die(errno, "seal helper memfd");
  close(self);
  fexecve(mem, argv, environ);
  die(errno, "re-exec helper from memfd");
}

static int read_last_cap(void) {
  char buf[16] = "";
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || read(fd, buf, sizeof buf - 1) <= 0) die(errno, "read `cap_last_cap`");
  close(fd);
  return atoi(buf);
}

/* Runs the Plan read from `fd` (the sync socket); never returns. */
__attribute__((noreturn)) void run_plan_fd(int fd) {
  H.sync_fd = fd;
  if (fcntl(H.sync_fd, F_SETFD, FD_CLOEXEC) < 0) { H.sync_fd = -1; die(errno, "sync fd %d", fd); }
  umask(0);
  struct plan p;
  read_plan(H.sync_fd, &p);
  H.last_cap = read_last_cap();
  H.stage = STAGE_PARENT;
  /* a detached container whose exit is to be recorded: the waiter is forked before any op
   * (before the container's cgroups are joined), see waiter.c */
  for (size_t i = 0; i < p.nops; i++)
    if (p.ops[i].type == PLAN_OP_CLONE && p.ops[i].num[PA_MODE] == 0 && has(&p.ops[i], PA_PATH)) start_waiter(p.ops[i].str[PA_PATH]);
  ns_preopen(&p);
  for (size_t i = 0; i < p.nops; i++) {
    const struct op *o = &p.ops[i];
    H.op_index = (int)i;
    if (o->type == PLAN_OP_CLONE) op_clone(o);
    else if (o->type == PLAN_OP_SYNC) sync_point(o->str[PA_NAME]);
    else if (o->type == PLAN_OP_EXEC) op_exec(o);
    else ops[o->type](o);
  }
  die(EINVAL, "plan ended without exec");
}

int main(int argc, char **argv) {
  /* the CLI front of bin/moat-oci (front.c): no container runs in it, so it needs neither the
   * sealed re-exec nor the plan machinery, and it execs Node on anything it does not serve */
  if (argc >= 3 && !strcmp(argv[1], "front")) return front_main(argc, argv);
  int serving = (argc == 3 || argc == 4) && !strcmp(argv[1], "serve") && *argv[2];
  int spare = argc == 3 && !strcmp(argv[1], "spare") && !strcmp(argv[2], "3");
  if ((argc != 2 || !*argv[1]) && !serving && !spare) {
    fprintf(stderr, "moat-helper: executes plans for moat; not for direct use\n");
    return 2;
  }
  H.stage = STAGE_PLAN;
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  ensure_sealed(argv); /* before the sync fd is made close-on-exec: it must survive the re-exec */
  if (spare) spare_main(3); /* a spare of the fork server (server.c): its SPAWN, then a Plan */
  if (serving) {
    /* a fork server (server.c): its children are this sealed, non-dumpable image */
    char *end;
    long ctrl = strtol(argv[2], &end, 10);
    if (*end || ctrl < 3 || ctrl > 1 << 20) die(EINVAL, "control fd `%s`", argv[2]);
    if (fcntl((int)ctrl, F_SETFD, FD_CLOEXEC) < 0) die(errno, "control fd %s", argv[2]);
    serve((int)ctrl, argc == 4 ? argv[3] : NULL);
  }
  run_plan_fd(atoi(argv[1]));
}
