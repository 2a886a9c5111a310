/* test_scheduler.c — the scheduler (engine/scheduler.c) through a real
 * engine over the fake store, driven by the fake clock: a cron job fires
 * at its instant and once, a clock stepped back fires nothing again,
 * catch-up after downtime per the job's policy, overlap skip and queue. */
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

#define MINUTE (60 * US_PER_S)
#define HOUR (60 * MINUTE)

/* Rows of job `name` in the fake store; the trigger of the last one. */
static int job_rows(const char *name, int *trigger)
{
	char jid[JID_LEN + 1];
	int n = 0;
	for (int i = 0; fake_store_row_jid(i, jid)[0]; i++) {
		struct run r;
		assert_int_equal(fake_store_row(jid, &r), 0);
		if (r.job && strcmp(r.job, name) == 0) {
			n++;
			if (trigger)
				*trigger = r.trigger;
		}
		run_clear(&r);
	}
	return n;
}

static int job_rows_done(const char *name)
{
	char jid[JID_LEN + 1];
	int n = 0;
	for (int i = 0; fake_store_row_jid(i, jid)[0]; i++) {
		struct run r;
		assert_int_equal(fake_store_row(jid, &r), 0);
		if (r.job && strcmp(r.job, name) == 0 && r.status == RUN_DONE)
			n++;
		run_clear(&r);
	}
	return n;
}

static void test_cron_fires_at_instant(void **state)
{
	struct fx f;
	int trig = -1;
	(void)state;

	fx_open(&f, FX_EPOCH + MINUTE);
	struct job *j = fx_job(&f, "{\"name\": \"c\", \"command\": \"/bin/true\","
	                           " \"schedule\": \"*/5 * * * *\"}");
	assert_int_equal(j->next_fire, FX_EPOCH + 5 * MINUTE);
	fx_tick(&f, FX_EPOCH + 5 * MINUTE - 1);
	fx_settle(&f, 50);
	assert_int_equal(job_rows("c", NULL), 0);
	fx_tick(&f, FX_EPOCH + 5 * MINUTE);
	FX_UNTIL(&f, job_rows_done("c") == 1);
	job_rows("c", &trig);
	assert_int_equal(trig, TRIG_SCHEDULE);
	assert_int_equal(j->last_run, FX_EPOCH + 5 * MINUTE);
	assert_int_equal(j->next_fire, FX_EPOCH + 10 * MINUTE);
	/* the same instant again (a second wake-up): nothing */
	fx_tick(&f, FX_EPOCH + 5 * MINUTE);
	fx_settle(&f, 50);
	assert_int_equal(job_rows("c", NULL), 1);
	fx_close(&f);
}

/* The clock steps back over a fire: the fire is not repeated; forward
 * again, the next one comes at its time, once. */
static void test_clock_step_back(void **state)
{
	struct fx f;
	(void)state;

	fx_open(&f, FX_EPOCH + MINUTE);
	struct job *j = fx_job(&f, "{\"name\": \"c\", \"command\": \"/bin/true\","
	                           " \"schedule\": \"*/5 * * * *\"}");
	fx_tick(&f, FX_EPOCH + 5 * MINUTE);
	FX_UNTIL(&f, job_rows_done("c") == 1);
	/* back 3 minutes: 00:02 */
	fx_tick(&f, FX_EPOCH + 2 * MINUTE);
	fx_settle(&f, 50);
	assert_int_equal(job_rows("c", NULL), 1);
	/* the re-armed job (an edit re-arms it from the stepped-back now)
	 * does not fire the 00:05 it already ran either */
	scheduler_arm_job(&f.e, j, FX_EPOCH + 2 * MINUTE);
	assert_int_equal(j->next_fire, FX_EPOCH + 10 * MINUTE);
	fx_tick(&f, FX_EPOCH + 5 * MINUTE);
	fx_settle(&f, 50);
	assert_int_equal(job_rows("c", NULL), 1);
	fx_tick(&f, FX_EPOCH + 10 * MINUTE);
	FX_UNTIL(&f, job_rows_done("c") == 2);
	fx_close(&f);
}

/* A forward step over many fires: one run, not one per missed time. */
static void test_clock_step_forward(void **state)
{
	struct fx f;
	(void)state;

	fx_open(&f, FX_EPOCH + MINUTE);
	struct job *j = fx_job(&f, "{\"name\": \"c\", \"command\": \"/bin/true\","
	                           " \"schedule\": \"*/5 * * * *\"}");
	fx_tick(&f, FX_EPOCH + HOUR + 2 * MINUTE);
	FX_UNTIL(&f, job_rows_done("c") == 1);
	fx_settle(&f, 50);
	assert_int_equal(job_rows("c", NULL), 1);
	assert_int_equal(j->next_fire, FX_EPOCH + HOUR + 5 * MINUTE);
	fx_close(&f);
}

