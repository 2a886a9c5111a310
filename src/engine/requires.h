/* requires.h — a job's `requires` (a task's `run_requires`): the states
 * other jobs must be in for it to run.  An item is "JOB" or
 * "JOB(STATE,...)": JOB must be in one of the states (default `up`); every
 * item must hold.  States: up (a run of JOB is active, or the last run of
 * its `status` action ended ok), down (not up), ok (its last run of its
 * command ended ok). */
#ifndef JOBD_REQUIRES_H
#define JOBD_REQUIRES_H
#include <stddef.h>

struct engine;
struct job;

enum { REQ_UP = 1, REQ_DOWN = 2, REQ_OK = 4 };

/* What is known of a required job; the lookup returns -ENOENT when there
 * is no such job. */
struct req_facts {
	int running;     /* runs of it active now */
	int status_up;   /* last `status` run: 1 ok, 0 not, -1 none */
	int last_ok;     /* last run of its command: 1 ok, 0 not, -1 none */
};
typedef int (*req_lookup)(void *ctx, const char *job, struct req_facts *out);

/* Parses one item into name (NUL-terminated) and a REQ_* mask.  -EINVAL
 * with err naming the item and what is wrong. */
int requires_parse(const char *item, char *name, size_t namelen,
                   unsigned *states, char *err, size_t errlen);
/* Checks every item of a definition (job `self` may not require itself). */
int requires_validate(char *const *items, const char *self, char *err,
                      size_t errlen);
/* 0 when every item holds; -EAGAIN with err naming the first unmet item
 * ("requires db(up): job 'db' is down"); -EINVAL for a bad item. */
int requires_eval(char *const *items, req_lookup fn, void *ctx, char *err,
                  size_t errlen);

/* The engine's side: j's requirements over the jobs in memory. */
int job_requires_met(struct engine *e, const struct job *j, char *err,
                     size_t errlen);

#endif
