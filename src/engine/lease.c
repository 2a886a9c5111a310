/* lease.c — placement = one: a job that several daemons share (one store)
 * fires its schedule on one of them at a time, the holder of its lease in
 * the store (store.h: lease_take .. lease_release).
 *
 * Every daemon that could run such a job keeps a lease here and a timer
 * every lease_timeout / 3: the holder renews, the others try to take it,
 * which succeeds once it has expired (its holder died or lost the store)
 * or was released (a clean stop).  The in-memory `held` counts only
 * until lease_timeout after the last renewal that succeeded: a daemon that
 * cannot reach the store stops firing rather than fire twice.  Each fire
 * is claimed in the store as well, in the transaction of its run's insert
 * (persist.c): a fire time is run once across the cluster, even by a
 * holder that lost the lease without knowing it yet.
 *
 * Store work goes through the store thread (storeq): the loop never
 * waits for it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "engine/engine.h"
#include "engine/lease.h"
#include "engine/log.h"
#include "engine/storeq.h"

struct lease {
	struct lease *next;
	struct engine *e;
	char *job;
	int64_t ttl;
	uv_timer_t timer;
	int held;
	int64_t confirmed;       /* when the last take that succeeded ran */
	char holder[256];        /* as last seen ("" unknown / nobody) */
	int64_t expires;         /* as last seen */
	int busy;                /* a take or release in flight */
	int gone;                /* not wanted: freed once not busy */
	int warned;              /* the store's failure was logged */
};

struct lease_op {
	struct storeq_op op;
	struct lease *l;
	char *job, *holder;
	int64_t ttl, now;
	int release;
	struct store_lease before;
};

static const char *me(const struct engine *e)
{
	return e->cfg.name ? e->cfg.name : "";
}

static struct lease *lease_find(const struct engine *e, const char *job)
{
	for (struct lease *l = e->leases; l; l = l->next)
		if (!l->gone && strcmp(l->job, job) == 0)
			return l;
	return NULL;
}

int lease_wanted(const struct engine *e, const struct job *j)
{
	return j && j->placement == PLACEMENT_ONE && j->enabled &&
	       engine_job_runs_here(e, j);
}

static void lease_closed(uv_handle_t *h)
{
	struct lease *l = h->data;
	free(l->job);
	free(l);
}

/* Unlinks and frees l (its timer closes first). */
static void lease_free(struct engine *e, struct lease *l)
{
	for (struct lease **p = &e->leases; *p; p = &(*p)->next)
		if (*p == l) {
			*p = l->next;
			break;
		}
	uv_timer_stop(&l->timer);
	uv_close((uv_handle_t *)&l->timer, lease_closed);
}

static int op_work(struct store *s, struct storeq_op *op, int replay)
{
	struct lease_op *o = (struct lease_op *)op;
	(void)replay;           /* both are the same when done twice */
	if (o->release)
		return store_lease_release(s, o->job, o->holder);
	o->now = now_us();
	return store_lease_take(s, o->job, o->holder, o->now, o->ttl,
	                        &o->before);
}

/* Taken after not being held: the schedule goes on from the last fire of
 * the cluster (an @every job does not run sooner than its interval after
 * the previous holder's run; a missed cron time is made up only with
 * catchup = once), and the log says from whom. */
static void lease_taken(struct engine *e, struct lease *l,
                        const struct store_lease *b)
{
	struct job *j = engine_job_find(e, l->job);
	if (!b->holder[0] || strcmp(b->holder, me(e)) == 0)
		log_info("job %s: lease taken: its schedule runs here", l->job);
	else
		log_info("job %s: lease moved here from %s (%s)", l->job,
		         b->holder, b->expires == 0 ? "released" : "expired");
	if (!j)
		return;
	/* the cluster's last fire is the job's, not the times this daemon
	 * passed over while another held it */
	if (b->last_fire > 0)
		j->last_run = b->last_fire;
	if (!e->shutting_down)
		scheduler_arm_job(e, j, now_us());
}

static void take_done(struct lease *l, struct lease_op *o, int rc,
                      const char *err)
{
	struct engine *e = l->e;
	if (rc == 0) {
		int was = l->held && now_us() < l->confirmed + l->ttl;
		l->held = 1;
		l->warned = 0;
		l->confirmed = o->now;
		l->expires = o->now + o->ttl;
		snprintf(l->holder, sizeof l->holder, "%s", me(e));
		if (!was)
			lease_taken(e, l, &o->before);
	} else if (rc == -EBUSY) {
		if (l->held)
			log_warn("job %s: lease lost to %s: its schedule stops "
			         "here", l->job, o->before.holder);
		l->held = 0;
		l->warned = 0;
		memcpy(l->holder, o->before.holder, sizeof l->holder);
		l->expires = o->before.expires;
	} else if (!l->warned) {
		l->warned = 1;
		log_warn("job %s: cannot %s its lease: %s", l->job,
		         l->held ? "renew" : "take", err && *err ? err
		                                               : strerror(-rc));
	}
}

static void op_done(struct storeq_op *op, int rc, const char *err)
{
	struct lease_op *o = (struct lease_op *)op;
	struct lease *l = o->l;
	if (l) {
		l->busy = 0;
		if (l->gone)
			lease_free(l->e, l);
		else if (!o->release)
			take_done(l, o, rc, err);
	}
	free(o->job);
	free(o->holder);
	free(o);
}

