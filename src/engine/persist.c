/* persist.c — what the engine writes to the store, as store-thread ops
 * (engine/storeq.h): run rows, claims, targets, API jobs, schedule state,
 * the retention sweep; and persist_flush, the barrier that replies and
 * spawns wait behind.
 *
 * A run's row is written as it is when its batch is handed to the
 * thread (a copy travels; later writes of the run in the same batch add
 * nothing).  Its id comes from the insert, on the thread: a
 * later update of the same run in flight takes it from there (a->row_id,
 * touched only by the store thread until the insert's done hands it to
 * a->r.id on the loop).  An arun stays allocated while ops of it are in
 * flight (a->pending; runs.c's arun_unref). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "engine/engine.h"
#include "engine/log.h"
#include "engine/storeq.h"

/* ---- run rows ---- */

enum { ROW_INSERT, ROW_UPDATE, ROW_CLAIM };

struct row_op {
	struct storeq_op op;
	struct engine *e;
	struct arun *a;          /* NULL for claims of rows not in memory */
	int kind;
	struct run snap;         /* ROW_INSERT / ROW_UPDATE: the row */
	/* ROW_CLAIM */
	int64_t id;
	int from_status;
	char jid[JID_LEN + 1];
	char *worker;
	int *now_status;         /* a lost claim: the row's status */
	persist_cb cb;
	void *arg;
};

static void row_op_free(struct row_op *o)
{
	if (o->a && o->a->row_op == o)
		o->a->row_op = NULL;
	run_clear(&o->snap);
	free(o->worker);
	if (o->a)
		arun_unref(o->a);
	free(o);
}

/* A replayed insert whose first commit may have landed: the row is then
 * there under its jid (unique), and is brought up to date instead. */
static int insert_work(struct store *s, struct row_op *o, int replay)
{
	struct run old;
	if (replay && store_run_get(s, o->snap.jid, 0, &old) == 0) {
		o->snap.id = old.id;
		run_clear(&old);
		return store_run_update(s, &o->snap);
	}
	return store_run_insert(s, &o->snap);
}

/* A replayed claim that may have landed: ours already if the row carries
 * our jid and worker name. */
static int claim_work(struct store *s, struct row_op *o, int replay)
{
	int64_t id = o->id ? o->id : o->a ? o->a->row_id : 0;
	int rc = store_run_claim(s, id, o->from_status, o->worker, o->jid);
	struct run now;
	if (rc == -EBUSY && (replay || o->now_status) &&
	    store_run_get_id(s, id, 0, &now) == 0) {
		if (replay && strcmp(now.jid, o->jid) == 0 && now.worker &&
		    o->worker && strcmp(now.worker, o->worker) == 0)
			rc = 0;
		else if (o->now_status)
			*o->now_status = now.status;
		run_clear(&now);
	}
	if (o->a)
		o->a->claim_rc = rc;    /* < 0: its start in this batch is skipped */
	return rc;
}

/* A placement = one run's insert claims its fire time in the job's lease
 * first, in the same transaction: a crash cannot leave a claimed time
 * without its row, nor a row without its claim.  A lost claim inserts
 * nothing (a->lease_lost; row_done drops the run).  A replay whose first
 * commit landed finds its row (insert_work) and its claim already made. */
static int lease_claim_work(struct store *s, struct row_op *o, int replay)
{
	struct arun *a = o->a;
	struct run old;
	if (!a->lease_fire)
		return 0;
	if (replay && store_run_get(s, o->snap.jid, 0, &old) == 0) {
		run_clear(&old);
		return 0;
	}
	int rc = store_lease_fire(s, o->snap.job, o->worker, now_us(),
	                          a->lease_fire);
	if (rc == -EBUSY)
		a->lease_lost = 1;
	return rc;
}

static int row_work(struct store *s, struct storeq_op *op, int replay)
{
	struct row_op *o = (struct row_op *)op;
	struct arun *a = o->a;
	int rc;

	switch (o->kind) {
	case ROW_INSERT:
		if (!o->snap.jid[0])
			return -ENOMEM;      /* row_prepare had no memory */
		a->lease_lost = 0;           /* a replay claims again */
		rc = lease_claim_work(s, o, replay);
		if (rc == -EBUSY)
			return 0;            /* not ours: nothing to insert */
		if (rc == 0)
			rc = insert_work(s, o, replay);
		if (rc == 0)
			a->row_id = o->snap.id;
		return rc;
	case ROW_UPDATE:
		if (a && (a->claim_rc < 0 || a->lease_lost))
			return -EBUSY;
		if (!o->snap.jid[0])
			return -ENOMEM;
		if (!o->snap.id && a)
			o->snap.id = a->row_id;
		return store_run_update(s, &o->snap);
	default:
		if (a && a->lease_lost)
			return a->claim_rc = -EBUSY;
		return claim_work(s, o, replay);
	}
}

static int row_write(struct engine *e, struct arun *a, int kind, int lazy);

/* A run's update that failed for good (the disk full, say) is tried again
 * every second until it lands: a run's end must not stay unrecorded. */
