/* The parser of Plan cache entries (format in src/runtime/plan-cache.ts).  Bounded like
 * front-record.c: every length checked against what is left, counts capped, trailing bytes
 * refused.  It checks integrity only (magic, version, length, digest): what the entry holds
 * is TypeScript's output, and the key fields are compared by the caller.  Fuzzed by
 * native/fuzz/fuzz-srec.c's sibling fuzz-pcache.c. */
#include "front.h"
#include <stdlib.h>
#include <string.h>

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

struct cur { const uint8_t *p; size_t left; char *out; };

static int u32(struct cur *c, uint32_t *v) {
  if (c->left < 4) return -1;
  *v = le32(c->p);
  c->p += 4, c->left -= 4;
  return 0;
}

/* a length-prefixed field, copied NUL-terminated; `text` refuses a NUL inside */
static int field(struct cur *c, const char **s, size_t *len, int text) {
  uint32_t n;
  if (u32(c, &n) || n > c->left || (text && memchr(c->p, 0, n))) return -1;
  memcpy(c->out, c->p, n);
  c->out[n] = 0;
  *s = c->out;
  if (len) *len = n;
  c->out += n + 1;
  c->p += n, c->left -= n;
  return 0;
}

static int str(struct cur *c, const char **s) { return field(c, s, NULL, 1); }

static int strs(struct cur *c, const char **v, size_t *count, size_t max) {
  uint32_t n;
  if (u32(c, &n) || n > max) return -1;
  for (uint32_t i = 0; i < n; i++) if (str(c, &v[i])) return -1;
  *count = n;
  return 0;
}

static int key_and_facts(struct cur *c, struct pcache *e) {
  uint32_t n;
  if (str(c, &e->mode) || str(c, &e->root) || str(c, &e->bundle) || str(c, &e->flags)) return -1;
  if (field(c, &e->config, &e->config_len, 0) || u32(c, &n) || n > PC_MAX_FACTS) return -1;
  for (uint32_t i = 0; i < n; i++) {
    struct pc_fact *f = &e->facts[i];
    if (u32(c, &f->kind) || str(c, &f->path) || field(c, &f->expect, &f->len, 0)) return -1;
  }
  e->nfacts = n;
  return 0;
}

static int payload(struct cur *c, struct pcache *e) {
  uint32_t n;
  if (str(c, &e->warnings) || strs(c, e->mkdir, &e->nmkdir, SREC_MAX_DIRS) || u32(c, &n) || n > PC_MAX_WRITES) return -1;
  for (uint32_t i = 0; i < n; i++) if (str(c, &e->writes[i].path) || str(c, &e->writes[i].value)) return -1;
  e->nwrites = n;
  if (field(c, &e->plan, &e->plan_len, 0) || u32(c, &n) || n > PC_MAX_MARKS) return -1;
  for (uint32_t i = 0; i < n; i++) if (u32(c, &e->marks[i])) return -1;
  e->nmarks = n;
  if (str(c, &e->state_json) || u32(c, &e->srec_flags)) return -1;
  for (int i = 0; i < SREC_NSTR; i++) if (str(c, &e->srec[i])) return -1;
  if (strs(c, e->owned, &e->nowned, SREC_MAX_DIRS) || strs(c, e->created, &e->ncreated, SREC_MAX_DIRS)) return -1;
  return c->left == 0 ? 0 : -1;
}

int pcache_parse(const uint8_t *buf, size_t len, struct pcache *e) {
  memset(e, 0, sizeof *e);
  if (len < 24 || memcmp(buf, PC_MAGIC, 8) || le32(buf + 8) != PC_VERSION) return -1;
  size_t body = le32(buf + 12);
  uint64_t h = (uint64_t)le32(buf + 16) | (uint64_t)le32(buf + 20) << 32;
  if (body != len - 24 || fnv1a64(buf + 24, body) != h) return -1;
  e->mem = malloc(body + body / 4 + 1);
  if (!e->mem) return -1;
  struct cur c = { buf + 24, body, e->mem };
  if (key_and_facts(&c, e) || payload(&c, e)) { pcache_free(e); return -1; }
  return 0;
}

void pcache_free(struct pcache *e) {
  free(e->mem);
  e->mem = NULL;
}
