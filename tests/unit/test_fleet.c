/* test_fleet.c — core/fleet.c: allocation, waves, action names, batches. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/fleet.h"

static void test_allocated(void **state)
{
	const char *labels[] = {"worker", "web", "eu", NULL};
	const char *web[] = {"web", NULL}, *web_eu[] = {"web", "eu", NULL};
	const char *web_us[] = {"web", "us", NULL}, *none[] = {NULL};
	(void)state;
	assert_true(fleet_allocated(web, "x", labels));
	assert_true(fleet_allocated(web_eu, "x", labels));
	assert_false(fleet_allocated(web_us, "x", labels));
	/* no selectors: the job's own name is the selector */
	assert_false(fleet_allocated(NULL, "api", labels));
	assert_true(fleet_allocated(none, "web", labels));
	assert_false(fleet_allocated(web, "x", NULL));
}

static void test_waves(void **state)
{
	const char *after_db[] = {"db", NULL}, *after_web[] = {"web", "db", NULL};
	const char *after_gone[] = {"elsewhere", NULL};
	struct fleet_node v[] = {
		{"lb", after_web, 0}, {"web", after_db, 0}, {"db", NULL, 0},
		{"cron", after_gone, 0},
	};
	char err[128] = "";
	(void)state;
	assert_int_equal(fleet_waves(v, 4, err, sizeof err), 3);
	assert_int_equal(v[2].wave, 0);
	assert_int_equal(v[1].wave, 1);
	assert_int_equal(v[0].wave, 2);
	assert_int_equal(v[3].wave, 0);   /* not in the command: no wait */
}

static void test_cycle(void **state)
{
	const char *a_b[] = {"b", NULL}, *b_c[] = {"c", NULL}, *c_a[] = {"a", NULL};
	const char *self[] = {"d", NULL};
	struct fleet_node v[] = {
		{"d", self, 0}, {"a", a_b, 0}, {"b", b_c, 0}, {"c", c_a, 0},
	};
	char err[128] = "";
	(void)state;
	assert_int_equal(fleet_waves(v, 4, err, sizeof err), -ELOOP);
	assert_string_equal(err, "after: a -> b -> c -> a");
	assert_int_equal(v[0].wave, 0);   /* itself does not count */
}

static void test_action_name(void **state)
{
	char out[80];
	(void)state;
	assert_int_equal(fleet_action_name("ReStart", out, sizeof out), 0);
	assert_string_equal(out, "restart");
	assert_int_equal(fleet_action_name("migrate-db.v2", out, sizeof out), 0);
	assert_string_equal(out, "migrate-db.v2");
	assert_true(fleet_builtin("status"));
	assert_false(fleet_builtin("migrate"));
	assert_int_equal(fleet_action_name("-x", out, sizeof out), -EINVAL);
	assert_int_equal(fleet_action_name("a b", out, sizeof out), -EINVAL);
	assert_int_equal(fleet_action_name("../x", out, sizeof out), -EINVAL);
	assert_int_equal(fleet_action_name("", out, sizeof out), -EINVAL);
	assert_int_equal(fleet_action_name(NULL, out, sizeof out), -EINVAL);
}

static void test_batch(void **state)
{
	(void)state;
	assert_int_equal(fleet_batch("restart", 0, 3), 1);
	assert_int_equal(fleet_batch("reload", 0, 3), 1);
	assert_int_equal(fleet_batch("start", 0, 3), 3);
	assert_int_equal(fleet_batch("migrate", 0, 3), 3);
	assert_int_equal(fleet_batch("restart", 2, 3), 2);
	assert_int_equal(fleet_batch("stop", 5, 3), 3);
	assert_int_equal(fleet_batch("status", 1, 3), 3);
	assert_int_equal(fleet_batch("start", 0, 0), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allocated),
		cmocka_unit_test(test_waves),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_action_name),
		cmocka_unit_test(test_batch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
