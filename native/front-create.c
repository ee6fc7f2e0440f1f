/* `create` and `run` from the Plan cache (src/runtime/plan-cache.ts): for a byte-identical
 * config.json, bundle, root and flags on a host whose facts read the same, replay what
 * TypeScript did for an earlier container: the state records, the cgroup dirs and writes, and
 * the Plan, run by a fork of this (sealed) process exactly as a spawned helper runs it.  C
 * decides nothing: the id, pid, start time and creation time are the only values it fills in,
 * in the places TypeScript marked.  Any miss or failure undoes what was made and hands the
 * command to Node, which then does the whole command and reports any error itself. */
#include "front.h"
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct made {
  struct front_cmd *c;
  struct pcache *e;
  const char *val[4];        /* the values of the placeholders below */
  char pid_s[16], start_s[32], created_s[40];
  struct srec rec;           /* rendered: what state.bin holds and what cleanup removes */
  size_t nmade;              /* cgroup dirs made so far (the first of rec.created) */
  pid_t helper;
  int sock;
  int pidfd;                 /* the container's first process, opened at MSG_PID */
};

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* ---- the key and the host facts ---- */

static char *cgroup_mounts(void) {
  size_t n;
  char *mi = (char *)front_slurp(AT_FDCWD, "/proc/self/mountinfo", &n), *save = NULL;
  char *out = mi ? calloc(1, n + 1) : NULL;
  for (char *l = out ? strtok_r(mi, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
    char *sep = strstr(l, " - "), *f[6], *s2 = NULL;
    if (!sep) continue;
    *sep = 0;
    char *post = sep + 3, *fs = strtok_r(post, " ", &s2), *src = strtok_r(NULL, " ", &s2), *opts = strtok_r(NULL, " ", &s2);
    if (!fs || (strcmp(fs, "cgroup") && strcmp(fs, "cgroup2")) || !src) continue;
    int k = 0;
    char *s1 = NULL;
    for (char *t = strtok_r(l, " ", &s1); t && k < 6; t = strtok_r(NULL, " ", &s1)) f[k++] = t;
    if (k < 5) continue;
    if (*out) strcat(out, "\n");
    strcat(out, f[4]), strcat(out, " "), strcat(out, fs), strcat(out, " "), strcat(out, opts ? opts : "");
  }
  free(mi);
  return out;
}

static int fact_holds(const struct pc_fact *f) {
  char buf[128];
  size_t n = 0;
  char *have = NULL;
  struct stat st;
  if (f->kind == PC_FACT_FILE) have = (char *)front_slurp(AT_FDCWD, f->path, &n);
  else if (f->kind == PC_FACT_MOUNTS) { have = cgroup_mounts(); n = have ? strlen(have) : 0; }
  else if (f->kind == PC_FACT_STAT && !stat(f->path, &st)) {
    n = (size_t)snprintf(buf, sizeof buf, "%llu:%llu:%lld:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
                         (long long)st.st_size, (unsigned long long)st.st_mtim.tv_sec * 1000000000ull + (unsigned long long)st.st_mtim.tv_nsec);
    have = strdup(buf);
  }
  int ok = have && n == f->len && !memcmp(have, f->expect, n);
  free(have);
  return ok;
}

static int key_holds(const struct pcache *e, const char *mode, const char *root, const char *bundle, const char *flags,
                     const uint8_t *config, size_t config_len) {
  if (strcmp(e->mode, mode) || strcmp(e->root, root) || strcmp(e->bundle, bundle) || strcmp(e->flags, flags)) return 0;
  if (e->config_len != config_len || memcmp(e->config, config, config_len)) return 0;
  for (size_t i = 0; i < e->nfacts; i++) if (!fact_holds(&e->facts[i])) { front_note("host fact `%s` changed", e->facts[i].path); return 0; }
  return 1;
}

/* true for a directory or regular file of ours that no one else may write */
static int private(int fd, mode_t type) {
  struct stat st;
  return !fstat(fd, &st) && (st.st_mode & S_IFMT) == type && st.st_uid == geteuid() && !(st.st_mode & 022);
}

/* <root>/.plan-cache/<name>, read only if the dir and the entry are ours and private and
 * neither is a symlink: the cache holds Plans that run as root */
static uint8_t *read_private_entry(const char *root, const char *name, size_t *n) {
  char dir[4400];
  if ((size_t)snprintf(dir, sizeof dir, "%s/.plan-cache", root) >= sizeof dir) return NULL;
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  int fd = dfd >= 0 && private(dfd, S_IFDIR) ? openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
  uint8_t *buf = fd >= 0 && private(fd, S_IFREG) ? front_read(fd, n) : NULL;
  if (fd >= 0) close(fd);
  if (dfd >= 0) close(dfd);
  return buf;
}

/* the entry for this command line, or NULL (a miss) */
static struct pcache *lookup(const char *mode, const char *root, const char *bundle, const char *flags) {
  size_t clen, n;
  char path[8400];
  if ((size_t)snprintf(path, sizeof path, "%s/config.json", bundle) >= sizeof path) return NULL;
  uint8_t *config = front_slurp(AT_FDCWD, path, &clen);
  if (!config) return NULL;
  size_t hl = strlen(mode) + strlen(root) + strlen(bundle) + strlen(flags) + 4;
  uint8_t *k = malloc(hl + clen + 1);
  if (!k) { free(config); return NULL; }
  snprintf((char *)k, hl + 1, "%s%c%s%c%s%c%s%c", mode, 0, root, 0, bundle, 0, flags, 0);
  memcpy(k + hl, config, clen);
  char name[24];
  snprintf(name, sizeof name, "%016llx", (unsigned long long)fnv1a64(k, hl + clen));
  free(k);
  uint8_t *buf = read_private_entry(root, name, &n);
  struct pcache *e = buf ? calloc(1, sizeof *e) : NULL;
  int ok = e && !pcache_parse(buf, n, e) && key_holds(e, mode, root, bundle, flags, config, clen);
  free(buf), free(config);
  if (!ok && e) { pcache_free(e); free(e); e = NULL; }
  front_note(e ? "plan cache hit %s/.plan-cache/%s" : "plan cache miss %s/.plan-cache/%s", root, name);
  return e;
}

/* ---- making the container ---- */

static int write_file_at(int dirfd, const char *name, const void *b, size_t n, int flags) {
  int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0600);
  if (fd < 0) return -1;
  const char *p = b;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) { close(fd); return -1; }
    p += w, n -= (size_t)w;
  }
  return close(fd);
}

