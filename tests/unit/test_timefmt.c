/* test_timefmt.c — durations, RFC 3339 / relative times, the clocks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "core/timefmt.h"

#define S 1000000LL
#define T0 (1795428000LL * S)   /* 2026-11-23T10:00:00Z */

static void test_clocks(void **state)
{
	int64_t a = mono_us(), b = mono_us();
	time_t t = time(NULL);
	int64_t now = now_us();

	(void)state;
	assert_true(b >= a);
	/* Within two seconds of time(2). */
	assert_true(now / S >= (int64_t)t - 1 && now / S <= (int64_t)t + 2);
}

static void dur_ok(const char *s, int64_t want)
{
	int64_t us = -7;
	char err[128] = "";

	if (dur_parse(s, &us, err, sizeof(err)) != 0)
		fail_msg("'%s': %s", s, err);
	if (us != want)
		fail_msg("'%s' = %lld, want %lld", s, (long long)us, (long long)want);
}

static void dur_bad(const char *s, const char *msg)
{
	int64_t us = -7;
	char err[160] = "";

	assert_int_equal(dur_parse(s, &us, err, sizeof(err)), -EINVAL);
	assert_int_equal(us, -7);
	if (!strstr(err, msg))
		fail_msg("'%s': error '%s' lacks '%s'", s, err, msg);
}

static void test_dur_parse(void **state)
{
	(void)state;
	dur_ok("90s", 90 * S);
	dur_ok("15m", 900 * S);
	dur_ok("1h30m", 5400 * S);
	dur_ok("2d", 2 * 86400 * S);
	dur_ok("1w", 7 * 86400 * S);
	dur_ok("500ms", 500000);
	dur_ok("250us", 250);
	dur_ok("1h1m1s1ms1us", 3661 * S + 1001);
	dur_ok("90", 90 * S);
	dur_ok("0", 0);
	dur_ok("0s", 0);
	dur_ok("007m", 7 * 60 * S);
	dur_ok("1m1m", 120 * S);

	dur_bad("5x", "invalid duration '5x': unknown unit 'x'");
	dur_bad("1hour", "unknown unit 'hour'");
	dur_bad("", "empty");
	dur_bad("-5s", "negative");
	dur_bad("-5", "negative");
	dur_bad("1h30", "missing unit after '30'");
	dur_bad("h", "expected a number at 'h'");
	dur_bad("1h 30m", "expected a number at ' 30m'");
	dur_bad("1.5s", "unexpected '.'");
	dur_bad("99999999999999999999s", "too large");
	dur_bad("9223372036854775807", "too large");
	dur_bad("20000000w", "too large");
	dur_bad("9223372036854s9223372036854s", "too large");
}

static void fmt_is(int64_t us, const char *want)
{
	char out[64];

	dur_format(out, sizeof(out), us);
	assert_string_equal(out, want);
}

static void test_dur_format(void **state)
{
	static const int64_t samples[] = { 0, 1, 999, 1000, 1500000, 59 * S,
		5400 * S, 86400 * S + 1, 7 * 86400 * S, 123456789012345LL };

	(void)state;
	fmt_is(0, "0s");
	fmt_is(5400 * S, "1h30m");
	fmt_is(45 * S, "45s");
	fmt_is(250000, "250ms");
	fmt_is(250, "250us");
	fmt_is(1500000, "1s500ms");
	fmt_is(2 * 86400 * S, "2d");
	fmt_is(9 * 86400 * S + 3600 * S, "9d1h");
	fmt_is(-90 * S, "-1m30s");
	fmt_is(INT64_MIN, "-106751991d4h54s775ms808us");
	/* Truncated, still NUL-terminated. */
	{
		char small[4];
		dur_format(small, sizeof(small), 5400 * S + 1);
		assert_string_equal(small, "1h3");
	}
	/* dur_parse reads back what dur_format writes. */
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		char out[64];
		int64_t back;
		dur_format(out, sizeof(out), samples[i]);
		assert_int_equal(dur_parse(out, &back, NULL, 0), 0);
		assert_int_equal(back, samples[i]);
	}
}

static void time_ok(const char *s, int64_t want)
{
	int64_t us = -7;
	char err[160] = "";

	if (time_parse(s, T0, &us, err, sizeof(err)) != 0)
		fail_msg("'%s': %s", s, err);
	if (us != want)
		fail_msg("'%s' = %lld, want %lld", s, (long long)us, (long long)want);
}

static void time_bad(const char *s, const char *msg)
{
	int64_t us = -7;
	char err[200] = "";

	assert_int_equal(time_parse(s, T0, &us, err, sizeof(err)), -EINVAL);
	assert_int_equal(us, -7);
	if (!strstr(err, msg))
		fail_msg("'%s': error '%s' lacks '%s'", s, err, msg);
}

