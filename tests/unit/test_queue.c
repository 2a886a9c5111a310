/* test_queue.c — the queue (engine/queue.c) through a real engine over the
 * fake store and clock: order by priority then creation, slots, pause and
 * continue, the claim before a start, delayed (not-before) runs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fake_engine.h"
#include "engine/storeq.h"

static const char *const true_argv[] = {"/bin/true", NULL};
static const char *const sleep_argv[] = {"/bin/sleep", "60", NULL};

static struct target *target(struct fx *f, const char *name, int conc)
{
	struct target *t = queue_target_add(&f->e, name, conc);
	assert_non_null(t);
	return t;
}

static void pause_target(struct fx *f, struct target *t, int paused)
{
	t->paused = paused;
	if (!paused)
		queue_pump(&f->e, t);
}

/* ---- order ---- */

static char order[8][JID_LEN + 1];
static int n_order;

static void order_started(struct run_watcher *w, const struct arun *a)
{
	(void)w;
	memcpy(order[n_order++], a->r.jid, JID_LEN + 1);
}

static void order_ended(struct run_watcher *w, const struct arun *a, int err,
                        const char *msg)
{
	(void)w; (void)a; (void)err; (void)msg;
}

static const struct run_watcher_cbs order_cbs = {order_started, NULL,
                                                 order_ended};

static void test_priority_then_fifo(void **state)
{
	struct fx f;
	struct run_watcher w[4];
	char jid[4][JID_LEN + 1];
	int prio[4] = {0, 5, 0, 5};
	(void)state;

	fx_open(&f, FX_EPOCH);
	struct target *t = target(&f, "q", 1);
	pause_target(&f, t, 1);
	n_order = 0;
	for (int i = 0; i < 4; i++) {
		struct arun *a = fx_submit(&f, "q", prio[i], 0, true_argv);
		memcpy(jid[i], a->r.jid, sizeof jid[i]);
		w[i] = (struct run_watcher){.cbs = &order_cbs};
		run_watch(a, &w[i]);
	}
	fx_settle(&f, 50);
	assert_int_equal(n_order, 0);
	pause_target(&f, t, 0);
	FX_UNTIL(&f, n_order == 4 && fx_status(jid[2]) == RUN_DONE);
	/* priority 5 first (1 then 3), then priority 0 in creation order */
	assert_string_equal(order[0], jid[1]);
	assert_string_equal(order[1], jid[3]);
	assert_string_equal(order[2], jid[0]);
	assert_string_equal(order[3], jid[2]);
	fx_close(&f);
}

/* Stored rows (an earlier jobd's, another program's) go first come, first
 * served by their row id, whatever their jids say. */
static void test_fifo_by_row_id(void **state)
{
	struct fx f;
	struct fake_call calls[64];
	const char *jids[3] = {"20291231000000000003", "20291231000000000002",
	                       "20291231000000000001"};
	(void)state;

	for (int i = 0; i < 3; i++) {
		struct run r = {0};
		memcpy(r.jid, jids[i], JID_LEN + 1);
		r.target = strdup("q");
		r.spec = strdup("{\"argv\": [\"/bin/true\"]}");
		r.status = RUN_WAITING;
		r.trigger = TRIG_API;
		r.attempt = 1;
		r.return_code = -1;
		r.time_created = FX_EPOCH - US_PER_S;
		fake_store_put_run(&r);
		run_clear(&r);
	}
	fx_open(&f, FX_EPOCH);       /* recovery queues them; "q" has 1 slot */
	FX_UNTIL(&f, fx_status(jids[0]) == RUN_DONE &&
	             fx_status(jids[1]) == RUN_DONE &&
	             fx_status(jids[2]) == RUN_DONE);
	int n = fake_store_calls(calls, 64), k = 0;
	for (int i = 0; i < n; i++)
		if (calls[i].op == FS_RUN_CLAIM && calls[i].rc == 0) {
			assert_true(k < 3);
			assert_string_equal(calls[i].jid, jids[k]);
			k++;
		}
	assert_int_equal(k, 3);
	fx_close(&f);
}

/* ---- slots ---- */

