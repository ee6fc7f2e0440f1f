/*
 * probe: a static multi-call program that integration tests run INSIDE
 * containers to observe what the runtime set up (the idea of crun's
 * tests/init.c).  Usage: `probe COMMAND [ARGS...]` (or a symlink named after
 * a command).  Every command prints ONE JSON object or array on stdout,
 * followed by a newline, and exits 0; `cat` and `spew` print raw bytes.
 *
 * Conventions:
 *   - "query" commands (id, status, mounts, ls, ...) print their value, or
 *     print "probe: ..." on stderr and exit 1 when they cannot.
 *   - "try" commands (read, write, open, stat, mknod, syscall, kill, ...)
 *     always exit 0 and report {"ok":bool,"errno":"EPERM"|null,"error":...}.
 *   - Usage errors exit 2.
 *   - Infinite rlimits are reported as the string "unlimited".
 *   - Bytes that are not valid UTF-8 are escaped as \u00XX (the byte value).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define UNUSED __attribute__((unused))
#define CMD(fn) static int fn(int argc UNUSED, char **argv UNUSED)
#define MAX_READ (16u << 20)

/* ------------------------------------------------------------------ */
/* errors and names                                                    */

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;
	fputs("probe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static const char *errname(int e)
{
	static char buf[16];
	const char *n = strerrorname_np(e);
	if (n)
		return n;
	snprintf(buf, sizeof buf, "E%d", e);
	return buf;
}

static void die_errno(const char *what, const char *arg)
{
	int e = errno;
	die("%s %s: %s (%s)", what, arg, errname(e), strerror(e));
}

static const char *signame(int sig)
{
	static char buf[32];
	const char *abbr = sigabbrev_np(sig);
	if (abbr)
		snprintf(buf, sizeof buf, "SIG%s", abbr);
	else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(buf, sizeof buf, "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(buf, sizeof buf, "SIG%d", sig);
	return buf;
}

static long long parse_ll(const char *s)
{
	char *end;
	long long v;
	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || end == s || *end)
		die("not a number: %s", s);
	return v;
}

static int parse_signal(const char *s)
{
	const char *n = strncmp(s, "SIG", 3) == 0 ? s + 3 : s;
	if (*s >= '0' && *s <= '9')
		return (int)parse_ll(s);
	for (int sig = 1; sig < NSIG; sig++) {
		const char *abbr = sigabbrev_np(sig);
		if (abbr && strcmp(abbr, n) == 0)
			return sig;
	}
	die("unknown signal: %s", s);
}

/* ------------------------------------------------------------------ */
/* JSON emitter: nesting state plus "a key was just written"           */

static int j_first[64] = { 1 };
static int j_depth;
static int j_after_key;
static int j_used;

static void j_pre(void)
{
	j_used = 1;
	if (j_after_key) {
		j_after_key = 0;
		return;
	}
	if (!j_first[j_depth])
		putchar(',');
	j_first[j_depth] = 0;
}

static void j_open(char c)
{
	j_pre();
	putchar(c);
	if (j_depth >= 62)
		die("json nesting too deep");
	j_first[++j_depth] = 1;
}

static void j_close(char c)
{
	putchar(c);
	j_depth--;
}

/* length of a valid UTF-8 sequence at s (2..4), or 0 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0xC2 ? 0 : s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : s[0] < 0xF5 ? 4 : 0;
	if (len == 0 || n < len)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
	    (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
		return 0;
	return len;
}

static void j_rawstr(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned c = s[i];
		size_t ul;
		if (c == '"' || c == '\\') {
			putchar('\\');
			putchar((int)c);
		} else if (c == '\n') {
			fputs("\\n", stdout);
		} else if (c == '\t') {
			fputs("\\t", stdout);
		} else if (c < 0x20 || c == 0x7f) {
			printf("\\u%04x", c);
		} else if (c < 0x80) {
			putchar((int)c);
		} else if ((ul = utf8_len(s + i, n - i)) > 0) {
			fwrite(s + i, 1, ul, stdout);
			i += ul - 1;
		} else {
			printf("\\u%04x", c);
		}
	}
	putchar('"');
}

static void j_strn(const char *s, size_t n)
{
	j_pre();
	j_rawstr(s, n);
}

static void j_str(const char *s)
{
	if (!s) {
		j_pre();
		fputs("null", stdout);
		return;
	}
	j_strn(s, strlen(s));
}

static void j_int(long long v)
{
	j_pre();
	printf("%lld", v);
}

static void j_uint(unsigned long long v)
{
	j_pre();
	printf("%llu", v);
}

static void j_bool(int v)
{
	j_pre();
	fputs(v ? "true" : "false", stdout);
}

static void j_null(void)
{
	j_pre();
	fputs("null", stdout);
}

static void j_key(const char *k)
{
	j_pre();
	j_rawstr(k, strlen(k));
	putchar(':');
	j_after_key = 1;
}

static void kv_str(const char *k, const char *v) { j_key(k); j_str(v); }
static void kv_int(const char *k, long long v) { j_key(k); j_int(v); }
static void kv_uint(const char *k, unsigned long long v) { j_key(k); j_uint(v); }
static void kv_bool(const char *k, int v) { j_key(k); j_bool(v); }
static void kv_null(const char *k) { j_key(k); j_null(); }

/* {"ok":..,"errno":..,"error":..} members for an error number (0 = ok) */
static void kv_result(int err)
{
	kv_bool("ok", err == 0);
	if (err) {
		kv_str("errno", errname(err));
		kv_str("error", strerror(err));
	} else {
		kv_null("errno");
	}
}

/* a whole try-style result object */
static int emit_result(int err)
{
	j_open('{');
	kv_result(err);
	j_close('}');
	return 0;
}

/* ------------------------------------------------------------------ */
/* file helpers                                                        */

/* reads a whole fd (up to MAX_READ) into a NUL-terminated buffer */
static char *slurp_fd(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return NULL;
	for (;;) {
		ssize_t r;
		if (n == cap) {
			char *nb;
			if (cap >= MAX_READ)
				break;
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf;
	int e;
	if (fd < 0)
		return NULL;
	buf = slurp_fd(fd, len);
	e = errno;
	close(fd);
	errno = e;
	return buf;
}

static char *slurp_or_die(const char *path)
{
	char *buf = slurp(path, NULL);
	if (!buf)
		die_errno("read", path);
	return buf;
}

/* decodes \ooo octal escapes (mountinfo) in place */
static char *unescape_octal(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = 0;
	return s;
}

/* array of the pieces of s split on sep (s is modified) */
static void emit_split(char *s, const char *sep)
{
	char *save = NULL;
	j_open('[');
	for (char *t = strtok_r(s, sep, &save); t; t = strtok_r(NULL, sep, &save))
		j_str(t);
	j_close(']');
}

/* array of whitespace-separated numbers in s */
static void emit_numbers(const char *s)
{
	j_open('[');
	while (*s) {
		char *end;
		unsigned long long v = strtoull(s, &end, 10);
		if (end == s) {
			s++;
			continue;
		}
		j_uint(v);
		s = end;
	}
	j_close(']');
}

/* sorts names, numbers (pids, fds) numerically before other names */
static int cmp_str(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	size_t xl = strlen(x), yl = strlen(y);
	int xn = xl && strspn(x, "0123456789") == xl, yn = yl && strspn(y, "0123456789") == yl;
	if (xn != yn)
		return yn - xn;
	if (xn && xl != yl)
		return xl < yl ? -1 : 1;
	return strcmp(x, y);
}

/* sorted names in a directory (without . and ..); NULL-terminated */
static char **list_dir(const char *path, size_t *count)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		char **nn;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		nn = realloc(names, (n + 2) * sizeof *names);
		if (!nn)
			die("out of memory");
		names = nn;
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	if (!names)
		names = calloc(1, sizeof *names);
	if (!names)
		die("out of memory");
	names[n] = NULL;
	qsort(names, n, sizeof *names, cmp_str);
	*count = n;
	return names;
}

/* ------------------------------------------------------------------ */
/* identity and /proc/self/status                                      */

CMD(cmd_id)
{
	static gid_t groups[NGROUPS_MAX];
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int n = getgroups(NGROUPS_MAX, groups);
	if (n < 0 || getresuid(&ru, &eu, &su) || getresgid(&rg, &eg, &sg))
		die_errno("id", "");
	j_open('{');
	kv_uint("uid", ru);
	kv_uint("gid", rg);
	kv_uint("euid", eu);
	kv_uint("egid", eg);
	kv_uint("suid", su);
	kv_uint("sgid", sg);
	j_key("groups");
	j_open('[');
	for (int i = 0; i < n; i++)
		j_uint(groups[i]);
	j_close(']');
	kv_int("pid", getpid());
	kv_int("ppid", getppid());
	kv_int("pgid", getpgrp());
	kv_int("sid", getsid(0));
	j_close('}');
	return 0;
}

struct kvlist {
	char *keys[128];
	char *vals[128];
	int n;
};

/* parses "Key:\tvalue" lines (buf is modified) */
static void parse_status(char *buf, struct kvlist *kv)
{
	char *save = NULL;
	kv->n = 0;
	for (char *line = strtok_r(buf, "\n", &save); line && kv->n < 128;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon++ = 0;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		kv->keys[kv->n] = line;
		kv->vals[kv->n++] = colon;
	}
}

static const char *kv_get(const struct kvlist *kv, const char *key)
{
	for (int i = 0; i < kv->n; i++)
		if (!strcmp(kv->keys[i], key))
			return kv->vals[i];
	return NULL;
}

CMD(cmd_status)
{
	static const char *hex[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
	static const char *nums[] = { "NoNewPrivs", "Seccomp", "Seccomp_filters" };
	static const char *lists[] = { "Uid", "Gid", "Groups" };
	char *buf = slurp_or_die("/proc/self/status");
	struct kvlist kv;
	parse_status(buf, &kv);
	j_open('{');
	for (size_t i = 0; i < sizeof hex / sizeof *hex; i++)
		kv_str(hex[i], kv_get(&kv, hex[i]));
	for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
		const char *v = kv_get(&kv, nums[i]);
		j_key(nums[i]);
		if (v)
			j_int(atoll(v));
		else
			j_null();
	}
	for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
		const char *v = kv_get(&kv, lists[i]);
		j_key(lists[i]);
		emit_numbers(v ? v : "");
	}
	j_key("raw");
	j_open('{');
	for (int i = 0; i < kv.n; i++)
		kv_str(kv.keys[i], kv.vals[i]);
	j_close('}');
	j_close('}');
	free(buf);
	return 0;
}

static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

static void emit_cap_names(const char *hexmask)
{
	unsigned long long mask = hexmask ? strtoull(hexmask, NULL, 16) : 0;
	char buf[16];
	j_open('[');
	for (unsigned bit = 0; bit < 64; bit++) {
		if (!(mask & (1ULL << bit)))
			continue;
		if (bit < sizeof cap_names / sizeof *cap_names) {
			j_str(cap_names[bit]);
		} else {
			snprintf(buf, sizeof buf, "CAP_%u", bit);
			j_str(buf);
		}
	}
	j_close(']');
}

/* capability sets as name lists, in OCI's vocabulary */
CMD(cmd_caps)
{
	static const char *sets[][2] = { { "bounding", "CapBnd" }, { "effective", "CapEff" },
		{ "inheritable", "CapInh" }, { "permitted", "CapPrm" }, { "ambient", "CapAmb" } };
	char *buf = slurp_or_die("/proc/self/status");
	struct kvlist kv;
	parse_status(buf, &kv);
	j_open('{');
	for (size_t i = 0; i < sizeof sets / sizeof *sets; i++) {
		j_key(sets[i][0]);
		emit_cap_names(kv_get(&kv, sets[i][1]));
	}
	j_close('}');
	free(buf);
	return 0;
}

CMD(cmd_hostname)
{
	struct utsname u;
	if (uname(&u))
		die_errno("uname", "");
	j_open('{');
	kv_str("hostname", u.nodename);
	kv_str("domainname", u.domainname);
	j_close('}');
	return 0;
}

/* ------------------------------------------------------------------ */
/* mounts                                                              */

static const char *propagation(char **opt, int n)
{
	int shared = 0, slave = 0, unbindable = 0;
	for (int i = 0; i < n; i++) {
		shared |= !strncmp(opt[i], "shared:", 7);
		slave |= !strncmp(opt[i], "master:", 7);
		unbindable |= !strcmp(opt[i], "unbindable");
	}
	if (shared && slave)
		return "shared,slave";
	return shared ? "shared" : slave ? "slave" : unbindable ? "unbindable" : "private";
}

static void emit_mountinfo_line(char *line)
{
	char *f[64], *save = NULL;
	int n = 0, dash = -1;
	for (char *t = strtok_r(line, " ", &save); t && n < 64; t = strtok_r(NULL, " ", &save)) {
		if (dash < 0 && n >= 6 && !strcmp(t, "-"))
			dash = n;
		f[n++] = t;
	}
	if (dash < 0 || n < dash + 4)
		return;
	j_open('{');
	kv_int("id", atoll(f[0]));
	kv_int("parentId", atoll(f[1]));
	kv_str("majorMinor", f[2]);
	kv_str("root", unescape_octal(f[3]));
	kv_str("mountPoint", unescape_octal(f[4]));
	kv_str("fsType", f[dash + 1]);
	kv_str("source", unescape_octal(f[dash + 2]));
	j_key("options");
	emit_split(f[5], ",");
	j_key("superOptions");
	emit_split(f[dash + 3], ",");
	j_key("optional");
	j_open('[');
	for (int i = 6; i < dash; i++)
		j_str(f[i]);
	j_close(']');
	kv_str("propagation", propagation(f + 6, dash - 6));
	j_close('}');
}

CMD(cmd_mounts)
{
	char *buf = slurp_or_die("/proc/self/mountinfo"), *save = NULL;
	j_open('[');
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		emit_mountinfo_line(l);
	j_close(']');
	free(buf);
	return 0;
}

/* ------------------------------------------------------------------ */
/* process attributes                                                  */

static void emit_rlim(const char *k, rlim_t v)
{
	j_key(k);
	if (v == RLIM_INFINITY)
		j_str("unlimited");
	else
		j_uint(v);
}

CMD(cmd_rlimits)
{
	static const struct { const char *name; int res; } lim[] = {
		{ "RLIMIT_AS", RLIMIT_AS }, { "RLIMIT_CORE", RLIMIT_CORE },
		{ "RLIMIT_CPU", RLIMIT_CPU }, { "RLIMIT_DATA", RLIMIT_DATA },
		{ "RLIMIT_FSIZE", RLIMIT_FSIZE }, { "RLIMIT_LOCKS", RLIMIT_LOCKS },
		{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
		{ "RLIMIT_NICE", RLIMIT_NICE }, { "RLIMIT_NOFILE", RLIMIT_NOFILE },
		{ "RLIMIT_NPROC", RLIMIT_NPROC }, { "RLIMIT_RSS", RLIMIT_RSS },
		{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO }, { "RLIMIT_RTTIME", RLIMIT_RTTIME },
		{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
	};
	j_open('{');
	for (size_t i = 0; i < sizeof lim / sizeof *lim; i++) {
		struct rlimit r;
		if (getrlimit((__rlimit_resource_t)lim[i].res, &r))
			die_errno("getrlimit", lim[i].name);
		j_key(lim[i].name);
		j_open('{');
		emit_rlim("soft", r.rlim_cur);
		emit_rlim("hard", r.rlim_max);
		j_close('}');
	}
	j_close('}');
	return 0;
}

CMD(cmd_cwd)
{
	char buf[PATH_MAX];
	if (!getcwd(buf, sizeof buf))
		die_errno("getcwd", "");
	j_open('{');
	kv_str("cwd", buf);
	j_close('}');
	return 0;
}

CMD(cmd_env)
{
	j_open('[');
	for (char **e = environ; *e; e++)
		j_str(*e);
	j_close(']');
	return 0;
}

CMD(cmd_umask)
{
	char buf[8];
	mode_t m = umask(0);
	umask(m);
	snprintf(buf, sizeof buf, "%04o", (unsigned)m);
	j_open('{');
	kv_str("umask", buf);
	j_close('}');
	return 0;
}

CMD(cmd_argv)
{
	j_open('{');
	j_key("argv");
	j_open('[');
	for (int i = 0; i < argc; i++)
		j_str(argv[i]);
	j_close(']');
	j_close('}');
	return 0;
}

CMD(cmd_cgroup)
{
	char *buf = slurp_or_die("/proc/self/cgroup"), *save = NULL;
	j_open('[');
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = *c2 = 0;
		j_open('{');
		kv_int("hierarchy", atoll(l));
		j_key("controllers");
		emit_split(c1 + 1, ",");
		kv_str("path", c2 + 1);
		j_close('}');
	}
	j_close(']');
	free(buf);
	return 0;
}

CMD(cmd_affinity)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set))
		die_errno("sched_getaffinity", "");
	j_open('{');
	kv_int("count", CPU_COUNT(&set));
	j_key("cpus");
	j_open('[');
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			j_int(i);
	j_close(']');
	j_close('}');
	return 0;
}

