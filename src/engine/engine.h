/* engine.h — the engine's own header (its files only; callers include
 * engine/engine_api.h): the one owner of jobd's state: jobs, runs,
 * targets, the scheduler.  Everything here runs on the loop thread; no locks.  The
 * store is the two store threads' (engine/storeq.h): the loop hands them
 * ops and hears back on itself; a->row_id and a->claim_rc are the only
 * fields a store thread writes, each before the op's done hands it over.
 *
 * The faces (Unix socket, TCP wire, later 9P and HTTP) never touch this
 * state directly: they call the ops table (faces/ops.h), which calls the
 * verbs of engine/engine_api.h. */
#ifndef JOBD_ENGINE_H
#define JOBD_ENGINE_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "core/heap.h"
#include "core/list.h"
#include "engine/config.h"
#include "engine/engine_api.h"
#include "engine/jobs.h"
#include "engine/lease.h"
#include "jobd.h"
#include "store/store.h"

struct storeq;

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
	/* targets whose committed starts wait to spawn, and the idle
	 * handle that spawns one a loop turn (spawnq.c) */
	struct link spawn_ring;
	uv_idle_t spawn_idle;
	struct link spawn_later; /* struct arun.slink: committed early, by
	                            instant (a delayed start's lead) */
	uv_timer_t spawn_hold;   /* a spawn held for a timed instant */
	int64_t spawn_cost;      /* us: the longest recent spawn (decaying) */
	int spawn_held;          /* the next spawn goes whatever is due */
	uv_timer_t sweep_timer;
	int sweep_full;          /* the last sweep deleted a whole batch */
	uv_timer_t resave_timer; /* runs whose update failed: again (persist.c) */
	struct arun **resave;
	int n_resave, cap_resave;
	int64_t last_jid;
	/* the store's update_seq of the definitions applied (defsync.c), and
	 * a count of this daemon's own definition writes */
	int64_t update_seq;
	uint64_t defs_gen;

	/* fire lateness samples in microseconds (ring) */
	int64_t lateness[1024];
	int n_lateness;
	struct metrics *metrics; /* counters and histograms (metrics.c) */

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
	struct link services;    /* supervised jobs (service.c) */
	struct lease *leases;    /* placement = one jobs' (lease.c) */
};

void engine_idle_soon(struct engine *e);
/* Supervised runs (service.c): run_finish of one; the end of all; at
 * start-up the services wanted before (read before the store threads
 * start, started once they run). */
void service_ended(struct engine *e, struct arun *a);
void service_close(struct engine *e);
void service_load(struct engine *e);
void service_resume(struct engine *e);
/* Stores j's definition (an API-made job; engine_job_put, enable). */
int engine_job_save(struct engine *e, const struct job *j);

/* Store writes (engine/persist.c): handed to the store thread, which
 * commits them in batches (group commit); the loop never waits.  A process
 * is spawned only once its running row is committed (so a crash never runs
 * it twice), a reply is sent only once what it acknowledges is committed
 * (so nothing acknowledged is lost): both wait behind persist_flush.  A run
 * whose insert fails is forgotten (run_forget). */
int persist_run_insert(struct engine *e, struct arun *a);  /* -ENOMEM */
/* lazy: nobody waits for this one (a started run's pid): it may ride
 * with a later batch, or be replaced by the run's next write */
void persist_run_update(struct engine *e, struct arun *a, int lazy);
void persist_target_put(struct engine *e, const char *name, int concurrency,
                        int paused);
void persist_target_del(struct engine *e, const char *name);
void persist_job_put(struct engine *e, const char *name, const char *def);
void persist_kv_put(struct engine *e, const char *key, const char *val);
void persist_sweep(struct engine *e, int64_t before, int batch);
/* engine_close: the runs still waiting to be saved again are let go. */
void persist_close(struct engine *e);

/* jobs (engine/engine.c) */
/* A definition as the engine keeps it: validated (job_from_json, then
 * job_check_built) in the daemon's zone, with its def_hash. */
int engine_job_parse(const struct engine *e, json_t *def, struct job **out,
                     char *err, size_t n);
int engine_job_add(struct engine *e, struct job *j);       /* takes j */
/* Start-up: the store's update_seq, read before its jobs (defsync.c). */
void defsync_load_seq(struct engine *e);
int engine_job_replace(struct engine *e, struct job *j);   /* takes j */
int engine_job_remove(struct engine *e, const char *name);
int engine_jobs_load(struct engine *e, int *n_files, char *err, size_t errlen);

/* runs (engine/runs.c) */
/* run_enqueue in two steps, for the scheduler: a burst of due jobs gets
 * all its runs created first, then stored together. */
int run_create(struct engine *e, const struct run_req *rq, struct arun **out,
               char *err, size_t errlen);
int run_store(struct engine *e, struct arun *a, struct job *j, char *err,
              size_t errlen);
int run_start(struct engine *e, struct arun *a);
/* A started run's spawn, its turn come (spawnq.c). */
void run_spawn(struct engine *e, struct arun *a);
void arun_unref(struct arun *a);         /* a store op of it is done */
int run_adopt_orphan(struct engine *e, struct run *row);
/* engine_close: stops watching an adopted orphan (it goes on running) */
void run_orphan_close(struct arun *a);
/* Drops a run whose creation was rolled back: its watchers get an error. */
void run_forget(struct engine *e, struct arun *a, const char *why);
/* Forgets a waiting run whose row another worker claimed first. */
void run_drop(struct engine *e, struct arun *a);


/* queue (engine/queue.c) */
struct target *queue_target_add(struct engine *e, const char *name,
                                int concurrency);
int queue_target_remove(struct engine *e, const char *name);
void queue_push(struct engine *e, struct arun *a);
void queue_unlink(struct engine *e, struct arun *a);
/* Wakes the queue at `at` (the scheduler's timerfd). */
void queue_wake_at(struct engine *e, int64_t at);

/* spawns (engine/spawnq.c): committed starts spawn one a loop turn,
 * targets in turn.  A delayed start is claimed and committed SPAWN_LEAD
 * ahead of its instant, its spawn alone waiting for the instant. */
#define SPAWN_LEAD (50 * 1000LL)        /* us */
void spawnq_init(struct engine *e);
void spawnq_push(struct engine *e, struct arun *a);
/* Spawns the early-committed starts due at `now`; the next one's instant
 * (0: none).  Called when the queue wakes (queue_pump_all). */
int64_t spawnq_due(struct engine *e, int64_t now);
void spawnq_close(struct engine *e);

/* scheduler (engine/scheduler.c) */
void scheduler_arm_job(struct engine *e, struct job *j, int64_t now);
void scheduler_disarm_job(struct engine *e, struct job *j);
int scheduler_init(struct engine *e);        /* the scheduler's wake-up */
void scheduler_close(struct engine *e);
void scheduler_start(struct engine *e, int at_boot);
void scheduler_stop(struct engine *e);
/* Sets the wake-up to the earliest of the next fire and e->delay_at;
 * scheduler_next is that instant, -1 when none. */
void scheduler_rearm(struct engine *e);
int64_t scheduler_next(const struct engine *e);
/* What the wake-up does: fires the due jobs, pumps the queues, re-arms.
 * Tests call it after setting the clock (now_us_fake). */
void scheduler_tick(struct engine *e);

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
