/* The CLI front of moat-oci (`moat-helper front CJS ARGS...`): serves `state`, `kill`, `start`
 * and `delete` from the binary state record TypeScript writes next to state.json
 * (src/runtime/state-record.ts), and execs `node CJS ARGS...` on any doubt.  It decides
 * nothing TypeScript has not already decided: it never prints an error of its own (every
 * error case goes to Node, which reports it) and it takes the same lock file as Node. */
#ifndef MOAT_FRONT_H
#define MOAT_FRONT_H
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>

#define SREC_MAGIC "MOATSTB1"
#define SREC_VERSION 1u
#define SREC_MAX_DIRS 64
enum { SREC_HOOKS = 1, SREC_ROOTLESS = 2, SREC_STOPPED = 4 };
enum { SREC_PID_START, SREC_ID, SREC_STOPPED_DOC, SREC_LIVE_HEAD, SREC_LIVE_TAIL, SREC_FREEZER_KIND,
       SREC_FREEZER_DIR, SREC_PROCS_DIR, SREC_KILL_DIR, SREC_NSTR };

/* a parsed state.bin: strings point into a private NUL-terminated copy */
struct srec {
  uint32_t flags, pid;
  uint64_t json_hash;
  char *str[SREC_NSTR];
  char *owned[SREC_MAX_DIRS];
  size_t nowned;
  char *created[SREC_MAX_DIRS];
  size_t ncreated;
  char *mem;
};

uint64_t fnv1a64(const uint8_t *b, size_t n);
/* 0 and a filled `out`, or -1 for anything but a complete, intact record of this version */
int srec_parse(const uint8_t *buf, size_t len, struct srec *out);
void srec_free(struct srec *r);

/* front-verbs.c: each returns the exit status, or -1 to hand the command to Node */
struct front_cmd {
  const char *root, *id, *signal;
  int dirfd;
  int all, force;
};
int front_state(struct front_cmd *c);
int front_kill(struct front_cmd *c);
int front_start(struct front_cmd *c);
int front_delete(struct front_cmd *c);
void front_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int front_main(int argc, char **argv);
void ensure_sealed(char **argv);

/* front-cache.c: a Plan cache entry (src/runtime/plan-cache.ts) */
#define PC_MAGIC "MOATPC01"
#define PC_VERSION 1u
#define PC_MAX_FACTS 32
#define PC_MAX_WRITES 1024
#define PC_MAX_MARKS 4096
enum { PC_FACT_FILE = 1, PC_FACT_STAT = 2, PC_FACT_MOUNTS = 3 };
struct pc_fact { uint32_t kind; const char *path; const char *expect; size_t len; };
struct pcache {
  const char *mode, *root, *bundle, *flags;
  const char *config; size_t config_len;
  struct pc_fact facts[PC_MAX_FACTS]; size_t nfacts;
  const char *warnings;
  const char *mkdir[SREC_MAX_DIRS]; size_t nmkdir;
  struct { const char *path, *value; } writes[PC_MAX_WRITES]; size_t nwrites;
  const char *plan; size_t plan_len;
  uint32_t marks[PC_MAX_MARKS]; size_t nmarks;
  const char *state_json;
  uint32_t srec_flags;
  const char *srec[SREC_NSTR];
  const char *owned[SREC_MAX_DIRS]; size_t nowned;
  const char *created[SREC_MAX_DIRS]; size_t ncreated;
  char *mem;
};
/* 0 and a filled entry (its memory freed by pcache_free), or -1 */
int pcache_parse(const uint8_t *buf, size_t len, struct pcache *e);
void pcache_free(struct pcache *e);
/* a template with the placeholders filled in from val[] (pid, start time, creation time, id;
 * only the id with `only_id`), malloc'ed; NULL on failure */
char *pc_render(const char *t, const char *const *val, int only_id);
/* the entry's Plan with `id` in its marked attributes, lengths recomputed; NULL if malformed */
uint8_t *pc_render_plan(const struct pcache *e, const char *id, size_t *out_len);
/* front-record.c: the bytes of a state.bin for `r` (malloc'ed), or NULL */
uint8_t *srec_encode(const struct srec *r, size_t *len);

/* front-create.c: `create` and `run` from the Plan cache */
struct create_args { const char *bundle, *pid_file; int no_pivot, detach, run; };
int front_create(struct front_cmd *c, const struct create_args *a, char **argv);
/* front-verbs.c, shared with front-create.c */
uint8_t *front_slurp(int dirfd, const char *name, size_t *len);
uint8_t *front_read(int fd, size_t *len);
int front_lock(struct front_cmd *c);
void front_unlock(struct front_cmd *c);
int front_destroy(struct front_cmd *c, const struct srec *r, int kill_first);
#endif
