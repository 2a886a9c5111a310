/* engine.h — the one owner of jobd's state: jobs, runs, targets, the
 * scheduler.  Everything here runs on the loop thread; no locks.  The
 * store is the two store threads' (engine/storeq.h): the loop hands them
 * ops and hears back on itself; a->row_id and a->claim_rc are the only
 * fields a store thread writes, each before the op's done hands it over.
 *
 * The faces (Unix socket, TCP wire, later 9P and HTTP) never touch this
 * state directly: they call the ops table (faces/ops.h), which calls the
 * engine_* / run_* / queue_* functions declared here. */
#ifndef JOBD_ENGINE_H
#define JOBD_ENGINE_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "core/heap.h"
#include "core/list.h"
#include "engine/config.h"
#include "engine/jobs.h"
#include "jobd.h"
#include "store/store.h"

struct exec;
struct proc;
struct storeq;

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
	void *row_op;            /* its row write still gathering (persist.c) */
	uint64_t row_op_batch;   /* ... in this batch */
	int has_slot;            /* counts in its target's running (runs.c) */
	int resaving;            /* in e->resave */
};

struct engine {
	uv_loop_t *loop;
	struct config cfg;
	struct store *store;     /* the store thread's (loop: only at start-up) */
	struct store *rstore;    /* the read thread's (loop: at start-up) */
	struct storeq *sq;       /* the store thread (engine/storeq.h) */
	struct storeq *rq;       /* the read thread: reads for replies */
	uid_t uid;               /* the daemon's user */
	int is_root;
	int64_t started;         /* unix us */

	struct job **jobs;       /* sorted by name */
	int n_jobs, cap_jobs;

	struct target **targets;
	int n_targets;

	struct link runs;        /* struct arun.all: every in-memory run */
	/* ended runs whose last write is not committed yet: still found by
	 * run_find (a reader of the store would see the row as it was) */
	struct link settling;
	int n_running, n_waiting;

	struct heap fires;       /* jobs by next fire time */
	uv_poll_t sched_poll;    /* a timerfd on the wall clock (scheduler.c) */
	int sched_fd;
	/* the earliest not-before of a waiting run (--at, jitter, backoff),
	 * 0 = none: the scheduler's timerfd wakes the queue then too */
	int64_t delay_at;
	uv_timer_t sweep_timer;
	int sweep_full;          /* the last sweep deleted a whole batch */
	uv_timer_t resave_timer; /* runs whose update failed: again (persist.c) */
	struct arun **resave;
	int n_resave, cap_resave;
	int64_t last_jid;

	/* fire lateness samples in microseconds (ring) */
	int64_t lateness[1024];
	int n_lateness;

	int64_t idle_since;      /* shutdown: waiting for the store since */

	int shutting_down;
	uv_timer_t shutdown_timer;
	void (*on_idle)(struct engine *e);   /* shutdown: last run ended */
	/* job files skipped at the last load, each "FILE:LINE: why" (a bad
	 * file does not stop the others: jobctl status lists them) */
	char **job_errors;
	int n_job_errors;
	char proc_dir[4096];
	mode_t file_mode;        /* of proc files (engine/statedir.h) */
	struct procfiles *procfiles;  /* procfile.c's state */
};

/* engine.c-level lifecycle (engine/runs.c and friends).  engine_open takes
 * cfg's allocations (engine_close frees them), on failure too: then all it
 * had set up is released, its handles closing on `loop` (a uv_run of it
 * finishes them before uv_loop_close). */
int engine_open(struct engine *e, uv_loop_t *loop, const struct config *cfg,
                char *err, size_t errlen);
void engine_close(struct engine *e);
/* Re-reads job files (and the config's [targets]); keeps runs going. */
int engine_reload(struct engine *e, struct config *cfg, int *n_jobs,
                  int *n_files, char *err, size_t errlen);
/* Graceful stop: nothing new starts, running runs get shutdown_grace, then
 * their groups get SIGTERM (SIGKILL after kill_grace).  done runs on a
 * later loop turn once no run is left.  Waiting runs stay in the store. */
void engine_shutdown(struct engine *e, void (*done)(struct engine *));
void engine_idle_soon(struct engine *e);

/* Store writes (engine/persist.c): handed to the store thread, which
 * commits them in batches (group commit); the loop never waits.  A process
 * is spawned only once its running row is committed (so a crash never runs
 * it twice), a reply is sent only once what it acknowledges is committed
 * (so nothing acknowledged is lost): both wait behind engine_flush.  A run
 * whose insert fails is forgotten (run_forget). */
typedef void (*persist_cb)(void *arg, int rc, const char *err);
int persist_run_insert(struct engine *e, struct arun *a);  /* -ENOMEM */
/* lazy: nobody waits for this one (a started run's pid): it may ride
 * with a later batch, or be replaced by the run's next write */
void persist_run_update(struct engine *e, struct arun *a, int lazy);
/* Claims row id (a's, when a is given and id is 0) from from_status for
 * this worker with jid; cb gets 0 (ours), -EBUSY / -ENOENT (not ours) or
 * another error; on -EBUSY *now_status (if given) is the row's status
 * then.  A run whose claim fails is not started: its updates in the same
 * batch are skipped. */
