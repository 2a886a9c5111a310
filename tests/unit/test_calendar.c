/* test_calendar.c — the calendar-window schedule language (calendar.c):
 * parsing and errors, fire times from fixed start points in UTC and in
 * Europe/Berlin across DST changes, vetoes, day-of-month qualifiers, ISO
 * weeks, month modulo, the anacron interval rule, catch-up after downtime,
 * `~` placement, and a minute-by-minute cross-check against an independent
 * matcher built on gmtime_r/timegm. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "core/schedule/internal.h"
#include "core/tz.h"

/* ---- helpers ------------------------------------------------------------- */

static int64_t U(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = mi, .tm_sec = s };

	return (int64_t)timegm(&tm);
}

static const char *fmt(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < 0) {
		snprintf(buf, n, "%lld", (long long)t);
		return buf;
	}
	gmtime_r(&tt, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ %a", &tm);
	return buf;
}

static const struct tz *zone(const char *name)
{
	const struct tz *z = NULL;
	char err[128];

	if (tz_get(name, &z, err, sizeof(err)) != 0)
		fail_msg("tz_get(%s): %s", name, err);
	return z;
}

static struct cal *parse_ok(const char *expr)
{
	struct cal *c = NULL;
	char err[256] = "";

	if (cal_parse(expr, &c, err, sizeof(err)) != 0)
		fail_msg("'%s': %s", expr, err);
	assert_non_null(c);
	return c;
}

/* cal_next(expr, after, last) == want, in zone `zn`. */
static void next_is(const char *zn, const char *expr, int64_t after,
		    int64_t last, int64_t want)
{
	struct cal *c = parse_ok(expr);
	int64_t got = cal_next(c, zone(zn), after, last, 42);
	char a[64], g[64], w[64];

	cal_free(c);
	if (got != want)
		fail_msg("'%s' in %s after %s: got %s, want %s", expr, zn,
			 fmt(after, a, sizeof(a)), fmt(got, g, sizeof(g)),
			 fmt(want, w, sizeof(w)));
}

/* Steady state: starting from a run at `from`, the next n fires (each
 * computed with after = last = the previous fire) are want[0..n). */
static void seq_is(const char *zn, const char *expr, int64_t from,
		   const int64_t *want, int n)
{
	struct cal *c = parse_ok(expr);
	const struct tz *z = zone(zn);
	int64_t t = from;
	char a[64], g[64], w[64];

	for (int i = 0; i < n; i++) {
		int64_t got = cal_next(c, z, t, t, 42);

		if (got != want[i]) {
			cal_free(c);
			fail_msg("'%s' in %s fire %d after %s: got %s, want %s",
				 expr, zn, i, fmt(t, a, sizeof(a)),
				 fmt(got, g, sizeof(g)),
				 fmt(want[i], w, sizeof(w)));
		}
		t = got;
	}
	cal_free(c);
}

#define SEQ(zn, expr, from, ...)                                              \
	do {                                                                  \
		const int64_t w_[] = { __VA_ARGS__ };                         \
		seq_is(zn, expr, from, w_, (int)(sizeof(w_) / sizeof(w_[0]))); \
	} while (0)

static void bad(const char *expr, const char *msg)
{
	struct cal *c = (struct cal *)&c;
	char err[256] = "";
	int rc = cal_parse(expr, &c, err, sizeof(err));

	if (rc != -EINVAL)
		fail_msg("'%s': rc %d, want -EINVAL", expr, rc);
	assert_null(c);
	if (!strstr(err, msg))
		fail_msg("'%s': error '%s' lacks '%s'", expr, err, msg);
}

/* ---- the examples of the grammar (UTC) --------------------------------- */

static void test_once_per_window(void **state)
{
	(void)state;
	/* 2024-01-10 is a Wednesday. */
	next_is("UTC", "00:00-02:00@121", U(2024, 1, 10, 12, 0, 0), 0,
		U(2024, 1, 11, 0, 0, 0));
	SEQ("UTC", "00:00-02:00@121", U(2024, 1, 11, 0, 0, 0),
	    U(2024, 1, 12, 0, 0, 0), U(2024, 1, 13, 0, 0, 0));
	/* Without an interval: once per window occurrence. */
	SEQ("UTC", "00:00-02:00", U(2024, 1, 11, 0, 0, 0),
	    U(2024, 1, 12, 0, 0, 0), U(2024, 1, 13, 0, 0, 0));
	/* A run late in the window (01:59) does not push the next day's. */
	next_is("UTC", "00:00-02:00", U(2024, 1, 11, 1, 59, 0),
		U(2024, 1, 11, 1, 59, 0), U(2024, 1, 12, 0, 0, 0));
	next_is("UTC", "00:00-02:00@121", U(2024, 1, 11, 1, 59, 0),
		U(2024, 1, 11, 1, 59, 0), U(2024, 1, 12, 0, 0, 0));
}

