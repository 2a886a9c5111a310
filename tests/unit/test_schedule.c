/* test_schedule.c — the dispatcher: language detection by shape, errors,
 * zones, microsecond units, @every, never/@reboot, catch-up defaults. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "core/schedule.h"
#include "core/tz.h"

#define US 1000000LL

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = mi, .tm_sec = s };

	return (int64_t)timegm(&tm);
}

static struct sched *parse_tz(const char *expr, const char *tz)
{
	struct sched *s = NULL;
	char err[256] = "";

	if (sched_parse(expr, tz, &s, err, sizeof(err)) != 0)
		fail_msg("'%s' rejected: %s", expr, err);
	assert_non_null(s);
	return s;
}

static struct sched *parse(const char *expr)
{
	return parse_tz(expr, NULL);
}

static void expect_kind(const char *expr, int kind)
{
	struct sched *s = parse(expr);

	if (sched_kind(s) != kind)
		fail_msg("'%s': kind %d, want %d", expr, sched_kind(s), kind);
	sched_free(s);
}

static void test_detection(void **state)
{
	(void)state;
	expect_kind("", SCHED_NEVER);
	expect_kind("   ", SCHED_NEVER);
	expect_kind("@0", SCHED_NEVER);
	expect_kind("@reboot", SCHED_REBOOT);
	expect_kind("@every 90s", SCHED_EVERY);
	expect_kind("@every\t1h30m", SCHED_EVERY);
	expect_kind("@hourly", SCHED_CRON);
	expect_kind("@daily", SCHED_CRON);
	expect_kind("0 * * * *", SCHED_CRON);
	expect_kind(" 0 0 * * * * ", SCHED_CRON);
	expect_kind("0 0 0 * * ? 2030", SCHED_CRON);
	expect_kind("@10", SCHED_CALENDAR);
	expect_kind("00:00-02:00@121", SCHED_CALENDAR);
	expect_kind("00:00-02:00@121 mon-fri * jan-feb", SCHED_CALENDAR);
	expect_kind("[\"00:00-01:00@61 mon\",\"02:00-03:00@61 tue-sun\"]", SCHED_CALENDAR);
}

static void expect_error(const char *expr, const char *tz, int rc, const char *part)
{
	struct sched *s = NULL;
	char err[256] = "";

	assert_int_equal(sched_parse(expr, tz, &s, err, sizeof(err)), rc);
	assert_null(s);
	if (!strstr(err, part))
		fail_msg("'%s': \"%s\" lacks \"%s\"", expr, err, part);
}

static void test_errors(void **state)
{
	(void)state;
	/* cron errors pass through unchanged */
	expect_error("* * 32 * *", NULL, -EINVAL, "syntax error in day-of-month field: '32'");
	expect_error("* * * * * * * *", NULL, -EINVAL, "expected 5, 6 or 7 fields, got 8");
	expect_error("@fortnightly", NULL, -EINVAL, "unknown macro: '@fortnightly'");
	/* zones */
	expect_error("@daily", "Mars/Olympus_Mons", -ENOENT, "Mars/Olympus_Mons");
	expect_error("@daily", "../etc/passwd", -EINVAL, "invalid time zone name");
	/* @every */
	expect_error("@every", NULL, -EINVAL, "@every");
	expect_error("@every 0s", NULL, -EINVAL, "at least 1s");
	expect_error("@every 500ms", NULL, -EINVAL, "at least 1s");
	expect_error("@every 5x", NULL, -EINVAL, "syntax error in @every duration: '5x'");
	expect_error("@every 1h30", NULL, -EINVAL, "'1h30'");
	expect_error("@every -5m", NULL, -EINVAL, "'-5m'");
	expect_error("@every 99999999999999999999s", NULL, -EINVAL, "too long");
	expect_error("@every 5m 3s", NULL, -EINVAL, "'5m 3s'");
	/* a NULL error buffer is allowed */
	{
		struct sched *s;

		assert_int_equal(sched_parse("* * 32 * *", NULL, &s, NULL, 0), -EINVAL);
	}
}

static void test_never_and_reboot(void **state)
{
	struct sched *s;

	(void)state;
	s = parse("");
	assert_int_equal(sched_next(s, 1000 * US, 0, 0), -1);
	assert_int_equal(sched_default_catchup(s), 0);
	sched_free(s);
	s = parse("@0");
	assert_int_equal(sched_next(s, 1000 * US, 500 * US, 0), -1);
	sched_free(s);
	s = parse("@reboot");
	assert_int_equal(sched_next(s, 1000 * US, 0, 0), -1);
	assert_int_equal(sched_default_catchup(s), 0);
	sched_free(s);
	sched_free(NULL);
}

static void test_cron_microseconds(void **state)
{
	int64_t t = utc(2021, 6, 15, 10, 20, 0);
	struct sched *s;

	(void)state;
	s = parse("* * * * *");
	assert_int_equal(sched_default_catchup(s), 0);
	assert_string_equal(tz_name(sched_tz(s)), "UTC");
	/* strictly after, fire times whole seconds */
	assert_int_equal(sched_next(s, t * US, 0, 0), (t + 60) * US);
	assert_int_equal(sched_next(s, t * US - 1, 0, 0), t * US);
	assert_int_equal(sched_next(s, t * US + 999999, 0, 0), (t + 60) * US);
	sched_free(s);
	s = parse("*/10 * * * * *");
	assert_int_equal(sched_next(s, t * US + 5, 0, 0), (t + 10) * US);
	sched_free(s);
	s = parse("0 0 1 1 *");
	assert_int_equal(sched_next(s, utc(2099, 6, 1, 0, 0, 0) * US, 0, 0), -1);
	/* before the epoch, in microseconds: floor, not truncation */
	assert_int_equal(sched_next(s, -1, 0, 0), 0);
	sched_free(s);
}

