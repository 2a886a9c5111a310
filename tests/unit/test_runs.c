/* test_runs.c — runs (engine/runs.c) through a real engine over the fake
 * store and clock: a run's end is one store write with its code, result
 * and output; retries wait out their backoff; a run that cannot start ends
 * failed once; a run whose insert fails is dropped; the watchers (the
 * seam) hear started / output / ended once. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_engine.h"

static struct run row(const char *jid)
{
	struct run r;
	if (fake_store_row(jid, &r) < 0)
		fail_msg("no row for %s", jid);
	return r;
}

/* start -> end: one write of the ended row, with everything in it */
static void test_start_end(void **state)
{
	static const char *const argv[] = {"/bin/sh", "-c",
	                                   "echo hello; echo oops >&2; exit 3",
	                                   NULL};
	struct fx f;
	struct fx_watch w;
	char jid[JID_LEN + 1];
	(void)state;

	fx_open(&f, FX_EPOCH);
	struct arun *a = fx_submit(&f, NULL, 0, 0, argv);
	memcpy(jid, a->r.jid, sizeof jid);
	fx_watch(a, &w);
	queue_pump_all(&f.e);
	FX_UNTIL(&f, w.ended && fx_status(jid) == RUN_DONE);
	fx_settle(&f, 100);
	/* the watchers: each callback, ended once, with the run's end */
	assert_int_equal(w.started, 1);
	assert_true(w.output >= 1);
	assert_non_null(strstr(w.out, "hello\n"));
	assert_non_null(strstr(w.out, "oops\n"));
	assert_int_equal(w.ended, 1);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.result, RESULT_FAIL);
	assert_int_equal(w.code, 3);
	/* the store: one insert, one write of the end */
	assert_int_equal(fake_store_writes(FS_RUN_INSERT, jid, -1), 1);
	assert_int_equal(fake_store_writes(FS_RUN_INSERT, jid, RUN_DONE) +
	                 fake_store_writes(FS_RUN_UPDATE, jid, RUN_DONE), 1);
	struct run r = row(jid);
	assert_int_equal(r.status, RUN_DONE);
	assert_int_equal(r.result, RESULT_FAIL);
	assert_int_equal(r.return_code, 3);
	assert_int_equal(r.attempt, 1);
	assert_true(r.pid > 0);
	assert_int_equal(r.time_started, FX_EPOCH);
	assert_int_equal(r.time_finished, FX_EPOCH);
	assert_int_equal(r.out_len, 6);
	assert_memory_equal(r.out, "hello\n", 6);
	assert_int_equal(r.err_len, 5);
	assert_memory_equal(r.errout, "oops\n", 5);
	run_clear(&r);
	/* nothing of it is left in memory, and no retry was made */
	assert_null(run_find(&f.e, jid));
	assert_int_equal(fake_store_rows(), 1);
	fx_close(&f);
}

static int rows_with_parent(const char *parent, char last[JID_LEN + 1])
{
	int n = 0;
	char jid[JID_LEN + 1];
	for (int i = 0; fake_store_row_jid(i, jid)[0]; i++) {
		struct run r = row(jid);
		if (strcmp(r.parent, parent) == 0) {
			n++;
			memcpy(last, jid, JID_LEN + 1);
		}
		run_clear(&r);
	}
	return n;
}

/* retries = 2, backoff 10 s: attempt 2 not before 10 s (+ up to 10 %),
 * attempt 3 not before 20 s after attempt 2 ended, and no fourth */
