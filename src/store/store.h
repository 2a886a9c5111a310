/* store.h — the persistent store: one interface, one implementation per
 * engine (sqlite.c, mysql.c).  Calls are synchronous; one thread at a time
 * uses a store.  jobd opens two: the store thread's, for every write
 * (engine/storeq.c), and one for the loop's reads.
 *
 * All functions return 0 or a negative errno; -ENOENT for a missing row,
 * -EIO for an engine error (store_error() then says what).  Times are unix
 * microseconds.
 */
#ifndef JOBD_STORE_H
#define JOBD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "../jobd.h"

struct store;

/* A job's lease (placement = one: the one daemon that fires its schedule;
 * engine/lease.c).  holder "" = nobody. */
struct store_lease {
	char holder[256];
	int64_t expires;        /* us; the holder keeps it until then */
	int64_t last_fire;      /* us; the newest fire time claimed, 0 none */
};

/* Which runs store_run_list returns; zero fields do not filter. */
struct run_query {
	const char *job;        /* exact job name */
	const char *target;
	int status;             /* enum run_status, or -1 for any */
	int active;             /* 1: only waiting|manual|accepted|running */
	int64_t since;          /* time_created >= since */
	uint32_t uid;           /* with by_uid: only runs of this requester */
	int by_uid;
	int limit;              /* 0 = no limit */
	int newest_first;       /* order by id desc (default asc) */
	int with_output;        /* fill out/errout (lookup); else NULL */
};

/* nonzero stops.  Nested calls: a run_list callback may call the same
 * store again (read, write, even run_list of the same shape); every engine
 * allows it and the outer listing goes on unchanged.  The callback borrows
 * r's strings (it may take them, clearing the fields). */
typedef int (*store_run_cb)(void *ctx, struct run *r);
typedef int (*store_job_cb)(void *ctx, const char *name, const char *def_json);
typedef int (*store_target_cb)(void *ctx, const char *name, int concurrency,
                               int paused);

struct store_vt {
	void (*close)(struct store *s);
	const char *(*error)(struct store *s);
	const char *(*describe)(struct store *s);  /* "sqlite:/path" */
	/* 1 when the last failure was the store being out of reach (the
	 * server down or restarting, the connection lost): the same work may
	 * succeed later.  0 for failures that would repeat (disk full, bad
	 * data). */
	int (*unavailable)(struct store *s);

	int (*begin)(struct store *s);
	int (*commit)(struct store *s);
	int (*rollback)(struct store *s);

	/* Job definitions made through the API (file jobs live in files).
	 * Each put and del also adds 1 to the kv STORE_UPDATE_SEQ, in the same
	 * transaction: the version of the definitions that the daemons
	 * sharing the store have applied (the cluster's sync check). */
	int (*job_put)(struct store *s, const char *name, const char *def_json);
	int (*job_del)(struct store *s, const char *name);
	int (*job_each)(struct store *s, store_job_cb cb, void *ctx);

	/* Runs.  run_insert sets r->id.  run_update writes every mutable field
	 * (status, result, return_code, sig, times, pid, pid_start, user,
	 * worker, output and truncation flags, spec, attempt, parent). */
	int (*run_insert)(struct store *s, struct run *r);
	int (*run_update)(struct store *s, const struct run *r);
	int (*run_get)(struct store *s, const char *jid, int with_output,
	               struct run *out);
	int (*run_get_id)(struct store *s, int64_t id, int with_output,
	                  struct run *out);
	int (*run_list)(struct store *s, const struct run_query *q,
	                store_run_cb cb, void *ctx);
	/* The newest run (highest id) of every job name, one row each, in
	 * one query (jobctl list), in no given order; runs without a job
	 * (submits) are left out.  No output.  The callback may use the
	 * store as run_list's may. */
	int (*run_last_each)(struct store *s, store_run_cb cb, void *ctx);
	/* The highest jid in the store ("" if none), to keep jids monotonic
	 * across restarts and clock steps. */
	int (*run_max_jid)(struct store *s, char out[JID_LEN + 1]);
	/* Claims row `id` for this worker, atomically across processes (two
	 * jobds on one table never both get it): only if its status is still
	 * `from_status` (RUN_WAITING for poll, RUN_MANUAL for run-manual) it
	 * becomes accepted with `worker` set, and gets `jid` if it has none
	 * (rows inserted by other programs).  0 = claimed by this call,
	 * -EBUSY = not in from_status any more (someone else has it),
	 * -ENOENT = no such row. */
	int (*run_claim)(struct store *s, int64_t id, int from_status,
	                 const char *worker, const char *jid);
	/* Deletes up to `batch` finished (done|ignored) runs finished before
	 * `before`; returns how many (>= 0) or a negative errno. */
	int (*run_sweep)(struct store *s, int64_t before, int batch);

