/*
 * load-filter: loads a seccomp filter (struct sock_filter[] on stdin) into itself with
 * no_new_privs, then makes the syscalls named on the command line, each as
 * `<nr>[,<arg0>[,<arg1>...]]`, and prints `<nr> <return> <errno>` per call. Used by
 * src/policy/seccomp/kernel.test.ts to check that the kernel accepts moat's filters and
 * that they decide on a real kernel what the emulator says. Only harmless calls are passed.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static struct sock_filter insns[4096];
	size_t got = 0;
	ssize_t n;
	while ((n = read(0, (char *)insns + got, sizeof(insns) - got)) > 0)
		got += (size_t)n;
	struct sock_fprog prog = { .len = (unsigned short)(got / 8), .filter = insns };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		printf("error no_new_privs %d\n", errno);
		return 3;
	}
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
		printf("error seccomp %d\n", errno);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		long a[7] = { 0 };
		char *p = argv[i];
		for (int j = 0; j < 7 && *p; j++) {
			a[j] = strtol(p, &p, 0);
			if (*p == ',')
				p++;
		}
		errno = 0;
		long r = syscall(a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
		printf("%ld %ld %d\n", a[0], r, r < 0 ? errno : 0);
	}
	return 0;
}
