/* test_prom.c — the Prometheus text writer: family headers, escaping of
 * label values and HELP text, numbers, cumulative histogram buckets with
 * +Inf equal to the count, and names. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/prom.h"

static char *take(struct prom *p)
{
	char *s = prom_take(p, NULL);
	assert_non_null(s);
	return s;
}

static void test_family_and_sample(void **state)
{
	struct prom p;
	(void)state;
	prom_init(&p);
	prom_family(&p, "jobd_jobs", "gauge", "Jobs defined.");
	prom_sample(&p, "jobd_jobs", NULL, 0, 42);
	struct prom_label l[] = {{"job", "a"}, {"target", "b"}};
	prom_sample(&p, "x_total", l, 2, 3);
	char *s = take(&p);
	assert_string_equal(s, "# HELP jobd_jobs Jobs defined.\n"
	                       "# TYPE jobd_jobs gauge\n"
	                       "jobd_jobs 42\n"
	                       "x_total{job=\"a\",target=\"b\"} 3\n");
	free(s);
}

static void test_escaping(void **state)
{
	struct prom p;
	(void)state;
	prom_init(&p);
	/* label values: backslash, double quote and newline escaped */
	struct prom_label l[] = {{"v", "a\\b\"c\nd"}};
	prom_sample(&p, "m", l, 1, 1);
	/* HELP: backslash and newline escaped, a quote left as it is */
	prom_family(&p, "m", "untyped", "say \"hi\"\\ to\nyou");
	/* a byte that is not UTF-8 becomes '?'; valid UTF-8 is kept */
	struct prom_label u[] = {{"v", "\xff" "caf\xc3\xa9"}};
	prom_sample(&p, "m", u, 1, 1);
	/* a NULL value is the empty string */
	struct prom_label n[] = {{"v", NULL}};
	prom_sample(&p, "m", n, 1, 1);
	char *s = take(&p);
	assert_string_equal(s, "m{v=\"a\\\\b\\\"c\\nd\"} 1\n"
	                       "# HELP m say \"hi\"\\\\ to\\nyou\n"
	                       "# TYPE m untyped\n"
	                       "m{v=\"?caf\xc3\xa9\"} 1\n"
	                       "m{v=\"\"} 1\n");
	free(s);
}

static void test_numbers(void **state)
{
	char b[40];
	(void)state;
	prom_double(b, sizeof b, 0.1);
	assert_string_equal(b, "0.1");
	prom_double(b, sizeof b, 2.5);
	assert_string_equal(b, "2.5");
	prom_double(b, sizeof b, 1796507278);
	assert_string_equal(b, "1796507278");
	prom_double(b, sizeof b, 10);
	assert_string_equal(b, "10");          /* not 1e+01 */
	prom_double(b, sizeof b, 86400);
	assert_string_equal(b, "86400");       /* not 8.64e+04 */
	prom_double(b, sizeof b, -3);
	assert_string_equal(b, "-3");
	prom_double(b, sizeof b, 1e300);
	assert_true(strtod(b, NULL) == 1e300);
	prom_double(b, sizeof b, 0);
	assert_string_equal(b, "0");
	prom_double(b, sizeof b, INFINITY);
	assert_string_equal(b, "+Inf");
	prom_double(b, sizeof b, -INFINITY);
	assert_string_equal(b, "-Inf");
	prom_double(b, sizeof b, NAN);
	assert_string_equal(b, "NaN");
	prom_double(b, sizeof b, 1.0 / 3);
	assert_true(strtod(b, NULL) == 1.0 / 3);   /* reads back exactly */
}

static void test_histogram(void **state)
{
	static const double bounds[] = {0.1, 1, 10};
	struct prom_hist h;
	struct prom p;
	(void)state;
	prom_hist_init(&h, bounds, 3);
	/* on a bound counts in that bucket (le is "less or equal") */
	prom_hist_observe(&h, 0.05);
	prom_hist_observe(&h, 0.1);
	prom_hist_observe(&h, 5);
	prom_hist_observe(&h, 5);
	prom_hist_observe(&h, 100);
	prom_hist_observe(&h, NAN);        /* ignored */
	assert_int_equal(h.count, 5);
	prom_init(&p);
	struct prom_label l[] = {{"target", "a"}};
	prom_histogram(&p, "d_seconds", l, 1, &h);
	char *s = take(&p);
	assert_string_equal(s,
		"d_seconds_bucket{target=\"a\",le=\"0.1\"} 2\n"
		"d_seconds_bucket{target=\"a\",le=\"1\"} 2\n"
		"d_seconds_bucket{target=\"a\",le=\"10\"} 4\n"
		"d_seconds_bucket{target=\"a\",le=\"+Inf\"} 5\n"
		"d_seconds_sum{target=\"a\"} 110.15\n"
		"d_seconds_count{target=\"a\"} 5\n");
	free(s);

	/* without labels: le alone; an empty histogram is all zeros */
	prom_hist_init(&h, bounds, 3);
	prom_init(&p);
	prom_histogram(&p, "e", NULL, 0, &h);
	s = take(&p);
	assert_string_equal(s, "e_bucket{le=\"0.1\"} 0\n"
	                       "e_bucket{le=\"1\"} 0\n"
	                       "e_bucket{le=\"10\"} 0\n"
	                       "e_bucket{le=\"+Inf\"} 0\n"
	                       "e_sum 0\n"
	                       "e_count 0\n");
	free(s);
}

/* Buckets never decrease and +Inf is the count, however values fall. */
static void test_cumulative_random(void **state)
{
	static const double bounds[] = {0.001, 0.01, 0.1, 1, 10, 100};
	struct prom_hist h;
	(void)state;
	srand(7);
	prom_hist_init(&h, bounds, 6);
	for (int i = 0; i < 10000; i++)
		prom_hist_observe(&h, (double)rand() / RAND_MAX * 200);
	struct prom p;
	prom_init(&p);
	prom_histogram(&p, "r", NULL, 0, &h);
	char *s = take(&p), *line = s;
	double last = 0, v;
	int buckets = 0;
	while ((line = strstr(line, "r_bucket{"))) {
		line = strchr(line, ' ');
		v = strtod(line, NULL);
		assert_true(v >= last);
		last = v;
		buckets++;
	}
	assert_int_equal(buckets, 7);
	assert_true(last == 10000);
	free(s);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(prom_name_valid("jobd_runs_started_total", 0));
	assert_true(prom_name_valid("a:b", 0));
	assert_false(prom_name_valid("a:b", 1));
	assert_false(prom_name_valid("1abc", 0));
	assert_false(prom_name_valid("a-b", 0));
	assert_false(prom_name_valid("", 0));
	assert_false(prom_name_valid("__reserved", 1));
	assert_true(prom_name_valid("_x", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family_and_sample),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_cumulative_random),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
