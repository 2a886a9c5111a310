/* fleet.c — lifecycle actions across workers, on the master
 * (docs/cluster.md "Lifecycle actions"; the original's fleet control,
 * reference/fleet-control.md).  `jobctl start|stop|restart|reload|status
 * NAME...` and `jobctl run NAME --action A` on a master become, in turn:
 *
 *   1. refresh: the master reads the store's definitions again, so it
 *      acts on what the store says now, and learns its update_seq;
 *   2. sync check: every affected worker (and only those) says which
 *      update_seq it applied; one behind, lost or silent refuses the whole
 *      command before anything runs ("worker w1: definitions out of date
 *      (update_seq 7 < 9)");
 *   3. waves: jobs ordered by `after` (start in dependency order, stop in
 *      reverse), the jobs of one wave at once;
 *   4. batches: within a job, its workers max_parallel_workers at a time
 *      (core/fleet.h), each asked for job-action, with --health-check
 *      (the worker then runs the job's checks after the action; status
 *      always shows them); a failure ends the job's batches and the waves
 *      after it.
 *
 * Each worker's result goes to the caller as an event as it comes; the
 * reply is {ok, results}.  A worker is named a job and an action, never
 * a command: it runs what its own store defines (docs/security.md).  A
 * silent worker is found by the master's liveness check (3 ping
 * intervals), which fails its requests: that is the timeout.  The caller
 * going away does not stop a rolling action half-way; it is logged. */
#include "faces/fleet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fleet.h"
#include "engine/jobs.h"
#include "engine/log.h"
#include "faces/master_int.h"
#include "faces/ops.h"
#include "faces/ops_int.h"
#include "jobd.h"

#define FLEET_MAX_JOBS 64

struct fjob {
	char *name;
	char **after;            /* a copy: the job may change meanwhile */
	int max_workers, wave;
	char **workers;          /* allocated, by name (a lost one too) */
	size_t n_workers, next;  /* the next to ask */
	int out;                 /* asks of the batch not ended, + holds */
	int failed, done;
};

struct fleet {
	struct engine *e;
	struct call *c;          /* NULL once the caller went away */
	json_t *names, *allocations;
	char action[80];
	int health, yes;
	struct fjob jobs[FLEET_MAX_JOBS];
	size_t n_jobs;
	int waves, wave, starting;
	int syncing;             /* sync asks out, + a hold */
	char *sync_errors;
	json_t *results;
	int ok;
};

/* One worker's part of one job. */
struct fask {
	struct fleet *f;
	struct fjob *j;
	char *worker;
	json_t *result;
};

static void wave_start(struct fleet *f);

/* ---- the end ---- */

static void fleet_free(struct fleet *f)
{
	for (size_t i = 0; i < f->n_jobs; i++) {
		struct fjob *j = &f->jobs[i];
		free(j->name);
		for (char **a = j->after; a && *a; a++)
			free(*a);
		free(j->after);
		for (size_t k = 0; k < j->n_workers; k++)
			free(j->workers[k]);
		free(j->workers);
	}
	json_decref(f->names);
	json_decref(f->allocations);
	json_decref(f->results);
	free(f->sync_errors);
	free(f);
}

static void fleet_cancel(struct call *c)
{
	struct fleet *f = c->op_state;
	log_info("fleet %s: the caller went away; the action goes on",
	         f->action);
	f->c = NULL;
}

static void fleet_fail(struct fleet *f, int err, const char *msg)
{
	if (f->c) {
		f->c->cancel = NULL;
		call_fail(f->c, err, "%s", msg);
	}
	fleet_free(f);
}

static void fleet_finish(struct fleet *f)
{
	if (f->c) {
		f->c->cancel = NULL;
		call_reply(f->c, json_pack("{s:b, s:O}", "ok", f->ok, "results",
		                           f->results));
	}
	fleet_free(f);
}

/* ---- results ---- */

static json_t *result_new(const struct fleet *f, const char *worker,
                          const char *job, int ok, const char *message)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:i, s:s}", "worker", worker,
	                 "job", job, "action", f->action, "ok", ok, "code",
	                 ok ? 0 : 1, "message", message);
}

static void result_add(struct fleet *f, json_t *r)
{
	if (!json_is_true(json_object_get(r, "ok")))
		f->ok = 0;
	json_array_append(f->results, r);
	if (f->c && f->c->event)
		f->c->event(f->c, "result", json_incref(r));
	if (!f->c)
		log_info("fleet %s: %s %s: %s", f->action,
		         json_string_value(json_object_get(r, "worker")),
		         json_string_value(json_object_get(r, "job")),
		         json_string_value(json_object_get(r, "message")));
	json_decref(r);
}

