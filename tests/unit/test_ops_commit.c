/* test_ops_commit.c — reply-after-commit kept by the call (struct call's
 * commit_wait), for every face but the socket one: a reply that
 * acknowledges a write reaches the face only once the write is committed;
 * a reply of a request that wrote nothing goes at once, even while the
 * store is stuck; a failed commit turns the success into "not stored"; an
 * abandoned call never hears back.  A real engine over the fake store,
 * whose insert the test holds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "faces/ops.h"
#include "fake_engine.h"

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

static void call_init(struct call *c, struct fx *f, int commit_wait)
{
	memset(c, 0, sizeof *c);
	memset(&got, 0, sizeof got);
	c->e = &f->e;
	c->admin = 1;
	c->respond = respond;
	c->commit_wait = commit_wait;
}

static void submit(struct call *c)
{
	json_t *d = json_pack("{s:[s]}", "argv", "/bin/true");
	assert_int_equal(ops_dispatch(c, "submit", d), 0);
	json_decref(d);
}

/* Runs the loop for ms of real time (the store may be held: not idle). */
static void spin(struct fx *f, int ms)
{
	uint64_t end = fx_ms() + (uint64_t)ms;
	while (fx_ms() < end) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		usleep(1000);
	}
}

static void finish(struct fx *f)
{
	fake_store_release();
	fx_settle(f, 50);
	fx_close(f);
	json_decref(got.data);
	got.data = NULL;
}

/* the submit's reply waits for its insert's commit */
static void test_reply_after_commit(void **state)
{
	struct fx f;
	struct call c;
	(void)state;
	fx_open(&f, FX_EPOCH);
	call_init(&c, &f, 1);
	fake_store_hold(FS_RUN_INSERT);
	submit(&c);
	FX_UNTIL(&f, fake_store_holding());
	spin(&f, 100);
	assert_int_equal(got.n, 0);          /* not committed: not answered */
	fake_store_release();
	FX_UNTIL(&f, got.n == 1);
	assert_int_equal(got.err, 0);
	assert_non_null(json_object_get(got.data, "jid"));
	finish(&f);
}

/* without commit_wait the face gets it at once (the socket face's own
 * batching then holds it): the test above can tell the two apart */
static void test_no_commit_wait(void **state)
{
	struct fx f;
	struct call c;
	(void)state;
	fx_open(&f, FX_EPOCH);
	call_init(&c, &f, 0);
	fake_store_hold(FS_RUN_INSERT);
	submit(&c);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.err, 0);
	finish(&f);
}

/* a read answers while a write is stuck in the store */
static void test_read_not_held(void **state)
{
	struct fx f;
	struct call c, r;
	(void)state;
	fx_open(&f, FX_EPOCH);
	call_init(&c, &f, 1);
	fake_store_hold(FS_RUN_INSERT);
	submit(&c);
	FX_UNTIL(&f, fake_store_holding());
	call_init(&r, &f, 1);
	assert_int_equal(ops_dispatch(&r, "targets", NULL), 0);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.err, 0);
	assert_non_null(json_object_get(got.data, "targets"));
	call_abandon(&c);
	finish(&f);
}

/* the commit fails: the success becomes an error naming why */
static void test_commit_fails(void **state)
{
	struct fx f;
	struct call c;
	(void)state;
	fx_open(&f, FX_EPOCH);
	call_init(&c, &f, 1);
	fake_store_fail(FS_COMMIT, 0, 1000, -EIO);
	submit(&c);
	FX_UNTIL(&f, got.n == 1);
	assert_int_equal(got.err, -EIO);
	assert_non_null(strstr(got.msg, "not stored"));
	fake_store_fail(FS_COMMIT, 0, 0, 0);
	finish(&f);
}

/* the caller went away while its reply waited: nobody is answered */
static void test_abandoned(void **state)
{
	struct fx f;
	struct call c;
	(void)state;
	fx_open(&f, FX_EPOCH);
	call_init(&c, &f, 1);
	fake_store_hold(FS_RUN_INSERT);
	submit(&c);
	FX_UNTIL(&f, fake_store_holding());
	call_abandon(&c);
	memset(&c, 0xa5, sizeof c);          /* the face freed it */
	fake_store_release();
	fx_settle(&f, 100);
	assert_int_equal(got.n, 0);
	finish(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reply_after_commit, fx_setup),
		cmocka_unit_test_setup(test_no_commit_wait, fx_setup),
		cmocka_unit_test_setup(test_read_not_held, fx_setup),
		cmocka_unit_test_setup(test_commit_fails, fx_setup),
		cmocka_unit_test_setup(test_abandoned, fx_setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
