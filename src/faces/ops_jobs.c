/* ops_jobs.c — the ops on job definitions (create, delete, list, show,
 * enable, disable, reload) and on the daemon (status, next, workers). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/schedule.h"
#include "core/timefmt.h"
#include "engine/log.h"
#include "faces/json.h"
#include "faces/ops_edit.h"
#include "faces/ops_int.h"
#include "faces/ops_queue.h"

/* ---- definitions ---- */

void op_create(struct call *c, json_t *data)
{
	struct engine *e = c->e;
	json_t *def = json_object_get(data, "job");
	const char *user = NULL;
	char err[512];

	if (!json_is_object(def))
		return call_fail(c, -EINVAL, "missing field 'job' (an object)");
	if (!may_execute(c, &user) ||
	    !may_run_as(c, get_str(def, "user"), get_str(def, "group")))
		return;
	def = json_deep_copy(def);
	if (ops_create_name(c, data, def) < 0)
		return json_decref(def);
	json_object_del(def, "source");
	json_object_set_new(def, "owner_uid", json_integer(c->uid));
	if (user)
		json_object_set_new(def, "user", json_string(user));
	struct job *j = calloc(1, sizeof *j);
	int rc = job_from_json(def, engine_config(e)->timezone, j, err, sizeof err);
	json_decref(def);
	if (rc == 0 && (rc = job_check_built(j, err, sizeof err)) < 0)
		job_free(j);
	if (rc < 0) {
		free(j);
		return call_fail(c, -EINVAL, "%s", err);
	}
	struct job *old = engine_job_find(e, j->name);
	if (old && (!opt_bool(data, "replace", 0) || old->source ||
	            !may_job(c, old))) {
		if (old->source)
			call_fail(c, -EEXIST, "job '%s' is defined in %s; edit "
			          "that file and reload", j->name, old->source);
		else if (c->admin || old->owner_uid == c->uid)
			call_fail(c, -EEXIST, "job '%s' already exists", j->name);
		job_free(j);
		free(j);
		return;
	}
	if (engine_job_put(e, j) < 0) {
		call_fail(c, -ENOMEM, "cannot store job '%s': out of memory",
		          j->name);
		job_free(j);
		free(j);
		return;
	}
	log_info("job %s %s by uid %u", j->name, old ? "replaced" : "created",
	         c->uid);
	call_reply(c, json_pack("{s:o}", "job", job_to_json(j)));
}

void op_delete(struct call *c, json_t *data)
{
	const char *name;
	struct job *j;
	if (need_str(c, data, "name", &name) < 0 || !(j = find_job(c, name)) ||
	    !may_job(c, j))
		return;
	if (j->source)
		return call_fail(c, -EINVAL, "job '%s' is defined in %s; remove "
		                 "it there and reload", name, j->source);
	engine_job_delete(c->e, name);
	log_info("job %s deleted by uid %u", name, c->uid);
	call_reply(c, NULL);
}

static json_t *job_summary(struct job *j, json_t *last)
{
	json_t *o = json_pack("{s:s, s:b, s:s?, s:o, s:i, s:s?}",
	                      "name", j->name, "enabled", j->enabled,
	                      "schedule", j->schedule,
	                      "next_run", time_json(j->next_fire),
	                      "running", j->running, "source", j->source);
	json_t *run = json_object_get(last, j->name);
	/* the scheduler never fires it: only a confirmed manual run */
	json_object_set_new(o, "confirm", json_boolean(j->confirm));
	if (json_is_object(run)) {
		json_object_set(o, "last_run", json_object_get(run,
		                                                "time_created"));
		json_object_set(o, "last_status", json_object_get(run, "status"));
		json_object_set(o, "last_result", json_object_get(run, "result"));
	} else {
		json_object_set_new(o, "last_run", json_null());
		json_object_set_new(o, "last_result", json_null());
	}
	return o;
}

/* list: the newest run of each job the caller may see, all read in one
 * query on the read thread; d->list: job name -> that run (as JSON), given
 * as the names to read. */
static int list_keep(void *ctx, struct run *r)
{
	json_t *list = ctx;
	if (r->job && json_object_get(list, r->job))
		json_object_set_new(list, r->job, run_to_json(r, 0));
	return 0;
}

static int rd_list_work(struct store *s, struct storeq_op *op, int replay)
{
	(void)replay;
	return store_run_last_each(s, list_keep, ((struct rd *)op)->list);
}

