/* test_proc.c — unit tests for src/engine/proc.c with a real libuv loop
 * and real child processes (sh, sleep). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/proc.h"

struct cap {
	char out[8192];
	size_t nout;
	char err[8192];
	size_t nerr;
	int exited;
	int code;
	int sig;
	int free_in_cb;          /* call proc_free from inside on_exit */
	uint64_t exit_ns;        /* uv_hrtime() at on_exit */
};

struct fx {
	uv_loop_t loop;
	uv_timer_t tick;         /* wakes the loop while a test polls */
	char *env[4];
	char path_var[PATH_MAX + 8];
};

static void on_output(struct proc *p, int stream, const char *buf, size_t n,
                      void *ud)
{
	struct cap *c = ud;
	char *dst = stream == 1 ? c->out : c->err;
	size_t *len = stream == 1 ? &c->nout : &c->nerr;

	(void)p;
	assert_true(stream == 1 || stream == 2);
	assert_true(*len + n < sizeof(c->out));
	memcpy(dst + *len, buf, n);
	*len += n;
	dst[*len] = '\0';
}

static void on_exit_cb(struct proc *p, int code, int sig, void *ud)
{
	struct cap *c = ud;

	assert_int_equal(c->exited, 0);      /* exactly once */
	c->exited = 1;
	c->code = code;
	c->sig = sig;
	c->exit_ns = uv_hrtime();
	assert_true(proc_exited(p));
	if (c->free_in_cb)
		proc_free(p);
}

static const struct proc_cbs cbs = {on_output, on_exit_cb};

static void on_tick(uv_timer_t *t)
{
	(void)t;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	assert_int_equal(uv_timer_init(&fx->loop, &fx->tick), 0);
	snprintf(fx->path_var, sizeof(fx->path_var), "PATH=%s",
	         getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	fx->env[0] = fx->path_var;
	fx->env[1] = "JOBD_TEST_VAR=hello world";
	fx->env[2] = NULL;
	*state = fx;
	return 0;
}

/* Every handle must be closed by now: uv_loop_close fails with EBUSY if
 * proc.c leaked one (and ASan reports leaked memory). */
static int teardown(void **state)
{
	struct fx *fx = *state;

	uv_close((uv_handle_t *)&fx->tick, NULL);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&fx->loop), 0);
	free(fx);
	return 0;
}

/* Runs the loop until *flag is set or timeout_ms passed. */
static void run_until(struct fx *fx, const int *flag, unsigned timeout_ms)
{
	uint64_t deadline = uv_hrtime() + (uint64_t)timeout_ms * 1000000u;

	uv_timer_start(&fx->tick, on_tick, 10, 10);
	while (!*flag && uv_hrtime() < deadline)
		uv_run(&fx->loop, UV_RUN_ONCE);
	uv_timer_stop(&fx->tick);
}

static struct proc *start_sh(struct fx *fx, const char *script,
                             struct cap *c)
{
	char *argv[] = {"sh", "-c", (char *)script, NULL};
	struct proc_spec spec = {.argv = argv, .env = fx->env};
	struct proc *p = NULL;
	char err[256] = "";

	assert_int_equal(proc_start(&fx->loop, &spec, &cbs, c, &p, err,
	                            sizeof(err)), 0);
	assert_non_null(p);
	assert_true(proc_pid(p) > 0);
	return p;
}

/* Runs a script to completion; the proc is freed afterwards. */
static void run_sh(struct fx *fx, const char *script, struct cap *c)
{
	struct proc *p = start_sh(fx, script, c);

	run_until(fx, &c->exited, 10000);
	assert_true(c->exited);
	proc_free(p);
}

/* A pid is gone when kill() says so or it is an unreaped zombie
 * (reparented children are reaped by init, a moment later). */
static int pid_gone(int pid)
{
	char path[64], buf[512];
	FILE *f;
	char *q;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 1;
	q = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!q || !(q = strrchr(buf, ')')))
		return 1;
	return q[1] == ' ' && q[2] == 'Z';
}

