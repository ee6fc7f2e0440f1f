/* Plan parser: bounded loops and a length check on every payload.  Anything unexpected is an
 * error: unknown op, unknown attribute, an attribute the op does not allow, a missing required
 * attribute, a wrong size, an embedded NUL in a string, trailing bytes. */
#include "helper.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum kind { K_NONE, K_STR, K_U64, K_BYTES, K_STRS, K_U64S };

static const uint8_t attr_kind[PA_MAX] = {
  [PA_PATH] = K_STR, [PA_SOURCE] = K_STR, [PA_FSTYPE] = K_STR, [PA_DATA] = K_STR,
  [PA_NAME] = K_STR, [PA_ARG] = K_STRS, [PA_ENV] = K_STRS, [PA_BYTES] = K_BYTES,
  [PA_FLAGS] = K_U64, [PA_ATTR_SET] = K_U64, [PA_ATTR_CLR] = K_U64, [PA_RATTR_SET] = K_U64,
  [PA_RATTR_CLR] = K_U64, [PA_PROPAGATION] = K_U64, [PA_NSTYPE] = K_U64, [PA_VALUE] = K_U64,
  [PA_SOFT] = K_U64, [PA_HARD] = K_U64, [PA_UID] = K_U64, [PA_GID] = K_U64,
  [PA_GROUP] = K_U64S, [PA_MAJOR] = K_U64, [PA_MINOR] = K_U64, [PA_MODE] = K_U64,
  [PA_UID_MAP] = K_STR, [PA_GID_MAP] = K_STR, [PA_CAP_BND] = K_U64, [PA_CAP_EFF] = K_U64,
  [PA_CAP_PRM] = K_U64, [PA_CAP_INH] = K_U64, [PA_CAP_AMB] = K_U64, [PA_TIMEOUT] = K_U64,
  [PA_ROWS] = K_U64, [PA_COLS] = K_U64, [PA_KEEP_FDS] = K_U64,
};