static void list_fin(struct rd *d, int rc, const char *err)
{
	struct call *c = d->c;
	json_t *jobs = json_array();
	if (rc < 0) {
		json_decref(jobs);
		return call_fail(c, -EIO, "cannot read the last runs: %s", err);
	}
	struct job *j;
	for (int i = 0; (j = engine_job_at(c->e, i)); i++) {
		if (c->admin || j->owner_uid == c->uid)
			json_array_append_new(jobs, job_summary(j, d->list));
	}
	call_reply(c, json_pack("{s:o}", "jobs", jobs));
}

void op_list(struct call *c, json_t *data)
{
	struct rd *d = rd_new(c, data, rd_list_work, list_fin);
	if (!d)
		return;
	d->list = json_object();
	struct job *j;
	for (int i = 0; (j = engine_job_at(c->e, i)); i++) {
		if (c->admin || j->owner_uid == c->uid)
			json_object_set_new(d->list, j->name, json_null());
	}
	rd_submit(d);
}

json_t *next_times(struct job *j, int64_t from, int n)
{
	json_t *times = json_array();
	int64_t t = from;
	for (int i = 0; j->sched && i < n; i++) {
		t = sched_next(j->sched, t, i ? t : j->last_run, scheduler_seed(j));
		if (t < 0)
			break;
		json_array_append_new(times, time_json(t));
	}
	return times;
}

static void show_fin(struct rd *d, int rc, const char *err)
{
	struct call *c = d->c;
	const char *name = d->name;
	struct job *j;
	if (rc < 0 && rc != -ENOENT)
		return call_fail(c, -EIO, "cannot read job '%s''s last run: %s",
		                 name, err);
	if (!(j = find_job(c, name)))     /* removed meanwhile */
		return;
	json_t *running = json_array();
	for (struct arun *a = NULL; (a = engine_run_next(c->e, a));) {
		if (a->r.job && strcmp(a->r.job, name) == 0 &&
		    a->r.status == RUN_RUNNING)
			json_array_append_new(running, json_string(a->r.jid));
	}
	json_t *o = json_pack("{s:o, s:o, s:o, s:o}", "job", job_to_json(j),
	                      "next_runs", next_times(j, now_us(), 5),
	                      "next_run", time_json(j->next_fire),
	                      "running", running);
	json_object_set_new(o, "skipped_fires", json_integer(j->skipped));
	json_object_set_new(o, "skipped_requires",
	                    json_integer(j->skipped_requires));
	json_object_set_new(o, "last_run", rc == 0 ? run_to_json(&d->run, 0)
	                                           : json_null());
	struct engine_lease l;
	if (engine_lease(c->e, j, &l) == 0)     /* placement = one */
		json_object_set_new(o, "lease", json_pack("{s:s?, s:o, s:b}",
		                    "holder", l.holder[0] ? l.holder : NULL,
		                    "expires", l.expires > 0 ? time_json(l.expires)
		                                             : json_null(),
		                    "here", l.here));
	call_reply(c, o);
}

void op_show(struct call *c, json_t *data)
{
	const char *name;
	struct job *j;
	struct rd *d;
	if (need_str(c, data, "name", &name) < 0 || !(j = find_job(c, name)) ||
	    !may_job(c, j) || !(d = rd_new(c, data, rd_last_work, show_fin)))
		return;
	d->name = name;          /* in d->data */
	rd_submit(d);
}

static void set_enabled(struct call *c, json_t *data, int on)
{
	const char *name;
	struct job *j;
	if (need_str(c, data, "name", &name) < 0 || !(j = find_job(c, name)) ||
	    !may_job(c, j))
		return;
	if (engine_job_set_enabled(c->e, j, on) < 0)
		return call_fail(c, -ENOMEM, "cannot save job '%s': out of "
		                 "memory", name);
	call_reply(c, NULL);
}

void op_enable(struct call *c, json_t *data) { set_enabled(c, data, 1); }
void op_disable(struct call *c, json_t *data) { set_enabled(c, data, 0); }

int ops_reload(struct engine *e, int *n_jobs, int *n_files, char *err,
               size_t errlen)
{
	struct config cfg;
	int rc = config_load(engine_config(e)->path, &cfg, err, errlen);
	if (rc < 0)
		return rc;
	rc = engine_reload(e, &cfg, n_jobs, n_files, err, errlen);
	if (rc < 0) {
		config_free(&cfg);
		return rc;
	}
	log_min_level = engine_config(e)->log_level;
	return 0;
}

/* A reload waiting for the store's definitions (engine_jobs_refresh). */
struct reloading {
	struct call *c;          /* NULL once the caller went away */
	int n_files;
};

