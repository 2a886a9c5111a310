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
#include "faces/json.h"
#include "faces/ops_int.h"
#include "faces/ops_edit.h"
#include "faces/ops_queue.h"

typedef void (*op_fn)(struct call *c, json_t *data);

/* ---- replying ---- */

/* A reply waiting for the commit of what it acknowledges (commit_wait):
 * exactly one of data / text / (err, msg). */
struct held_reply {
	struct call *c;          /* NULL once the call was abandoned */
	json_t *data;
	char *text;
	size_t len;
	int err;
	char msg[];
};

/* The call in ops_dispatch (its reply made then acknowledges only what
 * the dispatch wrote). */
static struct call *dispatching;

/* 1 when a reply now may acknowledge writes not yet committed. */
static int call_acks(const struct call *c)
{
	return c->commit_wait && (c != dispatching ||
	                          persist_writes(c->e) != c->writes_at);
}

static void held_flushed(void *arg, int rc, const char *why)
{
	struct held_reply *h = arg;
	struct call *c = h->c;

	if (!c) {
		json_decref(h->data);
		free(h->text);
		free(h);
		return;
	}
	c->held = NULL;
	if (rc < 0 && !h->err) {          /* as the socket face's unstored() */
		char text[320];
		snprintf(text, sizeof text, "not stored: %s",
		         why && *why ? why : "commit failed");
		json_decref(h->data);
		free(h->text);
		c->respond(c, NULL, -EIO, text);
	} else if (h->err) {
		c->respond(c, NULL, h->err, h->msg);
	} else if (h->text) {
		c->respond_text(c, h->text, h->len);
	} else {
		c->respond(c, h->data, 0, NULL);
	}
	free(h);
}

/* Sends the reply now, or holds it behind persist_flush.  Returns 1 when
 * held (or lost to a lack of memory: then as a failure, at once). */
static int call_hold(struct call *c, json_t *data, char *text, size_t len,
                     int err, const char *msg)
{
	size_t mlen = msg ? strlen(msg) + 1 : 1;
	struct held_reply *h;

	if (!call_acks(c))
		return 0;
	if (!(h = calloc(1, sizeof *h + mlen))) {
		json_decref(data);
		free(text);
		c->respond(c, NULL, -ENOMEM, "out of memory");
		return 1;
	}
	h->c = c;
	h->data = data;
	h->text = text;
	h->len = len;
	h->err = err;
	memcpy(h->msg, msg ? msg : "", mlen);
	c->held = h;
	persist_flush(c->e, held_flushed, h);
	return 1;
}

void call_reply(struct call *c, json_t *data)
{
	if (!data)
		data = json_string("ok");
	if (!call_hold(c, data, NULL, 0, 0, NULL))
		c->respond(c, data, 0, NULL);
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
	} else if (!r) {
		call_fail(c, -EIO, "run lost");
		return;
	}
	jw_init(&w);
	jw_open(&w, '{');
	jw_key(&w, "run");
	run_write_json(&w, r, 1);
	jw_close(&w, '}');
	char *text = jw_take(&w, &len);
	json_t *data = NULL;
	if (text && c->respond_text) {
		if (!call_hold(c, NULL, text, len, 0, NULL))
			c->respond_text(c, text, len);
		return;
	}
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
	if (!call_hold(c, NULL, NULL, 0, err, msg))
		c->respond(c, NULL, err, msg);
}

void call_abandon(struct call *c)
{
	void (*cancel)(struct call *) = c->cancel;
	run_unwatch(&c->watch);
	if (c->held) {               /* its flush frees it, answering nobody */
		c->held->c = NULL;
		c->held = NULL;
	}
	c->cancel = NULL;
	if (cancel)
		cancel(c);
}

json_t *text_json(const char *buf, size_t n)
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

const char *get_str(json_t *data, const char *key)
{
	return json_string_value(json_object_get(data, key));
}

int need_str(struct call *c, json_t *data, const char *key,
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

int opt_bool(json_t *data, const char *key, int dflt)
{
	json_t *v = json_object_get(data, key);
	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

/* A duration given as a DUR string or integer seconds. */
int get_dur(struct call *c, json_t *data, const char *key, int64_t *us)
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

int get_time(struct call *c, json_t *data, const char *key, int64_t *us)
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

int may_job(struct call *c, const struct job *j)
{
	if (c->admin || j->owner_uid == c->uid)
		return 1;
	call_fail(c, -EPERM, "permission denied: job '%s' belongs to uid %u",
	          j->name, j->owner_uid);
	return 0;
}

int may_run(struct call *c, const struct run *r)
{
	if (c->admin || r->uid == c->uid)
		return 1;
	call_fail(c, -EPERM, "permission denied: run %s belongs to uid %u",
	          r->jid, r->uid);
	return 0;
}

/* Only root or the daemon's user may make jobd run things as itself; other
 * users' commands run as them, which needs a root daemon. */
int may_execute(struct call *c, const char **user)
{
	if (c->admin)
		return 1;
	if (!engine_is_root(c->e)) {
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
int may_run_as(struct call *c, const char *user, const char *group)
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
	/* only a root jobd can switch users: refuse now, not at each run */
	if (user && pw->pw_uid != engine_uid(c->e) && !engine_is_root(c->e)) {
		call_fail(c, -EPERM, "cannot run as user '%s': jobd is not "
		          "running as root", user);
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

struct job *find_job(struct call *c, const char *name)
{
	struct job *j = engine_job_find(c->e, name);
	if (!j)
		call_fail(c, -ENOENT, "job '%s' not found", name);
	return j;
}

json_t *time_json(int64_t us)
{
	char buf[40];
	if (us <= 0)
		return json_null();
	time_format_utc(buf, sizeof buf, us);
	return json_string(buf);
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
	{"health", op_health},
	{"job-action", op_job_action},
	{"list", op_list},
	{"logs", op_logs},
	{"lookup", op_lookup},
	{"metrics", op_metrics},
	{"next", op_next},
	{"pause", op_pause},
	{"poke", op_poke},
	{"poll", op_poll},
	{"register-worker", op_register_worker},
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
	{"sync", op_sync},
	{"targets", op_targets},
	{"wait", op_wait},
	{"workers", op_workers},
};

static ops_route_fn route;       /* the master's (ops_set_route) */
static void *route_arg;

void ops_set_route(ops_route_fn fn, void *arg)
{
	route = fn;
	route_arg = arg;
}

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
	if (c->commit_wait)
		c->writes_at = persist_writes(c->e);
	struct call *outer = dispatching;   /* run-manual dispatches sub-calls */
	dispatching = c;
	if (!route || !route(route_arg, c, op->name, data))
		op->fn(c, data);
	dispatching = outer;     /* c may be freed by now: not touched */
	json_decref(empty);
	return 0;
}
