/* spawnq.c — the spawns of runs whose running row is committed: one per
 * loop turn, the targets taking turns.
 *
 * A burst (fifty jobs due the same second, a poll claiming a hundred rows)
 * commits in one batch, and spawning all of it in that commit's callback
 * would hold the loop for the whole burst (on a slow host 2 ms a spawn,
 * 100 ms for fifty): a timer due meanwhile (a delayed start's instant,
 * another target's run, a client's reply) would wait for all of it.  So
 * each committed start waits in its target's list here, and a uv_idle
 * spawns one per loop turn: between two spawns the loop polls (timers,
 * commits, exits, clients).
 *
 * Targets take turns as flows do in fq_codel: a target that had nothing
 * waiting goes first (a lone delayed start is not queued behind a burst),
 * and a target that spawned and has more goes to the back.  Within a
 * target, first committed first spawned.  A start with nothing ahead of it
 * spawns at once, in its commit's callback.
 *
 * A delayed start (--at, jitter, retry backoff) is started SPAWN_LEAD
 * ahead of its instant (queue.c): its claim and running row commit
 * meanwhile, and the spawn alone waits here (e->spawn_later, by instant)
 * for the scheduler's timerfd, microsecond precise, to wake the queue at
 * the instant.  The commit's latency (a busy store, a burst's batch ahead
 * of it) is then no part of its lateness.  A crash in between leaves a
 * running row never spawned, as a crash between any commit and its spawn
 * does: it is not run twice.
 *
 * A spawn holds the loop for its whole length (posix_spawn waits for the
 * child's exec: 2 to 8 ms on a slow VM).  So a spawn of the queue's that
 * would still be going at the scheduler's next instant (a fire time, a
 * delayed start's) waits until that instant is served: the timed work is
 * on time, the queue's a few ms later.  The length counted is the longest
 * of the recent spawns (decaying), and a held spawn goes next whatever is
 * due, so the queue's work keeps moving however close the instants. */
#include <stdint.h>
#include <stdlib.h>

#include "core/timefmt.h"
#include "engine/engine.h"
#include "engine/spec.h"

#define SPAWN_MARGIN 500        /* us: beside the spawn's length */

static void spawn_one(struct engine *e)
{
	struct link *l = link_pop(&e->spawn_ring);
	struct target *t = link_entry(l, struct target, spawn_turn);
	struct arun *a = link_entry(link_pop(&t->spawns), struct arun, slink);
	int64_t t0 = now_us(), took;

	if (!link_empty(&t->spawns))
		link_insert_before(&e->spawn_ring, &t->spawn_turn);
	e->spawn_held = 0;
	run_spawn(e, a);
	took = now_us() - t0;
	e->spawn_cost -= e->spawn_cost / 8;
	if (took > e->spawn_cost)
		e->spawn_cost = took;
}

static void on_idle(uv_idle_t *h);

/* How long until the scheduler's next instant, when a spawn begun now
 * could still be going then (0 or less: it is due, its wake-up not yet
 * polled); INT64_MAX otherwise. */
static int64_t instant_near(const struct engine *e)
{
	int64_t at = scheduler_next(e), left;

	if (at < 0 || (left = at - now_us()) >= e->spawn_cost + SPAWN_MARGIN)
		return INT64_MAX;
	return left;
}

static void on_hold_over(uv_timer_t *t)
{
	struct engine *e = t->data;
	uv_idle_start(&e->spawn_idle, on_idle);
}

/* 1 when the next spawn waits for the scheduler's next instant: this
 * turn (the instant passed, its wake-up is polled next) or until then. */
static int spawn_hold(struct engine *e)
{
	int64_t left = instant_near(e);

	if (e->spawn_held || left == INT64_MAX)
		return 0;
	e->spawn_held = 1;
	if (left > 0) {
		uv_idle_stop(&e->spawn_idle);
		uv_timer_start(&e->spawn_hold, on_hold_over,
		               (uint64_t)(left + 999) / 1000, 0);
	}
	return 1;
}

static void on_idle(uv_idle_t *h)
{
	struct engine *e = h->data;

	if (link_empty(&e->spawn_ring)) {
		uv_idle_stop(h);        /* a turn with no spawn: the next goes at once */
		return;
	}
	if (!spawn_hold(e))
		spawn_one(e);
}

void spawnq_init(struct engine *e)
{
	link_init(&e->spawn_ring);
	link_init(&e->spawn_later);
	uv_idle_init(e->loop, &e->spawn_idle);
	e->spawn_idle.data = e;
	uv_timer_init(e->loop, &e->spawn_hold);
	e->spawn_hold.data = e;
}

/* Not before its instant: in e->spawn_later, by instant (mostly appends:
 * scanned from the tail), the queue woken then. */
static void spawn_later(struct engine *e, struct arun *a)
{
	int64_t at = a->r.time_not_before;
	struct link *l = &e->spawn_later;

	while (l->prev != &e->spawn_later &&
	       link_entry(l->prev, struct arun, slink)->r.time_not_before > at)
		l = l->prev;
	link_insert_before(l, &a->slink);
	queue_wake_at(e, at);
}

/* Its turn, in its target's list. */
static void spawn_queue(struct engine *e, struct arun *a)
{
	struct target *t = a->target;

	if (link_empty(&t->spawns))     /* a new flow: before the busy ones */
		link_insert_before(e->spawn_ring.next, &t->spawn_turn);
	link_insert_before(&t->spawns, &a->slink);
	if (uv_is_active((uv_handle_t *)&e->spawn_idle))
		return;
	if (uv_is_active((uv_handle_t *)&e->spawn_hold)) {
		int64_t left = instant_near(e);
		if (left > 0 && left != INT64_MAX)
			return;         /* the instant held for is still ahead */
		uv_timer_stop(&e->spawn_hold);  /* served: it goes now */
	}
	uv_idle_start(&e->spawn_idle, on_idle);
	spawn_one(e);
}

void spawnq_push(struct engine *e, struct arun *a)
{
	if (!a->forgotten && !e->shutting_down &&
	    a->r.time_not_before > now_us())
		spawn_later(e, a);
	else
		spawn_queue(e, a);
}

int64_t spawnq_due(struct engine *e, int64_t now)
{
	struct link *l;

	while ((l = e->spawn_later.next) != &e->spawn_later) {
		struct arun *a = link_entry(l, struct arun, slink);
		if (a->r.time_not_before > now)
			return a->r.time_not_before;
		link_remove(l);
		spawn_queue(e, a);
	}
	return 0;
}

static void spawn_drop(struct arun *a)
{
	exec_free(a->x);
	free(a->x);
	a->x = NULL;
}

/* engine_close: what still waits is not spawned (jobd stops: recovery
 * queues those runs again); the runs themselves are freed with e->runs. */
void spawnq_close(struct engine *e)
{
	for (struct link *l; (l = link_pop(&e->spawn_later));)
		spawn_drop(link_entry(l, struct arun, slink));
	for (struct link *l; (l = link_pop(&e->spawn_ring));) {
		struct target *t = link_entry(l, struct target, spawn_turn);
		for (struct link *r; (r = link_pop(&t->spawns));)
			spawn_drop(link_entry(r, struct arun, slink));
	}
	uv_close((uv_handle_t *)&e->spawn_idle, NULL);
	uv_close((uv_handle_t *)&e->spawn_hold, NULL);
}
