/* test_strpool.c — interned strings: one copy per value, counted
 * references (a copy outlives all but its last holder), growth past the
 * first table, and an empty pool after the last release (the SANITIZE=1
 * build's leak check sees anything left). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/strpool.h"

#define MANY 5000   /* well past the first table of 64 buckets */

static void test_hash(void **state)
{
	(void)state;
	/* FNV-1a's published values: other tables (jobfile.c's job names)
	 * rely on it being a real hash, not just a stable one. */
	assert_int_equal(strpool_hash(""), 2166136261u);
	assert_int_equal(strpool_hash("a"), 0xe40c292cu);
	assert_int_equal(strpool_hash("foobar"), 0xbf9cf968u);
}

static void test_one_copy(void **state)
{
	char *a, *b, *c;

	(void)state;
	a = strpool_intern("/etc/jobd/jobs.d/backup.conf");
	b = strpool_intern("/etc/jobd/jobs.d/backup.conf");
	c = strpool_intern("default");
	assert_non_null(a);
	assert_non_null(c);
	assert_ptr_equal(a, b);
	assert_ptr_not_equal(a, c);
	assert_string_equal(a, "/etc/jobd/jobs.d/backup.conf");
	assert_string_equal(c, "default");
	strpool_release(a);
	/* b still holds it: under ASan a copy freed too early is a
	 * use-after-free here */
	assert_string_equal(b, "/etc/jobd/jobs.d/backup.conf");
	assert_ptr_equal(strpool_intern("default"), c);
	strpool_release(b);
	strpool_release(c);
	strpool_release(c);
	strpool_release(NULL);   /* a field never set */
}

static void test_many(void **state)
{
	char **p = calloc(MANY, sizeof(*p)), name[32];

	(void)state;
	assert_non_null(p);
	for (int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "target-%d", i);
		p[i] = strpool_intern(name);
		assert_non_null(p[i]);
	}
	/* after every growth, each value is still found, not copied again */
	for (int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "target-%d", i);
		assert_ptr_equal(strpool_intern(name), p[i]);
		assert_string_equal(p[i], name);
	}
	for (int i = 0; i < MANY; i++)
		strpool_release(p[i]);
	for (int i = 0; i < MANY; i += 2)   /* out of order: unlinks mid-chain */
		strpool_release(p[i]);
	for (int i = 1; i < MANY; i += 2) {
		snprintf(name, sizeof(name), "target-%d", i);
		assert_string_equal(p[i], name);
		strpool_release(p[i]);
	}
	/* empty again (table freed): a new value starts a new table */
	p[0] = strpool_intern("again");
	assert_string_equal(p[0], "again");
	strpool_release(p[0]);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_one_copy),
		cmocka_unit_test(test_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
