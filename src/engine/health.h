/* health.h — a job's health checks ([health_check NAME]: tcp, http,
 * command), probed on the loop (engine/health.c).  Called by the `health`
 * op, the lifecycle actions and the master's rolling restart. */
#ifndef JOBD_HEALTH_H
#define JOBD_HEALTH_H
#include <jansson.h>

#include "engine/engine_api.h"
#include "engine/jobs.h"

struct health_run;

/* report is stolen. */
typedef void (*health_done_fn)(void *arg, json_t *report);

/* Runs all of j's checks in parallel; each is retried up to its attempts,
 * interval apart (wait = 0: one attempt each).  done(arg, report) is
 * called once, on the loop, with report = {"ok": bool, "checks": [{"name",
 * "kind": "tcp|http|command", "target": "host:port|url|command", "ok":
 * bool, "attempts": N, "message": "connected" | "connection refused" |
 * "HTTP 503 (expected 200)" | "exit 1" | "timed out after 5s"}]} (stolen
 * by done).  A job with no checks: {"ok": true, "checks": []}, also from
 * the loop: done is never called from inside health_run.  What the checks
 * need is copied from j: the job may change or go meanwhile.  The run is
 * freed after done returns.  Returns 0 and *out = a handle, or < 0
 * (-ESHUTDOWN while the engine shuts down, -ENOMEM). */
int health_run(struct engine *e, const struct job *j, int wait,
               health_done_fn done, void *arg, struct health_run **out);
/* Stops h before its done: done is not called after this (a command
 * check's process group is killed). */
void health_cancel(struct health_run *h);
/* engine_close: stops every run of e at once (their done is not called);
 * the loop must run once more for the closes. */
void health_close_all(struct engine *e);
#endif
