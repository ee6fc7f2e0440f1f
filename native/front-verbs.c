/* The verbs the CLI front serves, each the C twin of src/runtime/lifecycle.ts's function of
 * the same name, on the record state.bin holds.  Each returns -1 ("ask Node") in every case
 * where the Node path would print an error, run a hook or take a path not built here (paused
 * containers, rootless ones, a lock held by another process); -1 is also safe after partial
 * work, because what Node then does again (a signal sent twice to a dying container, removing
 * a cgroup dir already gone) is what a retried Node command does too. */
#include "front.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum status { ST_DOUBT = -1, ST_STOPPED, ST_CREATED, ST_RUNNING, ST_PAUSED };
#define MAX_FILE (1u << 22)

/* reads what is left of `fd` (at most MAX_FILE bytes), NUL-terminated */
uint8_t *front_read(int fd, size_t *len) {
  size_t cap = 8192, n = 0;
  uint8_t *b = malloc(cap + 1);
  for (ssize_t r = 1; b && r > 0 && n <= MAX_FILE;) {
    if (n == cap) { uint8_t *nb = realloc(b, (cap *= 2) + 1); if (!nb) { free(b); b = NULL; break; } b = nb; }
    do r = read(fd, b + n, cap - n); while (r < 0 && errno == EINTR);
    if (r < 0) { free(b); b = NULL; }
    else n += (size_t)r;
  }
  if (b && n > MAX_FILE) { free(b); b = NULL; }
  if (b) b[n] = 0, *len = n;
  return b;
}

/* reads a whole file relative to `dirfd`, not following a symlink in its last component */
uint8_t *front_slurp(int dirfd, const char *name, size_t *len) {
  int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return NULL;
  uint8_t *b = front_read(fd, len);
  close(fd);
  return b;
}

/* state.bin, checked against the state.json beside it (a stale or torn record is a miss) */
static int load(struct front_cmd *c, struct srec *r) {
  size_t blen, jlen;
  uint8_t *bin = front_slurp(c->dirfd, "state.bin", &blen);
  uint8_t *json = bin ? front_slurp(c->dirfd, "state.json", &jlen) : NULL;
  int ok = json && !srec_parse(bin, blen, r);
  if (ok && (r->json_hash != fnv1a64(json, jlen) || strcmp(r->str[SREC_ID], c->id))) srec_free(r), ok = 0;
  free(bin), free(json);
  if (!ok) front_note("no usable state.bin");
  return ok ? 0 : -1;
}

/* start time (field 22) and state letter of /proc/PID/stat; -1 if the process is gone */
static int proc_stat(uint32_t pid, char *start, size_t n, char *state) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%u/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t len = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (len <= 0) return -1;
  buf[len] = 0;
  char *p = strrchr(buf, ')'), *save = NULL;
  if (!p || !p[1]) return -1;
  char *tok = strtok_r(p + 2, " ", &save);
  for (int i = 0; tok && i < 19; i++) { if (i == 0) *state = tok[0]; tok = strtok_r(NULL, " ", &save); }
  if (!tok) return -1;
  snprintf(start, n, "%s", tok);
  return 0;
}

static int same_process(const struct srec *r) {
  char start[32], st = 0;
  if (proc_stat(r->pid, start, sizeof start, &st)) return 0;
  return !strcmp(start, r->str[SREC_PID_START]) && st != 'Z' && st != 'X';
}