static void test_days_months(void **state)
{
	(void)state;
	/* Fri 2024-02-23 -> Mon 26, Tue 27 ... Thu 29, then Jan 2025. */
	next_is("UTC", "00:00-02:00@121 mon-fri * jan-feb",
		U(2024, 2, 23, 12, 0, 0), 0, U(2024, 2, 26, 0, 0, 0));
	SEQ("UTC", "00:00-02:00@121 mon-fri * jan-feb",
	    U(2024, 2, 28, 0, 0, 0), U(2024, 2, 29, 0, 0, 0),
	    U(2025, 1, 1, 0, 0, 0), U(2025, 1, 2, 0, 0, 0),
	    U(2025, 1, 3, 0, 0, 0), U(2025, 1, 6, 0, 0, 0));
	/* Names long and short, numbers, case. */
	SEQ("UTC", "12:00 Monday,5 * 3", U(2024, 3, 1, 12, 0, 0),
	    U(2024, 3, 4, 12, 0, 0), U(2024, 3, 8, 12, 0, 0));
	SEQ("UTC", "12:00 * * November-February", U(2024, 2, 29, 12, 0, 0),
	    U(2024, 11, 1, 12, 0, 0));
	/* Wrapping day range: sun-tue. */
	SEQ("UTC", "12:00 sun-tue", U(2024, 1, 9, 12, 0, 0),
	    U(2024, 1, 14, 12, 0, 0), U(2024, 1, 15, 12, 0, 0),
	    U(2024, 1, 16, 12, 0, 0), U(2024, 1, 21, 12, 0, 0));
	SEQ("UTC", "12:00 7", U(2024, 1, 9, 12, 0, 0),
	    U(2024, 1, 14, 12, 0, 0), U(2024, 1, 21, 12, 0, 0));
}

static void test_dom_qualifiers(void **state)
{
	(void)state;
	SEQ("UTC", "00:00-02:00@121 *:last", U(2024, 2, 10, 0, 0, 0),
	    U(2024, 2, 29, 0, 0, 0), U(2024, 3, 31, 0, 0, 0),
	    U(2024, 4, 30, 0, 0, 0));
	SEQ("UTC", "00:00-02:00@121 *:-1", U(2023, 2, 10, 0, 0, 0),
	    U(2023, 2, 28, 0, 0, 0));
	/* The weekday AND the day of month: the last day is a Friday. */
	SEQ("UTC", "00:00 fri:last", U(2024, 1, 1, 0, 0, 0),
	    U(2024, 5, 31, 0, 0, 0), U(2025, 1, 31, 0, 0, 0));
	/* The 1st is a Monday. */
	SEQ("UTC", "00:00 mon:first", U(2024, 1, 1, 0, 0, 0),
	    U(2024, 4, 1, 0, 0, 0), U(2024, 7, 1, 0, 0, 0));
	/* The second-last day is a Saturday. */
	SEQ("UTC", "00:00 sat:-2", U(2024, 1, 1, 0, 0, 0),
	    U(2024, 3, 30, 0, 0, 0), U(2024, 6, 29, 0, 0, 0));
	/* Plain numbers and ordinals; a list mixing qualified and plain. */
	SEQ("UTC", "00:00 *:15", U(2024, 1, 1, 0, 0, 0),
	    U(2024, 1, 15, 0, 0, 0), U(2024, 2, 15, 0, 0, 0));
	SEQ("UTC", "00:00 *:2nd,sun", U(2024, 1, 1, 0, 0, 0),
	    U(2024, 1, 2, 0, 0, 0), U(2024, 1, 7, 0, 0, 0),
	    U(2024, 1, 14, 0, 0, 0));
	/* Day 31 only in months that have it. */
	SEQ("UTC", "00:00 *:31", U(2024, 3, 31, 0, 0, 0),
	    U(2024, 5, 31, 0, 0, 0), U(2024, 7, 31, 0, 0, 0));
	/* Odd days (OpenSVC's *:%2+1). */
	SEQ("UTC", "00:00 *:%2+1", U(2024, 1, 31, 0, 0, 0),
	    U(2024, 2, 1, 0, 0, 0), U(2024, 2, 3, 0, 0, 0));
}

static void test_weeks(void **state)
{
	(void)state;
	/* Weeks 1-10 and 40 (ISO): week 1 of 2025 starts Mon 2024-12-30. */
	SEQ("UTC", "12:00 mon 1-10,40", U(2024, 3, 4, 12, 0, 0),
	    U(2024, 9, 30, 12, 0, 0), U(2024, 12, 30, 12, 0, 0),
	    U(2025, 1, 6, 12, 0, 0));
	/* Week 53: 2020 has one (Mon 12-28 .. Sun 2021-01-03), then 2026. */
	SEQ("UTC", "12:00 * 53", U(2020, 12, 1, 0, 0, 0),
	    U(2020, 12, 28, 12, 0, 0), U(2020, 12, 29, 12, 0, 0),
	    U(2020, 12, 30, 12, 0, 0), U(2020, 12, 31, 12, 0, 0),
	    U(2021, 1, 1, 12, 0, 0), U(2021, 1, 2, 12, 0, 0),
	    U(2021, 1, 3, 12, 0, 0), U(2026, 12, 28, 12, 0, 0));
	/* Wrapping week range 52-2 and week modulo (even weeks). */
	SEQ("UTC", "12:00 mon 52-2", U(2024, 6, 1, 0, 0, 0),
	    U(2024, 12, 23, 12, 0, 0), U(2024, 12, 30, 12, 0, 0),
	    U(2025, 1, 6, 12, 0, 0), U(2025, 12, 22, 12, 0, 0));
	SEQ("UTC", "12:00 mon *%2", U(2024, 1, 1, 12, 0, 0),
	    U(2024, 1, 8, 12, 0, 0), U(2024, 1, 22, 12, 0, 0));
}

