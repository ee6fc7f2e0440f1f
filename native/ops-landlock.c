/* Landlock (issue 6): applies the ruleset that TypeScript compiled (src/policy/landlock/).
 * The helper decides nothing here: which rights are handled, which paths get what, the ports
 * and the scopes all arrive in the payload; the helper checks it, resolves the paths inside
 * the container and makes the three syscalls.
 *
 * Payload of the op's BYTES, version 1, little-endian (encoder: src/policy/landlock/encode.ts):
 *   header, 48 bytes
 *      0 u32 version              1
 *      4 u32 abi                  lowest Landlock ABI the ruleset needs.  TypeScript compiles
 *                                 for the ABI it has cached for this boot; if the kernel offers
 *                                 less, the helper refuses (never a silent downgrade here)
 *      8 u64 handled_access_fs    LANDLOCK_ACCESS_FS_*
 *     16 u64 handled_access_net   LANDLOCK_ACCESS_NET_*
 *     24 u64 scoped               LANDLOCK_SCOPE_*
 *     32 u32 restrict_flags       LANDLOCK_RESTRICT_SELF_* for landlock_restrict_self
 *     36 u32 flags                bit 0 PROBE: write "ABI ERRNO\n" to stdout and exit 0
 *                                 (how the runtime learns the kernel's ABI, once per boot)
 *     40 u32 rule_count           at most LL_MAX_RULES
 *     44 u32 reserved             0
 *   rule, rule_count times: 16 bytes + len
 *      0 u16 type                 1 path beneath, 2 net port, 3 inherited fd
 *      2 u16 reserved             0
 *      4 u32 len                  of the data that follows
 *      8 u64 allowed_access       non-zero and within the handled set of its kind
 *     16 data                     path: an absolute path inside the container, 1..4095
 *                                 bytes, no NUL; net port: u64 port, at most 65535;
 *                                 inherited fd: u64 fd, at most 2 (the container's stdio)
 *   Nothing follows the last rule.  Unknown versions, flags, access bits or rule types are
 *   errors: a newer runtime must not meet an older helper that ignores part of a policy. */
#include "helper.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Debian 12's linux/landlock.h stops at ABI 2; the rest of the kernel's ABI, verbatim. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3, Linux 6.2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5, Linux 6.10 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0) /* ABI 4, Linux 6.7 */
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#define LL_RULE_NET_PORT 2 /* LANDLOCK_RULE_NET_PORT, ABI 4 (an enum in newer headers) */
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6, Linux 6.12 */
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF
#define LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF (1U << 0) /* ABI 7, Linux 6.15 */
#define LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON (1U << 1)
#define LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF (1U << 2)
#endif
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

/* the kernel's structs as of ABI 6 (the header's landlock_ruleset_attr has only the first
 * field); the kernel accepts a longer struct from an older ABI as long as the tail is zero,
 * and the size passed below is the shortest one that carries what is set */
struct ll_ruleset_attr { uint64_t handled_access_fs, handled_access_net, scoped; };
struct ll_path_beneath_attr { uint64_t allowed_access; int32_t parent_fd; } __attribute__((packed));
struct ll_net_port_attr { uint64_t allowed_access; uint64_t port; };

#define LL_VERSION 1
#define LL_HEADER 48
#define LL_RULE_HEADER 16
#define LL_MAX_RULES 4096u
#define LL_FLAG_PROBE 1u
#define LL_RULE_FD 3
#define LL_FS_ALL ((LANDLOCK_ACCESS_FS_IOCTL_DEV << 1) - 1)
#define LL_FS_FILE (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
                    LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)
#define LL_NET_ALL (LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP)
#define LL_SCOPE_ALL (LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL)
#define LL_RESTRICT_ALL (LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF | LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON | \
                         LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF)

struct ll_header {
  uint32_t version, abi;
  struct ll_ruleset_attr attr;
  uint32_t restrict_flags, flags, rule_count;
};

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static void parse_header(const uint8_t *p, size_t n, struct ll_header *h) {
  if (n < LL_HEADER) die(EINVAL, "landlock ruleset of %zu bytes, the header alone is %d", n, LL_HEADER);
  *h = (struct ll_header){ rd32(p), rd32(p + 4), { rd64(p + 8), rd64(p + 16), rd64(p + 24) }, rd32(p + 32), rd32(p + 36), rd32(p + 40) };
  if (h->version != LL_VERSION) die(EINVAL, "landlock ruleset version %u, helper speaks %d", h->version, LL_VERSION);
  if (rd32(p + 44) || (h->flags & ~LL_FLAG_PROBE)) die(EINVAL, "landlock ruleset: unknown flags or reserved bits set");
  if ((h->attr.handled_access_fs & ~LL_FS_ALL) || (h->attr.handled_access_net & ~LL_NET_ALL) ||
      (h->attr.scoped & ~LL_SCOPE_ALL) || (h->restrict_flags & ~LL_RESTRICT_ALL))
    die(EINVAL, "landlock ruleset: access bits this helper does not know");
  if (h->rule_count > LL_MAX_RULES) die(EINVAL, "landlock ruleset: %u rules, at most %u", h->rule_count, LL_MAX_RULES);
}

/* The running kernel's ABI, or 0 with errno: ENOSYS (not built), EOPNOTSUPP (off at boot). */
static int kernel_abi(void) {
  long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi < 0 ? 0 : (int)abi;
}

/* Adds a rule on `path` (a container path: the root is "/" by now).  A path that is gone
 * (a later mount hid it) or that this process may not search is skipped: leaving out a
 * grant only ever takes access away.  A non-directory can carry only the file rights. */
