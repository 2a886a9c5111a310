/* ops_runs.c — the ops that start runs (run, submit) and that read or
 * control them (active, runs, lookup, wait, logs, signal, cancel), and the
 * reads of the ops table (on the read thread). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "engine/log.h"
#include "engine/proc.h"
#include "faces/json.h"
#include "faces/ops_int.h"
#include "faces/ops_tasks.h"

/* ---- reads ---- */

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

struct rd *rd_new(struct call *c, json_t *data, storeq_work_fn work,
                         void (*fin)(struct rd *, int, const char *))
{
	struct rd *d = calloc(1, sizeof *d);
	if (!d) {
		call_fail(c, -ENOMEM, "out of memory");
		return NULL;
	}
	d->op.work = work;        /* for rd_submit */
	d->c = c;
	d->data = json_incref(data);
	d->fin = fin;
	return d;
}

void rd_submit(struct rd *d)
{
	d->c->op_state = d;
	d->c->cancel = rd_cancel;
	engine_read(d->c->e, &d->op, d->op.work, rd_done);
}

static int keep_first(void *ctx, struct run *r)
{
	struct run *out = ctx;
	*out = *r;
	memset(r, 0, sizeof *r);
	return 1;
}

/* The newest stored run of a job (read thread). */
int last_run(struct store *s, const char *job, int with_output,
                    struct run *out)
{
	struct run_query q = {.job = job, .status = -1, .limit = 1,
	                      .newest_first = 1, .with_output = with_output};
	memset(out, 0, sizeof *out);
	int rc = store_run_list(s, &q, keep_first, out);
	return rc < 0 ? rc : out->jid[0] ? 0 : -ENOENT;
}

int rd_last_work(struct store *s, struct storeq_op *op, int replay)
{
	struct rd *d = (struct rd *)op;
	(void)replay;
	return last_run(s, d->name, d->with_output, &d->run);
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
	struct job *j;
	for (int i = 0; (j = engine_job_at(c->e, i)); i++) {
		int hit = 0;
		for (char **t = j->tags; t && *t && !hit; t++) {
			size_t k;
			json_t *v;
			json_array_foreach(tags, k, v)
				hit |= json_is_string(v) &&
				       strcmp(json_string_value(v), *t) == 0;
		}
		if (!hit || (!c->admin && j->owner_uid != c->uid) || j->confirm ||
		    !ops_task_runs_here(c, j) ||
		    engine_lease_refuse(c->e, j, err, sizeof err) < 0)
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

void op_run(struct call *c, json_t *data)
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
	if (ops_tasks_run(c, data))
		return;         /* a service's tasks (ops_tasks.c) */
	if (json_is_array(json_object_get(data, "tags")))
		return run_tags(c, json_object_get(data, "tags"));
	if (need_str(c, data, "name", &name) < 0 || !(j = find_job(c, name)) ||
	    !may_job(c, j))
		return;
	if (action && strcmp(action, "start") == 0 && !job_action_find(j, action))
		action = NULL;       /* start = the job's own command */
	/* placement = one: its command runs on the lease holder only */
	if (!action && engine_lease_refuse(c->e, j, err, sizeof err) < 0)
		return call_fail(c, -ECANCELED, "%s", err);
	struct run_req rq = {.job = j, .action = action, .trigger = TRIG_MANUAL,
	                     .priority = j->priority, .uid = c->uid,
	                     .confirmed = opt_bool(data, "yes", 0)};
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

void op_submit(struct call *c, json_t *data)
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

void op_active(struct call *c, json_t *data)
{
	json_t *runs = json_array();
	const char *job = get_str(data, "job");
	for (struct arun *a = NULL; (a = engine_run_next(c->e, a));) {
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

static int list_push_output(void *ctx, struct run *r)
{
	json_array_append_new(ctx, run_to_json(r, 1));
	return 0;
}

static int rd_runs_work(struct store *s, struct storeq_op *op, int replay)
{
	struct rd *d = (struct rd *)op;
	(void)replay;
	return store_run_list(s, &d->q, d->q.with_output ? list_push_output :
	                      list_push, d->list);
}

static void runs_fin(struct rd *d, int rc, const char *err)
{
	if (rc < 0)
		return call_fail(d->c, -EIO, "cannot list runs: %s", err);
	call_reply(d->c, json_pack("{s:O}", "runs", d->list));
}

void op_runs(struct call *c, json_t *data)
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
	/* with their output: 9P's log file renders a job's history */
	q.with_output = opt_bool(data, "output", 0);
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

void op_lookup(struct call *c, json_t *data)
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
			/* a stream that begins mid-run begins as any other */
			if (a->r.status == RUN_RUNNING)
				c->event(c, "start", json_pack("{s:s, s:i}", "jid",
				         a->r.jid, "pid", a->r.pid));
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

void op_wait(struct call *c, json_t *data)
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

void op_logs(struct call *c, json_t *data)
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
	for (struct arun *x = NULL; (x = engine_run_prev(c->e, x));) {
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

void op_signal(struct call *c, json_t *data)
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

void op_cancel(struct call *c, json_t *data)
{
	const char *jid;
	if (need_jid(c, data, &jid) == 0)
		find_run(c, data, jid, 0, cancel_found);
}