static void test_month_modulo(void **state)
{
	(void)state;
	/* (month + shift) % mod == 0: *%2 even months, *%3+1 = 2,5,8,11. */
	SEQ("UTC", "12:00 *:1 * *%2", U(2024, 1, 1, 0, 0, 0),
	    U(2024, 2, 1, 12, 0, 0), U(2024, 4, 1, 12, 0, 0),
	    U(2024, 6, 1, 12, 0, 0));
	SEQ("UTC", "12:00 *:1 * *%3+1", U(2024, 1, 1, 0, 0, 0),
	    U(2024, 2, 1, 12, 0, 0), U(2024, 5, 1, 12, 0, 0),
	    U(2024, 8, 1, 12, 0, 0), U(2024, 11, 1, 12, 0, 0),
	    U(2025, 2, 1, 12, 0, 0));
	SEQ("UTC", "12:00 *:1 * %2+1,dec", U(2024, 1, 1, 12, 0, 0),
	    U(2024, 3, 1, 12, 0, 0), U(2024, 5, 1, 12, 0, 0));
	SEQ("UTC", "12:00 *:1 * %2+1,dec", U(2024, 11, 1, 12, 0, 0),
	    U(2024, 12, 1, 12, 0, 0), U(2025, 1, 1, 12, 0, 0));
}

static void test_lists_and_vetoes(void **state)
{
	(void)state;
	/* Mon 2024-01-08 .. Mon 01-15. */
	SEQ("UTC", "[\"00:00-01:00@61 mon\",\"02:00-03:00@61 tue-sun\"]",
	    U(2024, 1, 7, 2, 0, 0), U(2024, 1, 8, 0, 0, 0),
	    U(2024, 1, 9, 2, 0, 0), U(2024, 1, 10, 2, 0, 0));
	SEQ("UTC", "[\"00:00-01:00@61 mon\",\"02:00-03:00@61 tue-sun\"]",
	    U(2024, 1, 14, 2, 0, 0), U(2024, 1, 15, 0, 0, 0));
	/* Even months (feb), every day once, never before 11:00. */
	next_is("UTC", "[\"* * * jan-feb%2\", \"! 00:00-11:00\"]",
		U(2024, 1, 15, 0, 0, 0), 0, U(2024, 2, 1, 11, 0, 0));
	SEQ("UTC", "[\"* * * jan-feb%2\", \"! 00:00-11:00\"]",
	    U(2024, 2, 1, 11, 0, 0), U(2024, 2, 2, 11, 0, 0));
	SEQ("UTC", "[\"* * * jan-feb%2\", \"! 00:00-11:00\"]",
	    U(2024, 2, 29, 11, 0, 0), U(2025, 2, 1, 11, 0, 0));
	/* Inside the veto, a catch-up waits for its end. */
	next_is("UTC", " [ \"*@60\" , \"!10:00-12:00\" ] ",
		U(2024, 1, 1, 10, 30, 0), 0, U(2024, 1, 1, 12, 0, 0));
	/* Veto by day: no Wednesdays (2024-01-03). */
	SEQ("UTC", "[\"*@720\", \"! * wed\"]", U(2024, 1, 2, 12, 0, 0),
	    U(2024, 1, 4, 0, 0, 0), U(2024, 1, 4, 12, 0, 0));
	/* A veto crossing midnight, belonging to the day it starts on. */
	SEQ("UTC", "[\"*@60\", \"! 23:00-01:00 fri\"]",
	    U(2024, 1, 5, 22, 0, 0), U(2024, 1, 6, 1, 0, 0),
	    U(2024, 1, 6, 2, 0, 0));
	/* A JSON escape (\t separates fields); only vetoes never fire. */
	SEQ("UTC", "[\"12:00\\tmon\"]", U(2024, 1, 1, 12, 0, 0),
	    U(2024, 1, 8, 12, 0, 0));
	next_is("UTC", "[\"! *\"]", U(2024, 1, 1, 0, 0, 0), 0, -1);
	next_is("UTC", "[]", U(2024, 1, 1, 0, 0, 0), 0, -1);
}