/* The workers of j not asked yet: not run, because of why. */
static void skip_rest(struct fleet *f, struct fjob *j, const char *why)
{
	for (; j->next < j->n_workers; j->next++) {
		json_t *r = result_new(f, j->workers[j->next], j->name, 0, why);
		json_object_set_new(r, "skipped", json_true());
		result_add(f, r);
	}
	j->done = 1;
}

/* ---- waves and batches ---- */

static void wave_check(struct fleet *f)
{
	char why[200];
	const char *failed = NULL;

	if (f->starting)
		return;
	for (size_t i = 0; i < f->n_jobs; i++) {
		struct fjob *j = &f->jobs[i];
		if (j->wave != f->wave)
			continue;
		if (!j->done)
			return;
		if (j->failed && !failed)
			failed = j->name;
	}
	if (failed) {            /* the later waves come after it */
		snprintf(why, sizeof why, "not run: job %s failed before it",
		         failed);
		for (size_t i = 0; i < f->n_jobs; i++)
			if (f->jobs[i].wave > f->wave)
				skip_rest(f, &f->jobs[i], why);
		return fleet_finish(f);
	}
	if (++f->wave >= f->waves)
		return fleet_finish(f);
	wave_start(f);
}

static void batch_start(struct fleet *f, struct fjob *j);

static void batch_end(struct fleet *f, struct fjob *j)
{
	if (--j->out > 0)
		return;
	if (j->failed)
		skip_rest(f, j, "not run: the action failed on a worker before");
	else if (j->next < j->n_workers)
		return batch_start(f, j);
	else
		j->done = 1;
	wave_check(f);
}

static void ask_end(struct fask *a)
{
	struct fjob *j = a->j;
	struct fleet *f = a->f;
	if (!json_is_true(json_object_get(a->result, "ok")))
		j->failed = 1;
	result_add(f, a->result);
	free(a->worker);
	free(a);
	batch_end(f, j);
}

static void on_action(void *arg, json_t *data, const char *error)
{
	struct fask *a = arg;
	struct fleet *f = a->f;
	json_t *r = json_array_get(json_object_get(data, "results"), 0);

	if (error || !json_is_object(r))
		a->result = result_new(f, a->worker, a->j->name, 0,
		                       error ? error : "no result in the answer");
	else
		a->result = json_deep_copy(r);
	json_object_set_new(a->result, "worker", json_string(a->worker));
	ask_end(a);
}

static void ask_action(struct fleet *f, struct fjob *j, const char *name)
{
	struct fask *a = calloc(1, sizeof *a);
	struct mworker *w = master_worker_find(name);
	if (!a || !(a->worker = strdup(name))) {
		free(a);
		j->failed = 1;
		return;
	}
	a->f = f;
	a->j = j;
	j->out++;
	if (f->c && f->c->event)
		f->c->event(f->c, "begin", json_pack("{s:s, s:s, s:s}", "worker",
		            name, "job", j->name, "action", f->action));
	if (!w)
		return on_action(a, NULL, "the master is stopping");
	/* the worker runs the checks after the action (ops_health.c) */
	json_t *d = json_pack("{s:s, s:s, s:b, s:b}", "name", j->name, "action",
	                      f->action, "yes", f->yes, "health_check", f->health);
	master_ask(w, "job-action", d, on_action, a, NULL);
	json_decref(d);
}

static void batch_start(struct fleet *f, struct fjob *j)
{
	size_t n = fleet_batch(f->action, j->max_workers, j->n_workers);
	j->out++;                /* held while the batch goes out */
	for (size_t k = 0; k < n && j->next < j->n_workers; k++)
		ask_action(f, j, j->workers[j->next++]);
	batch_end(f, j);
}

static void wave_start(struct fleet *f)
{
	f->starting = 1;
	for (size_t i = 0; i < f->n_jobs; i++)
		if (f->jobs[i].wave == f->wave)
			batch_start(f, &f->jobs[i]);
	f->starting = 0;
	wave_check(f);
}

/* ---- the sync check ---- */

struct fsync {
	struct fleet *f;
	char *worker;
};

static void sync_error(struct fleet *f, const char *worker, const char *msg)
{
	size_t len = f->sync_errors ? strlen(f->sync_errors) : 0;
	size_t add = strlen(worker) + strlen(msg) + 12;
	char *s = realloc(f->sync_errors, len + add);
	if (!s)
		return;
	snprintf(s + len, add, "%sworker %s: %s", len ? "; " : "", worker, msg);
	f->sync_errors = s;
}

static void sync_end(struct fleet *f)
{
	if (--f->syncing > 0)
		return;
	if (f->sync_errors) {
		log_warn("fleet %s refused: %s", f->action, f->sync_errors);
		return fleet_fail(f, -EIO, f->sync_errors);
	}
	wave_start(f);
}