CMD(cmd_personality)
{
	char buf[24];
	int p = personality(0xffffffff);
	if (p < 0)
		die_errno("personality", "");
	snprintf(buf, sizeof buf, "0x%x", (unsigned)p);
	j_open('{');
	kv_str("personality", buf);
	j_close('}');
	return 0;
}

/* ------------------------------------------------------------------ */
/* files                                                               */

static const char *file_type(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "file";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "symlink";
	case S_IFCHR: return "char";
	case S_IFBLK: return "block";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "socket";
	default: return "unknown";
	}
}

/* stat fields shared by ls entries and stat; target is the link text or NULL */
static void emit_stat_fields(const struct stat *st, const char *target)
{
	char mode[8];
	snprintf(mode, sizeof mode, "%04o", (unsigned)(st->st_mode & 07777));
	kv_str("type", file_type(st->st_mode));
	kv_str("mode", mode);
	kv_uint("uid", st->st_uid);
	kv_uint("gid", st->st_gid);
	kv_int("size", (long long)st->st_size);
	kv_uint("nlink", st->st_nlink);
	kv_uint("ino", st->st_ino);
	kv_uint("major", major(st->st_rdev));
	kv_uint("minor", minor(st->st_rdev));
	kv_uint("devMajor", major(st->st_dev));
	kv_uint("devMinor", minor(st->st_dev));
	kv_str("target", target);
}

