/* raw_spawn.c — the peer for bench/spawn.sh: posix_spawn of a program
 * (default /bin/true) N times with K in flight, as fast as the kernel
 * allows; prints "runs/s" as one number.  Its stdout and stderr are
 * /dev/null, like a child with nothing to say.
 *   raw_spawn [-n N] [-k K] [PROGRAM] */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long n = 5000, k = 2;
	int c;
	while ((c = getopt(argc, argv, "n:k:")) != -1) {
		switch (c) {
		case 'n': n = strtol(optarg, NULL, 10); break;
		case 'k': k = strtol(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: raw_spawn [-n N] [-k K] [PROGRAM]\n");
			return 2;
		}
	}
	char *prog = optind < argc ? argv[optind] : "/bin/true";
	char *args[] = { prog, NULL };
	if (n < 1 || k < 1) {
		fprintf(stderr, "raw_spawn: N and K must be positive\n");
		return 2;
	}

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);

	long started = 0, done = 0, inflight = 0;
	double t0 = now_s();
	while (done < n) {
		while (inflight < k && started < n) {
			pid_t pid;
			int rc = posix_spawn(&pid, prog, &fa, NULL, args, environ);
			if (rc != 0) {
				fprintf(stderr, "raw_spawn: %s: %s\n", prog, strerror(rc));
				return 1;
			}
			started++;
			inflight++;
		}
		int st;
		pid_t p = waitpid(-1, &st, 0);
		if (p < 0) {
			if (errno == EINTR)
				continue;
			perror("raw_spawn: waitpid");
			return 1;
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "raw_spawn: child %d failed\n", (int)p);
			return 1;
		}
		inflight--;
		done++;
	}
	double dt = now_s() - t0;
	posix_spawn_file_actions_destroy(&fa);
	printf("%.1f\n", (double)n / dt);
	return 0;
}
