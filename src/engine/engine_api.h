/* engine_api.h — the engine as its callers see it: the faces (the ops
 * table, the socket and TCP faces, later 9P, HTTP and the cluster master)
 * and cmd/jobd.c include this header, never engine/engine.h.  struct
 * engine is opaque here: a caller reaches jobs, runs and targets through
 * the verbs below (engine/verbs.c and the files named with them), never
 * through the engine's fields.  scripts/layers.sh fails a face or a cmd
 * that includes engine/engine.h.
 *
 * struct target, struct arun and struct job (engine/jobs.h) are shown so
 * that a caller can read them (a run's row, a target's counts); they are
 * changed only through verbs (engine_target_set, engine_job_put, ...).
 * Everything runs on the loop thread. */
#ifndef JOBD_ENGINE_API_H
#define JOBD_ENGINE_API_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "core/list.h"
#include "engine/config.h"
#include "engine/jobs.h"
#include "engine/storeq.h"
#include "jobd.h"
#include "store/store.h"

struct engine;
struct exec;
struct proc;

/* A named queue with slots. */
struct target {
	char *name;
	int concurrency;
	int paused;
	int running;
	int waiting;
	struct link queue;       /* struct arun.qlink, by priority then id */
	int from_config;
	int poll_more;           /* the last poll hit mysql_fetch_limit */
	int polling;             /* queue_poll is running for it */
	struct link spawns;      /* struct arun.slink: committed, to spawn */
	struct link spawn_turn;  /* in engine.spawn_ring while spawns waits */
};

/* Output of one stream, capped. */
struct outbuf {
	char *buf;
	size_t len, cap;
	size_t limit;
	int truncated;
};

/* A run the engine holds in memory: waiting, accepted or running.  Finished
 * runs live only in the store. */
struct arun {
	struct run r;
	struct engine *e;
	struct link all;         /* engine.runs */
	struct link qlink;       /* target.queue while waiting */
	struct link slink;       /* target.spawns: its spawn's turn (spawnq.c) */
	struct target *target;
	struct proc *proc;
	uv_timer_t *timeout;     /* armed while running with a timeout */
	struct outbuf out, err;
	struct link watchers;    /* struct run_watcher.link (the seam) */
	uv_poll_t *orphan;       /* adopted after a crash: its pidfd watch */
	int stop_signal;         /* signal we sent to end it (timeout, kill) */
	int retries;             /* from the spec, kept at start */
	int64_t backoff, kill_grace;
	int kill_leftovers;      /* from the spec too */
	int timed_out;
	int cancelled;
	int starting;            /* start waits for its commit (run_start) */
	int forgotten;
	struct exec *x;          /* while starting: what to spawn */
	/* store thread (engine/persist.c) */
	int pending;             /* store ops of it in flight: keep it */
	int released;            /* ended (in e->settling); freed when pending
	                            drops to 0 */
	int64_t row_id;          /* its row id, set by the insert on the thread */
	int claim_rc;            /* its claim's result, set on the thread */
	/* placement = one: the fire time its insert claims in the job's
	 * lease first (engine/lease.c); lease_lost is set on the thread when
	 * that claim failed (the row is then not inserted) */
	int64_t lease_fire;
	int lease_lost;
	void *row_op;            /* its row write still gathering (persist.c) */
	uint64_t row_op_batch;   /* ... in this batch */
	int has_slot;            /* counts in its target's running (runs.c) */
	int resaving;            /* in e->resave */
	int supervised;          /* a service's run (service.c): outside its
	                            target's slots, started again when it ends */
};

/* ---- lifecycle (engine.c, verbs.c) ---- */

/* A zeroed engine for engine_open; engine_free after engine_close, once
 * the loop has run the close callbacks of its handles (uv_run). */
struct engine *engine_new(void);
void engine_free(struct engine *e);
/* engine_open takes cfg's allocations (engine_close frees them), on
 * failure too: then all it had set up is released, its handles closing on
 * `loop` (a uv_run of it finishes them before uv_loop_close). */
int engine_open(struct engine *e, uv_loop_t *loop, const struct config *cfg,
                char *err, size_t errlen);
void engine_close(struct engine *e);
/* Re-reads job files (and the config's [targets]); keeps runs going. */
int engine_reload(struct engine *e, struct config *cfg, int *n_jobs,
                  int *n_files, char *err, size_t errlen);
/* The update_seq of the store's definitions that this daemon applied
 * (store.h STORE_UPDATE_SEQ; defsync.c). */
int64_t engine_update_seq(const struct engine *e);
/* Reads the store's job definitions again and applies them (new, changed,
 * deleted; file jobs win), then cb(arg, 0, "") or cb(arg, rc < 0, why). */
void engine_jobs_refresh(struct engine *e,
                         void (*cb)(void *arg, int rc, const char *err),
                         void *arg);
/* Graceful stop: nothing new starts, running runs get shutdown_grace, then
 * their groups get SIGTERM (SIGKILL after kill_grace).  done runs on a
 * later loop turn once no run is left.  Waiting runs stay in the store. */