static void test_times_and_intervals(void **state)
{
	(void)state;
	/* @10: every 10 minutes all day. */
	SEQ("UTC", "@10", U(2024, 1, 1, 23, 40, 0), U(2024, 1, 1, 23, 50, 0),
	    U(2024, 1, 2, 0, 0, 0), U(2024, 1, 2, 0, 10, 0));
	/* 09:00: once at 09:00; a missed 09:00 is not caught up. */
	next_is("UTC", "09:00", U(2024, 1, 1, 8, 0, 0), 0,
		U(2024, 1, 1, 9, 0, 0));
	SEQ("UTC", "09:00", U(2024, 1, 1, 9, 0, 0), U(2024, 1, 2, 9, 0, 0));
	next_is("UTC", "09:00", U(2024, 1, 1, 9, 30, 0), 0,
		U(2024, 1, 2, 9, 0, 0));
	/* A single time is a one-second window. */
	next_is("UTC", "09:00", U(2024, 1, 1, 9, 0, 0), 0,
		U(2024, 1, 2, 9, 0, 0));
	SEQ("UTC", "09:00:30,18:00", U(2024, 1, 1, 9, 0, 0),
	    U(2024, 1, 1, 9, 0, 30), U(2024, 1, 1, 18, 0, 0),
	    U(2024, 1, 2, 9, 0, 30));
	/* *@30 */
	SEQ("UTC", "*@30", U(2024, 1, 1, 23, 0, 0), U(2024, 1, 1, 23, 30, 0),
	    U(2024, 1, 2, 0, 0, 0), U(2024, 1, 2, 0, 30, 0));
	/* Units: 10s, 20m, 1h, 1h30m, and `*` with no interval = 24h. */
	SEQ("UTC", "10:00-10:01@10s", U(2024, 1, 1, 10, 0, 0),
	    U(2024, 1, 1, 10, 0, 10), U(2024, 1, 1, 10, 0, 20));
	SEQ("UTC", "10:00-11:00@20m", U(2024, 1, 1, 10, 0, 0),
	    U(2024, 1, 1, 10, 20, 0), U(2024, 1, 1, 10, 40, 0),
	    U(2024, 1, 2, 10, 0, 0));
	SEQ("UTC", "00:00-05:00@1h30m", U(2024, 1, 1, 0, 0, 0),
	    U(2024, 1, 1, 1, 30, 0), U(2024, 1, 1, 3, 0, 0),
	    U(2024, 1, 1, 4, 30, 0), U(2024, 1, 2, 0, 0, 0));
	SEQ("UTC", "*", U(2024, 1, 1, 15, 0, 0), U(2024, 1, 2, 15, 0, 0));
	SEQ("UTC", "00:00-24:00@6h", U(2024, 1, 1, 18, 0, 0),
	    U(2024, 1, 2, 0, 0, 0));
	/* Window end is exclusive: 10:00-11:00@30 fires 10:00 and 10:30. */
	SEQ("UTC", "10:00-11:00@30", U(2024, 1, 1, 10, 0, 0),
	    U(2024, 1, 1, 10, 30, 0), U(2024, 1, 2, 10, 0, 0));
}

static void test_midnight_crossing(void **state)
{
	(void)state;
	SEQ("UTC", "22:00-02:00@60", U(2024, 1, 1, 21, 0, 0),
	    U(2024, 1, 1, 22, 0, 0), U(2024, 1, 1, 23, 0, 0),
	    U(2024, 1, 2, 0, 0, 0), U(2024, 1, 2, 1, 0, 0),
	    U(2024, 1, 2, 22, 0, 0));
	/* The window belongs to Monday (2024-01-01), running into Tuesday. */
	SEQ("UTC", "22:00-02:00@60 mon", U(2024, 1, 1, 23, 0, 0),
	    U(2024, 1, 2, 0, 0, 0), U(2024, 1, 2, 1, 0, 0),
	    U(2024, 1, 8, 22, 0, 0));
	/* Started on Tuesday 00:30 with no run yet: Monday's window is open. */
	next_is("UTC", "22:00-02:00@60 mon", U(2024, 1, 2, 0, 30, 0), 0,
		U(2024, 1, 2, 0, 30, 1));
	/* Once per window crossing midnight. */
	SEQ("UTC", "23:00-01:00 mon-fri", U(2024, 1, 5, 23, 0, 0),
	    U(2024, 1, 8, 23, 0, 0));
}

