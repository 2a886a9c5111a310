/* ops_tasks.c — manual runs of a service file's tasks (docs/tasks.md):
 * `run NAME` (every task of service NAME, in task order), `run NAME --rid
 * task#N` (one), `run NAME --rid task --tags T` (those with a tag).  With
 * `wait`, the tasks run one after the other and the reply lists their
 * runs ({"runs": [...]}: jobctl exits with the first failure's code).
 * Also the rules every manual run of a task obeys: a disabled task is
 * never run, max_parallel = 1 refuses a second concurrent run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faces/json.h"
#include "faces/ops_int.h"
#include "faces/ops_tasks.h"

#define TASKS_MAX 1000

struct svc_run {
	struct call *c;
	struct run_watcher w;
	struct job *todo[TASKS_MAX];   /* only names survive a reload: */
	char *names[TASKS_MAX];        /* the jobs are looked up again */
	int n, next;
	int yes;                       /* the caller confirmed (--yes) */
	json_t *runs;                  /* the ended runs, in order */
};

static const char *task_suffix(const char *name)
{
	const char *h = strstr(name, ".task#");
	return h ? h + 1 : NULL;       /* "task#N" */
}

/* The N of "svc.task#N" when it is a task of service svc, else -1. */
static long task_of(const struct job *j, const char *svc)
{
	size_t n = svc ? strlen(svc) : 0;
	if (!svc || !j->source || strncmp(j->name, svc, n) != 0 ||
	    strncmp(j->name + n, ".task#", 6) != 0)
		return -1;
	return strtol(j->name + n + 6, NULL, 10);
}

static int has_tag(const struct job *j, json_t *tags)
{
	size_t k;
	json_t *v;
	for (char **t = j->tags; t && *t; t++)
		json_array_foreach(tags, k, v)
			if (json_is_string(v) && strcmp(json_string_value(v), *t) == 0)
				return 1;
	return 0;
}

/* Whether a manual run of task j may start now; fails the call if not. */
/* nodes = ...: whether j may run on this daemon; fails the call if not. */
static int node_ok(struct call *c, const struct job *j)
{
	const char *node = engine_config(c->e)->name;
	if (job_on_node(j, node))
		return 1;
	call_fail(c, -ECANCELED, "%s '%s' runs only on node%s %s%s (this is "
	          "'%s')", task_suffix(j->name) ? "task" : "job", j->name,
	          j->nodes[1] ? "s" : "", j->nodes[0], j->nodes[1] ? ", ..." : "",
	          node);
	return 0;
}

int ops_task_runs_here(struct call *c, const struct job *j)
{
	return engine_job_runs_here(c->e, j) &&
	       (j->enabled || !j->source || !task_suffix(j->name));
}

static int task_may_run(struct call *c, const struct job *j)
{
	char err[512];
	if (!node_ok(c, j))
		return 0;
	if (engine_lease_refuse(c->e, j, err, sizeof err) < 0) {
		call_fail(c, -ECANCELED, "%s", err);
		return 0;
	}
	if (!j->enabled) {
		call_fail(c, -ECANCELED, "task '%s' is disabled (disable = true "
		          "or jobctl disable): it is never run", j->name);
		return 0;
	}
	int max = j->overlap == OVERLAP_SKIP ? 1 : j->max_parallel;
	if (max && j->running + j->queued >= max) {
		call_fail(c, -EBUSY, "task '%s' already has %d run%s going "
		          "(max_parallel = %d)", j->name, j->running + j->queued,
		          j->running + j->queued == 1 ? "" : "s", max);
		return 0;
	}
	return 1;
}

static int keep_newest(void *ctx, struct run *r)
{
	struct run *out = ctx;
	*out = *r;
	memset(r, 0, sizeof *r);
	return 1;
}

static int by_task_no(const void *a, const void *b)
{
	const struct job *x = *(struct job *const *)a;
	const struct job *y = *(struct job *const *)b;
	long p = strtol(task_suffix(x->name) + 5, NULL, 10);
	long q = strtol(task_suffix(y->name) + 5, NULL, 10);
	return (p > q) - (p < q);
}

/* Fills s->todo with the tasks of svc that rid and tags select, in task
 * order; fails the call (and returns -1) when none or one is refused. */