static void test_slots(void **state)
{
	struct fx f;
	struct arun *a[4];
	char jid[4][JID_LEN + 1];
	(void)state;

	fx_open(&f, FX_EPOCH);
	struct target *t = target(&f, "two", 2);
	for (int i = 0; i < 4; i++) {
		a[i] = fx_submit(&f, "two", 0, 0, sleep_argv);
		memcpy(jid[i], a[i]->r.jid, sizeof jid[i]);
	}
	queue_pump(&f.e, t);
	FX_UNTIL(&f, fx_status(jid[0]) == RUN_RUNNING &&
	             fx_status(jid[1]) == RUN_RUNNING);
	fx_settle(&f, 100);
	assert_int_equal(t->running, 2);
	assert_int_equal(t->waiting, 2);
	assert_int_equal(fx_status(jid[2]), RUN_WAITING);
	assert_int_equal(fx_status(jid[3]), RUN_WAITING);
	/* one ends: one slot frees, the next (and only it) starts */
	assert_int_equal(run_signal(&f.e, a[0], SIGKILL), 0);
	FX_UNTIL(&f, fx_status(jid[2]) == RUN_RUNNING);
	fx_settle(&f, 100);
	assert_int_equal(fx_status(jid[0]), RUN_DONE);
	assert_int_equal(fx_status(jid[3]), RUN_WAITING);
	assert_int_equal(t->running, 2);
	fx_close(&f);
}

/* ---- pause / continue ---- */

static void test_pause_continue(void **state)
{
	struct fx f;
	struct fx_watch w;
	(void)state;

	fx_open(&f, FX_EPOCH);
	struct target *t = target(&f, "p", 4);
	pause_target(&f, t, 1);
	struct arun *a = fx_submit(&f, "p", 0, 0, true_argv);
	char jid[JID_LEN + 1];
	memcpy(jid, a->r.jid, sizeof jid);
	fx_watch(a, &w);
	queue_pump(&f.e, t);
	fx_settle(&f, 100);
	assert_int_equal(w.started, 0);
	assert_int_equal(fx_status(jid), RUN_WAITING);
	assert_int_equal(t->waiting, 1);
	pause_target(&f, t, 0);
	FX_UNTIL(&f, w.ended == 1);
	assert_int_equal(w.started, 1);
	FX_UNTIL(&f, fx_status(jid) == RUN_DONE);
	fx_close(&f);
}

/* ---- the claim ---- */

/* A stored waiting run is claimed once, then started once. */
static void test_claimed_once(void **state)
{
	struct fx f;
	struct fx_watch w;
	char jid[JID_LEN + 1];
	(void)state;

	fx_open(&f, FX_EPOCH);
	struct target *t = target(&f, "c", 1);
	pause_target(&f, t, 1);
	struct arun *a = fx_submit(&f, "c", 0, 0, true_argv);
	memcpy(jid, a->r.jid, sizeof jid);
	fx_watch(a, &w);
	fx_settle(&f, 0);           /* its insert is committed */
	assert_int_equal(fake_store_count(FS_RUN_CLAIM), 0);
	pause_target(&f, t, 0);
	FX_UNTIL(&f, w.ended == 1 && fx_status(jid) == RUN_DONE);
	fx_settle(&f, 50);
	assert_int_equal(fake_store_count(FS_RUN_CLAIM), 1);
	assert_int_equal(w.started, 1);
	assert_int_equal(fake_store_writes(FS_RUN_UPDATE, jid, RUN_RUNNING) +
	                 fake_store_writes(FS_RUN_INSERT, jid, RUN_RUNNING), 1);
	fx_close(&f);
}

/* Another worker has the row (the claim finds it no longer waiting): the
 * run is not started and its row is left alone. */
static void test_claim_lost_not_started(void **state)
{
	struct fx f;
	struct fx_watch w;
	char jid[JID_LEN + 1];
	(void)state;

	fx_open(&f, FX_EPOCH);
	struct target *t = target(&f, "c", 1);
	pause_target(&f, t, 1);
	struct arun *a = fx_submit(&f, "c", 0, 0, true_argv);
	memcpy(jid, a->r.jid, sizeof jid);
	fx_watch(a, &w);
	fx_settle(&f, 0);
	fake_store_fail(FS_RUN_CLAIM, 0, 1, -EBUSY);
	pause_target(&f, t, 0);
	FX_UNTIL(&f, w.ended == 1);
	fx_settle(&f, 100);
	assert_int_equal(w.started, 0);
	assert_null(run_find(&f.e, jid));
	assert_int_equal(fx_status(jid), RUN_WAITING);
	assert_int_equal(fake_store_writes(FS_RUN_UPDATE, jid, -1), 0);
	assert_int_equal(t->running, 0);
	assert_int_equal(t->waiting, 0);
	fx_close(&f);
}

/* The claim fails with a store error: not started now, tried again a
 * second later (by the clock), then started once. */