static void resave_tick(uv_timer_t *t)
{
	struct engine *e = t->data;
	struct arun **v = e->resave;
	int n = e->n_resave;

	e->resave = NULL;
	e->n_resave = e->cap_resave = 0;
	for (int i = 0; i < n; i++) {
		v[i]->resaving = 0;
		row_write(e, v[i], ROW_UPDATE, 0);
		arun_unref(v[i]);
	}
	free(v);
}

static void resave_later(struct engine *e, struct arun *a)
{
	if (a->resaving)
		return;
	if (e->n_resave == e->cap_resave) {
		int cap = e->cap_resave ? e->cap_resave * 2 : 16;
		struct arun **v = realloc(e->resave, (size_t)cap * sizeof *v);
		if (!v)
			return;
		e->resave = v;
		e->cap_resave = cap;
	}
	a->resaving = 1;
	a->pending++;
	e->resave[e->n_resave++] = a;
	if (!uv_is_active((uv_handle_t *)&e->resave_timer))
		uv_timer_start(&e->resave_timer, resave_tick, 1000, 0);
}

void persist_close(struct engine *e)
{
	uv_timer_stop(&e->resave_timer);
	for (int i = 0; i < e->n_resave; i++)
		arun_unref(e->resave[i]);
	free(e->resave);
	e->resave = NULL;
	e->n_resave = e->cap_resave = 0;
}

static void row_done(struct storeq_op *op, int rc, const char *err)
{
	struct row_op *o = (struct row_op *)op;
	struct arun *a = o->a;

	switch (o->kind) {
	case ROW_INSERT:
		if (rc == 0 && !a->r.id)
			a->r.id = o->snap.id;
		if (rc < 0 && !a->released)
			run_forget(o->e, a, err && *err ? err : "store error");
		else if (rc == 0 && a->lease_lost && !a->released)
			lease_fire_lost(o->e, a);
		break;
	case ROW_UPDATE:
		if (rc < 0 && rc != -EBUSY && rc != -ECANCELED) {
			log_error("run %s: cannot save: %s; trying again in a "
			          "second", a->r.jid,
			          err && *err ? err : strerror(-rc));
			resave_later(o->e, a);
		}
		break;
	default:
		if (o->cb)
			o->cb(o->arg, rc, err);
	}
	row_op_free(o);
}

static struct row_op *row_op_new(struct engine *e, struct arun *a, int kind)
{
	struct row_op *o = calloc(1, sizeof *o);
	if (!o)
		return NULL;
	/* the lease's holder is this daemon by its name */
	if (kind == ROW_INSERT && a && a->lease_fire &&
	    !(o->worker = strdup(e->cfg.name ? e->cfg.name : ""))) {
		free(o);
		return NULL;
	}
	o->op.work = row_work;
	o->op.done = row_done;
	o->e = e;
	o->kind = kind;
	if ((o->a = a))
		a->pending++;
	return o;
}

/* The run's row write that is still gathering, if any: a later write of
 * the same run replaces its row instead of adding a statement (a run
 * submitted, started and ended in one loop turn is one INSERT). */
static struct row_op *row_gathering(struct engine *e, struct arun *a)
{
	struct row_op *o = a->row_op;
	return o && a->row_op_batch == storeq_gathering(e->sq) ? o : NULL;
}

/* The row as it is now, output from the run's buffers. */
static void row_prepare(struct storeq_op *op)
{
	struct row_op *o = (struct row_op *)op;
	struct arun *a = o->a;
	struct run now;

	arun_row(a, &now);
	if (run_copy(&o->snap, &now) < 0) {
		log_error("run %s: cannot save: out of memory", a->r.jid);
		memset(&o->snap, 0, sizeof o->snap);
	}
}

static int row_write(struct engine *e, struct arun *a, int kind, int lazy)
{
	struct row_op *o = row_gathering(e, a);
	if (o) {
		/* its row is taken at hand-over: as it is then */
		if (o->op.lazy && !lazy) {
			o->op.lazy = 0;
			storeq_hurry(e->sq);
		}
		return 0;
	}
	if (!(o = row_op_new(e, a, kind)))
		return -ENOMEM;
	o->op.prepare = row_prepare;
	o->op.must = kind == ROW_INSERT;
	o->op.lazy = lazy;
	a->row_op = o;
	a->row_op_batch = storeq_gathering(e->sq);
	storeq_add(e->sq, &o->op);
	return 0;
}

int persist_run_insert(struct engine *e, struct arun *a)
{
	return row_write(e, a, ROW_INSERT, 0);
}

void persist_run_update(struct engine *e, struct arun *a, int lazy)
{
	row_write(e, a, ROW_UPDATE, lazy);
}

