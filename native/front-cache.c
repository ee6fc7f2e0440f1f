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

/* ---- rendering: the placeholders TypeScript put in the templates ---- */

static const char *const PH[4] = { "\"@@MOAT_PID@@\"", "@@MOAT_START@@", "@@MOAT_CREATED@@", "@@MOAT_ID@@" };

/* the template with every placeholder filled in (renderTemplate of plan-cache.ts) */
char *pc_render(const char *t, const char *const *val, int only_id) {
  size_t cap = strlen(t) + 1, n = 0;
  for (int k = 0; k < 4; k++) cap += 8 * strlen(val[k]) + 64;
  char *o = malloc(cap);
  while (o && *t) {
    int hit = -1;
    for (int k = only_id ? 3 : 0; k < 4 && hit < 0; k++) if (!strncmp(t, PH[k], strlen(PH[k]))) hit = k;
    size_t vl = hit < 0 ? 1 : strlen(val[hit]);
    if (n + vl + 1 > cap) { char *g = realloc(o, cap = 2 * cap + vl); if (!g) { free(o); return NULL; } o = g; }
    if (hit < 0) o[n++] = *t++;
    else memcpy(o + n, val[hit], vl), n += vl, t += strlen(PH[hit]);
  }
  if (o) o[n] = 0;
  return o;
}

static void wr32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }

static int marked(const struct pcache *e, uint32_t ord) {
  for (size_t i = 0; i < e->nmarks; i++) if (e->marks[i] == ord) return 1;
  return 0;
}

/* substitutePlan of plan-cache.ts: the id goes into the marked attributes, lengths follow */
uint8_t *pc_render_plan(const struct pcache *e, const char *id, size_t *out_len) {
  const uint8_t *in = (const uint8_t *)e->plan;
  size_t len = e->plan_len, idl = strlen(id), off = 20, n = 20;
  /* at worst every 11 bytes of a marked attribute are a placeholder that grows to the id */
  uint8_t *o = malloc(len + (len / 11 + 1) * (idl + 1) + 1);
  if (!o || len < 20) { free(o); return NULL; }
  memcpy(o, in, 20);
  uint32_t ord = 0;
  for (uint32_t op = 0, nops = le32(in + 12); op < nops; op++) {
    if (len - off < 8 || le32(in + off + 4) > len - off - 8) goto bad;
    size_t end = off + 8 + le32(in + off + 4), head = n;
    memcpy(o + n, in + off, 8), n += 8, off += 8;
    for (; off < end; ord++) {
      if (end - off < 8 || le32(in + off + 4) > end - off - 8) goto bad;
      uint32_t al = le32(in + off + 4);
      char *data = strndup((const char *)in + off + 8, al);
      char *sub = data && marked(e, ord) && strlen(data) == al ? pc_render(data, (const char *[]){ "", "", "", id }, 1) : NULL;
      const uint8_t *src = sub ? (uint8_t *)sub : in + off + 8;
      size_t sl = sub ? strlen(sub) : al;
      if (marked(e, ord) && !sub) { free(data); goto bad; }
      memcpy(o + n, in + off, 8), wr32(o + n + 4, (uint32_t)sl), memcpy(o + n + 8, src, sl);
      n += 8 + sl, off += 8 + al;
      free(data), free(sub);
    }
    wr32(o + head + 4, (uint32_t)(n - head - 8));
  }
  if (off != len) goto bad;
  wr32(o + 16, (uint32_t)n);
  *out_len = n;
  return o;
bad:
  free(o);
  return NULL;
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
