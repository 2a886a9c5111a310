/* ops_int.h — what the files of the ops table share (ops.c: replying,
 * arguments, permissions, the table; ops_jobs.c: definitions and the
 * daemon; ops_runs.c: running, runs and reads; ops_targets.c: targets;
 * ops_queue.c: the original queue's requests).  Private to src/faces. */
#ifndef JOBD_OPS_INT_H
#define JOBD_OPS_INT_H

#include <jansson.h>
#include <stdint.h>

#include "core/jid.h"
#include "engine/storeq.h"
#include "faces/ops.h"

/* ---- arguments (ops.c): each failing one has failed the call ---- */
const char *get_str(json_t *data, const char *key);
int need_str(struct call *c, json_t *data, const char *key, const char **out);
int opt_bool(json_t *data, const char *key, int dflt);
int get_dur(struct call *c, json_t *data, const char *key, int64_t *us);
int get_time(struct call *c, json_t *data, const char *key, int64_t *us);
json_t *time_json(int64_t us);
/* Output bytes as a JSON string (non-UTF-8 bytes become '?'). */
json_t *text_json(const char *buf, size_t n);

/* ---- permissions (ops.c): 1 = allowed, 0 = the call has failed ---- */
int may_job(struct call *c, const struct job *j);
int may_run(struct call *c, const struct run *r);
int may_execute(struct call *c, const char **user);
int may_run_as(struct call *c, const char *user, const char *group);
struct job *find_job(struct call *c, const char *name);

/* ---- reads (ops_runs.c): on the read thread (engine/storeq.h), never on the loop ----
 * A read keeps its call (the call's cancel hook forgets it if the client
 * goes away meanwhile) and the request's data, and goes on in `found`
 * once the row is read. */

struct rd;
typedef void (*found_fn)(struct call *c, json_t *data, struct arun *a,
                         struct run *r);

struct rd {
	struct storeq_op op;
	struct call *c;          /* NULL once the caller went away */
	json_t *data;            /* the request's (a reference) */
	void (*fin)(struct rd *d, int rc, const char *err);
	found_fn found;
	char jid[JID_LEN + 1];
	const char *name;        /* in data: a job's newest run */
	int with_output;
	struct run run;          /* the row read */
	struct run_query q;      /* op_runs */
	json_t *list;            /* op_runs' rows / op_list's last runs */
};

/* A read for c (NULL when out of memory: c has failed); fin runs on the
 * loop with the read's result unless c went away meanwhile. */
struct rd *rd_new(struct call *c, json_t *data, storeq_work_fn work,
                  void (*fin)(struct rd *, int, const char *));
void rd_submit(struct rd *d);
/* The newest stored run of job d->name (read thread). */
int rd_last_work(struct store *s, struct storeq_op *op, int replay);
/* The newest stored run of a job (read thread); -ENOENT when none. */
int last_run(struct store *s, const char *job, int with_output,
             struct run *out);

/* ---- the ops (the table in ops.c) ---- */
void op_create(struct call *c, json_t *data);
void op_delete(struct call *c, json_t *data);
void op_list(struct call *c, json_t *data);
void op_show(struct call *c, json_t *data);
void op_enable(struct call *c, json_t *data);
void op_disable(struct call *c, json_t *data);
void op_reload(struct call *c, json_t *data);
void op_sync(struct call *c, json_t *data);
void op_status(struct call *c, json_t *data);
void op_metrics(struct call *c, json_t *data);
void op_next(struct call *c, json_t *data);
void op_workers(struct call *c, json_t *data);
void op_run(struct call *c, json_t *data);
void op_submit(struct call *c, json_t *data);
void op_active(struct call *c, json_t *data);
void op_runs(struct call *c, json_t *data);
void op_lookup(struct call *c, json_t *data);
void op_wait(struct call *c, json_t *data);
void op_logs(struct call *c, json_t *data);
void op_signal(struct call *c, json_t *data);
void op_cancel(struct call *c, json_t *data);
void op_targets(struct call *c, json_t *data);
void op_add_target(struct call *c, json_t *data);
void op_remove_target(struct call *c, json_t *data);
void op_set_concurrency(struct call *c, json_t *data);
void op_pause(struct call *c, json_t *data);
void op_continue(struct call *c, json_t *data);
void op_poll(struct call *c, json_t *data);
void op_health(struct call *c, json_t *data);   /* ops_health.c */
/* job-action's health_check (and any status): runs op(c, data) as a call
 * of its own and adds the job's health checks to its result before c
 * gets it; 1 when it took c, 0 when there is nothing to check. */
int ops_health_after(struct call *c, json_t *data,
                     void (*op)(struct call *, json_t *));
/* A health report (or error) into a job-action result: its checks, and a
 * failing one makes the result fail naming it ("...; unhealthy: WHY"). */
void ops_health_merge(json_t *result, json_t *report, const char *error);
void op_job_action(struct call *c, json_t *data);   /* ops_lifecycle.c */
/* The targets as {name: {...}} or [{name, ...}] (status, targets). */
json_t *targets_json(struct engine *e, int as_list);
/* The next n fire times of j from `from` (show, next). */
json_t *next_times(struct job *j, int64_t from, int n);

#endif
