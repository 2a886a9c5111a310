/* test_jid.c — Salt-style jids: format, parse, monotonic jid_next. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/jid.h"

/* 2026-11-23T10:00:00Z */
#define T0 1795428000LL

static void test_format_known(void **state)
{
	char j[21];

	(void)state;
	jid_format(j, T0 * 1000000 + 123456);
	assert_string_equal(j, "20261123100000123456");
	jid_format(j, 0);
	assert_string_equal(j, "19700101000000000000");
	/* 2024-02-29T23:59:59.999999Z (leap day) */
	jid_format(j, 1709251199LL * 1000000 + 999999);
	assert_string_equal(j, "20240229235959999999");
	jid_format(j, 1);
	assert_string_equal(j, "19700101000000000001");
}

static void test_parse_roundtrip(void **state)
{
	static const int64_t times[] = {
		0, 1, 999999, 1000000, T0 * 1000000 + 123456,
		1709251199LL * 1000000 + 999999, 4102444799LL * 1000000 + 5,
	};
	char j[21];
	int64_t us;

	(void)state;
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		jid_format(j, times[i]);
		assert_int_equal(jid_parse(j, &us), 0);
		assert_int_equal(us, times[i]);
		assert_true(jid_valid(j));
	}
	assert_int_equal(jid_parse("20261123100000123456", &us), 0);
	assert_int_equal(us, T0 * 1000000 + 123456);
}

static void test_parse_rejects(void **state)
{
	static const char *bad[] = {
		"2026112310000012345",     /* 19 digits */
		"202611231000001234567",   /* 21 digits */
		"2026112310000012345a",
		"x0261123100000123456",
		"20261323100000123456",    /* month 13 */
		"20260023100000123456",    /* month 0 */
		"20261100100000123456",    /* day 0 */
		"20261131100000123456",    /* Nov 31 */
		"20230229100000123456",    /* not a leap year */
		"20261123240000123456",    /* hour 24 */
		"20261123106000123456",    /* minute 60 */
		"20261123100060123456",    /* second 60 */
		"2026-11-23T10:00:00.1",
		" 0261123100000123456",
		"",
	};
	int64_t us = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (jid_parse(bad[i], &us) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
		assert_false(jid_valid(bad[i]));
	}
	assert_int_equal(us, 42);   /* untouched on error */
	assert_false(jid_valid(NULL));
	assert_true(jid_valid("20240229000000000000"));
}

static void test_next_monotonic(void **state)
{
	int64_t last = 0, us;
	char a[21], b[21], c[21], d[21];

	(void)state;
	jid_next(a, T0 * 1000000, &last);
	assert_string_equal(a, "20261123100000000000");
	assert_int_equal(last, T0 * 1000000);

	/* Same microsecond: bumped by 1 µs. */
	jid_next(b, T0 * 1000000, &last);
	assert_string_equal(b, "20261123100000000001");
	/* Clock stepped back an hour: still after the last one. */
	jid_next(c, (T0 - 3600) * 1000000, &last);
	assert_string_equal(c, "20261123100000000002");
	/* Clock moves on: back to real time. */
	jid_next(d, T0 * 1000000 + 500, &last);
	assert_string_equal(d, "20261123100000000500");
	assert_int_equal(jid_parse(d, &us), 0);
	assert_int_equal(us, last);

	/* Many calls with a frozen or decreasing clock stay strictly sorted. */
	for (int i = 0; i < 3000; i++) {
		char prev[21];
		memcpy(prev, d, 21);
		jid_next(d, T0 * 1000000 - i, &last);
		assert_true(strcmp(prev, d) < 0);
	}
	/* Carry across a second boundary. */
	last = T0 * 1000000 + 999999;
	jid_next(a, T0 * 1000000, &last);
	assert_string_equal(a, "20261123100001000000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_known),
		cmocka_unit_test(test_parse_roundtrip),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_next_monotonic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