static void test_interval_rule_and_catchup(void **state)
{
	(void)state;
	/* After a (late) run at 00:10 with @60 windows: 01:10, 02:10 ... */
	next_is("UTC", "00:00-06:00@60", U(2024, 1, 1, 0, 10, 0),
		U(2024, 1, 1, 0, 10, 0), U(2024, 1, 1, 1, 10, 0));
	/* last + interval past the window end: the next window's start. */
	next_is("UTC", "00:00-06:00@60", U(2024, 1, 1, 5, 30, 0),
		U(2024, 1, 1, 5, 30, 0), U(2024, 1, 2, 0, 0, 0));
	/* The interval spans windows: last 23:30 with @120 -> 01:30. */
	next_is("UTC", "*@120", U(2024, 1, 1, 23, 30, 0),
		U(2024, 1, 1, 23, 30, 0), U(2024, 1, 2, 1, 30, 0));
	/* Missed while down: last long ago, now inside a window: at once. */
	next_is("UTC", "00:00-06:00@60", U(2024, 1, 10, 3, 30, 0),
		U(2024, 1, 1, 0, 0, 0), U(2024, 1, 10, 3, 30, 1));
	next_is("UTC", "00:00-02:00@121", U(2024, 1, 10, 1, 0, 0),
		U(2024, 1, 1, 0, 0, 0), U(2024, 1, 10, 1, 0, 1));
	next_is("UTC", "00:00-02:00", U(2024, 1, 10, 1, 0, 0),
		U(2024, 1, 1, 0, 0, 0), U(2024, 1, 10, 1, 0, 1));
	/* ... and only once: after that run, the next window. */
	next_is("UTC", "00:00-02:00", U(2024, 1, 10, 1, 0, 1),
		U(2024, 1, 10, 1, 0, 1), U(2024, 1, 11, 0, 0, 0));
	/* Missed while down, now outside any window: next window start. */
	next_is("UTC", "00:00-06:00@60", U(2024, 1, 10, 7, 0, 0),
		U(2024, 1, 1, 0, 0, 0), U(2024, 1, 11, 0, 0, 0));
	next_is("UTC", "00:00-02:00@121 mon-fri", U(2024, 1, 13, 7, 0, 0),
		U(2024, 1, 1, 0, 0, 0), U(2024, 1, 15, 0, 0, 0));
	/* Never ran: inside a window at once. */
	next_is("UTC", "00:00-06:00@60", U(2024, 1, 10, 3, 30, 0), 0,
		U(2024, 1, 10, 3, 30, 1));
	/* Strictly after `after`. */
	next_is("UTC", "00:00-06:00@60", U(2024, 1, 10, 0, 0, 0) - 1, 0,
		U(2024, 1, 10, 0, 0, 0));
	/* Impossible dates: none within ten years. */
	next_is("UTC", "00:00 *:30 * feb", U(2024, 1, 1, 0, 0, 0), 0, -1);
	next_is("UTC", "00:00 mon 1 feb", U(2024, 1, 1, 0, 0, 0), 0, -1);
}

static void test_random_windows(void **state)
{
	struct cal *c = parse_ok("~00:00-06:00@361");
	struct cal *ci = parse_ok("~00:00-06:00@60");
	const struct tz *z = zone("UTC");
	int distinct = 0;
	int64_t first = -1;

	(void)state;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		int64_t day = U(2024, 1, 10, 0, 0, 0);
		int64_t t = cal_next(c, z, day - 3600, 0, seed);

		/* Inside the window, stable for the same seed and window. */
		assert_true(t >= day && t < day + 6 * 3600);
		assert_int_equal(t, cal_next(c, z, day - 3600, 0, seed));
		assert_int_equal(t, cal_next(c, z, day - 60, day - 86400, seed));
		if (first < 0)
			first = t;
		distinct += t != first;
		/* Once per window: after the run, the next day's window. */
		int64_t t2 = cal_next(c, z, t, t, seed);
		assert_true(t2 >= day + 86400 && t2 < day + 86400 + 6 * 3600);
		/* With @60: the offset falls in the first hour, then +60m. */
		int64_t r = cal_next(ci, z, day - 3600, 0, seed);
		assert_true(r >= day && r < day + 3600);
		assert_int_equal(cal_next(ci, z, r, r, seed), r + 3600);
		/* Catch-up past the random point: at once. */
		int64_t late = day + 6 * 3600 - 10;
		if (t < late)
			assert_int_equal(cal_next(c, z, late, day - 86400, seed),
					 late + 1);
	}
	/* Twenty seeds do not all land on the same second. */
	assert_true(distinct > 0);
	cal_free(c);
	cal_free(ci);
}

/* ---- Europe/Berlin across DST changes ---------------------------------- */

