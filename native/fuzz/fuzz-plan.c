/* libFuzzer harness for plan_parse (native/plan.c): any byte string must either parse into a
 * plan that keeps the parser's promises, or fail with a message; never crash, overrun or
 * leak.  Built by `make -C native fuzz`; see native/fuzz/README.md. */
#include "helper.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* plan.c's read_plan calls die(); the harness never calls read_plan, so reaching this is a bug */
void die(int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "die(%d): ", err);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  abort();
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* plan_parse leaves a partial plan behind on error (the helper exits right after); free all
 * of it, the op that failed included: ops[] is calloc'ed, so untouched ops are all NULL. */
static void plan_free(struct plan *p, size_t count) {
  if (!p->ops) return;
  for (size_t i = 0; i < count; i++) {
    struct op *o = &p->ops[i];
    for (int a = 0; a < PA_MAX; a++) free((void *)o->str[a]);
    for (size_t j = 0; j < o->nargs; j++) free((void *)o->args[j]);
    for (size_t j = 0; j < o->nenv; j++) free((void *)o->env[j]);
    free(o->args);
    free(o->env);
    free(o->groups);
  }
  free(p->ops);
}

/* What a successful parse promises to the code that runs the ops. */
static void check_plan(const struct plan *p, const uint8_t *buf, size_t len) {
  if (p->nops != rd32(buf + 12)) abort();
  for (size_t i = 0; i < p->nops; i++) {
    const struct op *o = &p->ops[i];
    if (o->type == 0 || o->type >= PLAN_OP_MAX) abort();
    for (int a = 0; a < PA_MAX; a++)
      if (o->str[a] && !has(o, a)) abort();
    if (o->present >> PA_MAX) abort();
    if (o->args && o->args[o->nargs]) abort(); /* argv is NULL-terminated */
    if (o->env && o->env[o->nenv]) abort();
    if (has(o, PA_ARG) != (o->nargs > 0)) abort();
    if (o->nbytes && (o->bytes < buf || o->bytes + o->nbytes > buf + len)) abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* a private copy of exactly `size` bytes, so ASan sees any read past the end */
  uint8_t *buf = malloc(size ? size : 1);
  if (!buf) return 0;
  memcpy(buf, data, size);
  struct plan p;
  char err[256];
  err[0] = 0;
  int r = plan_parse(buf, size, &p, err, sizeof err);
  if (r == 0) check_plan(&p, buf, size);
  else if (r != -1 || !err[0] || !memchr(err, 0, sizeof err)) abort(); /* a failure always says why */
  plan_free(&p, p.ops ? rd32(buf + 12) : 0);
  free(buf);
  return 0;
}