static void test_retries_backoff(void **state)
{
	struct fx f;
	char first[JID_LEN + 1], retry[JID_LEN + 1];
	int64_t t0 = FX_EPOCH;
	(void)state;

	fx_open(&f, t0);
	struct arun *a = fx_submit_spec(&f, NULL, 0, 0,
		"{\"argv\": [\"/bin/false\"], \"retries\": 2, "
		"\"backoff\": 10000000}");
	memcpy(first, a->r.jid, sizeof first);
	queue_pump_all(&f.e);
	FX_UNTIL(&f, fx_status(first) == RUN_DONE &&
	             rows_with_parent(first, retry) == 1 &&
	             fx_status(retry) == RUN_WAITING);
	struct run r = row(retry);
	assert_int_equal(r.attempt, 2);
	assert_int_equal(r.trigger, TRIG_RETRY);
	assert_true(r.time_not_before >= t0 + 10 * US_PER_S);
	assert_true(r.time_not_before <= t0 + 11 * US_PER_S);
	int64_t due = r.time_not_before;
	run_clear(&r);
	/* not before its time (less the lead: its start commits ahead) */
	fx_tick(&f, due - SPAWN_LEAD - 1);
	fx_settle(&f, 100);
	assert_int_equal(fx_status(retry), RUN_WAITING);
	fx_tick(&f, due - 1);
	FX_UNTIL(&f, fx_status(retry) == RUN_RUNNING);
	fx_settle(&f, 100);
	r = row(retry);
	assert_int_equal(r.pid, 0);             /* committed, not spawned */
	run_clear(&r);
	/* at its time: runs, fails, the third attempt waits twice as long */
	fx_tick(&f, due);
	FX_UNTIL(&f, fx_status(retry) == RUN_DONE &&
	             rows_with_parent(first, retry) == 2 &&
	             fx_status(retry) == RUN_WAITING);
	r = row(retry);
	assert_int_equal(r.attempt, 3);
	assert_true(r.time_not_before >= due + 20 * US_PER_S);
	assert_true(r.time_not_before <= due + 22 * US_PER_S);
	int64_t due3 = r.time_not_before;
	run_clear(&r);
	fx_tick(&f, due3);
	FX_UNTIL(&f, fx_status(retry) == RUN_DONE);
	fx_settle(&f, 100);
	/* the last attempt failed too: no more */
	assert_int_equal(rows_with_parent(first, retry), 2);
	assert_int_equal(fake_store_rows(), 3);
	fx_close(&f);
}

/* A run that cannot start (an unknown user): it ends failed, once, code
 * 127, the reason as its stderr; its watchers never hear `started`. */
static void test_fail_before_start(void **state)
{
	struct fx f;
	struct fx_watch w;
	char jid[JID_LEN + 1];
	(void)state;

	fx_open(&f, FX_EPOCH);
	struct arun *a = fx_submit_spec(&f, NULL, 0, 0,
		"{\"argv\": [\"/bin/true\"], \"user\": \"no-such-user-xq\", "
		"\"retries\": 0}");
	memcpy(jid, a->r.jid, sizeof jid);
	fx_watch(a, &w);
	queue_pump_all(&f.e);
	FX_UNTIL(&f, w.ended && fx_status(jid) == RUN_DONE);
	fx_settle(&f, 100);
	assert_int_equal(w.started, 0);
	assert_int_equal(w.ended, 1);
	assert_int_equal(w.code, 127);
	assert_int_equal(fake_store_writes(FS_RUN_INSERT, jid, RUN_DONE) +
	                 fake_store_writes(FS_RUN_UPDATE, jid, RUN_DONE), 1);
	struct run r = row(jid);
	assert_int_equal(r.result, RESULT_FAIL);
	assert_int_equal(r.return_code, 127);
	assert_int_equal(r.pid, 0);
	assert_non_null(r.errout);
	assert_non_null(strstr(r.errout, "no-such-user-xq"));
	run_clear(&r);
	assert_int_equal(fake_store_rows(), 1);
	fx_close(&f);
}

/* A command that cannot be executed: the same, through the spawn. */
static void test_spawn_fails(void **state)
{
	static const char *const argv[] = {"/nonexistent/jobd-unit", NULL};
	struct fx f;
	struct fx_watch w;
	char jid[JID_LEN + 1];
	(void)state;

	fx_open(&f, FX_EPOCH);
	struct arun *a = fx_submit(&f, NULL, 0, 0, argv);
	memcpy(jid, a->r.jid, sizeof jid);
	fx_watch(a, &w);
	queue_pump_all(&f.e);
	FX_UNTIL(&f, w.ended && fx_status(jid) == RUN_DONE);
	fx_settle(&f, 100);
	assert_int_equal(w.ended, 1);
	assert_int_equal(w.result, RESULT_FAIL);
	assert_int_equal(fake_store_writes(FS_RUN_INSERT, jid, RUN_DONE) +
	                 fake_store_writes(FS_RUN_UPDATE, jid, RUN_DONE), 1);
	struct run r = row(jid);
	assert_int_equal(r.result, RESULT_FAIL);
	assert_int_equal(r.return_code, 127);
	run_clear(&r);
	fx_close(&f);
}

/* The insert fails: the run is dropped (never started), its watcher ends
 * once with the error; the next submit works. */