static void reload_cancel(struct call *c)
{
	((struct reloading *)c->op_state)->c = NULL;
}

/* The call a refresh was for (NULL: gone); frees r. */
static struct call *reloading_end(struct reloading *r, int *n_files)
{
	struct call *c = r->c;
	if (n_files)
		*n_files = r->n_files;
	free(r);
	if (c)
		c->cancel = NULL;
	return c;
}

static void reload_refreshed(void *arg, int rc, const char *why)
{
	struct engine_stats st;
	int n_files;
	struct call *c = reloading_end(arg, &n_files);

	if (!c)
		return;
	if (rc < 0)
		return call_fail(c, -EIO, "reloaded the job files, but not the "
		                 "store's definitions: %s", why);
	engine_stats(c->e, &st);
	log_info("reloaded: %d jobs from %d files and the store (update_seq "
	         "%lld)", st.n_jobs, n_files,
	         (long long)engine_update_seq(c->e));
	if (st.n_job_errors > 0)      /* the good files are applied */
		return call_fail(c, -EINVAL, "reloaded, but %d job file%s skipped: "
		                 "%s%s", st.n_job_errors,
		                 st.n_job_errors > 1 ? "s" : "",
		                 st.job_errors[0], st.n_job_errors > 1 ?
		                 " (jobctl status lists them all)" : "");
	call_reply(c, json_pack("{s:i, s:i, s:I}", "jobs", st.n_jobs, "files",
	                        n_files, "update_seq",
	                        (json_int_t)engine_update_seq(c->e)));
}

/* sync {refresh?}: the update_seq of the definitions this daemon applied
 * (docs/cluster.md, the sync check); with refresh, after reading the
 * store's definitions again (a master's "deploy", or jobctl reload). */
static void sync_refreshed(void *arg, int rc, const char *why)
{
	struct call *c = reloading_end(arg, NULL);
	if (!c)
		return;
	if (rc < 0)
		return call_fail(c, -EIO, "cannot read the store's definitions: "
		                 "%s", why);
	call_reply(c, json_pack("{s:s?, s:I}", "name", engine_config(c->e)->name,
	                        "update_seq",
	                        (json_int_t)engine_update_seq(c->e)));
}

void op_sync(struct call *c, json_t *data)
{
	struct reloading *r;
	json_t *refresh = json_object_get(data, "refresh");
	if (refresh && !json_is_boolean(refresh))
		return call_fail(c, -EINVAL, "refresh: must be true or false");
	if (json_is_true(refresh) && !c->admin)
		return call_fail(c, -EPERM, "permission denied: only root or "
		                 "the daemon's user may refresh the definitions");
	if (!(r = calloc(1, sizeof *r)))
		return call_fail(c, -ENOMEM, "out of memory");
	r->c = c;
	if (!json_is_true(refresh))
		return sync_refreshed(r, 0, "");
	c->op_state = r;
	c->cancel = reload_cancel;
	engine_jobs_refresh(c->e, sync_refreshed, r);
}

/* The config and job files, then the definitions of the store (another
 * daemon sharing it may have changed them: docs/cluster.md). */
void op_reload(struct call *c, json_t *data)
{
	char err[1024];
	int n_jobs = 0, n_files = 0;
	struct reloading *r;
	(void)data;
	if (!c->admin)
		return call_fail(c, -EPERM, "permission denied: only root or "
		                 "the daemon's user may reload");
	if (ops_reload(c->e, &n_jobs, &n_files, err, sizeof err) < 0) {
		log_error("reload failed, keeping the running configuration: %s",
		          err);
		return call_fail(c, -EINVAL, "reload failed: %s", err);
	}
	if (!(r = calloc(1, sizeof *r)))
		return call_fail(c, -ENOMEM, "out of memory");
	r->c = c;
	r->n_files = n_files;
	c->op_state = r;
	c->cancel = reload_cancel;
	engine_jobs_refresh(c->e, reload_refreshed, r);
}

/* ---- daemon ---- */

static long rss_bytes(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * sysconf(_SC_PAGESIZE);
}