static int wait_gone(struct fx *fx, int pid, unsigned timeout_ms)
{
	uint64_t deadline = uv_hrtime() + (uint64_t)timeout_ms * 1000000u;

	while (!pid_gone(pid) && uv_hrtime() < deadline) {
		uv_run(&fx->loop, UV_RUN_NOWAIT);
		usleep(5000);
	}
	return pid_gone(pid);
}

/* Count of complete lines in s. */
static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_output_both_streams(void **state)
{
	struct cap c = {0};

	run_sh(*state, "echo out1; echo err1 >&2; echo out2; printf x >&2", &c);
	assert_string_equal(c.out, "out1\nout2\n");
	assert_string_equal(c.err, "err1\nx");
	assert_int_equal(c.code, 0);
	assert_int_equal(c.sig, 0);
}

static void test_large_output(void **state)
{
	struct cap c = {0};

	/* More than one read's worth is delivered in order and complete. */
	run_sh(*state, "i=0; while [ $i -lt 700 ]; do echo 0123456789; "
	       "i=$((i+1)); done", &c);
	assert_int_equal(c.nout, 700 * 11);
	assert_int_equal(lines(c.out), 700);
	assert_int_equal(c.code, 0);
}

static void test_exit_codes(void **state)
{
	struct cap c0 = {0}, c3 = {0};

	run_sh(*state, "exit 0", &c0);
	assert_int_equal(c0.code, 0);
	assert_int_equal(c0.sig, 0);
	run_sh(*state, "exit 3", &c3);
	assert_int_equal(c3.code, 3);
	assert_int_equal(c3.sig, 0);
}

static void test_killed_by_signal(void **state)
{
	struct cap c = {0};

	run_sh(*state, "kill -USR1 $$", &c);
	assert_int_equal(c.code, -1);
	assert_int_equal(c.sig, SIGUSR1);
	assert_int_equal(c.sig, 10);
}

static void test_free_in_on_exit(void **state)
{
	struct cap c = {.free_in_cb = 1};

	start_sh(*state, "echo bye", &c);
	run_until(*state, &c.exited, 10000);
	assert_true(c.exited);
	assert_string_equal(c.out, "bye\n");
	/* teardown checks that every handle got closed */
}

static void test_process_group(void **state)
{
	struct fx *fx = *state;
	/* sleep itself, not sh: a lone leader that we reap, so the group is
	 * really gone afterwards (an orphaned zombie would keep it alive
	 * where init does not reap). argv[0] is looked up in PATH. */
	char *argv[] = {"sleep", "5", NULL};
	struct proc_spec spec = {.argv = argv, .env = fx->env};
	struct cap c = {0};
	struct proc *p = NULL;
	char err[256];
	int pid;
	int64_t st = -1;

	assert_int_equal(proc_start(&fx->loop, &spec, &cbs, &c, &p, err,
	                            sizeof(err)), 0);
	pid = proc_pid(p);

	assert_int_equal(getpgid(pid), pid);
	assert_int_equal(getsid(pid), pid);
	assert_int_not_equal(getpgid(pid), getpgid(0));
	/* start time is known at once and matches /proc */
	assert_int_equal(proc_identity(pid, &st), 0);
	assert_true(st > 0);
	assert_true(proc_start_time(p) == st);
	assert_false(proc_exited(p));
	assert_int_equal(proc_signal(p, SIGKILL), 0);
	run_until(fx, &c.exited, 5000);
	assert_true(c.exited);
	assert_int_equal(c.code, -1);
	assert_int_equal(c.sig, SIGKILL);
	assert_int_equal(proc_signal(p, SIGTERM), -ESRCH);
	proc_free(p);
}

/* The start time is taken from the clock when the spawn fits in one
 * clock tick, from /proc otherwise: either way it must be what /proc
 * says, for every run (300 of them: past proc.c's every-256th check). */
