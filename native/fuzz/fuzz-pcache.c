/* libFuzzer harness for pcache_parse (native/front-cache.c), the parser of the Plan cache
 * entries the CLI front reads.  As fuzz-srec.c, each input is tried as a whole file and as a
 * body wrapped in a correct header, so that the fuzzer gets past the digest.  Built by
 * `make -C native fuzz`. */
#include "front.h"
#include <stdlib.h>
#include <string.h>

static void check(const uint8_t *buf, size_t len) {
  struct pcache *e = calloc(1, sizeof *e);
  if (!e) return;
  if (!pcache_parse(buf, len, e)) {
    size_t total = strlen(e->mode) + strlen(e->root) + strlen(e->bundle) + strlen(e->flags) + e->config_len + e->plan_len + strlen(e->state_json);
    if (e->nfacts > PC_MAX_FACTS || e->nwrites > PC_MAX_WRITES || e->nmarks > PC_MAX_MARKS || e->nmkdir > SREC_MAX_DIRS || total > len) abort();
    for (size_t i = 0; i < e->nfacts; i++) total += e->facts[i].len + strlen(e->facts[i].path);
    for (size_t i = 0; i < e->nwrites; i++) total += strlen(e->writes[i].path) + strlen(e->writes[i].value);
    for (int i = 0; i < SREC_NSTR; i++) total += strlen(e->srec[i]);
    if (total > len) abort();
    /* what the front does with a parsed entry: render the Plan and the templates */
    size_t n;
    const char *val[4] = { "4242", "123456", "2026-01-01T00:00:00.000Z", "a-much-longer-container-id-than-the-placeholder" };
    free(pc_render_plan(e, val[3], &n));
    free(pc_render(e->state_json, val, 0));
    for (int i = 0; i < SREC_NSTR; i++) free(pc_render(e->srec[i], val, 0));
    pcache_free(e);
  }
  free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check(data, size);
  uint8_t *w = malloc(size + 24);
  if (!w) return 0;
  memcpy(w, PC_MAGIC, 8);
  uint64_t h = fnv1a64(data, size);
  for (int i = 0; i < 4; i++) w[8 + i] = (uint8_t)(PC_VERSION >> (8 * i)), w[12 + i] = (uint8_t)(size >> (8 * i));
  for (int i = 0; i < 8; i++) w[16 + i] = (uint8_t)(h >> (8 * i));
  memcpy(w + 24, data, size);
  check(w, size + 24);
  free(w);
  return 0;
}
