/* test_metrics.c — the engine's counters (engine/metrics.c) without a
 * store: the (job, target) pairs are bounded (runs of pairs past
 * METRICS_MAX_SERIES count under job="(other)"), durations by target are
 * bounded the same way, results and submits have their labels, and the
 * store thread's commit times and the scheduler's lateness land in their
 * histograms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/engine.h"
#include "engine/metrics.h"

/* the value of the sample line starting with `key ` in text, -1 if none */
static double sample(const char *text, const char *key)
{
	size_t n = strlen(key);
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : l)
		if (strncmp(l, key, n) == 0 && l[n] == ' ')
			return strtod(l + n + 1, NULL);
	return -1;
}

static char *page(struct engine *e)
{
	size_t len;
	char *s = engine_metrics(e, &len);
	assert_non_null(s);
	assert_int_equal(strlen(s), len);
	return s;
}

static void finish(struct engine *e, const char *job, const char *target,
                   int result, int64_t ran_us)
{
	struct arun a;
	memset(&a, 0, sizeof a);
	a.r.job = (char *)job;
	a.r.target = (char *)target;
	a.r.result = result;
	a.r.time_started = 1000000;
	a.r.time_finished = 1000000 + ran_us;
	if (result != RESULT_NONE)
		metrics_run_started(e, &a);
	metrics_run_finished(e, &a, result != RESULT_NONE);
}

static void test_labels(void **state)
{
	struct engine *e = engine_new();
	(void)state;
	finish(e, "a", "t1", RESULT_OK, 500000);
	finish(e, "a", "t1", RESULT_FAIL, 2000000);
	finish(e, "a", "t2", RESULT_OK, 1);
	finish(e, NULL, "t1", RESULT_NONE, 0);     /* a cancelled submit */
	char *s = page(e);
	assert_true(sample(s, "jobd_runs_started_total{job=\"a\",target=\"t1\"}") == 2);
	assert_true(sample(s, "jobd_runs_finished_total{job=\"a\",target=\"t1\",result=\"ok\"}") == 1);
	assert_true(sample(s, "jobd_runs_finished_total{job=\"a\",target=\"t1\",result=\"fail\"}") == 1);
	assert_true(sample(s, "jobd_runs_started_total{job=\"a\",target=\"t2\"}") == 1);
	assert_true(sample(s, "jobd_runs_started_total{job=\"(submit)\",target=\"t1\"}") == 0);
	assert_true(sample(s, "jobd_runs_finished_total{job=\"(submit)\",target=\"t1\",result=\"cancelled\"}") == 1);
	/* durations: by target, the cancelled run not measured */
	assert_true(sample(s, "jobd_run_duration_seconds_count{target=\"t1\"}") == 2);
	assert_true(sample(s, "jobd_run_duration_seconds_sum{target=\"t1\"}") == 2.5);
	assert_true(sample(s, "jobd_run_duration_seconds_bucket{target=\"t1\",le=\"0.5\"}") == 1);
	assert_true(sample(s, "jobd_run_duration_seconds_bucket{target=\"t1\",le=\"1\"}") == 1);
	assert_true(sample(s, "jobd_run_duration_seconds_bucket{target=\"t1\",le=\"5\"}") == 2);
	free(s);
	metrics_free(e);
	engine_free(e);
}

/* METRICS_MAX_SERIES pairs by name, then (other) */
static void test_series_cap(void **state)
{
	struct engine *e = engine_new();
	char name[32], key[128];
	(void)state;
	for (int i = 0; i < METRICS_MAX_SERIES + 5; i++) {
		snprintf(name, sizeof name, "job%d", i);
		finish(e, name, "t", RESULT_OK, 1);
	}
	finish(e, "job0", "t", RESULT_OK, 1);     /* a known pair: by name */
	finish(e, "job0", "u", RESULT_OK, 1);     /* a new pair: (other) */
	char *s = page(e);
	assert_true(sample(s, "jobd_runs_started_total{job=\"job0\",target=\"t\"}") == 2);
	snprintf(key, sizeof key, "jobd_runs_started_total{job=\"job%d\",target=\"t\"}",
	         METRICS_MAX_SERIES - 1);
	assert_true(sample(s, key) == 1);
	snprintf(key, sizeof key, "jobd_runs_started_total{job=\"job%d\",target=\"t\"}",
	         METRICS_MAX_SERIES);
	assert_true(sample(s, key) == -1);
	assert_true(sample(s, "jobd_runs_started_total{job=\"(other)\",target=\"t\"}") == 5);
	assert_true(sample(s, "jobd_runs_finished_total{job=\"(other)\",target=\"t\",result=\"ok\"}") == 5);
	assert_true(sample(s, "jobd_runs_started_total{job=\"(other)\",target=\"u\"}") == 1);
	assert_true(sample(s, "jobd_runs_started_total{job=\"job0\",target=\"u\"}") == -1);
	/* the page stays bounded: one started line per pair */
	int lines = 0;
	for (const char *p = s; (p = strstr(p, "\njobd_runs_started_total{")); p++)
		lines++;
	assert_int_equal(lines, METRICS_MAX_SERIES + 2);
	free(s);
	metrics_free(e);
	engine_free(e);
}

static void test_target_cap(void **state)
{
	struct engine *e = engine_new();
	char t[32];
	(void)state;
	for (int i = 0; i < METRICS_MAX_TARGETS + 3; i++) {
		snprintf(t, sizeof t, "t%d", i);
		finish(e, "j", t, RESULT_OK, 1);
	}
	char *s = page(e);
	assert_true(sample(s, "jobd_run_duration_seconds_count{target=\"t0\"}") == 1);
	assert_true(sample(s, "jobd_run_duration_seconds_count{target=\"(other)\"}") == 3);
	free(s);
	metrics_free(e);
	engine_free(e);
}

static void test_lateness_commit(void **state)
{
	struct engine *e = engine_new();
	(void)state;
	char *s = page(e);           /* nothing observed: empty histograms */
	assert_true(sample(s, "jobd_schedule_lateness_seconds_count") == 0);
	assert_true(sample(s, "jobd_store_commit_seconds_bucket{le=\"+Inf\"}") == 0);
	free(s);
	metrics_lateness(e, 300);           /* 0.3 ms */
	metrics_lateness(e, 2000000);       /* 2 s */
	metrics_commit(e, 0.004);
	s = page(e);
	assert_true(sample(s, "jobd_schedule_lateness_seconds_count") == 2);
	assert_true(sample(s, "jobd_schedule_lateness_seconds_bucket{le=\"0.0005\"}") == 1);
	assert_true(sample(s, "jobd_schedule_lateness_seconds_bucket{le=\"1\"}") == 1);
	assert_true(sample(s, "jobd_schedule_lateness_seconds_bucket{le=\"5\"}") == 2);
	assert_true(sample(s, "jobd_store_commit_seconds_bucket{le=\"0.0025\"}") == 0);
	assert_true(sample(s, "jobd_store_commit_seconds_bucket{le=\"0.005\"}") == 1);
	assert_true(sample(s, "jobd_store_commit_seconds_sum") == 0.004);
	free(s);
	metrics_free(e);
	engine_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_series_cap),
		cmocka_unit_test(test_target_cap),
		cmocka_unit_test(test_lateness_commit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