static void on_sync(void *arg, json_t *data, const char *error)
{
	struct fsync *s = arg;
	json_t *v = json_object_get(data, "update_seq");
	int64_t want = engine_update_seq(s->f->e);
	char msg[200];

	if (error) {
		snprintf(msg, sizeof msg, "unreachable (%s)", error);
		sync_error(s->f, s->worker, msg);
	} else if (!json_is_integer(v)) {
		sync_error(s->f, s->worker, "no update_seq in its answer");
	} else if (json_integer_value(v) != want) {
		snprintf(msg, sizeof msg, "definitions %s (update_seq %lld %s "
		         "%lld)", json_integer_value(v) < want ? "out of date" :
		         "newer than the master's reading",
		         (long long)json_integer_value(v),
		         json_integer_value(v) < want ? "<" : ">", (long long)want);
		sync_error(s->f, s->worker, msg);
	}
	struct fleet *f = s->f;
	free(s->worker);
	free(s);
	sync_end(f);
}

static int seen(struct fleet *f, size_t upto_job, size_t upto_w,
                const char *name)
{
	for (size_t i = 0; i <= upto_job && i < f->n_jobs; i++)
		for (size_t k = 0; k < f->jobs[i].n_workers; k++) {
			if (i == upto_job && k == upto_w)
				return 0;
			if (strcmp(f->jobs[i].workers[k], name) == 0)
				return 1;
		}
	return 0;
}

/* Every affected worker once. */
static void sync_start(struct fleet *f)
{
	f->syncing = 1;
	for (size_t i = 0; i < f->n_jobs; i++)
		for (size_t k = 0; k < f->jobs[i].n_workers; k++) {
			const char *name = f->jobs[i].workers[k];
			struct mworker *w = master_worker_find(name);
			struct fsync *s = NULL;
			if (seen(f, i, k, name))
				continue;
			if (!w || !(s = calloc(1, sizeof *s)) ||
			    !(s->worker = strdup(name))) {
				free(w ? s : NULL);
				sync_error(f, name, "unreachable");
				continue;
			}
			s->f = f;
			f->syncing++;
			master_ask(w, "sync", NULL, on_sync, s, NULL);
		}
	sync_end(f);
}

/* ---- what the command names ---- */

static char **strv_dup(char **v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	char **out = calloc(n + 1, sizeof *out);
	for (size_t i = 0; out && i < n; i++)
		out[i] = strdup(v[i]);
	return out;
}

