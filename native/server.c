/* moat-helper serve CTRL_FD: the helper as a fork server, for a Node process that runs many
 * containers (the library path).  Spawning a process from Node costs ~5 ms (libuv forks the
 * whole Node process) plus this helper's re-exec from a sealed memfd; forking this small,
 * already sealed process costs 0.3-0.9 ms on this VM (its page tables), and a spare started
 * between containers (below) takes even that off the path.  The server holds no policy: each
 * child runs exactly the Plan TypeScript sends it, as a spawned helper would.
 *
 * CTRL_FD carries messages of u32 kind, u32 id, u32 length, payload (little-endian):
 *   TypeScript -> server   SPAWN (payload: 3 stdio modes, 0 inherit / 1 /dev/null, u32 length
 *                          and the instructions of the Plan's device program (length 0: none),
 *                          then the container's cgroup recipe, if any: see below),
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
 * cpuset).
 *
 * The cgroup recipe: the container's cgroup dirs and the writes into them, as TypeScript's
 * createContainerCgroup made them for an earlier container of the same config (captured there,
 * cgroup-recipe.ts), for this container's id.  The forked child does them before it waits for
 * its Plan, while Node goes on with the state record and the Plan (~1.9 ms of Node's time in
 * the bench's rounds, most of it the kernel's mkdirs and the device list), and reports
 * MSG_CGROUPS.  Steps: u8 kind, then strings (u32 length, bytes): 1 mkdir DIR (mode 0777, the
 * umask applies, as Node's mkdirSync); 2 write FILE VALUE (O_WRONLY|O_CREAT|O_TRUNC, as
 * writeFileSync); 3 inherit FILE PARENT_FILE (a new v1 cpuset dir's cpus or mems: if FILE
 * reads empty, the parent's value, trimmed, goes in).  The first failing step stops it; the
 * child reports how many dirs it made and exits, and TypeScript removes them and makes the
 * cgroup itself, with its errors by config field.  No policy here: the steps are TypeScript's. */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/prctl.h>
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

struct child { uint32_t id; pid_t pid; int sock; int reaped; int planned; uint32_t how, code; };
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

static void fork_spare(void);

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

static int recipe_str(const uint8_t **p, const uint8_t *end, char *out, size_t cap) {
  if (end - *p < 4) return -1;
  uint32_t n = get32(*p);
  *p += 4;
  if ((size_t)(end - *p) < n || n >= cap || memchr(*p, 0, n)) return -1;
  memcpy(out, *p, n);
  out[n] = 0;
  *p += n;
  return 0;
}

static int write_cg(const char *path, const char *v, size_t n) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return -1;
  ssize_t w = write(fd, v, n);
  int e = errno;
  close(fd);
  if (w != (ssize_t)n) { errno = w < 0 ? e : EIO; return -1; }
  return 0;
}

/* A cgroup file's value with its surrounding whitespace trimmed (as TypeScript's .trim()),
 * or -1 if it cannot be read. */
static ssize_t read_trimmed(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, cap - 1);
  close(fd);
  if (n < 0) return -1;
  if ((size_t)n == cap - 1) { errno = EFBIG; return -2; } /* maybe cut short: not a value to copy */
  size_t a = 0, b = (size_t)n;
  while (a < b && (buf[a] == ' ' || buf[a] == '\n' || buf[a] == '\t' || buf[a] == '\r')) a++;
  while (b > a && (buf[b - 1] == ' ' || buf[b - 1] == '\n' || buf[b - 1] == '\t' || buf[b - 1] == '\r')) b--;
  memmove(buf, buf + a, b - a);
  buf[b - a] = 0;
  return (ssize_t)(b - a);
}

/* Runs the recipe (see the head of this file) and reports it on the sync socket; a failed one
 * ends this child. */