static void test_berlin_dst(void **state)
{
	(void)state;
	/* 2024-03-31 02:00 CET -> 03:00 CEST (01:00Z); 02:30 is skipped and
	 * the fire is at the jump. */
	SEQ("Europe/Berlin", "02:30", U(2024, 3, 29, 1, 30, 0),
	    U(2024, 3, 30, 1, 30, 0), U(2024, 3, 31, 1, 0, 0),
	    U(2024, 4, 1, 0, 30, 0));
	/* 2024-10-27 03:00 CEST -> 02:00 CET (01:00Z): 02:30 happens twice,
	 * the job fires once, on the first pass. */
	SEQ("Europe/Berlin", "02:30", U(2024, 10, 26, 0, 30, 0),
	    U(2024, 10, 27, 0, 30, 0), U(2024, 10, 28, 1, 30, 0));
	/* A window across the jump is shorter in real time: 01:00-04:00
	 * local is 00:00Z-02:00Z on 03-31. */
	SEQ("Europe/Berlin", "01:00-04:00@60", U(2024, 3, 30, 23, 0, 0),
	    U(2024, 3, 31, 0, 0, 0), U(2024, 3, 31, 1, 0, 0),
	    U(2024, 3, 31, 23, 0, 0));
	/* ... and longer on 10-27: 01:00 CEST = 23:00Z .. 04:00 CET = 03:00Z. */
	SEQ("Europe/Berlin", "01:00-04:00@60", U(2024, 10, 26, 22, 0, 0),
	    U(2024, 10, 26, 23, 0, 0), U(2024, 10, 27, 0, 0, 0),
	    U(2024, 10, 27, 1, 0, 0), U(2024, 10, 27, 2, 0, 0),
	    U(2024, 10, 28, 0, 0, 0));
	/* Wildcard hours follow real time. */
	SEQ("Europe/Berlin", "*@60", U(2024, 3, 31, 0, 0, 0),
	    U(2024, 3, 31, 1, 0, 0), U(2024, 3, 31, 2, 0, 0));
	/* Local days: midnight Berlin is 23:00Z (winter) / 22:00Z (summer);
	 * the last day of March 2024 is a Sunday. */
	SEQ("Europe/Berlin", "00:00 *:last", U(2024, 3, 1, 0, 0, 0),
	    U(2024, 3, 30, 23, 0, 0), U(2024, 4, 29, 22, 0, 0));
	SEQ("Europe/Berlin", "00:00 sun", U(2024, 3, 24, 0, 0, 0),
	    U(2024, 3, 30, 23, 0, 0), U(2024, 4, 6, 22, 0, 0));
	/* Every window start at the local 09:00 across the change. */
	SEQ("Europe/Berlin", "09:00-10:00", U(2024, 3, 30, 9, 0, 0),
	    U(2024, 3, 31, 7, 0, 0), U(2024, 4, 1, 7, 0, 0));
}

/* ---- errors ------------------------------------------------------------- */

static void test_errors(void **state)
{
	(void)state;
	bad("25:00", "calendar: invalid time range '25:00'");
	bad("10:60", "invalid time range '10:60'");
	bad("10:00-24:01", "invalid time range '10:00-24:01'");
	bad("24:00", "invalid time range '24:00'");
	bad("9h", "invalid time range '9h'");
	bad("10:00,", "invalid time range");
	bad("* funday", "calendar: invalid day 'funday'");
	bad("* mon-funday", "calendar: invalid day 'funday'");
	bad("* 8", "invalid day '8'");
	bad("* 0", "invalid day '0'");
	bad("* fri:zz", "invalid day of month 'zz'");
	bad("* fri:0", "invalid day of month '0'");
	bad("* fri:32", "invalid day of month '32'");
	bad("* fri:-32", "invalid day of month '-32'");
	bad("*@0", "calendar: invalid interval '0'");
	bad("*@", "invalid interval ''");
	bad("*@10x", "invalid interval '10x'");
	bad("*@-5", "invalid interval '-5'");
	bad("*@1@2", "invalid interval '1@2'");
	bad("* * * jab", "calendar: invalid month 'jab'");
	bad("* * * 13", "invalid month '13'");
	bad("* * * *%0", "invalid month '*%0'");
	bad("* * 54", "calendar: invalid week '54'");
	bad("* * 0-3", "invalid week '0'");
	bad("* * 1-54", "invalid week '54'");
	bad("* * * * *", "calendar: too many fields");
	bad("", "calendar: empty expression");
	bad("!", "calendar: empty expression");
	bad("[\"*\"", "calendar: invalid JSON list:");
	bad("[\"*\" \"* mon\"]", "invalid JSON list: expected ',' or ']'");
	bad("[\"*\",]", "invalid JSON list: expected a string");
	bad("[1]", "invalid JSON list: expected a string");
	bad("[\"*]", "invalid JSON list: unterminated string");
	bad("[\"*\"] x", "invalid JSON list: trailing characters");
	bad("[\"\\x\"]", "invalid JSON list: unsupported escape");
	bad("[\"*\", \"* funday\"]", "invalid day 'funday' (list item 2)");
	/* NULL error buffer is fine. */
	struct cal *c = NULL;
	assert_int_equal(cal_parse("25:00", &c, NULL, 0), -EINVAL);
	/* Escaped quotes are decoded (and then are no valid day). */
	bad("[\"* \\\"mon\\\"\"]", "invalid day '\"mon\"'");
}

static void test_parse_forms(void **state)
{
	(void)state;
	const char *ok[] = {
		"*", "@10", "*@30", "~*", "09:00", "09:00:15", "9:00",
		"00:00-02:00@121 mon-fri * jan-feb", "00:00-02:00@121 *:last",
		"! 00:00-11:00", "!00:00-11:00 sat,sun", "~00:00-06:00@361",
		"22:00-02:00@60", "00:00-24:00@1h", "10:00-10:00", "@*",
		"* mon:1st,tue:2nd,wed:3rd,thu:4th,fri:5th,sat:+3",
		"* * 1-10,40 jan-mar,jul%2", "\t* \t mon  ", "[\"*\"]",
		"[\"00:00-01:00@61 mon\",\"02:00-03:00@61 tue-sun\"]",
		"* * * *%3+1", "* * *%2+1",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		cal_free(parse_ok(ok[i]));
	cal_free(NULL);
	assert_int_equal(cal_next(NULL, zone("UTC"), 0, 0, 0), -1);
}

/* ---- brute-force cross-check ------------------------------------------- */

/* A random simple expression, kept structured so that the matcher below
 * needs no parser. */
struct rx {
	int veto;
	int whole;      /* `*` */
	int begin, end; /* minutes; end == begin + 0: a single time */
	int single;
	int iv;          /* minutes, 0 = once per window */
	int dlo, dhi;    /* 0 = every day */
	int dom;         /* 0 = none */
	int wlo, whi;    /* 0 = every week */
	int mlo, mhi;    /* 0 = every month */
	int mmod, mshift;
};

static uint64_t rng_state = 0x12345678;

static int rnd(int n)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (int)((rng_state >> 33) % (uint64_t)n);
}