static char *read_link_at(int dirfd, const char *path, char *buf, size_t size)
{
	ssize_t n = readlinkat(dirfd, path, buf, size - 1);
	if (n < 0)
		return NULL;
	buf[n] = 0;
	return buf;
}

CMD(cmd_ls)
{
	size_t n;
	char **names = list_dir(argv[0], &n);
	int dfd = open(argv[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!names || dfd < 0)
		die_errno("ls", argv[0]);
	j_open('[');
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		char target[PATH_MAX];
		j_open('{');
		kv_str("name", names[i]);
		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW)) {
			kv_result(errno);
		} else {
			int lnk = S_ISLNK(st.st_mode);
			emit_stat_fields(&st, lnk ? read_link_at(dfd, names[i], target, sizeof target) : NULL);
		}
		j_close('}');
		free(names[i]);
	}
	j_close(']');
	free(names);
	close(dfd);
	return 0;
}

static int do_stat(const char *path, int follow)
{
	struct stat st;
	char target[PATH_MAX];
	int r = follow ? stat(path, &st) : lstat(path, &st);
	j_open('{');
	kv_result(r ? errno : 0);
	if (r == 0) {
		kv_str("path", path);
		emit_stat_fields(&st, S_ISLNK(st.st_mode) ? read_link_at(AT_FDCWD, path, target, sizeof target) : NULL);
	}
	j_close('}');
	return 0;
}

