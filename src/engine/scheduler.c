/* scheduler.c — when jobs fire.  A min-heap of jobs by next fire time and
 * one libuv timer for the earliest: O(log n) per job and per fire, however
 * many jobs there are.
 *
 * The same wake-up starts the queue's delayed runs (--at, jitter, retry
 * backoff) at their instants: queue.c sets e->delay_at.
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
#include <sys/timerfd.h>
#include <unistd.h>

#include "core/schedule.h"
#include "core/timefmt.h"
#include "engine/engine.h"
#include "engine/metrics.h"
#include "engine/requires.h"
#include "engine/log.h"

#define SCHED_MAX_SLEEP_MS 10000

static struct job *node_job(struct heap_node *n)
{
	return link_entry(n, struct job, fire);
}

uint64_t scheduler_seed(const struct job *j)
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
	return sched_next(j->sched, after, last, scheduler_seed(j));
}

static void tick(struct engine *e);

/* The wake-up is a timerfd on CLOCK_REALTIME with an absolute deadline:
 * microsecond precise (libuv's timers count whole milliseconds of
 * monotonic time), and TFD_TIMER_CANCEL_ON_SET wakes it when the clock is
 * set, so a step is seen at once.  It never sleeps past SCHED_MAX_SLEEP
 * either (suspend). */
static void on_wake(uv_poll_t *h, int status, int events)
{
	struct engine *e = h->data;
	uint64_t n;
	(void)status;
	(void)events;
	if (read(e->sched_fd, &n, sizeof n) < 0 && errno != ECANCELED &&
	    errno != EAGAIN)
		log_warn("scheduler: timerfd read: %s", strerror(errno));
	tick(e);
}

/* The wake-up: the next fire or the queue's next delayed start
 * (e->delay_at), whichever comes first. */
int64_t scheduler_next(const struct engine *e)
{
	struct heap_node *top = heap_peek(&e->fires);
	int64_t at = top ? top->key : -1;
	if (e->delay_at > 0 && (at < 0 || e->delay_at < at))
		at = e->delay_at;
	return at;
}

static void rearm(struct engine *e)
{
	struct itimerspec its = {{0, 0}, {0, 0}};
	int64_t at = scheduler_next(e);
	if (e->sched_fd < 0)
		return;
	if (at >= 0) {
		int64_t cap = now_us() + SCHED_MAX_SLEEP_MS * 1000LL;
		if (at > cap)
			at = cap;
		if (at <= 0)
			at = 1;
		its.it_value.tv_sec = at / US_PER_S;
		its.it_value.tv_nsec = (long)(at % US_PER_S) * 1000;
	}
	if (timerfd_settime(e->sched_fd, TFD_TIMER_ABSTIME |
	                    TFD_TIMER_CANCEL_ON_SET, &its, NULL) < 0)
		log_error("scheduler: timerfd_settime: %s", strerror(errno));
}

int scheduler_init(struct engine *e)
{
	e->sched_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (e->sched_fd < 0)
		return -errno;
	uv_poll_init(e->loop, &e->sched_poll, e->sched_fd);
	e->sched_poll.data = e;
	uv_poll_start(&e->sched_poll, UV_READABLE, on_wake);
	return 0;
}

static void scheduler_closed(uv_handle_t *h)
{
	struct engine *e = h->data;
	close(e->sched_fd);
	e->sched_fd = -1;
}

void scheduler_close(struct engine *e)
{
	if (e->sched_fd >= 0)
		uv_close((uv_handle_t *)&e->sched_poll, scheduler_closed);
}

/* nodes = ... names other daemons; selectors = ... other labels */
int engine_job_runs_here(const struct engine *e, const struct job *j)
{
	int master = e->cfg.role && strcmp(e->cfg.role, "master") == 0;
	return job_on_node(j, e->cfg.name) &&
	       job_on_labels(j, e->cfg.labels, !master);
}

static int armable(const struct engine *e, const struct job *j)
{
	if (!engine_job_runs_here(e, j))
		return 0;
	/* a job that needs confirmation runs only when someone says yes:
	 * the scheduler cannot ask (cron's tasks with confirmation = true) */
	if (!j->sched || !j->enabled || j->confirm)
		return 0;
	int k = sched_kind(j->sched);
	return k != SCHED_NEVER && k != SCHED_REBOOT;
}

void scheduler_disarm_job(struct engine *e, struct job *j)
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
	scheduler_disarm_job(e, j);
	lease_want(e, j);
	if (!armable(e, j))
		return;
	int64_t next, missed = j->last_run > 0 ? next_fire(j, j->last_run) : -1;
	if (job_catchup(j) == CATCHUP_ONCE && missed >= 0 && missed <= now)
		next = missed;
	else if (sched_kind(j->sched) == SCHED_EVERY &&
	         job_catchup(j) == CATCHUP_NONE)
		next = sched_next(j->sched, now, now, scheduler_seed(j));
	else
		next = next_fire(j, now);
	j->next_fire = next;
	if (next < 0)
		return;
	j->fire.key = next;
	if (heap_push(&e->fires, &j->fire) < 0)
		log_error("job %s: out of memory arming its schedule", j->name);
}

void scheduler_rearm(struct engine *e)
{
	if (!e->shutting_down)
		rearm(e);
}

void scheduler_arm_job(struct engine *e, struct job *j, int64_t now)
{
	arm(e, j, now);
	if (!e->shutting_down)
		rearm(e);
}

static void lateness_add(struct engine *e, int64_t late)
{
	e->lateness[e->n_lateness++ % 1024] = late;
	metrics_lateness(e, late);
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

void scheduler_lateness(const struct engine *e, double *p50, double *p99)
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
	persist_kv_put(e, key, val);
}