/* the rendered record (strings owned by `m`), used for state.bin and for cleanup */
static int render_rec(struct made *m) {
  struct srec *r = &m->rec;
  r->flags = m->e->srec_flags;
  for (int i = 0; i < SREC_NSTR; i++) if (!(r->str[i] = pc_render(m->e->srec[i], m->val, 0))) return -1;
  for (size_t i = 0; i < m->e->nowned; i++) if (!(r->owned[i] = pc_render(m->e->owned[i], m->val, 0))) return -1;
  for (size_t i = 0; i < m->e->ncreated; i++) if (!(r->created[i] = pc_render(m->e->created[i], m->val, 0))) return -1;
  r->nowned = m->e->nowned, r->ncreated = m->e->ncreated;
  return 0;
}

static void free_rec(struct srec *r) {
  for (int i = 0; i < SREC_NSTR; i++) free(r->str[i]), r->str[i] = NULL;
  for (size_t i = 0; i < r->nowned; i++) free(r->owned[i]);
  for (size_t i = 0; i < r->ncreated; i++) free(r->created[i]);
  r->nowned = r->ncreated = 0;
}

/* StateStore.write: state.bin (with the digest of the state.json beside it), then state.json */
static int write_state(struct made *m, uint32_t pid) {
  free_rec(&m->rec);
  char *json = pc_render(m->e->state_json, m->val, 0);
  int rc = -1;
  size_t blen;
  uint8_t *bin = NULL;
  if (json && !render_rec(m)) {
    m->rec.pid = pid;
    m->rec.json_hash = fnv1a64((uint8_t *)json, strlen(json));
    bin = srec_encode(&m->rec, &blen);
  }
  char jt[64], bt[64];
  snprintf(jt, sizeof jt, ".state.json.%d", (int)getpid()), snprintf(bt, sizeof bt, ".state.bin.%d", (int)getpid());
  int dfd = m->c->dirfd;
  if (bin && !write_file_at(dfd, jt, json, strlen(json), O_TRUNC) && !write_file_at(dfd, bt, bin, blen, O_TRUNC) &&
      !renameat(dfd, bt, dfd, "state.bin") && !renameat(dfd, jt, dfd, "state.json")) rc = 0;
  free(json), free(bin);
  return rc;
}

