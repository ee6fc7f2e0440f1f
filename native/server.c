/* moat-helper serve CTRL_FD: the helper as a fork server, for a Node process that runs many
 * containers (the library path).  Spawning a process from Node costs ~5 ms (libuv forks the
 * whole Node process) plus this helper's re-exec from a sealed memfd; forking this small,
 * already sealed process costs ~0.1 ms.  The server holds no policy: each child runs exactly
 * the Plan TypeScript sends it, as a spawned helper would.
 *
 * CTRL_FD carries messages of u32 kind, u32 id, u32 length, payload (little-endian):
 *   TypeScript -> server   SPAWN (payload: 3 stdio modes, 0 inherit / 1 /dev/null, then the
 *                          instructions of the Plan's device program, if it has one),
 *                          DATA (bytes for child `id`'s sync socket), KILL (u32 signal)
 *   server -> TypeScript   DATA (bytes from the child's sync socket), EXIT (u32 0 exited /
 *                          1 killed, u32 status or signal; sent once the child is reaped AND
 *                          its sync socket is closed, as Node's `close` event), FAIL (u32 errno)
 * The server exits when CTRL_FD closes (its Node process is gone); its children then see their
 * sync socket close, as a spawned helper does when Node dies.
 *
 * Device programs: loading one (the verifier) costs ~0.9 ms, the same for every container of
 * a config.  The server loads each distinct program once (a few kept, the oldest dropped) and
 * hands its fd to the children whose SPAWN names the same instructions; the child attaches it
 * only if the Plan's program is byte for byte those instructions (else it loads its own), and
 * closes it before it clones the container process (ops-host.c).  A program without maps holds
 * no state: one verified copy attached to many cgroups decides for each exactly as its own
 * copy would.  A load that fails here is not kept: the child then loads and reports it.
 *
 * The cpuset keeper (serve CTRL_FD KEEP_PARENT): the kernel turns cpuset's static keys on
 * while any cpuset cgroup but the root exists, patching its own text to do so (IPIs to every
 * CPU), and off again, in a worker, once the last one is gone.  A container's cpuset mkdir
 * then cost ~2.5 ms here whenever no other cpuset cgroup existed, which is every time for a
 * process that runs containers one after another with any pause between them (measured: a
 * warm runContainer 16.3 ms back to back, 21.9 ms after 100 ms idle; 18.8 ms with a keeper).
 * The server keeps one empty cpuset cgroup, KEEP_PARENT/moat--keep-PID (no container id
 * starts with `-`, so no container's `moat-ID` is ever that), for its lifetime: nothing joins
 * it, and it is removed when the server exits (its Node process gone, or SIGTERM, SIGINT,
 * SIGHUP, SIGQUIT).  A server killed by SIGKILL leaves it: the next server removes the
 * keepers of pids that no longer exist (in its pid namespace).  Best effort: a keeper that
 * cannot be made only costs time.  While it exists the keys are on for the whole host, as on
 * any host where a cpuset cgroup exists (every page allocation then checks the task's
 * cpuset). */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { SRV_SPAWN = 1, SRV_DATA = 2, SRV_KILL = 3, SRV_EXIT = 4, SRV_FAIL = 5 };
#define MAX_CHILDREN 256

struct child { uint32_t id; pid_t pid; int sock; int reaped; uint32_t how, code; };
static struct child kids[MAX_CHILDREN];
static int nkids;
static int ctrl = -1;
static char keeper[PATH_MAX];

static __attribute__((noreturn)) void srv_exit(int code) {
  if (keeper[0]) rmdir(keeper);
  _exit(code);
}

/* Removes the keepers of servers that are gone (SIGKILL), then makes ours. */
static void make_keeper(const char *parent) {
  if (!parent || parent[0] != '/') return;
  DIR *d = opendir(parent);
  if (!d) return;
  int dfd = dirfd(d);
  struct dirent *e;
  while ((e = readdir(d))) {
    char *end;
    if (strncmp(e->d_name, "moat--keep-", 11)) continue;
    long pid = strtol(e->d_name + 11, &end, 10);
    if (*end || pid <= 0 || pid > INT_MAX) continue;
    /* rmdir of a cgroup that has tasks or children fails (EBUSY): only an empty one goes */
    if (kill((pid_t)pid, 0) < 0 && errno == ESRCH) unlinkat(dfd, e->d_name, AT_REMOVEDIR);
  }
  closedir(d);
  int n = snprintf(keeper, sizeof keeper, "%s/moat--keep-%d", parent, (int)getpid());
  if (n < 0 || (size_t)n >= sizeof keeper || mkdir(keeper, 0755) < 0) keeper[0] = 0;
}