void engine_shutdown(struct engine *e, void (*done)(struct engine *));
/* A second TERM: the running runs' groups are terminated now, without the
 * rest of shutdown_grace. */
void engine_shutdown_now(struct engine *e, void (*done)(struct engine *));
int engine_shutting_down(const struct engine *e);

/* ---- what the engine is (verbs.c) ---- */

const struct config *engine_config(const struct engine *e);
uv_loop_t *engine_loop(const struct engine *e);
uid_t engine_uid(const struct engine *e);   /* the daemon's user */
int engine_is_root(const struct engine *e);
struct engine_stats {
	int64_t started;         /* unix us */
	const char *store;       /* store_describe of the read store */
	int n_jobs, n_targets, n_running, n_waiting;
	/* job files skipped at the last load, "FILE:LINE: why" (borrowed) */
	char *const *job_errors;
	int n_job_errors;
};
void engine_stats(const struct engine *e, struct engine_stats *st);
/* The engine's metrics in the Prometheus text format 0.0.4 (metrics.c;
 * docs/metrics.md lists them): malloc'd, *len its length; NULL when out
 * of memory. */
char *engine_metrics(struct engine *e, size_t *len);

/* ---- writes and replies (persist.c) ---- */

typedef void (*persist_cb)(void *arg, int rc, const char *err);
/* cb(arg, 0, "") once all writes asked for so far are committed, or
 * cb(arg, rc < 0, why) when their batch failed; at once when none is
 * pending. */
void persist_flush(struct engine *e, persist_cb cb, void *arg);
/* The writes asked for so far go to the store thread now if it has room
 * (storeq_kick): a face calls it between requests of a long read. */
void persist_kick(struct engine *e);
/* Store writes asked for so far (a count): a reply whose request wrote
 * nothing acknowledges nothing and need not wait for a commit. */
uint64_t persist_writes(const struct engine *e);
/* Claims row id (a's, when a is given and id is 0) from from_status for
 * this worker with jid; cb gets 0 (ours), -EBUSY / -ENOENT (not ours) or
 * another error; on -EBUSY *now_status (if given) is the row's status
 * then.  A run whose claim fails is not started: its updates in the same
 * batch are skipped. */
void persist_claim(struct engine *e, struct arun *a, int64_t id,
                   int from_status, const char *jid, int *now_status,
                   persist_cb cb, void *arg);

/* ---- reads (verbs.c): on the read thread, never on the loop ----
 * work runs on the read thread with the read store; done on the loop with
 * its result.  op is the caller's (embed it) until done. */
void engine_read(struct engine *e, struct storeq_op *op, storeq_work_fn work,
                 storeq_done_fn done);

/* ---- jobs (engine.c, verbs.c) ---- */

struct job *engine_job_find(struct engine *e, const char *name);
/* Whether j runs on this daemon: its `nodes` name it (or are none) and
 * its `selectors` are among the config's labels (docs/cluster.md). */
int engine_job_runs_here(const struct engine *e, const struct job *j);
/* The i-th job by name, NULL past the last: for (i = 0; (j =
 * engine_job_at(e, i)); i++). */
struct job *engine_job_at(const struct engine *e, int i);
/* Stores j's definition and puts it in place of the job of its name (or
 * adds it): the one path of every API-made definition.  Takes j; on
 * -ENOMEM (its definition could not be stored) j is still the caller's. */
int engine_job_put(struct engine *e, struct job *j);
/* Removes the job and its stored definition; -ENOENT. */
int engine_job_delete(struct engine *e, const char *name);
/* API jobs: stored; job-file jobs: remembered in the store. */
int engine_job_set_enabled(struct engine *e, struct job *j, int enabled);

/* ---- runs (runs.c, verbs.c) ---- */

struct run_req {
	struct job *job;         /* or NULL for a submit */
	const char *action;
	int trigger;
	json_t *spec;            /* submit: what to run (borrowed) */
	const char *target;      /* NULL = job's or "default" */
	int priority;
	int retries;
	int64_t not_before;
	uint32_t uid;
	int status;              /* RUN_WAITING (default) or RUN_MANUAL */
	int confirmed;           /* the caller answered yes: a manual run of
	                          * a job with confirm is refused without */
	int64_t fire_time;       /* a scheduled run: its fire time (us), kept
	                          * in its spec, JOBD_FIRE_TIME in its env */
};
int run_enqueue(struct engine *e, const struct run_req *rq, struct arun **out,
                char *err, size_t errlen);
/* Its row as it is now, output from its buffers (shallow: borrowed). */
void arun_row(const struct arun *a, struct run *r);
struct arun *run_adopt_row(struct engine *e, struct run *row);
struct arun *run_find(struct engine *e, const char *jid);
struct arun *run_find_id(struct engine *e, int64_t id);
int run_signal(struct engine *e, struct arun *a, int sig);
int run_cancel(struct engine *e, struct arun *a);
/* The in-memory runs, oldest first: a = NULL gives the first; NULL after
 * the last.  engine_run_prev walks newest first the same way. */
