/* Ops on the container process itself: names, sysctls, limits, the start fifo, hooks, console. */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* A new network namespace starts with `lo` down; bring it up, as crun does, so that
 * loopback-only containers can talk to themselves. */
void op_loopback_up(const struct op *o) {
  (void)o;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) die(errno, "read flags of `lo`");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) die(errno, "bring `lo` up");
  close(s);
}

void op_hostname(const struct op *o) {
  if (sethostname(o->str[PA_NAME], strlen(o->str[PA_NAME])) < 0) die(errno, "set hostname `%s`", o->str[PA_NAME]);
}

void op_domainname(const struct op *o) {
  if (setdomainname(o->str[PA_NAME], strlen(o->str[PA_NAME])) < 0) die(errno, "set domainname `%s`", o->str[PA_NAME]);
}

/* The key was checked by TypeScript (namespaced, no `..`); written through the container's
 * own /proc so that it lands in the container's namespaces. */
void op_sysctl(const struct op *o) {
  char path[512];
  if (snprintf(path, sizeof path, "/proc/sys/%s", o->str[PA_NAME]) >= (int)sizeof path) die(ENAMETOOLONG, "sysctl `%s`", o->str[PA_NAME]);
  for (char *c = path + 10; *c; c++) if (*c == '.') *c = '/';
  int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  size_t n = strlen(o->str[PA_DATA]);
  if (fd < 0 || write(fd, o->str[PA_DATA], n) != (ssize_t)n) die(errno, "sysctl `%s`", o->str[PA_NAME]);
  close(fd);
}

void op_rlimit(const struct op *o) {
  struct rlimit r = { .rlim_cur = o->num[PA_SOFT], .rlim_max = o->num[PA_HARD] };
  if (setrlimit((int)o->num[PA_VALUE], &r) < 0) die(errno, "set rlimit %d", (int)o->num[PA_VALUE]);
}

void op_oom_score_adj(const struct op *o) {
  char v[32];
  int n = snprintf(v, sizeof v, "%lld", (long long)(int64_t)o->num[PA_VALUE]);
  int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, v, (size_t)n) != n) die(errno, "set oom_score_adj %s", v);
  close(fd);
}

void op_personality(const struct op *o) {
  if (personality((unsigned long)o->num[PA_VALUE]) < 0) die(errno, "personality %#llx", (unsigned long long)o->num[PA_VALUE]);
}

void op_umask(const struct op *o) { umask((mode_t)o->num[PA_VALUE]); }

/* cwd is resolved beneath the root without magic links, so a leaked fd cannot become the
 * working directory (CVE-2024-21626). */
void op_chdir(const struct op *o) {
  int fd = open_in_root(o->str[PA_PATH], O_PATH | O_DIRECTORY, 1);
  if (fd < 0 || fchdir(fd) < 0) die(errno, "cwd `%s`", o->str[PA_PATH]);
  close(fd);
}

/* The exec fifo is made and opened by the helper before clone, with the runtime's
 * credentials (the container's root may be an unprivileged user of a user namespace).  It is
 * opened read-write (Linux keeps such an open from blocking); `start` writes one byte to it,
 * and the container process, which inherits the fd, waits for that byte. */
void op_open_fifo(const struct op *o) {
  struct stat st;
  if (mkfifo(o->str[PA_PATH], 0600) < 0) die(errno, "make exec fifo `%s`", o->str[PA_PATH]);
  H.fifo_fd = open(o->str[PA_PATH], O_RDWR | O_CLOEXEC);
  if (H.fifo_fd < 0 || fstat(H.fifo_fd, &st) < 0) die(errno, "open exec fifo `%s`", o->str[PA_PATH]);
  if (!S_ISFIFO(st.st_mode)) die(EINVAL, "`%s` is not a fifo", o->str[PA_PATH]);
}

void op_wait_start(const struct op *o) {
  (void)o;
  char b;
  if (send_msg(MSG_READY, NULL, 0)) die(EPIPE, "report ready");
  /* TypeScript's `create` returns now; from here errors go to stderr */
  close(H.sync_fd);
  H.sync_fd = -1;
  /* no exec fifo in the Plan (a foreground `run`): nothing to wait for */
  if (H.fifo_fd < 0) return;
  ssize_t r;
  do r = read(H.fifo_fd, &b, 1); while (r < 0 && errno == EINTR);
  if (r != 1) die(r < 0 ? errno : EPIPE, "wait for start");
  close(H.fifo_fd);
  H.fifo_fd = -1;
}