CMD(cmd_stat) { return do_stat(argv[0], 1); }
CMD(cmd_lstat) { return do_stat(argv[0], 0); }

CMD(cmd_statfs)
{
	static const struct { unsigned long flag; const char *name; } fl[] = {
		{ ST_RDONLY, "ro" }, { ST_NOSUID, "nosuid" }, { ST_NODEV, "nodev" },
		{ ST_NOEXEC, "noexec" }, { ST_SYNCHRONOUS, "sync" }, { ST_MANDLOCK, "mand" },
		{ ST_NOATIME, "noatime" }, { ST_NODIRATIME, "nodiratime" }, { ST_RELATIME, "relatime" },
	};
	struct statfs s;
	char type[24];
	int r = statfs(argv[0], &s);
	j_open('{');
	kv_result(r ? errno : 0);
	if (r == 0) {
		snprintf(type, sizeof type, "0x%lx", (unsigned long)s.f_type);
		kv_str("fsType", type);
		j_key("flags");
		j_open('[');
		for (size_t i = 0; i < sizeof fl / sizeof *fl; i++)
			if ((unsigned long)s.f_flags & fl[i].flag)
				j_str(fl[i].name);
		j_close(']');
	}
	j_close('}');
	return 0;
}

CMD(cmd_read)
{
	size_t len;
	char *buf = slurp(argv[0], &len);
	j_open('{');
	kv_result(buf ? 0 : errno);
	if (buf) {
		j_key("content");
		j_strn(buf, len);
		kv_uint("size", len);
	}
	j_close('}');
	free(buf);
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* raw content on stdout */
CMD(cmd_cat)
{
	size_t len;
	char *buf = strcmp(argv[0], "-") ? slurp(argv[0], &len) : slurp_fd(0, &len);
	if (!buf)
		die_errno("cat", argv[0]);
	fflush(stdout);
	if (write_all(1, buf, len))
		die_errno("write", "stdout");
	free(buf);
	return 0;
}

CMD(cmd_stdin)
{
	size_t len;
	char *buf = slurp_fd(0, &len);
	if (!buf)
		die_errno("read", "stdin");
	j_open('{');
	j_key("content");
	j_strn(buf, len);
	kv_uint("size", len);
	j_close('}');
	free(buf);
	return 0;
}

CMD(cmd_write)
{
	int err = 0;
	int fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_all(fd, argv[1], strlen(argv[1])))
		err = errno;
	if (fd >= 0 && close(fd) && !err)
		err = errno;
	return emit_result(err);
}

/* flags: r, w, rw plus c(reat) t(runc) a(ppend) x(excl) d(irectory) n(ofollow) p(ath) */
static int parse_open_flags(const char *s)
{
	int rd = strchr(s, 'r') != NULL, wr = strchr(s, 'w') != NULL;
	int f = O_CLOEXEC | (rd && wr ? O_RDWR : wr ? O_WRONLY : O_RDONLY);
	static const struct { char c; int flag; } extra[] = {
		{ 'c', O_CREAT }, { 't', O_TRUNC }, { 'a', O_APPEND }, { 'x', O_EXCL },
		{ 'd', O_DIRECTORY }, { 'n', O_NOFOLLOW }, { 'p', O_PATH },
	};
	for (const char *c = s; *c; c++) {
		int known = *c == 'r' || *c == 'w';
		for (size_t i = 0; i < sizeof extra / sizeof *extra; i++)
			if (extra[i].c == *c) {
				f |= extra[i].flag;
				known = 1;
			}
		if (!known)
			die("unknown open flag '%c' (use r w c t a x d n p)", *c);
	}
	return f;
}

CMD(cmd_open)
{
	int fd = open(argv[0], parse_open_flags(argc > 1 ? argv[1] : "r"), 0644);
	j_open('{');
	kv_result(fd < 0 ? errno : 0);
	if (fd >= 0) {
		kv_int("fd", fd);
		close(fd);
	}
	j_close('}');
	return 0;
}

CMD(cmd_mknod)
{
	mode_t type = !strcmp(argv[1], "b") ? S_IFBLK : !strcmp(argv[1], "c") ? S_IFCHR :
		      !strcmp(argv[1], "p") ? S_IFIFO : 0;
	dev_t dev = 0;
	if (!type)
		die("mknod type must be b, c or p");
	if (type != S_IFIFO) {
		if (argc < 4)
			die("mknod %s needs MAJOR MINOR", argv[1]);
		dev = makedev((unsigned)parse_ll(argv[2]), (unsigned)parse_ll(argv[3]));
	}
	return emit_result(mknod(argv[0], type | 0666, dev) ? errno : 0);
}

CMD(cmd_ls_fds)
{
	struct rlimit r;
	int max = 1024;
	if (!getrlimit(RLIMIT_NOFILE, &r) && r.rlim_cur != RLIM_INFINITY && r.rlim_cur > 1024)
		max = r.rlim_cur > 65536 ? 65536 : (int)r.rlim_cur;
	j_open('[');
	for (int fd = 0; fd < max; fd++) {
		char path[64], target[PATH_MAX];
		int fl = fcntl(fd, F_GETFD);
		if (fl < 0)
			continue;
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		j_open('{');
		kv_int("fd", fd);
		kv_str("target", read_link_at(AT_FDCWD, path, target, sizeof target));
		kv_bool("cloexec", fl & FD_CLOEXEC);
		j_close('}');
	}
	j_close(']');
	return 0;
}

/* ------------------------------------------------------------------ */
/* syscalls                                                            */

#define SC(n) { #n, SYS_##n }
static const struct { const char *name; long nr; } syscall_table[] = {
	SC(acct), SC(add_key), SC(bpf), SC(chroot), SC(clock_settime), SC(clone),
	SC(clone3), SC(delete_module), SC(finit_module), SC(fsconfig), SC(fsmount),
	SC(fsopen), SC(get_mempolicy), SC(getpid), SC(getuid), SC(init_module),
	SC(io_uring_setup), SC(ioperm), SC(iopl), SC(kcmp), SC(kexec_file_load),
	SC(kexec_load), SC(keyctl), SC(lookup_dcookie), SC(mbind), SC(mount),
	SC(mount_setattr), SC(move_mount), SC(move_pages), SC(name_to_handle_at),
	SC(open_by_handle_at), SC(open_tree), SC(perf_event_open), SC(personality),
	SC(pidfd_getfd), SC(pidfd_open), SC(pivot_root), SC(process_vm_readv),
	SC(process_vm_writev), SC(ptrace), SC(quotactl), SC(reboot), SC(request_key),
	SC(set_mempolicy), SC(setdomainname), SC(sethostname), SC(setns),
	SC(settimeofday), SC(swapoff), SC(swapon), SC(syslog), SC(umount2), SC(uname),
	SC(unshare), SC(userfaultfd), SC(uselib), SC(ustat), SC(vhangup),
};