static void run_recipe(int sock, const uint8_t *p, const uint8_t *end) {
  static char a[PATH_MAX], b[PATH_MAX], v[8192];
  uint32_t made = 0, err = 0;
  int32_t failed = -1;
  for (int32_t step = 0; p < end && failed < 0; step++) {
    uint8_t kind = *p++;
    int rc = -1;
    errno = EINVAL;
    if (recipe_str(&p, end, a, sizeof a) == 0) {
      if (kind == 1) {
        if ((rc = mkdir(a, 0777)) == 0) made++;
      } else if (kind == 2 && recipe_str(&p, end, v, sizeof v) == 0) {
        rc = write_cg(a, v, strlen(v));
      } else if (kind == 3 && recipe_str(&p, end, b, sizeof b) == 0) {
        ssize_t mine = read_trimmed(a, v, sizeof v), n;
        rc = 0; /* unreadable or already set: left alone, as TypeScript's inheritCpuset */
        if (mine == 0) {
          n = read_trimmed(b, v, sizeof v);
          rc = n == -2 ? -1 : n < 0 ? write_cg(a, "", 0) : write_cg(a, v, (size_t)n);
        }
      }
    }
    if (rc < 0) failed = step, err = (uint32_t)errno;
  }
  uint8_t m[20];
  put32(m, MSG_CGROUPS), put32(m + 4, 12), put32(m + 8, made), put32(m + 12, (uint32_t)failed), put32(m + 16, err);
  if (io_all(sock, m, sizeof m, 1) || failed >= 0) _exit(1);
}

/* SPAWN's payload (see the head of this file), as the server reads it and as its spare does */
struct spawn_req { const uint8_t *modes, *insns, *recipe; size_t insns_len, recipe_len; };
static int parse_spawn(const uint8_t *p, size_t len, struct spawn_req *r) {
  if (len < 7) return -1;
  uint32_t plen = get32(p + 3);
  if (plen > len - 7) return -1;
  *r = (struct spawn_req){ .modes = p, .insns = p + 7, .recipe = p + 7 + plen, .insns_len = plen, .recipe_len = len - 7 - plen };
  return 0;
}

/* In the child: the server's fds are gone, the sync socket is fd 3, the device program (if
 * any, PROG_FD with the instructions it was loaded from) fd 4, close-on-exec and dropped
 * before clone; it makes the cgroup of its recipe, if any; and it runs the Plan. */
static __attribute__((noreturn)) void become_helper(int sock, const uint8_t *modes, int prog_fd, const uint8_t *insns, size_t insns_len, const uint8_t *recipe, size_t recipe_len) {
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
  int p = prog_fd >= 0 ? fcntl(prog_fd, F_DUPFD_CLOEXEC, 10) : -1; /* above 3 and 4 */
  if (prog_fd >= 0 && p < 0) _exit(127);
  if (dup2(sock, 3) < 0) _exit(127);
  if (p >= 0) {
    if (dup3(p, 4, O_CLOEXEC) < 0) _exit(127);
    H.dev_prog_fd = 4, H.dev_prog_insns = insns, H.dev_prog_len = insns_len;
  }
  /* nothing of the server (its control socket, other children's sockets, other programs)
   * reaches a container */
  unsigned keep = p >= 0 ? 5U : 4U;
  if (syscall(SYS_close_range, keep, ~0U, 0) < 0) for (int fd = (int)keep; fd < 1024; fd++) close(fd);
  if (recipe_len) {
    /* a server that dies meanwhile takes this child with it: its Node process, told of the
     * server's end, removes the recipe's dirs and makes them itself, and must not race a
     * helper still making them */
    pid_t server = getppid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != server) _exit(1);
    run_recipe(3, recipe, recipe + recipe_len);
    prctl(PR_SET_PDEATHSIG, 0);
  }
  run_plan_fd(3);
}

/* The spare: a helper started ahead, waiting on its socket for the SPAWN it will serve
 * (ASSIGN: u32 length, the SPAWN payload, the device program's fd passed along if there is
 * one).  A SPAWN that finds it skips the fork and the child's start, which would otherwise
 * come before the child's first work, its cgroup recipe, and so before its Plan.  It is
 * started when a child gets its Plan (the first DATA after its SPAWN): beside that
 * container's setup, whose time it shares, not after it, where it would take its CPU from
 * whatever runs next on the host (in the bench, another runtime).  It is this sealed image
 * exec'd anew (`moat-helper spare 3`) from a vfork, not a fork: a fork would share the server's pages copy-on-write, and the server's
 * next writes (its relays of the next container's messages) would each fault and copy, ~0.3
 * ms of the server's time at every step of the next container (ftrace, this host).  It holds
 * nothing of the server's: only its socket survives the exec. */
static pid_t spare_pid = -1;
static int spare_sock = -1;
static int self_exe = -1;