static void rx_random(struct rx *x, int veto)
{
	static const int doms[] = { 1, -1, -2, 2, 15, 31, -7 };

	memset(x, 0, sizeof(*x));
	x->veto = veto;
	x->whole = rnd(6) == 0;
	if (!x->whole) {
		x->begin = rnd(24 * 60);
		x->single = rnd(5) == 0;
		x->end = x->single ? x->begin : rnd(24 * 60);
		if (x->end == x->begin)
			x->single = 1;
	}
	if (!veto && rnd(3) != 0)
		x->iv = rnd(4) == 0 ? 1 + rnd(30) : 1 + rnd(600);
	if (rnd(2)) {
		x->dlo = 1 + rnd(7);
		x->dhi = rnd(2) ? x->dlo : 1 + rnd(7);
		if (rnd(3) == 0)
			x->dom = doms[rnd(7)];
	}
	if (rnd(4) == 0) {
		x->wlo = 1 + rnd(53);
		x->whi = 1 + rnd(53);
	}
	if (rnd(3) == 0) {
		x->mlo = 1 + rnd(12);
		x->mhi = rnd(2) ? x->mlo : 1 + rnd(12);
	}
	if (rnd(4) == 0) {
		x->mmod = 2 + rnd(2);
		x->mshift = rnd(3);
	}
}

static void rx_format(const struct rx *x, char *buf, size_t n)
{
	char tr[64], days[32] = "*", weeks[32] = "*", months[48] = "*";

	if (x->whole)
		snprintf(tr, sizeof(tr), "*");
	else if (x->single)
		snprintf(tr, sizeof(tr), "%02d:%02d", x->begin / 60,
			 x->begin % 60);
	else
		snprintf(tr, sizeof(tr), "%02d:%02d-%02d:%02d", x->begin / 60,
			 x->begin % 60, x->end / 60, x->end % 60);
	if (x->iv)
		snprintf(tr + strlen(tr), sizeof(tr) - strlen(tr), "@%d", x->iv);
	if (x->dlo) {
		snprintf(days, sizeof(days), "%d-%d", x->dlo, x->dhi);
		if (x->dom)
			snprintf(days + strlen(days), sizeof(days) - strlen(days),
				 ":%d", x->dom);
	}
	if (x->wlo)
		snprintf(weeks, sizeof(weeks), "%d-%d", x->wlo, x->whi);
	if (x->mlo)
		snprintf(months, sizeof(months), "%d-%d", x->mlo, x->mhi);
	if (x->mmod)
		snprintf(months + strlen(months), sizeof(months) - strlen(months),
			 "%%%d+%d", x->mmod, x->mshift);
	snprintf(buf, n, "%s%s %s %s %s", x->veto ? "! " : "", tr, days, weeks,
		 months);
}

static int in_wrap(int v, int lo, int hi)
{
	return lo <= hi ? (v >= lo && v <= hi) : (v >= lo || v <= hi);
}

/* Whether the UTC day starting at `d0` passes x's day filters, from libc. */
static int rx_date_ok(const struct rx *x, int64_t d0)
{
	time_t t = (time_t)d0;
	struct tm tm, nx;
	char wk[8];
	int dow, mdays;

	gmtime_r(&t, &tm);
	dow = tm.tm_wday == 0 ? 7 : tm.tm_wday;
	nx = tm;
	nx.tm_mon += 1;
	nx.tm_mday = 0; /* the last day of tm's month */
	time_t last = timegm(&nx);
	gmtime_r(&last, &nx);
	mdays = nx.tm_mday;
	strftime(wk, sizeof(wk), "%V", &tm);
	if (x->dlo && !in_wrap(dow, x->dlo, x->dhi))
		return 0;
	if (x->dom > 0 && tm.tm_mday != x->dom)
		return 0;
	if (x->dom < 0 && tm.tm_mday != mdays + 1 + x->dom)
		return 0;
	if (x->wlo && !in_wrap(atoi(wk), x->wlo, x->whi))
		return 0;
	if (x->mlo && !in_wrap(tm.tm_mon + 1, x->mlo, x->mhi))
		return 0;
	if (x->mmod && (tm.tm_mon + 1 + x->mshift) % x->mmod != 0)
		return 0;
	return 1;
}