static void test_claim_error_retried(void **state)
{
	struct fx f;
	struct fx_watch w;
	char jid[JID_LEN + 1];
	(void)state;

	fx_open(&f, FX_EPOCH);
	struct target *t = target(&f, "c", 1);
	pause_target(&f, t, 1);
	struct arun *a = fx_submit(&f, "c", 0, 0, true_argv);
	memcpy(jid, a->r.jid, sizeof jid);
	fx_watch(a, &w);
	fx_settle(&f, 0);
	fake_store_fail(FS_RUN_CLAIM, 0, 1, -EIO);
	pause_target(&f, t, 0);
	FX_UNTIL(&f, fake_store_count(FS_RUN_CLAIM) == 1);
	fx_settle(&f, 100);
	assert_int_equal(w.started, 0);
	assert_int_equal(fx_status(jid), RUN_WAITING);
	assert_non_null(run_find(&f.e, jid));
	fx_tick(&f, FX_EPOCH + 2 * US_PER_S);
	FX_UNTIL(&f, w.ended == 1 && fx_status(jid) == RUN_DONE);
	assert_int_equal(w.started, 1);
	assert_int_equal(w.err, 0);
	fx_close(&f);
}

/* ---- not before ---- */

static void test_delayed_run(void **state)
{
	struct fx f;
	struct fx_watch w;
	char jid[JID_LEN + 1];
	int64_t at = FX_EPOCH + 60 * US_PER_S;
	(void)state;

	fx_open(&f, FX_EPOCH);
	struct arun *a = fx_submit(&f, NULL, 0, at, true_argv);
	memcpy(jid, a->r.jid, sizeof jid);
	fx_watch(a, &w);
	queue_pump_all(&f.e);
	fx_settle(&f, 100);
	assert_int_equal(w.started, 0);
	/* the wake-up is armed for the start, the lead before the instant */
	assert_int_equal(f.e.delay_at, at - SPAWN_LEAD);
	fx_tick(&f, at - SPAWN_LEAD - 1);
	fx_settle(&f, 100);
	assert_int_equal(w.started, 0);
	assert_int_equal(fx_status(jid), RUN_WAITING);
	/* within the lead: claimed and committed running, not spawned */
	fx_tick(&f, at - SPAWN_LEAD);
	FX_UNTIL(&f, fx_status(jid) == RUN_RUNNING);
	fx_settle(&f, 100);
	assert_int_equal(w.started, 0);
	assert_int_equal(f.e.delay_at, at);       /* the spawn's wake-up */
	fx_tick(&f, at - 1);
	fx_settle(&f, 100);
	assert_int_equal(w.started, 0);
	/* at the instant: spawned, started then */
	fx_tick(&f, at);
	FX_UNTIL(&f, w.ended == 1 && fx_status(jid) == RUN_DONE);
	assert_int_equal(w.started, 1);
	struct run r;
	assert_int_equal(fake_store_row(jid, &r), 0);
	assert_int_equal(r.time_started, at);
	assert_true(r.pid > 0);
	run_clear(&r);
	fx_close(&f);
}

/* A run submitted while a poll lists the target's waiting rows is found
 * by that listing too: the poll leaves it (it is ours, in memory), so it
 * is claimed once and started once, by its own handle. */
static void test_poll_skips_runs_in_memory(void **state)
{
	struct fx f;
	struct fx_watch w;
	char jid[JID_LEN + 1];
	int64_t at = FX_EPOCH + 60 * US_PER_S;
	(void)state;

	fx_open(&f, FX_EPOCH);
	struct target *t = target(&f, "c", 1);
	FX_UNTIL(&f, !t->polling);
	fake_store_hold(FS_RUN_LIST);
	assert_int_equal(queue_poll(&f.e, t), 0);
	FX_UNTIL(&f, fake_store_holding());
	struct arun *a = fx_submit(&f, "c", 0, at, true_argv);
	memcpy(jid, a->r.jid, sizeof jid);
	fx_watch(a, &w);
	FX_UNTIL(&f, storeq_idle(f.e.sq));   /* its insert is committed */
	fake_store_release();
	FX_UNTIL(&f, !t->polling);
	fx_settle(&f, 50);
	assert_int_equal(fake_store_count(FS_RUN_CLAIM), 0);
	assert_int_equal(w.ended, 0);
	fx_tick(&f, at);
	FX_UNTIL(&f, w.ended == 1 && fx_status(jid) == RUN_DONE);
	assert_int_equal(w.started, 1);
	assert_int_equal(w.err, 0);
	assert_int_equal(fake_store_count(FS_RUN_CLAIM), 1);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_priority_then_fifo, fx_setup),
		cmocka_unit_test_setup(test_fifo_by_row_id, fx_setup),
		cmocka_unit_test_setup(test_slots, fx_setup),
		cmocka_unit_test_setup(test_pause_continue, fx_setup),
		cmocka_unit_test_setup(test_claimed_once, fx_setup),
		cmocka_unit_test_setup(test_claim_lost_not_started, fx_setup),
		cmocka_unit_test_setup(test_claim_error_retried, fx_setup),
		cmocka_unit_test_setup(test_delayed_run, fx_setup),
		cmocka_unit_test_setup(test_poll_skips_runs_in_memory, fx_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