static void test_start_time_many(void **state)
{
	struct fx *fx = *state;
	char *argv[] = {"sleep", "5", NULL};
	struct proc_spec spec = {.argv = argv, .env = fx->env};
	char err[256];

	for (int i = 0; i < 300; i++) {
		struct cap c = {0};
		struct proc *p = NULL;
		int64_t st = -1;
		assert_int_equal(proc_start(&fx->loop, &spec, &cbs, &c, &p, err,
		                            sizeof(err)), 0);
		assert_int_equal(proc_identity(proc_pid(p), &st), 0);
		assert_true(proc_start_time(p) == st);
		assert_int_equal(proc_signal(p, SIGKILL), 0);
		run_until(fx, &c.exited, 5000);
		assert_true(c.exited);
		proc_free(p);
	}
}

/* Parses two pids, one per line, from the script's output. */
static void two_pids(const char *s, int *a, int *b)
{
	assert_int_equal(sscanf(s, "%d\n%d\n", a, b), 2);
	assert_true(*a > 1 && *b > 1);
}

static void test_terminate_tree(void **state)
{
	struct fx *fx = *state;
	struct cap c = {0};
	struct proc *p = start_sh(fx, "sleep 100 & echo $!; sleep 100 & "
	                          "echo $!; wait", &c);
	int have = 0, g1, g2;
	uint64_t t0;

	while (!have && !c.exited) {
		run_until(fx, &c.exited, 20);
		have = lines(c.out) >= 2;
	}
	assert_true(have);
	two_pids(c.out, &g1, &g2);
	assert_int_equal(getpgid(g1), proc_pid(p));
	assert_int_equal(getpgid(g2), proc_pid(p));
	t0 = uv_hrtime();
	proc_terminate(p, 5 * 1000000);
	proc_terminate(p, 5 * 1000000);      /* twice is harmless */
	run_until(fx, &c.exited, 3000);
	assert_true(c.exited);
	/* SIGTERM did it, well before the 5 s grace */
	assert_true(uv_hrtime() - t0 < 2000000000u);
	assert_int_equal(c.sig, SIGTERM);
	assert_int_equal(c.code, -1);
	assert_true(wait_gone(fx, g1, 2000));
	assert_true(wait_gone(fx, g2, 2000));
	proc_free(p);     /* cancels the pending grace timer */
}

static void test_terminate_escalates(void **state)
{
	struct fx *fx = *state;
	struct cap c = {0};
	struct proc *p = start_sh(fx, "trap '' TERM; echo ready; sleep 100",
	                          &c);
	uint64_t t0;

	while (!c.exited && lines(c.out) < 1)
		run_until(fx, &c.exited, 20);
	assert_string_equal(c.out, "ready\n");
	t0 = uv_hrtime();
	proc_terminate(p, 300 * 1000);
	run_until(fx, &c.exited, 5000);
	assert_true(c.exited);
	assert_int_equal(c.sig, SIGKILL);
	assert_true(c.exit_ns - t0 >= 290000000u);
	assert_true(c.exit_ns - t0 < 2000000000u);
	proc_free(p);
}

/* The leader exits at once; its child stays in the group ignoring TERM
 * and must be SIGKILLed through the remembered pgid. */
static void test_terminate_after_leader_exit(void **state)
{
	struct fx *fx = *state;
	struct cap c = {0};
	struct proc *p = start_sh(fx, "trap '' TERM; "
	                          "sleep 100 >/dev/null 2>&1 & echo $!", &c);
	int g = 0;
	uint64_t t0;

	run_until(fx, &c.exited, 5000);
	assert_true(c.exited);
	assert_int_equal(c.code, 0);
	assert_int_equal(sscanf(c.out, "%d", &g), 1);
	assert_int_equal(getpgid(g), proc_pid(p));
	t0 = uv_hrtime();
	proc_terminate(p, 200 * 1000);
	usleep(100 * 1000);
	assert_false(pid_gone(g));           /* TERM was ignored */
	assert_true(wait_gone(fx, g, 3000));
	assert_true(uv_hrtime() - t0 >= 190000000u);
	proc_free(p);
}

/* proc_free right after on_exit with a long grace timer pending must not
 * keep the loop (or the object) alive until the timer fires. */