/* createContainerCgroup, replayed: the dirs, then the writes, in TypeScript's order */
static int make_cgroup(struct made *m) {
  for (size_t i = 0; i < m->e->nmkdir; i++) {
    char *d = pc_render(m->e->mkdir[i], m->val, 0);
    int rc = d ? mkdir(d, 0777) : -1;
    free(d);
    if (rc) return -1;
    m->nmade = i + 1;
  }
  for (size_t i = 0; i < m->e->nwrites; i++) {
    char *p = pc_render(m->e->writes[i].path, m->val, 0);
    int rc = p ? write_file_at(AT_FDCWD, p, m->e->writes[i].value, strlen(m->e->writes[i].value), O_TRUNC) : -1;
    free(p);
    if (rc) return -1;
  }
  return 0;
}

static int read_full(int fd, void *b, size_t n) {
  for (char *p = b; n > 0;) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r, n -= (size_t)r;
  }
  return 0;
}

static void proc_start(uint32_t pid, char *out, size_t n) {
  char path[64], buf[1024], *save = NULL;
  snprintf(path, sizeof path, "/proc/%u/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t len = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (fd >= 0) close(fd);
  *out = 0;
  char *p = len > 0 ? (buf[len] = 0, strrchr(buf, ')')) : NULL;
  char *tok = p && p[1] ? strtok_r(p + 2, " ", &save) : NULL;
  for (int i = 0; tok && i < 19; i++) tok = strtok_r(NULL, " ", &save);
  if (tok) snprintf(out, n, "%s", tok);
}

/* the runtime's side of the sync protocol (helper-proc.ts) up to MSG_READY; no hooks here */
static int sync_until_ready(struct made *m) {
  for (;;) {
    uint8_t head[8], pl[4096];
    if (read_full(m->sock, head, 8)) return -1;
    uint32_t type = rd32(head), len = rd32(head + 4);
    if (len > sizeof pl || read_full(m->sock, pl, len)) return -1;
    if (type == MSG_READY) return 0;
    if (type != MSG_PID || len != 4) return -1; /* an error, or a sync point: Node's to handle */
    /* recorded at once, as create.ts does: a create killed from here on leaves a record */
    uint32_t pid = rd32(pl);
    /* opened now: the pid is not reaped before the helper's own wait (it comes from the
     * container process itself, after its `go`, and the helper reaps it only once it has
     * ended): undo() signals this process and no other */
    if (m->pidfd < 0) m->pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    snprintf(m->pid_s, sizeof m->pid_s, "%u", pid);
    proc_start(pid, m->start_s, sizeof m->start_s);
    if (write_state(m, pid)) return -1;
  }
}

/* forks the helper: the child is this sealed image running the Plan from fd 3, as
 * `moat-helper 3` would; the parent writes the Plan and follows the protocol */
static int run_plan(struct made *m) {
  size_t plen;
  uint8_t *plan = pc_render_plan(m->e, m->c->id, &plen);
  int sv[2];
  if (!plan || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) { free(plan); return -1; }
  fflush(NULL);
  m->helper = fork();
  if (m->helper == 0) {
    if (dup2(sv[1], 3) < 0) _exit(127);
    if (syscall(SYS_close_range, 4U, ~0U, 0) < 0) for (int fd = 4; fd < 1024; fd++) close(fd);
    run_plan_fd(3);
  }
  close(sv[1]);
  m->sock = sv[0];
  int rc = m->helper < 0 ? -1 : 0;
  for (size_t off = 0; !rc && off < plen;) {
    ssize_t w = send(m->sock, plan + off, plen - off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) rc = -1;
    else off += (size_t)w;
  }
  free(plan);
  if (rc) return -1;
  return sync_until_ready(m);
}

static void iso_now(char *out, size_t n) {
  struct timespec ts;
  struct tm tm;
  char b[32];
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
  if ((size_t)snprintf(out, n, "%s.%03dZ", b, (int)(ts.tv_nsec / 1000000)) >= n) *out = 0;
}

/* writePidFile of create.ts: a temporary file beside it, renamed over */
static int write_pid_file(const char *path, const char *pid) {
  char dir[4096], tmp[4200];
  uint64_t rnd;
  if ((size_t)snprintf(dir, sizeof dir, "%s", path) >= sizeof dir) return -1;
  char *slash = strrchr(dir, '/');
  if (slash) slash[slash == dir ? 1 : 0] = 0;
  /* an unpredictable name, made new and never through a symlink: the dir may be others' too */
  if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd) return -1;
  if ((size_t)snprintf(tmp, sizeof tmp, "%s/.%d.%016llx.pid", slash ? dir : ".", (int)getpid(), (unsigned long long)rnd) >= sizeof tmp) return -1;
  if (write_file_at(AT_FDCWD, tmp, pid, strlen(pid), O_EXCL | O_NOFOLLOW)) { if (errno != EEXIST) unlink(tmp); return -1; }
  if (rename(tmp, path)) { unlink(tmp); return -1; }
  return 0;
}