static void test_insert_fails(void **state)
{
	static const char *const argv[] = {"/bin/true", NULL};
	struct fx f;
	struct fx_watch w, w2;
	char jid[JID_LEN + 1];
	(void)state;

	fx_open(&f, FX_EPOCH);
	fake_store_fail(FS_RUN_INSERT, 0, 1, -EIO);
	struct arun *a = fx_submit(&f, NULL, 0, 0, argv);
	memcpy(jid, a->r.jid, sizeof jid);
	fx_watch(a, &w);
	queue_pump_all(&f.e);
	FX_UNTIL(&f, w.ended);
	fx_settle(&f, 100);
	assert_int_equal(w.ended, 1);
	assert_int_equal(w.started, 0);
	assert_int_equal(w.err, -EIO);
	assert_null(run_find(&f.e, jid));
	assert_int_equal(fx_status(jid), -1);
	assert_int_equal(fake_store_rows(), 0);
	assert_int_equal(f.e.n_waiting, 0);
	assert_int_equal(f.e.n_running, 0);
	assert_int_equal(queue_target(&f.e, "default")->running, 0);
	/* the store works again: so does the next run */
	a = fx_submit(&f, NULL, 0, 0, argv);
	memcpy(jid, a->r.jid, sizeof jid);
	fx_watch(a, &w2);
	queue_pump_all(&f.e);
	FX_UNTIL(&f, w2.ended && fx_status(jid) == RUN_DONE);
	assert_int_equal(w2.started, 1);
	assert_int_equal(w2.err, 0);
	fx_close(&f);
}

/* The end's write fails: it is written again (a second later) until it
 * lands; the watchers heard the end once. */
static void test_end_write_retried(void **state)
{
	struct fx f;
	struct fx_watch w;
	struct fake_call calls[64];
	char jid[JID_LEN + 1], go[128], cmd[256];
	(void)state;

	fx_open(&f, FX_EPOCH);
	/* it ends when told: after its pid's write has landed */
	snprintf(go, sizeof go, "%s/go", f.dir);
	snprintf(cmd, sizeof cmd, "while [ ! -e %s ]; do sleep 0.02; done; "
	         "exit 4", go);
	const char *const argv[] = {"/bin/sh", "-c", cmd, NULL};
	struct arun *a = fx_submit(&f, NULL, 0, 0, argv);
	memcpy(jid, a->r.jid, sizeof jid);
	fx_watch(a, &w);
	queue_pump_all(&f.e);
	struct run r = {0};
	FX_UNTIL(&f, (run_clear(&r), fake_store_row(jid, &r) == 0 && r.pid > 0));
	run_clear(&r);
	fx_settle(&f, 0);
	fake_store_fail(FS_RUN_UPDATE, 0, 1, -EIO);
	FILE *fp = fopen(go, "w");
	assert_non_null(fp);
	fclose(fp);
	FX_UNTIL(&f, w.ended && fx_status(jid) == RUN_DONE);
	fx_settle(&f, 100);
	assert_int_equal(w.ended, 1);
	r = row(jid);
	assert_int_equal(r.return_code, 4);
	run_clear(&r);
	/* the end's first write failed, the second landed */
	int n = fake_store_calls(calls, 64), failed = 0;
	for (int i = 0; i < n; i++)
		if (calls[i].op == FS_RUN_UPDATE && calls[i].rc < 0 &&
		    strcmp(calls[i].jid, jid) == 0 && calls[i].status == RUN_DONE)
			failed++;
	assert_int_equal(failed, 1);
	assert_int_equal(fake_store_writes(FS_RUN_UPDATE, jid, RUN_DONE), 1);
	fx_close(&f);
}

/* The process is spawned only once its running row is committed: while
 * the store holds the commit, nothing runs. */
static void test_spawn_waits_for_commit(void **state)
{
	static const char *const argv[] = {"/bin/true", NULL};
	struct fx f;
	struct fx_watch w;
	char jid[JID_LEN + 1];
	(void)state;

	fx_open(&f, FX_EPOCH);
	fake_store_hold(FS_COMMIT);
	struct arun *a = fx_submit(&f, NULL, 0, 0, argv);
	memcpy(jid, a->r.jid, sizeof jid);
	fx_watch(a, &w);
	queue_pump_all(&f.e);
	FX_UNTIL(&f, fake_store_holding());
	uint64_t until = fx_ms() + 100;
	while (fx_ms() < until)
		uv_run(&f.loop, UV_RUN_ONCE);
	assert_int_equal(w.started, 0);
	assert_null(a->proc);
	assert_int_equal(a->r.status, RUN_RUNNING);   /* in memory: starting */
	fake_store_release();
	FX_UNTIL(&f, w.ended && fx_status(jid) == RUN_DONE);
	assert_int_equal(w.started, 1);
	fx_close(&f);
}

