/* Ops that run in the helper before the container process exists: cgroup placement, device
 * programs, joining namespaces, connecting host sockets, and the clone itself. */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int ns_fds[PLAN_MAX_OPS];

static void write_file(const char *path, const char *data, size_t len) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die(errno, "open `%s`", path);
  if (write(fd, data, len) != (ssize_t)len) die(errno, "write `%s`", path);
  close(fd);
}

/* MODE 1: the cgroup's file opened now (in the runtime's namespaces, with its credentials:
 * the kernel checks a migration against the opener's) for the process the next clone makes,
 * which moves itself in before anything else (join_child_cgroups) */
static int child_cgroup_fd[PLAN_MAX_OPS];
static const char *child_cgroup_path[PLAN_MAX_OPS];
static int child_cgroup_op[PLAN_MAX_OPS]; /* the op's index: an error names its origin */
static size_t n_child_cgroups;
/* the cgroup2 dir among them, opened for clone3's CLONE_INTO_CGROUP: the child is born
 * there and skips its cgroup.procs write (index v2_child_cgroup), which takes the kernel's
 * threadgroup lock for writing and so waits for an RCU grace period (~0.3 ms here) */
static int v2_dir_fd = -1;
static ssize_t v2_child_cgroup = -1;
static int born_in_v2;

/* MODE 0: puts the helper (and so every process it clones) into the container's cgroup.
 * MODE 1: only opens it for the container process (above).  Either way the container's
 * process is in the cgroup before its first op runs. */