/* A due job's run, created but not yet stored (the caller stores the
 * runs of a whole burst together); NULL when it does not run. */
static struct arun *fire(struct engine *e, struct job *j, int64_t when,
                         int trigger)
{
	char err[256];
	struct arun *a;

	j->last_run = when;
	if (job_keeps_last_run(j))
		persist_last_run(e, j);
	/* unmet requirements skip a scheduled run silently (the reference:
	 * a task runs only where its service is up); `jobctl show` counts */
	if (job_requires_met(e, j, err, sizeof err) < 0) {
		j->skipped_requires++;
		log_debug("job %s: skipped: %s", j->name, err);
		return NULL;
	}
	if (j->running + j->queued > 0) {
		if (j->overlap == OVERLAP_SKIP) {
			j->skipped++;
			log_info("job %s: previous run still going, skipped",
			         j->name);
			return NULL;
		}
		if (j->overlap == OVERLAP_QUEUE &&
		    j->queued >= j->overlap_queue_max) {
			j->skipped++;
			log_info("job %s: %d run%s already waiting (overlap_queue_max),"
			         " skipped", j->name, j->queued,
			         j->queued == 1 ? "" : "s");
			return NULL;
		}
		if (j->overlap == OVERLAP_ALLOW && j->max_parallel &&
		    j->running + j->queued >= j->max_parallel) {
			j->skipped++;
			log_info("job %s: %d runs going (max_parallel), skipped",
			         j->name, j->running + j->queued);
			return NULL;
		}
		if (j->overlap == OVERLAP_REPLACE)
			replace_runs(e, j);
	}
	struct run_req rq = {.job = j, .trigger = trigger,
	                     .priority = j->priority, .uid = j->owner_uid,
	                     .status = RUN_WAITING, .fire_time = when};
	if (j->jitter > 0)
		rq.not_before = when + (int64_t)(((uint64_t)rand() << 31 ^
		                (uint64_t)rand()) % (uint64_t)j->jitter);
	if (run_create(e, &rq, &a, err, sizeof err) < 0) {
		log_error("job %s: cannot create its run: %s", j->name, err);
		return NULL;
	}
	if (j->placement == PLACEMENT_ONE)
		a->lease_fire = when;   /* claimed with its insert (persist.c) */
	return a;
}

static void fire_store(struct engine *e, struct job *j, struct arun *a)
{
	char err[256];
	if (!a)
		return;
	if (run_store(e, a, j, err, sizeof err) < 0)
		log_error("job %s: cannot enqueue: %s", j->name, err);
	else
		log_debug("job %s fired: run %s", j->name, a->r.jid);
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

static void tick(struct engine *e)
{
	int64_t now = now_us();
	struct heap_node *n;
	/* the jobs that fired go back in the heap once every due job has
	 * its run: their next times and the heap work would otherwise make
	 * each run of a busy second later than the one before */
	struct fired { struct job *j; int64_t when; struct arun *a; } *fired = NULL;
	size_t n_fired = 0, cap = 0;

	while ((n = heap_peek(&e->fires)) && n->key <= now) {
		struct job *j = node_job(n);
		int64_t when = n->key;
		int catchup = when < now - US_PER_S && j->last_run < when &&
		              job_catchup(j) == CATCHUP_ONCE;
		heap_pop(&e->fires);
		j->fire.slot = SIZE_MAX;
		/* placement = one: another daemon's while it holds the lease;
		 * this one goes on counting the times, to be ready */
		if (j->placement == PLACEMENT_ONE && !lease_held(e, j, now)) {
			j->last_run = when;     /* an @every job: its next, not now */
			rearm_fired(e, j, when, now);
			continue;
		}
		if (!catchup)
			lateness_add(e, now_us() - when);
		/* a catch-up run happens now: it is the last run that an
		 * interval counts from (anacron), not the missed time */
		struct arun *a = fire(e, j, catchup ? now : when,
		                      catchup ? TRIG_CATCHUP : TRIG_SCHEDULE);
		if (n_fired == cap) {
			size_t c = cap ? cap * 2 : 64;
			struct fired *v = realloc(fired, c * sizeof(*v));
			if (!v) {       /* then one by one */
				fire_store(e, j, a);
				rearm_fired(e, j, when, now);
				continue;
			}
			fired = v;
			cap = c;
		}
		fired[n_fired++] = (struct fired){j, when, a};
	}
	/* the burst's rows, then its next times: stored in one batch before
	 * any of them starts, and none of them waits for the others' rows */
	for (size_t i = 0; i < n_fired; i++)
		fire_store(e, fired[i].j, fired[i].a);
	for (size_t i = 0; i < n_fired; i++)
		rearm_fired(e, fired[i].j, fired[i].when, now);
	free(fired);
	queue_pump_all(e);
	rearm(e);
}

void scheduler_tick(struct engine *e)
{
	tick(e);
}

void scheduler_start(struct engine *e, int at_boot)
{
	int64_t now = now_us();
	for (int i = 0; i < e->n_jobs; i++) {
		struct job *j = e->jobs[i];
		arm(e, j, now);
		if (at_boot && j->enabled && !j->confirm && j->sched &&
		    engine_job_runs_here(e, j) &&
		    sched_kind(j->sched) == SCHED_REBOOT)
			fire_store(e, j, fire(e, j, now, TRIG_SCHEDULE));
	}
	queue_pump_all(e);
	rearm(e);
}

void scheduler_stop(struct engine *e)
{
	struct itimerspec off = {{0, 0}, {0, 0}};
	if (e->sched_fd >= 0)
		timerfd_settime(e->sched_fd, 0, &off, NULL);
}
