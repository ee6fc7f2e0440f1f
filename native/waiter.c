/* The exit waiter of a detached container.  A detached container's first process outlives
 * the helper that made it; when the helper exits, the kernel hands the orphan to its nearest
 * ancestor that is a child subreaper.  So, before anything joins the container's cgroups, the
 * helper forks: the original process only relays the plan executor's exit status to the
 * runtime (which waits for it), a small waiter (this file) becomes a subreaper and forks the
 * executor.  When the container's process ends the waiter reaps it, writes its status
 * (`N`, 128+signal for a signal, as `run` reports it) to the file the clone op names, and
 * exits.  The waiter stays in the runtime's cgroups, never the container's, holds no fd of
 * the runtime's, and writes through a directory fd opened now: a state dir deleted and made
 * again for a later container never gets this container's status. */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int status_code(int st) {
  return WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
}

static void write_status(int dir, const char *name, int code) {
  char tmp[300], buf[16];
  snprintf(tmp, sizeof tmp, ".%s.tmp", name);
  int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return;
  int n = snprintf(buf, sizeof buf, "%d\n", code);
  int ok = write(fd, buf, (size_t)n) == n;
  close(fd);
  if (!ok || renameat(dir, tmp, dir, name) < 0) unlinkat(dir, tmp, 0);
}

/* the write end, in the plan executor, of the pipe that tells the waiter the pid of the
 * container's first process (-1 elsewhere and once used) */
static int pid_pipe = -1;

void waiter_report(pid_t pid) {
  if (pid_pipe < 0) return;
  if (pid > 0) (void)!write(pid_pipe, &pid, sizeof pid);
  close(pid_pipe);
  pid_pipe = -1;
}

/* closes every fd but the three given (in any order) */
static void close_all_but(int a, int b, int c) {
  int k[3] = { a, b, c }, t;
  for (int i = 0; i < 3; i++) for (int j = i + 1; j < 3; j++) if (k[j] < k[i]) t = k[i], k[i] = k[j], k[j] = t;
  unsigned lo = 0;
  for (int i = 0; i < 3; i++) {
    if ((unsigned)k[i] > lo) syscall(SYS_close_range, lo, (unsigned)k[i] - 1, 0);
    lo = (unsigned)k[i] + 1;
  }
  syscall(SYS_close_range, lo, ~0U, 0);
}

void start_waiter(const char *path) {
  char copy[4096], copy2[4096];
  if (strlen(path) >= sizeof copy) die(ENAMETOOLONG, "exit status file");
  strcpy(copy, path);
  strcpy(copy2, path);
  const char *name = basename(copy2);
  int dir = open(dirname(copy), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) die(errno, "open the dir of `%s`", path);
  int relay[2], pids[2];
  if (pipe2(relay, O_CLOEXEC) < 0 || pipe2(pids, O_CLOEXEC) < 0) die(errno, "pipe");
  pid_t w = fork();
  if (w < 0) die(errno, "fork the exit waiter");
  if (w > 0) {
    /* the runtime's child: exit as the plan executor does */
    int code = 1;
    close(relay[1]);
    close(pids[0]), close(pids[1]);
    close(dir);
    if (H.sync_fd >= 0) { close(H.sync_fd); H.sync_fd = -1; }
    while (read(relay[0], &code, sizeof code) < 0 && errno == EINTR) {}
    _exit(code);
  }
  close(relay[0]);
  if (setsid() < 0) die(errno, "setsid");
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) die(errno, "become a child subreaper");
  pid_t exec = fork();
  if (exec < 0) die(errno, "fork the plan executor");
  if (exec == 0) {
    close(relay[1]);
    close(pids[0]);
    close(dir);
    pid_pipe = pids[1]; /* the clone op writes its child's pid here (waiter_report) */
    return; /* the plan goes on here */
  }
  close(pids[1]);
  /* the waiter: nothing of the runtime's (its socket, stdio) stays open here */
  close_all_but(relay[1], dir, pids[0]);
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) { dup2(null, 0); dup2(null, 1); dup2(null, 2); if (null > 2) close(null); }
  signal(SIGHUP, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  int st = 0, code;
  while (waitpid(exec, &st, 0) < 0 && errno == EINTR) {}
  code = status_code(st);
  /* the container's first process: its pid, from the executor (none if create failed) */
  pid_t first = 0;
  ssize_t n;
  do n = read(pids[0], &first, sizeof first); while (n < 0 && errno == EINTR);
  if (n != sizeof first || code != 0) first = 0;
  close(pids[0]);
  (void)!write(relay[1], &code, sizeof code);
  close(relay[1]);
  /* the container's processes, handed to us when the executor exited: only the first one's
   * status is the container's; orphans it leaves (a daemon's double fork) are reaped too,
   * whenever they end, but their status is nobody's */
  for (;;) {
    pid_t c = waitpid(-1, &st, 0);
    if (c < 0 && errno == EINTR) continue;
    if (c < 0) break;
    if (first > 0 && c == first) write_status(dir, name, status_code(st));
  }
  _exit(0);
}