/* ST_PAUSED if the recorded freezer says frozen; ST_DOUBT if it cannot be read or is between */
static enum status freezer(const struct srec *r) {
  const char *kind = r->str[SREC_FREEZER_KIND];
  if (!*kind) return ST_RUNNING;
  int v1 = !strcmp(kind, "v1");
  int dfd = open(r->str[SREC_FREEZER_DIR], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  size_t n;
  uint8_t *b = dfd < 0 ? NULL : front_slurp(dfd, v1 ? "freezer.state" : "cgroup.events", &n);
  if (dfd >= 0) close(dfd);
  enum status s = ST_DOUBT;
  if (b && v1) s = !strcmp((char *)b, "THAWED\n") ? ST_RUNNING : !strcmp((char *)b, "FROZEN\n") ? ST_PAUSED : ST_DOUBT;
  else if (b) s = strstr((char *)b, "\nfrozen 1") || !strncmp((char *)b, "frozen 1", 8) ? ST_PAUSED : ST_RUNNING;
  free(b);
  return s;
}

/* containerStatus of state.ts */
static enum status status_of(const struct front_cmd *c, const struct srec *r) {
  struct stat st;
  if ((r->flags & SREC_STOPPED) || !r->pid || !same_process(r)) return ST_STOPPED;
  if (!fstatat(c->dirfd, "exec.fifo", &st, 0)) return ST_CREATED;
  return freezer(r);
}

static int write_out(const char *s) {
  for (size_t n = strlen(s); n > 0;) {
    ssize_t w = write(1, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    s += w, n -= (size_t)w;
  }
  return 0;
}

int front_state(struct front_cmd *c) {
  struct srec r;
  if (load(c, &r)) return -1;
  enum status s = status_of(c, &r);
  int rc = -1;
  if (s == ST_STOPPED) rc = write_out(r.str[SREC_STOPPED_DOC]) ? 1 : 0;
  else if (s == ST_CREATED || s == ST_RUNNING) {
    const char *name = s == ST_CREATED ? "created" : "running";
    rc = write_out(r.str[SREC_LIVE_HEAD]) || write_out(name) || write_out(r.str[SREC_LIVE_TAIL]) ? 1 : 0;
  }
  srec_free(&r);
  return rc;
}

static const struct { const char *name; int sig; } SIGNALS[] = {
  { "HUP", 1 }, { "INT", 2 }, { "QUIT", 3 }, { "ILL", 4 }, { "TRAP", 5 }, { "ABRT", 6 }, { "IOT", 6 }, { "BUS", 7 },
  { "FPE", 8 }, { "KILL", 9 }, { "USR1", 10 }, { "SEGV", 11 }, { "USR2", 12 }, { "PIPE", 13 }, { "ALRM", 14 },
  { "TERM", 15 }, { "STKFLT", 16 }, { "CHLD", 17 }, { "CONT", 18 }, { "STOP", 19 }, { "TSTP", 20 }, { "TTIN", 21 },
  { "TTOU", 22 }, { "URG", 23 }, { "XCPU", 24 }, { "XFSZ", 25 }, { "VTALRM", 26 }, { "PROF", 27 }, { "WINCH", 28 },
  { "IO", 29 }, { "POLL", 29 }, { "PWR", 30 }, { "SYS", 31 },
};

/* parseSignal of lifecycle.ts for numbers and the plain names; 0 (ask Node) for the rest
 * (lower case, RTMIN+N), so that only Node words an error */
static int parse_signal(const char *s) {
  if (s[0] >= '0' && s[0] <= '9') {
    char *end;
    long n = strtol(s, &end, 10);
    return !*end && n >= 1 && n <= 64 && strlen(s) <= 2 ? (int)n : 0;
  }
  if (!strncmp(s, "SIG", 3)) s += 3;
  for (size_t i = 0; i < sizeof SIGNALS / sizeof SIGNALS[0]; i++) if (!strcmp(s, SIGNALS[i].name)) return SIGNALS[i].sig;
  return 0;
}

/* pids listed in DIR/cgroup.procs, at most `max`; -1 if unreadable */
static int cgroup_pids(const char *dir, pid_t *out, int max) {
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  size_t n;
  uint8_t *b = dfd < 0 ? NULL : front_slurp(dfd, "cgroup.procs", &n);
  if (dfd >= 0) close(dfd);
  if (!b) return -1;
  int k = 0;
  for (char *p = (char *)b, *save = NULL, *t; (t = strtok_r(p, "\n", &save)) && k < max; p = NULL) out[k++] = (pid_t)atol(t);
  free(b);
  return k;
}


/* Signals go through pidfds, never to a bare pid: a pid checked and then signalled may have
 * been reused in between.  A pidfd names one process for good, so the check is made after it
 * is opened. */
static int pidfd_open_(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
static int pidfd_signal(int pfd, int sig) { return (int)syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0); }

/* the container's first process, if it is still the one recorded (its start time); 0 if gone */
static int signal_first(const struct srec *r, int sig) {
  int pfd = pidfd_open_((pid_t)r->pid);
  if (pfd < 0) return errno == ESRCH ? 0 : -1;
  int rc = same_process(r) && pidfd_signal(pfd, sig) && errno != ESRCH ? -1 : 0;
  close(pfd);
  return rc;
}

/* every process in DIR/cgroup.procs but ourselves: a pidfd is opened for each pid listed, then
 * the list is read again, and only a pid still listed is signalled through its pidfd (a pidfd
 * whose process died meanwhile fails with ESRCH, whatever now has its pid).  Returns how many
 * were signalled (in *sent); -2 if the list is unreadable, -1 if a signal fails. */
static int signal_cgroup(const char *dir, int sig, int *sent) {
  static pid_t pids[4096], again[4096];
  static int pfds[4096];
  *sent = 0;
  int n = cgroup_pids(dir, pids, 4096), rc = 0;
  if (n < 0) return -2;
  for (int base = 0; base < n; base += 256) {
    int k = n - base < 256 ? n - base : 256;
    for (int i = 0; i < k; i++) pfds[i] = pids[base + i] == getpid() ? -1 : pidfd_open_(pids[base + i]);
    int m = cgroup_pids(dir, again, 4096);
    for (int i = 0; i < k; i++) {
      if (pfds[i] < 0) continue;
      int listed = 0;
      for (int j = 0; j < m && !listed; j++) listed = again[j] == pids[base + i];
      if (listed) {
        if (!pidfd_signal(pfds[i], sig)) ++*sent;
        else if (errno != ESRCH) rc = -1;
      }
      close(pfds[i]);
    }
  }
  return rc;
}

int front_kill(struct front_cmd *c) {
  struct srec r;
  if (load(c, &r)) return -1;
  enum status s = status_of(c, &r);
  int sig = parse_signal(c->signal), rc = -1, sent = 0;
  if ((s == ST_CREATED || s == ST_RUNNING) && sig) {
    rc = c->all && *r.str[SREC_PROCS_DIR] ? signal_cgroup(r.str[SREC_PROCS_DIR], sig, &sent) : 0;
    /* an unreadable or empty list: the first process */
    if (rc == -2 || (!rc && !sent)) rc = signal_first(&r, sig);
  }
  srec_free(&r);
  return rc;
}

/* the lock of StateStore.lock: an O_EXCL file holding our pid; a held lock is Node's to wait on */
int front_lock(struct front_cmd *c) {
  int fd = openat(c->dirfd, "lock", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  char b[24];
  int n = snprintf(b, sizeof b, "%d", (int)getpid());
  int ok = write(fd, b, (size_t)n) == n;
  close(fd);
  if (!ok) unlinkat(c->dirfd, "lock", 0);
  return ok ? 0 : -1;
}

void front_unlock(struct front_cmd *c) {
  size_t n;
  uint8_t *b = front_slurp(c->dirfd, "lock", &n);
  if (b && atol((char *)b) == (long)getpid()) unlinkat(c->dirfd, "lock", 0);
  free(b);
}

static int start_locked(struct front_cmd *c) {
  struct srec r;
  if (load(c, &r)) return -1;
  int hooks = r.flags & SREC_HOOKS, created = status_of(c, &r) == ST_CREATED;
  srec_free(&r);
  if (hooks || !created) return -1;
  /* non-blocking: with no reader left (the container died) this fails at once */
  int fd = openat(c->dirfd, "exec.fifo", O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -1;
  int ok = write(fd, "0", 1) == 1;
  close(fd);
  if (!ok) return -1;
  /* the byte is written: the container has started, whatever happens next; Node, asked now,
   * would start nothing and report an error (and `run` would run the workload again) */
  if (unlinkat(c->dirfd, "exec.fifo", 0) && errno != ENOENT) front_note("started, but exec.fifo stays");
  return 0;
}

int front_start(struct front_cmd *c) {
  if (front_lock(c)) return -1;
  int rc = start_locked(c);
  front_unlock(c);
  return rc;
}

static void pause_ms(double ms) {
  struct timespec ts = { (time_t)(ms / 1000), (long)((ms - (double)(time_t)(ms / 1000) * 1000) * 1e6) };
  nanosleep(&ts, NULL);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* waits until the container's first process has exited (a pidfd polls readable on exit) */
static int wait_gone(const struct srec *r, int ms) {
  int pfd = (int)syscall(SYS_pidfd_open, (pid_t)r->pid, 0);
  if (pfd < 0) return errno == ESRCH ? 0 : -1;
  /* the pidfd names the process we checked only if its start time still matches */
  int rc = 0;
  if (same_process(r)) {
    struct pollfd p = { .fd = pfd, .events = POLLIN };
    int n;
    do n = poll(&p, 1, ms); while (n < 0 && errno == EINTR);
    rc = n == 1 ? 0 : -1;
  }
  close(pfd);
  return rc;
}

/* SIGKILLs every process in the dirs moat created (never ourselves); returns how many were left */
static int kill_owned(const struct srec *r) {
  int left = 0, sent;
  for (size_t i = 0; i < r->nowned; i++) {
    signal_cgroup(r->owned[i], SIGKILL, &sent);
    left += sent;
  }
  return left;
}

/* killContainerCgroup + waitGone: cgroup.kill where cgroup2 has it, then each pid */
static int kill_container(const struct srec *r) {
  if (signal_first(r, SIGKILL)) return -1;
  if (*r->str[SREC_KILL_DIR]) {
    char p[4200];
    snprintf(p, sizeof p, "%s/cgroup.kill", r->str[SREC_KILL_DIR]);
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT) return -1;
    if (fd >= 0 && write(fd, "1", 1) != 1 && errno != ENOENT) { close(fd); return -1; }
    if (fd >= 0) close(fd);
  }
  kill_owned(r);
  return wait_gone(r, 10000);
}

/* destroyContainerCgroup: kill until the owned dirs are empty (3 s), rmdir created ones deepest first */
static int destroy_cgroup(const struct srec *r) {
  double deadline = now_ms() + 3000, delay = 0.1;
  while (kill_owned(r) > 0) {
    if (now_ms() > deadline) return -1;
    pause_ms(delay);
    delay = delay * 2 > 20 ? 20 : delay * 2;
  }
  for (size_t i = r->ncreated; i-- > 0;) {
    double busy = now_ms() + 1000;
    delay = 0.1;
    while (rmdir(r->created[i]) && errno != ENOENT) {
      if (errno != EBUSY || now_ms() > busy) return -1;
      pause_ms(delay);
      delay = delay * 2 > 20 ? 20 : delay * 2;
    }
  }
  return 0;
}

/* StateStore.remove: the files of the state dir, then the dir */
static int remove_state(struct front_cmd *c) {
  int fd = dup(c->dirfd);
  DIR *d = fd < 0 ? NULL : fdopendir(fd);
  if (!d) { if (fd >= 0) close(fd); return -1; }
  int rc = 0;
  for (struct dirent *e; (e = readdir(d));)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && unlinkat(c->dirfd, e->d_name, 0) && errno != ENOENT) rc = -1;
  closedir(d);
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", c->root, c->id);
  return rc || (rmdir(path) && errno != ENOENT) ? -1 : 0;
}

/* kills what is left of a container (with `kill_first`), removes its cgroup dirs and its state */
int front_destroy(struct front_cmd *c, const struct srec *r, int kill_first) {
  if (kill_first && r->pid && kill_container(r)) return -1;
  return destroy_cgroup(r) ? -1 : remove_state(c);
}

static int delete_locked(struct front_cmd *c) {
  struct srec r;
  if (load(c, &r)) return -1;
  enum status s = status_of(c, &r);
  int rc = -1;
  /* hooks (poststop), rootless, a paused or unreadable freezer, and refusals are Node's */
  int mine = !(r.flags & (SREC_HOOKS | SREC_ROOTLESS)) && s != ST_DOUBT && s != ST_PAUSED && (s != ST_RUNNING || c->force);
  if (mine) rc = front_destroy(c, &r, s != ST_STOPPED);
  srec_free(&r);
  return rc;
}

int front_delete(struct front_cmd *c) {
  if (front_lock(c)) return -1;
  int rc = delete_locked(c);
  front_unlock(c);
  return rc;
}