void op_cgroup_join(const struct op *o) {
  char path[4096], pid[32];
  if (snprintf(path, sizeof path, "%s/cgroup.procs", o->str[PA_PATH]) >= (int)sizeof path) die(ENAMETOOLONG, "cgroup `%s`", o->str[PA_PATH]);
  if (has(o, PA_MODE) && o->num[PA_MODE] == 1) {
    /* a v1 hierarchy's `tasks`: a single-threaded process writing "0" there moves itself
     * without the kernel's global threadgroup lock, whose write side waits for an RCU grace
     * period (measured here: 0.15 ms against 1-17 ms for a pid written to cgroup.procs);
     * a cgroup2 dir has no `tasks`: its cgroup.procs */
    char tasks[4096];
    snprintf(tasks, sizeof tasks, "%s/tasks", o->str[PA_PATH]);
    const char *file = tasks;
    int fd = open(tasks, O_WRONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
      file = path, fd = open(path, O_WRONLY | O_CLOEXEC);
      if (fd >= 0 && v2_dir_fd < 0 && (v2_dir_fd = open(o->str[PA_PATH], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
        v2_child_cgroup = (ssize_t)n_child_cgroups;
    }
    if (fd < 0) die(errno, "open `%s`", file);
    child_cgroup_op[n_child_cgroups] = H.op_index;
    child_cgroup_path[n_child_cgroups] = o->str[PA_PATH];
    child_cgroup_fd[n_child_cgroups++] = fd;
    return;
  }
  int n = snprintf(pid, sizeof pid, "%d", getpid());
  write_file(path, pid, (size_t)n);
  H.in_cgroups = 1;
}

/* In the cloned container process, first thing (single-threaded, before its first op): moves
 * itself into the cgroups opened by MODE 1 cgroup_join ops.  In the parent: drops the fds. */
static void join_child_cgroups(int child) {
  if (v2_dir_fd >= 0) close(v2_dir_fd), v2_dir_fd = -1;
  for (size_t i = 0; i < n_child_cgroups; i++) {
    if (child && !(born_in_v2 && (ssize_t)i == v2_child_cgroup) && write(child_cgroup_fd[i], "0", 1) != 1) {
      H.op_index = child_cgroup_op[i];
      die(errno, "move the container process into cgroup `%s`", child_cgroup_path[i]);
    }
    close(child_cgroup_fd[i]);
  }
  n_child_cgroups = 0;
}

/* A namespace the container process makes itself, after its cgroups were joined: a cgroup
 * namespace is rooted at the cgroups its maker is in when it is made. */
void op_unshare(const struct op *o) {
  if (unshare((int)o->num[PA_NSTYPE]) < 0) die(errno, "unshare namespace %#llx", (unsigned long long)o->num[PA_NSTYPE]);
}

/* Loads a BPF_PROG_TYPE_CGROUP_DEVICE program; its fd (close-on-exec), or -1 with errno. */
int load_device_prog(const uint8_t *insns, size_t len, char *log, size_t logsize) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = (uint64_t)(uintptr_t)insns;
  a.insn_cnt = (uint32_t)(len / 8);
  a.license = (uint64_t)(uintptr_t)"Apache-2.0";
  if (log && logsize) {
    log[0] = 0;
    a.log_buf = (uint64_t)(uintptr_t)log;
    a.log_size = (uint32_t)logsize;
    a.log_level = 1;
  }
  return (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
}

/* The helper server's program fd, if any, goes before anything is cloned. */
void drop_server_prog(void) {
  if (H.dev_prog_fd < 0) return;
  close(H.dev_prog_fd);
  H.dev_prog_fd = -1;
  H.dev_prog_insns = NULL;
  H.dev_prog_len = 0;
}

/* Attaches the container's device program to its cgroup2 directory.  A helper forked by the
 * server may hold the same program already loaded (and verified) there: it is used when its
 * instructions are byte for byte the Plan's; otherwise the program is loaded here. */
void op_device_bpf(const struct op *o) {
  if (o->nbytes == 0 || o->nbytes % 8) die(EINVAL, "device program: %zu bytes is not whole instructions", o->nbytes);
  static char log[65536];
  int prog;
  if (H.dev_prog_fd >= 0 && H.dev_prog_len == o->nbytes && !memcmp(H.dev_prog_insns, o->bytes, o->nbytes)) prog = H.dev_prog_fd;
  else {
    void *insns = malloc(o->nbytes);
    if (!insns) die(ENOMEM, "device program");
    memcpy(insns, o->bytes, o->nbytes);
    prog = load_device_prog(insns, o->nbytes, log, sizeof log);
    if (prog < 0) die(errno, "load device program: %.400s", log);
    free(insns);
  }
  int dir = open(o->str[PA_PATH], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) die(errno, "open cgroup `%s`", o->str[PA_PATH]);
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.target_fd = (uint32_t)dir;
  a.attach_bpf_fd = (uint32_t)prog;
  a.attach_type = BPF_CGROUP_DEVICE;
  a.attach_flags = BPF_F_ALLOW_MULTI;
  if (syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof a) < 0) die(errno, "attach device program to `%s`", o->str[PA_PATH]);
  close(dir);
  if (prog != H.dev_prog_fd) close(prog);
  drop_server_prog();
}

/* Opens every namespace to join up front, in the runtime's mount namespace, so that joining
 * one (the mount namespace above all) cannot change what a later path refers to. */
void ns_preopen(struct plan *p) {
  for (size_t i = 0; i < p->nops; i++) {
    ns_fds[i] = -1;
    if (p->ops[i].type != PLAN_OP_NS_JOIN) continue;
    H.op_index = (int)i;
    ns_fds[i] = open(p->ops[i].str[PA_PATH], O_RDONLY | O_CLOEXEC);
    if (ns_fds[i] < 0) die(errno, "open namespace `%s`", p->ops[i].str[PA_PATH]);
  }
}

static int joined_mnt;

void op_ns_join(const struct op *o) {
  if (setns(ns_fds[H.op_index], (int)o->num[PA_NSTYPE]) < 0) die(errno, "join namespace `%s`", o->str[PA_PATH]);
  close(ns_fds[H.op_index]);
  if (o->num[PA_NSTYPE] == CLONE_NEWUSER) H.userns = 1;
  if (o->num[PA_NSTYPE] == CLONE_NEWNS) joined_mnt = 1;
}

/* Connects a host unix socket (console socket, seccomp listener) while host paths resolve. */
void op_connect(const struct op *o) {
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  const char *path = o->str[PA_PATH];
  /* a host path: after joining a container's mount namespace it would resolve in there */
  if (joined_mnt) die(EINVAL, "socket `%s` after joining a mount namespace", path);
  if (strlen(path) >= sizeof sa.sun_path) die(ENAMETOOLONG, "socket path `%s`", path);
  strcpy(sa.sun_path, path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) die(errno, "connect `%s`", path);
  if (!strcmp(o->str[PA_NAME], "console")) H.console_sock = s;
  else if (!strcmp(o->str[PA_NAME], "seccomp")) H.seccomp_sock = s;
  else die(EINVAL, "unknown socket role `%s`", o->str[PA_NAME]);
}

/* A time namespace must get its offsets before any process enters it: unshare it for our
 * children, write the offsets, then clone. */
void op_time_offsets(const struct op *o) {
  if (unshare(CLONE_NEWTIME) < 0) die(errno, "unshare time namespace");
  write_file("/proc/self/timens_offsets", o->str[PA_DATA], strlen(o->str[PA_DATA]));
}

static volatile pid_t child_pid;
static void forward(int sig) { if (child_pid > 0) kill(child_pid, sig); }

/* Runs newuidmap/newgidmap (setuid, from the uidmap package) for an unprivileged runtime: it
 * checks the ranges against /etc/subuid and /etc/subgid and writes the map.  `map` is the
 * kernel's format ("inside outside count\n"...); the tool takes the same numbers as args. */
static void run_newidmap(const char *tool, pid_t pid, const char *map) {
  char *argv[3 + 3 * 340 + 1], buf[4096], pidstr[16];
  size_t n = strlen(map), argc = 0;
  if (n >= sizeof buf) die(E2BIG, "id map for %s", tool);
  memcpy(buf, map, n + 1);
  snprintf(pidstr, sizeof pidstr, "%d", pid);
  argv[argc++] = (char *)tool;
  argv[argc++] = pidstr;
  for (char *save = NULL, *t = strtok_r(buf, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
    if (argc >= sizeof argv / sizeof *argv - 1) die(E2BIG, "id map for %s", tool);
    argv[argc++] = t;
  }
  argv[argc] = NULL;
  pid_t c = fork();
  if (c < 0) die(errno, "fork for %s", tool);
  if (c == 0) {
    /* stdout/stderr stay the runtime's: the tool's own message says what is wrong */
    char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
    execve(tool, argv, envp);
    _exit(127);
  }
  int st;
  while (waitpid(c, &st, 0) < 0)
    if (errno != EINTR) die(errno, "wait for %s", tool);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    die(EPERM, "%s %d failed (status %d): check the ranges in /etc/subuid and /etc/subgid", tool, pid, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static void write_maps(pid_t pid, const struct op *o) {
  char path[64];
  /* VALUE bit 2: an unprivileged runtime with subordinate ranges: the setuid tools write both */
  if (has(o, PA_VALUE) && (o->num[PA_VALUE] & 4)) {
    if (has(o, PA_UID_MAP)) run_newidmap("/usr/bin/newuidmap", pid, o->str[PA_UID_MAP]);
    if (has(o, PA_GID_MAP)) run_newidmap("/usr/bin/newgidmap", pid, o->str[PA_GID_MAP]);
    return;
  }
  if (has(o, PA_VALUE) && (o->num[PA_VALUE] & 1)) {
    snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
    write_file(path, "deny", 4);
  }
  if (has(o, PA_UID_MAP)) {
    snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
    write_file(path, o->str[PA_UID_MAP], strlen(o->str[PA_UID_MAP]));
  }
  if (has(o, PA_GID_MAP)) {
    snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
    write_file(path, o->str[PA_GID_MAP], strlen(o->str[PA_GID_MAP]));
  }
}

static int held_mnt_ns = -1;

__attribute__((noreturn)) static void wait_child(pid_t pid) {
  static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT };
  struct sigaction sa = { .sa_handler = forward, .sa_flags = SA_RESTART };
  child_pid = pid;
  for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) sigaction(sigs[i], &sa, NULL);
  /* the status is read without reaping (WNOWAIT) and sent to TypeScript first: the reap
   * (it frees the container's pid namespace) and this process's own exit then run while
   * TypeScript goes on to delete, not before it learns of the exit (~1 ms here) */
  siginfo_t si;
  for (;;) {
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0) break;
    if (errno != EINTR) die(errno, "wait for container process");
  }
  int code = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
  child_pid = 0; /* reaped below: a signal forwarded after that could reach a reused pid */
  if (H.sync_fd >= 0) {
    uint8_t p[4] = { (uint8_t)code, (uint8_t)(code >> 8), (uint8_t)(code >> 16), (uint8_t)(code >> 24) };
    signal(SIGPIPE, SIG_IGN); /* TypeScript gone: the status is the exit code alone */
    (void)send_msg(MSG_EXITED, p, 4);
    close(H.sync_fd);
    H.sync_fd = -1;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) die(errno, "wait for container process");
  if (held_mnt_ns >= 0) close(held_mnt_ns); /* the container's mount tree goes here */
  _exit(code);
}

/* Creates the container process in its new namespaces.  Returns in the child only.  The child
 * waits on `go` until the parent has written its id maps, so nothing in the child runs as an
 * unmapped user.  `go` carries the child's pid (host view), which the child reports itself
 * (MSG_PID) as its first message: TypeScript learns the pid before anything else the child
 * says, and the child never waits on this process's report.  Sent by the parent after `go`
 * instead, that report woke the helper server on the parent's CPU, which preempted the
 * parent before its `go`; the child, woken later behind Node (busy with the pid's state
 * record), waited up to ~1.2 ms for a CPU in a run of ~16 ms (ftrace, this 2-CPU host). */
int op_clone(const struct op *o) {
  int go[2], relay[2] = { -1, -1 };
  if (pipe2(go, O_CLOEXEC) < 0) die(errno, "pipe");
  /* VALUE bit 1: foreground terminal, the pty master comes back to us to relay */
  if (o->num[PA_MODE] == 1 && (o->num[PA_VALUE] & 2) && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, relay) < 0)
    die(errno, "socketpair");
  /* VALUE bits 0 and 2: an unprivileged runtime writes the child's maps, which it may only
   * if the child is dumpable (else /proc/PID/{uid_map,setgroups} belong to root): the child
   * is cloned dumpable and turns it off again as soon as its maps are written */
  int rootless = has(o, PA_VALUE) && (o->num[PA_VALUE] & 5);
  if (rootless && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) die(errno, "set dumpable for the id maps");
  drop_server_prog(); /* nothing of the server's reaches the container process */
  pid_t pid = -1;
  if (v2_dir_fd >= 0) {
    /* born in its cgroup2 dir (Linux 5.7); any failure (no clone3, a dir that cannot take
     * it) leaves it to clone and the child's own cgroup.procs write, which reports why */
    struct { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup; } ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = (uint64_t)o->num[PA_FLAGS] | 0x200000000ULL; /* CLONE_INTO_CGROUP */
    ca.exit_signal = SIGCHLD;
    ca.cgroup = (uint64_t)v2_dir_fd;
    pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
    if (pid >= 0) born_in_v2 = 1;
  }
  if (pid < 0) pid = (pid_t)syscall(SYS_clone, (unsigned long)o->num[PA_FLAGS] | SIGCHLD, 0, 0, 0, 0);
  if (pid != 0 && rootless) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (pid < 0) die(errno, "clone with flags %#llx", (unsigned long long)o->num[PA_FLAGS]);
  if (pid == 0) {
    close(go[1]);
    waiter_report(0);
    H.stage = STAGE_CHILD;
    /* the namespaces the clone made were allocated by the parent, in the runtime's cgroups,
     * as crun's are (docs/performance.md, memory per container); from here on everything
     * this process allocates is the container's */
    join_child_cgroups(1);
    if (relay[0] >= 0) { close(relay[0]); H.console_sock = relay[1]; }
    uint8_t g[5];
    if (read(go[0], g, sizeof g) != (ssize_t)sizeof g || g[0] != 'g') _exit(1);
    close(go[0]);
    /* the pipe's one write of 5 bytes is read whole (PIPE_BUF); a send failing here means
     * the runtime is gone: nothing is to run for it */
    if (send_msg(MSG_PID, g + 1, 4)) _exit(1);
    if (rootless && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) die(errno, "clear dumpable");
    if (o->num[PA_FLAGS] & CLONE_NEWUSER) {
      H.userns = 1;
      /* become root of the new user namespace where 0 is mapped; where it is not, the
       * process keeps its full capabilities in the namespace and SET_USER picks the ids */
      if (setresgid(0, 0, 0) < 0 && errno != EINVAL) die(errno, "setresgid in user namespace");
      if (setresuid(0, 0, 0) < 0 && errno != EINVAL) die(errno, "setresuid in user namespace");
    }
    return 0;
  }
  close(go[0]);
  if (relay[1] >= 0) close(relay[1]);
  if (H.fifo_fd >= 0) { close(H.fifo_fd); H.fifo_fd = -1; }
  /* the container process has its own copies: ours would keep the console and the seccomp
   * agent from ever seeing end-of-file */
  if (H.console_sock >= 0) { close(H.console_sock); H.console_sock = -1; }
  if (H.seccomp_sock >= 0) { close(H.seccomp_sock); H.seccomp_sock = -1; }
  join_child_cgroups(0);
  /* a foreground helper holds the container's mount namespace until it has told TypeScript
   * of the exit (wait_child): the container's last exit then skips unmounting its whole
   * tree, which waits for RCU, and this process does it after the report, when it exits.
   * Not after joining a mount namespace: /proc is then the one mounted there (the
   * container's), and this process is in that namespace anyway */
  if (o->num[PA_MODE] == 1 && !H.in_cgroups && relay[0] < 0 && !joined_mnt) {
    char ns[64];
    snprintf(ns, sizeof ns, "/proc/%d/ns/mnt", (int)pid);
    held_mnt_ns = open(ns, O_RDONLY | O_CLOEXEC);
  }
  write_maps(pid, o);
  uint8_t g[5] = { 'g', (uint8_t)pid, (uint8_t)(pid >> 8), (uint8_t)(pid >> 16), (uint8_t)(pid >> 24) };
  waiter_report(pid);
  /* a container process that failed before its start (its cgroup join) has reported why and
   * is gone: EPIPE here, not a SIGPIPE that would hide the helper's status */
  signal(SIGPIPE, SIG_IGN);
  ssize_t gw = write(go[1], g, sizeof g);
  int ge = errno;
  signal(SIGPIPE, SIG_DFL);
  if (gw != (ssize_t)sizeof g) die(ge, "start container process (it ended before its start)");
  close(go[1]);
  if (o->num[PA_MODE] == 0) _exit(0);
  /* foreground: stay the parent, forward signals, exit with the container's status, which
   * goes to TypeScript first (MSG_EXITED) unless this process is in the container's cgroups
   * (mode 0 joins): TypeScript's delete must not find it there; or the terminal is relayed */
  if (H.in_cgroups || relay[0] >= 0) {
    close(H.sync_fd);
    H.sync_fd = -1;
  }
  if (relay[0] >= 0) relay_and_wait(pid, relay[0]);
  wait_child(pid);
}