/* what create.ts's catch does: kill, remove the cgroup dirs this command made (never one
 * that existed before: a mkdir that met EEXIST is not ours) and the state */
static void undo(struct made *m) {
  if (m->pidfd >= 0) syscall(SYS_pidfd_send_signal, m->pidfd, SIGKILL, NULL, 0);
  if (m->helper > 0) kill(m->helper, SIGKILL), waitpid(m->helper, NULL, 0);
  m->helper = -1;
  struct srec mine = { 0 };
  for (size_t i = 0; i < m->nmade && i < m->rec.ncreated; i++) mine.created[i] = mine.owned[i] = m->rec.created[i];
  mine.ncreated = mine.nowned = m->nmade < m->rec.ncreated ? m->nmade : m->rec.ncreated;
  front_destroy(m->c, &mine, 0);
}

static pid_t forward_to;
static void forward(int sig) { if (forward_to > 0) kill(forward_to, sig); }

/* run.ts: signals to us go to the helper, which passes them on; its status is the container's */
static int wait_forwarding(pid_t helper) {
  static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
  struct sigaction sa = { .sa_handler = forward };
  forward_to = helper;
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
  int st = 0;
  while (waitpid(helper, &st, 0) < 0 && errno == EINTR) {}
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* a delete the front could not finish goes to Node, as run.ts's own delete would report it */
static void node_delete(char **argv, struct front_cmd *c) {
  pid_t p = fork();
  if (p == 0) {
    execlp("node", "node", argv[2], "--root", c->root, "delete", "--force", c->id, (char *)NULL);
    _exit(127);
  }
  if (p > 0) while (waitpid(p, NULL, 0) < 0 && errno == EINTR) {}
}

static int make(struct made *m, const struct create_args *a) {
  /* the record is written once the cgroup dirs are made: a record written before would name
   * dirs this command never made, and a later delete would remove them (another's, maybe).  A
   * front killed between the two leaves empty dirs and no record, never a wrong record.  The
   * record is rendered first so that undo() knows the dirs of a make_cgroup that failed. */
  if (render_rec(m) || make_cgroup(m) || write_state(m, 0) || run_plan(m)) return -1;
  if (!(a->run && !a->detach)) {
    while (waitpid(m->helper, NULL, 0) < 0 && errno == EINTR) {}
    m->helper = -1;
  }
  return a->pid_file ? write_pid_file(a->pid_file, m->pid_s) : 0;
}

/* reserves the id (the state dir's creation is the test for existence) and takes its lock */
static int reserve(struct front_cmd *c) {
  char path[4400];
  if (mkdir(c->root, 0700) && errno != EEXIST) return -1;
  snprintf(path, sizeof path, "%s/%s", c->root, c->id);
  if (mkdir(path, 0700)) return -1;
  c->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (c->dirfd < 0 || front_lock(c)) { rmdir(path); return -1; }
  return 0;
}

static int run_started(struct made *m, const struct create_args *a, char **argv) {
  struct front_cmd *c = m->c;
  /* front_start fails only before the start byte is written (the workload has not run) */
  if (front_start(c)) {
    if (m->helper > 0) kill(m->helper, SIGKILL), waitpid(m->helper, NULL, 0);
    c->force = 1;
    if (front_delete(c)) node_delete(argv, c);
    return -1; /* Node runs the command again from the start, and prints the warnings */
  }
  /* started: from here on the command is ours to the end, never Node's */
  if (*m->e->warnings) fputs(m->e->warnings, stderr), fflush(stderr);
  if (a->detach) return 0;
  int status = wait_forwarding(m->helper);
  c->force = 1;
  if (front_delete(c)) node_delete(argv, c);
  return status;
}

int front_create(struct front_cmd *c, const struct create_args *a, char **argv) {
  char cwd[4096], bundle[8300];
  /* a helper named by MOAT_HELPER is not this one: plan-cache.ts caches nothing then, and no
   * entry made before it was set may be replayed by this binary */
  if (getenv("MOAT_HELPER")) return -1;
  if (!getcwd(cwd, sizeof cwd) || c->root[0] != '/') return -1;
  if (!strcmp(a->bundle, ".")) snprintf(bundle, sizeof bundle, "%s", cwd);
  else snprintf(bundle, sizeof bundle, a->bundle[0] == '/' ? "%s" : "%s/%s", a->bundle[0] == '/' ? a->bundle : cwd, a->bundle);
  struct pcache *e = lookup(a->run ? (a->detach ? "run-detach" : "run") : "create", c->root, bundle, a->no_pivot ? "no-pivot" : "");
  if (!e) return -1;
  struct made m = { .c = c, .e = e, .helper = -1, .sock = -1, .pidfd = -1, .pid_s = "0" };
  m.val[0] = m.pid_s, m.val[1] = m.start_s, m.val[2] = m.created_s, m.val[3] = c->id;
  iso_now(m.created_s, sizeof m.created_s);
  int rc = -1;
  if (!reserve(c)) {
    if (make(&m, a)) undo(&m);
    else rc = 0;
    front_unlock(c);
  }
  if (m.sock >= 0) close(m.sock);
  if (m.pidfd >= 0) close(m.pidfd);
  /* printed once the container is made (for `run`, started), so that a fall back to Node
   * never prints them twice */
  if (!rc && !a->run && *e->warnings) fputs(e->warnings, stderr), fflush(stderr);
  if (!rc && a->run) rc = run_started(&m, a, argv);
  free_rec(&m.rec);
  pcache_free(e);
  free(e);
  return rc;
}
