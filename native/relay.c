/* Foreground `run` with a terminal and no console socket: the helper parent receives the pty
 * master from the container process and copies between it and its own stdio, like runc does. */
#include "helper.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int recv_fd(int sock) {
  char data[64], cbuf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = { .iov_base = data, .iov_len = sizeof data };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  ssize_t r;
  do r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); while (r < 0 && errno == EINTR);
  struct cmsghdr *c = r > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
  if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

static int copy(int from, int to) {
  char buf[16384];
  ssize_t n = read(from, buf, sizeof buf);
  if (n <= 0) return n < 0 && errno == EINTR ? 1 : 0;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = write(to, buf + off, (size_t)(n - off));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return 0;
    off += w;
  }
  return 1;
}

static int exit_code(int status) { return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status); }

void relay_and_wait(pid_t pid, int sock) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGWINCH);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  int master = recv_fd(sock);
  close(sock);
  struct termios saved;
  int raw = master >= 0 && isatty(0) && tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    cfmakeraw(&t);
    tcsetattr(0, TCSANOW, &t);
    struct winsize ws;
    if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
  }
  int in_open = master >= 0, out_open = master >= 0, status = 0, exited = 0;
  while (!exited || out_open) {
    struct pollfd p[3] = { { sfd, POLLIN, 0 }, { in_open ? 0 : -1, POLLIN, 0 }, { out_open ? master : -1, POLLIN, 0 } };
    if (poll(p, 3, exited ? 0 : -1) <= 0) { if (exited) break; continue; }
    if (p[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) == sizeof si && si.ssi_signo == SIGWINCH && raw) {
        struct winsize ws;
        if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
      }
      if (waitpid(pid, &status, WNOHANG) == pid) exited = 1;
    }
    if (p[1].revents & (POLLIN | POLLHUP) && !copy(0, master)) in_open = 0;
    if (p[2].revents & (POLLIN | POLLHUP | POLLERR) && !copy(master, 1)) out_open = 0;
  }
  if (raw) tcsetattr(0, TCSANOW, &saved);
  if (!exited) while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  _exit(exit_code(status));
}
