/* ops.c — the operations table.  Every operation of jobd is one function
 * here, called by every face with (call, data): validation, permissions and
 * error texts live here once.  Reply data is never a bare true/false/null
 * (the original queue's PHP client accepts only objects, arrays, numbers
 * and strings), hence the "ok" strings. */
#include "faces/ops.h"

#include <errno.h>
#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/jid.h"
#include "core/jw.h"
#include "core/schedule.h"
#include "core/timefmt.h"
#include "engine/log.h"
#include "engine/proc.h"
#include "engine/storeq.h"
#include "faces/json.h"
#include "faces/ops_edit.h"
#include "faces/ops_queue.h"

typedef void (*op_fn)(struct call *c, json_t *data);

/* ---- replying ---- */

void call_reply(struct call *c, json_t *data)
{
	c->respond(c, data ? data : json_string("ok"), 0, NULL);
}

void call_reply_run(struct call *c, const struct arun *a,
                    const struct run *r)
{
	struct run row;
	struct jw w;
	size_t len;

	if (a) {
		arun_row(a, &row);
		r = &row;
	}
	jw_init(&w);
	jw_open(&w, '{');
	jw_key(&w, "run");
	run_write_json(&w, r, 1);
	jw_close(&w, '}');
	char *text = jw_take(&w, &len);
	json_t *data = NULL;
	if (text && c->respond_text)
		return c->respond_text(c, text, len);
	if (text)
		data = json_loadb(text, len, 0, NULL);
	free(text);
	if (!data)
		return call_fail(c, -ENOMEM, "out of memory");
	call_reply(c, data);
}

void call_fail(struct call *c, int err, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	c->respond(c, NULL, err, msg);
}

void call_abandon(struct call *c)
{
	void (*cancel)(struct call *) = c->cancel;
	run_unwatch(&c->watch);
	c->cancel = NULL;
	if (cancel)
		cancel(c);
}

static json_t *text_json(const char *buf, size_t n)
{
	json_t *s = json_stringn(buf, n);
	if (s)
		return s;
	char *t = malloc(n + 1);
	for (size_t i = 0; t && i < n; i++)
		t[i] = (unsigned char)buf[i] < 0x80 ? buf[i] : '?';
	s = t ? json_stringn(t, n) : json_string("");
	free(t);
	return s;
}

static void call_on_output(struct run_watcher *w, const struct arun *a,
                           int stream, const char *buf, size_t n)
{
	struct call *c = link_entry(w, struct call, watch);
	(void)a;
	if (c->follow && c->event)
		c->event(c, stream == 1 ? "stdout" : "stderr", text_json(buf, n));
}

static void call_on_started(struct run_watcher *w, const struct arun *a)
{
	struct call *c = link_entry(w, struct call, watch);
	if (c->follow && c->event)
		c->event(c, "start", json_pack("{s:s, s:i}", "jid", a->r.jid,
		         "pid", a->r.pid));
}

static void call_on_ended(struct run_watcher *w, const struct arun *a,
                          int err, const char *msg)
{
	struct call *c = link_entry(w, struct call, watch);
	call_abandon(c);
	if (err)
		call_fail(c, err, "%s", msg);
	else
		call_reply_run(c, a, NULL);
}

static const struct run_watcher_cbs call_watch_cbs = {
	.started = call_on_started,
	.output = call_on_output,
	.ended = call_on_ended,
};

void call_watch(struct call *c, struct arun *a)
{
	c->watch.cbs = &call_watch_cbs;
	run_watch(a, &c->watch);
}

/* ---- arguments ---- */

static const char *get_str(json_t *data, const char *key)
{
	return json_string_value(json_object_get(data, key));
}

