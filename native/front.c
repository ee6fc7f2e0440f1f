/* moat-helper front CJS ARGS...: the first thing `bin/moat-oci` runs (see front.h).  It parses
 * only the command lines it serves completely: `[--root DIR] state|start ID`,
 * `kill [--all|-a] ID [SIGNAL]`, `delete [--force|-f] ID`.  Anything else (another global flag
 * such as --log or --debug, another verb, --help, `--flag=value` forms) execs Node unchanged,
 * as does any verb that meets a case it does not handle (front-verbs.c). */
#include "front.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

static int debug;

void front_note(const char *fmt, ...) {
  if (!debug) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("moat-oci front: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* exec `node CJS ARGS...`: the same command line, in full, to the TypeScript CLI */
static __attribute__((noreturn)) void to_node(char **argv, const char *why) {
  front_note("to node: %s", why);
  argv[1] = "node";
  execvp("node", argv + 1);
  fprintf(stderr, "moat-oci: run `node`: %s\n", strerror(errno));
  _exit(127);
}

/* the container id rule of src/runtime/state.ts: [A-Za-z0-9][A-Za-z0-9_.+-]{0,253} */
static int valid_id(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 254 || !strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", s[0])) return 0;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || (ch && strchr("_.+-", ch));
    if (!ok) return 0;
  }
  return 1;
}

/* global flags: only --root; returns the index of the verb or -1 */
static int parse_global(int argc, char **argv, struct front_cmd *c) {
  int i = 3;
  while (i < argc && argv[i][0] == '-') {
    if (!strcmp(argv[i], "--root") && i + 1 < argc) c->root = argv[i + 1], i += 2;
    else if (!strncmp(argv[i], "--root=", 7)) c->root = argv[i] + 7, i++;
    else return -1;
  }
  if (!c->root && geteuid() == 0) c->root = "/run/moat-oci";
  if (!c->root || !*c->root || i >= argc) return -1;
  return i;
}

/* the verb's flags (anywhere among its arguments) and positionals; -1 on anything unknown */
static int parse_verb(const char *verb, int argc, char **argv, int i, struct front_cmd *c) {
  const char *pos[3];
  int npos = 0, is_kill = !strcmp(verb, "kill"), is_del = !strcmp(verb, "delete");
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (is_kill && (!strcmp(a, "--all") || !strcmp(a, "-a"))) c->all = 1;
    else if (is_del && (!strcmp(a, "--force") || !strcmp(a, "-f"))) c->force = 1;
    else if (a[0] == '-' || npos == 3) return -1;
    else pos[npos++] = a;
  }
  if (npos < 1 || npos > (is_kill ? 2 : 1) || !valid_id(pos[0])) return -1;
  c->id = pos[0];
  c->signal = npos == 2 ? pos[1] : "SIGTERM";
  return 0;
}

static int open_container(struct front_cmd *c) {
  char path[4096];
  if ((size_t)snprintf(path, sizeof path, "%s/%s", c->root, c->id) >= sizeof path) return -1;
  c->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  /* the state dir is the runtime's own (0700): a record in someone else's dir is not read */
  struct stat st;
  return c->dirfd < 0 || fstat(c->dirfd, &st) || st.st_uid != geteuid() ? -1 : 0;
}

/* create/run flags: -b/--bundle, --pid-file, --no-pivot, --no-new-keyring, run's -d/--detach */
static int parse_create(int argc, char **argv, int i, struct front_cmd *c, struct create_args *a) {
  const char *id = NULL;
  a->bundle = ".";
  for (; i < argc; i++) {
    const char *x = argv[i];
    int more = i + 1 < argc;
    if ((!strcmp(x, "-b") || !strcmp(x, "--bundle")) && more) a->bundle = argv[++i];
    else if (!strncmp(x, "--bundle=", 9)) a->bundle = x + 9;
    else if (!strcmp(x, "--pid-file") && more) a->pid_file = argv[++i];
    else if (!strncmp(x, "--pid-file=", 11)) a->pid_file = x + 11;
    else if (!strcmp(x, "--no-pivot")) a->no_pivot = 1;
    else if (!strcmp(x, "--no-new-keyring")) continue;
    else if (a->run && (!strcmp(x, "-d") || !strcmp(x, "--detach"))) a->detach = 1;
    else if (x[0] == '-' || id) return -1;
    else id = x;
  }
  if (!id || !valid_id(id) || !*a->bundle || (a->pid_file && !*a->pid_file)) return -1;
  c->id = id;
  return 0;
}

/* create and run: the helper's work happens in a fork of this process, so it must be the
 * sealed image first (main.c, CVE-2019-5736) */
static int create_or_run(int argc, char **argv, int i, struct front_cmd *c) {
  struct create_args a = { .run = !strcmp(argv[i], "run") };
  if (geteuid() != 0 || parse_create(argc, argv, i + 1, c, &a)) to_node(argv, "arguments");
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  ensure_sealed(argv);
  int rc = front_create(c, &a, argv);
  if (rc < 0) to_node(argv, argv[i]);
  front_note("served %s", argv[i]);
  return rc;
}

int front_main(int argc, char **argv) {
  const char *d = getenv("MOAT_OCI_FRONT_DEBUG");
  debug = d && *d && strcmp(d, "0");
  struct front_cmd c = { .dirfd = -1 };
  int i = parse_global(argc, argv, &c);
  if (i < 0) to_node(argv, "global flags");
  const char *verb = argv[i];
  if (!strcmp(verb, "create") || !strcmp(verb, "run")) return create_or_run(argc, argv, i, &c);
  int (*fn)(struct front_cmd *) = !strcmp(verb, "state") ? front_state : !strcmp(verb, "kill") ? front_kill
                                : !strcmp(verb, "start") ? front_start : !strcmp(verb, "delete") ? front_delete : NULL;
  if (!fn) to_node(argv, "verb");
  if (parse_verb(verb, argc, argv, i + 1, &c)) to_node(argv, "arguments");
  if (open_container(&c)) to_node(argv, "no state dir");
  int rc = fn(&c);
  if (rc < 0) to_node(argv, verb);
  front_note("served %s", verb);
  return rc;
}
