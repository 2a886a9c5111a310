/* test_cron.c — cron/Quartz expressions: syntax, errors, the reference
 * vectors, month ends, W/L/#, DST in three zones, the 2099 limit, and a
 * property test against a brute-force matcher written here. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "core/schedule/internal.h"

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = mi, .tm_sec = s };

	return (int64_t)timegm(&tm);
}

static const struct tz *zone(const char *name)
{
	const struct tz *z = NULL;
	char err[256];

	setenv("TZDIR", "/usr/share/zoneinfo", 1);
	assert_int_equal(tz_get(name, &z, err, sizeof(err)), 0);
	return z;
}

static struct cron *parse(const char *expr)
{
	struct cron *c = NULL;
	char err[256] = "";

	if (cron_parse(expr, &c, err, sizeof(err)) != 0)
		fail_msg("'%s' rejected: %s", expr, err);
	return c;
}

/* Asserts the fire times after `from` (UTC unless zone) are exactly
 * want[0..n-1]; a -1 entry means "no further fire". */
static void expect_in(const char *zname, const char *expr, int64_t from,
		      const int64_t *want, int n)
{
	struct cron *c = parse(expr);
	const struct tz *z = zone(zname);
	int64_t t = from;

	for (int i = 0; i < n; i++) {
		t = cron_next(c, z, t);
		if (t != want[i]) {
			cron_free(c);
			fail_msg("%s [%s] fire %d: got %lld, want %lld", expr,
				 zname ? zname : "UTC", i, (long long)t, (long long)want[i]);
		}
		if (t < 0)
			break;
	}
	cron_free(c);
}

#define EXPECT(expr, from, ...) do { \
	const int64_t w_[] = { __VA_ARGS__ }; \
	expect_in(NULL, expr, from, w_, (int)(sizeof(w_) / sizeof(w_[0]))); \
} while (0)
#define EXPECT_TZ(zn, expr, from, ...) do { \
	const int64_t w_[] = { __VA_ARGS__ }; \
	expect_in(zn, expr, from, w_, (int)(sizeof(w_) / sizeof(w_[0]))); \
} while (0)

static void expect_error(const char *expr, const char *msg)
{
	struct cron *c = NULL;
	char err[256] = "";

	if (cron_parse(expr, &c, err, sizeof(err)) != -EINVAL) {
		cron_free(c);
		fail_msg("'%s' accepted", expr);
	}
	assert_null(c);
	if (msg && strcmp(err, msg) != 0)
		fail_msg("'%s': got \"%s\", want \"%s\"", expr, err, msg);
}

static void expect_error_has(const char *expr, const char *part)
{
	struct cron *c = NULL;
	char err[256] = "";

	assert_int_equal(cron_parse(expr, &c, err, sizeof(err)), -EINVAL);
	if (!strstr(err, part))
		fail_msg("'%s': \"%s\" lacks \"%s\"", expr, err, part);
}

/* ---- reference vectors (reference/cron-9p.md) ---- */

static void test_reference_vectors(void **state)
{
	(void)state;
	EXPECT("0 0 * * 6#5", utc(2013, 9, 2, 0, 0, 0),
	       utc(2013, 11, 30, 0, 0, 0), utc(2014, 3, 29, 0, 0, 0),
	       utc(2014, 5, 31, 0, 0, 0), utc(2014, 8, 30, 0, 0, 0),
	       utc(2014, 11, 29, 0, 0, 0));
	EXPECT("0 0 14W * *", utc(2013, 3, 31, 0, 0, 0), utc(2013, 4, 15, 0, 0, 0));
	EXPECT("0 0 L * *", utc(2016, 2, 15, 0, 0, 0), utc(2016, 2, 29, 0, 0, 0));
	EXPECT("0 0 LW * *", utc(2013, 11, 2, 0, 0, 0), utc(2013, 11, 29, 0, 0, 0));
	EXPECT("15-30/4,55 * * * *", utc(2013, 1, 1, 0, 30, 0),
	       utc(2013, 1, 1, 0, 55, 0), utc(2013, 1, 1, 1, 15, 0),
	       utc(2013, 1, 1, 1, 19, 0));
	EXPECT("0 0 29 2 *", utc(2013, 8, 29, 0, 0, 0), utc(2016, 2, 29, 0, 0, 0),
	       utc(2020, 2, 29, 0, 0, 0));
	EXPECT("* * * * * * 1980", utc(2013, 8, 29, 0, 0, 0), -1);
	/* the seed's example: every 5 minutes */
	EXPECT("0 0/5 * * * ? *", utc(2013, 8, 29, 10, 3, 7),
	       utc(2013, 8, 29, 10, 5, 0), utc(2013, 8, 29, 10, 10, 0),
	       utc(2013, 8, 29, 10, 15, 0));
}

/* ---- syntax elements ---- */

static void test_fields_and_lists(void **state)
{
	int64_t t0 = utc(2021, 6, 15, 10, 20, 30);   /* a Tuesday */

	(void)state;
	EXPECT("* * * * *", t0, utc(2021, 6, 15, 10, 21, 0), utc(2021, 6, 15, 10, 22, 0));
	EXPECT("5 * * * *", t0, utc(2021, 6, 15, 11, 5, 0), utc(2021, 6, 15, 12, 5, 0));
	EXPECT("5,10,50 3 * * *", t0, utc(2021, 6, 16, 3, 5, 0),
	       utc(2021, 6, 16, 3, 10, 0), utc(2021, 6, 16, 3, 50, 0));
	EXPECT("0 9-11 * * *", t0, utc(2021, 6, 15, 11, 0, 0), utc(2021, 6, 16, 9, 0, 0));
	EXPECT("*/20 * * * *", t0, utc(2021, 6, 15, 10, 40, 0), utc(2021, 6, 15, 11, 0, 0));
	EXPECT("0/20 * * * *", t0, utc(2021, 6, 15, 10, 40, 0), utc(2021, 6, 15, 11, 0, 0));
	/* 5/15 = from 5 every 15 to the end */
	EXPECT("5/15 * * * *", t0, utc(2021, 6, 15, 10, 35, 0), utc(2021, 6, 15, 10, 50, 0),
	       utc(2021, 6, 15, 11, 5, 0));
	EXPECT("10-40/4 * * * *", t0, utc(2021, 6, 15, 10, 22, 0),
	       utc(2021, 6, 15, 10, 26, 0), utc(2021, 6, 15, 10, 30, 0),
	       utc(2021, 6, 15, 10, 34, 0), utc(2021, 6, 15, 10, 38, 0),
	       utc(2021, 6, 15, 11, 10, 0));
	EXPECT("0 0 1,15 * *", t0, utc(2021, 7, 1, 0, 0, 0), utc(2021, 7, 15, 0, 0, 0));
	EXPECT("0 0 1 */4 *", t0, utc(2021, 9, 1, 0, 0, 0), utc(2022, 1, 1, 0, 0, 0));
	/* several blanks and tabs between fields */
	EXPECT("  0\t0   1 1  *  ", t0, utc(2022, 1, 1, 0, 0, 0));
}

