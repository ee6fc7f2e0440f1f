/* moat-helper: executes a Plan compiled by moat's TypeScript.  It holds no defaults of its
 * own: every decision arrives in the Plan.  See plan.h for the wire format and
 * docs/helper.md for the stages and the sync protocol. */
#ifndef MOAT_HELPER_H
#define MOAT_HELPER_H
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "plan.h"

#define MAX_REPEAT 4096

struct op {
  uint16_t type;
  uint64_t present;          /* bit per PA_* attribute */
  const char *str[PA_MAX];   /* NUL-terminated copies */
  uint64_t num[PA_MAX];
  const uint8_t *bytes;
  size_t nbytes;
  const char **args; size_t nargs;
  const char **env; size_t nenv;
  uint64_t *groups; size_t ngroups;
};

struct plan {
  struct op *ops;
  size_t nops;
};

/* sync messages between the helper (parent or container process) and TypeScript */
enum msg_type {
  MSG_PID = 1,      /* container process -> ts, its first message: u32 its pid, host view */
  MSG_SYNC = 2,     /* container -> ts: name of a sync point; waits for CONTINUE or ABORT */
  MSG_CONTINUE = 3, /* ts -> container: payload is the state document given to hooks */
  MSG_READY = 4,    /* container -> ts: set up, waiting for start */
  MSG_ERROR = 5,    /* helper -> ts: u32 stage, i32 op index, u32 errno, message */
  MSG_ABORT = 6,    /* ts -> container: stop now */
  MSG_EXITED = 7,   /* foreground helper -> ts: u32 the container process's status, as the
                     * helper's own exit status will be; sent before the helper reaps it */
  MSG_CGROUPS = 8,  /* server-forked helper -> ts, before its Plan: the cgroup recipe of its
                     * SPAWN done: u32 dirs made, i32 failed step (-1: none), u32 errno */
};

enum stage { STAGE_PLAN = 1, STAGE_PARENT = 2, STAGE_CHILD = 3, STAGE_EXEC = 4 };

/* global state of the running helper */
struct helper {
  int sync_fd;           /* socket to TypeScript; -1 once gone */
  int stage;
  int op_index;
  int root_fd;           /* container root: the rootfs before pivot, "/" after */
  int fifo_fd;           /* exec fifo, opened before pivot */
  int devnull_fd;        /* host /dev/null, verified, for masking */
  int console_sock;      /* connected --console-socket, or -1 */
  int seccomp_sock;      /* connected seccomp listener socket, or -1 */
  int userns;            /* the container has its own user namespace */
  int in_cgroups;        /* the helper joined the container's cgroups itself (cgroup_join mode 0) */
  int last_cap;
  char *state;           /* latest state document from TypeScript (for hooks) */
  size_t state_len;
  char *seccomp_state;   /* containerProcessState for the seccomp agent (sync `seccompState`) */
  size_t seccomp_state_len;
  /* a device program the helper server loaded (server.c): its fd, and the instructions it
   * was loaded from; used by op_device_bpf when the Plan's program is the same, and closed
   * before clone either way (the container process never holds it) */
  int dev_prog_fd;
  const uint8_t *dev_prog_insns;
  size_t dev_prog_len;
};
extern struct helper H;

/* plan.c */
int plan_parse(const uint8_t *buf, size_t len, struct plan *out, char *err, size_t errlen);
int read_plan(int fd, struct plan *out);
static inline int has(const struct op *o, int attr) { return (o->present >> attr) & 1; }

/* sync.c */
__attribute__((noreturn, format(printf, 2, 3))) void die(int err, const char *fmt, ...);
int send_msg(uint32_t type, const void *payload, uint32_t len);
int recv_msg(uint32_t *type, char **payload, uint32_t *len);
void sync_point(const char *name);
int send_fd(int sock, int fd, const char *name, size_t namelen);

/* ops-host.c: run before clone */
void op_cgroup_join(const struct op *o);
void op_device_bpf(const struct op *o);
int load_device_prog(const uint8_t *insns, size_t len, char *log, size_t logsize);
void drop_server_prog(void);
void op_unshare(const struct op *o); /* in the container process */
void op_ns_join(const struct op *o);
void ns_preopen(struct plan *p);
void op_connect(const struct op *o);
void op_time_offsets(const struct op *o);
void op_idmap_tree(const struct op *o);
int idmap_tree_fd(uint64_t op_index);
void op_overlay_tree(const struct op *o);

/* waiter.c: forked first for a detached clone op with PATH (its exit status file) */
void start_waiter(const char *path);
/* in the plan executor: tells the waiter the pid of the container's first process (0 in the
 * cloned child: it only drops its copy of the pipe) */
void waiter_report(pid_t pid);
int op_clone(const struct op *o); /* returns only in the child */
__attribute__((noreturn)) void relay_and_wait(pid_t pid, int sock);
__attribute__((noreturn)) void run_plan_fd(int fd);
__attribute__((noreturn)) void serve(int ctrl_fd, const char *keep_parent);
__attribute__((noreturn)) void spare_main(int sock);
void ensure_sealed(char **argv); /* main.c: re-exec from a sealed memfd unless already */

/* ops-mount.c */
void op_root_propagation(const struct op *o);
void op_root_bind(const struct op *o);
void op_mount(const struct op *o);
void op_mkdev(const struct op *o);
void op_symlink(const struct op *o);
void op_pivot(const struct op *o);
void op_mask(const struct op *o);
void op_readonly(const struct op *o);
void op_remount_root(const struct op *o);
int open_in_root(const char *path, int flags, int create /* 0 none, 1 dir, 2 file */);

/* ops-proc.c */
void op_hostname(const struct op *o);
void op_domainname(const struct op *o);
void op_sysctl(const struct op *o);
void op_rlimit(const struct op *o);
void op_oom_score_adj(const struct op *o);
void op_personality(const struct op *o);
void op_umask(const struct op *o);
void op_chdir(const struct op *o);
void op_open_fifo(const struct op *o);
void op_wait_start(const struct op *o);
void op_hook(const struct op *o);
void op_console(const struct op *o);
void op_loopback_up(const struct op *o);

/* ops-creds.c */
void op_set_user(const struct op *o);
void op_caps(const struct op *o);
void op_no_new_privs(const struct op *o);
void op_seccomp(const struct op *o);
void op_landlock(const struct op *o);
__attribute__((noreturn)) void op_exec(const struct op *o);

/* ops-lsm.c */
void op_lsm_attr(const struct op *o);

#endif