/* a syscall argument: a number, "null", or "str:TEXT" (pointer to TEXT) */
static long parse_sysarg(const char *s)
{
	if (!strncmp(s, "str:", 4))
		return (long)(intptr_t)(s + 4);
	if (!strcmp(s, "null"))
		return 0;
	return (long)parse_ll(s);
}

static int do_syscall(const char *name, long nr, int argc, char **argv)
{
	long a[6] = { 0 }, ret;
	int err;
	for (int i = 0; i < argc && i < 6; i++)
		a[i] = parse_sysarg(argv[i]);
	fflush(stdout);
	errno = 0;
	ret = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	err = ret == -1 ? errno : 0;
	j_open('{');
	kv_str("name", name);
	kv_int("nr", nr);
	kv_int("ret", ret);
	kv_result(err);
	j_close('}');
	return 0;
}

CMD(cmd_syscall)
{
	return do_syscall(NULL, (long)parse_ll(argv[0]), argc - 1, argv + 1);
}

CMD(cmd_syscall_name)
{
	for (size_t i = 0; i < sizeof syscall_table / sizeof *syscall_table; i++)
		if (!strcmp(syscall_table[i].name, argv[0]))
			return do_syscall(argv[0], syscall_table[i].nr, argc - 1, argv + 1);
	die("unknown syscall name %s (use `syscall NR`)", argv[0]);
}

static sigjmp_buf fault_jmp;
static volatile sig_atomic_t fault_sig;

static void on_fault(int sig)
{
	fault_sig = sig;
	siglongjmp(fault_jmp, 1);
}

static long int80_getpid(void)
{
	long ret = 20; /* __NR_getpid on i386 */
	__asm__ volatile("int $0x80" : "+a"(ret) : : "memory", "cc", "r8", "r9", "r10", "r11");
	return ret;
}

static long x32_getpid(void)
{
	return syscall(SYS_getpid | 0x40000000L);
}

/* runs fn, catching faults/SIGSYS; emits {supported, ret, errno, signal} */
static void emit_guarded(const char *key, long (*fn)(void), int raw_errno)
{
	static const int sigs[] = { SIGSEGV, SIGILL, SIGBUS, SIGSYS };
	struct sigaction sa = { .sa_handler = on_fault }, old[4];
	volatile long ret = 0;
	volatile int err = 0;
	for (int i = 0; i < 4; i++)
		sigaction(sigs[i], &sa, &old[i]);
	fault_sig = 0;
	if (sigsetjmp(fault_jmp, 1) == 0) {
		errno = 0;
		ret = fn();
		err = raw_errno ? (ret < 0 && ret > -4096 ? (int)-ret : 0) : (ret == -1 ? errno : 0);
	}
	for (int i = 0; i < 4; i++)
		sigaction(sigs[i], &old[i], NULL);
	j_key(key);
	j_open('{');
	kv_bool("supported", !fault_sig && ret == getpid());
	j_key("ret");
	if (fault_sig)
		j_null();
	else
		j_int(ret);
	if (err)
		kv_str("errno", errname(err));
	else
		kv_null("errno");
	kv_str("signal", fault_sig ? signame(fault_sig) : NULL);
	j_close('}');
}

CMD(cmd_compat32)
{
	j_open('{');
	kv_int("pid", getpid());
	emit_guarded("int80", int80_getpid, 1);
	emit_guarded("x32", x32_getpid, 0);
	j_close('}');
	return 0;
}

/* ------------------------------------------------------------------ */
/* signals and processes                                               */

CMD(cmd_kill)
{
	int sig = argc > 1 ? parse_signal(argv[1]) : SIGTERM;
	return emit_result(kill((pid_t)parse_ll(argv[0]), sig) ? errno : 0);
}