static int in_names(json_t *names, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(names, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return 1;
	return !names;
}

/* j's workers: those whose labels hold its selectors, within
 * --allocations. */
static int allocate(struct fleet *f, struct fjob *j, const struct job *def,
                    char *err, size_t errlen)
{
	const char *labels[65];
	for (struct mworker *w = NULL; (w = master_worker_next(w));) {
		json_t *ls = master_worker_labels(w), *v;
		size_t i, n = 0;
		json_array_foreach(ls, i, v)
			if (n < 64)
				labels[n++] = json_string_value(v);
		labels[n] = NULL;
		if (!fleet_allocated((const char *const *)def->selectors, j->name,
		                     labels) ||
		    !in_names(f->allocations, master_worker_name(w)))
			continue;
		char **nw = realloc(j->workers, (j->n_workers + 1) * sizeof *nw);
		if (!nw)
			return -ENOMEM;
		j->workers = nw;
		if (!(nw[j->n_workers] = strdup(master_worker_name(w))))
			return -ENOMEM;
		j->n_workers++;
	}
	if (j->n_workers == 0) {
		snprintf(err, errlen, "job %s: no registered worker%s has %s%s",
		         j->name, f->allocations ? " of --allocations" : "",
		         def->selectors && def->selectors[0] ? "the labels of its "
		         "selectors" : "its name as a label (it has no selectors)",
		         "");
		return -EHOSTDOWN;
	}
	return 0;
}

static int take_job(struct fleet *f, const char *name, char *err,
                    size_t errlen)
{
	struct job *def = engine_job_find(f->e, name);
	struct fjob *j = &f->jobs[f->n_jobs];
	if (!def) {
		snprintf(err, errlen, "job '%s' not found", name);
		return -ENOENT;
	}
	if (f->c && !f->c->admin && def->owner_uid != f->c->uid) {
		snprintf(err, errlen, "permission denied: job '%s' belongs to "
		         "uid %u", name, def->owner_uid);
		return -EPERM;
	}
	f->n_jobs++;
	if (!(j->name = strdup(name)) || !(j->after = strv_dup(def->after)))
		return -ENOMEM;
	j->max_workers = def->max_parallel_workers;
	return allocate(f, j, def, err, errlen);
}

/* --allocations names known workers. */
static int check_allocations(struct fleet *f, char *err, size_t errlen)
{
	size_t i;
	json_t *v;
	json_array_foreach(f->allocations, i, v)
		if (!master_worker_find(json_string_value(v))) {
			snprintf(err, errlen, "worker '%s' not found (jobctl workers "
			         "lists them)", json_string_value(v));
			return -ENOENT;
		}
	return 0;
}

static int plan(struct fleet *f, char *err, size_t errlen)
{
	struct fleet_node nodes[FLEET_MAX_JOBS];
	size_t i;
	json_t *v;
	int rc = check_allocations(f, err, errlen);

	json_array_foreach(rc < 0 ? NULL : f->names, i, v)
		if ((rc = take_job(f, json_string_value(v), err, errlen)) < 0)
			break;
	if (rc < 0)
		return rc;
	for (i = 0; i < f->n_jobs; i++)
		nodes[i] = (struct fleet_node){f->jobs[i].name,
		                               (const char *const *)f->jobs[i].after, 0};
	if ((f->waves = fleet_waves(nodes, f->n_jobs, err, errlen)) < 0)
		return -EINVAL;
	/* stop goes the other way: what others come after stops last */
	for (i = 0; i < f->n_jobs; i++)
		f->jobs[i].wave = strcmp(f->action, "stop") == 0 ?
		                  f->waves - 1 - nodes[i].wave : nodes[i].wave;
	return 0;
}

static void on_refreshed(void *arg, int rc, const char *why)
{
	struct fleet *f = arg;
	char err[512];

	if (rc < 0) {
		snprintf(err, sizeof err, "cannot read the store's definitions: "
		         "%s", why);
		return fleet_fail(f, -EIO, err);
	}
	if ((rc = plan(f, err, sizeof err)) < 0)
		return fleet_fail(f, rc, err);
	sync_start(f);
}

/* ---- the request ---- */

void fleet_names_split(json_t *out, const char *text)
{
	char *s = strdup(text), *save = NULL;

	for (char *t = s ? strtok_r(s, ", ", &save) : NULL; t;
	     t = strtok_r(NULL, ", ", &save))
		json_array_append_new(out, json_string(t));
	free(s);
}

/* A list of names: an array of strings, or "a,b" text. */
static json_t *names_of(json_t *v, const char *what, char *err, size_t n)
{
	json_t *out = json_array(), *x;
	size_t i;
	if (json_is_string(v)) {
		fleet_names_split(out, json_string_value(v));
	} else {
		json_array_foreach(v, i, x)
			json_array_append(out, x);
	}
	json_array_foreach(out, i, x)
		if (!json_is_string(x) || !name_valid(json_string_value(x))) {
			snprintf(err, n, "%s: invalid name '%s'", what,
			         json_is_string(x) ? json_string_value(x) : "?");
			json_decref(out);
			return NULL;
		}
	if (json_array_size(out) == 0 ||
	    json_array_size(out) > FLEET_MAX_JOBS) {
		snprintf(err, n, "%s: give 1 to %d names", what, FLEET_MAX_JOBS);
		json_decref(out);
		return NULL;
	}
	return out;
}

static int fleet_parse(struct fleet *f, json_t *data, char *err, size_t n)
{
	static const char *const keys[] = {"name", "names", "action",
		"allocations", "health_check", "yes", "wait", "follow", NULL};
	const char *k;
	json_t *v;
	json_object_foreach(data, k, v) {
		const char *const *p = keys;
		while (*p && strcmp(*p, k) != 0)
			p++;
		if (!*p) {
			snprintf(err, n, "unknown field '%s'", k);
			return -EINVAL;
		}
	}
	v = json_object_get(data, "names");
	if (!(f->names = names_of(v ? v : json_object_get(data, "name"), "name",
	                          err, n)))
		return -EINVAL;
	v = json_object_get(data, "allocations");
	if (v && !(f->allocations = names_of(v, "allocations", err, n)))
		return -EINVAL;
	if (fleet_action_name(json_string_value(json_object_get(data, "action")),
	                      f->action, sizeof f->action) < 0) {
		snprintf(err, n, "action: give start, stop, restart, reload, "
		         "status or an action name ([A-Za-z0-9][A-Za-z0-9_.-]*)");
		return -EINVAL;
	}
	f->health = json_is_true(json_object_get(data, "health_check"));
	f->yes = json_is_true(json_object_get(data, "yes"));
	return 0;
}

void fleet_act(struct engine *e, struct call *c, json_t *data)
{
	struct fleet *f = calloc(1, sizeof *f);
	char err[512];
	int rc;

	if (!f || !(f->results = json_array())) {
		free(f);
		return call_fail(c, -ENOMEM, "out of memory");
	}
	f->e = e;
	f->ok = 1;
	if ((rc = fleet_parse(f, data, err, sizeof err)) < 0) {
		fleet_free(f);
		return call_fail(c, rc, "%s", err);
	}
	f->c = c;
	c->op_state = f;
	c->cancel = fleet_cancel;
	engine_jobs_refresh(e, on_refreshed, f);
}