static int need_str(struct call *c, json_t *data, const char *key,
                    const char **out)
{
	json_t *v = json_object_get(data, key);
	if (!v) {
		call_fail(c, -EINVAL, "missing field '%s'", key);
		return -1;
	}
	if (!json_is_string(v) || !*json_string_value(v)) {
		call_fail(c, -EINVAL, "field '%s' must be a non-empty string", key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

static int opt_bool(json_t *data, const char *key, int dflt)
{
	json_t *v = json_object_get(data, key);
	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

/* A duration given as a DUR string or integer seconds. */
static int get_dur(struct call *c, json_t *data, const char *key, int64_t *us)
{
	json_t *v = json_object_get(data, key);
	char err[200];
	if (!v || json_is_null(v))
		return 0;
	/* seconds: bounded so that microseconds fit in 64 bits (as jobs.c) */
	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) < 1000000000000LL) {
		*us = json_integer_value(v) * US_PER_S;
		return 0;
	}
	if (json_is_string(v) && dur_parse(json_string_value(v), us, err,
	                                   sizeof err) == 0)
		return 0;
	call_fail(c, -EINVAL, "%s: invalid duration", key);
	return -1;
}

static int get_time(struct call *c, json_t *data, const char *key, int64_t *us)
{
	const char *s = get_str(data, key);
	char err[200];
	if (!json_object_get(data, key))
		return 0;
	if (s && time_parse(s, now_us(), us, err, sizeof err) == 0)
		return 0;
	call_fail(c, -EINVAL, "%s: %s", key, s ? err : "must be a time string");
	return -1;
}

/* ---- permissions ---- */

static int may_job(struct call *c, const struct job *j)
{
	if (c->admin || j->owner_uid == c->uid)
		return 1;
	call_fail(c, -EPERM, "permission denied: job '%s' belongs to uid %u",
	          j->name, j->owner_uid);
	return 0;
}

static int may_run(struct call *c, const struct run *r)
{
	if (c->admin || r->uid == c->uid)
		return 1;
	call_fail(c, -EPERM, "permission denied: run %s belongs to uid %u",
	          r->jid, r->uid);
	return 0;
}

/* Only root or the daemon's user may make jobd run things as itself; other
 * users' commands run as them, which needs a root daemon. */
static int may_execute(struct call *c, const char **user)
{
	if (c->admin)
		return 1;
	if (!c->e->is_root) {
		call_fail(c, -EPERM, "permission denied: jobd is not running as "
		          "root, so it cannot run commands as uid %u", c->uid);
		return 0;
	}
	struct passwd *pw = getpwuid(c->uid);
	if (!pw) {
		call_fail(c, -EPERM, "permission denied: uid %u has no user name",
		          c->uid);
		return 0;
	}
	*user = pw->pw_name;
	return 1;
}

/* Whether gid is among the groups of user pw (its primary group and every
 * group listing it, as initgroups gives a login). */
static int user_in_group(const struct passwd *pw, gid_t gid)
{
	gid_t groups[256];
	int n = (int)(sizeof groups / sizeof groups[0]);

	if (pw->pw_gid == gid)
		return 1;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return 0;       /* more than 256 groups: refuse rather than guess */
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return 1;
	return 0;
}

/* The user and group a run is asked to run as: both must exist (named at
 * once, not when the run starts), and a caller who is not root or the
 * daemon's user may name only itself and only groups it is a member of:
 * jobd applies them with setgid/setuid. */
static int may_run_as(struct call *c, const char *user, const char *group)
{
	struct passwd *pw = NULL, *me;
	struct group *gr;

	if (user && !(pw = getpwnam(user))) {
		call_fail(c, -EINVAL, "unknown user '%s'", user);
		return 0;
	}
	if (user && !c->admin && pw->pw_uid != c->uid) {
		call_fail(c, -EPERM, "permission denied: uid %u may not run "
		          "commands as user '%s'", c->uid, user);
		return 0;
	}
	if (!group)
		return 1;
	if (!(gr = getgrnam(group))) {
		call_fail(c, -EINVAL, "unknown group '%s'", group);
		return 0;
	}
	if (c->admin)
		return 1;
	me = getpwuid(c->uid);
	if (!me || !user_in_group(me, gr->gr_gid)) {
		call_fail(c, -EPERM, "permission denied: uid %u is not a member "
		          "of group '%s'", c->uid, group);
		return 0;
	}
	return 1;
}

static struct job *find_job(struct call *c, const char *name)
{
	struct job *j = engine_job_find(c->e, name);
	if (!j)
		call_fail(c, -ENOENT, "job '%s' not found", name);
	return j;
}

/* ---- definitions ---- */

static int job_save(struct engine *e, struct job *j)
{
	json_t *def = job_to_json(j);
	char *text = json_dumps(def, JSON_COMPACT);
	json_decref(def);
	if (text)
		persist_job_put(e, j->name, text);
	free(text);
	return text ? 0 : -ENOMEM;
}

static void op_create(struct call *c, json_t *data)
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
	int rc = job_from_json(def, e->cfg.timezone, j, err, sizeof err);
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
	if (job_save(e, j) < 0) {
		call_fail(c, -ENOMEM, "cannot store job '%s': out of memory",
		          j->name);
		job_free(j);
		free(j);
		return;
	}
	engine_job_replace(e, j);
	log_info("job %s %s by uid %u", j->name, old ? "replaced" : "created",
	         c->uid);
	call_reply(c, json_pack("{s:o}", "job", job_to_json(j)));
}

static void op_delete(struct call *c, json_t *data)
{
	const char *name;
	struct job *j;
	if (need_str(c, data, "name", &name) < 0 || !(j = find_job(c, name)) ||
	    !may_job(c, j))
		return;
	if (j->source)
		return call_fail(c, -EINVAL, "job '%s' is defined in %s; remove "
		                 "it there and reload", name, j->source);
	persist_job_put(c->e, name, NULL);
	engine_job_remove(c->e, name);
	log_info("job %s deleted by uid %u", name, c->uid);
	call_reply(c, NULL);
}

static json_t *time_json(int64_t us)
{
	char buf[40];
	if (us <= 0)
		return json_null();
	time_format_utc(buf, sizeof buf, us);
	return json_string(buf);
}

/* ---- reads: on the read thread (engine/storeq.h), never on the loop ----
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

static void rd_cancel(struct call *c)
{
	struct rd *d = c->op_state;
	c->op_state = NULL;
	if (d)
		d->c = NULL;
}

static void rd_done(struct storeq_op *op, int rc, const char *err)
{
	struct rd *d = (struct rd *)op;
	if (d->c) {
		d->c->cancel = NULL;
		d->c->op_state = NULL;
		d->fin(d, rc, err);
	}
	run_clear(&d->run);
	json_decref(d->list);
	json_decref(d->data);
	free(d);
}

static struct rd *rd_new(struct call *c, json_t *data, storeq_work_fn work,
                         void (*fin)(struct rd *, int, const char *))
{
	struct rd *d = calloc(1, sizeof *d);
	if (!d) {
		call_fail(c, -ENOMEM, "out of memory");
		return NULL;
	}
	d->op.work = work;
	d->op.done = rd_done;
	d->c = c;
	d->data = json_incref(data);
	d->fin = fin;
	return d;
}

static void rd_submit(struct rd *d)
{
	d->c->op_state = d;
	d->c->cancel = rd_cancel;
	storeq_add(d->c->e->rq, &d->op);
}

static int keep_first(void *ctx, struct run *r)
{
	struct run *out = ctx;
	*out = *r;
	memset(r, 0, sizeof *r);
	return 1;
}

/* The newest stored run of a job (read thread). */
static int last_run(struct store *s, const char *job, int with_output,
                    struct run *out)
{
	struct run_query q = {.job = job, .status = -1, .limit = 1,
	                      .newest_first = 1, .with_output = with_output};
	memset(out, 0, sizeof *out);
	int rc = store_run_list(s, &q, keep_first, out);
	return rc < 0 ? rc : out->jid[0] ? 0 : -ENOENT;
}

static int rd_last_work(struct store *s, struct storeq_op *op, int replay)
{
	struct rd *d = (struct rd *)op;
	(void)replay;
	return last_run(s, d->name, d->with_output, &d->run);
}

static json_t *job_summary(struct job *j, json_t *last)
{
	json_t *o = json_pack("{s:s, s:b, s:s?, s:o, s:i, s:s?}",
	                      "name", j->name, "enabled", j->enabled,
	                      "schedule", j->schedule,
	                      "next_run", time_json(j->next_fire),
	                      "running", j->running, "source", j->source);
	json_t *run = json_object_get(last, j->name);
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
	for (int i = 0; i < c->e->n_jobs; i++) {
		struct job *j = c->e->jobs[i];
		if (c->admin || j->owner_uid == c->uid)
			json_array_append_new(jobs, job_summary(j, d->list));
	}
	call_reply(c, json_pack("{s:o}", "jobs", jobs));
}

static void op_list(struct call *c, json_t *data)
{
	struct rd *d = rd_new(c, data, rd_list_work, list_fin);
	if (!d)
		return;
	d->list = json_object();
	for (int i = 0; i < c->e->n_jobs; i++) {
		struct job *j = c->e->jobs[i];
		if (c->admin || j->owner_uid == c->uid)
			json_object_set_new(d->list, j->name, json_null());
	}
	rd_submit(d);
}

static json_t *next_times(struct job *j, int64_t from, int n)
{
	json_t *times = json_array();
	int64_t t = from;
	for (int i = 0; j->sched && i < n; i++) {
		t = sched_next(j->sched, t, i ? t : j->last_run, sched_seed(j));
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
	for (struct link *l = c->e->runs.next; l != &c->e->runs; l = l->next) {
		struct arun *a = link_entry(l, struct arun, all);
		if (a->r.job && strcmp(a->r.job, name) == 0 &&
		    a->r.status == RUN_RUNNING)
			json_array_append_new(running, json_string(a->r.jid));
	}
	json_t *o = json_pack("{s:o, s:o, s:o, s:o}", "job", job_to_json(j),
	                      "next_runs", next_times(j, now_us(), 5),
	                      "next_run", time_json(j->next_fire),
	                      "running", running);
	json_object_set_new(o, "skipped_fires", json_integer(j->skipped));
	json_object_set_new(o, "last_run", rc == 0 ? run_to_json(&d->run, 0)
	                                           : json_null());
	call_reply(c, o);
}

static void op_show(struct call *c, json_t *data)
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

static void op_enable(struct call *c, json_t *data) { set_enabled(c, data, 1); }
static void op_disable(struct call *c, json_t *data) { set_enabled(c, data, 0); }

int ops_reload(struct engine *e, int *n_jobs, int *n_files, char *err,
               size_t errlen)
{
	struct config cfg;
	int rc = config_load(e->cfg.path, &cfg, err, errlen);
	if (rc < 0)
		return rc;
	rc = engine_reload(e, &cfg, n_jobs, n_files, err, errlen);
	if (rc < 0) {
		config_free(&cfg);
		return rc;
	}
	log_min_level = e->cfg.log_level;
	return 0;
}

static void op_reload(struct call *c, json_t *data)
{
	char err[1024];
	int n_jobs = 0, n_files = 0;
	(void)data;
	if (!c->admin)
		return call_fail(c, -EPERM, "permission denied: only root or "
		                 "the daemon's user may reload");
	if (ops_reload(c->e, &n_jobs, &n_files, err, sizeof err) < 0) {
		log_error("reload failed, keeping the running configuration: %s",
		          err);
		return call_fail(c, -EINVAL, "reload failed: %s", err);
	}
	log_info("reloaded: %d jobs from %d files", n_jobs, n_files);
	if (c->e->n_job_errors > 0)      /* the good files are applied */
		return call_fail(c, -EINVAL, "reloaded, but %d job file%s skipped: "
		                 "%s%s", c->e->n_job_errors,
		                 c->e->n_job_errors > 1 ? "s" : "",
		                 c->e->job_errors[0], c->e->n_job_errors > 1 ?
		                 " (jobctl status lists them all)" : "");
	call_reply(c, json_pack("{s:i, s:i}", "jobs", n_jobs, "files", n_files));
}

/* ---- running ---- */

/* Starts the run's queue and either replies with the jid or keeps the call
 * until the run ends (wait), streaming its output (follow). */
static void enqueued(struct call *c, json_t *data, struct arun *a)
{
	struct target *t = a->target;
	if (opt_bool(data, "wait", 0)) {
		c->follow = opt_bool(data, "follow", 0);
		call_watch(c, a);
		queue_pump(c->e, t);
		return;
	}
	char jid[JID_LEN + 1];
	memcpy(jid, a->r.jid, sizeof jid);
	queue_pump(c->e, t);        /* may finish and free a */
	call_reply(c, json_pack("{s:s}", "jid", jid));
}

static void run_tags(struct call *c, json_t *tags)
{
	json_t *jids = json_array();
	char err[512];
	for (int i = 0; i < c->e->n_jobs; i++) {
		struct job *j = c->e->jobs[i];
		int hit = 0;
		for (char **t = j->tags; t && *t && !hit; t++) {
			size_t k;
			json_t *v;
			json_array_foreach(tags, k, v)
				hit |= json_is_string(v) &&
				       strcmp(json_string_value(v), *t) == 0;
		}
		if (!hit || (!c->admin && j->owner_uid != c->uid) || j->confirm)
			continue;
		struct run_req rq = {.job = j, .trigger = TRIG_MANUAL,
		                     .priority = j->priority, .uid = c->uid};
		struct arun *a;
		if (run_enqueue(c->e, &rq, &a, err, sizeof err) == 0) {
			json_array_append_new(jids, json_string(a->r.jid));
			queue_pump(c->e, a->target);
		}
	}
	call_reply(c, json_pack("{s:o}", "jids", jids));
}

static void op_run(struct call *c, json_t *data)
{
	const char *name, *action = get_str(data, "action");
	struct job *j;
	struct arun *a;
	char err[512];

	if (json_object_get(data, "allocations"))
		return call_fail(c, -EINVAL, "allocations: not built yet (planned: "
		                 "the cluster master and workers)");
	if (opt_bool(data, "health_check", 0))
		return call_fail(c, -EINVAL, "health_check: not built yet "
		                 "(planned: the cluster master and workers)");
	if (json_object_get(data, "rid"))
		return call_fail(c, -EINVAL, "rid: not built yet (planned: "
		                 "service task tables)");
	if (json_is_array(json_object_get(data, "tags")))
		return run_tags(c, json_object_get(data, "tags"));
	if (need_str(c, data, "name", &name) < 0 || !(j = find_job(c, name)) ||
	    !may_job(c, j))
		return;
	if (action && strcmp(action, "start") == 0 && !job_action_find(j, action))
		action = NULL;       /* start = the job's own command */
	if (j->confirm && !opt_bool(data, "yes", 0))
		return call_fail(c, -ECANCELED, "run aborted: job '%s' needs "
		                 "confirmation (answer yes, or pass --yes)", name);
	struct run_req rq = {.job = j, .action = action, .trigger = TRIG_MANUAL,
	                     .priority = j->priority, .uid = c->uid};
	int rc = run_enqueue(c->e, &rq, &a, err, sizeof err);
	if (rc < 0)
		return call_fail(c, rc, "%s", err);
	enqueued(c, data, a);
}

/* A submitted command becomes a spec (see engine/spec.c). */
static json_t *submit_spec(struct call *c, json_t *data, const char *user)
{
	json_t *argv = json_object_get(data, "argv");
	const char *cmd = get_str(data, "command");
	json_t *env = json_object_get(data, "env");
	int64_t timeout = 0;
	size_t i;
	json_t *v;

	if (get_str(data, "builtin")) {
		if (!c->admin) {
			call_fail(c, -EPERM, "permission denied: builtin runs are for "
			          "the daemon's user");
			return NULL;
		}
		return json_pack("{s:s}", "builtin", get_str(data, "builtin"));
	}
	if (json_is_array(argv) && json_array_size(argv) > 0) {
		json_array_foreach(argv, i, v)
			if (!json_is_string(v)) {
				call_fail(c, -EINVAL, "argv: every word must be a string");
				return NULL;
			}
	} else if (!cmd || !*cmd) {
		call_fail(c, -EINVAL, "missing field 'argv' (a non-empty list) "
		          "or 'command'");
		return NULL;
	}
	if (env && !json_is_object(env)) {
		call_fail(c, -EINVAL, "env: must be an object");
		return NULL;
	}
	const char *k;
	json_t *ev;
	json_object_foreach(env, k, ev) {
		size_t n = strlen(k);
		if (n > ENV_NAME_MAX) {
			call_fail(c, -EINVAL, "env: variable name longer than %d "
			          "bytes: '%.32s...'", ENV_NAME_MAX, k);
			return NULL;
		}
		if (!env_name_valid(k, n)) {
			call_fail(c, -EINVAL, "env: invalid variable name '%s'", k);
			return NULL;
		}
		if (!json_is_string(ev)) {
			call_fail(c, -EINVAL, "env: %s: the value must be a string", k);
			return NULL;
		}
	}
	if (get_dur(c, data, "timeout", &timeout) < 0)
		return NULL;
	json_t *s = json_object();
	if (cmd)
		json_object_set_new(s, "command", json_string(cmd));
	else
		json_object_set(s, "argv", argv);
	if (opt_bool(data, "shell", 0))
		json_object_set_new(s, "shell", json_true());
	if (opt_bool(data, "kill_leftovers", 0))
		json_object_set_new(s, "kill_leftovers", json_true());
	if (get_str(data, "cwd"))
		json_object_set(s, "cwd", json_object_get(data, "cwd"));
	if (env)
		json_object_set(s, "env", env);
	if (user || get_str(data, "user"))
		json_object_set_new(s, "user", json_string(user ? user
		                    : get_str(data, "user")));
	if (get_str(data, "group"))
		json_object_set(s, "group", json_object_get(data, "group"));
	json_object_set_new(s, "timeout", json_integer(timeout));
	return s;
}

static void op_submit(struct call *c, json_t *data)
{
	const char *user = NULL;
	struct arun *a;
	int64_t at = 0;
	char err[512];
	json_t *pri = json_object_get(data, "priority");
	json_t *ret = json_object_get(data, "retries");

	if (!may_execute(c, &user) ||
	    !may_run_as(c, get_str(data, "user"), get_str(data, "group")) ||
	    get_time(c, data, "at", &at) < 0)
		return;
	if (pri && (!json_is_integer(pri) || json_integer_value(pri) < -1000000 ||
	            json_integer_value(pri) > 1000000))
		return call_fail(c, -EINVAL, "priority: must be an integer from "
		                 "-1000000 to 1000000");
	if (ret && (!json_is_integer(ret) || json_integer_value(ret) < 0 ||
	            json_integer_value(ret) > 1000000))
		return call_fail(c, -EINVAL, "retries: must be an integer from 0 "
		                 "to 1000000");
	json_t *spec = submit_spec(c, data, user);
	if (!spec)
		return;
	struct run_req rq = {.spec = spec, .trigger = TRIG_API,
	                     .target = get_str(data, "target"),
	                     .priority = (int)json_integer_value(pri),
	                     .retries = (int)json_integer_value(ret),
	                     .not_before = at, .uid = c->uid};
	int rc = run_enqueue(c->e, &rq, &a, err, sizeof err);
	json_decref(spec);
	if (rc < 0)
		return call_fail(c, rc, "%s", err);
	enqueued(c, data, a);
}

/* ---- runs ---- */

static void op_active(struct call *c, json_t *data)
{
	json_t *runs = json_array();
	const char *job = get_str(data, "job");
	for (struct link *l = c->e->runs.next; l != &c->e->runs; l = l->next) {
		struct arun *a = link_entry(l, struct arun, all);
		if (a->r.status != RUN_RUNNING ||
		    (!c->admin && a->r.uid != c->uid) ||
		    (job && (!a->r.job || strcmp(job, a->r.job) != 0)))
			continue;
		json_array_append_new(runs, arun_to_json(a, 0));
	}
	call_reply(c, json_pack("{s:o}", "runs", runs));
}

static int list_push(void *ctx, struct run *r)
{
	json_array_append_new(ctx, run_to_json(r, 0));
	return 0;
}

static int rd_runs_work(struct store *s, struct storeq_op *op, int replay)
{
	struct rd *d = (struct rd *)op;
	(void)replay;
	return store_run_list(s, &d->q, list_push, d->list);
}

static void runs_fin(struct rd *d, int rc, const char *err)
{
	if (rc < 0)
		return call_fail(d->c, -EIO, "cannot list runs: %s", err);
	call_reply(d->c, json_pack("{s:O}", "runs", d->list));
}

static void op_runs(struct call *c, json_t *data)
{
	struct run_query q = {.job = get_str(data, "job"), .status = -1,
	                      .limit = 50, .newest_first = 1,
	                      .target = get_str(data, "target")};
	struct rd *d;
	json_t *lim = json_object_get(data, "limit");
	const char *st = get_str(data, "status");

	if (st && (q.status = run_status_parse(st)) < 0)
		return call_fail(c, -EINVAL, "status: unknown status '%s' "
		                 "(waiting, manual, accepted, running, done, "
		                 "ignored)", st);
	if (lim && (!json_is_integer(lim) || json_integer_value(lim) < 1))
		return call_fail(c, -EINVAL, "limit: must be a positive integer");
	if (lim)
		q.limit = (int)json_integer_value(lim);
	if (get_time(c, data, "since", &q.since) < 0)
		return;
	q.by_uid = !c->admin;
	q.uid = c->uid;
	if (!(d = rd_new(c, data, rd_runs_work, runs_fin)))
		return;
	d->q = q;                /* its strings are in d->data */
	d->list = json_array();
	rd_submit(d);
}

static int need_jid(struct call *c, json_t *data, const char **jid)
{
	if (need_str(c, data, "jid", jid) < 0)
		return -1;
	if (!jid_valid(*jid)) {
		call_fail(c, -EINVAL, "invalid jid '%s': want 20 digits "
		          "YYYYMMDDhhmmssffffff", *jid);
		return -1;
	}
	return 0;
}

static int rd_get_work(struct store *s, struct storeq_op *op, int replay)
{
	struct rd *d = (struct rd *)op;
	(void)replay;
	return store_run_get(s, d->jid, d->with_output, &d->run);
}

static void find_fin(struct rd *d, int rc, const char *err)
{
	struct call *c = d->c;
	struct arun *a = run_find(c->e, d->jid);     /* claimed meanwhile */
	if (a) {
		if (may_run(c, &a->r))
			d->found(c, d->data, a, NULL);
	} else if (rc == -ENOENT) {
		call_fail(c, -ENOENT, "run %s not found", d->jid);
	} else if (rc < 0) {
		call_fail(c, -EIO, "cannot read run %s: %s", d->jid, err);
	} else if (may_run(c, &d->run)) {
		d->found(c, d->data, NULL, &d->run);
	}
}

/* A run by jid: found gets the live run at once, or the stored row once
 * it is read; or the call fails (not found, not the caller's). */
static void find_run(struct call *c, json_t *data, const char *jid,
                     int with_output, found_fn found)
{
	struct arun *a = run_find(c->e, jid);
	struct rd *d;
	if (a) {
		if (may_run(c, &a->r))
			found(c, data, a, NULL);
		return;
	}
	if (!(d = rd_new(c, data, rd_get_work, find_fin)))
		return;
	snprintf(d->jid, sizeof d->jid, "%s", jid);
	d->with_output = with_output;
	d->found = found;
	rd_submit(d);
}

static void lookup_found(struct call *c, json_t *data, struct arun *a,
                         struct run *r)
{
	(void)data;
	call_reply_run(c, a, r);
}

static void op_lookup(struct call *c, json_t *data)
{
	const char *jid;
	if (need_jid(c, data, &jid) == 0)
		find_run(c, data, jid, 1, lookup_found);
}

/* wait and logs: reply now for a finished run, else keep the call. */
static void watch_or_reply(struct call *c, struct arun *a, struct run *r,
                           int follow)
{
	if (a && a->released)        /* ended, its row not yet committed */
		return call_reply_run(c, a, NULL);
	if (a) {
		c->follow = follow;
		if (follow && c->event) {
			if (a->out.len)
				c->event(c, "stdout", text_json(a->out.buf, a->out.len));
			if (a->err.len)
				c->event(c, "stderr", text_json(a->err.buf, a->err.len));
		}
		call_watch(c, a);
		return;
	}
	call_reply_run(c, NULL, r);
}

static void wait_found(struct call *c, json_t *data, struct arun *a,
                       struct run *r)
{
	watch_or_reply(c, a, r, opt_bool(data, "follow", 0));
}

static void op_wait(struct call *c, json_t *data)
{
	const char *jid;
	if (need_jid(c, data, &jid) == 0)
		find_run(c, data, jid, 1, wait_found);
}

static void logs_last_fin(struct rd *d, int rc, const char *err)
{
	struct call *c = d->c;
	if (rc == -ENOENT)
		return call_fail(c, -ENOENT, "job '%s' has no runs yet", d->name);
	if (rc < 0)
		return call_fail(c, -EIO, "cannot read job '%s''s runs: %s",
		                 d->name, err);
	wait_found(c, d->data, run_find(c->e, d->run.jid), &d->run);
}

static void op_logs(struct call *c, json_t *data)
{
	const char *jid = get_str(data, "jid"), *name = get_str(data, "name");
	struct rd *d;

	if (jid) {
		if (need_jid(c, data, &jid) == 0)
			find_run(c, data, jid, 1, wait_found);
		return;
	}
	if (!name)
		return call_fail(c, -EINVAL, "missing field 'jid' or 'name'");
	struct job *j = find_job(c, name);
	if (!j || !may_job(c, j))
		return;
	/* the job's newest run: a live one first */
	for (struct link *l = c->e->runs.prev; l != &c->e->runs; l = l->prev) {
		struct arun *x = link_entry(l, struct arun, all);
		if (x->r.job && strcmp(x->r.job, name) == 0 &&
		    x->r.status == RUN_RUNNING)
			return wait_found(c, data, x, NULL);
	}
	if (!(d = rd_new(c, data, rd_last_work, logs_last_fin)))
		return;
	d->name = name;          /* in d->data */
	d->with_output = 1;
	rd_submit(d);
}

static int signal_of(json_t *data)
{
	json_t *sv = json_object_get(data, "signal");
	return json_is_integer(sv) ? (int)json_integer_value(sv)
	     : json_is_string(sv) ? signal_parse(json_string_value(sv)) : -1;
}

static void signal_found(struct call *c, json_t *data, struct arun *a,
                         struct run *r)
{
	const char *jid = a ? a->r.jid : r->jid;
	int sig = signal_of(data);
	if (!a || run_signal(c->e, a, sig) < 0)
		return call_fail(c, -ESRCH, "Job %s was not running", jid);
	log_info("run %s: signal %d sent to process group %d by uid %u", jid,
	         sig, a->r.pid, c->uid);
	char msg[160];
	snprintf(msg, sizeof msg, "Signal %d sent to job %s at pid %d", sig, jid,
	         a->r.pid);
	call_reply(c, json_pack("{s:s}", "message", msg));
}

static void op_signal(struct call *c, json_t *data)
{
	const char *jid;
	json_t *sv = json_object_get(data, "signal");
	int sig = signal_of(data);

	if (need_jid(c, data, &jid) < 0)
		return;
	if (sig < 1 || sig > 64)
		return call_fail(c, -EINVAL, "invalid signal '%s'",
		                 json_is_string(sv) ? json_string_value(sv) : "?");
	find_run(c, data, jid, 0, signal_found);
}

static void cancel_found(struct call *c, json_t *data, struct arun *a,
                         struct run *r)
{
	const char *jid = a ? a->r.jid : r->jid;
	(void)data;
	if (!a || a->released)
		return call_fail(c, -EALREADY, "run %s already %s", jid,
		                 run_status_name(a ? a->r.status : r->status));
	if (a->r.status == RUN_RUNNING)
		return call_fail(c, -EBUSY, "run %s is running; use term or kill",
		                 jid);
	run_cancel(c->e, a);
	call_reply(c, json_pack("{s:s}", "message", "cancelled"));
}

static void op_cancel(struct call *c, json_t *data)
{
	const char *jid;
	if (need_jid(c, data, &jid) == 0)
		find_run(c, data, jid, 0, cancel_found);
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

static json_t *targets_json(struct engine *e, int as_list)
{
	json_t *out = as_list ? json_array() : json_object();
	for (int i = 0; i < e->n_targets; i++) {
		struct target *t = e->targets[i];
		json_t *o = json_pack("{s:b, s:i, s:i, s:i}", "paused", t->paused,
		                      "concurrency", t->concurrency,
		                      "length", t->waiting, "running", t->running);
		if (as_list) {
			json_object_set_new(o, "name", json_string(t->name));
			json_array_append_new(out, o);
		} else {
			json_object_set_new(out, t->name, o);
		}
	}
	return out;
}

static void op_status(struct call *c, json_t *data)
{
	struct engine *e = c->e;
	double p50, p99;
	(void)data;
	sched_lateness(e, &p50, &p99);
	json_int_t rss = (json_int_t)rss_bytes();
	json_t *o = json_pack(
		"{s:s, s:i, s:I, s:o, s:s, s:s, s:s?, s:o, s:{s:i, s:i, s:i},"
		" s:{s:I}, s:{s:f, s:f}}",
		"version", JOBD_VERSION, "pid", (int)getpid(),
		"uptime_s", (json_int_t)((now_us() - e->started) / US_PER_S),
		"started", time_json(e->started),
		"store", store_describe(e->rstore), "state_dir", e->cfg.state_dir,
		"name", e->cfg.name,
		"targets", targets_json(e, 0),
		"counts", "jobs", e->n_jobs, "running", e->n_running,
		"waiting", e->n_waiting,
		"memory", "rss", rss,
		"schedule", "lateness_p50_ms", p50, "lateness_p99_ms", p99);
	json_t *bad = json_array();
	for (int i = 0; i < e->n_job_errors; i++)
		json_array_append_new(bad, json_string(e->job_errors[i]));
	json_object_set_new(o, "job_file_errors", bad);
	queue_status_fields(e, o, rss);
	call_reply(c, o);
}

static void op_next(struct call *c, json_t *data)
{
	const char *name;
	struct job *j;
	int64_t from = now_us();
	json_t *nv = json_object_get(data, "n");
	int n = nv ? (int)json_integer_value(nv) : 5;

	if (need_str(c, data, "name", &name) < 0 || !(j = find_job(c, name)) ||
	    get_time(c, data, "from", &from) < 0)
		return;
	if (n < 1 || n > 10000)
		return call_fail(c, -EINVAL, "n: must be an integer 1..10000");
	call_reply(c, json_pack("{s:o, s:s}", "times", next_times(j, from, n),
	           "timezone", j->timezone ? j->timezone : c->e->cfg.timezone));
}

static void op_workers(struct call *c, json_t *data)
{
	(void)data;
	call_reply(c, json_pack("{s:[{s:s?, s:s?, s:s?, s:b, s:o}]}", "workers",
	           "name", c->e->cfg.name, "address", c->e->cfg.socket,
	           "labels", c->e->cfg.labels, "self", 1,
	           "last_seen", time_json(now_us())));
}

/* ---- targets (the queue's requests; their error texts are the original
 * daemon's) ---- */

static void op_targets(struct call *c, json_t *data)
{
	(void)data;
	call_reply(c, json_pack("{s:o}", "targets", targets_json(c->e, 1)));
}

static int need_target(struct call *c, json_t *data, const char **name)
{
	json_t *v = json_object_get(data, "target");
	if (!json_is_string(v) || !name_valid(json_string_value(v))) {
		call_fail(c, -EINVAL, "invalid target '%s'",
		          json_is_string(v) ? json_string_value(v) : "");
		return -1;
	}
	*name = json_string_value(v);
	return 0;
}

static int need_concurrency(struct call *c, json_t *data, int *n)
{
	json_t *v = json_object_get(data, "concurrency");
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > 100000) {
		call_fail(c, -EINVAL, "invalid concurrency");
		return -1;
	}
	*n = (int)json_integer_value(v);
	return 0;
}

static void op_add_target(struct call *c, json_t *data)
{
	const char *name;
	int n;
	if (!c->admin)
		return call_fail(c, -EPERM, "permission denied");
	if (need_target(c, data, &name) < 0 || need_concurrency(c, data, &n) < 0)
		return;
	if (queue_target(c->e, name))
		return call_fail(c, -EEXIST, "target '%s' already added", name);
	if (!queue_target_add(c->e, name, n))
		return call_fail(c, -ENOMEM, "cannot add target '%s'", name);
	persist_target_put(c->e, name, n, 0);
	call_reply(c, NULL);
}

static void op_remove_target(struct call *c, json_t *data)
{
	const char *name;
	if (!c->admin)
		return call_fail(c, -EPERM, "permission denied");
	if (need_target(c, data, &name) < 0)
		return;
	int rc = queue_target_remove(c->e, name);
	if (rc == -ENOENT)
		return call_fail(c, -ENOENT, "invalid target '%s'", name);
	if (rc == -EBUSY)
		return call_fail(c, -EBUSY, "queue is not empty");
	if (rc == -EPERM)
		return call_fail(c, -EINVAL, "the default target cannot be removed");
	if (rc == -EROFS)
		return call_fail(c, -EINVAL, "target '%s' is defined in the config "
		                 "file's [targets]: remove it there and reload", name);
	if (rc == -EADDRINUSE)
		return call_fail(c, -EINVAL, "target '%s' is used by jobs: change "
		                 "their target first", name);
	persist_target_del(c->e, name);
	call_reply(c, NULL);
}

static void op_set_concurrency(struct call *c, json_t *data)
{
	const char *name;
	struct target *t;
	int n;
	if (!c->admin)
		return call_fail(c, -EPERM, "permission denied");
	if (need_target(c, data, &name) < 0 || need_concurrency(c, data, &n) < 0)
		return;
	if (!(t = queue_target(c->e, name)))
		return call_fail(c, -ENOENT, "invalid target '%s'", name);
	t->concurrency = n;
	persist_target_put(c->e, name, n, t->paused);
	queue_pump(c->e, t);
	call_reply(c, NULL);
}

/* pause / continue / poll: {targets?: [str]}, absent = all. */
static void each_target(struct call *c, json_t *data,
                        void (*fn)(struct engine *, struct target *))
{
	json_t *ts = json_object_get(data, "targets");
	size_t i;
	json_t *v;
	if (ts && !json_is_array(ts))
		return call_fail(c, -EINVAL, "targets must be array");
	json_array_foreach(ts, i, v)
		if (!json_is_string(v) || !queue_target(c->e, json_string_value(v)))
			return call_fail(c, -ENOENT, "invalid target '%s'",
			                 json_is_string(v) ? json_string_value(v) : "");
	if (!ts) {
		for (int k = 0; k < c->e->n_targets; k++)
			fn(c->e, c->e->targets[k]);
	}
	json_array_foreach(ts, i, v)
		fn(c->e, queue_target(c->e, json_string_value(v)));
	call_reply(c, NULL);
}

static void t_pause(struct engine *e, struct target *t)
{
	t->paused = 1;
	persist_target_put(e, t->name, t->concurrency, 1);
}

/* Continue also polls: a paused target's poll left its rows in the store
 * (for other workers), so they are claimed now. */
static void t_continue(struct engine *e, struct target *t)
{
	t->paused = 0;
	persist_target_put(e, t->name, t->concurrency, 0);
	queue_pump(e, t);
	queue_poll(e, t);
}

static void op_pause(struct call *c, json_t *data)
{
	if (!c->admin)
		return call_fail(c, -EPERM, "permission denied");
	each_target(c, data, t_pause);
}

static void op_continue(struct call *c, json_t *data)
{
	if (!c->admin)
		return call_fail(c, -EPERM, "permission denied");
	each_target(c, data, t_continue);
}

/* Replies "ok" at once, as the original does, then claims the waiting rows
 * of the targets (see queue_poll). */
static void op_poll(struct call *c, json_t *data)
{
	struct engine *e = c->e;
	json_t *ts = json_object_get(data, "targets");
	size_t i, n = ts ? json_array_size(ts) : (size_t)e->n_targets;
	json_t *v;

	if (ts && !json_is_array(ts))
		return call_fail(c, -EINVAL, "targets must be array");
	json_array_foreach(ts, i, v)
		if (!json_is_string(v) || !queue_target(e, json_string_value(v)))
			return call_fail(c, -ENOENT, "invalid target '%s'",
			                 json_is_string(v) ? json_string_value(v) : "");
	char **names = calloc(n + 1, sizeof *names);
	for (i = 0; names && i < n; i++)
		names[i] = strdup(ts ? json_string_value(json_array_get(ts, i))
		                     : e->targets[i]->name);
	call_reply(c, NULL);         /* c is gone from here on */
	for (i = 0; names && i < n; i++) {
		struct target *t = names[i] ? queue_target(e, names[i]) : NULL;
		if (t)
			queue_poll(e, t);
		free(names[i]);
	}
	free(names);
}

/* ---- the table ---- */

static const struct op {
	const char *name;
	op_fn fn;
} ops[] = {
	{"active", op_active},
	{"add-target", op_add_target},
	{"cancel", op_cancel},
	{"continue", op_continue},
	{"create", op_create},
	{"delete", op_delete},
	{"disable", op_disable},
	{"enable", op_enable},
	{"list", op_list},
	{"logs", op_logs},
	{"lookup", op_lookup},
	{"next", op_next},
	{"pause", op_pause},
	{"poll", op_poll},
	{"reload", op_reload},
	{"remove-target", op_remove_target},
	{"run", op_run},
	{"run-manual", op_run_manual},
	{"runs", op_runs},
	{"send-signal", op_send_signal},
	{"set-job", op_set_job},
	{"set-target-concurrency", op_set_concurrency},
	{"show", op_show},
	{"signal", op_signal},
	{"status", op_status},
	{"submit", op_submit},
	{"targets", op_targets},
	{"wait", op_wait},
	{"workers", op_workers},
};

static int op_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct op *)elem)->name);
}

int ops_dispatch(struct call *c, const char *type, json_t *data)
{
	const struct op *op = bsearch(type, ops, sizeof ops / sizeof *ops,
	                              sizeof *ops, op_cmp);
	json_t *empty = NULL;
	if (!op) {
		call_fail(c, -EINVAL, "unknown request type: '%s'", type);
		return -EINVAL;
	}
	if (ops_role_allows(c, op->name) < 0)
		return -EPERM;
	if (data && !json_is_object(data)) {
		call_fail(c, -EINVAL, "data must be an object");
		return -EINVAL;
	}
	if (!data)
		data = empty = json_object();
	op->fn(c, data);
	json_decref(empty);
	return 0;
}
