/* lease.h — placement = one (engine/lease.c): which daemon of a cluster
 * fires a job's schedule.  The engine's own; faces use engine_lease and
 * engine_lease_refuse (engine_api.h). */
#ifndef JOBD_ENGINE_LEASE_H
#define JOBD_ENGINE_LEASE_H

#include <stdint.h>

struct engine;
struct job;
struct arun;

/* Whether j needs a lease here: placement = one, enabled, on this node. */
int lease_wanted(const struct engine *e, const struct job *j);
/* j was (re)defined or (re)armed: its lease is kept (taken at the next
 * loop turn) if it needs one, else let go. */
void lease_want(struct engine *e, const struct job *j);
/* Job `job` is gone: its lease is released. */
void lease_forget(struct engine *e, const char *job);
/* 1 while this daemon holds j's lease, renewed less than lease_timeout
 * ago. */
int lease_held(struct engine *e, const struct job *j, int64_t now);
/* A run's fire-time claim was lost (persist.c): it is dropped. */
void lease_fire_lost(struct engine *e, struct arun *a);
/* Shutdown: every lease is released, so another daemon takes over now. */
void lease_release_all(struct engine *e);
/* engine_close, after the store threads stopped: frees them. */
void lease_close(struct engine *e);
#endif