/* The start of x's occurrence containing m, or -1. */
static int64_t rx_window(const struct rx *x, int64_t m)
{
	int64_t today = m - (m % 86400 + 86400) % 86400;

	for (int64_t d0 = today - 86400; d0 <= today; d0 += 86400) {
		int64_t s, e;

		if (!rx_date_ok(x, d0))
			continue;
		s = d0 + (x->whole ? 0 : x->begin * 60);
		if (x->whole)
			e = d0 + 86400;
		else if (x->single)
			e = s + 1;
		else
			e = d0 + x->end * 60 + (x->end < x->begin ? 86400 : 0);
		if (s <= m && m < e)
			return s;
	}
	return -1;
}

static int rx_fires(const struct rx *xs, int n, int64_t m, int64_t last)
{
	for (int i = 0; i < n; i++)
		if (xs[i].veto && rx_window(&xs[i], m) >= 0)
			return 0;
	for (int i = 0; i < n; i++) {
		const struct rx *x = &xs[i];
		int64_t s, iv;

		if (x->veto || (s = rx_window(x, m)) < 0)
			continue;
		iv = x->iv ? x->iv * 60 : x->whole ? 86400 : 0;
		if (iv ? m >= last + iv : last < s)
			return 1;
	}
	return 0;
}

#define BF_DAYS 30

static void cross_check(const struct rx *xs, int n, const char *expr,
			int64_t t0)
{
	struct cal *c = parse_ok(expr);
	const struct tz *z = zone("UTC");
	int64_t end = t0 + BF_DAYS * 86400LL, last = t0, t = t0;
	char a[64], b[64];

	/* Expected: minute by minute from the independent matcher; every
	 * boundary is on a whole minute, so minutes are exact. */
	for (int64_t m = t0 + 60; m < end; m += 60) {
		if (!rx_fires(xs, n, m, last))
			continue;
		t = cal_next(c, z, last, last, 7);
		if (t != m) {
			cal_free(c);
			fail_msg("'%s' from %s: got %s, want %s", expr,
				 fmt(last, a, sizeof(a)), fmt(t, b, sizeof(b)),
				 fmt(m, a, sizeof(a)));
		}
		last = m;
	}
	t = cal_next(c, z, last, last, 7);
	cal_free(c);
	if (t >= 0 && t < end)
		fail_msg("'%s': extra fire at %s after %s", expr,
			 fmt(t, a, sizeof(a)), fmt(last, b, sizeof(b)));
}

static void test_brute_force(void **state)
{
	(void)state;
	for (int round = 0; round < 48; round++) {
		struct rx xs[3];
		char parts[3][128], expr[512];
		int n = 1 + rnd(2);
		int64_t t0 = U(2024, 1, 1, 0, 0, 0) + rnd(800) * 86400LL +
			     rnd(1440) * 60LL;

		for (int i = 0; i < n; i++)
			rx_random(&xs[i], 0);
		if (rnd(3) == 0)
			rx_random(&xs[n++], 1);
		for (int i = 0; i < n; i++)
			rx_format(&xs[i], parts[i], sizeof(parts[i]));
		if (n == 1) {
			snprintf(expr, sizeof(expr), "%s", parts[0]);
		} else {
			snprintf(expr, sizeof(expr), "[\"%s\"", parts[0]);
			for (int i = 1; i < n; i++)
				snprintf(expr + strlen(expr),
					 sizeof(expr) - strlen(expr), ",\"%s\"",
					 parts[i]);
			strcat(expr, "]");
		}
		cross_check(xs, n, expr, t0);
	}
}

/* ---- speed -------------------------------------------------------------- */

static void test_speed(void **state)
{
	struct cal *c = parse_ok("00:00-02:00@121 mon-fri * jan-feb");
	const struct tz *z = zone("Europe/Berlin");
	struct timespec a, b;
	int64_t t = U(2024, 1, 1, 0, 0, 0), sum = 0;
	const int n = 20000;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < n; i++) {
		int64_t r = cal_next(c, z, t + i * 3600LL, 0, 1);
		assert_true(r > 0);
		sum += r;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double us = ((double)(b.tv_sec - a.tv_sec) * 1e6 +
		     (double)(b.tv_nsec - a.tv_nsec) / 1e3) / n;
	print_message("cal_next: %.2f us per call (%lld)\n", us,
		      (long long)(sum & 1));
	/* Generous: sanitizer builds are slow. */
	assert_true(us < 200.0);
	cal_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_once_per_window),
		cmocka_unit_test(test_days_months),
		cmocka_unit_test(test_dom_qualifiers),
		cmocka_unit_test(test_weeks),
		cmocka_unit_test(test_month_modulo),
		cmocka_unit_test(test_lists_and_vetoes),
		cmocka_unit_test(test_times_and_intervals),
		cmocka_unit_test(test_midnight_crossing),
		cmocka_unit_test(test_interval_rule_and_catchup),
		cmocka_unit_test(test_random_windows),
		cmocka_unit_test(test_berlin_dst),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_parse_forms),
		cmocka_unit_test(test_brute_force),
		cmocka_unit_test(test_speed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
