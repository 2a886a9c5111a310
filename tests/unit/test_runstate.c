/* test_runstate.c — every (state, event) pair against the allowed list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "jobd.h"
#include "core/runstate.h"

/* The transitions DESIGN.md and runstate.h allow; everything else is -1. */
static const struct { int from, ev, to; } allowed[] = {
	{ RUN_WAITING, EV_CLAIM, RUN_ACCEPTED },
	{ RUN_MANUAL, EV_RUN_MANUAL, RUN_ACCEPTED },
	{ RUN_ACCEPTED, EV_START, RUN_RUNNING },
	{ RUN_RUNNING, EV_EXIT, RUN_DONE },
	{ RUN_WAITING, EV_CANCEL, RUN_IGNORED },
	{ RUN_MANUAL, EV_CANCEL, RUN_IGNORED },
	{ RUN_ACCEPTED, EV_CANCEL, RUN_IGNORED },
	{ RUN_ACCEPTED, EV_REQUEUE, RUN_WAITING },
	{ RUN_RUNNING, EV_LOST, RUN_DONE },
	{ RUN_ACCEPTED, EV_LOST, RUN_DONE },
	{ RUN_ACCEPTED, EV_SPAWN_FAIL, RUN_DONE },
};
#define N_ALLOWED (sizeof(allowed) / sizeof(allowed[0]))

static int expected(int st, int ev)
{
	for (size_t i = 0; i < N_ALLOWED; i++)
		if (allowed[i].from == st && allowed[i].ev == ev)
			return allowed[i].to;
	return -1;
}

static void test_whole_table(void **state)
{
	int seen = 0;

	(void)state;
	for (int st = 0; st < RUN_STATUS_COUNT; st++)
		for (int ev = 0; ev < EV_COUNT; ev++) {
			int got = runstate_next(st, ev), want = expected(st, ev);
			if (got != want)
				fail_msg("%s --%s--> %d, want %d", run_status_name(st),
					 run_event_name(ev), got, want);
			seen += got != -1;
		}
	assert_int_equal(seen, N_ALLOWED);
}

static void test_out_of_range(void **state)
{
	(void)state;
	assert_int_equal(runstate_next(-1, EV_CLAIM), -1);
	assert_int_equal(runstate_next(RUN_STATUS_COUNT, EV_CLAIM), -1);
	assert_int_equal(runstate_next(RUN_WAITING, -1), -1);
	assert_int_equal(runstate_next(RUN_WAITING, EV_COUNT), -1);
	assert_null(run_event_name(-1));
	assert_null(run_event_name(EV_COUNT));
}

static void test_terminal(void **state)
{
	(void)state;
	for (int st = 0; st < RUN_STATUS_COUNT; st++) {
		int term = st == RUN_DONE || st == RUN_IGNORED;
		assert_int_equal(runstate_terminal(st), term);
		/* A terminal state accepts no event at all. */
		for (int ev = 0; term && ev < EV_COUNT; ev++)
			assert_int_equal(runstate_next(st, ev), -1);
	}
}

static void test_event_names(void **state)
{
	static const char *names[EV_COUNT] = { "claim", "run_manual", "start",
		"exit", "cancel", "requeue", "lost", "spawn_fail" };

	(void)state;
	for (int ev = 0; ev < EV_COUNT; ev++)
		assert_string_equal(run_event_name(ev), names[ev]);
}

static void test_lifecycles(void **state)
{
	(void)state;
	/* The normal path and a manual run, step by step. */
	int st = RUN_WAITING;
	st = runstate_next(st, EV_CLAIM);
	st = runstate_next(st, EV_START);
	st = runstate_next(st, EV_EXIT);
	assert_int_equal(st, RUN_DONE);
	st = runstate_next(RUN_MANUAL, EV_RUN_MANUAL);
	assert_int_equal(runstate_next(st, EV_REQUEUE), RUN_WAITING);
	assert_int_equal(runstate_next(RUN_WAITING, EV_START), -1);   /* unclaimed */
	assert_int_equal(runstate_next(RUN_RUNNING, EV_CANCEL), -1);  /* signal it */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_table),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_terminal),
		cmocka_unit_test(test_event_names),
		cmocka_unit_test(test_lifecycles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