static void test_names(void **state)
{
	int64_t t0 = utc(2021, 6, 15, 10, 20, 30);   /* Tuesday */

	(void)state;
	EXPECT("0 0 1 jan *", t0, utc(2022, 1, 1, 0, 0, 0));
	EXPECT("0 0 1 JAN,Jul *", t0, utc(2021, 7, 1, 0, 0, 0), utc(2022, 1, 1, 0, 0, 0));
	EXPECT("0 0 1 january *", t0, utc(2022, 1, 1, 0, 0, 0));
	EXPECT("0 0 1 Sep-November *", t0, utc(2021, 9, 1, 0, 0, 0),
	       utc(2021, 10, 1, 0, 0, 0), utc(2021, 11, 1, 0, 0, 0),
	       utc(2022, 9, 1, 0, 0, 0));
	EXPECT("0 0 * * fri", t0, utc(2021, 6, 18, 0, 0, 0), utc(2021, 6, 25, 0, 0, 0));
	EXPECT("0 0 * * FRIDAY", t0, utc(2021, 6, 18, 0, 0, 0));
	EXPECT("0 0 * * Mon-Wed", t0, utc(2021, 6, 16, 0, 0, 0), utc(2021, 6, 21, 0, 0, 0));
	EXPECT("0 0 * * sat,Sunday", t0, utc(2021, 6, 19, 0, 0, 0), utc(2021, 6, 20, 0, 0, 0));
	/* 0 and 7 are both Sunday */
	EXPECT("0 0 * * 7", t0, utc(2021, 6, 20, 0, 0, 0), utc(2021, 6, 27, 0, 0, 0));
	EXPECT("0 0 * * 0", t0, utc(2021, 6, 20, 0, 0, 0));
	EXPECT("0 0 * * 5-7", t0, utc(2021, 6, 18, 0, 0, 0), utc(2021, 6, 19, 0, 0, 0),
	       utc(2021, 6, 20, 0, 0, 0), utc(2021, 6, 25, 0, 0, 0));
	EXPECT("0 0 * * */2", t0, utc(2021, 6, 17, 0, 0, 0), utc(2021, 6, 19, 0, 0, 0),
	       utc(2021, 6, 20, 0, 0, 0));
}

static void test_macros(void **state)
{
	int64_t t0 = utc(2021, 6, 15, 10, 20, 30);

	(void)state;
	EXPECT("@yearly", t0, utc(2022, 1, 1, 0, 0, 0));
	EXPECT("@annually", t0, utc(2022, 1, 1, 0, 0, 0));
	EXPECT("@monthly", t0, utc(2021, 7, 1, 0, 0, 0));
	EXPECT("@weekly", t0, utc(2021, 6, 20, 0, 0, 0));
	EXPECT("@daily", t0, utc(2021, 6, 16, 0, 0, 0));
	EXPECT("@midnight", t0, utc(2021, 6, 16, 0, 0, 0));
	EXPECT("@hourly", t0, utc(2021, 6, 15, 11, 0, 0));
	EXPECT("@HOURLY", t0, utc(2021, 6, 15, 11, 0, 0));
	EXPECT("  @daily\t", t0, utc(2021, 6, 16, 0, 0, 0));
	expect_error("@fortnightly", "unknown macro: '@fortnightly'");
}

static void test_seconds_and_years(void **state)
{
	int64_t t0 = utc(2021, 6, 15, 10, 20, 30);

	(void)state;
	EXPECT("*/10 * * * * *", t0, utc(2021, 6, 15, 10, 20, 40),
	       utc(2021, 6, 15, 10, 20, 50), utc(2021, 6, 15, 10, 21, 0));
	EXPECT("15,45 * * * * ?", t0, utc(2021, 6, 15, 10, 20, 45),
	       utc(2021, 6, 15, 10, 21, 15));
	EXPECT("30 0 0 1 1 ?", t0, utc(2022, 1, 1, 0, 0, 30));
	EXPECT("0 0 0 1 1 ? 2030-2040/5", t0, utc(2030, 1, 1, 0, 0, 0),
	       utc(2035, 1, 1, 0, 0, 0), utc(2040, 1, 1, 0, 0, 0), -1);
	EXPECT("0 0 12 ? * mon 2022,2024", t0, utc(2022, 1, 3, 12, 0, 0));
	EXPECT("0 0 0 1 1 * */50", t0, utc(2070, 1, 1, 0, 0, 0), -1);
	EXPECT("0 0 0 1 1 * 2021", t0, -1);
	/* 5 fields mean second 0 */
	EXPECT("* * * * *", utc(2021, 6, 15, 10, 20, 0), utc(2021, 6, 15, 10, 21, 0));
}

/* "A day field is unrestricted only when it is exactly * or ?; when both
 * are restricted either matching is enough." */
