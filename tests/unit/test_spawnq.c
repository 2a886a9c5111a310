/* test_spawnq.c — the spawns' turns (engine/spawnq.c) through a real
 * engine over the fake store and clock: a burst of committed starts does
 * not hold the loop (a timer due meanwhile runs after one spawn, not after
 * the burst), a target with nothing waiting is not queued behind another
 * target's burst, and within a target the order stays first come, first
 * spawned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fake_engine.h"

#define BURST 12

static const char *const true_argv[] = {"/bin/true", NULL};

static char order[BURST + 1][JID_LEN + 1];
static int n_order;
static uv_timer_t probe;
static int probe_armed, started_at_probe;

static void on_probe(uv_timer_t *t)
{
	(void)t;
	started_at_probe = n_order;
}

/* The first spawn arms a timer due at once: it runs at the loop's next
 * turn, after however many spawns the loop made meanwhile. */
static void order_started(struct run_watcher *w, const struct arun *a)
{
	(void)w;
	memcpy(order[n_order++], a->r.jid, JID_LEN + 1);
	if (!probe_armed) {
		probe_armed = 1;
		uv_timer_start(&probe, on_probe, 0, 0);
	}
}

static void order_ended(struct run_watcher *w, const struct arun *a, int err,
                        const char *msg)
{
	(void)w; (void)a; (void)err; (void)msg;
}

static const struct run_watcher_cbs order_cbs = {order_started, NULL,
                                                 order_ended};

static struct target *paused_target(struct fx *f, const char *name, int conc)
{
	struct target *t = queue_target_add(&f->e, name, conc);
	assert_non_null(t);
	t->paused = 1;
	return t;
}

static int position(const char *jid)
{
	for (int i = 0; i < n_order; i++)
		if (strcmp(order[i], jid) == 0)
			return i;
	return -1;
}

static void test_turns(void **state)
{
	struct fx f;
	struct run_watcher w[BURST + 1];
	char jid[BURST + 1][JID_LEN + 1];   /* [BURST]: the lone one */
	(void)state;

	fx_open(&f, FX_EPOCH);
	uv_timer_init(&f.loop, &probe);
	probe_armed = 0;
	started_at_probe = -1;
	n_order = 0;
	struct target *burst = paused_target(&f, "burst", BURST);
	struct target *lone = paused_target(&f, "lone", 1);
	for (int i = 0; i <= BURST; i++) {
		struct arun *a = fx_submit(&f, i < BURST ? "burst" : "lone", 0, 0,
		                           true_argv);
		memcpy(jid[i], a->r.jid, sizeof jid[i]);
		w[i] = (struct run_watcher){.cbs = &order_cbs};
		run_watch(a, &w[i]);
	}
	fx_settle(&f, 50);
	assert_int_equal(n_order, 0);
	/* both start in one loop callback: their starts commit together */
	burst->paused = lone->paused = 0;
	queue_pump(&f.e, burst);
	queue_pump(&f.e, lone);
	FX_UNTIL(&f, n_order == BURST + 1 && started_at_probe >= 0);
	for (int i = 0; i <= BURST; i++)
		FX_UNTIL(&f, fx_status(jid[i]) == RUN_DONE);

	/* the loop turned after the first spawn, not after the burst */
	assert_in_range(started_at_probe, 1, 2);
	/* the lone target's run went second (one of the burst's may have
	 * been spawned before its commit came back), not last */
	assert_in_range(position(jid[BURST]), 1, 2);
	/* the burst in its order */
	for (int i = 0, prev = -1; i < BURST; i++) {
		int p = position(jid[i]);
		assert_true(p > prev);
		prev = p;
	}
	uv_close((uv_handle_t *)&probe, NULL);
	fx_close(&f);
}

/* Committed the lead ahead, then jobd stops before the instant: never
 * spawned, its row accepted again for the next start. */
static void test_lead_then_shutdown(void **state)
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
	fx_tick(&f, at - SPAWN_LEAD / 2);
	FX_UNTIL(&f, fx_status(jid) == RUN_RUNNING);
	fx_settle(&f, 50);
	assert_int_equal(w.started, 0);
	fx_shutdown(&f);
	FX_UNTIL(&f, f.stopped);
	assert_int_equal(w.started, 0);
	assert_int_equal(fx_status(jid), RUN_ACCEPTED);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_turns, fx_setup),
		cmocka_unit_test_setup(test_lead_then_shutdown, fx_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
