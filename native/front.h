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
#endif