/* jobd was down over fires: a job with catch-up once runs once at the
 * first wake-up (trigger catchup), and counts its next time from then; a
 * job without catch-up waits for its next time. */
static void test_catchup_after_downtime(void **state)
{
	struct fx f;
	char last[32];
	int trig = -1;
	(void)state;

	fake_store_put_job("every", "{\"name\": \"every\", \"command\": "
	                   "\"/bin/true\", \"schedule\": \"@every 1h\"}");
	fake_store_put_job("cronup", "{\"name\": \"cronup\", \"command\": "
	                   "\"/bin/true\", \"schedule\": \"0 * * * *\", "
	                   "\"catchup\": \"once\"}");
	fake_store_put_job("cronno", "{\"name\": \"cronno\", \"command\": "
	                   "\"/bin/true\", \"schedule\": \"0 * * * *\"}");
	snprintf(last, sizeof last, "%lld", (long long)(FX_EPOCH - 5 * HOUR));
	fake_store_put_kv("last:every", last);
	fake_store_put_kv("last:cronup", last);
	fake_store_put_kv("last:cronno", last);
	int64_t now = FX_EPOCH + 30 * MINUTE;
	fx_open(&f, now);
	struct job *every = engine_job_find(&f.e, "every");
	assert_non_null(every);
	fx_tick(&f, now);
	FX_UNTIL(&f, job_rows_done("every") == 1 && job_rows_done("cronup") == 1);
	fx_settle(&f, 50);
	job_rows("every", &trig);
	assert_int_equal(trig, TRIG_CATCHUP);
	job_rows("cronup", &trig);
	assert_int_equal(trig, TRIG_CATCHUP);
	assert_int_equal(job_rows("every", NULL), 1);      /* not 5 */
	assert_int_equal(job_rows("cronup", NULL), 1);
	assert_int_equal(job_rows("cronno", NULL), 0);
	/* anacron: the interval counts from the catch-up run; it is kept */
	assert_int_equal(every->last_run, now);
	assert_int_equal(every->next_fire, now + HOUR);
	char *kv = fake_store_kv("last:every");
	assert_non_null(kv);
	assert_int_equal(strtoll(kv, NULL, 10), now);
	free(kv);
	/* the cron jobs go on at their next time */
	fx_tick(&f, FX_EPOCH + HOUR);
	FX_UNTIL(&f, job_rows_done("cronno") == 1 && job_rows_done("cronup") == 2);
	job_rows("cronno", &trig);
	assert_int_equal(trig, TRIG_SCHEDULE);
	fx_close(&f);
}

/* overlap = skip: a fire while the last run still runs is skipped */
static void test_overlap_skip(void **state)
{
	struct fx f;
	char jid[JID_LEN + 1];
	(void)state;

	fx_open(&f, FX_EPOCH + 30 * US_PER_S);
	queue_target(&f.e, "default")->concurrency = 4;
	struct job *j = fx_job(&f, "{\"name\": \"o\", \"command\": \"sleep 60\","
	                           " \"schedule\": \"* * * * *\", "
	                           "\"overlap\": \"skip\"}");
	fx_tick(&f, FX_EPOCH + MINUTE);
	FX_UNTIL(&f, job_rows("o", NULL) == 1 &&
	             fx_status(fake_store_row_jid(0, jid)) == RUN_RUNNING);
	fx_tick(&f, FX_EPOCH + 2 * MINUTE);
	fx_settle(&f, 100);
	assert_int_equal(job_rows("o", NULL), 1);
	assert_int_equal(j->skipped, 1);
	assert_int_equal(j->running, 1);
	/* once it ended, the next fire runs */
	assert_int_equal(run_signal(&f.e, run_find(&f.e, jid), SIGKILL), 0);
	FX_UNTIL(&f, fx_status(jid) == RUN_DONE && j->running == 0);
	fx_tick(&f, FX_EPOCH + 3 * MINUTE);
	FX_UNTIL(&f, job_rows("o", NULL) == 2);
	assert_int_equal(j->skipped, 1);
	fx_close(&f);
}