static void test_time_parse(void **state)
{
	(void)state;
	time_ok("2026-11-23T10:00:00Z", T0);
	time_ok("2026-11-23t10:00:00z", T0);
	time_ok("2026-11-23T11:00:00+01:00", T0);
	time_ok("2026-11-23T04:30:00-05:30", T0);
	time_ok("2026-11-23T10:00:00.5Z", T0 + 500000);
	time_ok("2026-11-23T10:00:00.123456Z", T0 + 123456);
	time_ok("2026-11-23T10:00:00.1234569Z", T0 + 123456);   /* truncated */
	time_ok("2026-11-23 10:00:00", T0);                      /* UTC */
	time_ok("2026-11-23 12:00:00+02:00", T0);
	time_ok("2024-02-29T00:00:00Z", 1709164800LL * S);
	time_ok("1970-01-01T00:00:00Z", 0);
	time_ok("now", T0);
	time_ok("now+15m", T0 + 900 * S);
	time_ok("now-1h30m", T0 - 5400 * S);
	time_ok("@1795428000", T0);
	time_ok("@0", 0);
	time_ok("@1795428000.25", T0 + 250000);

	time_bad("", "empty");
	time_bad("tomorrow", "invalid time 'tomorrow'");
	time_bad("2026-11-23T10:00:00", "'2026-11-23T10:00:00': expected a zone");
	time_bad("2026-11-23", "expected 'THH:MM:SS'");
	time_bad("2026-13-01T00:00:00Z", "no such date");
	time_bad("2023-02-29T00:00:00Z", "no such date");
	time_bad("2026-11-31T00:00:00Z", "no such date");
	time_bad("2026-11-23T24:00:00Z", "no such time");
	time_bad("2026-11-23T10:60:00Z", "no such time");
	time_bad("2026-11-23T10:00:00+1:00", "expected a zone");
	time_bad("2026-11-23T10:00:00Zjunk", "unexpected 'junk'");
	time_bad("2026-11-23T10:00:00.Z", "decimal point");
	time_bad("now+", "invalid time 'now+': invalid duration '': empty");
	time_bad("now+5x", "unknown unit 'x'");
	time_bad("now+-5s", "negative");
	time_bad("@", "unix seconds");
	time_bad("@12ab", "'@12ab'");
	time_bad("@-5", "unix seconds");
}

static void test_time_format(void **state)
{
	char out[64];

	(void)state;
	time_format_utc(out, sizeof(out), T0 + 123456);
	assert_string_equal(out, "2026-11-23T10:00:00.123456Z");
	time_format_utc(out, sizeof(out), 0);
	assert_string_equal(out, "1970-01-01T00:00:00.000000Z");
	time_format_utc(out, sizeof(out), -1);
	assert_string_equal(out, "1969-12-31T23:59:59.999999Z");

	time_format_offset(out, sizeof(out), T0, 3600);
	assert_string_equal(out, "2026-11-23T11:00:00+01:00");
	time_format_offset(out, sizeof(out), T0 + 999999, 0);
	assert_string_equal(out, "2026-11-23T10:00:00+00:00");
	time_format_offset(out, sizeof(out), T0, -(5 * 3600 + 30 * 60));
	assert_string_equal(out, "2026-11-23T04:30:00-05:30");
	time_format_offset(out, sizeof(out), T0, 14 * 3600);
	assert_string_equal(out, "2026-11-24T00:00:00+14:00");

	/* What we print, we parse back. */
	{
		int64_t us;
		time_format_utc(out, sizeof(out), T0 + 42);
		assert_int_equal(time_parse(out, 0, &us, NULL, 0), 0);
		assert_int_equal(us, T0 + 42);
		time_format_offset(out, sizeof(out), T0, -7200);
		assert_int_equal(time_parse(out, 0, &us, NULL, 0), 0);
		assert_int_equal(us, T0);
	}
}

static void rel_is(int64_t delta, const char *want)
{
	char out[32];

	time_format_relative(out, sizeof(out), T0 + delta, T0);
	assert_string_equal(out, want);
}

static void test_time_relative(void **state)
{
	(void)state;
	rel_is(0, "just now");
	rel_is(-999999, "just now");
	rel_is(999999, "just now");
	rel_is(-S, "1s ago");
	rel_is(-45 * S, "45s ago");
	rel_is(-59 * S - 999999, "59s ago");
	rel_is(-60 * S, "1m ago");
	rel_is(-3 * 60 * S - 5 * S, "3m ago");
	rel_is(-2 * 3600 * S, "2h ago");
	rel_is(-5 * 86400 * S, "5d ago");
	rel_is(-400 * 86400 * S, "400d ago");
	rel_is(3 * 60 * S, "in 3m");
	rel_is(30 * S, "in 30s");
	rel_is(23 * 3600 * S, "in 23h");
	rel_is(2 * 86400 * S, "in 2d");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_dur_parse),
		cmocka_unit_test(test_dur_format),
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_time_relative),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