static int select_tasks(struct call *c, struct svc_run *s, const char *svc,
                        const char *rid, json_t *tags)
{
	int all = !rid || strcmp(rid, "task") == 0, found = 0, skipped = 0;
	struct job *j;

	if (!all && (strncmp(rid, "task#", 5) != 0 || !rid[5] ||
	             strspn(rid + 5, "0123456789") != strlen(rid + 5))) {
		call_fail(c, -EINVAL, "rid: '%s' is not a task rid (task#N, or "
		          "task for all of them)", rid);
		return -1;
	}
	for (int i = 0; (j = engine_job_at(c->e, i)); i++) {
		if (task_of(j, svc) < 0 || (!all && strcmp(task_suffix(j->name),
		                                           rid) != 0))
			continue;
		found++;
		if (json_is_array(tags) && !has_tag(j, tags))
			continue;
		if (!may_job(c, j))
			return -1;
		/* a run of all tasks passes over the disabled ones and
		 * those of other nodes */
		if (!ops_task_runs_here(c, j) && (all || json_is_array(tags))) {
			skipped++;
			continue;
		}
		if (s->n == TASKS_MAX) {
			call_fail(c, -E2BIG, "service '%s' has more than %d tasks",
			          svc, TASKS_MAX);
			return -1;
		}
		if (!task_may_run(c, j))
			return -1;
		s->todo[s->n++] = j;
	}
	if (s->n == 0) {
		call_fail(c, found ? -ECANCELED : -ENOENT, "service '%s' has no "
		          "%stask%s%s%s", svc, skipped ? "enabled task here (a "
		          "disabled or another node's) and no other " : "",
		          rid && !all ? " " : "", rid && !all ? rid : "",
		          json_is_array(tags) ? " with these tags" : "");
		return -1;
	}
	qsort(s->todo, (size_t)s->n, sizeof s->todo[0], by_task_no);
	return 0;
}

static void svc_free(struct svc_run *s)
{
	run_unwatch(&s->w);
	for (int i = 0; i < s->n; i++)
		free(s->names[i]);
	json_decref(s->runs);
	free(s);
}

static void svc_cancel(struct call *c)
{
	struct svc_run *s = c->op_state;
	c->op_state = NULL;
	if (s)
		svc_free(s);
}

static void svc_finish(struct svc_run *s, int err, const char *msg)
{
	struct call *c = s->c;
	json_t *runs = json_incref(s->runs);
	c->cancel = NULL;
	c->op_state = NULL;
	svc_free(s);
	if (err)
		call_fail(c, err, "%s", msg);
	else
		call_reply(c, json_pack("{s:o}", "runs", runs));
	if (err)
		json_decref(runs);
}

static void svc_next(struct svc_run *s);

static void svc_on_started(struct run_watcher *w, const struct arun *a)
{
	struct svc_run *s = link_entry(w, struct svc_run, w);
	struct call *c = s->c;
	if (c->follow && c->event)
		c->event(c, "start", json_pack("{s:s, s:i}", "jid", a->r.jid,
		         "pid", a->r.pid));
}

static void svc_on_output(struct run_watcher *w, const struct arun *a,
                          int stream, const char *buf, size_t n)
{
	struct svc_run *s = link_entry(w, struct svc_run, w);
	struct call *c = s->c;
	(void)a;
	if (c->follow && c->event)
		c->event(c, stream == 1 ? "stdout" : "stderr", text_json(buf, n));
}

static void svc_on_ended(struct run_watcher *w, const struct arun *a,
                         int err, const char *msg)
{
	struct svc_run *s = link_entry(w, struct svc_run, w);
	if (err)
		return svc_finish(s, err, msg);
	json_array_append_new(s->runs, arun_to_json(a, 1));
	svc_next(s);
}

static const struct run_watcher_cbs svc_cbs = {
	.started = svc_on_started,
	.output = svc_on_output,
	.ended = svc_on_ended,
};

/* Starts the next task, or replies when all have run.  A task that went
 * away (a reload) or may not run now ends the series with its error. */