void persist_claim(struct engine *e, struct arun *a, int64_t id,
                   int from_status, const char *jid, int *now_status,
                   persist_cb cb, void *arg);
void persist_target_put(struct engine *e, const char *name, int concurrency,
                        int paused);
void persist_target_del(struct engine *e, const char *name);
void persist_job_put(struct engine *e, const char *name, const char *def);
void persist_kv_put(struct engine *e, const char *key, const char *val);
void persist_sweep(struct engine *e, int64_t before, int batch);
/* engine_close: the runs still waiting to be saved again are let go. */
void persist_close(struct engine *e);
/* cb(arg, 0, "") once all writes asked for so far are committed, or
 * cb(arg, rc < 0, why) when their batch failed; at once when none is
 * pending. */
void engine_flush(struct engine *e, persist_cb cb, void *arg);
/* The writes asked for so far go to the store thread now if it has room
 * (storeq_kick): a face calls it between requests of a long read. */
void engine_kick(struct engine *e);
/* Store writes asked for so far (a count): a reply whose request wrote
 * nothing acknowledges nothing and need not wait for a commit. */
uint64_t engine_writes(const struct engine *e);

/* jobs (engine/engine.c) */
struct job *engine_job_find(struct engine *e, const char *name);
int engine_job_add(struct engine *e, struct job *j);       /* takes j */
int engine_job_replace(struct engine *e, struct job *j);   /* takes j */
int engine_job_remove(struct engine *e, const char *name);
int engine_job_set_enabled(struct engine *e, struct job *j, int enabled);
int engine_jobs_load(struct engine *e, int *n_files, char *err, size_t errlen);

/* runs (engine/runs.c) */
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
};
int run_enqueue(struct engine *e, const struct run_req *rq, struct arun **out,
                char *err, size_t errlen);
/* run_enqueue in two steps, for the scheduler: a burst of due jobs gets
 * all its runs created first, then stored together. */
int run_create(struct engine *e, const struct run_req *rq, struct arun **out,
               char *err, size_t errlen);
int run_store(struct engine *e, struct arun *a, struct job *j, char *err,
              size_t errlen);
int run_start(struct engine *e, struct arun *a);
void arun_unref(struct arun *a);         /* a store op of it is done */
/* Its row as it is now, output from its buffers (shallow: borrowed). */
void arun_row(const struct arun *a, struct run *r);
struct arun *run_adopt_row(struct engine *e, struct run *row);
int run_adopt_orphan(struct engine *e, struct run *row);
/* engine_close: stops watching an adopted orphan (it goes on running) */
void run_orphan_close(struct arun *a);
/* Drops a run whose creation was rolled back: its watchers get an error. */
void run_forget(struct engine *e, struct arun *a, const char *why);
struct arun *run_find(struct engine *e, const char *jid);
struct arun *run_find_id(struct engine *e, int64_t id);
/* Forgets a waiting run whose row another worker claimed first. */
void run_drop(struct engine *e, struct arun *a);
int run_signal(struct engine *e, struct arun *a, int sig);
int run_cancel(struct engine *e, struct arun *a);

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

/* queue (engine/queue.c) */
struct target *queue_target(struct engine *e, const char *name);
struct target *queue_target_add(struct engine *e, const char *name,
                                int concurrency);
int queue_target_remove(struct engine *e, const char *name);
void queue_push(struct engine *e, struct arun *a);
void queue_unlink(struct engine *e, struct arun *a);
void queue_pump(struct engine *e, struct target *t);
void queue_pump_all(struct engine *e);
/* Claims rows in status waiting of target t that no run in memory holds
 * (rows other programs INSERTed), up to mysql_fetch_limit, and queues
 * them as accepted runs: listed on the read thread, claimed on the store
 * thread.  0, or -ENOMEM. */
int queue_poll(struct engine *e, struct target *t);

/* scheduler (engine/scheduler.c) */
void sched_arm_job(struct engine *e, struct job *j, int64_t now);
void sched_disarm_job(struct engine *e, struct job *j);
int sched_init(struct engine *e);        /* the scheduler's wake-up */
void sched_close(struct engine *e);
void sched_start(struct engine *e, int at_boot);
void sched_stop(struct engine *e);
/* Sets the wake-up to the earliest of the next fire and e->delay_at. */
void sched_rearm(struct engine *e);
/* What the wake-up does: fires the due jobs, pumps the queues, re-arms.
 * Tests call it after setting the clock (now_us_fake). */
void sched_tick(struct engine *e);
void sched_lateness(const struct engine *e, double *p50_ms, double *p99_ms);
uint64_t sched_seed(const struct job *j);

/* recovery (engine/recover.c): settle what a crash left behind. */
int recover_runs(struct engine *e, char *err, size_t errlen);

/* proc files: <state_dir>/proc/<jid> (engine/procfile.c) */
int procfile_write(struct engine *e, const struct arun *a);
void procfile_remove(struct engine *e, const char *jid);
/* Closes the kept inodes' descriptors and frees procfile.c's state (it is
 * made again on the next use). */
void procfile_close(struct engine *e);
/* The pid recorded in a proc file: recovery's source when the store's
 * pid update was not committed before a crash. */
int procfile_read(struct engine *e, const char *jid, int *pid,
                  int64_t *pid_start);
#endif