/* overlap = queue (max 1): the second fire waits for the first run, a
 * third is skipped; the waiting one starts when the first ends */
static void test_overlap_queue(void **state)
{
	struct fx f;
	char first[JID_LEN + 1], second[JID_LEN + 1];
	(void)state;

	fx_open(&f, FX_EPOCH + 30 * US_PER_S);
	queue_target(&f.e, "default")->concurrency = 4;
	struct job *j = fx_job(&f, "{\"name\": \"q\", \"command\": \"sleep 60\","
	                           " \"schedule\": \"* * * * *\", "
	                           "\"overlap\": \"queue\"}");
	fx_tick(&f, FX_EPOCH + MINUTE);
	FX_UNTIL(&f, job_rows("q", NULL) == 1 &&
	             fx_status(fake_store_row_jid(0, first)) == RUN_RUNNING);
	fx_tick(&f, FX_EPOCH + 2 * MINUTE);
	FX_UNTIL(&f, job_rows("q", NULL) == 2);
	fake_store_row_jid(1, second);
	fx_tick(&f, FX_EPOCH + 3 * MINUTE);
	fx_settle(&f, 100);
	assert_int_equal(job_rows("q", NULL), 2);
	assert_int_equal(j->skipped, 1);
	assert_int_equal(fx_status(second), RUN_WAITING);  /* a slot is free */
	assert_int_equal(j->running, 1);
	assert_int_equal(run_signal(&f.e, run_find(&f.e, first), SIGKILL), 0);
	FX_UNTIL(&f, fx_status(second) == RUN_RUNNING &&
	             run_find(&f.e, second)->proc);
	assert_int_equal(fx_status(first), RUN_DONE);
	fx_close(&f);
}

/* overlap = replace: a fire stops the running run and starts its own */
static void test_overlap_replace(void **state)
{
	struct fx f;
	char first[JID_LEN + 1], second[JID_LEN + 1];
	(void)state;

	fx_open(&f, FX_EPOCH + 30 * US_PER_S);
	queue_target(&f.e, "default")->concurrency = 4;
	fx_job(&f, "{\"name\": \"r\", \"command\": \"sleep 60\","
	           " \"schedule\": \"* * * * *\", \"overlap\": \"replace\"}");
	fx_tick(&f, FX_EPOCH + MINUTE);
	FX_UNTIL(&f, job_rows("r", NULL) == 1 &&
	             fx_status(fake_store_row_jid(0, first)) == RUN_RUNNING &&
	             run_find(&f.e, first)->proc);
	fx_tick(&f, FX_EPOCH + 2 * MINUTE);
	FX_UNTIL(&f, job_rows("r", NULL) == 2 &&
	             fx_status(fake_store_row_jid(1, second)) == RUN_RUNNING &&
	             fx_status(first) == RUN_DONE);
	struct run r;
	assert_int_equal(fake_store_row(first, &r), 0);
	assert_string_equal(r.sig, "SIGTERM");
	run_clear(&r);
	FX_UNTIL(&f, run_find(&f.e, second) && run_find(&f.e, second)->proc);
	fx_close(&f);
}

/* A disabled job does not fire; enabled again it does, at its next time. */
static void test_disabled(void **state)
{
	struct fx f;
	(void)state;

	fx_open(&f, FX_EPOCH + MINUTE);
	struct job *j = fx_job(&f, "{\"name\": \"d\", \"command\": \"/bin/true\","
	                           " \"schedule\": \"*/5 * * * *\"}");
	assert_int_equal(engine_job_set_enabled(&f.e, j, 0), 0);
	fx_tick(&f, FX_EPOCH + 5 * MINUTE);
	fx_settle(&f, 50);
	assert_int_equal(job_rows("d", NULL), 0);
	assert_int_equal(engine_job_set_enabled(&f.e, j, 1), 0);
	fx_tick(&f, FX_EPOCH + 10 * MINUTE);
	FX_UNTIL(&f, job_rows_done("d") == 1);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_cron_fires_at_instant, fx_setup),
		cmocka_unit_test_setup(test_clock_step_back, fx_setup),
		cmocka_unit_test_setup(test_clock_step_forward, fx_setup),
		cmocka_unit_test_setup(test_catchup_after_downtime, fx_setup),
		cmocka_unit_test_setup(test_overlap_skip, fx_setup),
		cmocka_unit_test_setup(test_overlap_queue, fx_setup),
		cmocka_unit_test_setup(test_overlap_replace, fx_setup),
		cmocka_unit_test_setup(test_disabled, fx_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