CMD(cmd_sleep)
{
	double secs = strtod(argv[0], NULL);
	struct timespec ts = { (time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9) };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	j_open('{');
	j_key("slept");
	j_pre();
	printf("%g", secs);
	j_close('}');
	return 0;
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static int ignored_by_default(int sig)
{
	return sig == SIGCHLD || sig == SIGCONT || sig == SIGWINCH || sig == SIGURG;
}

/* waits for a signal; prints {"signal","signo"} and exits 128+signo */
static int wait_for_signal(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, empty;
	sigemptyset(&block);
	sigemptyset(&empty);
	for (int sig = 1; sig < SIGRTMIN; sig++) {
		struct sigaction cur;
		if (sig == SIGKILL || sig == SIGSTOP || ignored_by_default(sig))
			continue;
		if (sigaction(sig, NULL, &cur) == 0 && cur.sa_handler == SIG_IGN)
			continue;
		sigaddset(&block, sig);
		sigaction(sig, &sa, NULL);
	}
	sigprocmask(SIG_BLOCK, &block, NULL);
	fprintf(stderr, "probe: ready pid=%d\n", (int)getpid());
	while (!got_signal)
		sigsuspend(&empty);
	j_open('{');
	kv_str("signal", signame(got_signal));
	kv_int("signo", got_signal);
	j_close('}');
	putchar('\n');
	fflush(stdout);
	_exit(128 + got_signal);
}

CMD(cmd_pause) { return wait_for_signal(); }

/* ignores the given signals, then waits like pause */
CMD(cmd_ignore)
{
	for (int i = 0; i < argc; i++)
		signal(parse_signal(argv[i]), SIG_IGN);
	return wait_for_signal();
}

CMD(cmd_exit)
{
	fflush(stdout);
	exit((int)parse_ll(argv[0]));
}

CMD(cmd_tty)
{
	pid_t fg = tcgetpgrp(0);
	int ctty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	j_open('{');
	j_key("fds");
	j_open('[');
	for (int fd = 0; fd < 3; fd++) {
		struct winsize ws;
		int tty = isatty(fd);
		int has_ws = tty && ioctl(fd, TIOCGWINSZ, &ws) == 0;
		j_open('{');
		kv_int("fd", fd);
		kv_bool("isatty", tty);
		kv_str("ttyname", tty ? ttyname(fd) : NULL);
		j_key("rows");
		has_ws ? j_int(ws.ws_row) : j_null();
		j_key("cols");
		has_ws ? j_int(ws.ws_col) : j_null();
		j_close('}');
	}
	j_close(']');
	kv_bool("ctty", ctty >= 0);
	kv_int("sid", getsid(0));
	kv_int("pgrp", getpgrp());
	j_key("foreground");
	fg >= 0 ? j_int(fg) : j_null();
	j_close('}');
	if (ctty >= 0)
		close(ctty);
	return 0;
}

/* NUL-separated file as a JSON array, or null */
static void emit_nul_list(const char *path)
{
	size_t len;
	char *buf = slurp(path, &len);
	if (!buf) {
		j_null();
		return;
	}
	j_open('[');
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
		j_str(buf + i);
	j_close(']');
	free(buf);
}

CMD(cmd_pid1)
{
	char *comm = slurp("/proc/1/comm", NULL);
	if (comm)
		comm[strcspn(comm, "\n")] = 0;
	j_open('{');
	kv_bool("isPid1", getpid() == 1);
	kv_int("pid", getpid());
	j_key("cmdline");
	emit_nul_list("/proc/1/cmdline");
	kv_str("comm", comm);
	j_close('}');
	free(comm);
	return 0;
}

CMD(cmd_ps)
{
	size_t n;
	char **names = list_dir("/proc", &n);
	if (!names)
		die_errno("ls", "/proc");
	j_open('[');
	for (size_t i = 0; i < n; i++) {
		char path[300], *stat, *rp;
		if (names[i][0] >= '0' && names[i][0] <= '9') {
			snprintf(path, sizeof path, "/proc/%s/stat", names[i]);
			stat = slurp(path, NULL);
			rp = stat ? strrchr(stat, ')') : NULL;
			if (rp && strchr(stat, '(') && rp[1] == ' ' && rp[2]) {
				*rp = 0;
				j_open('{');
				kv_int("pid", atoll(names[i]));
				kv_int("ppid", atoll(rp + 4));
				kv_str("comm", strchr(stat, '(') + 1);
				j_key("state");
				j_strn(rp + 2, 1);
				j_key("cmdline");
				snprintf(path, sizeof path, "/proc/%s/cmdline", names[i]);
				emit_nul_list(path);
				j_close('}');
			}
			free(stat);
		}
		free(names[i]);
	}
	j_close(']');
	free(names);
	return 0;
}

CMD(cmd_ns)
{
	size_t n;
	char **names = list_dir("/proc/self/ns", &n);
	if (!names)
		die_errno("ls", "/proc/self/ns");
	j_open('{');
	for (size_t i = 0; i < n; i++) {
		char path[300], target[PATH_MAX];
		snprintf(path, sizeof path, "/proc/self/ns/%s", names[i]);
		kv_str(names[i], read_link_at(AT_FDCWD, path, target, sizeof target));
		free(names[i]);
	}
	j_close('}');
	free(names);
	return 0;
}

/* forks up to N children that wait, counts them, then kills them */
CMD(cmd_fork)
{
	long want = (long)parse_ll(argv[0]), made = 0;
	pid_t *kids = calloc((size_t)(want > 0 ? want : 1), sizeof *kids);
	int err = 0;
	if (!kids)
		die("out of memory");
	fflush(stdout);
	for (; made < want; made++) {
		pid_t p = fork();
		if (p < 0) {
			err = errno;
			break;
		}
		if (p == 0) {
			pause();
			_exit(0);
		}
		kids[made] = p;
	}
	for (long i = 0; i < made; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	free(kids);
	j_open('{');
	kv_int("requested", want);
	kv_int("created", made);
	kv_result(err);
	j_close('}');
	return 0;
}

/* allocates and touches N MiB */
CMD(cmd_alloc)
{
	long mb = (long)parse_ll(argv[0]), done = 0;
	for (; done < mb; done++) {
		char *p = malloc(1 << 20);
		if (!p)
			break;
		memset(p, 0x5a, 1 << 20);
	}
	j_open('{');
	kv_int("requested", mb);
	kv_int("allocated", done);
	j_close('}');
	return 0;
}

/* writes N bytes of 'x' (with a newline every 64) to stdout */
CMD(cmd_spew)
{
	char line[65];
	long long n = parse_ll(argv[0]);
	memset(line, 'x', 64);
	line[64] = '\n';
	fflush(stdout);
	while (n > 0) {
		size_t chunk = n > 65 ? 65 : (size_t)n;
		if (write_all(1, line, chunk))
			die_errno("write", "stdout");
		n -= (long long)chunk;
	}
	return 0;
}

CMD(cmd_ifaces)
{
	struct if_nameindex *ifs = if_nameindex();
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (!ifs)
		die_errno("if_nameindex", "");
	j_open('[');
	for (struct if_nameindex *i = ifs; i->if_index; i++) {
		struct ifreq req;
		int ok;
		memset(&req, 0, sizeof req);
		snprintf(req.ifr_name, sizeof req.ifr_name, "%s", i->if_name);
		ok = s >= 0 && ioctl(s, SIOCGIFFLAGS, &req) == 0;
		j_open('{');
		kv_int("index", i->if_index);
		kv_str("name", i->if_name);
		kv_bool("up", ok && (req.ifr_flags & IFF_UP));
		kv_bool("loopback", ok && (req.ifr_flags & IFF_LOOPBACK));
		j_close('}');
	}
	j_close(']');
	if_freenameindex(ifs);
	if (s >= 0)
		close(s);
	return 0;
}

/* ------------------------------------------------------------------ */
/* caps-try: each privileged operation runs in a child; exit code = errno */

static char try_dir[64];

static int errno_or_0(int r) { return r < 0 ? errno : 0; }

static int temp_file(char *path)
{
	snprintf(path, PATH_MAX, "%s/.probe-XXXXXX", try_dir);
	return mkostemp(path, O_CLOEXEC);
}

static int op_sethostname(void)
{
	struct utsname u;
	return uname(&u) ? errno : errno_or_0(sethostname(u.nodename, strlen(u.nodename)));
}

static int op_chown(void)
{
	char path[PATH_MAX];
	int fd = temp_file(path), r;
	if (fd < 0)
		return errno;
	r = errno_or_0(fchown(fd, 1234, 1234));
	unlink(path);
	return r;
}

static int op_dac_override(void)
{
	char path[PATH_MAX];
	int fd = temp_file(path), r;
	if (fd < 0)
		return errno;
	if (fchmod(fd, 0) < 0)
		return errno;
	close(fd);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	r = errno_or_0(fd);
	unlink(path);
	return r;
}

static int op_mknod(void)
{
	char path[PATH_MAX];
	int r;
	snprintf(path, sizeof path, "%s/.probe-mknod-%d", try_dir, (int)getpid());
	r = errno_or_0(mknod(path, S_IFCHR | 0600, makedev(1, 3)));
	unlink(path);
	return r;
}

static int op_mount(void)
{
	char path[PATH_MAX];
	int r;
	snprintf(path, sizeof path, "%s/.probe-mnt-XXXXXX", try_dir);
	if (!mkdtemp(path))
		return errno;
	r = errno_or_0(mount("probe", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k"));
	if (r == 0)
		umount2(path, MNT_DETACH);
	rmdir(path);
	return r;
}

static int op_setuid(void) { return errno_or_0(setuid(getuid() == 1234 ? 1235 : 1234)); }
static int op_setgid(void) { return errno_or_0(setgid(getgid() == 1234 ? 1235 : 1234)); }
static int op_chroot(void) { return errno_or_0(chroot("/")); }
static int op_nice(void) { return errno_or_0(setpriority(PRIO_PROCESS, 0, -1)); }

static int op_net_raw(void)
{
	int s = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	return errno_or_0(s);
}

static int op_net_bind(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return errno;
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	return errno_or_0(bind(s, (struct sockaddr *)&a, sizeof a));
}

static void try_op(const char *name, int (*op)(void), int needs_dir)
{
	int st = 0;
	pid_t p;
	j_key(name);
	j_open('{');
	if (needs_dir && !try_dir[0]) {
		kv_bool("ok", 0);
		kv_null("errno");
		kv_str("skipped", "no writable directory");
		j_close('}');
		return;
	}
	fflush(stdout);
	p = fork();
	if (p == 0)
		_exit(op() & 0xff);
	if (p < 0 || waitpid(p, &st, 0) < 0) {
		kv_result(errno);
	} else if (WIFSIGNALED(st)) {
		kv_bool("ok", 0);
		kv_null("errno");
		kv_str("signal", signame(WTERMSIG(st)));
	} else {
		kv_result(WEXITSTATUS(st));
	}
	j_close('}');
}

static void find_try_dir(void)
{
	static const char *dirs[] = { "/tmp", "/dev/shm", "/run", "/dev", "/var/tmp", "/root" };
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		char path[PATH_MAX];
		int fd;
		snprintf(try_dir, sizeof try_dir, "%s", dirs[i]);
		fd = temp_file(path);
		if (fd >= 0) {
			close(fd);
			unlink(path);
			return;
		}
	}
	try_dir[0] = 0;
}

CMD(cmd_caps_try)
{
	find_try_dir();
	j_open('{');
	kv_str("dir", try_dir[0] ? try_dir : NULL);
	try_op("sethostname", op_sethostname, 0);
	try_op("chown", op_chown, 1);
	try_op("dac_override", op_dac_override, 1);
	try_op("mknod", op_mknod, 1);
	try_op("mount", op_mount, 1);
	try_op("setuid", op_setuid, 0);
	try_op("setgid", op_setgid, 0);
	try_op("chroot", op_chroot, 0);
	try_op("nice", op_nice, 0);
	try_op("net_raw", op_net_raw, 0);
	try_op("net_bind", op_net_bind, 0);
	j_close('}');
	return 0;
}


/* recvtty SOCK [INPUT]: host side of --console-socket.  Listens on SOCK, takes one pty master
 * over SCM_RIGHTS, writes INPUT to it, then copies what the container prints to stdout until
 * the pty closes. */
static int cmd_recvtty(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char data[64], cbuf[CMSG_SPACE(sizeof(int))], buf[4096];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof data };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	struct cmsghdr *c;
	int l, s, m;
	ssize_t n;
	if (strlen(argv[0]) >= sizeof sa.sun_path)
		die("socket path too long: %s", argv[0]);
	strcpy(sa.sun_path, argv[0]);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(l, 1) < 0)
		die_errno("listen on", argv[0]);
	s = accept(l, NULL, NULL);
	if (s < 0 || recvmsg(s, &msg, 0) <= 0)
		die_errno("receive pty on", argv[0]);
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		die("no fd received on %s", argv[0]);
	memcpy(&m, CMSG_DATA(c), sizeof m);
	if (argc > 1 && write(m, argv[1], strlen(argv[1])) < 0)
		die_errno("write input to", "pty");
	while ((n = read(m, buf, sizeof buf)) > 0)
		if (write(1, buf, (size_t)n) != n)
			die_errno("write", "stdout");
	return 0;
}

/* sigsys NR [ARGS...]: makes syscall NR with a SIGSYS handler installed and reports
 * whether the call trapped (SCMP_ACT_TRAP) and what the siginfo said: si_code 1 is
 * SYS_SECCOMP, "data" (si_errno) carries SECCOMP_RET_DATA. */
static volatile sig_atomic_t sys_trapped;
static volatile int sys_code, sys_nr, sys_data;
static volatile unsigned sys_arch;

static void on_sigsys(int sig UNUSED, siginfo_t *si, void *uc UNUSED)
{
	sys_trapped = 1;
	sys_code = si->si_code;
	sys_nr = si->si_syscall;
	sys_data = si->si_errno;
	sys_arch = si->si_arch;
}

CMD(cmd_sigsys)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	long a[6] = { 0 }, nr = (long)parse_ll(argv[0]);
	for (int i = 1; i < argc && i < 7; i++)
		a[i - 1] = parse_sysarg(argv[i]);
	sigaction(SIGSYS, &sa, NULL);
	errno = 0;
	long ret = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	int err = ret == -1 ? errno : 0;
	j_open('{');
	kv_int("nr", nr);
	kv_bool("trapped", sys_trapped);
	kv_int("code", sys_code);
	kv_int("syscall", sys_nr);
	kv_int("data", sys_data);
	kv_uint("arch", sys_arch);
	kv_int("ret", sys_trapped ? 0 : ret);
	kv_result(sys_trapped ? 0 : err);
	j_close('}');
	return 0;
}

