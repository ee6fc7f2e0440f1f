/*
 * export-libseccomp: builds a seccomp filter with libseccomp from a small line format and
 * writes the raw BPF (struct sock_filter[]) to stdout. Used by the differential test in
 * src/policy/seccomp/libseccomp-diff.test.ts; the input is produced by
 * `toLibseccompLines()` in src/policy/seccomp/libseccomp-lines.ts.
 *
 * Input, one directive per line:
 *   default <action>                   first line: seccomp_init(action)
 *   badarch <action>                   SCMP_FLTATR_ACT_BADARCH
 *   arch <name>                        seccomp_arch_add (name as seccomp_arch_resolve_name)
 *   rule <action> <syscall> <n> [<index> <op> <value> <valueTwo>]*n
 *   resolve <arch> <syscall>           print `resolved <arch> <syscall> <nr>` on stderr
 * <action>, <value> and <valueTwo> are hex; <action> is the SECCOMP_RET_* value (libseccomp's SCMP_ACT_* use the same numbers),
 * <op> is 1..7 as enum scmp_compare. Unknown syscall names are reported on stderr as
 * `unknown <line> <name>` and skipped; a rule libseccomp refuses is reported as
 * `rule-error <line> <errno>` and skipped. Exit status 0 unless the input is malformed.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LINE 4096

static int fail(int line, const char *what)
{
	fprintf(stderr, "line %d: %s\n", line, what);
	return 2;
}

static int add_rule(scmp_filter_ctx ctx, char *rest, int line)
{
	char name[128];
	unsigned long long action;
	unsigned int n, i;
	int used = 0;
	struct scmp_arg_cmp args[6];

	if (sscanf(rest, "%llx %127s %u%n", &action, name, &n, &used) != 3 || n > 6)
		return fail(line, "malformed rule");
	rest += used;
	for (i = 0; i < n; i++) {
		unsigned int index, op;
		unsigned long long value, value_two;
		if (sscanf(rest, " %u %u %llx %llx%n", &index, &op, &value, &value_two, &used) != 4)
			return fail(line, "malformed argument");
		rest += used;
		args[i].arg = index;
		args[i].op = (enum scmp_compare)op;
		args[i].datum_a = value;
		args[i].datum_b = value_two;
	}
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR) {
		fprintf(stderr, "unknown %d %s\n", line, name);
		return 0;
	}
	int rc = seccomp_rule_add_array(ctx, (uint32_t)action, nr, n, args);
	if (rc < 0)
		fprintf(stderr, "rule-error %d %d\n", line, -rc);
	return 0;
}

int main(void)
{
	char buf[MAX_LINE];
	scmp_filter_ctx ctx = NULL;
	int line = 0, native_listed = 0;

	while (fgets(buf, sizeof(buf), stdin)) {
		char word[32];
		int used = 0;
		line++;
		if (sscanf(buf, "%31s%n", word, &used) != 1)
			continue;
		char *rest = buf + used;
		if (strcmp(word, "default") == 0) {
			unsigned long long action;
			if (ctx || sscanf(rest, "%llx", &action) != 1)
				return fail(line, "malformed default");
			ctx = seccomp_init((uint32_t)action);
			if (!ctx)
				return fail(line, "seccomp_init failed");
			continue;
		}
		if (!ctx)
			return fail(line, "`default` must come first");
		if (strcmp(word, "badarch") == 0) {
			unsigned long long action;
			if (sscanf(rest, "%llx", &action) != 1)
				return fail(line, "malformed badarch");
			if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, (uint32_t)action) < 0)
				return fail(line, "badarch refused");
		} else if (strcmp(word, "arch") == 0) {
			char name[32];
			if (sscanf(rest, "%31s", name) != 1)
				return fail(line, "malformed arch");
			uint32_t token = seccomp_arch_resolve_name(name);
			if (token == 0)
				return fail(line, "unknown arch");
			if (token == seccomp_arch_native()) {
				native_listed = 1;
				continue;
			}
			if (seccomp_arch_add(ctx, token) < 0)
				return fail(line, "seccomp_arch_add failed");
		} else if (strcmp(word, "rule") == 0) {
			/* Rules are added after all arches: drop the native arch first if unlisted. */
			if (!native_listed && seccomp_arch_exist(ctx, seccomp_arch_native()) == 0) {
				if (seccomp_arch_remove(ctx, seccomp_arch_native()) < 0)
					return fail(line, "seccomp_arch_remove failed");
			}
			int rc = add_rule(ctx, rest, line);
			if (rc)
				return rc;
		} else if (strcmp(word, "resolve") == 0) {
			char arch[32], name[128];
			if (sscanf(rest, "%31s %127s", arch, name) != 2)
				return fail(line, "malformed resolve");
			uint32_t token = seccomp_arch_resolve_name(arch);
			if (token == 0)
				return fail(line, "unknown arch");
			fprintf(stderr, "resolved %s %s %d\n", arch, name,
				seccomp_syscall_resolve_name_arch(token, name));
		} else {
			return fail(line, "unknown directive");
		}
	}
	if (!ctx)
		return fail(line, "empty input");
	if (!native_listed && seccomp_arch_exist(ctx, seccomp_arch_native()) == 0)
		seccomp_arch_remove(ctx, seccomp_arch_native());
	if (seccomp_export_bpf(ctx, STDOUT_FILENO) < 0)
		return fail(line, "seccomp_export_bpf failed");
	seccomp_release(ctx);
	return 0;
}