static void svc_next(struct svc_run *s)
{
	struct call *c = s->c;
	char err[512];
	struct arun *a;
	struct job *j;
	int rc;

	if (s->next == s->n)
		return svc_finish(s, 0, NULL);
	const char *name = s->names[s->next++];
	if (!(j = engine_job_find(c->e, name))) {
		snprintf(err, sizeof err, "task '%s' is gone (reloaded)", name);
		return svc_finish(s, -ENOENT, err);
	}
	struct run_req rq = {.job = j, .trigger = TRIG_MANUAL,
	                     .priority = j->priority, .uid = c->uid,
	                     .confirmed = s->yes};
	if ((rc = run_enqueue(c->e, &rq, &a, err, sizeof err)) < 0)
		return svc_finish(s, rc, err);
	s->w.cbs = &svc_cbs;
	run_watch(a, &s->w);
	queue_pump(c->e, a->target);
}

/* --no-wait: every selected task is queued at once; the reply gives the
 * jids. */
static void svc_start_all(struct call *c, struct svc_run *s)
{
	json_t *jids = json_array();
	char err[512];
	struct arun *a;
	int rc;

	for (int i = 0; i < s->n; i++) {
		struct run_req rq = {.job = s->todo[i], .trigger = TRIG_MANUAL,
		                     .priority = s->todo[i]->priority,
		                     .uid = c->uid, .confirmed = s->yes};
		if ((rc = run_enqueue(c->e, &rq, &a, err, sizeof err)) < 0) {
			json_decref(jids);
			return call_fail(c, rc, "%s", err);
		}
		json_array_append_new(jids, json_string(a->r.jid));
		queue_pump(c->e, a->target);
	}
	call_reply(c, json_pack("{s:o}", "jids", jids));
}

static void run_service(struct call *c, json_t *data, const char *svc)
{
	struct svc_run *s = calloc(1, sizeof *s);
	const char *rid = get_str(data, "rid");

	if (!s)
		return call_fail(c, -ENOMEM, "out of memory");
	s->c = c;
	s->yes = opt_bool(data, "yes", 0);
	s->runs = json_array();
	if (!s->runs || select_tasks(c, s, svc, rid,
	                             json_object_get(data, "tags")) < 0)
		goto done;
	for (int i = 0; i < s->n; i++)
		if (s->todo[i]->confirm && !s->yes) {
			call_fail(c, -ECANCELED, "run aborted: task '%s' needs "
			          "confirmation (answer yes, or pass --yes)",
			          s->todo[i]->name);
			goto done;
		}
	if (!opt_bool(data, "wait", 0)) {
		svc_start_all(c, s);
		goto done;
	}
	for (int i = 0; i < s->n; i++)
		if (!(s->names[i] = strdup(s->todo[i]->name))) {
			call_fail(c, -ENOMEM, "out of memory");
			goto done;
		}
	c->follow = opt_bool(data, "follow", 0);
	c->op_state = s;
	c->cancel = svc_cancel;
	return svc_next(s);
done:
	for (int i = 0; i < s->n; i++)
		free(s->names[i]);
	json_decref(s->runs);
	free(s);
}

/* ---- status: the last exit codes of the tasks with a check ---- */

/* Read thread: each task's newest finished run. */
static int status_work(struct store *s, struct storeq_op *op, int replay)
{
	struct rd *d = (struct rd *)op;
	size_t i;
	json_t *t;

	(void)replay;
	json_array_foreach(d->list, i, t) {
		struct run_query q = {.job = json_string_value(json_object_get(t,
		                      "name")), .status = RUN_DONE, .limit = 1,
		                      .newest_first = 1};
		struct run r = {0};
		int rc = store_run_list(s, &q, keep_newest, &r);
		if (rc < 0)
			return rc;
		if (r.jid[0] && r.return_code >= 0)
			json_object_set_new(t, "code", json_integer(r.return_code));
		if (r.jid[0])
			json_object_set_new(t, "jid", json_string(r.jid));
		run_clear(&r);
	}
	return 0;
}

static int worse(const char *a, const char *b)
{
	static const char *const order[] = { "n/a", "up", "warn", "down" };
	int x = 0, y = 0;
	for (int i = 0; i < 4; i++) {
		x = strcmp(order[i], a) == 0 ? i : x;
		y = strcmp(order[i], b) == 0 ? i : y;
	}
	return y > x;
}