#define A(x) (1ull << (x))
struct op_schema { uint8_t known; uint64_t allowed, required; };
static const struct op_schema schema[PLAN_OP_MAX] = {
  [PLAN_OP_CGROUP_JOIN] = { 1, A(PA_PATH) | A(PA_MODE), A(PA_PATH) },
  [PLAN_OP_DEVICE_BPF] = { 1, A(PA_PATH) | A(PA_BYTES), A(PA_PATH) | A(PA_BYTES) },
  [PLAN_OP_NS_JOIN] = { 1, A(PA_NSTYPE) | A(PA_PATH), A(PA_NSTYPE) | A(PA_PATH) },
  [PLAN_OP_CONNECT] = { 1, A(PA_NAME) | A(PA_PATH), A(PA_NAME) | A(PA_PATH) },
  [PLAN_OP_TIME_OFFSETS] = { 1, A(PA_DATA), A(PA_DATA) },
  [PLAN_OP_IDMAP_TREE] = { 1, A(PA_PATH) | A(PA_UID_MAP) | A(PA_GID_MAP) | A(PA_FLAGS), A(PA_PATH) | A(PA_UID_MAP) | A(PA_GID_MAP) },
  [PLAN_OP_OVERLAY_TREE] = { 1, A(PA_PATH) | A(PA_SOURCE) | A(PA_ARG) | A(PA_GROUP) | A(PA_ATTR_SET), A(PA_PATH) | A(PA_SOURCE) | A(PA_ARG) },
  [PLAN_OP_CLONE] = { 1, A(PA_FLAGS) | A(PA_UID_MAP) | A(PA_GID_MAP) | A(PA_VALUE) | A(PA_MODE) | A(PA_PATH), A(PA_FLAGS) | A(PA_MODE) },
  [PLAN_OP_SYNC] = { 1, A(PA_NAME), A(PA_NAME) },
  [PLAN_OP_HOSTNAME] = { 1, A(PA_NAME), A(PA_NAME) },
  [PLAN_OP_DOMAINNAME] = { 1, A(PA_NAME), A(PA_NAME) },
  [PLAN_OP_ROOT_PROPAGATION] = { 1, A(PA_PROPAGATION), A(PA_PROPAGATION) },
  [PLAN_OP_ROOT_BIND] = { 1, A(PA_PATH) | A(PA_VALUE), A(PA_PATH) },
  [PLAN_OP_MOUNT] = { 1, A(PA_PATH) | A(PA_VALUE) | A(PA_SOURCE) | A(PA_FSTYPE) | A(PA_DATA) | A(PA_FLAGS) | A(PA_ATTR_SET) | A(PA_ATTR_CLR) | A(PA_RATTR_SET) | A(PA_RATTR_CLR) | A(PA_PROPAGATION),
                      A(PA_PATH) | A(PA_FSTYPE) },
  [PLAN_OP_MKDEV] = { 1, A(PA_PATH) | A(PA_MODE) | A(PA_MAJOR) | A(PA_MINOR) | A(PA_UID) | A(PA_GID) | A(PA_SOURCE) | A(PA_FLAGS),
                      A(PA_PATH) | A(PA_MODE) | A(PA_MAJOR) | A(PA_MINOR) },
  [PLAN_OP_SYMLINK] = { 1, A(PA_PATH) | A(PA_SOURCE), A(PA_PATH) | A(PA_SOURCE) },
  [PLAN_OP_OPEN_FIFO] = { 1, A(PA_PATH), A(PA_PATH) },
  [PLAN_OP_HOOK] = { 1, A(PA_NAME) | A(PA_PATH) | A(PA_ARG) | A(PA_ENV) | A(PA_TIMEOUT), A(PA_NAME) | A(PA_PATH) },
  [PLAN_OP_PIVOT] = { 1, A(PA_FLAGS), A(PA_FLAGS) },
  [PLAN_OP_SYSCTL] = { 1, A(PA_NAME) | A(PA_DATA), A(PA_NAME) | A(PA_DATA) },
  [PLAN_OP_MASK] = { 1, A(PA_PATH), A(PA_PATH) },
  [PLAN_OP_READONLY] = { 1, A(PA_PATH), A(PA_PATH) },
  [PLAN_OP_REMOUNT_ROOT] = { 1, 0, 0 },
  [PLAN_OP_CONSOLE] = { 1, A(PA_ROWS) | A(PA_COLS), 0 },
  [PLAN_OP_RLIMIT] = { 1, A(PA_VALUE) | A(PA_SOFT) | A(PA_HARD), A(PA_VALUE) | A(PA_SOFT) | A(PA_HARD) },
  [PLAN_OP_OOM_SCORE_ADJ] = { 1, A(PA_VALUE), A(PA_VALUE) },
  [PLAN_OP_PERSONALITY] = { 1, A(PA_VALUE), A(PA_VALUE) },
  [PLAN_OP_UMASK] = { 1, A(PA_VALUE), A(PA_VALUE) },
  [PLAN_OP_CHDIR] = { 1, A(PA_PATH), A(PA_PATH) },
  [PLAN_OP_WAIT_START] = { 1, 0, 0 },
  [PLAN_OP_SET_USER] = { 1, A(PA_UID) | A(PA_GID) | A(PA_GROUP) | A(PA_FLAGS), A(PA_UID) | A(PA_GID) },
  [PLAN_OP_CAPS] = { 1, A(PA_CAP_BND) | A(PA_CAP_EFF) | A(PA_CAP_PRM) | A(PA_CAP_INH) | A(PA_CAP_AMB),
                     A(PA_CAP_BND) | A(PA_CAP_EFF) | A(PA_CAP_PRM) | A(PA_CAP_INH) | A(PA_CAP_AMB) },
  [PLAN_OP_NO_NEW_PRIVS] = { 1, 0, 0 },
  [PLAN_OP_SECCOMP] = { 1, A(PA_BYTES) | A(PA_FLAGS) | A(PA_DATA), A(PA_BYTES) | A(PA_FLAGS) },
  [PLAN_OP_LANDLOCK] = { 1, A(PA_BYTES), A(PA_BYTES) },
  [PLAN_OP_LOOPBACK_UP] = { 1, 0, 0 },
  [PLAN_OP_LSM_ATTR] = { 1, A(PA_PATH) | A(PA_SOURCE) | A(PA_DATA), A(PA_PATH) | A(PA_DATA) },
  [PLAN_OP_UNSHARE] = { 1, A(PA_NSTYPE), A(PA_NSTYPE) },
  [PLAN_OP_EXEC] = { 1, A(PA_ARG) | A(PA_ENV) | A(PA_PATH) | A(PA_KEEP_FDS), A(PA_ARG) },
};

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

static char *dup_str(const uint8_t *p, uint32_t n) {
  char *s = malloc(n + 1);
  if (!s) return NULL;
  memcpy(s, p, n);
  s[n] = 0;
  return s;
}

static int push(void *arrp, size_t *n, size_t elem) {
  void **arr = arrp;
  if (*n >= MAX_REPEAT) return -1;
  void *grown = realloc(*arr, (*n + 2) * elem); /* +1 keeps a NULL terminator for argv/envp */
  if (!grown) return -1;
  *arr = grown;
  memset((char *)grown + (*n + 1) * elem, 0, elem);
  (*n)++;
  return 0;
}

