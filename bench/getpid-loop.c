/*
 * getpid-loop N [FILTER]: the cost of a syscall under seccomp.  Makes N raw getpid() calls
 * (syscall(2), so no libc caching) in chunks of 10000 and prints {"calls":N,
 * "ns_per_call": fastest chunk, "mean_ns_per_call": all calls}.  With FILTER (a
 * file of struct sock_filter[]) it first loads that filter into itself with no_new_privs:
 * the same filter compared without any runtime around it.  Built static by bench/seccomp.mjs
 * and copied into the bundle's rootfs for the in-container runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void load_filter(const char *path)
{
	static struct sock_filter insns[4096];
	size_t got = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror(path);
		exit(2);
	}
	while ((n = read(fd, (char *)insns + got, sizeof insns - got)) > 0)
		got += (size_t)n;
	close(fd);
	struct sock_fprog prog = { .len = (unsigned short)(got / 8), .filter = insns };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) {
		perror("load filter");
		exit(3);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs("usage: getpid-loop N [FILTER]\n", stderr);
		return 2;
	}
	long n = atol(argv[1]);
	if (argc > 2)
		load_filter(argv[2]);
	/* chunks of 10000 calls: on a shared machine the fastest chunk is the cost of the call,
	 * the mean also carries preemption by other work */
	long chunk = n < 10000 ? n : 10000, done = 0;
	double best = 1e300, total = 0;
	while (done < n) {
		long m = n - done < chunk ? n - done : chunk;
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (long i = 0; i < m; i++)
			syscall(SYS_getpid);
		clock_gettime(CLOCK_MONOTONIC, &b);
		double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
		total += ns;
		if (ns / (double)m < best)
			best = ns / (double)m;
		done += m;
	}
	printf("{\"calls\":%ld,\"ns_per_call\":%.2f,\"mean_ns_per_call\":%.2f}\n", n, best, total / (double)n);
	return 0;
}
