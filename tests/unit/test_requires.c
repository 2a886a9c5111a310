/* test_requires.c — requires items: parsing, validation and evaluation
 * over facts given by the test (requires.c's pure part). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "engine/requires.h"

static void parse_items(void **state)
{
	char name[64], err[256];
	unsigned m;
	(void)state;

	assert_int_equal(requires_parse("db", name, sizeof name, &m, err,
	                                 sizeof err), 0);
	assert_string_equal(name, "db");
	assert_int_equal(m, REQ_UP);                 /* the default state */
	assert_int_equal(requires_parse("db(ok, down)", name, sizeof name, &m,
	                                err, sizeof err), 0);
	assert_int_equal(m, REQ_OK | REQ_DOWN);
	assert_int_equal(requires_parse("web.task#1(up)", name, sizeof name,
	                                &m, err, sizeof err), 0);
	assert_string_equal(name, "web.task#1");
	assert_int_equal(requires_parse("db(sleepy)", name, sizeof name, &m,
	                                err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "unknown state 'sleepy' in 'db(sleepy)'"));
	assert_int_equal(requires_parse("db()", name, sizeof name, &m, err,
	                                sizeof err), -EINVAL);
	assert_int_equal(requires_parse("db(up", name, sizeof name, &m, err,
	                                sizeof err), -EINVAL);
	assert_int_equal(requires_parse("(up)", name, sizeof name, &m, err,
	                                sizeof err), -EINVAL);
	assert_int_equal(requires_parse("b/d", name, sizeof name, &m, err,
	                                sizeof err), -EINVAL);
	assert_non_null(strstr(err, "invalid job name 'b/d'"));
}

static void validate(void **state)
{
	char err[256];
	char *good[] = { "a", "b(ok)", NULL }, *self[] = { "me(ok)", NULL };
	(void)state;

	assert_int_equal(requires_validate(good, "me", err, sizeof err), 0);
	assert_int_equal(requires_validate(NULL, "me", err, sizeof err), 0);
	assert_int_equal(requires_validate(self, "me", err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "cannot require itself"));
}

/* facts: "run" running, "upst" status ok, "okj" last run ok, "bad" last
 * run failed, "new" never ran; anything else does not exist */
static int facts(void *ctx, const char *job, struct req_facts *f)
{
	(void)ctx;
	*f = (struct req_facts){ .running = 0, .status_up = -1, .last_ok = -1 };
	if (!strcmp(job, "run"))
		f->running = 1;
	else if (!strcmp(job, "upst"))
		f->status_up = 1;
	else if (!strcmp(job, "okj"))
		f->last_ok = 1;
	else if (!strcmp(job, "bad"))
		f->last_ok = 0, f->status_up = 0;
	else if (strcmp(job, "new"))
		return -ENOENT;
	return 0;
}

static int eval1(const char *item, char *err, size_t n)
{
	char *v[] = { (char *)item, NULL };
	return requires_eval(v, facts, NULL, err, n);
}

static void evaluate(void **state)
{
	char err[256];
	(void)state;

	assert_int_equal(eval1("run", err, sizeof err), 0);
	assert_int_equal(eval1("upst(up)", err, sizeof err), 0);
	assert_int_equal(eval1("okj(ok)", err, sizeof err), 0);
	assert_int_equal(eval1("bad(down)", err, sizeof err), 0);
	assert_int_equal(eval1("new(down,ok)", err, sizeof err), 0);
	assert_int_equal(eval1("okj", err, sizeof err), -EAGAIN);
	assert_string_equal(err, "requires okj: job 'okj' is down");
	assert_int_equal(eval1("run(down)", err, sizeof err), -EAGAIN);
	assert_string_equal(err, "requires run(down): job 'run' is up");
	assert_int_equal(eval1("bad(ok)", err, sizeof err), -EAGAIN);
	assert_string_equal(err, "requires bad(ok): job 'bad' did not end ok");
	assert_int_equal(eval1("new(ok)", err, sizeof err), -EAGAIN);
	assert_string_equal(err, "requires new(ok): job 'new' has never run");
	assert_int_equal(eval1("gone", err, sizeof err), -EAGAIN);
	assert_string_equal(err, "requires gone: no job 'gone'");
	/* all must hold: the first unmet one is named */
	char *v[] = { "run", "okj(ok)", "bad(ok)", "new(ok)", NULL };
	assert_int_equal(requires_eval(v, facts, NULL, err, sizeof err), -EAGAIN);
	assert_string_equal(err, "requires bad(ok): job 'bad' did not end ok");
	char *w[] = { "run", "okj(ok)", NULL };
	assert_int_equal(requires_eval(w, facts, NULL, err, sizeof err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_items),
		cmocka_unit_test(validate),
		cmocka_unit_test(evaluate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