/* seccomp-agent SOCK NR VALUE: host side of linux.seccomp.listenerPath.  Listens on SOCK,
 * takes the listener fd over SCM_RIGHTS with the containerProcessState JSON, then answers
 * notifications: syscall NR gets VALUE (a negative VALUE is the error -VALUE), any other
 * is let through (SECCOMP_USER_NOTIF_FLAG_CONTINUE).  Exits after answering NR once and
 * prints {"state": "<the JSON as received>", "fds": n, "nr", "pid", "arch", "answered"}. */
CMD(cmd_seccomp_agent)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static char data[1 << 16];
	char cbuf[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof data - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	struct cmsghdr *c;
	long want = (long)parse_ll(argv[1]);
	long long value = parse_ll(argv[2]);
	int l, s, fd, nfds;
	ssize_t n;
	if (strlen(argv[0]) >= sizeof sa.sun_path)
		die("socket path too long: %s", argv[0]);
	strcpy(sa.sun_path, argv[0]);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(l, 1) < 0)
		die_errno("listen on", argv[0]);
	s = accept(l, NULL, NULL);
	if (s < 0 || (n = recvmsg(s, &msg, MSG_CMSG_CLOEXEC)) <= 0)
		die_errno("receive listener on", argv[0]);
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		die("no fd received on %s", argv[0]);
	nfds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
	memcpy(&fd, CMSG_DATA(c), sizeof fd);
	/* one sendmsg, one recvmsg: the document travels with the fd (not until EOF: in the
	 * foreground the runtime's waiting parent still holds its copy of the socket) */
	data[n] = 0;
	close(s);
	close(l);
	for (;;) {
		struct seccomp_notif req;
		struct seccomp_notif_resp resp;
		memset(&req, 0, sizeof req);
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
			if (errno == EINTR || errno == ENOENT)
				continue;
			die_errno("receive notification on", "listener");
		}
		memset(&resp, 0, sizeof resp);
		resp.id = req.id;
		if (req.data.nr == want) {
			if (value < 0)
				resp.error = (int)value;
			else
				resp.val = value;
		} else {
			resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		}
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
			die_errno("answer notification on", "listener");
		if (req.data.nr != want)
			continue;
		j_open('{');
		kv_str("state", data);
		kv_int("fds", nfds);
		kv_int("nr", req.data.nr);
		kv_int("pid", req.pid);
		kv_uint("arch", req.data.arch);
		kv_int("answered", value);
		j_close('}');
		return 0;
	}
}

