/* test_ops_route.c — the route hook in front of ops_dispatch (the cluster
 * master's): a hook that takes a call answers it itself, later, and the
 * local op never runs; one that declines leaves the op to the local
 * engine; the role check and the op's existence come before it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "faces/ops.h"
#include "faces/ops_queue.h"

/* what the face's respond got */
static struct {
	int n;
	int err;
	char msg[256];
	json_t *data;
} got;

static void respond(struct call *c, json_t *data, int err, const char *msg)
{
	(void)c;
	got.n++;
	got.err = err;
	snprintf(got.msg, sizeof got.msg, "%s", msg ? msg : "");
	json_decref(got.data);
	got.data = data;
}

/* the hook: takes the ops named in `take`, keeps the call to answer it
 * later (as a master does once the worker replied) */
static struct {
	const char *take;
	int n;
	char op[64];
	struct call *kept;
	json_t *data;
} hook;

static int route(void *arg, struct call *c, const char *op, json_t *data)
{
	assert_ptr_equal(arg, &hook);
	hook.n++;
	snprintf(hook.op, sizeof hook.op, "%s", op);
	if (!hook.take || strcmp(op, hook.take) != 0)
		return 0;
	hook.kept = c;
	hook.data = json_incref(data);
	return 1;
}

static int setup(void **state)
{
	(void)state;
	memset(&got, 0, sizeof got);
	memset(&hook, 0, sizeof hook);
	ops_set_route(route, &hook);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ops_set_route(NULL, NULL);
	json_decref(got.data);
	json_decref(hook.data);
	return 0;
}

/* No engine behind the call: a local op that needs one would crash, so a
 * taken call that ran locally too could not pass. */
static void call_init(struct call *c, int role)
{
	memset(c, 0, sizeof *c);
	c->e = NULL;
	c->admin = 1;
	c->role = role;
	c->respond = respond;
}

static void test_taken_answered_later(void **state)
{
	struct call c;
	(void)state;
	call_init(&c, ROLE_LOCAL);
	hook.take = "status";
	json_t *data = json_pack("{s:s}", "worker", "w1");
	assert_int_equal(ops_dispatch(&c, "status", data), 0);
	json_decref(data);
	assert_int_equal(hook.n, 1);
	assert_string_equal(hook.op, "status");
	assert_ptr_equal(hook.kept, &c);
	assert_int_equal(got.n, 0);          /* not answered yet */
	/* the worker's answer comes back: the hook replies through the call */
	assert_string_equal(json_string_value(json_object_get(hook.data,
	                    "worker")), "w1");
	call_reply(hook.kept, json_pack("{s:s}", "from", "w1"));
	assert_int_equal(got.n, 1);
	assert_int_equal(got.err, 0);
	assert_string_equal(json_string_value(json_object_get(got.data, "from")),
	                    "w1");
}

static void test_taken_fails(void **state)
{
	struct call c;
	(void)state;
	call_init(&c, ROLE_LOCAL);
	hook.take = "run";
	assert_int_equal(ops_dispatch(&c, "run", NULL), 0);
	assert_int_equal(got.n, 0);
	assert_true(json_is_object(hook.data));   /* absent data: {} */
	call_fail(hook.kept, -EHOSTUNREACH, "worker %s unreachable", "w2");
	assert_int_equal(got.n, 1);
	assert_int_equal(got.err, -EHOSTUNREACH);
	assert_string_equal(got.msg, "worker w2 unreachable");
}

static void test_declined_runs_locally(void **state)
{
	struct call c;
	(void)state;
	call_init(&c, ROLE_LOCAL);
	hook.take = "status";
	json_t *data = json_object();
	assert_int_equal(ops_dispatch(&c, "signal", data), 0);
	json_decref(data);
	assert_int_equal(hook.n, 1);
	assert_string_equal(hook.op, "signal");
	/* the local op's own validation answered */
	assert_int_equal(got.n, 1);
	assert_int_equal(got.err, -EINVAL);
	assert_string_equal(got.msg, "missing field 'jid'");
}

static void test_no_hook_runs_locally(void **state)
{
	struct call c;
	(void)state;
	ops_set_route(NULL, NULL);
	call_init(&c, ROLE_LOCAL);
	assert_int_equal(ops_dispatch(&c, "signal", NULL), 0);
	assert_int_equal(hook.n, 0);
	assert_int_equal(got.err, -EINVAL);
	assert_string_equal(got.msg, "missing field 'jid'");
}

/* routing never widens what a caller may do: the role is checked first */
static void test_role_before_route(void **state)
{
	struct call c;
	(void)state;
	call_init(&c, ROLE_WIRE_ROWS);
	hook.take = "signal";
	assert_int_equal(ops_dispatch(&c, "signal", NULL), -EPERM);
	assert_int_equal(hook.n, 0);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.err, -EPERM);
}

static void test_unknown_and_bad_data_not_routed(void **state)
{
	struct call c;
	(void)state;
	call_init(&c, ROLE_LOCAL);
	hook.take = "nope";
	assert_int_equal(ops_dispatch(&c, "nope", NULL), -EINVAL);
	assert_int_equal(hook.n, 0);
	assert_string_equal(got.msg, "unknown request type: 'nope'");
	hook.take = "status";
	json_t *arr = json_array();
	assert_int_equal(ops_dispatch(&c, "status", arr), -EINVAL);
	json_decref(arr);
	assert_int_equal(hook.n, 0);
	assert_string_equal(got.msg, "data must be an object");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_taken_answered_later, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_taken_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_declined_runs_locally, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_no_hook_runs_locally, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_role_before_route, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(
			test_unknown_and_bad_data_not_routed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