/* A watcher unlinked before the end hears nothing more. */
static void test_unwatch(void **state)
{
	static const char *const argv[] = {"/bin/true", NULL};
	struct fx f;
	struct fx_watch w;
	char jid[JID_LEN + 1];
	(void)state;

	fx_open(&f, FX_EPOCH);
	struct arun *a = fx_submit(&f, NULL, 0, 0, argv);
	memcpy(jid, a->r.jid, sizeof jid);
	fx_watch(a, &w);
	run_unwatch(&w.w);
	run_unwatch(&w.w);          /* a no-op the second time */
	queue_pump_all(&f.e);
	FX_UNTIL(&f, fx_status(jid) == RUN_DONE);
	fx_settle(&f, 50);
	assert_int_equal(w.started + w.ended, 0);
	fx_close(&f);
}

/* A shutdown that begins while a start waits for its commit: the run is
 * not spawned (a stopping jobd starts nothing, and once the grace is over
 * nothing would stop it); its row goes back to accepted, so the next
 * start runs it (recover.c: accepted -> waiting). */
static void test_shutdown_before_spawn(void **state)
{
	static const char *const argv[] = {"/bin/sleep", "60", NULL};
	struct fx f;
	struct fx_watch w;
	char jid[JID_LEN + 1];
	(void)state;

	fx_open(&f, FX_EPOCH);
	fake_store_hold(FS_COMMIT);
	struct arun *a = fx_submit(&f, NULL, 0, 0, argv);
	memcpy(jid, a->r.jid, sizeof jid);
	fx_watch(a, &w);
	queue_pump_all(&f.e);
	FX_UNTIL(&f, fake_store_holding());
	fx_shutdown(&f);
	uint64_t until = fx_ms() + 50;     /* the grace (0 s) is over */
	while (fx_ms() < until)
		uv_run(&f.loop, UV_RUN_ONCE);
	fake_store_release();
	FX_UNTIL(&f, f.stopped);
	assert_int_equal(w.started, 0);
	assert_int_equal(fx_status(jid), RUN_ACCEPTED);
	fx_close(&f);
}

/* the engine itself refuses a manual run of a confirm job without the
 * caller's yes, and of a job whose requires do not hold, naming the item:
 * no face can skip either; the run of a job that ended ok counts for ok */
static void test_manual_guards(void **state)
{
	struct fx f;
	struct arun *a;
	char err[256];
	(void)state;

	fx_open(&f, FX_EPOCH);
	struct job *c = fx_job(&f, "{\"name\": \"c\", \"command\": \"/bin/true\","
	                       " \"confirm\": true}");
	struct run_req rq = {.job = c, .trigger = TRIG_MANUAL};
	assert_int_equal(run_enqueue(&f.e, &rq, &a, err, sizeof err), -ECANCELED);
	assert_non_null(strstr(err, "job 'c' needs confirmation"));
	rq.confirmed = 1;
	assert_int_equal(run_enqueue(&f.e, &rq, &a, err, sizeof err), 0);
	char jid[JID_LEN + 1];
	memcpy(jid, a->r.jid, sizeof jid);
	queue_pump_all(&f.e);
	FX_UNTIL(&f, fx_status(jid) == RUN_DONE);

	struct job *r = fx_job(&f, "{\"name\": \"r\", \"command\": \"/bin/true\","
	                       " \"requires\": \"c(ok) d\"}");
	struct run_req rr = {.job = r, .trigger = TRIG_MANUAL};
	assert_int_equal(run_enqueue(&f.e, &rr, &a, err, sizeof err), -EAGAIN);
	assert_string_equal(err, "requires d: no job 'd'");   /* c(ok) held */
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_start_end, fx_setup),
		cmocka_unit_test_setup(test_retries_backoff, fx_setup),
		cmocka_unit_test_setup(test_fail_before_start, fx_setup),
		cmocka_unit_test_setup(test_spawn_fails, fx_setup),
		cmocka_unit_test_setup(test_insert_fails, fx_setup),
		cmocka_unit_test_setup(test_end_write_retried, fx_setup),
		cmocka_unit_test_setup(test_spawn_waits_for_commit, fx_setup),
		cmocka_unit_test_setup(test_unwatch, fx_setup),
		cmocka_unit_test_setup(test_shutdown_before_spawn, fx_setup),
		cmocka_unit_test_setup(test_manual_guards, fx_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