static void wait_hook(pid_t pid, const struct op *o) {
  int status;
  if (has(o, PA_TIMEOUT) && o->num[PA_TIMEOUT] > 0) {
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd < 0) { kill(pid, SIGKILL); die(errno, "watch %s hook `%s`", o->str[PA_NAME], o->str[PA_PATH]); }
    struct pollfd p = { .fd = pfd, .events = POLLIN };
    /* the parser allows up to a day; poll takes an int of milliseconds */
    uint64_t secs = o->num[PA_TIMEOUT] > 86400 ? 86400 : o->num[PA_TIMEOUT];
    int r;
    do r = poll(&p, 1, (int)(secs * 1000)); while (r < 0 && errno == EINTR);
    if (r == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      die(ETIMEDOUT, "%s hook `%s` timed out after %llus", o->str[PA_NAME], o->str[PA_PATH], (unsigned long long)o->num[PA_TIMEOUT]);
    }
    close(pfd);
  }
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) die(errno, "wait for %s hook `%s`", o->str[PA_NAME], o->str[PA_PATH]);
  if (WIFSIGNALED(status)) die(0, "%s hook `%s` killed by signal %d", o->str[PA_NAME], o->str[PA_PATH], WTERMSIG(status));
  if (WEXITSTATUS(status)) die(0, "%s hook `%s` exited with status %d", o->str[PA_NAME], o->str[PA_PATH], WEXITSTATUS(status));
}

/* Runs a hook in the container's namespaces with the state document on its stdin. */
void op_hook(const struct op *o) {
  int in[2];
  if (pipe2(in, O_CLOEXEC) < 0) die(errno, "pipe");
  pid_t pid = fork();
  if (pid < 0) die(errno, "fork %s hook", o->str[PA_NAME]);
  if (pid == 0) {
    static const char *none[] = { NULL };
    const char *argv0[] = { o->str[PA_PATH], NULL };
    dup2(in[0], 0);
    execve(o->str[PA_PATH], (char **)(o->nargs ? o->args : argv0), (char **)(o->nenv ? o->env : none));
    dprintf(2, "moat: exec %s hook `%s`: %s\n", o->str[PA_NAME], o->str[PA_PATH], strerror(errno));
    _exit(127);
  }
  close(in[0]);
  signal(SIGPIPE, SIG_IGN);
  if (H.state_len && write(in[1], H.state, H.state_len) < 0 && errno != EPIPE) die(errno, "write hook state");
  signal(SIGPIPE, SIG_DFL);
  close(in[1]);
  wait_hook(pid, o);
}

/* A pty from the container's own devpts: the slave becomes /dev/console and stdio, the
 * master goes to whoever holds the console socket. */
void op_console(const struct op *o) {
  int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC), unlock = 0, n;
  if (m < 0) die(errno, "open `/dev/ptmx`");
  if (ioctl(m, TIOCSPTLCK, &unlock) < 0 || ioctl(m, TIOCGPTN, &n) < 0) die(errno, "unlock pty");
  int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0) die(errno, "open pty peer");
  if (has(o, PA_ROWS) && has(o, PA_COLS)) {
    struct winsize ws = { .ws_row = (unsigned short)o->num[PA_ROWS], .ws_col = (unsigned short)o->num[PA_COLS] };
    if (ioctl(m, TIOCSWINSZ, &ws) < 0) die(errno, "set console size");
  }
  char pts[64];
  snprintf(pts, sizeof pts, "/dev/pts/%d", n);
  int src = open_in_root(pts, O_PATH, 0), dst = open_in_root("/dev/console", O_PATH, 2);
  if (src < 0 || dst < 0) die(errno, "console `%s`", pts);
  int tree = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (tree < 0 || move_mount(tree, "", dst, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    die(errno, "bind `%s` to `/dev/console`", pts);
  close(tree); close(src); close(dst);
  if (H.console_sock < 0) die(EINVAL, "a terminal was asked for but there is no console socket");
  if (send_fd(H.console_sock, m, "/dev/ptmx", 9) < 0) die(errno, "send pty master");
  close(H.console_sock);
  H.console_sock = -1;
  close(m);
  if (setsid() < 0) die(errno, "setsid");
  if (ioctl(s, TIOCSCTTY, 0) < 0) die(errno, "set controlling terminal");
  for (int fd = 0; fd < 3; fd++) if (dup2(s, fd) < 0) die(errno, "dup pty");
  close(s);
}