	/* Targets (queues): name -> concurrency, paused. */
	int (*target_put)(struct store *s, const char *name, int concurrency,
	                  int paused);
	int (*target_del)(struct store *s, const char *name);
	int (*target_each)(struct store *s, store_target_cb cb, void *ctx);

	/* Small persistent values: last run times of schedules, etc. */
	int (*kv_get)(struct store *s, const char *key, char **val);
	int (*kv_put)(struct store *s, const char *key, const char *val);

	/* Leases, atomic across daemons sharing the store (a guarded UPDATE;
	 * its matched-row count decides).  `now` is the caller's clock.
	 * lease_take takes or renews job's lease for `holder` until now + ttl
	 * if it is free (no holder, or expired: expires < now) or holder's
	 * already: 0 = held, -EBUSY = another's.  *before (may be NULL) gets
	 * the lease as it was (zeroed if there was none): who had it. */
	int (*lease_take)(struct store *s, const char *job, const char *holder,
	                  int64_t now, int64_t ttl, struct store_lease *before);
	/* Claims fire time `fire` of job for holder: only while holder holds
	 * the lease (expires >= now) and fire is after its last_fire.  0 =
	 * claimed (last_fire = fire), -EBUSY = not (not the holder, expired,
	 * or that time was claimed already). */
	int (*lease_fire)(struct store *s, const char *job, const char *holder,
	                  int64_t now, int64_t fire);
	/* The lease as it is; -ENOENT if job never had one. */
	int (*lease_get)(struct store *s, const char *job,
	                 struct store_lease *out);
	/* Lets go of holder's lease (expires = 0): another takes it at once.
	 * 0, also when holder did not hold it. */
	int (*lease_release)(struct store *s, const char *job,
	                     const char *holder);
};

struct store {
	const struct store_vt *vt;
};

/* An engine's vtable from its functions PREFIX_close .. PREFIX_kv_put. */
#define STORE_VT(P) { \
	.close = P##_close, .error = P##_error, .describe = P##_describe, \
	.unavailable = P##_unavailable, .begin = P##_begin, \
	.commit = P##_commit, .rollback = P##_rollback, \
	.job_put = P##_job_put, .job_del = P##_job_del, \
	.job_each = P##_job_each, .run_insert = P##_run_insert, \
	.run_update = P##_run_update, .run_get = P##_run_get, \
	.run_get_id = P##_run_get_id, .run_list = P##_run_list, \
	.run_last_each = P##_run_last_each, \
	.run_max_jid = P##_run_max_jid, .run_claim = P##_run_claim, \
	.run_sweep = P##_run_sweep, .target_put = P##_target_put, \
	.target_del = P##_target_del, .target_each = P##_target_each, \
	.kv_get = P##_kv_get, .kv_put = P##_kv_put, \
	.lease_take = P##_lease_take, .lease_fire = P##_lease_fire, \
	.lease_get = P##_lease_get, .lease_release = P##_lease_release, \
}

/* Opens the store named by `uri`: "sqlite:PATH" or a bare path.  Creates
 * and migrates the schema.  err says what failed. */
int store_open(const char *uri, struct store **out, char *err, size_t errlen);
/* Tests only (tests/unit/fake_store.c): the opener of "fake://" URIs.  NULL
 * in the daemon, where such a URI is an unknown scheme. */