static void test_day_fields(void **state)
{
	int64_t t0 = utc(2021, 6, 1, 0, 0, 0);   /* Tuesday */

	(void)state;
	/* 13th or any Friday */
	EXPECT("0 0 13 * 5", t0, utc(2021, 6, 4, 0, 0, 0), utc(2021, 6, 11, 0, 0, 0),
	       utc(2021, 6, 13, 0, 0, 0), utc(2021, 6, 18, 0, 0, 0));
	/* dom '*': only the dow counts */
	EXPECT("0 0 * * 5", t0, utc(2021, 6, 4, 0, 0, 0), utc(2021, 6, 11, 0, 0, 0));
	EXPECT("0 0 ? * 5", t0, utc(2021, 6, 4, 0, 0, 0), utc(2021, 6, 11, 0, 0, 0));
	/* dow '*' or '?': only the dom counts */
	EXPECT("0 0 13 * *", t0, utc(2021, 6, 13, 0, 0, 0), utc(2021, 7, 13, 0, 0, 0));
	EXPECT("0 0 13 * ?", t0, utc(2021, 6, 13, 0, 0, 0));
	/* '*' /1 is a restriction (not exactly '*'), so either -> every day */
	EXPECT("0 0 */1 * 5", t0, utc(2021, 6, 2, 0, 0, 0), utc(2021, 6, 3, 0, 0, 0));
	EXPECT("0 0 1-31 * 5", t0, utc(2021, 6, 2, 0, 0, 0));
	/* both '?' */
	EXPECT("0 0 ? * ?", t0, utc(2021, 6, 2, 0, 0, 0));
}

static void test_month_ends_and_leap(void **state)
{
	(void)state;
	EXPECT("0 0 31 * *", utc(2021, 1, 31, 0, 0, 0), utc(2021, 3, 31, 0, 0, 0),
	       utc(2021, 5, 31, 0, 0, 0), utc(2021, 7, 31, 0, 0, 0),
	       utc(2021, 8, 31, 0, 0, 0));
	EXPECT("0 0 30 2 *", utc(2021, 1, 1, 0, 0, 0), -1);
	EXPECT("0 0 L * *", utc(2021, 1, 31, 0, 0, 0), utc(2021, 2, 28, 0, 0, 0),
	       utc(2021, 3, 31, 0, 0, 0), utc(2021, 4, 30, 0, 0, 0));
	EXPECT("0 0 L 2 *", utc(2023, 3, 1, 0, 0, 0), utc(2024, 2, 29, 0, 0, 0),
	       utc(2025, 2, 28, 0, 0, 0));
	/* 2000 is a leap year, 2100 is past the limit */
	EXPECT("0 0 29 2 *", utc(1996, 3, 1, 0, 0, 0), utc(2000, 2, 29, 0, 0, 0));
	EXPECT("0 0 29 2 *", utc(2096, 3, 1, 0, 0, 0), -1);
	EXPECT("0 0 29 2 *", utc(2024, 2, 29, 0, 0, 0), utc(2028, 2, 29, 0, 0, 0));
	EXPECT("59 23 31 12 *", utc(2021, 12, 31, 23, 58, 0), utc(2021, 12, 31, 23, 59, 0),
	       utc(2022, 12, 31, 23, 59, 0));
}

static void test_weekday_nearest(void **state)
{
	(void)state;
	/* 2022-01-01 is a Saturday: 1W -> Monday the 3rd, not Dec 31 */
	EXPECT("0 0 1W * *", utc(2021, 12, 15, 0, 0, 0), utc(2022, 1, 3, 0, 0, 0));
	/* 2021-10-31 is a Sunday: 31W -> Friday the 29th, not Nov 1 */
	EXPECT("0 0 31W * *", utc(2021, 10, 1, 0, 0, 0), utc(2021, 10, 29, 0, 0, 0));
	/* 31W does not fire in 30-day months or February */
	EXPECT("0 0 31W * *", utc(2021, 3, 31, 0, 0, 0), utc(2021, 5, 31, 0, 0, 0));
	EXPECT("0 0 31W 4 *", utc(2021, 1, 1, 0, 0, 0), -1);
	/* 2021-08-15 Sunday -> Monday 16th; 2021-05-15 Saturday -> Friday 14th */
	EXPECT("0 0 15W * *", utc(2021, 8, 1, 0, 0, 0), utc(2021, 8, 16, 0, 0, 0));
	EXPECT("0 0 15W * *", utc(2021, 5, 1, 0, 0, 0), utc(2021, 5, 14, 0, 0, 0));
	/* LW: last weekday; 2021-10-31 Sunday -> Friday 29th */
	EXPECT("0 0 LW * *", utc(2021, 10, 1, 0, 0, 0), utc(2021, 10, 29, 0, 0, 0),
	       utc(2021, 11, 30, 0, 0, 0));
	EXPECT("0 0 15W,L * *", utc(2021, 8, 1, 0, 0, 0), utc(2021, 8, 16, 0, 0, 0),
	       utc(2021, 8, 31, 0, 0, 0));
}

static void test_last_and_nth_weekday(void **state)
{
	(void)state;
	/* last Friday */
	EXPECT("0 0 * * 5L", utc(2021, 1, 1, 0, 0, 0), utc(2021, 1, 29, 0, 0, 0),
	       utc(2021, 2, 26, 0, 0, 0), utc(2021, 3, 26, 0, 0, 0));
	EXPECT("0 0 * * friL", utc(2021, 1, 1, 0, 0, 0), utc(2021, 1, 29, 0, 0, 0));
	EXPECT("0 0 * * 7L", utc(2021, 1, 1, 0, 0, 0), utc(2021, 1, 31, 0, 0, 0));
	/* first Monday, third Wednesday */
	EXPECT("0 0 * * 1#1", utc(2021, 1, 1, 0, 0, 0), utc(2021, 1, 4, 0, 0, 0),
	       utc(2021, 2, 1, 0, 0, 0));
	EXPECT("0 0 * * wed#3", utc(2021, 1, 1, 0, 0, 0), utc(2021, 1, 20, 0, 0, 0));
	/* 5th Monday: only months that have one (2021: Mar, May, Aug, Nov) */
	EXPECT("0 0 * * 1#5", utc(2021, 1, 1, 0, 0, 0), utc(2021, 3, 29, 0, 0, 0),
	       utc(2021, 5, 31, 0, 0, 0), utc(2021, 8, 30, 0, 0, 0),
	       utc(2021, 11, 29, 0, 0, 0));
	/* 5th Sunday in February happens only in leap years starting Sunday */
	EXPECT("0 0 * 2 0#5", utc(2000, 1, 1, 0, 0, 0), utc(2004, 2, 29, 0, 0, 0),
	       utc(2032, 2, 29, 0, 0, 0));
	EXPECT("0 0 * * 1#1,5L", utc(2021, 1, 1, 0, 0, 0), utc(2021, 1, 4, 0, 0, 0),
	       utc(2021, 1, 29, 0, 0, 0));
}

