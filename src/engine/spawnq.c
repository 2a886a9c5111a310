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
 * spawns at once, in its commit's callback. */
#include <stdlib.h>

#include "engine/engine.h"
#include "engine/spec.h"

static void spawn_one(struct engine *e)
{
	struct link *l = link_pop(&e->spawn_ring);
	struct target *t = link_entry(l, struct target, spawn_turn);
	struct arun *a = link_entry(link_pop(&t->spawns), struct arun, slink);

	if (!link_empty(&t->spawns))
		link_insert_before(&e->spawn_ring, &t->spawn_turn);
	run_spawn(e, a);
}

static void on_idle(uv_idle_t *h)
{
	struct engine *e = h->data;

	if (link_empty(&e->spawn_ring)) {
		uv_idle_stop(h);        /* a turn with no spawn: the next goes at once */
		return;
	}
	spawn_one(e);
}

void spawnq_init(struct engine *e)
{
	link_init(&e->spawn_ring);
	uv_idle_init(e->loop, &e->spawn_idle);
	e->spawn_idle.data = e;
}

void spawnq_push(struct engine *e, struct arun *a)
{
	struct target *t = a->target;

	if (link_empty(&t->spawns)) {   /* a new flow: before the busy ones */
		link_insert_before(e->spawn_ring.next, &t->spawn_turn);
	}
	link_insert_before(&t->spawns, &a->slink);
	if (uv_is_active((uv_handle_t *)&e->spawn_idle))
		return;
	uv_idle_start(&e->spawn_idle, on_idle);
	spawn_one(e);
}

/* engine_close: what still waits is not spawned (jobd stops: recovery
 * queues those runs again); the runs themselves are freed with e->runs. */
void spawnq_close(struct engine *e)
{
	for (struct link *l; (l = link_pop(&e->spawn_ring));) {
		struct target *t = link_entry(l, struct target, spawn_turn);
		for (struct link *r; (r = link_pop(&t->spawns));) {
			struct arun *a = link_entry(r, struct arun, slink);
			exec_free(a->x);
			free(a->x);
			a->x = NULL;
		}
	}
	uv_close((uv_handle_t *)&e->spawn_idle, NULL);
}