/* l NULL: a release nobody waits for (the lease is already gone). */
static void lease_submit(struct engine *e, struct lease *l, const char *job,
                         int64_t ttl, int release)
{
	struct lease_op *o = calloc(1, sizeof *o);
	if (!o || !(o->job = strdup(job)) || !(o->holder = strdup(me(e)))) {
		if (o)
			free(o->job);
		free(o);
		return;
	}
	o->op.work = op_work;
	o->op.done = op_done;
	o->l = l;
	o->ttl = ttl;
	o->release = release;
	if (l)
		l->busy = 1;
	storeq_add(e->sq, &o->op);
}

/* Lets go of l: released in the store if it may be held here, freed. */
static void lease_drop(struct engine *e, struct lease *l)
{
	if ((l->held || l->busy) && e->sq) {   /* busy: a take may land */
		if (l->held)
			log_info("job %s: lease released", l->job);
		lease_submit(e, NULL, l->job, 0, 1);
	}
	l->held = 0;
	l->gone = 1;
	if (!l->busy)
		lease_free(e, l);
}

static void on_timer(uv_timer_t *t)
{
	struct lease *l = t->data;
	struct engine *e = l->e;
	if (l->busy || !e->sq || e->shutting_down)
		return;
	if (!lease_wanted(e, engine_job_find(e, l->job))) {
		lease_drop(e, l);
		return;
	}
	lease_submit(e, l, l->job, l->ttl, 0);
}

void lease_want(struct engine *e, const struct job *j)
{
	if (j->placement != PLACEMENT_ONE && !e->leases)
		return;         /* every arm of every job passes here */
	struct lease *l = lease_find(e, j->name);
	if (!lease_wanted(e, j)) {
		if (l)
			lease_drop(e, l);
		return;
	}
	if (l) {
		if (l->ttl != j->lease_timeout) {
			l->ttl = j->lease_timeout;
			uv_timer_set_repeat(&l->timer, (uint64_t)(l->ttl / 3000));
		}
		return;
	}
	if (!(l = calloc(1, sizeof *l)) || !(l->job = strdup(j->name))) {
		free(l);
		log_error("job %s: out of memory for its lease: it does not "
		          "run here", j->name);
		return;
	}
	l->e = e;
	l->ttl = j->lease_timeout;
	uv_timer_init(e->loop, &l->timer);
	l->timer.data = l;
	l->next = e->leases;
	e->leases = l;
	/* at once (at start-up: once the loop runs), then every third */
	uv_timer_start(&l->timer, on_timer, 0, (uint64_t)(l->ttl / 3000));
}

void lease_forget(struct engine *e, const char *job)
{
	struct lease *l = lease_find(e, job);
	if (l)
		lease_drop(e, l);
}

int lease_held(struct engine *e, const struct job *j, int64_t now)
{
	struct lease *l = lease_find(e, j->name);
	if (!l || !l->held)
		return 0;
	if (now < l->confirmed + l->ttl)
		return 1;
	l->held = 0;
	log_warn("job %s: lease not renewed for %llds (the store out of "
	         "reach?): its schedule stops here", j->name,
	         (long long)(l->ttl / US_PER_S));
	return 0;
}

void lease_fire_lost(struct engine *e, struct arun *a)
{
	log_info("job %s: fire time %lld.%06lld not run here: its lease is "
	         "another daemon's, or that time ran already", a->r.job,
	         (long long)(a->lease_fire / US_PER_S),
	         (long long)(a->lease_fire % US_PER_S));
	if (!a->starting)       /* else run_committed drops it */
		run_drop(e, a);
}

int engine_lease(struct engine *e, const struct job *j,
                 struct engine_lease *out)
{
	struct lease *l = lease_find(e, j->name);
	memset(out, 0, sizeof *out);
	if (!l)
		return -ENOENT;
	out->here = lease_held(e, j, now_us());
	snprintf(out->holder, sizeof out->holder, "%s",
	         out->here ? me(e) : l->holder);
	out->expires = out->here ? l->confirmed + l->ttl : l->expires;
	return 0;
}

int engine_lease_refuse(struct engine *e, const struct job *j, char *err,
                        size_t errlen)
{
	struct engine_lease info;
	if (j->placement != PLACEMENT_ONE || !lease_wanted(e, j))
		return 0;
	if (engine_lease(e, j, &info) == 0 && info.here)
		return 0;
	snprintf(err, errlen, "%s '%s' has placement = one and runs on %s%s",
	         strstr(j->name, ".task#") ? "task" : "job", j->name,
	         info.holder[0] ? info.holder : "the lease holder",
	         info.holder[0] ? " (the lease holder)"
	                        : " (none holds it yet; try again)");
	return -ECANCELED;
}

void lease_release_all(struct engine *e)
{
	for (struct lease *l = e->leases, *next; l; l = next) {
		next = l->next;
		lease_drop(e, l);
	}
}

void lease_close(struct engine *e)
{
	while (e->leases) {
		e->leases->busy = 0;
		lease_free(e, e->leases);
	}
}
