/* fake_store.c — the in-memory store of the engine's unit tests (see
 * fake_store.h).  One shared state behind a mutex: the engine's store
 * thread, its read thread and the test (the loop thread) all touch it.
 * A transaction keeps a copy of the rows at begin; a rollback by the
 * handle that wrote puts them back (jobs, targets and key/values are not
 * rolled back: the engine's tests do not need it). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_store.h"

struct pair {
	char *k, *v;
	int n, m;                /* targets: concurrency, paused */
};

struct pairs {
	struct pair *v;
	int n;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct run *rows;
	int n_rows;
	int64_t next_id;
	struct pairs jobs, kvs, targets;
	struct fake_call *calls;
	int n_calls;
	int counts[FS_OP_COUNT];
	struct { int skip, times, rc; } fail[FS_OP_COUNT];
	int held[FS_OP_COUNT];
	int holding;
	struct { char job[128]; struct store_lease l; } leases[64];
	int n_leases;
} fs = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

struct fake {
	struct store base;
	struct run *snap;        /* the rows at begin */
	int n_snap;
	int in_tx, dirty;
	char err[128];
};

/* ---- shared state ---- */

static void rows_free(struct run *v, int n)
{
	for (int i = 0; i < n; i++)
		run_clear(&v[i]);
	free(v);
}

static struct run *rows_copy(const struct run *v, int n)
{
	struct run *c = calloc((size_t)n + 1, sizeof *c);
	for (int i = 0; c && i < n; i++)
		if (run_copy(&c[i], &v[i]) < 0)
			abort();
	if (!c)
		abort();
	return c;
}

