/* queue.c — targets: named FIFO queues (by priority, then id) with a number
 * of slots.  A paused target starts nothing new; running runs go on.  Runs
 * with a not-before time (--at, jitter, retry backoff) wait in the queue and
 * the scheduler's timer wakes the queue at the earliest of them.
 *
 * A waiting run is claimed in the store (waiting -> accepted, guarded by
 * its status) before it starts, so that two jobds sharing a table, or a
 * jobd and a program that edits the table, never both run one row.  Rows
 * that other programs INSERT are found by queue_poll, which claims them
 * and queues them already accepted. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/jid.h"
#include "core/runstate.h"
#include "core/timefmt.h"
#include "engine/engine.h"
#include "engine/log.h"
#include "engine/storeq.h"

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
	link_init(&t->spawns);
	link_init(&t->spawn_turn);
	e->targets[e->n_targets++] = t;
	return t;
}

/* -EPERM for the default target (every job without a target needs it),
 * -EADDRINUSE when a job names it, -EROFS for one of the config file's,
 * -EBUSY while it holds runs: a refused
 * removal changes nothing. */
int queue_target_remove(struct engine *e, const char *name)
{
	if (strcmp(name, "default") == 0)
		return queue_target(e, name) ? -EPERM : -ENOENT;
	for (int i = 0; i < e->n_jobs; i++)
		if (e->jobs[i]->target && strcmp(e->jobs[i]->target, name) == 0)
			return queue_target(e, name) ? -EADDRINUSE : -ENOENT;
	for (int i = 0; i < e->n_targets; i++) {
		struct target *t = e->targets[i];
		if (strcmp(t->name, name) != 0)
			continue;
		if (t->from_config)
			return -EROFS;
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

/* Priority, then first come first: by row id, which the store thread
 * sets only after a run is queued (0 until then), so by jid (given in
 * creation order) while either has none. */
static int runs_before(const struct arun *a, const struct arun *b)
{
	if (a->r.priority != b->r.priority)
		return a->r.priority > b->r.priority;
	if (a->r.id && b->r.id)
		return a->r.id < b->r.id;
	return strcmp(a->r.jid, b->r.jid) < 0;
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

/* A waiting run not due yet: the scheduler's timerfd (an absolute
 * wall-clock deadline, microsecond precise, woken by clock steps) wakes the
 * queue at its instant.  e->delay_at is the earliest such instant seen
 * since the last full pump; queue_pump_all starts it afresh. */
void queue_wake_at(struct engine *e, int64_t at)
{
	if (e->delay_at && e->delay_at <= at)
		return;
	e->delay_at = at;
	scheduler_rearm(e);
}

/* May this waiting run start now?  Not before its time (less the lead:
 * its commit goes ahead, its spawn waits for the instant in spawnq.c), and
 * a job with overlap = queue runs one at a time. */
static int startable(struct engine *e, struct arun *a, int64_t now)
{
	if (a->r.time_not_before - SPAWN_LEAD > now) {
		queue_wake_at(e, a->r.time_not_before - SPAWN_LEAD);
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
		run_start(e, a);
	}
	/* the original polls again for a target whose last poll was cut at
	 * the fetch limit, once its queue has room */
	if (t->poll_more && !t->polling && !t->paused && !e->shutting_down &&
	    t->waiting < t->concurrency)
		queue_poll(e, t);
}

/* ---- poll: rows other programs INSERTed ---- */

static int id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

struct poll_ctx {
	int64_t *held;           /* ids of this target's runs in memory, sorted */
	size_t n_held;
	struct run *rows;
	int n, max;
};

static int poll_collect(void *ctx, struct run *r)
{
	struct poll_ctx *p = ctx;
	if (p->n_held && bsearch(&r->id, p->held, p->n_held, sizeof *p->held,
	                         id_cmp))
		return 0;
	p->rows[p->n++] = *r;
	memset(r, 0, sizeof *r);
	return p->n == p->max;
}

/* One poll's claims, in flight on the store thread. */
struct poll_claims {
	struct engine *e;
	char *target;            /* by name: it may be removed meanwhile */
	struct run *rows;
	struct poll_claim *ones; /* each row's claim: the callbacks' args */
	int n, left, claimed, full;
};

struct poll_claim {
	struct poll_claims *pc;
	int i;
};

/* Drops a hold on pc (each claim in flight has one, and the loop that
 * hands them over): the last one ends the poll. */
static void poll_claims_unref(struct poll_claims *pc)
{
	struct engine *e = pc->e;
	if (--pc->left > 0)
		return;
	struct target *t = queue_target(e, pc->target);
	if (pc->claimed)
		log_info("poll %s: claimed %d waiting run%s", pc->target,
		         pc->claimed, pc->claimed == 1 ? "" : "s");
	if (t) {
		/* more rows may wait behind a full batch; a batch that claimed
		 * none (store errors) is not repeated at once */
		t->poll_more = pc->full && pc->claimed > 0;
		t->polling = 0;
	}
	for (int k = 0; k < pc->n; k++)
		run_clear(&pc->rows[k]);
	free(pc->rows);
	free(pc->target);
	free(pc->ones);
	free(pc);
	if (t)
		queue_pump(e, t);
}

/* One claim ended: its row is queued if ours. */
static void poll_claim_end(struct poll_claims *pc, int i, int rc,
                           const char *err)
{
	struct engine *e = pc->e;
	struct run *r = &pc->rows[i];

	if (rc == 0) {
		r->status = RUN_ACCEPTED;
		free(r->worker);
		r->worker = e->cfg.name ? strdup(e->cfg.name) : NULL;
		if (run_adopt_row(e, r))
			pc->claimed++;
	} else if (rc != -EBUSY && rc != -ENOENT) {  /* -EBUSY: another worker */
		log_error("poll %s: cannot claim run id %lld: %s", pc->target,
		          (long long)r->id, err);
	}
	poll_claims_unref(pc);
}

static void poll_claimed(void *arg, int rc, const char *err)
{
	struct poll_claim *one = arg;
	poll_claim_end(one->pc, one->i, rc, err);
}

/* Rows of runs this engine holds in memory are not the poll's: a run
 * submitted while the poll listed was listed too (its id was not in
 * `held` yet, and may still be unknown), and claiming it here would load
 * it twice.  By jid: ours have one from their submit. */
static int jid_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void poll_drop_ours(struct engine *e, struct poll_ctx *p,
                           const char *target)
{
	size_t n = 0, cap = 0;
	for (struct link *l = e->runs.next; l != &e->runs; l = l->next)
		cap++;
	const char **ours = malloc((cap + 1) * sizeof *ours);
	if (!ours) {             /* claim nothing rather than twice */
		for (int i = 0; i < p->n; i++)
			run_clear(&p->rows[i]);
		p->n = 0;
		return;
	}
	for (struct link *l = e->runs.next; l != &e->runs; l = l->next) {
		struct arun *a = link_entry(l, struct arun, all);
		if (a->r.target && strcmp(a->r.target, target) == 0)
			ours[n++] = a->r.jid;
	}
	qsort(ours, n, sizeof *ours, jid_cmp);
	int kept = 0;
	for (int i = 0; i < p->n; i++) {
		const char *jid = p->rows[i].jid;
		if (jid[0] && n && bsearch(&jid, ours, n, sizeof *ours, jid_cmp))
			run_clear(&p->rows[i]);
		else
			p->rows[kept++] = p->rows[i];
	}
	if (kept < p->n)         /* the tail holds moved copies */
		memset(&p->rows[kept], 0, (size_t)(p->n - kept) * sizeof *p->rows);
	p->n = kept;
	free(ours);
}

/* Hands the claims of the rows found to the store thread. */
static int poll_claim_rows(struct engine *e, struct target *t,
                           struct poll_ctx *p, int limit)
{
	struct poll_claims *pc = calloc(1, sizeof *pc);
	char *name = strdup(t->name);
	struct poll_claim *ones = calloc((size_t)p->n, sizeof *ones);
	if (!pc || !name || !ones) {
		free(pc);
		free(name);
		free(ones);
		return -ENOMEM;
	}
	pc->e = e;
	pc->ones = ones;
	pc->target = name;
	pc->rows = p->rows;
	pc->n = p->n;
	pc->left = p->n + 1;     /* + the loop's hold */
	pc->full = p->n == limit;
	p->rows = NULL;
	p->n = 0;
	t->polling = 1;
	for (int i = 0; i < pc->n; i++) {
		struct run *r = &pc->rows[i];
		if (!r->jid[0])
			jid_next(r->jid, now_us(), &e->last_jid);
		ones[i].pc = pc;
		ones[i].i = i;
		persist_claim(e, NULL, r->id, RUN_WAITING, r->jid, NULL,
		              poll_claimed, &ones[i]);
	}
	poll_claims_unref(pc);
	return 0;
}

/* The list of a poll, on the read thread. */
struct poll_read {
	struct storeq_op op;
	struct engine *e;
	char *target;
	struct poll_ctx p;
	struct run_query q;
	int limit;
};

static int poll_read_work(struct store *s, struct storeq_op *op, int replay)
{
	struct poll_read *pr = (struct poll_read *)op;
	(void)replay;
	return store_run_list(s, &pr->q, poll_collect, &pr->p);
}

static void poll_read_done(struct storeq_op *op, int rc, const char *err)
{
	struct poll_read *pr = (struct poll_read *)op;
	struct engine *e = pr->e;
	struct target *t = queue_target(e, pr->target);

	if (t)
		t->polling = 0;
	if (rc < 0)
		log_error("poll %s: cannot list waiting runs: %s", pr->target, err);
	else if (t && pr->p.n && !t->paused && !e->shutting_down) {
		int listed = pr->p.n;
		poll_drop_ours(e, &pr->p, pr->target);
		if (pr->p.n)
			poll_claim_rows(e, t, &pr->p, listed < pr->limit ?
			                pr->limit : pr->p.n);
	}
	for (int i = 0; i < pr->p.n; i++)
		run_clear(&pr->p.rows[i]);
	free(pr->p.rows);
	free(pr->p.held);
	free(pr->target);
	free(pr);
	if (t && !t->polling)
		queue_pump(e, t);
}

int queue_poll(struct engine *e, struct target *t)
{
	int limit = e->cfg.mysql_fetch_limit > 0 ? e->cfg.mysql_fetch_limit
	                                         : INT_MAX / 2;
	struct poll_read *pr;

	t->poll_more = 0;
	/* a paused target leaves its rows to other workers; continue polls */
	if (t->paused || e->shutting_down || t->polling)
		return 0;
	if (limit > 1024)
		limit = 1024;
	if (!(pr = calloc(1, sizeof *pr)))
		return -ENOMEM;
	pr->e = e;
	pr->limit = pr->p.max = limit;
	/* runs in memory are waiting in the store too: list past them */
	pr->p.held = malloc(((size_t)t->waiting + 1) * sizeof *pr->p.held);
	pr->p.rows = calloc((size_t)limit, sizeof *pr->p.rows);
	pr->target = strdup(t->name);
	if (!pr->p.held || !pr->p.rows || !pr->target) {
		free(pr->p.held);
		free(pr->p.rows);
		free(pr->target);
		free(pr);
		return -ENOMEM;
	}
	for (struct link *l = t->queue.next; l != &t->queue; l = l->next) {
		struct arun *a = link_entry(l, struct arun, qlink);
		if (a->r.status == RUN_WAITING && pr->p.n_held < (size_t)t->waiting)
			pr->p.held[pr->p.n_held++] = a->r.id;
	}
	qsort(pr->p.held, pr->p.n_held, sizeof *pr->p.held, id_cmp);
	pr->q = (struct run_query){.target = pr->target, .status = RUN_WAITING,
	                           .limit = limit + (int)pr->p.n_held};
	pr->op.work = poll_read_work;
	pr->op.done = poll_read_done;
	t->polling = 1;
	storeq_add(e->rq, &pr->op);
	return 0;
}

/* Every queue: the delayed runs' wake-up is found again (a run that was
 * the earliest may have started or gone). */
void queue_pump_all(struct engine *e)
{
	int64_t was = e->delay_at, next;
	e->delay_at = 0;
	if ((next = spawnq_due(e, now_us())) > 0)
		queue_wake_at(e, next);
	for (int i = 0; i < e->n_targets; i++)
		queue_pump(e, e->targets[i]);
	if (e->delay_at != was)
		scheduler_rearm(e);
}