static int parse_attr(struct op *o, uint16_t id, const uint8_t *p, uint32_t n, char *err, size_t errlen) {
  if (id == 0 || id >= PA_MAX || attr_kind[id] == K_NONE) FAIL("unknown attribute %u", id);
  if (!((schema[o->type].allowed >> id) & 1)) FAIL("attribute %u not allowed for op %u", id, o->type);
  int kind = attr_kind[id];
  if (kind != K_STRS && kind != K_U64S && has(o, id)) FAIL("attribute %u repeated", id);
  if ((kind == K_STR || kind == K_STRS) && memchr(p, 0, n)) FAIL("attribute %u: NUL in string", id);
  if ((kind == K_U64 || kind == K_U64S) && n != 8) FAIL("attribute %u: want 8 bytes, have %u", id, n);
  o->present |= 1ull << id;
  switch (kind) {
  case K_STR:
    if (!(o->str[id] = dup_str(p, n))) FAIL("out of memory");
    return 0;
  case K_U64: o->num[id] = le64(p); return 0;
  case K_BYTES: o->bytes = p; o->nbytes = n; return 0;
  case K_U64S:
    if (push(&o->groups, &o->ngroups, sizeof *o->groups)) FAIL("too many groups");
    o->groups[o->ngroups - 1] = le64(p);
    return 0;
  default: {
    const char ***arr = id == PA_ARG ? &o->args : &o->env;
    size_t *cnt = id == PA_ARG ? &o->nargs : &o->nenv;
    if (push(arr, cnt, sizeof(char *))) FAIL("too many strings");
    if (!((*arr)[*cnt - 1] = dup_str(p, n))) FAIL("out of memory");
    return 0;
  }
  }
}

static int parse_op(struct op *o, const uint8_t *p, uint32_t n, char *err, size_t errlen) {
  uint32_t off = 0;
  while (off < n) {
    if (n - off < 8) FAIL("type %u: truncated attribute header", o->type);
    uint16_t id = le16(p + off);
    if (le16(p + off + 2) != 0) FAIL("type %u: reserved bits set in an attribute", o->type);
    uint32_t alen = le32(p + off + 4);
    off += 8;
    if (alen > n - off) FAIL("type %u: attribute %u overruns the op", o->type, id);
    if (parse_attr(o, id, p + off, alen, err, errlen)) return -1;
    off += alen;
  }
  uint64_t missing = schema[o->type].required & ~o->present;
  if (missing) FAIL("type %u: missing attribute %d", o->type, __builtin_ctzll(missing));
  return 0;
}

int plan_parse(const uint8_t *buf, size_t len, struct plan *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (len < 20 || memcmp(buf, PLAN_MAGIC, 8)) FAIL("not a plan (bad magic)");
  if (le32(buf + 8) != PLAN_VERSION) FAIL("plan version %u, helper speaks %u", le32(buf + 8), PLAN_VERSION);
  uint32_t count = le32(buf + 12), total = le32(buf + 16);
  if (total != len) FAIL("plan length %u, header says %u", (unsigned)len, total);
  if (count > PLAN_MAX_OPS) FAIL("too many ops: %u", count);
  if (!(out->ops = calloc(count ? count : 1, sizeof *out->ops))) FAIL("out of memory");
  size_t off = 20;
  for (uint32_t i = 0; i < count; i++) {
    if (len - off < 8) FAIL("op %u: truncated header", i);
    struct op *o = &out->ops[i];
    o->type = le16(buf + off);
    if (le16(buf + off + 2) != 0) FAIL("op %u: reserved bits set", i);
    uint32_t olen = le32(buf + off + 4);
    off += 8;
    if (o->type == 0 || o->type >= PLAN_OP_MAX || !schema[o->type].known)
      FAIL("op %u: unknown type %u", i, o->type);
    if (olen > len - off) FAIL("op %u: payload overruns the plan", i);
    char sub[200];
    if (parse_op(o, buf + off, olen, sub, sizeof sub)) FAIL("op %u: %s", i, sub);
    off += olen;
    out->nops++;
  }
  if (off != len) FAIL("%u trailing bytes after the last op", (unsigned)(len - off));
  return 0;
}

static int read_full(int fd, uint8_t *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    got += (size_t)r;
  }
  return 0;
}

/* Reads one plan from the sync socket: the header tells the total length. */
int read_plan(int fd, struct plan *out) {
  uint8_t head[20];
  if (read_full(fd, head, sizeof head)) die(errno ? errno : EPIPE, "read plan header");
  uint32_t total = le32(head + 16);
  if (total < sizeof head || total > PLAN_MAX_BYTES) die(EINVAL, "plan length %u out of range", total);
  uint8_t *buf = malloc(total);
  if (!buf) die(ENOMEM, "plan buffer");
  memcpy(buf, head, sizeof head);
  if (read_full(fd, buf + sizeof head, total - sizeof head)) die(errno ? errno : EPIPE, "read plan body");
  char err[256];
  if (plan_parse(buf, total, out, err, sizeof err)) die(EINVAL, "invalid plan: %s", err);
  return 0;
}