static void add_path_rule(int ruleset, const char *path, uint64_t allowed) {
  int fd = open_in_root(path, O_PATH | O_CLOEXEC, 0);
  if (fd < 0 && (errno == ENOENT || errno == EACCES)) return;
  if (fd < 0) die(errno, "landlock: open `%s`", path);
  struct stat st;
  if (fstat(fd, &st) < 0) die(errno, "landlock: stat `%s`", path);
  if (!S_ISDIR(st.st_mode)) allowed &= LL_FS_FILE;
  struct ll_path_beneath_attr a = { .allowed_access = allowed, .parent_fd = fd };
  if (allowed && syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &a, 0) < 0)
    die(errno, "landlock: add rule for `%s`", path);
  close(fd);
}

/* The container's stdio may be host files, fifos or ttys (a log file, a test's output).
 * Reopening it through /dev/stdout lands on that host inode, outside every path rule; this
 * rule allows it, on exactly that inode and with no more than the fd's own access mode,
 * which the process holds already.  Directories never (a passed directory fd is the shape
 * of CVE-2024-21626), nor pipes and sockets (Landlock never restricts those: EBADFD). */
static void add_fd_rule(int ruleset, int fd, uint64_t allowed) {
  struct stat st;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || (fl & O_PATH) || fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) return;
  int mode = fl & O_ACCMODE;
  uint64_t r = LANDLOCK_ACCESS_FS_READ_FILE, w = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;
  allowed &= LANDLOCK_ACCESS_FS_IOCTL_DEV | (mode == O_RDONLY ? r : mode == O_WRONLY ? w : r | w);
  struct ll_path_beneath_attr a = { .allowed_access = allowed, .parent_fd = fd };
  if (allowed && syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &a, 0) < 0 && errno != EBADFD)
    die(errno, "landlock: add rule for fd %d", fd);
}

static void add_rules(int ruleset, const struct ll_header *h, const uint8_t *p, size_t n) {
  size_t off = LL_HEADER;
  for (uint32_t i = 0; i < h->rule_count; i++) {
    if (n - off < LL_RULE_HEADER) die(EINVAL, "landlock rule %u: truncated header", i);
    uint16_t type = (uint16_t)(p[off] | p[off + 1] << 8);
    uint32_t len = rd32(p + off + 4);
    uint64_t allowed = rd64(p + off + 8);
    if (p[off + 2] || p[off + 3]) die(EINVAL, "landlock rule %u: reserved bits set", i);
    off += LL_RULE_HEADER;
    if (len > n - off) die(EINVAL, "landlock rule %u: %u bytes overrun the ruleset", i, len);
    const uint8_t *d = p + off;
    off += len;
    if (type == LANDLOCK_RULE_PATH_BENEATH) {
      char path[4096];
      if (len == 0 || len >= sizeof path || d[0] != '/' || memchr(d, 0, len)) die(EINVAL, "landlock rule %u: bad path", i);
      if (!allowed || (allowed & ~h->attr.handled_access_fs)) die(EINVAL, "landlock rule %u: access not within the handled set", i);
      memcpy(path, d, len);
      path[len] = 0;
      add_path_rule(ruleset, path, allowed);
    } else if (type == LL_RULE_NET_PORT) {
      if (len != 8 || rd64(d) > 65535) die(EINVAL, "landlock rule %u: bad port", i);
      if (!allowed || (allowed & ~h->attr.handled_access_net)) die(EINVAL, "landlock rule %u: access not within the handled set", i);
      struct ll_net_port_attr a = { .allowed_access = allowed, .port = rd64(d) };
      if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_NET_PORT, &a, 0) < 0) die(errno, "landlock: add rule for port %llu", (unsigned long long)a.port);
    } else if (type == LL_RULE_FD) {
      if (len != 8 || rd64(d) > 2) die(EINVAL, "landlock rule %u: bad fd", i);
      if (!allowed || (allowed & ~h->attr.handled_access_fs) || (allowed & ~LL_FS_FILE)) die(EINVAL, "landlock rule %u: access not within the handled file rights", i);
      add_fd_rule(ruleset, (int)rd64(d), allowed);
    } else {
      die(EINVAL, "landlock rule %u: unknown type %u", i, type);
    }
  }
  if (off != n) die(EINVAL, "landlock ruleset: %zu trailing bytes", n - off);
}

/* Runs after every mount and pivot_root (a Landlock domain may no longer change the mount
 * tree) and right before seccomp: the process is then no_new_privs, or still holds
 * CAP_SYS_ADMIN when the config asks for no no_new_privs, as landlock_restrict_self needs. */
void op_landlock(const struct op *o) {
  struct ll_header h;
  parse_header(o->bytes, o->nbytes, &h);
  int abi = kernel_abi(), why = abi ? 0 : errno;
  if (h.flags & LL_FLAG_PROBE) {
    printf("%d %d\n", abi, why);
    fflush(stdout);
    _exit(0);
  }
  if (!abi) die(why, "landlock is not available on this kernel");
  if ((uint32_t)abi < h.abi) die(EOPNOTSUPP, "the kernel offers Landlock ABI %d, the ruleset needs ABI %u", abi, h.abi);
  size_t size = h.attr.scoped ? 24 : h.attr.handled_access_net ? 16 : 8;
  int ruleset = (int)syscall(SYS_landlock_create_ruleset, &h.attr, size, 0);
  if (ruleset < 0) die(errno, "landlock: create ruleset");
  add_rules(ruleset, &h, o->bytes, o->nbytes);
  if (syscall(SYS_landlock_restrict_self, ruleset, h.restrict_flags) < 0) die(errno, "landlock: restrict self");
  close(ruleset);
}
