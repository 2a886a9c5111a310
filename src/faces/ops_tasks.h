/* ops_tasks.h — the run op's part for a service file's tasks. */
#ifndef JOBD_OPS_TASKS_H
#define JOBD_OPS_TASKS_H
#include <jansson.h>

struct call;

/* Takes a run request that names a service (`name` with no job of that
 * name, or `rid`) and answers it; or refuses a manual run of a task that
 * may not run (disabled, max_parallel).  Returns 1 when it answered the
 * call, 0 when op_run goes on with it. */
int ops_tasks_run(struct call *c, json_t *data);

/* The part of job-action (ops_lifecycle.c) for services and tasks:
 * `status SERVICE` and `status SVC.task#N` of a task with a check (and no
 * [action status]) answer with the tasks' checks ({"status", "tasks"}),
 * another action on a service is refused, and a job for another node
 * (nodes =) is refused.  1 when it answered the call, else 0. */
int ops_tasks_action(struct call *c, json_t *data, const char *name,
                     const char *action);

/* Whether a run of j selected by tags alone (run --tags T) may start:
 * not a disabled task, not another node's. */
int ops_task_runs_here(struct call *c, const struct job *j);

#endif
