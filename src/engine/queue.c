/* queue.c — targets: named FIFO queues (by priority, then id) with a number
 * of slots.  A paused target starts nothing new; running runs go on.  Runs
 * with a not-before time (--at, retry backoff) wait in the queue and a
 * single timer wakes the queue for the earliest of them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/runstate.h"
#include "core/timefmt.h"
#include "engine/engine.h"
#include "engine/log.h"

struct target *queue_target(struct engine *e, const char *name)
{
	for (int i = 0; i < e->n_targets; i++)
		if (strcmp(e->targets[i]->name, name) == 0)
			return e->targets[i];
	return NULL;
}

struct target *queue_target_add(struct engine *e, const char *name,
                                int concurrency)
{
	struct target **v = realloc(e->targets,
	                            (size_t)(e->n_targets + 1) * sizeof *v);
	struct target *t = calloc(1, sizeof *t);
	if (!v || !t) {
		if (v)
			e->targets = v;
		free(t);
		return NULL;
	}
	e->targets = v;
	t->name = strdup(name);
	t->concurrency = concurrency;
	link_init(&t->queue);
	e->targets[e->n_targets++] = t;
	return t;
}

int queue_target_remove(struct engine *e, const char *name)
{
	for (int i = 0; i < e->n_targets; i++) {
		struct target *t = e->targets[i];
		if (strcmp(t->name, name) != 0)
			continue;
		if (t->running || t->waiting)
			return -EBUSY;
		free(t->name);
		free(t);
		memmove(e->targets + i, e->targets + i + 1,
		        (size_t)(e->n_targets - i - 1) * sizeof *e->targets);
		e->n_targets--;
		return 0;
	}
	return -ENOENT;
}

static int runs_before(const struct arun *a, const struct arun *b)
{
	if (a->r.priority != b->r.priority)
		return a->r.priority > b->r.priority;
	return a->r.id < b->r.id;
}

/* Mostly appends: scan back from the tail while the new run goes first. */
void queue_push(struct engine *e, struct arun *a)
{
	struct target *t = a->target;
	struct link *at = &t->queue;
	while (at->prev != &t->queue &&
	       runs_before(a, link_entry(at->prev, struct arun, qlink)))
		at = at->prev;
	link_insert_before(at, &a->qlink);
	t->waiting++;
	e->n_waiting++;
}

void queue_unlink(struct engine *e, struct arun *a)
{
	struct job *j = a->r.job ? engine_job_find(e, a->r.job) : NULL;
	link_remove(&a->qlink);
	a->target->waiting--;
	e->n_waiting--;
	if (j && j->queued > 0)
		j->queued--;
}

static void delay_tick(uv_timer_t *t)
{
	queue_pump_all(t->data);
}

static void delay_arm(struct engine *e, int64_t at, int64_t now)
{
	uint64_t ms = (uint64_t)((at - now + 999) / 1000);
	if (uv_is_active((uv_handle_t *)&e->delay_timer) &&
	    uv_timer_get_due_in(&e->delay_timer) <= ms)
		return;
	uv_timer_start(&e->delay_timer, delay_tick, ms, 0);
}

/* May this waiting run start now?  Not before its time, and a job with
 * overlap = queue runs one at a time. */
static int startable(struct engine *e, struct arun *a, int64_t now)
{
	if (a->r.time_not_before > now) {
		delay_arm(e, a->r.time_not_before, now);
		return 0;
	}
	if (a->r.job && a->r.trigger == TRIG_SCHEDULE) {
		struct job *j = engine_job_find(e, a->r.job);
		if (j && j->overlap == OVERLAP_QUEUE && j->running > 0)
			return 0;
	}
	return 1;
}

void queue_pump(struct engine *e, struct target *t)
{
	int64_t now = now_us();
	struct link *l = t->queue.next;

	while (!t->paused && !e->shutting_down && t->running < t->concurrency &&
	       l != &t->queue) {
		struct arun *a = link_entry(l, struct arun, qlink);
		l = l->next;
		if (!startable(e, a, now))
			continue;
		queue_unlink(e, a);
		a->r.status = runstate_next(a->r.status, EV_CLAIM);
		run_start(e, a);
	}
}

void queue_pump_all(struct engine *e)
{
	for (int i = 0; i < e->n_targets; i++)
		queue_pump(e, e->targets[i]);
}