static void test_free_cancels_grace_timer(void **state)
{
	struct fx *fx = *state;
	struct cap c = {0};
	struct proc *p = start_sh(fx, "sleep 100", &c);
	uint64_t t0;

	proc_terminate(p, 60LL * 1000000);
	run_until(fx, &c.exited, 5000);
	assert_true(c.exited);
	assert_int_equal(c.sig, SIGTERM);
	proc_free(p);
	t0 = uv_hrtime();
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_true(uv_hrtime() - t0 < 1000000000u);
}

static void test_daemon_holding_pipes(void **state)
{
	struct fx *fx = *state;
	struct cap c = {0};
	uint64_t t0 = uv_hrtime();
	struct proc *p = start_sh(fx, "sleep 30 & echo hi", &c);
	uint64_t took;

	run_until(fx, &c.exited, 5000);
	assert_true(c.exited);
	took = c.exit_ns - t0;
	assert_true(took >= 900000000u);     /* waited for EOF ... */
	assert_true(took < 2000000000u);     /* ... but not for sleep 30 */
	assert_string_equal(c.out, "hi\n");
	assert_int_equal(c.code, 0);
	/* the grandchild still lives in the group: clean it up */
	assert_int_equal(proc_signal(p, SIGKILL), 0);
	proc_free(p);
}

static void test_spawn_failure(void **state)
{
	struct fx *fx = *state;
	char *argv[] = {"nope-jobd-no-such-program", NULL};
	char *argv2[] = {"/etc/passwd", NULL};
	struct proc_spec spec = {.argv = argv, .env = fx->env};
	struct cap c = {0};
	struct proc *p = (struct proc *)&c;
	char err[256] = "";

	assert_int_equal(proc_start(&fx->loop, &spec, &cbs, &c, &p, err,
	                            sizeof(err)), -ENOENT);
	assert_null(p);
	assert_string_equal(err, "cannot run 'nope-jobd-no-such-program': "
	                    "no such file or directory");
	spec.argv = argv2;
	assert_int_equal(proc_start(&fx->loop, &spec, &cbs, &c, &p, err,
	                            sizeof(err)), -EACCES);
	assert_null(p);
	assert_string_equal(err, "cannot run '/etc/passwd': permission denied");
	/* a missing cwd fails too, naming the program */
	spec.argv = (char *[]){"true", NULL};
	spec.cwd = "/nonexistent-jobd-dir";
	assert_int_equal(proc_start(&fx->loop, &spec, &cbs, &c, &p, err,
	                            sizeof(err)), -ENOENT);
	assert_null(p);
	assert_non_null(strstr(err, "cannot run 'true'"));
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_false(c.exited);
}

static void test_cwd_and_env(void **state)
{
	struct fx *fx = *state;
	char dir[] = "/tmp/test_proc_XXXXXX";
	char real[PATH_MAX], want[2 * PATH_MAX + 64];
	char *argv[] = {"sh", "-c", "echo \"$PWD\"; pwd -P; "
	                "echo \"$JOBD_TEST_VAR\"; echo \"${JOBD_PARENT_ONLY-unset}\"",
	                NULL};
	struct proc_spec spec = {.argv = argv, .env = fx->env, .cwd = dir};
	struct cap c = {0};
	struct proc *p = NULL;
	char err[256];

	assert_non_null(mkdtemp(dir));
	assert_non_null(realpath(dir, real));
	setenv("JOBD_PARENT_ONLY", "leaked", 1);
	assert_int_equal(proc_start(&fx->loop, &spec, &cbs, &c, &p, err,
	                            sizeof(err)), 0);
	run_until(fx, &c.exited, 5000);
	unsetenv("JOBD_PARENT_ONLY");
	assert_true(c.exited);
	snprintf(want, sizeof(want), "%s\n%s\nhello world\nunset\n", real,
	         real);
	assert_string_equal(c.out, want);
	proc_free(p);
	rmdir(dir);
}