void op_status(struct call *c, json_t *data)
{
	struct engine *e = c->e;
	const struct config *cfg = engine_config(e);
	struct engine_stats st;
	double p50, p99;
	(void)data;
	engine_stats(e, &st);
	scheduler_lateness(e, &p50, &p99);
	json_int_t rss = (json_int_t)rss_bytes();
	json_t *o = json_pack(
		"{s:s, s:i, s:I, s:o, s:s, s:s, s:s?, s:o, s:{s:i, s:i, s:i},"
		" s:{s:I}, s:{s:f, s:f}}",
		"version", JOBD_VERSION, "pid", (int)getpid(),
		"uptime_s", (json_int_t)((now_us() - st.started) / US_PER_S),
		"started", time_json(st.started),
		"store", st.store, "state_dir", cfg->state_dir,
		"name", cfg->name,
		"targets", targets_json(e, 0),
		"counts", "jobs", st.n_jobs, "running", st.n_running,
		"waiting", st.n_waiting,
		"memory", "rss", rss,
		"schedule", "lateness_p50_ms", p50, "lateness_p99_ms", p99);
	json_t *bad = json_array();
	for (int i = 0; i < st.n_job_errors; i++)
		json_array_append_new(bad, json_string(st.job_errors[i]));
	json_object_set_new(o, "job_file_errors", bad);
	queue_status_fields(e, o, rss);
	json_object_set_new(o, "update_seq",
	                    json_integer((json_int_t)engine_update_seq(e)));
	call_reply(c, o);
}

/* The engine's metrics as Prometheus text (docs/metrics.md): a face
 * serves data.text as it is (HTTP's /metrics, jobctl metrics).  Admins
 * only: the page names every job that ran, and `list` shows a user only
 * their own. */
void op_metrics(struct call *c, json_t *data)
{
	size_t len;
	(void)data;
	if (!c->admin)
		return call_fail(c, -EPERM, "permission denied: metrics name "
		                 "every user's jobs; only root or jobd's user may "
		                 "read them");
	char *text = engine_metrics(c->e, &len);
	json_t *s = text ? json_stringn(text, len) : NULL;
	free(text);
	if (!s)
		return call_fail(c, -ENOMEM, "out of memory rendering metrics");
	call_reply(c, json_pack("{s:s, s:o}", "format",
	                        "text/plain; version=0.0.4", "text", s));
}

/* The fire times of a schedule expression (in tz, default UTC), as
 * jobctl next EXPR computes them: @every counts from `from`. */
static void next_expr(struct call *c, json_t *data, int64_t from, int n)
{
	const char *expr, *tz = get_str(data, "tz");
	struct sched *s;
	char err[256];
	int64_t t = from, last = 0;

	if (need_str(c, data, "expr", &expr) < 0)
		return;
	if (json_object_get(data, "tz") && !tz)
		return call_fail(c, -EINVAL, "field 'tz' must be a string");
	int rc = sched_parse(expr, tz, &s, err, sizeof err);
	if (rc < 0)
		return call_fail(c, rc == -ENOENT ? -EINVAL : rc, "%s", err);
	if (sched_kind(s) == SCHED_EVERY)
		last = from;
	json_t *times = json_array();
	for (int i = 0; i < n && (t = sched_next(s, t, last, 0)) >= 0; i++) {
		last = t;
		json_array_append_new(times, time_json(t));
	}
	sched_free(s);
	call_reply(c, json_pack("{s:o, s:s}", "times", times, "timezone",
	           tz ? tz : "UTC"));
}

void op_next(struct call *c, json_t *data)
{
	const char *name;
	struct job *j;
	int64_t from = now_us();
	json_t *nv = json_object_get(data, "n");
	int n = nv ? (int)json_integer_value(nv) : 5;

	if (nv && !json_is_integer(nv))
		return call_fail(c, -EINVAL, "n: must be an integer 1..10000");
	if (get_time(c, data, "from", &from) < 0)
		return;
	if (n < 1 || n > 10000)
		return call_fail(c, -EINVAL, "n: must be an integer 1..10000");
	if (json_object_get(data, "expr"))
		return next_expr(c, data, from, n);
	if (need_str(c, data, "name", &name) < 0 || !(j = find_job(c, name)))
		return;
	call_reply(c, json_pack("{s:o, s:s}", "times", next_times(j, from, n),
	           "timezone", j->timezone ? j->timezone : engine_config(c->e)->timezone));
}

void op_workers(struct call *c, json_t *data)
{
	const struct config *cfg = engine_config(c->e);
	(void)data;
	call_reply(c, json_pack("{s:[{s:s?, s:s?, s:s?, s:b, s:o, s:I}]}",
	           "workers", "name", cfg->name, "address", cfg->socket,
	           "labels", cfg->labels, "self", 1,
	           "last_seen", time_json(now_us()), "update_seq",
	           (json_int_t)engine_update_seq(c->e)));
}
