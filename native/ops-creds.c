/* Credentials and confinement, in the order buildPlan puts them: user and groups, then
 * capabilities, then no_new_privs, then seccomp, then exec. */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void capset3(uint64_t eff, uint64_t prm, uint64_t inh) {
  struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct d[2] = {
    { (uint32_t)eff, (uint32_t)prm, (uint32_t)inh },
    { (uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32) },
  };
  if (syscall(SYS_capset, &h, d) < 0) die(errno, "set capabilities");
}

static uint64_t cap_permitted(void) {
  struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) < 0) die(errno, "get capabilities");
  return (uint64_t)d[0].permitted | (uint64_t)d[1].permitted << 32;
}

/* Switches to the configured ids.  KEEPCAPS holds the permitted set across setresuid so that
 * the CAPS op, which follows, can still drop the bounding set and choose the final sets. */
void op_set_user(const struct op *o) {
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) die(errno, "keep capabilities");
  if (!(has(o, PA_FLAGS) && (o->num[PA_FLAGS] & 1))) {
    gid_t g[MAX_REPEAT];
    for (size_t i = 0; i < o->ngroups; i++) g[i] = (gid_t)o->groups[i];
    if (setgroups(o->ngroups, g) < 0) die(errno, "set supplementary groups");
  }
  if (setresgid((gid_t)o->num[PA_GID], (gid_t)o->num[PA_GID], (gid_t)o->num[PA_GID]) < 0) die(errno, "set gid %llu", (unsigned long long)o->num[PA_GID]);
  if (setresuid((uid_t)o->num[PA_UID], (uid_t)o->num[PA_UID], (uid_t)o->num[PA_UID]) < 0) die(errno, "set uid %llu", (unsigned long long)o->num[PA_UID]);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) die(errno, "clear keep capabilities");
  uint64_t prm = cap_permitted();
  capset3(prm, prm, 0);
}

void op_caps(const struct op *o) {
  uint64_t known = H.last_cap >= 63 ? ~0ull : (1ull << (H.last_cap + 1)) - 1;
  for (int c = 0; c <= H.last_cap; c++)
    if (!((o->num[PA_CAP_BND] >> c) & 1) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
      die(errno, "drop capability %d from the bounding set", c);
  capset3(o->num[PA_CAP_EFF] & known, o->num[PA_CAP_PRM] & known, o->num[PA_CAP_INH] & known);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) die(errno, "clear ambient capabilities");
  for (int c = 0; c <= H.last_cap; c++)
    if (((o->num[PA_CAP_AMB] >> c) & 1) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
      die(errno, "raise ambient capability %d", c);
}

void op_no_new_privs(const struct op *o) {
  (void)o;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die(errno, "set no_new_privs");
}

/* Loads the filter compiled by TypeScript, as it is.  With a listener the notify fd goes to
 * the seccomp socket together with the container process state (OCI "containerProcessState",
 * fetched by the `seccompState` sync point before wait_start, while TypeScript still listens).
 *
 * Why the order after seccomp() is safe: the listener fd exists only once the filter is
 * loaded, so it is sent after.  Until the agent holds it, a notified syscall of ours would
 * wait forever; so between the load and the sendmsg() the helper makes no other syscall (the
 * filter lives in a static buffer: no free(), no brk/munmap), and the compiler refuses a
 * NOTIFY rule on `sendmsg` (SECCOMP_NOTIFY).  Everything after the send (close, the
 * remaining ops, execve) may be notified: the agent holds the fd by then and must answer
 * them (SECCOMP_USER_NOTIF_FLAG_CONTINUE for calls it does not care about), as with runc. */
void op_seccomp(const struct op *o) {
  static struct sock_filter f[BPF_MAXINSNS];
  if (o->nbytes == 0 || o->nbytes % 8 || o->nbytes / 8 > BPF_MAXINSNS) die(EINVAL, "seccomp filter of %zu bytes", o->nbytes);
  memcpy(f, o->bytes, o->nbytes);
  struct sock_fprog prog = { .len = (unsigned short)(o->nbytes / 8), .filter = f };
  int listener = (o->num[PA_FLAGS] & SECCOMP_FILTER_FLAG_NEW_LISTENER) != 0;
  const char *st = H.seccomp_state ? H.seccomp_state : has(o, PA_DATA) ? o->str[PA_DATA] : "{}";
  size_t stlen = H.seccomp_state ? H.seccomp_state_len : strlen(st);
  if (listener && H.seccomp_sock < 0) die(EINVAL, "seccomp listener: no socket (linux.seccomp.listenerPath)");
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned)o->num[PA_FLAGS], &prog);
  if (r < 0) die(errno, "load seccomp filter");
  if (!listener) return;
  if (send_fd(H.seccomp_sock, (int)r, st, stlen) < 0) die(errno, "send seccomp listener");
  close((int)r);
  close(H.seccomp_sock);
  H.seccomp_sock = -1;
}

static const char *find_in_path(const char *name, char **env, char *buf, size_t len) {
  if (strchr(name, '/')) return name;
  /* the container's own PATH, as runc looks it up: no default of the helper's */
  const char *path = "";
  for (char **e = env; e && *e; e++) if (!strncmp(*e, "PATH=", 5)) path = *e + 5;
  for (const char *p = path; *p;) {
    const char *end = strchrnul(p, ':');
    snprintf(buf, len, "%.*s/%s", (int)(end - p), end == p ? "." : p, name);
    struct stat st;
    if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0) return buf;
    p = *end ? end + 1 : end;
  }
  errno = ENOENT;
  return NULL;
}

/* The container gets fds 0-2 and the KEEP_FDS that follow; every other fd is close-on-exec
 * (CVE-2024-21626: a leaked host fd is a way out). */
void op_exec(const struct op *o) {
  static char *none[] = { NULL };
  char buf[4096];
  unsigned keep = has(o, PA_KEEP_FDS) ? (unsigned)o->num[PA_KEEP_FDS] : 0;
  H.stage = STAGE_EXEC;
  for (unsigned fd = 0; fd < 3 + keep; fd++) {
    int fl = fcntl((int)fd, F_GETFD);
    if (fl >= 0) fcntl((int)fd, F_SETFD, fl & ~FD_CLOEXEC);
  }
  if (syscall(SYS_close_range, 3 + keep, ~0u, CLOSE_RANGE_CLOEXEC) < 0) die(errno, "close inherited fds");
  char **env = o->nenv ? (char **)o->env : none;
  const char *path = has(o, PA_PATH) ? o->str[PA_PATH] : find_in_path(o->args[0], env, buf, sizeof buf);
  if (!path) die(ENOENT, "exec `%s`: not found in PATH", o->args[0]);
  execve(path, (char **)o->args, env);
  die(errno, "exec `%s`", path);
}