static void test_cron_zone(void **state)
{
	struct sched *s;

	(void)state;
	setenv("TZDIR", "/usr/share/zoneinfo", 1);
	s = parse_tz("30 2 * * *", "Europe/Berlin");
	assert_string_equal(tz_name(sched_tz(s)), "Europe/Berlin");
	/* skipped 02:30 on 2021-03-28 fires at the jump (01:00Z) */
	assert_int_equal(sched_next(s, utc(2021, 3, 27, 12, 0, 0) * US, 0, 0),
			 utc(2021, 3, 28, 1, 0, 0) * US);
	assert_int_equal(sched_next(s, utc(2021, 3, 28, 1, 0, 0) * US, 0, 0),
			 utc(2021, 3, 29, 0, 30, 0) * US);
	sched_free(s);
	s = parse_tz("0 12 * * *", "America/New_York");
	assert_int_equal(sched_next(s, utc(2021, 7, 1, 0, 0, 0) * US, 0, 0),
			 utc(2021, 7, 1, 16, 0, 0) * US);
	sched_free(s);
	/* the same zone parsed twice shares one cached zone */
	{
		struct sched *a = parse_tz("@daily", "Asia/Tokyo");
		struct sched *b = parse_tz("@hourly", "Asia/Tokyo");

		assert_ptr_equal(sched_tz(a), sched_tz(b));
		sched_free(a);
		sched_free(b);
	}
}

static void test_every(void **state)
{
	struct sched *s;
	int64_t now = utc(2021, 6, 15, 10, 20, 0) * US;

	(void)state;
	s = parse("@every 90s");
	assert_int_equal(sched_default_catchup(s), 1);
	/* never run: the first whole second after `after` */
	assert_int_equal(sched_next(s, now, 0, 0), now + US);
	assert_int_equal(sched_next(s, now + 300000, 0, 0), now + US);
	/* last + DUR when that is later */
	assert_int_equal(sched_next(s, now, now - 30 * US, 0), now + 60 * US);
	assert_int_equal(sched_next(s, now, now, 0), now + 90 * US);
	/* last + DUR rounded up to a whole second */
	assert_int_equal(sched_next(s, now, now + 250000, 0), now + 91 * US);
	/* overdue (missed while down): soon, not in the past */
	assert_int_equal(sched_next(s, now, now - 3600 * US, 0), now + US);
	/* steady state: after == last == previous fire */
	{
		int64_t t = sched_next(s, now, now, 0);

		assert_int_equal(sched_next(s, t, t, 0), t + 90 * US);
	}
	sched_free(s);

	s = parse("@every 1h30m");
	assert_int_equal(sched_next(s, now, now, 0), now + 5400 * US);
	sched_free(s);
	s = parse("@every 2d");
	assert_int_equal(sched_next(s, now, now, 0), now + 2 * 86400 * US);
	sched_free(s);
	s = parse("@every 1w");
	assert_int_equal(sched_next(s, now, now, 0), now + 7 * 86400 * US);
	sched_free(s);
	s = parse("@every 45");     /* a bare number is seconds */
	assert_int_equal(sched_next(s, now, now, 0), now + 45 * US);
	sched_free(s);
	s = parse("@every 1500ms");
	assert_int_equal(sched_next(s, now, now, 0), now + 2 * US);
	sched_free(s);
	s = parse("@EVERY 15m");
	assert_int_equal(sched_kind(s), SCHED_EVERY);
	assert_int_equal(sched_next(s, now, now, 0), now + 900 * US);
	/* extremes do not overflow */
	assert_int_equal(sched_next(s, INT64_MAX, 0, 0), -1);
	assert_true(sched_next(s, now, INT64_MAX - 5, 0) > now);
	sched_free(s);
}

static void test_calendar_dispatch(void **state)
{
	struct sched *s;
	int64_t now = utc(2021, 6, 15, 10, 20, 30) * US, t;

	(void)state;
	s = parse("@10");
	assert_int_equal(sched_default_catchup(s), 1);
	t = sched_next(s, now, 0, 0);
	assert_true(t > now);
	assert_int_equal(t % US, 0);
	assert_true(t <= now + 600 * US);
	sched_free(s);
	/* the calendar parser's own errors come through */
	{
		struct sched *bad = NULL;
		char err[256] = "";

		assert_int_equal(sched_parse("25:99", NULL, &bad, err, sizeof(err)), -EINVAL);
		assert_null(bad);
		assert_true(err[0] != '\0');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detection),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_never_and_reboot),
		cmocka_unit_test(test_cron_microseconds),
		cmocka_unit_test(test_cron_zone),
		cmocka_unit_test(test_every),
		cmocka_unit_test(test_calendar_dispatch),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	tz_cache_clear();
	return rc;
}
