/* fake_engine.h — a real engine (engine_open) on its own libuv loop, over
 * the fake store (fake_store.h) and a fake wall clock (now_us_fake), for
 * the unit tests of runs, queue and scheduler.  Real child processes. */
#ifndef FAKE_ENGINE_H
#define FAKE_ENGINE_H

#include <stdint.h>
#include <uv.h>

#include "engine/engine.h"
#include "fake_store.h"

/* 2030-01-01T00:00:00Z: in the future, so the scheduler's real timerfd
 * (an absolute wall-clock deadline) never fires during a test; the tests
 * drive the scheduler with scheduler_tick after setting the clock. */
#define FX_EPOCH (1893456000LL * US_PER_S)

struct fx {
	uv_loop_t loop;
	uv_timer_t poke;         /* wakes the loop while a test waits */
	struct engine e;
	char dir[64];
	int stopped;
	int shutdown;            /* fx_shutdown was called */
};

/* A test's setup: an empty fake store, the real clock. */
int fx_setup(void **state);
/* Opens the engine at fake time `now` (the store seeded before, if at
 * all); fails the test on error. */
void fx_open(struct fx *f, int64_t now);
/* Shuts the engine down (running runs get SIGTERM), closes it, frees the
 * fake store. */
/* Begins the engine's shutdown (engine_shutdown); fx_close waits for it. */
void fx_shutdown(struct fx *f);
void fx_close(struct fx *f);
/* Sets the fake clock and runs what the scheduler's wake-up would. */
void fx_tick(struct fx *f, int64_t now);
/* Runs the loop until the store threads are idle, then a while longer
 * (ms of real time): for "nothing more happens" checks. */
void fx_settle(struct fx *f, int ms);
uint64_t fx_ms(void);    /* real monotonic time */

/* Runs the loop until cond holds; fails the test after 20 s. */
#define FX_UNTIL(f, cond) do { \
	uint64_t fx_deadline_ = fx_ms() + 20000; \
	while (!(cond)) { \
		if (fx_ms() > fx_deadline_) \
			fail_msg("timed out waiting for %s", #cond); \
		uv_run(&(f)->loop, UV_RUN_ONCE); \
	} \
} while (0)

/* A submit of argv[0..] (NULL-terminated) to target (NULL: default). */
struct arun *fx_submit(struct fx *f, const char *target, int priority,
                       int64_t not_before, const char *const *argv);
/* The same with a spec of JSON text. */
struct arun *fx_submit_spec(struct fx *f, const char *target, int priority,
                            int64_t not_before, const char *spec);
/* The run of jid in the fake store, its status (-1 if no row). */
int fx_status(const char *jid);

/* A watcher that counts its callbacks. */
struct fx_watch {
	struct run_watcher w;
	int started, output, ended, err;
	char out[256];
	int result, code;
};
void fx_watch(struct arun *a, struct fx_watch *w);

/* A job from JSON, added to the engine. */
struct job *fx_job(struct fx *f, const char *json);

/* Runs of the engine in memory for job (NULL: any) in status st. */
int fx_count(struct fx *f, const char *job, int status);
#endif