/* counts up every MS milliseconds (default 10), forever, writing the count to PATH: a
 * process whose progress the host can watch (it stops while frozen) */
CMD(cmd_count)
{
	long ms = argc > 1 ? (long)parse_ll(argv[1]) : 10;
	int fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	unsigned long long n = 0;
	struct timespec step = { ms / 1000, (ms % 1000) * 1000000L };
	if (fd < 0)
		die_errno("open", argv[0]);
	for (;;) {
		char buf[32];
		int len = snprintf(buf, sizeof buf, "%llu\n", ++n);
		if (pwrite(fd, buf, (size_t)len, 0) != len)
			die_errno("write", argv[0]);
		nanosleep(&step, NULL);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* dispatch                                                            */

static const struct command {
	const char *name;
	int (*fn)(int, char **);
	int min, max;
	const char *args;
} commands[] = {
	{ "id", cmd_id, 0, 0, "" },
	{ "status", cmd_status, 0, 0, "" },
	{ "caps", cmd_caps, 0, 0, "" },
	{ "hostname", cmd_hostname, 0, 0, "" },
	{ "mounts", cmd_mounts, 0, 0, "" },
	{ "rlimits", cmd_rlimits, 0, 0, "" },
	{ "cwd", cmd_cwd, 0, 0, "" },
	{ "env", cmd_env, 0, 0, "" },
	{ "umask", cmd_umask, 0, 0, "" },
	{ "argv", cmd_argv, 0, 1000, "[ARGS...]" },
	{ "cgroup", cmd_cgroup, 0, 0, "" },
	{ "affinity", cmd_affinity, 0, 0, "" },
	{ "personality", cmd_personality, 0, 0, "" },
	{ "ls", cmd_ls, 1, 1, "PATH" },
	{ "stat", cmd_stat, 1, 1, "PATH" },
	{ "lstat", cmd_lstat, 1, 1, "PATH" },
	{ "statfs", cmd_statfs, 1, 1, "PATH" },
	{ "read", cmd_read, 1, 1, "PATH" },
	{ "cat", cmd_cat, 1, 1, "PATH|-" },
	{ "stdin", cmd_stdin, 0, 0, "" },
	{ "write", cmd_write, 2, 2, "PATH DATA" },
	{ "open", cmd_open, 1, 2, "PATH [r|w|rw + ctaxdnp]" },
	{ "mknod", cmd_mknod, 2, 4, "PATH b|c|p [MAJOR MINOR]" },
	{ "fds", cmd_ls_fds, 0, 0, "" },
	{ "syscall", cmd_syscall, 1, 7, "NR [ARGS...] (number, null or str:TEXT)" },
	{ "syscall-name", cmd_syscall_name, 1, 7, "NAME [ARGS...]" },
	{ "compat32", cmd_compat32, 0, 0, "" },
	{ "kill", cmd_kill, 1, 2, "PID [SIG]" },
	{ "sleep", cmd_sleep, 1, 1, "SECONDS" },
	{ "pause", cmd_pause, 0, 0, "" },
	{ "ignore", cmd_ignore, 1, 64, "SIG [SIG...]" },
	{ "exit", cmd_exit, 1, 1, "CODE" },
	{ "tty", cmd_tty, 0, 0, "" },
	{ "pid1", cmd_pid1, 0, 0, "" },
	{ "ps", cmd_ps, 0, 0, "" },
	{ "ns", cmd_ns, 0, 0, "" },
	{ "fork", cmd_fork, 1, 1, "N" },
	{ "alloc", cmd_alloc, 1, 1, "MIB" },
	{ "spew", cmd_spew, 1, 1, "BYTES" },
	{ "ifaces", cmd_ifaces, 0, 0, "" },
	{ "caps-try", cmd_caps_try, 0, 0, "" },
	{ "recvtty", cmd_recvtty, 1, 2, "SOCK [INPUT]" },
	{ "sigsys", cmd_sigsys, 1, 7, "NR [ARGS...]" },
	{ "seccomp-agent", cmd_seccomp_agent, 3, 3, "SOCK NR VALUE" },
	{ "count", cmd_count, 1, 2, "PATH [MS]" },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void usage(void)
{
	fputs("usage: probe COMMAND [ARGS...]\ncommands:\n", stderr);
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		fprintf(stderr, "  %s %s\n", commands[i].name, commands[i].args);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;
	const struct command *c;
	base = base ? base + 1 : argc > 0 ? argv[0] : "probe";
	c = find_command(base);
	if (c) {
		argv++;
		argc--;
	} else {
		if (argc < 2)
			usage();
		c = find_command(argv[1]);
		if (!c)
			usage();
		argv += 2;
		argc -= 2;
	}
	if (argc < c->min || argc > c->max) {
		fprintf(stderr, "usage: probe %s %s\n", c->name, c->args);
		return 2;
	}
	c->fn(argc, argv);
	if (j_used)
		putchar('\n');
	if (fflush(stdout) || ferror(stdout))
		die("write to stdout failed");
	return 0;
}