#define MAX_PROGS 8
#define MAX_PROG_BYTES (4096 * 8) /* BPF_MAXINSNS instructions */
struct prog { uint8_t *insns; size_t len; int fd; };
static struct prog progs[MAX_PROGS];
static int nprogs;

static void put32(uint8_t *b, uint32_t v) { for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i)); }
static uint32_t get32(const uint8_t *b) { return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24; }

static int io_all(int fd, void *buf, size_t n, int wr) {
  char *p = buf;
  while (n > 0) {
    ssize_t r = wr ? send(fd, p, n, MSG_NOSIGNAL) : read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

static void reply(uint32_t kind, uint32_t id, const void *payload, uint32_t len) {
  uint8_t head[12];
  put32(head, kind), put32(head + 4, id), put32(head + 8, len);
  /* Node reads all the time: a failed write means it is gone, and so is our purpose */
  if (io_all(ctrl, head, 12, 1) || (len && io_all(ctrl, (void *)payload, len, 1))) srv_exit(0);
}

static struct child *find(uint32_t id) {
  for (int i = 0; i < nkids; i++) if (kids[i].id == id) return &kids[i];
  return NULL;
}

static void maybe_done(struct child *c) {
  if (!c->reaped || c->sock >= 0) return;
  uint8_t p[8];
  put32(p, c->how), put32(p + 4, c->code);
  reply(SRV_EXIT, c->id, p, 8);
  *c = kids[--nkids];
}

/* The loaded program of these instructions, loading it on first use; NULL if it cannot be. */
static const struct prog *device_prog(const uint8_t *insns, size_t len) {
  if (!len || len % 8 || len > MAX_PROG_BYTES) return NULL;
  for (int i = 0; i < nprogs; i++)
    if (progs[i].len == len && !memcmp(progs[i].insns, insns, len)) return &progs[i];
  uint8_t *copy = malloc(len);
  if (!copy) return NULL;
  memcpy(copy, insns, len);
  int fd = load_device_prog(copy, len, NULL, 0);
  if (fd < 0) { free(copy); return NULL; }
  if (nprogs == MAX_PROGS) {
    close(progs[0].fd);
    free(progs[0].insns);
    memmove(progs, progs + 1, sizeof *progs * (MAX_PROGS - 1));
    nprogs--;
  }
  progs[nprogs] = (struct prog){ .insns = copy, .len = len, .fd = fd };
  return &progs[nprogs++];
}

/* In the child: the server's fds are gone, the sync socket is fd 3, the device program (if
 * any) fd 4, close-on-exec and dropped before clone; and it runs the Plan. */
static __attribute__((noreturn)) void become_helper(int sock, const uint8_t *modes, const struct prog *prog) {
  keeper[0] = 0; /* the server's, not this child's to remove */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGCHLD, SIG_DFL);
  for (int fd = 0; fd < 3; fd++) {
    if (modes[fd] != 1) continue;
    int n = open("/dev/null", fd ? O_WRONLY : O_RDONLY);
    if (n < 0 || dup2(n, fd) < 0) _exit(127);
    close(n);
  }
  int p = prog ? fcntl(prog->fd, F_DUPFD_CLOEXEC, 10) : -1; /* above 3 and 4 */
  if (prog && p < 0) _exit(127);
  if (dup2(sock, 3) < 0) _exit(127);
  if (prog) {
    if (dup3(p, 4, O_CLOEXEC) < 0) _exit(127);
    H.dev_prog_fd = 4, H.dev_prog_insns = prog->insns, H.dev_prog_len = prog->len;
  }
  /* nothing of the server (its control socket, other children's sockets, other programs)
   * reaches a container */
  unsigned keep = prog ? 5U : 4U;
  if (syscall(SYS_close_range, keep, ~0U, 0) < 0) for (int fd = (int)keep; fd < 1024; fd++) close(fd);
  run_plan_fd(3);
}

static void spawn_child(uint32_t id, const uint8_t *payload, uint32_t len) {
  uint8_t modes[3] = { 0, 0, 0 };
  if (len >= 3) memcpy(modes, payload, 3);
  int sv[2];
  uint8_t e[4];
  if (nkids == MAX_CHILDREN || find(id)) { put32(e, EAGAIN); reply(SRV_FAIL, id, e, 4); return; }
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) { put32(e, (uint32_t)errno); reply(SRV_FAIL, id, e, 4); return; }
  const struct prog *prog = len > 3 ? device_prog(payload + 3, len - 3) : NULL;
  pid_t pid = fork();
  if (pid < 0) {
    put32(e, (uint32_t)errno);
    close(sv[0]), close(sv[1]);
    reply(SRV_FAIL, id, e, 4);
    return;
  }
  if (pid == 0) become_helper(sv[1], modes, prog);
  close(sv[1]);
  kids[nkids++] = (struct child){ .id = id, .pid = pid, .sock = sv[0] };
}