__attribute__((noreturn)) void spare_main(int sock) {
  uint8_t head[4];
  char cbuf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = { .iov_base = head, .iov_len = sizeof head };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  ssize_t n;
  do n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL); while (n < 0 && errno == EINTR);
  if (n != (ssize_t)sizeof head) _exit(0); /* the server is gone: nothing to serve */
  int prog_fd = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(&prog_fd, CMSG_DATA(c), sizeof prog_fd);
  uint32_t len = get32(head);
  uint8_t *pl = len <= (1u << 21) ? malloc(len ? len : 1) : NULL;
  struct spawn_req r;
  if (!pl || io_all(sock, pl, len, 0) || parse_spawn(pl, len, &r)) _exit(127);
  become_helper(sock, r.modes, r.insns_len ? prog_fd : -1, r.insns, r.insns_len, r.recipe, r.recipe_len);
}

static void fork_spare(void) {
  int sv[2];
  if (spare_pid > 0 || self_exe < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return;
  static char *const argv[] = { "moat-helper", "spare", "3", NULL };
  static char *const envp[] = { NULL };
  pid_t pid = vfork();
  if (pid == 0) {
    /* the child's own fd table (vfork shares memory, not fds): its socket becomes fd 3 (the
     * server's control socket there is closed by that), everything else closes at exec */
    if (dup2(sv[1], 3) < 0) _exit(127);
    syscall(SYS_close_range, 4U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
    syscall(SYS_execveat, self_exe, "", argv, envp, AT_EMPTY_PATH);
    _exit(127);
  }
  close(sv[1]);
  if (pid < 0) { close(sv[0]); return; }
  spare_pid = pid, spare_sock = sv[0];
}

/* Hands the SPAWN to the spare; -1 if there is none or it cannot take it (then it is ended). */
static int assign_spare(uint32_t id, const uint8_t *payload, uint32_t len, const struct prog *prog) {
  if (spare_pid <= 0) return -1;
  uint8_t head[4];
  put32(head, len);
  char cbuf[CMSG_SPACE(sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = { .iov_base = head, .iov_len = sizeof head };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
  if (prog) {
    mh.msg_control = cbuf, mh.msg_controllen = sizeof cbuf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET, c->cmsg_type = SCM_RIGHTS, c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &prog->fd, sizeof(int));
  }
  ssize_t n;
  do n = sendmsg(spare_sock, &mh, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  if (n != (ssize_t)sizeof head || io_all(spare_sock, (void *)payload, len, 1)) {
    kill(spare_pid, SIGKILL); /* reaped as a stranger by reap() */
    close(spare_sock);
    spare_pid = -1, spare_sock = -1;
    return -1;
  }
  kids[nkids++] = (struct child){ .id = id, .pid = spare_pid, .sock = spare_sock };
  spare_pid = -1, spare_sock = -1;
  return 0;
}

static void spawn_child(uint32_t id, const uint8_t *payload, uint32_t len) {
  uint8_t e[4];
  struct spawn_req r;
  if (parse_spawn(payload, len, &r)) { put32(e, EINVAL); reply(SRV_FAIL, id, e, 4); return; }
  int sv[2];
  if (nkids == MAX_CHILDREN || find(id)) { put32(e, EAGAIN); reply(SRV_FAIL, id, e, 4); return; }
  const struct prog *prog = r.insns_len ? device_prog(r.insns, r.insns_len) : NULL;
  if (assign_spare(id, payload, len, prog) == 0) return;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) { put32(e, (uint32_t)errno); reply(SRV_FAIL, id, e, 4); return; }
  pid_t pid = fork();
  if (pid < 0) {
    put32(e, (uint32_t)errno);
    close(sv[0]), close(sv[1]);
    reply(SRV_FAIL, id, e, 4);
    return;
  }
  if (pid == 0) become_helper(sv[1], r.modes, prog ? prog->fd : -1, prog ? prog->insns : NULL, prog ? prog->len : 0, r.recipe, r.recipe_len);
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
  else if (kind == SRV_DATA && c && c->sock >= 0) {
    (void)io_all(c->sock, buf, len, 1);
    /* its Plan: the next SPAWN's spare is started now, beside this container's setup */
    if (!c->planned) c->planned = 1, fork_spare();
  }
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
    if (pid == spare_pid) { close(spare_sock); spare_pid = -1, spare_sock = -1; continue; }
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
  self_exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC); /* the sealed image (main.c), for spares */
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