static void pairs_free(struct pairs *p)
{
	for (int i = 0; i < p->n; i++) {
		free(p->v[i].k);
		free(p->v[i].v);
	}
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

static struct pair *pairs_find(struct pairs *p, const char *k)
{
	for (int i = 0; i < p->n; i++)
		if (strcmp(p->v[i].k, k) == 0)
			return &p->v[i];
	return NULL;
}

static struct pair *pairs_put(struct pairs *p, const char *k, const char *v)
{
	struct pair *x = pairs_find(p, k);
	if (!x) {
		struct pair *nv = realloc(p->v, (size_t)(p->n + 1) * sizeof *nv);
		if (!nv)
			abort();
		p->v = nv;
		x = &p->v[p->n++];
		memset(x, 0, sizeof *x);
		x->k = strdup(k);
	}
	free(x->v);
	x->v = v ? strdup(v) : NULL;
	return x;
}

static int pairs_del(struct pairs *p, const char *k)
{
	struct pair *x = pairs_find(p, k);
	if (!x)
		return -ENOENT;
	free(x->k);
	free(x->v);
	*x = p->v[--p->n];
	return 0;
}

void fake_store_free(void)
{
	pthread_mutex_lock(&fs.mu);
	rows_free(fs.rows, fs.n_rows);
	fs.rows = NULL;
	fs.n_rows = 0;
	pairs_free(&fs.jobs);
	pairs_free(&fs.kvs);
	pairs_free(&fs.targets);
	free(fs.calls);
	fs.calls = NULL;
	fs.n_calls = 0;
	memset(fs.counts, 0, sizeof fs.counts);
	memset(fs.fail, 0, sizeof fs.fail);
	memset(fs.held, 0, sizeof fs.held);
	fs.holding = 0;
	fs.next_id = 0;
	fs.n_leases = 0;
	pthread_mutex_unlock(&fs.mu);
}

/* ---- calls: counted, maybe held, maybe failed, recorded ---- */

/* Takes the lock; returns the injected failure or 0. */
static int enter(struct fake *f, int op)
{
	pthread_mutex_lock(&fs.mu);
	fs.counts[op]++;
	while (fs.held[op]) {
		fs.holding = 1;
		pthread_cond_wait(&fs.cv, &fs.mu);
	}
	fs.holding = 0;
	if (fs.fail[op].times > 0) {
		if (fs.fail[op].skip > 0) {
			fs.fail[op].skip--;
		} else {
			fs.fail[op].times--;
			snprintf(f->err, sizeof f->err, "fake failure");
			return fs.fail[op].rc;
		}
	}
	return 0;
}

/* Records the call and drops the lock. */
static int leave(int op, int rc, const struct run *r, int64_t id)
{
	struct fake_call *v = realloc(fs.calls,
	                              (size_t)(fs.n_calls + 1) * sizeof *v);
	if (!v)
		abort();
	fs.calls = v;
	struct fake_call *c = &v[fs.n_calls++];
	memset(c, 0, sizeof *c);
	c->op = op;
	c->rc = rc;
	c->id = id;
	if (r) {
		memcpy(c->jid, r->jid, sizeof c->jid);
		c->id = r->id;
		c->status = r->status;
		c->result = r->result;
		c->return_code = r->return_code;
	}
	pthread_mutex_unlock(&fs.mu);
	return rc;
}

static struct run *row_by_id(int64_t id)
{
	for (int i = 0; i < fs.n_rows; i++)
		if (fs.rows[i].id == id)
			return &fs.rows[i];
	return NULL;
}

static struct run *row_by_jid(const char *jid)
{
	for (int i = 0; i < fs.n_rows; i++)
		if (jid[0] && strcmp(fs.rows[i].jid, jid) == 0)
			return &fs.rows[i];
	return NULL;
}

/* ---- the vtable ---- */

#define F(s) ((struct fake *)(s))

static void fake_close(struct store *s)
{
	rows_free(F(s)->snap, F(s)->n_snap);
	free(s);
}

static const char *fake_error(struct store *s) { return F(s)->err; }
static const char *fake_describe(struct store *s) { (void)s; return "fake://"; }
static int fake_unavailable(struct store *s) { (void)s; return 0; }

static int fake_begin(struct store *s)
{
	struct fake *f = F(s);
	int rc = enter(f, FS_BEGIN);
	if (rc == 0) {
		rows_free(f->snap, f->n_snap);
		f->snap = rows_copy(fs.rows, fs.n_rows);
		f->n_snap = fs.n_rows;
		f->in_tx = 1;
		f->dirty = 0;
	}
	return leave(FS_BEGIN, rc, NULL, 0);
}

static int fake_commit(struct store *s)
{
	struct fake *f = F(s);
	int rc = enter(f, FS_COMMIT);
	if (rc == 0)
		f->in_tx = 0;
	return leave(FS_COMMIT, rc, NULL, 0);
}

static int fake_rollback(struct store *s)
{
	struct fake *f = F(s);
	int rc = enter(f, FS_ROLLBACK);
	if (f->in_tx && f->dirty) {
		rows_free(fs.rows, fs.n_rows);
		fs.rows = f->snap;
		fs.n_rows = f->n_snap;
		f->snap = NULL;
		f->n_snap = 0;
	}
	f->in_tx = 0;
	return leave(FS_ROLLBACK, rc, NULL, 0);
}

static int fake_job_put(struct store *s, const char *name, const char *def)
{
	int rc = enter(F(s), FS_JOB_PUT);
	if (rc == 0)
		pairs_put(&fs.jobs, name, def);
	return leave(FS_JOB_PUT, rc, NULL, 0);
}

static int fake_job_del(struct store *s, const char *name)
{
	int rc = enter(F(s), FS_JOB_DEL);
	if (rc == 0)
		rc = pairs_del(&fs.jobs, name);
	return leave(FS_JOB_DEL, rc, NULL, 0);
}

/* The callbacks run without the lock (they may call the store again). */
static int fake_job_each(struct store *s, store_job_cb cb, void *ctx)
{
	int rc = enter(F(s), FS_JOB_EACH), n = fs.jobs.n;
	struct pair *c = calloc((size_t)n + 1, sizeof *c);
	for (int i = 0; c && i < n; i++) {
		c[i].k = strdup(fs.jobs.v[i].k);
		c[i].v = strdup(fs.jobs.v[i].v);
	}
	leave(FS_JOB_EACH, rc, NULL, 0);
	for (int i = 0; rc == 0 && i < n && !cb(ctx, c[i].k, c[i].v); i++)
		;
	struct pairs p = {c, n};
	pairs_free(&p);
	return rc;
}

static int fake_run_insert(struct store *s, struct run *r)
{
	struct fake *f = F(s);
	int rc = enter(f, FS_RUN_INSERT);
	if (rc == 0)
		rc = store_run_check(r, f->err, sizeof f->err);
	if (rc == 0 && row_by_jid(r->jid))
		rc = -EEXIST;
	if (rc == 0) {
		struct run *v = realloc(fs.rows,
		                        (size_t)(fs.n_rows + 1) * sizeof *v);
		if (!v)
			abort();
		fs.rows = v;
		r->id = ++fs.next_id;
		if (run_copy(&fs.rows[fs.n_rows++], r) < 0)
			abort();
		f->dirty = 1;
	}
	return leave(FS_RUN_INSERT, rc, r, 0);
}

static int fake_run_update(struct store *s, const struct run *r)
{
	struct fake *f = F(s);
	int rc = enter(f, FS_RUN_UPDATE);
	struct run *row = row_by_id(r->id);
	if (rc == 0)
		rc = store_run_check(r, f->err, sizeof f->err);
	if (rc == 0 && !row)
		rc = -ENOENT;
	if (rc == 0) {
		run_clear(row);
		if (run_copy(row, r) < 0)
			abort();
		f->dirty = 1;
	}
	return leave(FS_RUN_UPDATE, rc, r, 0);
}

static int row_out(const struct run *row, int with_output, struct run *out)
{
	if (!row)
		return -ENOENT;
	if (run_copy(out, row) < 0)
		abort();
	if (!with_output) {
		free(out->out);
		free(out->errout);
		out->out = out->errout = NULL;
		out->out_len = out->err_len = 0;
	}
	return 0;
}

static int fake_run_get(struct store *s, const char *jid, int with_output,
                        struct run *out)
{
	int rc = enter(F(s), FS_RUN_GET);
	if (rc == 0)
		rc = row_out(row_by_jid(jid), with_output, out);
	return leave(FS_RUN_GET, rc, NULL, 0);
}

static int fake_run_get_id(struct store *s, int64_t id, int with_output,
                           struct run *out)
{
	int rc = enter(F(s), FS_RUN_GET_ID);
	if (rc == 0)
		rc = row_out(row_by_id(id), with_output, out);
	return leave(FS_RUN_GET_ID, rc, NULL, id);
}

static int matches(const struct run *r, const struct run_query *q)
{
	if (q->job && (!r->job || strcmp(r->job, q->job) != 0))
		return 0;
	if (q->target && strcmp(r->target, q->target) != 0)
		return 0;
	if (q->status >= 0 && r->status != q->status)
		return 0;
	if (q->active && r->status > RUN_RUNNING)
		return 0;
	if (q->since && r->time_created < q->since)
		return 0;
	return !q->by_uid || r->uid == q->uid;
}

static int fake_run_list(struct store *s, const struct run_query *q,
                         store_run_cb cb, void *ctx)
{
	int rc = enter(F(s), FS_RUN_LIST), n = 0;
	struct run *c = calloc((size_t)fs.n_rows + 1, sizeof *c);
	for (int k = 0; c && rc == 0 && k < fs.n_rows; k++) {
		int i = q->newest_first ? fs.n_rows - 1 - k : k;
		if (!matches(&fs.rows[i], q))
			continue;
		row_out(&fs.rows[i], q->with_output, &c[n++]);
		if (q->limit && n == q->limit)
			break;
	}
	leave(FS_RUN_LIST, rc, NULL, 0);
	for (int i = 0; i < n && !cb(ctx, &c[i]); i++)
		;
	rows_free(c, n);
	return rc;
}

/* The newest row of every job: rows are kept in id order. */
static int fake_run_last_each(struct store *s, store_run_cb cb, void *ctx)
{
	int rc = enter(F(s), FS_RUN_LAST_EACH), n = 0;
	struct run *c = calloc((size_t)fs.n_rows + 1, sizeof *c);
	for (int i = fs.n_rows - 1; c && rc == 0 && i >= 0; i--) {
		int seen = !fs.rows[i].job;
		for (int k = 0; !seen && k < n; k++)
			seen = strcmp(c[k].job, fs.rows[i].job) == 0;
		if (!seen)
			row_out(&fs.rows[i], 0, &c[n++]);
	}
	leave(FS_RUN_LAST_EACH, rc, NULL, 0);
	for (int i = 0; i < n && !cb(ctx, &c[i]); i++)
		;
	rows_free(c, n);
	return rc;
}

static int fake_run_max_jid(struct store *s, char out[JID_LEN + 1])
{
	int rc = enter(F(s), FS_RUN_MAX_JID);
	out[0] = '\0';
	for (int i = 0; rc == 0 && i < fs.n_rows; i++)
		if (strcmp(fs.rows[i].jid, out) > 0)
			memcpy(out, fs.rows[i].jid, JID_LEN + 1);
	return leave(FS_RUN_MAX_JID, rc, NULL, 0);
}

static int fake_run_claim(struct store *s, int64_t id, int from_status,
                          const char *worker, const char *jid)
{
	struct fake *f = F(s);
	int rc = enter(f, FS_RUN_CLAIM);
	struct run *row = row_by_id(id);
	if (rc == 0 && !row)
		rc = -ENOENT;
	else if (rc == 0 && row->status != from_status)
		rc = -EBUSY;
	if (rc == 0) {
		row->status = RUN_ACCEPTED;
		free(row->worker);
		row->worker = worker ? strdup(worker) : NULL;
		if (!row->jid[0])
			snprintf(row->jid, sizeof row->jid, "%s", jid);
		f->dirty = 1;
	}
	leave(FS_RUN_CLAIM, rc, NULL, id);
	if (row) {   /* the jid the engine claimed for, in the record */
		pthread_mutex_lock(&fs.mu);
		memcpy(fs.calls[fs.n_calls - 1].jid, jid, JID_LEN);
		pthread_mutex_unlock(&fs.mu);
	}
	return rc;
}

static int fake_run_sweep(struct store *s, int64_t before, int batch)
{
	int rc = enter(F(s), FS_RUN_SWEEP), n = 0;
	for (int i = 0; rc == 0 && i < fs.n_rows && n < batch;) {
		struct run *r = &fs.rows[i];
		if ((r->status == RUN_DONE || r->status == RUN_IGNORED) &&
		    r->time_finished < before) {
			run_clear(r);
			memmove(r, r + 1, (size_t)(fs.n_rows - i - 1) * sizeof *r);
			fs.n_rows--;
			n++;
		} else {
			i++;
		}
	}
	leave(FS_RUN_SWEEP, rc, NULL, 0);
	return rc < 0 ? rc : n;
}

static int fake_target_put(struct store *s, const char *name, int conc,
                           int paused)
{
	int rc = enter(F(s), FS_TARGET_PUT);
	if (rc == 0) {
		struct pair *p = pairs_put(&fs.targets, name, NULL);
		p->n = conc;
		p->m = paused;
	}
	return leave(FS_TARGET_PUT, rc, NULL, 0);
}

static int fake_target_del(struct store *s, const char *name)
{
	int rc = enter(F(s), FS_TARGET_DEL);
	if (rc == 0)
		rc = pairs_del(&fs.targets, name);
	return leave(FS_TARGET_DEL, rc, NULL, 0);
}

static int fake_target_each(struct store *s, store_target_cb cb, void *ctx)
{
	int rc = enter(F(s), FS_TARGET_EACH), n = fs.targets.n;
	struct pair *c = calloc((size_t)n + 1, sizeof *c);
	for (int i = 0; c && i < n; i++) {
		c[i] = fs.targets.v[i];
		c[i].k = strdup(c[i].k);
		c[i].v = NULL;
	}
	leave(FS_TARGET_EACH, rc, NULL, 0);
	for (int i = 0; rc == 0 && i < n && !cb(ctx, c[i].k, c[i].n, c[i].m); i++)
		;
	struct pairs p = {c, n};
	pairs_free(&p);
	return rc;
}

static int fake_kv_get(struct store *s, const char *key, char **val)
{
	int rc = enter(F(s), FS_KV_GET);
	struct pair *p = rc == 0 ? pairs_find(&fs.kvs, key) : NULL;
	*val = NULL;
	if (rc == 0 && !p)
		rc = -ENOENT;
	else if (rc == 0)
		*val = strdup(p->v);
	return leave(FS_KV_GET, rc, NULL, 0);
}

static int fake_kv_put(struct store *s, const char *key, const char *val)
{
	int rc = enter(F(s), FS_KV_PUT);
	if (rc == 0)
		pairs_put(&fs.kvs, key, val);
	return leave(FS_KV_PUT, rc, NULL, 0);
}

/* ---- leases: the SQL engines' conditions, under the one mutex ---- */

static struct store_lease *lease_find(const char *job, int make)
{
	for (int i = 0; i < fs.n_leases; i++)
		if (strcmp(fs.leases[i].job, job) == 0)
			return &fs.leases[i].l;
	if (!make || fs.n_leases == 64)
		return NULL;
	snprintf(fs.leases[fs.n_leases].job, 128, "%s", job);
	memset(&fs.leases[fs.n_leases].l, 0, sizeof(struct store_lease));
	return &fs.leases[fs.n_leases++].l;
}

static int fake_lease_take(struct store *s, const char *job,
                           const char *holder, int64_t now, int64_t ttl,
                           struct store_lease *before)
{
	int rc = enter(F(s), FS_LEASE_TAKE);
	struct store_lease *l = rc == 0 ? lease_find(job, 1) : NULL;
	if (rc == 0 && !l)
		rc = -ENOMEM;
	if (rc == 0) {
		if (before)
			*before = *l;
		if (!l->holder[0] || strcmp(l->holder, holder) == 0 ||
		    l->expires < now) {
			snprintf(l->holder, sizeof l->holder, "%s", holder);
			l->expires = now + ttl;
		} else {
			rc = -EBUSY;
		}
	}
	return leave(FS_LEASE_TAKE, rc, NULL, 0);
}

static int fake_lease_fire(struct store *s, const char *job,
                           const char *holder, int64_t now, int64_t fire)
{
	int rc = enter(F(s), FS_LEASE_FIRE);
	struct store_lease *l = rc == 0 ? lease_find(job, 0) : NULL;
	if (rc == 0 && (!l || strcmp(l->holder, holder) != 0 ||
	                l->expires < now || l->last_fire >= fire))
		rc = -EBUSY;
	else if (rc == 0)
		l->last_fire = fire;
	return leave(FS_LEASE_FIRE, rc, NULL, fire);
}

static int fake_lease_get(struct store *s, const char *job,
                          struct store_lease *out)
{
	int rc = enter(F(s), FS_LEASE_GET);
	struct store_lease *l = rc == 0 ? lease_find(job, 0) : NULL;
	memset(out, 0, sizeof *out);
	if (rc == 0 && !l)
		rc = -ENOENT;
	else if (rc == 0)
		*out = *l;
	return leave(FS_LEASE_GET, rc, NULL, 0);
}

static int fake_lease_release(struct store *s, const char *job,
                              const char *holder)
{
	int rc = enter(F(s), FS_LEASE_RELEASE);
	struct store_lease *l = rc == 0 ? lease_find(job, 0) : NULL;
	if (l && strcmp(l->holder, holder) == 0)
		l->expires = 0;
	return leave(FS_LEASE_RELEASE, rc, NULL, 0);
}

static const struct store_vt fake_vt = STORE_VT(fake);

static int fake_open(const char *uri, struct store **out, char *err,
                     size_t errlen)
{
	struct fake *f = calloc(1, sizeof *f);
	(void)uri;
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	f->base.vt = &fake_vt;
	*out = &f->base;
	return 0;
}

/* ---- the test's side ---- */

void fake_store_reset(void)
{
	fake_store_free();
	store_fake_open = fake_open;
}

int fake_store_count(int op)
{
	pthread_mutex_lock(&fs.mu);
	int n = fs.counts[op];
	pthread_mutex_unlock(&fs.mu);
	return n;
}

int fake_store_calls(struct fake_call *out, int max)
{
	pthread_mutex_lock(&fs.mu);
	int n = fs.n_calls < max ? fs.n_calls : max;
	memcpy(out, fs.calls, (size_t)n * sizeof *out);
	pthread_mutex_unlock(&fs.mu);
	return n;
}

int fake_store_writes(int op, const char *jid, int status)
{
	int n = 0;
	pthread_mutex_lock(&fs.mu);
	for (int i = 0; i < fs.n_calls; i++) {
		const struct fake_call *c = &fs.calls[i];
		if (c->op == op && c->rc == 0 && strcmp(c->jid, jid) == 0 &&
		    (status < 0 || c->status == status))
			n++;
	}
	pthread_mutex_unlock(&fs.mu);
	return n;
}

void fake_store_fail(int op, int skip, int times, int rc)
{
	pthread_mutex_lock(&fs.mu);
	fs.fail[op].skip = skip;
	fs.fail[op].times = times;
	fs.fail[op].rc = rc;
	pthread_mutex_unlock(&fs.mu);
}

void fake_store_hold(int op)
{
	pthread_mutex_lock(&fs.mu);
	fs.held[op] = 1;
	pthread_mutex_unlock(&fs.mu);
}

void fake_store_release(void)
{
	pthread_mutex_lock(&fs.mu);
	memset(fs.held, 0, sizeof fs.held);
	pthread_cond_broadcast(&fs.cv);
	pthread_mutex_unlock(&fs.mu);
}

int fake_store_holding(void)
{
	pthread_mutex_lock(&fs.mu);
	int h = fs.holding;
	pthread_mutex_unlock(&fs.mu);
	return h;
}

int fake_store_row(const char *jid, struct run *out)
{
	pthread_mutex_lock(&fs.mu);
	int rc = row_out(row_by_jid(jid), 1, out);
	pthread_mutex_unlock(&fs.mu);
	return rc;
}

int fake_store_rows(void)
{
	pthread_mutex_lock(&fs.mu);
	int n = fs.n_rows;
	pthread_mutex_unlock(&fs.mu);
	return n;
}

const char *fake_store_row_jid(int i, char buf[JID_LEN + 1])
{
	pthread_mutex_lock(&fs.mu);
	buf[0] = '\0';
	if (i >= 0 && i < fs.n_rows)
		memcpy(buf, fs.rows[i].jid, JID_LEN + 1);
	pthread_mutex_unlock(&fs.mu);
	return buf;
}

void fake_store_put_lease(const char *job, const char *holder,
                          int64_t expires, int64_t last_fire)
{
	pthread_mutex_lock(&fs.mu);
	struct store_lease *l = lease_find(job, 1);
	if (l) {
		snprintf(l->holder, sizeof l->holder, "%s", holder ? holder : "");
		l->expires = expires;
		l->last_fire = last_fire;
	}
	pthread_mutex_unlock(&fs.mu);
}

int fake_store_put_job(const char *name, const char *def_json)
{
	pthread_mutex_lock(&fs.mu);
	pairs_put(&fs.jobs, name, def_json);
	pthread_mutex_unlock(&fs.mu);
	return 0;
}

int fake_store_put_kv(const char *key, const char *val)
{
	pthread_mutex_lock(&fs.mu);
	pairs_put(&fs.kvs, key, val);
	pthread_mutex_unlock(&fs.mu);
	return 0;
}

char *fake_store_kv(const char *key)
{
	pthread_mutex_lock(&fs.mu);
	struct pair *p = pairs_find(&fs.kvs, key);
	char *v = p ? strdup(p->v) : NULL;
	pthread_mutex_unlock(&fs.mu);
	return v;
}

int fake_store_put_run(struct run *r)
{
	pthread_mutex_lock(&fs.mu);
	struct run *v = realloc(fs.rows, (size_t)(fs.n_rows + 1) * sizeof *v);
	if (!v)
		abort();
	fs.rows = v;
	r->id = ++fs.next_id;
	if (run_copy(&fs.rows[fs.n_rows++], r) < 0)
		abort();
	pthread_mutex_unlock(&fs.mu);
	return 0;
}
