/* The parser of state.bin (format in src/runtime/state-record.ts).  Bounded: every length is
 * checked against what is left, counts are capped, strings may not hold a NUL, and trailing
 * bytes are refused.  Fuzzed by native/fuzz/fuzz-srec.c. */
#include "front.h"
#include <stdlib.h>
#include <string.h>

uint64_t fnv1a64(const uint8_t *b, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}

static uint64_t le(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

struct cur { const uint8_t *p; size_t left; char *out; };

static int get_u32(struct cur *c, uint32_t *v) {
  if (c->left < 4) return -1;
  *v = (uint32_t)le(c->p, 4);
  c->p += 4, c->left -= 4;
  return 0;
}

/* copies one string into the record's memory, NUL-terminated */
static int get_str(struct cur *c, char **s) {
  uint32_t n;
  if (get_u32(c, &n) || n > c->left || memchr(c->p, 0, n)) return -1;
  memcpy(c->out, c->p, n);
  c->out[n] = 0;
  *s = c->out;
  c->out += n + 1;
  c->p += n, c->left -= n;
  return 0;
}

static int get_strs(struct cur *c, char **v, size_t *count) {
  uint32_t n;
  if (get_u32(c, &n) || n > SREC_MAX_DIRS) return -1;
  for (uint32_t i = 0; i < n; i++) if (get_str(c, &v[i])) return -1;
  *count = n;
  return 0;
}

static int parse_body(struct cur *c, struct srec *r) {
  if (get_u32(c, &r->flags) || get_u32(c, &r->pid) || c->left < 8) return -1;
  r->json_hash = le(c->p, 8);
  c->p += 8, c->left -= 8;
  for (int i = 0; i < SREC_NSTR; i++) if (get_str(c, &r->str[i])) return -1;
  if (get_strs(c, r->owned, &r->nowned) || get_strs(c, r->created, &r->ncreated)) return -1;
  return c->left == 0 ? 0 : -1;
}

int srec_parse(const uint8_t *buf, size_t len, struct srec *out) {
  memset(out, 0, sizeof *out);
  if (len < 24 || memcmp(buf, SREC_MAGIC, 8) || le(buf + 8, 4) != SREC_VERSION) return -1;
  size_t body = (size_t)le(buf + 12, 4);
  if (body != len - 24 || fnv1a64(buf + 24, body) != le(buf + 16, 8)) return -1;
  /* every string is at most its bytes plus a NUL, and there are fewer strings than bytes/4 */
  out->mem = malloc(body + body / 4 + 1);
  if (!out->mem) return -1;
  struct cur c = { buf + 24, body, out->mem };
  if (parse_body(&c, out)) { srec_free(out); return -1; }
  return 0;
}

void srec_free(struct srec *r) {
  free(r->mem);
  memset(r, 0, sizeof *r);
}

static void put(uint8_t **p, const void *src, size_t n) {
  memcpy(*p, src, n);
  *p += n;
}

static void put_le(uint8_t **p, uint64_t v, int n) {
  for (int i = 0; i < n; i++) *(*p)++ = (uint8_t)(v >> (8 * i));
}

static void put_str(uint8_t **p, const char *s) {
  size_t n = strlen(s);
  put_le(p, n, 4);
  put(p, s, n);
}

static size_t body_size(const struct srec *r) {
  size_t n = 4 + 4 + 8 + 4 + 4;
  for (int i = 0; i < SREC_NSTR; i++) n += 4 + strlen(r->str[i]);
  for (size_t i = 0; i < r->nowned; i++) n += 4 + strlen(r->owned[i]);
  for (size_t i = 0; i < r->ncreated; i++) n += 4 + strlen(r->created[i]);
  return n;
}

uint8_t *srec_encode(const struct srec *r, size_t *len) {
  size_t body = body_size(r);
  uint8_t *b = malloc(24 + body), *p = b + 24;
  if (!b || body > UINT32_MAX) { free(b); return NULL; }
  put_le(&p, r->flags, 4), put_le(&p, r->pid, 4), put_le(&p, r->json_hash, 8);
  for (int i = 0; i < SREC_NSTR; i++) put_str(&p, r->str[i]);
  put_le(&p, r->nowned, 4);
  for (size_t i = 0; i < r->nowned; i++) put_str(&p, r->owned[i]);
  put_le(&p, r->ncreated, 4);
  for (size_t i = 0; i < r->ncreated; i++) put_str(&p, r->created[i]);
  p = b;
  put(&p, SREC_MAGIC, 8), put_le(&p, SREC_VERSION, 4), put_le(&p, body, 4), put_le(&p, fnv1a64(b + 24, body), 8);
  *len = 24 + body;
  return b;
}
