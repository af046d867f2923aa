/*
 * measure.c: cl-bench-measure, the wall time and peak memory of a command.
 *
 *   cl-bench-measure --out FILE -- COMMAND [ARG...]
 *
 * Runs COMMAND with the same stdin, stdout and stderr, waits for it with
 * wait4() and writes one line to FILE:
 *   wall_s=S user_s=U sys_s=Y max_rss_kib=K exit=E
 * (max_rss_kib is the peak resident set of the command, as the kernel
 * counts it: ru_maxrss). Exits with the command's exit code, or 128 + the
 * signal that ended it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_seconds(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double
tv_seconds(struct timeval tv)
{
	return (double) tv.tv_sec + (double) tv.tv_usec / 1e6;
}

/*
 * main: the child is waited for even when the report cannot be written, so
 * that no process is left behind.
 */
int
main(int argc, char **argv)
{
	const char *out = NULL;
	struct rusage ru;
	FILE *fp = NULL;
	pid_t pid;
	int status = 0;
	int first = 1;
	int rc;
	double t0;
	double wall;

	if (argc >= 3 && strcmp(argv[1], "--out") == 0)
	{
		out = argv[2];
		first = 3;
	}
	if (first < argc && strcmp(argv[first], "--") == 0)
		first++;
	if (out == NULL || first >= argc)
	{
		fprintf(stderr, "usage: cl-bench-measure --out FILE -- COMMAND [ARG...]\n");
		return 64;
	}
	t0 = now_seconds();
	pid = fork();
	if (pid < 0)
	{
		fprintf(stderr, "cl-bench-measure: fork: %s\n", strerror(errno));
		return 71;
	}
	if (pid == 0)
	{
		execvp(argv[first], argv + first);
		fprintf(stderr, "cl-bench-measure: cannot run %s: %s\n", argv[first], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0)
	{
		if (errno != EINTR)
		{
			fprintf(stderr, "cl-bench-measure: wait4: %s\n", strerror(errno));
			return 71;
		}
	}
	wall = now_seconds() - t0;
	if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		rc = 128 + WTERMSIG(status);
	else
		rc = 70;
	fp = fopen(out, "w");
	if (fp == NULL)
	{
		fprintf(stderr, "cl-bench-measure: cannot write %s: %s\n", out, strerror(errno));
		return rc != 0 ? rc : 73;
	}
	fprintf(fp, "wall_s=%.3f user_s=%.3f sys_s=%.3f max_rss_kib=%ld exit=%d\n", wall,
			tv_seconds(ru.ru_utime), tv_seconds(ru.ru_stime), ru.ru_maxrss, rc);
	if (fclose(fp) != 0)
	{
		fprintf(stderr, "cl-bench-measure: cannot write %s: %s\n", out, strerror(errno));
		return rc != 0 ? rc : 73;
	}
	return rc;
}