static void on_ctrl(void) {
  uint8_t head[12];
  if (io_all(ctrl, head, 12, 0)) srv_exit(0);
  uint32_t kind = get32(head), id = get32(head + 4), len = get32(head + 8);
  if (len > (1u << 21)) srv_exit(1);
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf || io_all(ctrl, buf, len, 0)) srv_exit(1);
  struct child *c = find(id);
  if (kind == SRV_SPAWN) spawn_child(id, buf, len);
  /* a child whose socket is closed has nobody to read: the bytes are dropped, as a write to
   * an exited helper's socket would be */
  else if (kind == SRV_DATA && c && c->sock >= 0) (void)io_all(c->sock, buf, len, 1);
  else if (kind == SRV_KILL && c && !c->reaped && len == 4) kill(c->pid, (int)get32(buf));
  free(buf);
}

static void on_child_data(struct child *c) {
  uint8_t buf[65536];
  ssize_t n;
  do n = read(c->sock, buf, sizeof buf); while (n < 0 && errno == EINTR);
  if (n > 0) { reply(SRV_DATA, c->id, buf, (uint32_t)n); return; }
  close(c->sock);
  c->sock = -1;
  maybe_done(c);
}

static void reap(void) {
  int st;
  pid_t pid;
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
    for (int i = 0; i < nkids; i++) {
      if (kids[i].pid != pid) continue;
      kids[i].reaped = 1;
      kids[i].how = WIFSIGNALED(st) ? 1 : 0;
      kids[i].code = (uint32_t)(WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
      maybe_done(&kids[i]);
      break;
    }
  }
}

__attribute__((noreturn)) void serve(int ctrl_fd, const char *keep_parent) {
  ctrl = ctrl_fd;
  /* SIGCHLD, and the signals that end the server, read from a signalfd: an ending server
   * removes its keeper first (a terminal's ^C reaches it with its Node process) */
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigaddset(&chld, SIGTERM);
  sigaddset(&chld, SIGINT);
  sigaddset(&chld, SIGHUP);
  sigaddset(&chld, SIGQUIT);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) die(errno, "signalfd");
  make_keeper(keep_parent);
  for (;;) {
    struct pollfd pf[MAX_CHILDREN + 2];
    struct child *who[MAX_CHILDREN + 2];
    int n = 0;
    pf[n] = (struct pollfd){ .fd = ctrl, .events = POLLIN }, who[n++] = NULL;
    pf[n] = (struct pollfd){ .fd = sfd, .events = POLLIN }, who[n++] = NULL;
    for (int i = 0; i < nkids; i++) if (kids[i].sock >= 0) pf[n] = (struct pollfd){ .fd = kids[i].sock, .events = POLLIN }, who[n++] = &kids[i];
    if (poll(pf, (nfds_t)n, -1) < 0) {
      if (errno == EINTR) continue;
      srv_exit(1);
    }
    /* children's output first: an EXIT must follow every byte its child wrote */
    uint32_t ids[MAX_CHILDREN + 2];
    for (int i = 2; i < n; i++) ids[i] = who[i]->id;
    for (int i = 2; i < n; i++) {
      if (!pf[i].revents) continue;
      struct child *c = find(ids[i]); /* the table may have moved since the poll */
      if (c && c->sock == pf[i].fd) on_child_data(c);
    }
    if (pf[1].revents) {
      struct signalfd_siginfo si;
      int end = 0;
      while (read(sfd, &si, sizeof si) == sizeof si) if (si.ssi_signo != SIGCHLD) end = (int)si.ssi_signo;
      reap();
      if (end) srv_exit(128 + end);
    }
    if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) on_ctrl();
  }
}