void persist_claim(struct engine *e, struct arun *a, int64_t id,
                   int from_status, const char *jid, int *now_status,
                   persist_cb cb, void *arg)
{
	struct row_op *o;
	/* a row whose insert has not even reached the store is nobody else's:
	 * its claim rides with that insert */
	if (a && (o = row_gathering(e, a)) && o->kind == ROW_INSERT) {
		if (cb)
			cb(arg, 0, "");
		return;
	}
	o = row_op_new(e, a, ROW_CLAIM);
	if (o && e->cfg.name && !(o->worker = strdup(e->cfg.name))) {
		row_op_free(o);
		o = NULL;
	}
	if (!o) {
		if (cb)
			cb(arg, -ENOMEM, "out of memory");
		return;
	}
	o->id = id;
	o->from_status = from_status;
	o->now_status = now_status;
	snprintf(o->jid, sizeof o->jid, "%s", jid);
	o->cb = cb;
	o->arg = arg;
	storeq_add(e->sq, &o->op);
}

/* ---- everything else: targets, API jobs, key/values, sweep ---- */

enum { W_TARGET_PUT, W_TARGET_DEL, W_JOB_PUT, W_JOB_DEL, W_KV_PUT, W_SWEEP };

struct misc_op {
	struct storeq_op op;
	struct engine *e;
	int kind;
	char *k, *v;
	int64_t n, m;
	int batch;               /* W_SWEEP: m was asked for */
};

static int misc_work(struct store *s, struct storeq_op *op, int replay)
{
	struct misc_op *o = (struct misc_op *)op;
	(void)replay;            /* each of these may safely run twice */
	switch (o->kind) {
	case W_TARGET_PUT: return store_target_put(s, o->k, (int)o->n, (int)o->m);
	case W_TARGET_DEL: return store_target_del(s, o->k);
	case W_JOB_PUT:    return store_job_put(s, o->k, o->v);
	case W_JOB_DEL:    return store_job_del(s, o->k);
	case W_KV_PUT:     return store_kv_put(s, o->k, o->v);
	default: {
		int n = store_run_sweep(s, o->n, (int)o->m);
		o->m = n;        /* how many, for the done */
		return n < 0 ? n : 0;
	}
	}
}

static void misc_done(struct storeq_op *op, int rc, const char *err)
{
	struct misc_op *o = (struct misc_op *)op;
	static const char *const what[] = {"save target", "remove target",
		"save job", "remove job", "save schedule state",
		"delete old runs"};
	if (rc < 0)
		log_error("store: cannot %s %s: %s", what[o->kind],
		          o->k ? o->k : "", err && *err ? err : strerror(-rc));
	if (o->kind == W_SWEEP)
		o->e->sweep_full = rc == 0 && o->m >= o->batch;
	if (o->kind == W_SWEEP && rc == 0 && o->m > 0)
		log_info("retention: deleted %lld finished runs older than the "
		         "keep_runs limit", (long long)o->m);
	free(o->k);
	free(o->v);
	free(o);
}

static void misc_write(struct engine *e, int kind, const char *k,
                       const char *v, int64_t n, int64_t m)
{
	struct misc_op *o = calloc(1, sizeof *o);
	if (!o || (k && !(o->k = strdup(k))) || (v && !(o->v = strdup(v)))) {
		log_error("store: out of memory");
		if (o) {
			free(o->k);
			free(o);
		}
		return;
	}
	o->op.work = misc_work;
	o->op.done = misc_done;
	/* what a reply acknowledges: its failure must reach the reply */
	o->op.must = kind != W_KV_PUT && kind != W_SWEEP;
	o->e = e;
	o->kind = kind;
	o->n = n;
	o->m = o->batch = (int)m;
	storeq_add(e->sq, &o->op);
}

void persist_target_put(struct engine *e, const char *name, int concurrency,
                        int paused)
{
	misc_write(e, W_TARGET_PUT, name, NULL, concurrency, paused);
}

void persist_target_del(struct engine *e, const char *name)
{
	misc_write(e, W_TARGET_DEL, name, NULL, 0, 0);
}

void persist_job_put(struct engine *e, const char *name, const char *def)
{
	e->defs_gen++;          /* a refresh reading meanwhile reads again */
	misc_write(e, def ? W_JOB_PUT : W_JOB_DEL, name, def, 0, 0);
}

void persist_kv_put(struct engine *e, const char *key, const char *val)
{
	misc_write(e, W_KV_PUT, key, val, 0, 0);
}

void persist_sweep(struct engine *e, int64_t before, int batch)
{
	misc_write(e, W_SWEEP, NULL, NULL, before, batch);
}

/* ---- the barrier ---- */

struct barrier {
	struct storeq_op op;
	persist_cb cb;
	void *arg;
};

static void barrier_done(struct storeq_op *op, int rc, const char *err)
{
	struct barrier *b = (struct barrier *)op;
	b->cb(b->arg, rc, err);
	free(b);
}

void persist_flush(struct engine *e, persist_cb cb, void *arg)
{
	struct barrier *b;
	if (storeq_idle(e->sq)) {
		cb(arg, 0, "");
		return;
	}
	if (!(b = calloc(1, sizeof *b))) {
		cb(arg, -ENOMEM, "out of memory");
		return;
	}
	b->op.done = barrier_done;
	b->cb = cb;
	b->arg = arg;
	storeq_add(e->sq, &b->op);
}

void persist_kick(struct engine *e)
{
	storeq_kick(e->sq);
}

uint64_t persist_writes(const struct engine *e)
{
	return storeq_seq(e->sq);
}
