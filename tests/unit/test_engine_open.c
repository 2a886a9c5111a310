/* test_engine_open.c — engine_open failing part-way releases what it had
 * set up: no handle left on the loop (uv_loop_close succeeds), no file
 * descriptor left open (the stores), and under the SANITIZE=1 build no
 * leak (the config it took, the stores, the targets, the jobs).  A good
 * open on the same state afterwards shows the failures were the ones
 * meant. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <uv.h>

#include "jobd.h"
#include "engine/config.h"
#include "engine/engine.h"
#include "engine/log.h"

static char dir[PATH_MAX];

static void set(char **field, const char *fmt, const char *arg)
{
	free(*field);
	assert_true(asprintf(field, fmt, arg) >= 0);
}

/* A default config with its state, store and job files under dir. */
static void config_in_dir(struct config *c)
{
	memset(c, 0, sizeof(*c));
	config_defaults(c);
	set(&c->state_dir, "%s/state", dir);
	set(&c->socket, "%s/state/jobd.sock", dir);
	set(&c->store, "sqlite:%s/state/jobd.db", dir);
	set(&c->jobs_dir, "%s/jobs.d", dir);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fclose(f);
}

/* Opens with c (taken), expecting a failure whose message contains want;
 * then the loop must close with nothing left on it, and no fd stay open. */
static void open_fails(struct config *c, const char *want)
{
	struct engine *e = calloc(1, sizeof(*e));
	char err[1024] = "";
	uv_loop_t loop;
	int fds = count_fds(), rc;

	assert_non_null(e);
	assert_int_equal(uv_loop_init(&loop), 0);
	rc = engine_open(e, &loop, c, err, sizeof(err));
	assert_true(rc < 0);
	if (!strstr(err, want))
		fail_msg("error '%s' does not say '%s'", err, want);
	uv_run(&loop, UV_RUN_NOWAIT);           /* the close callbacks */
	assert_int_equal(uv_loop_close(&loop), 0);   /* no handle left */
	assert_int_equal(count_fds(), fds);
	free(e);
}

static void open_works(void)
{
	struct engine *e = calloc(1, sizeof(*e));
	struct config c;
	char err[1024] = "";
	uv_loop_t loop;

	assert_non_null(e);
	config_in_dir(&c);
	assert_int_equal(uv_loop_init(&loop), 0);
	if (engine_open(e, &loop, &c, err, sizeof(err)) < 0)
		fail_msg("engine_open: %s", err);
	engine_close(e);
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(uv_loop_close(&loop), 0);
	free(e);
}

static int setup(void **state)
{
	char tmpl[] = "/tmp/test_engine_open.XXXXXX";
	char jobs[PATH_MAX + 16];

	(void)state;
	if (!mkdtemp(tmpl) || !realpath(tmpl, dir))
		return -1;
	snprintf(jobs, sizeof(jobs), "%s/jobs.d", dir);
	return mkdir(jobs, 0700);
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The first step that can fail: the proc dir (under a state_dir that is
 * a file).  The timers are already on the loop. */
static void test_proc_dir_unusable(void **state)
{
	struct config c;
	char path[PATH_MAX + 16];

	(void)state;
	snprintf(path, sizeof(path), "%s/afile", dir);
	touch(path);
	config_in_dir(&c);
	set(&c.state_dir, "%s/afile", dir);
	open_fails(&c, "cannot create state directory");
	open_works();
}

/* The store cannot be opened (its directory is missing): the proc dir
 * was made, the timers are on the loop. */
static void test_store_unusable(void **state)
{
	struct config c;

	(void)state;
	config_in_dir(&c);
	set(&c.store, "sqlite:%s/no/such/dir/jobd.db", dir);
	open_fails(&c, "no/such/dir");
	open_works();
}

/* jobs_dir is a file: everything before it is up (both stores open, the
 * targets and the store's jobs loaded), and must all go again. */
static void test_jobs_dir_unusable(void **state)
{
	struct config c;
	char path[PATH_MAX + 16];

	(void)state;
	open_works();           /* a store with its tables */
	snprintf(path, sizeof(path), "%s/jobsfile", dir);
	touch(path);
	config_in_dir(&c);
	set(&c.jobs_dir, "%s/jobsfile", dir);
	open_fails(&c, "jobsfile");
	open_works();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_proc_dir_unusable, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_store_unusable, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_jobs_dir_unusable, setup,
		                                teardown),
	};
	uv_loop_t warm;

	log_min_level = LOG_ERROR;
	/* libuv's first loop opens fds of its own for the process's life
	 * (the signal lock pipe): not the engine's */
	if (uv_loop_init(&warm) == 0)
		uv_loop_close(&warm);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
