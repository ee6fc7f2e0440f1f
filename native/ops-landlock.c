/* Landlock: not in this helper yet (issue 6). */
#include "helper.h"
#include <errno.h>

void op_landlock(const struct op *o) {
  (void)o;
  die(ENOSYS, "landlock rulesets are not supported by this helper yet");
}
