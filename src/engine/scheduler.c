/* scheduler.c — when jobs fire.  A min-heap of jobs by next fire time and
 * one libuv timer for the earliest: O(log n) per job and per fire, however
 * many jobs there are.
 *
 * Fire times are wall-clock instants.  The timer is re-armed from the wall
 * clock at every wake and never sleeps longer than SCHED_MAX_SLEEP, so a
 * clock step (NTP, suspend) is noticed quickly: after a step forward the
 * jobs whose time passed fire once (not once per missed time); after a
 * step back nothing fires again, because a job's next time is always after
 * its last fire. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/schedule.h"
#include "core/timefmt.h"
#include "engine/engine.h"
#include "engine/log.h"

#define SCHED_MAX_SLEEP_MS 10000

static struct job *node_job(struct heap_node *n)
{
	return link_entry(n, struct job, fire);
}

uint64_t sched_seed(const struct job *j)
{
	uint64_t h = 1469598103934665603ULL;        /* FNV-1a */
	for (const char *p = j->name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

/* The next fire strictly after `after` — and after the last fire, so a
 * clock stepped back never fires a job twice. */
static int64_t next_fire(const struct job *j, int64_t after)
{
	int64_t last = j->last_run;
	if (last > after)
		after = last;
	return sched_next(j->sched, after, last, sched_seed(j));
}

static void tick(uv_timer_t *t);

static void rearm(struct engine *e)
{
	struct heap_node *top = heap_peek(&e->fires);
	if (!top) {
		uv_timer_stop(&e->sched_timer);
		return;
	}
	int64_t delta = top->key - now_us();
	uint64_t ms = delta <= 0 ? 0 : (uint64_t)((delta + 999) / 1000);
	if (ms > SCHED_MAX_SLEEP_MS)
		ms = SCHED_MAX_SLEEP_MS;
	uv_update_time(e->loop);
	uv_timer_start(&e->sched_timer, tick, ms, 0);
}

static int armable(const struct job *j)
{
	if (!j->sched || !j->enabled)
		return 0;
	int k = sched_kind(j->sched);
	return k != SCHED_NEVER && k != SCHED_REBOOT;
}

void sched_disarm_job(struct engine *e, struct job *j)
{
	if (j->fire.slot != SIZE_MAX && heap_contains(&e->fires, &j->fire))
		heap_remove(&e->fires, &j->fire);
	j->fire.slot = SIZE_MAX;
	j->next_fire = -1;
}

/* Computes a job's next fire.  With catch-up, a fire time missed since the
 * last run (the daemon was down, the job disabled) stays the key: it is in
 * the past, so it fires once at the next tick, as a catch-up. */
static void arm(struct engine *e, struct job *j, int64_t now)
{
	sched_disarm_job(e, j);
	if (!armable(j))
		return;
	int64_t next, missed = j->last_run > 0 ? next_fire(j, j->last_run) : -1;
	if (job_catchup(j) == CATCHUP_ONCE && missed >= 0 && missed <= now)
		next = missed;
	else if (sched_kind(j->sched) == SCHED_EVERY &&
	         job_catchup(j) == CATCHUP_NONE)
		next = sched_next(j->sched, now, now, sched_seed(j));
	else
		next = next_fire(j, now);
	j->next_fire = next;
	if (next < 0)
		return;
	j->fire.key = next;
	if (heap_push(&e->fires, &j->fire) < 0)
		log_error("job %s: out of memory arming its schedule", j->name);
}

void sched_arm_job(struct engine *e, struct job *j, int64_t now)
{
	arm(e, j, now);
	if (!e->shutting_down)
		rearm(e);
}

static void lateness_add(struct engine *e, int64_t late)
{
	e->lateness[e->n_lateness++ % 1024] = late;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

void sched_lateness(const struct engine *e, double *p50, double *p99)
{
	int n = e->n_lateness < 1024 ? e->n_lateness : 1024;
	int64_t v[1024];
	*p50 = *p99 = 0;
	if (!n)
		return;
	memcpy(v, e->lateness, (size_t)n * sizeof *v);
	qsort(v, (size_t)n, sizeof *v, cmp64);
	*p50 = (double)v[n / 2] / 1000.0;
	*p99 = (double)v[(n * 99) / 100] / 1000.0;
}

/* Kills the job's running runs and drops its queued ones (overlap=replace). */
static void replace_runs(struct engine *e, struct job *j)
{
	struct link *l = e->runs.next;
	while (l != &e->runs) {
		struct arun *a = link_entry(l, struct arun, all);
		l = l->next;
		if (!a->r.job || strcmp(a->r.job, j->name) != 0)
			continue;
		if (a->r.status == RUN_RUNNING)
			run_signal(e, a, SIGTERM);
		else if (a->r.status == RUN_WAITING)
			run_cancel(e, a);
	}
}

static void persist_last_run(struct engine *e, struct job *j)
{
	char key[128], val[32];
	snprintf(key, sizeof key, "last:%s", j->name);
	snprintf(val, sizeof val, "%lld", (long long)j->last_run);
	engine_write(e);
	if (store_kv_put(e->store, key, val) < 0)
		log_warn("job %s: cannot save its last run time: %s", j->name,
		         store_error(e->store));
}

static void fire(struct engine *e, struct job *j, int64_t when, int trigger)
{
	char err[256];
	struct arun *a;

	j->last_run = when;
	if (job_keeps_last_run(j))
		persist_last_run(e, j);
	if (j->confirm) {
		log_warn("job %s: needs confirmation, never runs from its "
		         "schedule", j->name);
		return;
	}
	if (j->running + j->queued > 0) {
		if (j->overlap == OVERLAP_SKIP) {
			log_info("job %s: previous run still going, skipped",
			         j->name);
			return;
		}
		if (j->overlap == OVERLAP_REPLACE)
			replace_runs(e, j);
	}
	struct run_req rq = {.job = j, .trigger = trigger,
	                     .priority = j->priority, .uid = j->owner_uid,
	                     .status = RUN_WAITING};
	if (j->jitter > 0)
		rq.not_before = when + (int64_t)(((uint64_t)rand() << 31 ^
		                (uint64_t)rand()) % (uint64_t)j->jitter);
	if (run_enqueue(e, &rq, &a, err, sizeof err) < 0) {
		log_error("job %s: cannot enqueue: %s", j->name, err);
		return;
	}
	log_debug("job %s fired: run %s", j->name, a->r.jid);
	/* the caller pumps the queues once every due job has its run: a
	 * start commits and spawns, and the jobs due at the same second
	 * should not wait for each other's starts to be enqueued */
}

/* Puts a job that fired back in the heap at its next time. */
static void rearm_fired(struct engine *e, struct job *j, int64_t when,
                        int64_t now)
{
	/* after a late wake (clock step, busy loop) skip the missed times:
	 * the next fire is after now */
	int64_t next = next_fire(j, when > now ? when : now);
	j->next_fire = next;
	if (next >= 0) {
		j->fire.key = next;
		heap_push(&e->fires, &j->fire);
	}
}

static void tick(uv_timer_t *t)
{
	struct engine *e = t->data;
	int64_t now = now_us();
	struct heap_node *n;
	/* the jobs that fired go back in the heap once every due job has
	 * its run: their next times and the heap work would otherwise make
	 * each run of a busy second later than the one before */
	struct fired { struct job *j; int64_t when; } *fired = NULL;
	size_t n_fired = 0, cap = 0;

	while ((n = heap_peek(&e->fires)) && n->key <= now) {
		struct job *j = node_job(n);
		int64_t when = n->key;
		int catchup = when < now - US_PER_S && j->last_run < when &&
		              job_catchup(j) == CATCHUP_ONCE;
		heap_pop(&e->fires);
		j->fire.slot = SIZE_MAX;
		if (!catchup)
			lateness_add(e, now_us() - when);
		/* a catch-up run happens now: it is the last run that an
		 * interval counts from (anacron), not the missed time */
		fire(e, j, catchup ? now : when,
		     catchup ? TRIG_CATCHUP : TRIG_SCHEDULE);
		if (n_fired == cap) {
			size_t c = cap ? cap * 2 : 64;
			struct fired *v = realloc(fired, c * sizeof(*v));
			if (!v) {       /* then one by one */
				rearm_fired(e, j, when, now);
				continue;
			}
			fired = v;
			cap = c;
		}
		fired[n_fired++] = (struct fired){j, when};
	}
	for (size_t i = 0; i < n_fired; i++)
		rearm_fired(e, fired[i].j, fired[i].when, now);
	free(fired);
	queue_pump_all(e);
	rearm(e);
}

void sched_start(struct engine *e, int at_boot)
{
	int64_t now = now_us();
	for (int i = 0; i < e->n_jobs; i++) {
		struct job *j = e->jobs[i];
		arm(e, j, now);
		if (at_boot && j->enabled && j->sched &&
		    sched_kind(j->sched) == SCHED_REBOOT)
			fire(e, j, now, TRIG_SCHEDULE);
	}
	queue_pump_all(e);
	rearm(e);
}

void sched_stop(struct engine *e)
{
	uv_timer_stop(&e->sched_timer);
}