static void test_year_limit(void **state)
{
	(void)state;
	EXPECT("0 0 1 1 *", utc(2099, 6, 1, 0, 0, 0), -1);
	EXPECT("59 23 31 12 *", utc(2099, 12, 31, 0, 0, 0), utc(2099, 12, 31, 23, 59, 0), -1);
	EXPECT("* * * * * *", utc(2099, 12, 31, 23, 59, 58), utc(2099, 12, 31, 23, 59, 59), -1);
	EXPECT("* * * * *", utc(2100, 1, 1, 0, 0, 0), -1);
	EXPECT("* * * * *", INT64_MAX, -1);
	/* long before 1970: starts at the first allowed moment */
	EXPECT("0 0 1 1 *", INT64_MIN, utc(1970, 1, 1, 0, 0, 0));
	/* the last wall time of 2099 in New York is in 2100 UTC */
	EXPECT_TZ("America/New_York", "59 23 31 12 *", utc(2099, 12, 1, 0, 0, 0),
		  utc(2100, 1, 1, 4, 59, 0), -1);
}

/* ---- errors ---- */

static void test_errors_exact(void **state)
{
	(void)state;
	expect_error("* * * *", "expected 5, 6 or 7 fields, got 4");
	expect_error("* * * * * * * *", "expected 5, 6 or 7 fields, got 8");
	expect_error("", "expected 5, 6 or 7 fields, got 0");
	expect_error("* * 32 * *", "syntax error in day-of-month field: '32'");
	expect_error("60 * * * *", "syntax error in minute field: '60'");
	expect_error("* 24 * * *", "syntax error in hour field: '24'");
	expect_error("* * * 13 *", "syntax error in month field: '13'");
	expect_error("* * * * 8", "syntax error in day-of-week field: '8'");
	expect_error("60 * * * * *", "syntax error in second field: '60'");
	expect_error("* * * * * * 1969", "syntax error in year field: '1969'");
	expect_error("* * * * * * 2100", "syntax error in year field: '2100'");
	expect_error("* * * * 8#1", "syntax error in day-of-week field: '8#1'");
	expect_error("* * 0W * *", "syntax error in day-of-month field: '0W'");
	expect_error("* * 32W * *", "syntax error in day-of-month field: '32W'");
	expect_error("* * * * 1#6", "occurrence 6 out of range 1-5 in day-of-week field: '1#6'");
	expect_error("*/0 * * * *", "step 0 in minute field: '*/0'");
	expect_error("*/60 * * * *",
		     "step 60 beyond the range of the minute field (0-59): '*/60'");
	expect_error("30-10 * * * *",
		     "reversed range in minute field (cron ranges do not wrap): '30-10'");
	expect_error("* * * * fri-mon",
		     "reversed range in day-of-week field (cron ranges do not wrap): 'fri-mon'");
	expect_error("L * * * *", "'L' means nothing in the minute field: 'L'");
	expect_error("* * * foo *", "syntax error in month field: 'foo'");
	expect_error("1,,2 * * * *", "syntax error in minute field: '1,,2'");
}

