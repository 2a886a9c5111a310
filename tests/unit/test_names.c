/* test_names.c — enum spellings, run_clear, err_exit_code, name_valid. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jobd.h"

static void test_status(void **state)
{
	static const char *names[] = { "waiting", "manual", "accepted",
				       "running", "done", "ignored" };
	(void)state;
	for (int i = 0; i < RUN_STATUS_COUNT; i++) {
		assert_string_equal(run_status_name(i), names[i]);
		assert_int_equal(run_status_parse(names[i]), i);
	}
	assert_null(run_status_name(-1));
	assert_null(run_status_name(RUN_STATUS_COUNT));
	assert_int_equal(run_status_parse("Waiting"), -1);
	assert_int_equal(run_status_parse(""), -1);
	assert_int_equal(run_status_parse(NULL), -1);
}

static void test_result(void **state)
{
	(void)state;
	assert_null(run_result_name(RESULT_NONE));
	assert_string_equal(run_result_name(RESULT_OK), "ok");
	assert_string_equal(run_result_name(RESULT_FAIL), "fail");
	assert_null(run_result_name(3));
	assert_int_equal(run_result_parse("ok"), RESULT_OK);
	assert_int_equal(run_result_parse("fail"), RESULT_FAIL);
	assert_int_equal(run_result_parse("none"), -1);
	assert_int_equal(run_result_parse(""), -1);
}

static void test_trigger(void **state)
{
	static const char *names[] = { "schedule", "manual", "api", "retry",
				       "catchup" };
	(void)state;
	for (int i = 0; i < TRIG_COUNT; i++) {
		assert_string_equal(run_trigger_name(i), names[i]);
		assert_int_equal(run_trigger_parse(names[i]), i);
	}
	assert_null(run_trigger_name(TRIG_COUNT));
	assert_int_equal(run_trigger_parse("cron"), -1);
}

static void test_overlap(void **state)
{
	static const char *names[] = { "skip", "queue", "replace", "allow" };
	(void)state;
	for (int i = 0; i < 4; i++) {
		assert_string_equal(overlap_name(i), names[i]);
		assert_int_equal(overlap_parse(names[i]), i);
	}
	assert_int_equal(overlap_parse("skip"), OVERLAP_SKIP);
	assert_int_equal(overlap_parse("allow"), OVERLAP_ALLOW);
	assert_null(overlap_name(4));
	assert_null(overlap_name(-1));
	assert_int_equal(overlap_parse("skipp"), -1);
}

static void test_run_clear(void **state)
{
	struct run r;

	(void)state;
	memset(&r, 0x5a, sizeof(r));
	r.job = strdup("job");
	r.action = strdup("start");
	r.target = strdup("default");
	r.spec = strdup("{}");
	r.user = strdup("nobody");
	r.worker = strdup("w1");
	r.out = strdup("out");
	r.errout = strdup("err");
	run_clear(&r);   /* ASan reports a leak if any string is kept */
	assert_null(r.job);
	assert_null(r.action);
	assert_null(r.target);
	assert_null(r.spec);
	assert_null(r.user);
	assert_null(r.worker);
	assert_null(r.out);
	assert_null(r.errout);
	assert_int_equal(r.return_code, -1);
	assert_int_equal(r.id, 0);
	assert_int_equal(r.pid, 0);
	assert_int_equal(r.jid[0], '\0');
	assert_int_equal(r.sig[0], '\0');
	assert_int_equal(r.out_len, 0);
	/* Clearing a cleared run is harmless. */
	run_clear(&r);
	assert_int_equal(r.return_code, -1);
}

static void test_exit_codes(void **state)
{
	(void)state;
	assert_int_equal(err_exit_code(0), 0);
	assert_int_equal(err_exit_code(-EINVAL), 2);
	assert_int_equal(err_exit_code(-E2BIG), 2);
	assert_int_equal(err_exit_code(-ERANGE), 2);
	assert_int_equal(err_exit_code(-ENAMETOOLONG), 2);
	assert_int_equal(err_exit_code(-ENOENT), 4);
	assert_int_equal(err_exit_code(-ESRCH), 4);
	assert_int_equal(err_exit_code(-EPERM), 77);
	assert_int_equal(err_exit_code(-EACCES), 77);
	assert_int_equal(err_exit_code(-ECONNREFUSED), 69);
	assert_int_equal(err_exit_code(-ENOTCONN), 69);
	assert_int_equal(err_exit_code(-ECONNRESET), 69);
	assert_int_equal(err_exit_code(-EIO), 1);
	assert_int_equal(err_exit_code(-ENOMEM), 1);
	assert_int_equal(err_exit_code(-EEXIST), 1);
	/* Positive values are not errnos of this convention. */
	assert_int_equal(err_exit_code(EINVAL), 1);
}

static void test_name_valid(void **state)
{
	char s[NAME_MAX_LEN + 2];

	(void)state;
	assert_true(name_valid("backup"));
	assert_true(name_valid("a"));
	assert_true(name_valid("db.backup-01_x"));
	assert_true(name_valid("..."));
	assert_true(name_valid(".hidden"));
	assert_false(name_valid(""));
	assert_false(name_valid(NULL));
	assert_false(name_valid("."));
	assert_false(name_valid(".."));
	assert_false(name_valid("a b"));
	assert_false(name_valid("a/b"));
	assert_false(name_valid("a:b"));
	assert_false(name_valid("caf\xc3\xa9"));
	assert_false(name_valid("tab\t"));

	memset(s, 'x', NAME_MAX_LEN);
	s[NAME_MAX_LEN] = '\0';
	assert_true(name_valid(s));
	s[NAME_MAX_LEN] = 'x';
	s[NAME_MAX_LEN + 1] = '\0';
	assert_false(name_valid(s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_result),
		cmocka_unit_test(test_trigger),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_run_clear),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_name_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
