/* libFuzzer harness for srec_parse (native/front-record.c), the parser of the state.bin
 * records the CLI front reads.  Each input is tried twice: as a whole file, and as a body
 * wrapped in a correct header (magic, version, length, digest), so that the fuzzer reaches
 * the body's parser instead of stopping at the digest.  Built by `make -C native fuzz`. */
#include "front.h"
#include <stdlib.h>
#include <string.h>

static void check(const uint8_t *buf, size_t len) {
  struct srec r;
  if (srec_parse(buf, len, &r)) return;
  /* every string is NUL-terminated inside the record's own memory */
  size_t total = 0;
  for (int i = 0; i < SREC_NSTR; i++) total += strlen(r.str[i]);
  if (r.nowned > SREC_MAX_DIRS || r.ncreated > SREC_MAX_DIRS) abort();
  for (size_t i = 0; i < r.nowned; i++) total += strlen(r.owned[i]);
  for (size_t i = 0; i < r.ncreated; i++) total += strlen(r.created[i]);
  if (total > len) abort();
  srec_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check(data, size);
  uint8_t *w = malloc(size + 24);
  if (!w) return 0;
  memcpy(w, SREC_MAGIC, 8);
  uint64_t h = fnv1a64(data, size);
  for (int i = 0; i < 4; i++) w[8 + i] = (uint8_t)(SREC_VERSION >> (8 * i)), w[12 + i] = (uint8_t)(size >> (8 * i));
  for (int i = 0; i < 8; i++) w[16 + i] = (uint8_t)(h >> (8 * i));
  memcpy(w + 24, data, size);
  check(w, size + 24);
  free(w);
  return 0;
}