static void test_errors_named(void **state)
{
	static const struct { const char *expr, *part; } bad[] = {
		{ "* * * * *x", "day-of-week field" },
		{ "a * * * *", "minute field: 'a'" },
		{ "5L * * * *", "'L' means nothing in the minute field" },
		{ "* L * * *", "hour field" },
		{ "* * * L *", "month field" },
		{ "* * * * L", "day-of-week field" },
		{ "5W * * * *", "'W' means nothing in the minute field" },
		{ "* * * * 5W", "day-of-week field" },
		{ "* * 5#2 * *", "'#' means nothing in the day-of-month field" },
		{ "? * * * *", "'?' means nothing in the minute field" },
		{ "* ? * * *", "hour field" },
		{ "* * * * 1#0", "occurrence 0" },
		{ "* * * * 1#", "day-of-week field: '1#'" },
		{ "* * * * 1#12", "day-of-week field" },
		{ "* * 5L * *", "day-of-month field: '5L'" },
		{ "* * 1-5W * *", "day-of-month field: '1-5W'" },
		{ "* * L-3 * *", "day-of-month field" },
		{ "*/ * * * *", "minute field: '*/'" },
		{ "*/x * * * *", "minute field" },
		{ "1-/2 * * * *", "minute field" },
		{ "-5 * * * *", "minute field" },
		{ "5- * * * *", "minute field" },
		{ "* */24 * * *", "step 24 beyond the range of the hour field (0-23)" },
		{ "* * */31 * *", "day-of-month" },
		{ "* * * */12 *", "month" },
		{ "* * * * */7", "day-of-week" },
		{ "0 0 0 1 1 ? */130", "year" },
		{ "* * * * * * 1980-1970", "reversed range in year field" },
		{ "* * 10-5 * *", "reversed range in day-of-month field" },
		{ "* * * dec-jan *", "reversed range in month field" },
		{ "99999 * * * *", "minute field" },
		{ "1,2,x * * * *", "minute field: 'x'" },
		{ "* * * * * 5-", "day-of-week" },
		{ "** * * * *", "minute field: '**'" },
		{ "*5 * * * *", "minute field" },
		{ "* * * * frix", "day-of-week field: 'frix'" },
		{ "* * * janu *", "month field: 'janu'" },
		{ "* * ?,1 * *", "day-of-month field" },
		{ "@reboot", "unknown macro" },
		{ "@every 5m", "expected 5, 6 or 7 fields" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error_has(bad[i].expr, bad[i].part);
	/* a NULL error buffer is allowed */
	{
		struct cron *c;

		assert_int_equal(cron_parse("bad", &c, NULL, 0), -EINVAL);
	}
}

/* ---- DST ---- */

static void test_dst_berlin(void **state)
{
	const char *b = "Europe/Berlin";

	(void)state;
	/* 2021-03-28: 02:00 CET -> 03:00 CEST (01:00Z).  02:30 does not
	 * exist: fires once at the jump, then normally. */
	EXPECT_TZ(b, "30 2 * * *", utc(2021, 3, 26, 12, 0, 0),
		  utc(2021, 3, 27, 1, 30, 0), utc(2021, 3, 28, 1, 0, 0),
		  utc(2021, 3, 29, 0, 30, 0));
	/* several matches in the gap still fire once */
	EXPECT_TZ(b, "0,15,30,45 2 * * *", utc(2021, 3, 28, 0, 0, 0),
		  utc(2021, 3, 28, 1, 0, 0), utc(2021, 3, 29, 0, 0, 0));
	EXPECT_TZ(b, "0 2,3 * * *", utc(2021, 3, 28, 0, 0, 0),
		  utc(2021, 3, 28, 1, 0, 0), utc(2021, 3, 29, 0, 0, 0));
	/* 2021-10-31: 03:00 CEST -> 02:00 CET (01:00Z); 02:30 twice: once,
	 * on the first pass */
	EXPECT_TZ(b, "30 2 * * *", utc(2021, 10, 30, 12, 0, 0),
		  utc(2021, 10, 31, 0, 30, 0), utc(2021, 11, 1, 1, 30, 0));
	/* asked from inside the second pass: already done */
	EXPECT_TZ(b, "30 2 * * *", utc(2021, 10, 31, 1, 10, 0), utc(2021, 11, 1, 1, 30, 0));
	/* cronie: a job whose minute OR hour field begins with a star
	 * (MIN_STAR|HR_STAR) is a wildcard job and follows real time:
	 * `STAR/20 2` runs both passes of 02:xx in autumn ... */
	EXPECT_TZ(b, "*/20 2 * * *", utc(2021, 10, 31, 0, 0, 0),
		  utc(2021, 10, 31, 0, 20, 0), utc(2021, 10, 31, 0, 40, 0),
		  utc(2021, 10, 31, 1, 0, 0), utc(2021, 10, 31, 1, 20, 0),
		  utc(2021, 10, 31, 1, 40, 0), utc(2021, 11, 1, 1, 0, 0));
	EXPECT_TZ(b, "*/20 2 * * *", utc(2021, 10, 31, 0, 50, 0),
		  utc(2021, 10, 31, 1, 0, 0), utc(2021, 10, 31, 1, 20, 0));
	/* ... and skips the missing 02:xx in spring (no fire at 03:00) */
	EXPECT_TZ(b, "*/15 2 * * *", utc(2021, 3, 27, 23, 0, 0),
		  utc(2021, 3, 29, 0, 0, 0), utc(2021, 3, 29, 0, 15, 0));
	/* the same minutes without a star are a fixed-time job: once at the
	 * jump in spring, the first pass only in autumn */
	EXPECT_TZ(b, "0-59/15 2 * * *", utc(2021, 3, 27, 23, 0, 0),
		  utc(2021, 3, 28, 1, 0, 0), utc(2021, 3, 29, 0, 0, 0));
	EXPECT_TZ(b, "0-59/20 2 * * *", utc(2021, 10, 31, 0, 0, 0),
		  utc(2021, 10, 31, 0, 20, 0), utc(2021, 10, 31, 0, 40, 0),
		  utc(2021, 11, 1, 1, 0, 0));
	/* a star in the hour only (HR_STAR) is wildcard too */
	EXPECT_TZ(b, "15 */2 * * *", utc(2021, 10, 31, 0, 0, 0),
		  utc(2021, 10, 31, 0, 15, 0), utc(2021, 10, 31, 1, 15, 0),
		  utc(2021, 10, 31, 3, 15, 0));
	/* all hours without a star (0-23) is not: fixed wall times */
	EXPECT_TZ(b, "15 0-23 * * *", utc(2021, 10, 31, 0, 0, 0),
		  utc(2021, 10, 31, 0, 15, 0), utc(2021, 10, 31, 2, 15, 0));
	/* wildcard hour follows real time: skips 02:xx in spring ... */
	EXPECT_TZ(b, "*/15 * * * *", utc(2021, 3, 28, 0, 30, 0),
		  utc(2021, 3, 28, 0, 45, 0), utc(2021, 3, 28, 1, 0, 0),
		  utc(2021, 3, 28, 1, 15, 0));
	/* ... and runs both passes of 02:xx in autumn */
	EXPECT_TZ(b, "*/15 * * * *", utc(2021, 10, 31, 0, 30, 0),
		  utc(2021, 10, 31, 0, 45, 0), utc(2021, 10, 31, 1, 0, 0),
		  utc(2021, 10, 31, 1, 15, 0), utc(2021, 10, 31, 1, 30, 0));
	EXPECT_TZ(b, "30 * * * *", utc(2021, 10, 30, 23, 45, 0),
		  utc(2021, 10, 31, 0, 30, 0), utc(2021, 10, 31, 1, 30, 0),
		  utc(2021, 10, 31, 2, 30, 0));
	EXPECT_TZ(b, "0 */1 * * *", utc(2021, 3, 28, 0, 30, 0),
		  utc(2021, 3, 28, 1, 0, 0), utc(2021, 3, 28, 2, 0, 0));
	/* daily at midnight: plain local midnight on both sides */
	EXPECT_TZ(b, "0 0 * * *", utc(2021, 3, 27, 12, 0, 0),
		  utc(2021, 3, 27, 23, 0, 0), utc(2021, 3, 28, 22, 0, 0));
	/* the footer rule years */
	EXPECT_TZ(b, "30 2 * * *", utc(2050, 3, 26, 12, 0, 0),
		  utc(2050, 3, 27, 1, 0, 0), utc(2050, 3, 28, 0, 30, 0));
}

static void test_dst_new_york(void **state)
{
	const char *ny = "America/New_York";

	(void)state;
	/* 2021-03-14: 02:00 EST -> 03:00 EDT (07:00Z) */
	EXPECT_TZ(ny, "30 2 * * *", utc(2021, 3, 13, 12, 0, 0),
		  utc(2021, 3, 14, 7, 0, 0), utc(2021, 3, 15, 6, 30, 0));
	/* 2021-11-07: 02:00 EDT -> 01:00 EST (06:00Z); 01:30 twice */
	EXPECT_TZ(ny, "30 1 * * *", utc(2021, 11, 6, 12, 0, 0),
		  utc(2021, 11, 7, 5, 30, 0), utc(2021, 11, 8, 6, 30, 0));
	EXPECT_TZ(ny, "*/30 * * * *", utc(2021, 11, 7, 4, 50, 0),
		  utc(2021, 11, 7, 5, 0, 0), utc(2021, 11, 7, 5, 30, 0),
		  utc(2021, 11, 7, 6, 0, 0), utc(2021, 11, 7, 6, 30, 0),
		  utc(2021, 11, 7, 7, 0, 0));
	EXPECT_TZ(ny, "*/30 * * * *", utc(2021, 3, 14, 6, 10, 0),
		  utc(2021, 3, 14, 6, 30, 0), utc(2021, 3, 14, 7, 0, 0));
	/* 6 fields, seconds, fixed hour inside the gap */
	EXPECT_TZ(ny, "10 20 2 * * ?", utc(2021, 3, 14, 0, 0, 0),
		  utc(2021, 3, 14, 7, 0, 0), utc(2021, 3, 15, 6, 20, 10));
}

static void test_dst_lord_howe(void **state)
{
	const char *lh = "Australia/Lord_Howe";

	(void)state;
	/* 2021-10-03 02:00 +10:30 -> 02:30 +11 (2021-10-02T15:30Z) */
	EXPECT_TZ(lh, "15 2 * * *", utc(2021, 10, 2, 0, 0, 0),
		  utc(2021, 10, 2, 15, 30, 0), utc(2021, 10, 3, 15, 15, 0));
	EXPECT_TZ(lh, "45 2 * * *", utc(2021, 10, 2, 0, 0, 0),
		  utc(2021, 10, 2, 15, 45, 0));
	/* 2021-04-04 02:00 +11 -> 01:30 +10:30 (2021-04-03T15:00Z) */
	EXPECT_TZ(lh, "45 1 * * *", utc(2021, 4, 3, 0, 0, 0),
		  utc(2021, 4, 3, 14, 45, 0), utc(2021, 4, 4, 15, 15, 0));
	EXPECT_TZ(lh, "*/15 * * * *", utc(2021, 4, 3, 14, 10, 0),
		  utc(2021, 4, 3, 14, 15, 0), utc(2021, 4, 3, 14, 30, 0),
		  utc(2021, 4, 3, 14, 45, 0), utc(2021, 4, 3, 15, 0, 0),
		  utc(2021, 4, 3, 15, 15, 0), utc(2021, 4, 3, 15, 30, 0));
	EXPECT_TZ(lh, "*/15 * * * *", utc(2021, 10, 2, 15, 10, 0),
		  utc(2021, 10, 2, 15, 15, 0), utc(2021, 10, 2, 15, 30, 0),
		  utc(2021, 10, 2, 15, 45, 0));
}

/* next() is strictly increasing and never repeats, across a whole year of
 * DST changes, for fixed and wildcard jobs. */
static void test_dst_monotonic(void **state)
{
	static const char *zones[] = {
		"Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
		"America/Santiago", "America/Nuuk", "Pacific/Apia",
	};
	static const char *exprs[] = {
		"*/7 * * * *", "0,30 1-3 * * *", "15 2 * * *", "0 0 * * *",
		"*/13 */2 * * * *", "59 * * * *", "0 30 * * * ?", "0 0/30 0-3 * * ?",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		const struct tz *z = zone(zones[i]);

		for (size_t j = 0; j < sizeof(exprs) / sizeof(exprs[0]); j++) {
			struct cron *c = parse(exprs[j]);
			int64_t t = utc(2021, 1, 1, 0, 0, 0), prev = t, end = utc(2022, 1, 1, 0, 0, 0);
			int n = 0;

			while (t < end && n < 200000) {
				t = cron_next(c, z, t);
				assert_true(t > prev);
				prev = t;
				n++;
			}
			cron_free(c);
		}
	}
}

/* Wildcard-hour jobs against a minute-stepping matcher of glibc's local
 * time, around DST changes. */
static void test_dst_real_time_brute(void **state)
{
	static const struct { const char *zone; int y, m, d; } around[] = {
		{ "Europe/Berlin", 2021, 3, 27 }, { "Europe/Berlin", 2021, 10, 30 },
		{ "America/New_York", 2021, 3, 13 }, { "America/New_York", 2021, 11, 6 },
		{ "Australia/Lord_Howe", 2021, 4, 3 }, { "Australia/Lord_Howe", 2021, 10, 2 },
	};
	static const char *exprs[] = { "*/15 * * * *", "7,37 * * * *", "0 * * * *",
				       "*/10 * 28,31 3,10 *", "45 * * * 0" };
	static const int mins[][4] = { { 0, 15, 30, 45 }, { 7, 37, -1, -1 }, { 0, -1, -1, -1 },
				       { 0, 10, 20, 30 }, { 45, -1, -1, -1 } };

	(void)state;
	for (size_t i = 0; i < sizeof(around) / sizeof(around[0]); i++) {
		char spec[64];

		snprintf(spec, sizeof(spec), ":%s", around[i].zone);
		setenv("TZ", spec, 1);
		tzset();
		for (size_t j = 0; j < sizeof(exprs) / sizeof(exprs[0]); j++) {
			const struct tz *z = zone(around[i].zone);
			struct cron *c = parse(exprs[j]);
			int64_t t = utc(around[i].y, around[i].m, around[i].d, 0, 0, 0);
			int64_t end = t + 3 * 86400, got = t;

			for (int64_t u = t + 60; u < end; u += 60) {
				struct tm tm;
				time_t tt = (time_t)u;
				bool hit = false;

				localtime_r(&tt, &tm);
				for (int k = 0; k < 4; k++)
					hit |= tm.tm_min == mins[j][k];
				if (j == 3)
					hit = tm.tm_min % 10 == 0 && (tm.tm_mday == 28 || tm.tm_mday == 31) &&
					      (tm.tm_mon == 2 || tm.tm_mon == 9);
				if (j == 4)
					hit = hit && tm.tm_wday == 0;
				if (!hit)
					continue;
				got = cron_next(c, z, got);
				if (got != u)
					fail_msg("%s %s: got %lld want %lld", around[i].zone, exprs[j],
						 (long long)got, (long long)u);
			}
			cron_free(c);
		}
	}
	unsetenv("TZ");
	tzset();
}

/* ---- property test against a brute-force matcher ---- */

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int rr(int lo, int hi)   /* inclusive */
{
	return lo + (int)(rnd() % (uint64_t)(hi - lo + 1));
}

enum { S, MI, H, DM, MO, DW, Y, NF };
static const int fmin[NF] = { 0, 0, 0, 1, 1, 0, 1970 };
static const int ftop[NF] = { 59, 59, 23, 31, 12, 6, 2099 };

/* The test's own reading of an expression, built while generating it. */
struct spec {
	bool set[NF][130];      /* value - fmin */
	bool dom_star, dow_star, L, LW;
	bool W[32];
	bool dowL[7], nth[7][6];
	int nfields;
};

static const char *const mnames[] = { "jan", "feb", "mar", "apr", "may", "jun", "jul",
				      "aug", "sep", "oct", "nov", "dec" };
static const char *const mfull[] = { "January", "FEBRUARY", "march", "April", "May",
				     "june", "July", "August", "september", "October",
				     "November", "December" };
static const char *const dnames[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

/* Sunday may be written 7, but only alone (7-3 would be a reversed range). */
static void put_value(char *buf, size_t n, int f, int v, bool alone)
{
	size_t len = strlen(buf);

	if (f == MO && rnd() % 4 == 0)
		snprintf(buf + len, n - len, "%s", rnd() % 2 ? mnames[v - 1] : mfull[v - 1]);
	else if (f == DW && rnd() % 4 == 0)
		snprintf(buf + len, n - len, "%s", dnames[v]);
	else if (f == DW && v == 0 && alone && rnd() % 2)
		snprintf(buf + len, n - len, "7");
	else
		snprintf(buf + len, n - len, "%d", v);
}

static void cat(char *buf, size_t n, const char *s)
{
	size_t len = strlen(buf);

	snprintf(buf + len, n - len, "%s", s);
}

static void gen_item(struct spec *sp, int f, char *buf, size_t n, int year0)
{
	int lo = fmin[f], top = ftop[f], a, b, step, k = (int)(rnd() % 10);
	char num[16];

	if (f == Y) {   /* keep years near the start so the test can see them */
		lo = year0 - 1;
		top = year0 + 2 > 2099 ? 2099 : year0 + 2;
	}
	if (f == DM && k == 0) {
		int r = (int)(rnd() % 3);

		if (r == 0) {
			sp->L = true;
			cat(buf, n, "L");
		} else if (r == 1) {
			sp->LW = true;
			cat(buf, n, "LW");
		} else {
			a = rr(1, 31);
			sp->W[a] = true;
			snprintf(num, sizeof(num), "%dW", a);
			cat(buf, n, num);
		}
		return;
	}
	if (f == DW && k == 0) {
		a = rr(0, 6);
		if (rnd() % 2) {
			sp->dowL[a] = true;
			put_value(buf, n, f, a, true);
			cat(buf, n, "L");
		} else {
			b = rr(1, 5);
			sp->nth[a][b] = true;
			put_value(buf, n, f, a, true);
			snprintf(num, sizeof(num), "#%d", b);
			cat(buf, n, num);
		}
		return;
	}
	switch (k % 5) {
	case 0:
	case 1:     /* value */
		a = rr(lo, top);
		sp->set[f][a - fmin[f]] = true;
		put_value(buf, n, f, a, true);
		return;
	case 2:     /* range */
		a = rr(lo, top);
		b = rr(a, top);
		for (int v = a; v <= b; v++)
			sp->set[f][v - fmin[f]] = true;
		put_value(buf, n, f, a, false);
		cat(buf, n, "-");
		put_value(buf, n, f, b, false);
		return;
	case 3:     /* */
		step = rr(1, (ftop[f] - fmin[f]) / 2 + 1);
		snprintf(num, sizeof(num), "*/%d", step);
		cat(buf, n, num);
		for (int v = fmin[f]; v <= ftop[f]; v += step)
			sp->set[f][v - fmin[f]] = true;
		return;
	default:    /* a/s or a-b/s */
		a = rr(lo, top);
		b = rnd() % 2 ? top : rr(a, top);
		step = rr(1, ftop[f] - fmin[f]);
		put_value(buf, n, f, a, false);
		if (b != ftop[f] || rnd() % 2) {
			cat(buf, n, "-");
			put_value(buf, n, f, b, false);
		} else {
			b = ftop[f];
		}
		snprintf(num, sizeof(num), "/%d", step);
		cat(buf, n, num);
		for (int v = a; v <= b; v += step)
			sp->set[f][v - fmin[f]] = true;
		return;
	}
}

static void gen_field(struct spec *sp, int f, char *buf, size_t n, int year0)
{
	int items, r = (int)(rnd() % 8);

	if (f == Y && r < 3) {
		cat(buf, n, "*");
		for (int v = 0; v < 130; v++)
			sp->set[f][v] = true;
		return;
	}
	if (r < 2 || (f == MO && r < 5) || (f == H && r < 4)) {
		bool q = (f == DM || f == DW) && rnd() % 3 == 0;

		cat(buf, n, q ? "?" : "*");
		for (int v = fmin[f]; v <= ftop[f]; v++)
			sp->set[f][v - fmin[f]] = true;
		if (f == DM)
			sp->dom_star = true;
		if (f == DW)
			sp->dow_star = true;
		return;
	}
	items = rr(1, 3);
	for (int i = 0; i < items; i++) {
		if (i)
			cat(buf, n, ",");
		gen_item(sp, f, buf, n, year0);
	}
}

static void gen(struct spec *sp, char *buf, size_t n, int year0)
{
	static const int order5[] = { MI, H, DM, MO, DW };
	static const int order7[] = { S, MI, H, DM, MO, DW, Y };
	int r = (int)(rnd() % 10);

	memset(sp, 0, sizeof(*sp));
	buf[0] = '\0';
	sp->nfields = r < 6 ? 5 : r < 8 ? 6 : 7;
	if (sp->nfields == 5) {
		sp->set[S][0] = true;
		for (int i = 0; i < 5; i++) {
			if (i)
				cat(buf, n, " ");
			gen_field(sp, order5[i], buf, n, year0);
		}
	} else {
		for (int i = 0; i < sp->nfields; i++) {
			if (i)
				cat(buf, n, " ");
			gen_field(sp, order7[i], buf, n, year0);
		}
	}
	if (sp->nfields < 7)
		for (int v = 0; v < 130; v++)
			sp->set[Y][v] = true;
}

static int month_len(int y, int m)
{
	static const int n[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && ((y % 4 == 0 && y % 100) || y % 400 == 0) ? 29 : n[m - 1];
}

static int weekday(int y, int m, int d)
{
	struct tm tm;
	time_t t = (time_t)utc(y, m, d, 12, 0, 0);

	gmtime_r(&t, &tm);
	return tm.tm_wday;
}

static bool brute_day(const struct spec *sp, int y, int m, int d)
{
	int nd = month_len(y, m), wd = weekday(y, m, d), last = nd;
	bool dom = sp->set[DM][d - 1], dow = sp->set[DW][wd];

	while (weekday(y, m, last) == 0 || weekday(y, m, last) == 6)
		last--;
	dom |= sp->L && d == nd;
	dom |= sp->LW && d == last;
	for (int n = 1; n <= nd; n++) {
		int w = weekday(y, m, n), target = n;

		if (!sp->W[n])
			continue;
		if (w == 6)
			target = n == 1 ? 3 : n - 1;
		else if (w == 0)
			target = n == nd ? n - 2 : n + 1;
		dom |= target == d;
	}
	dow |= sp->dowL[wd] && d + 7 > nd;
	dow |= sp->nth[wd][(d - 1) / 7 + 1];
	if (sp->dom_star && sp->dow_star)
		return true;
	if (sp->dom_star)
		return dow;
	if (sp->dow_star)
		return dom;
	return dom || dow;
}

/* The first match after `from` within `horizon` seconds, by walking time
 * forward (whole days/hours/minutes skipped when they cannot match). */
static int64_t brute_next(const struct spec *sp, int64_t from, int64_t horizon)
{
	int64_t t = from + 1;

	while (t <= from + horizon) {
		struct tm tm;
		time_t tt = (time_t)t;
		int64_t day0;

		gmtime_r(&tt, &tm);
		day0 = t - tm.tm_hour * 3600 - tm.tm_min * 60 - tm.tm_sec;
		if (!sp->set[Y][tm.tm_year + 1900 - 1970] || !sp->set[MO][tm.tm_mon] ||
		    !brute_day(sp, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday)) {
			t = day0 + 86400;
			continue;
		}
		if (!sp->set[H][tm.tm_hour]) {
			t = day0 + (tm.tm_hour + 1) * 3600;
			continue;
		}
		if (!sp->set[MI][tm.tm_min]) {
			t = day0 + tm.tm_hour * 3600 + (tm.tm_min + 1) * 60;
			continue;
		}
		if (!sp->set[S][tm.tm_sec]) {
			t++;
			continue;
		}
		return t;
	}
	return -1;
}

static void test_property_random(void **state)
{
	const struct tz *z = zone(NULL);
	const int64_t horizon = 366 * 86400LL;
	char expr[256], err[256];
	int compared = 0, fired = 0;

	(void)state;
	for (int i = 0; i < 300; i++) {
		struct spec sp;
		struct cron *c;
		int64_t start = utc(rr(1975, 2090), rr(1, 12), rr(1, 28), rr(0, 23), rr(0, 59),
				    rr(0, 59));
		struct tm tm;
		time_t tt = (time_t)start;

		gmtime_r(&tt, &tm);
		gen(&sp, expr, sizeof(expr), tm.tm_year + 1900);
		if (cron_parse(expr, &c, err, sizeof(err)) != 0)
			fail_msg("generated '%s' rejected: %s", expr, err);
		for (int s = 0; s < 3; s++) {
			int64_t t = start + s * (int64_t)rr(0, 200) * 86400, want, got;

			for (int k = 0; k < 4; k++) {
				want = brute_next(&sp, t, horizon);
				got = cron_next(c, z, t);
				compared++;
				if (want < 0) {
					if (got >= 0 && got <= t + horizon)
						fail_msg("'%s' from %lld: got %lld, brute none", expr,
							 (long long)t, (long long)got);
					break;
				}
				if (got != want)
					fail_msg("'%s' from %lld: got %lld, brute %lld", expr,
						 (long long)t, (long long)got, (long long)want);
				fired++;
				t = got;
			}
		}
		cron_free(c);
	}
	/* the generator must produce mostly firing expressions */
	assert_true(fired > compared / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_vectors),
		cmocka_unit_test(test_fields_and_lists),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_macros),
		cmocka_unit_test(test_seconds_and_years),
		cmocka_unit_test(test_day_fields),
		cmocka_unit_test(test_month_ends_and_leap),
		cmocka_unit_test(test_weekday_nearest),
		cmocka_unit_test(test_last_and_nth_weekday),
		cmocka_unit_test(test_year_limit),
		cmocka_unit_test(test_errors_exact),
		cmocka_unit_test(test_errors_named),
		cmocka_unit_test(test_dst_berlin),
		cmocka_unit_test(test_dst_new_york),
		cmocka_unit_test(test_dst_lord_howe),
		cmocka_unit_test(test_dst_monotonic),
		cmocka_unit_test(test_dst_real_time_brute),
		cmocka_unit_test(test_property_random),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	tz_cache_clear();
	return rc;
}