static void status_fin(struct rd *d, int rc, const char *err)
{
	const char *all = "n/a";
	size_t i;
	json_t *t;

	if (rc < 0)
		return call_fail(d->c, rc, "%s", err ? err : strerror(-rc));
	json_array_foreach(d->list, i, t) {
		json_t *code = json_object_get(t, "code");
		const char *st = json_is_integer(code) ?
			job_retcode_status(get_str(t, "retcodes"),
			                   (int)json_integer_value(code)) : "n/a";
		json_object_set_new(t, "status", json_string(st));
		if (worse(all, st))
			all = st;
	}
	call_reply(d->c, json_pack("{s:s, s:O}", "status", all, "tasks",
	                           d->list));
}

/* status SERVICE (or status of one task): up/down/warn from the last
 * exit code of each task that has a check (retcodes). */
static void task_status(struct call *c, json_t *data, const char *svc,
                        const struct job *one)
{
	json_t *list = json_array();
	struct rd *d;
	struct job *j;

	for (int i = 0; list && (j = engine_job_at(c->e, i)); i++) {
		if (one ? j != one : task_of(j, svc) < 0)
			continue;
		if (!may_job(c, j)) {
			json_decref(list);
			return;
		}
		if (j->retcodes)
			json_array_append_new(list, json_pack("{s:s, s:s, s:s}",
			                      "name", j->name, "rid",
			                      task_suffix(j->name), "retcodes",
			                      j->retcodes));
	}
	if (!list)
		return call_fail(c, -ENOMEM, "out of memory");
	if (json_array_size(list) == 0) {
		json_decref(list);
		return call_fail(c, -ENOENT, "%s '%s' has no task with a check "
		                 "(check = last_run or retcodes)", one ? "task" :
		                 "service", one ? one->name : svc);
	}
	if (!(d = rd_new(c, data, status_work, status_fin))) {
		json_decref(list);
		return;
	}
	d->list = list;
	rd_submit(d);
}

/* Whether any job is a task of service svc. */
static int is_service(struct call *c, const char *svc)
{
	struct job *j;
	for (int i = 0; (j = engine_job_at(c->e, i)); i++)
		if (task_of(j, svc) >= 0)
			return 1;
	return 0;
}

int ops_tasks_run(struct call *c, json_t *data)
{
	const char *name = get_str(data, "name"), *action = get_str(data,
	                                                           "action");
	struct job *j;

	if (!name) {
		if (!json_object_get(data, "rid"))
			return 0;
		call_fail(c, -EINVAL, "rid: needs the service's name (run NAME "
		          "--rid task#N)");
		return 1;
	}
	j = engine_job_find(c->e, name);
	if (j && j->source && task_suffix(name)) {
		/* a task named as a job: `run web.task#1` */
		if (action && strcmp(action, "status") == 0 && j->retcodes &&
		    !job_action_find(j, action)) {
			task_status(c, data, NULL, j);
			return 1;
		}
		if (json_object_get(data, "rid") || action)
			return 0;     /* op_run's own errors */
		return !task_may_run(c, j);
	}
	if (j && !json_object_get(data, "rid"))
		return !node_ok(c, j);       /* a job */
	if (action && strcmp(action, "status") == 0 && is_service(c, name)) {
		task_status(c, data, name, NULL);
		return 1;
	}
	if (action) {
		call_fail(c, -EINVAL, "action: a service's tasks have no actions "
		          "(run NAME --rid task#N)");
		return 1;
	}
	if (!is_service(c, name)) {
		call_fail(c, -ENOENT, "%s '%s' not found", j ? "service" : "job "
		          "or service", name);
		return 1;
	}
	run_service(c, data, name);
	return 1;
}

int ops_tasks_action(struct call *c, json_t *data, const char *name,
                     const char *action)
{
	struct job *j = engine_job_find(c->e, name);
	int status = strcmp(action, "status") == 0;

	if (j && j->source && task_suffix(name)) {
		if (status && j->retcodes && !job_action_find(j, action)) {
			task_status(c, data, NULL, j);
			return 1;
		}
		return !node_ok(c, j);
	}
	if (j)
		return !node_ok(c, j);
	if (!is_service(c, name))
		return 0;
	if (status)
		task_status(c, data, name, NULL);
	else
		call_fail(c, -EINVAL, "'%s' is a service: its tasks have no "
		          "lifecycle actions (jobctl run %s [--rid task#N]; "
		          "jobctl status %s)", name, name, name);
	return 1;
}