/* placement = one (engine/lease.c): the lease of job j as this daemon
 * last saw it; -ENOENT when j has none here. */
struct engine_lease {
	char holder[256];        /* "" = unknown / nobody */
	int64_t expires;         /* us */
	int here;                /* this daemon holds it */
};
int engine_lease(struct engine *e, const struct job *j,
                 struct engine_lease *out);
/* -ECANCELED with err naming the holder when j has placement = one and
 * this daemon does not hold its lease (a manual run must not start
 * here); else 0. */
int engine_lease_refuse(struct engine *e, const struct job *j, char *err,
                        size_t errlen);
struct arun *engine_run_next(const struct engine *e, const struct arun *a);
struct arun *engine_run_prev(const struct engine *e, const struct arun *a);
/* The next jid of this daemon (a row made elsewhere that has none). */
void engine_jid_next(struct engine *e, char *jid);

/* ---- services: lifecycle actions on one daemon (service.c,
 * docs/lifecycle.md) ---- */

/* Starts j's command as a supervised run, at once (not behind its
 * target's queue): jobd starts it again when it ends on its own.  0 with
 * *out the new run (watch it to see it start), 1 with *out the supervised
 * run already going, or a negative errno with err (-ECANCELED: j needs
 * confirmation; unmet requires; ...). */
int engine_service_start(struct engine *e, struct job *j, uint32_t uid,
                         int confirmed, struct arun **out, char *err,
                         size_t errlen);
/* Ends the supervision of job `job` (its run goes on): 1 if it had one. */
int engine_service_end(struct engine *e, const char *job);
/* 1 while job's supervised run has ended and waits for its restart. */
int engine_service_restarting(struct engine *e, const char *job);
/* SIGTERM to a's process group now, SIGKILL after its kill_grace if the
 * group (the leader or what it left) is still there; marks it stopped on
 * purpose (a service's run is not started again).  -ESRCH when a is not
 * running. */
int run_stop(struct engine *e, struct arun *a);
/* The running runs of job `job`'s command (not of its actions), oldest
 * first: a = NULL gives the first, NULL after the last. */
struct arun *engine_job_run_next(const struct engine *e, const char *job,
                                 const struct arun *a);

/* Run events: the seam between the engine and the faces.  Whoever waits
 * on a run (a face's call: wait, follow, run-manual) embeds a run_watcher
 * and links it with run_watch; the engine calls it back and knows nothing
 * of who is watching (as proc.h's proc_cbs one level down).  `ended` comes
 * once, with the watcher already unlinked: err 0 when the run finished or
 * was dropped (a's row is as it ended), or a negative errno and msg when
 * the run was lost (its creation was not stored).  A callback may free
 * its watcher; `started` and `output` may unwatch it. */
struct run_watcher;
struct run_watcher_cbs {
	void (*started)(struct run_watcher *w, const struct arun *a);
	void (*output)(struct run_watcher *w, const struct arun *a,
	               int stream, const char *buf, size_t n);
	void (*ended)(struct run_watcher *w, const struct arun *a, int err,
	              const char *msg);
};
struct run_watcher {
	const struct run_watcher_cbs *cbs;
	struct link link;        /* in arun.watchers while linked */
	int linked;
};
void run_watch(struct arun *a, struct run_watcher *w);
void run_unwatch(struct run_watcher *w);   /* no-op when not linked */

/* ---- targets (queue.c, verbs.c) ---- */

struct target *queue_target(struct engine *e, const char *name);
/* The i-th target, NULL past the last. */
struct target *engine_target_at(const struct engine *e, int i);
/* Adds (and stores) a target: NULL when out of memory. */
struct target *engine_target_add(struct engine *e, const char *name,
                                 int concurrency);
/* Removes (and forgets) a target: -ENOENT, -EBUSY (runs wait in it), -EPERM
 * (the default), -EROFS (from the config file), -EADDRINUSE (jobs use it). */
int engine_target_remove(struct engine *e, const char *name);
/* Sets a target's concurrency and paused flag (< 0: as it is), stores
 * them and starts what now fits; unpausing also polls (a paused target's
 * poll left its rows in the store for other workers). */
void engine_target_set(struct engine *e, struct target *t, int concurrency,
                       int paused);
void queue_pump(struct engine *e, struct target *t);
void queue_pump_all(struct engine *e);
/* Claims rows in status waiting of target t that no run in memory holds
 * (rows other programs INSERTed), up to mysql_fetch_limit, and queues
 * them as accepted runs: listed on the read thread, claimed on the store
 * thread.  0, or -ENOMEM. */
int queue_poll(struct engine *e, struct target *t);

/* ---- the scheduler (scheduler.c) ---- */

void scheduler_lateness(const struct engine *e, double *p50_ms, double *p99_ms);
uint64_t scheduler_seed(const struct job *j);
#endif