static void test_identity(void **state)
{
	int64_t self = -1, again = -1, t1 = -1, t2 = -1;
	int fds[2], ack[2];
	pid_t pid;
	char ch = 0, path[64], comm[64] = "";
	FILE *f;

	(void)state;
	assert_int_equal(proc_identity(getpid(), &self), 0);
	assert_true(self > 0);
	assert_int_equal(proc_identity(getpid(), &again), 0);
	assert_true(self == again);
	assert_int_equal(proc_identity(0, &again), -ESRCH);
	assert_int_equal(proc_identity(-5, &again), -ESRCH);

	/* A comm with spaces and parentheses must not shift the fields. */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(pipe(ack), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[1]);
		close(ack[0]);
		if (read(fds[0], &ch, 1) != 1)
			_exit(1);
		prctl(PR_SET_NAME, "a) b (c) d", 0, 0, 0);
		if (write(ack[1], "k", 1) != 1)
			_exit(1);
		if (read(fds[0], &ch, 1) < 0)
			_exit(1);
		_exit(0);
	}
	assert_int_equal(proc_identity(pid, &t1), 0);
	assert_true(t1 >= self);
	assert_int_equal(write(fds[1], "g", 1), 1);
	assert_int_equal(read(ack[0], &ch, 1), 1);
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(comm, sizeof(comm), f));
	fclose(f);
	assert_string_equal(comm, "a) b (c) d\n");
	assert_int_equal(proc_identity(pid, &t2), 0);
	assert_true(t1 == t2);
	close(fds[1]);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	close(fds[0]);
	close(ack[0]);
	close(ack[1]);
	/* reaped: gone */
	assert_int_equal(proc_identity(pid, &t2), -ESRCH);
}

static void test_signal_parse(void **state)
{
	static const struct {
		const char *s;
		int n;
	} cases[] = {
		{"TERM", 15}, {"SIGTERM", 15}, {"term", 15}, {"sigterm", 15},
		{"15", 15}, {"KILL", 9}, {"9", 9}, {"HUP", 1}, {"INT", 2},
		{"USR1", 10}, {"USR2", 12}, {"QUIT", 3}, {"STOP", 19},
		{"CONT", 18}, {"WINCH", 28}, {"ALRM", 14}, {"PIPE", 13},
		{"CHLD", 17}, {"SigChld", 17}, {"CLD", 17}, {"SEGV", 11},
		{"1", 1}, {"64", 64},
		{"0", -1}, {"65", -1}, {"100", -1}, {"-9", -1}, {"", -1},
		{"SIG", -1}, {"FOO", -1}, {"SIGFOO", -1}, {"15x", -1},
		{"TERM ", -1}, {" TERM", -1}, {"99999999999", -1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (signal_parse(cases[i].s) != cases[i].n)
			fail_msg("signal_parse(\"%s\") = %d, want %d",
			         cases[i].s, signal_parse(cases[i].s),
			         cases[i].n);
	}
	assert_int_equal(signal_parse(NULL), -1);
}

static void test_signal_name(void **state)
{
	(void)state;
	assert_string_equal(signal_name(15), "SIGTERM");
	assert_string_equal(signal_name(9), "SIGKILL");
	assert_string_equal(signal_name(10), "SIGUSR1");
	assert_string_equal(signal_name(1), "SIGHUP");
	assert_string_equal(signal_name(17), "SIGCHLD");
	assert_string_equal(signal_name(28), "SIGWINCH");
	assert_string_equal(signal_name(40), "SIG40");
	assert_string_equal(signal_name(0), "SIG0");
	assert_string_equal(signal_name(-3), "SIG-3");
	/* static strings for known signals */
	assert_ptr_equal(signal_name(15), signal_name(15));
	/* every named signal round-trips */
	for (int n = 1; n <= 31; n++)
		assert_int_equal(signal_parse(signal_name(n)), n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_output_both_streams, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_large_output, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_exit_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_by_signal, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_free_in_on_exit, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_process_group, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_terminate_tree, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_terminate_escalates, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_terminate_after_leader_exit,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_cancels_grace_timer,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(test_daemon_holding_pipes, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_spawn_failure, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_cwd_and_env, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_start_time_many, setup,
		                                teardown),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_signal_parse),
		cmocka_unit_test(test_signal_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