extern int (*store_fake_open)(const char *uri, struct store **out, char *err,
                              size_t errlen);
int store_sqlite_open(const char *path, struct store **out, char *err,
                      size_t errlen);
/* "mysql://user:pass@host:port/db?table=jobs[&socket=PATH]" */
int store_mysql_open(const char *uri, struct store **out, char *err,
                     size_t errlen);

/* For the engines: -EINVAL with msg set when a run cannot be written. */
int store_run_check(const struct run *r, char *msg, size_t n);
/* For the engines' open: returns ret, err set unless already (err[0]). */
int store_open_fail(int ret, char *err, size_t errlen, const char *name,
                    const char *why);

#define STORE_UPDATE_SEQ "update_seq"

static inline void store_close(struct store *s) { if (s) s->vt->close(s); }
static inline const char *store_error(struct store *s) { return s->vt->error(s); }
static inline const char *store_describe(struct store *s) { return s->vt->describe(s); }
static inline int store_unavailable(struct store *s) { return s->vt->unavailable(s); }
static inline int store_begin(struct store *s) { return s->vt->begin(s); }
static inline int store_commit(struct store *s) { return s->vt->commit(s); }
static inline int store_rollback(struct store *s) { return s->vt->rollback(s); }
static inline int store_job_put(struct store *s, const char *n, const char *j) { return s->vt->job_put(s, n, j); }
static inline int store_job_del(struct store *s, const char *n) { return s->vt->job_del(s, n); }
static inline int store_job_each(struct store *s, store_job_cb cb, void *c) { return s->vt->job_each(s, cb, c); }
static inline int store_run_insert(struct store *s, struct run *r) { return s->vt->run_insert(s, r); }
static inline int store_run_update(struct store *s, const struct run *r) { return s->vt->run_update(s, r); }
static inline int store_run_get(struct store *s, const char *jid, int o, struct run *r) { return s->vt->run_get(s, jid, o, r); }
static inline int store_run_get_id(struct store *s, int64_t id, int o, struct run *r) { return s->vt->run_get_id(s, id, o, r); }
static inline int store_run_list(struct store *s, const struct run_query *q, store_run_cb cb, void *c) { return s->vt->run_list(s, q, cb, c); }
static inline int store_run_last_each(struct store *s, store_run_cb cb, void *c) { return s->vt->run_last_each(s, cb, c); }
static inline int store_run_max_jid(struct store *s, char out[JID_LEN + 1]) { return s->vt->run_max_jid(s, out); }
static inline int store_run_claim(struct store *s, int64_t id, int from, const char *w, const char *jid) { return s->vt->run_claim(s, id, from, w, jid); }
static inline int store_run_sweep(struct store *s, int64_t before, int batch) { return s->vt->run_sweep(s, before, batch); }
static inline int store_target_put(struct store *s, const char *n, int c, int p) { return s->vt->target_put(s, n, c, p); }
static inline int store_target_del(struct store *s, const char *n) { return s->vt->target_del(s, n); }
static inline int store_target_each(struct store *s, store_target_cb cb, void *c) { return s->vt->target_each(s, cb, c); }
static inline int store_kv_get(struct store *s, const char *k, char **v) { return s->vt->kv_get(s, k, v); }
static inline int store_kv_put(struct store *s, const char *k, const char *v) { return s->vt->kv_put(s, k, v); }
static inline int store_lease_take(struct store *s, const char *j, const char *h, int64_t now, int64_t ttl, struct store_lease *b) { return s->vt->lease_take(s, j, h, now, ttl, b); }
static inline int store_lease_fire(struct store *s, const char *j, const char *h, int64_t now, int64_t f) { return s->vt->lease_fire(s, j, h, now, f); }
static inline int store_lease_get(struct store *s, const char *j, struct store_lease *o) { return s->vt->lease_get(s, j, o); }
static inline int store_lease_release(struct store *s, const char *j, const char *h) { return s->vt->lease_release(s, j, h); }

#endif
