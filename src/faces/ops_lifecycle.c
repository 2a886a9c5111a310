/* ops_lifecycle.c — the job-action op: a job's lifecycle on this daemon
 * (jobctl start|stop|restart|reload|status NAME; docs/lifecycle.md).  The
 * job's own [action NAME] command always wins: it runs as a run of the job
 * and the reply waits for its end.  Without one, the built-ins:
 *   start    the job's command as a supervised run (engine/service.c);
 *            replied once it runs, not when it ends
 *   stop     the supervision ends, each run of the command gets SIGTERM
 *            to its group (SIGKILL after kill_grace); replied once ended
 *   restart  stop, then start
 *   reload   SIGHUP to the groups of the command's runs
 *   status   running or not (code 3)
 * The reply is {"ok", "results": [one result]}, also when the action
 * failed: the cluster master merges the results of its workers (each
 * {worker, job, action, ok, code, message, jid?, running?}).  Only bad
 * input, an unknown job and a refused caller fail the call. */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/jid.h"
#include "engine/proc.h"
#include "faces/ops_int.h"
#include "faces/ops_tasks.h"

enum act_kind { ACT_START, ACT_STOP, ACT_RESTART, ACT_RELOAD, ACT_STATUS,
                ACT_CUSTOM };

static const char *const builtins[] = {"start", "stop", "restart", "reload",
                                       "status"};

struct act;

struct act_watch {           /* one run the action waits for */
	struct run_watcher w;
	struct act *x;
	char jid[JID_LEN + 1];
};

/* An action waiting for runs: to start, to end (stop), to finish. */
struct act {
	struct call *c;
	int kind;
	int custom;              /* the job's [action NAME] command */
	char job[NAME_MAX_LEN + 1];
	char action[NAME_MAX_LEN + 1];
	uint32_t uid;
	int yes;
	char stopped[512];       /* stop's "jid X: TERM, ..." */
	int left;                /* runs still to end */
	int n;
	struct act_watch ws[];
};

/* ---- results ---- */

static json_t *result_new(struct call *c, const char *job, const char *action,
                          int ok, int code, const char *jid,
                          const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static json_t *result_new(struct call *c, const char *job, const char *action,
                          int ok, int code, const char *jid,
                          const char *fmt, ...)
{
	const char *worker = engine_config(c->e)->name;
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	json_t *r = json_pack("{s:s, s:s, s:s, s:b, s:i, s:s}", "worker",
	                      worker ? worker : "", "job", job, "action", action,
	                      "ok", ok, "code", code, "message", msg);
	if (r && jid && *jid)
		json_object_set_new(r, "jid", json_string(jid));
	return r;
}

static void reply_result(struct call *c, json_t *r)
{
	if (!r)
		return call_fail(c, -ENOMEM, "out of memory");
	call_reply(c, json_pack("{s:b, s:[o]}", "ok",
	                        json_is_true(json_object_get(r, "ok")),
	                        "results", r));
}

/* The last non-empty line of a run's stderr (else stdout), trimmed. */
static void last_line(const struct arun *a, char *out, size_t n)
{
	const struct outbuf *b = a->err.len ? &a->err : &a->out;
	size_t end = b->len, start;

	out[0] = '\0';
	while (end && isspace((unsigned char)b->buf[end - 1]))
		end--;
	for (start = end; start && b->buf[start - 1] != '\n'; start--)
		;
	if (end > start)
		snprintf(out, n, "%.*s", (int)(end - start), b->buf + start);
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';        /* JSON needs UTF-8: keep it plain */
}

/* A run's exit as jobctl reports it: its code, 128+N for signal N. */
static int run_code(const struct arun *a)
{
	int sig = a->r.sig[0] ? signal_parse(a->r.sig) : 0;
	if (a->r.return_code >= 0)
		return a->r.return_code;
	return sig > 0 ? 128 + sig : 1;
}

/* "exit 2: LAST LINE" / "killed by SIGKILL" / "exit 0" */
static void run_outcome(const struct arun *a, char *out, size_t n)
{
	char line[300];
	last_line(a, line, sizeof line);
	if (a->r.return_code < 0 && a->r.sig[0])
		snprintf(out, n, "killed by %s%s%s", a->r.sig, *line ? ": " : "",
		         line);
	else
		snprintf(out, n, "exit %d%s%s", run_code(a),
		         *line && a->r.result != RESULT_OK ? ": " : "",
		         a->r.result != RESULT_OK ? line : "");
}

/* ---- the action in progress ---- */

static void act_free(struct act *x)
{
	for (int i = 0; i < x->n; i++)
		run_unwatch(&x->ws[i].w);
	free(x);
}

static void act_cancel(struct call *c)
{
	struct act *x = c->op_state;
	c->op_state = NULL;
	if (x)
		act_free(x);
}

static struct act *act_new(struct call *c, int kind, const char *job,
                           const char *action, int n)
{
	struct act *x = calloc(1, sizeof *x + (size_t)n * sizeof x->ws[0]);
	if (!x) {
		call_fail(c, -ENOMEM, "out of memory");
		return NULL;
	}
	x->c = c;
	x->kind = kind;
	snprintf(x->job, sizeof x->job, "%s", job);
	snprintf(x->action, sizeof x->action, "%s", action);
	x->uid = c->uid;
	x->n = n;
	for (int i = 0; i < n; i++)
		x->ws[i].x = x;
	c->op_state = x;
	c->cancel = act_cancel;
	return x;
}

/* The call replies with r; the action's state goes. */
static void act_done(struct act *x, json_t *r)
{
	struct call *c = x->c;
	c->cancel = NULL;
	c->op_state = NULL;
	act_free(x);
	reply_result(c, r);
}

/* ---- start ---- */

static void start_started(struct run_watcher *w, const struct arun *a)
{
	struct act_watch *aw = link_entry(w, struct act_watch, w);
	struct act *x = aw->x;
	run_unwatch(w);
	if (x->kind == ACT_RESTART)
		return act_done(x, result_new(x->c, x->job, x->action, 1, 0,
		                a->r.jid, "restarted (jid %s, pid %d; %s)", a->r.jid,
		                a->r.pid, x->stopped[0] ? x->stopped :
		                "it was not running"));
	act_done(x, result_new(x->c, x->job, x->action, 1, 0, a->r.jid,
	         "started (jid %s, pid %d)", a->r.jid, a->r.pid));
}

static void start_ended(struct run_watcher *w, const struct arun *a, int err,
                        const char *msg)
{
	struct act_watch *aw = link_entry(w, struct act_watch, w);
	struct act *x = aw->x;
	char how[400];
	if (err)
		return act_done(x, result_new(x->c, x->job, x->action, 0, 1,
		                a->r.jid, "%s", msg));
	run_outcome(a, how, sizeof how);
	act_done(x, result_new(x->c, x->job, x->action, 0, run_code(a) ?
	         run_code(a) : 1, a->r.jid, "did not start (jid %s): %s",
	         a->r.jid, how));
}

static const struct run_watcher_cbs start_cbs = {
	.started = start_started,
	.ended = start_ended,
};

/* Starts the service and replies once its run runs.  x: restart's state
 * (its stop is over), else NULL: made here. */
static void do_start(struct call *c, struct job *j, struct act *x, int kind,
                     const char *action, int yes)
{
	struct arun *a;
	char err[512];
	json_t *r;
	int rc = engine_service_start(c->e, j, c->uid, yes, &a, err, sizeof err);

	if (rc < 0 && rc != -ECANCELED && rc != -ENOMEM)
		r = result_new(c, j->name, action, 0, 1, NULL, "%s", err);
	else if (rc == 1)
		r = result_new(c, j->name, action, 1, 0, a->r.jid,
		               "already running (jid %s)", a->r.jid);
	else if (rc < 0) {
		if (x) {
			c->cancel = NULL;
			c->op_state = NULL;
			act_free(x);
		}
		return call_fail(c, rc, "%s", err);
	} else {
		if (!x && !(x = act_new(c, kind, j->name, action, 1)))
			return;
		x->ws[0].w.cbs = &start_cbs;
		memcpy(x->ws[0].jid, a->r.jid, sizeof x->ws[0].jid);
		run_watch(a, &x->ws[0].w);
		return;
	}
	if (x)
		return act_done(x, r);
	reply_result(c, r);
}

/* ---- stop (and restart's first half) ---- */

/* One run of a stop has ended (or the setup's hold is released, jid
 * NULL): the last one replies, or starts restart's second half. */
static void stop_step(struct act *x, const char *jid)
{
	if (--x->left > 0)
		return;
	if (x->kind == ACT_STOP)
		return act_done(x, result_new(x->c, x->job, x->action, 1, 0, jid,
		                "stopped (%s)", x->stopped));
	struct job *j = engine_job_find(x->c->e, x->job);
	if (!j)
		return act_done(x, result_new(x->c, x->job, x->action, 0, 1, NULL,
		                "stopped (%s); job deleted meanwhile", x->stopped));
	for (int i = 0; i < x->n; i++)
		run_unwatch(&x->ws[i].w);
	x->n = 1;                /* the new run's watcher is ws[0] */
	do_start(x->c, j, x, x->kind, x->action, x->yes);
}

static void stop_ended(struct run_watcher *w, const struct arun *a, int err,
                       const char *msg)
{
	struct act_watch *aw = link_entry(w, struct act_watch, w);
	struct act *x = aw->x;
	size_t n = strlen(x->stopped);
	const char *sig = a->r.sig;

	(void)err;
	(void)msg;
	if (strncmp(sig, "SIG", 3) == 0)
		sig += 3;
	if (*sig)
		snprintf(x->stopped + n, sizeof x->stopped - n, "%sjid %s: %s",
		         n ? ", " : "", a->r.jid, sig);
	else
		snprintf(x->stopped + n, sizeof x->stopped - n, "%sjid %s: exit "
		         "%d", n ? ", " : "", a->r.jid, a->r.return_code);
	stop_step(x, aw->jid);
}

static const struct run_watcher_cbs stop_cbs = {
	.ended = stop_ended,
};

static void do_stop(struct call *c, struct job *j, int kind,
                    const char *action, int yes)
{
	struct arun *a = NULL;
	int n = 0;

	engine_service_end(c->e, j->name);
	while ((a = engine_job_run_next(c->e, j->name, a)))
		n++;
	if (n == 0 && kind == ACT_STOP)
		return reply_result(c, result_new(c, j->name, action, 1, 0, NULL,
		                    "not running"));
	if (n == 0)
		return do_start(c, j, NULL, kind, action, yes);
	struct act *x = act_new(c, kind, j->name, action, n);
	if (!x)
		return;
	x->yes = yes;
	x->left = n + 1;         /* + the setup's hold: x lives through it */
	int i = 0;
	for (a = NULL; i < n && (a = engine_job_run_next(c->e, j->name, a)); i++) {
		x->ws[i].w.cbs = &stop_cbs;
		memcpy(x->ws[i].jid, a->r.jid, sizeof x->ws[i].jid);
		run_watch(a, &x->ws[i].w);
	}
	for (i = 0; i < n; i++) {
		struct arun *r = run_find(c->e, x->ws[i].jid);
		if (r)
			run_stop(c->e, r);
	}
	stop_step(x, x->ws[n - 1].jid);
}

/* ---- reload, status ---- */

static void do_reload(struct call *c, struct job *j, const char *action)
{
	char jids[512] = "";
	const char *first = NULL;
	size_t len = 0;
	for (struct arun *a = NULL; (a = engine_job_run_next(c->e, j->name, a));) {
		if (run_signal(c->e, a, SIGHUP) < 0)
			continue;
		first = first ? first : a->r.jid;
		len += (size_t)snprintf(jids + len, len < sizeof jids ?
		                        sizeof jids - len : 0, "%sjid %s", len ?
		                        ", " : "", a->r.jid);
		if (len >= sizeof jids)
			len = sizeof jids - 1;
	}
	if (!first)
		return reply_result(c, result_new(c, j->name, action, 0, 1, NULL,
		                    "not running"));
	reply_result(c, result_new(c, j->name, action, 1, 0, first,
	                           "reloaded (%s: HUP)", jids));
}

static void do_status(struct call *c, struct job *j, const char *action)
{
	struct arun *a = engine_job_run_next(c->e, j->name, NULL);
	json_t *r;
	if (a)
		r = result_new(c, j->name, action, 1, 0, a->r.jid,
		               "running (jid %s, pid %d)", a->r.jid, a->r.pid);
	else
		r = result_new(c, j->name, action, 0, EXIT_NOT_RUNNING, NULL,
		               "not running%s", engine_service_restarting(c->e,
		               j->name) ? " (supervised: starting again soon)" :
		               "");
	if (r)
		json_object_set_new(r, "running", json_boolean(a != NULL));
	reply_result(c, r);
}

/* ---- the job's own [action NAME] ---- */

static void custom_ended(struct run_watcher *w, const struct arun *a,
                         int err, const char *msg)
{
	struct act_watch *aw = link_entry(w, struct act_watch, w);
	struct act *x = aw->x;
	char how[400];
	json_t *r;
	int ok = !err && a->r.result == RESULT_OK;

	if (err)
		r = result_new(x->c, x->job, x->action, 0, 1, a->r.jid, "%s", msg);
	else if (ok)
		r = result_new(x->c, x->job, x->action, 1, 0, a->r.jid, "%s (jid %s, "
		               "exit 0)", x->kind == ACT_STATUS ? "running" : "done",
		               a->r.jid);
	else {
		run_outcome(a, how, sizeof how);
		r = result_new(x->c, x->job, x->action, 0, run_code(a) ? run_code(a)
		               : 1, a->r.jid, "%s", how);
	}
	if (r && x->kind == ACT_STATUS)
		json_object_set_new(r, "running", json_boolean(ok));
	act_done(x, r);
}

static const struct run_watcher_cbs custom_cbs = {
	.ended = custom_ended,
};

static void do_custom(struct call *c, struct job *j, int kind,
                      const char *action, int yes)
{
	/* status is a read: a job marked confirm answers it without yes */
	struct run_req rq = {.job = j, .action = action, .trigger = TRIG_MANUAL,
	                     .priority = j->priority, .uid = c->uid,
	                     .confirmed = yes || kind == ACT_STATUS};
	struct arun *a;
	char err[512];
	int rc = run_enqueue(c->e, &rq, &a, err, sizeof err);

	if (rc == -ECANCELED || rc == -ENOMEM)
		return call_fail(c, rc, "%s", err);
	if (rc < 0)
		return reply_result(c, result_new(c, j->name, action, 0, 1, NULL,
		                    "%s", err));
	struct act *x = act_new(c, kind, j->name, action, 1);
	if (!x)
		return;
	x->custom = 1;
	x->ws[0].w.cbs = &custom_cbs;
	memcpy(x->ws[0].jid, a->r.jid, sizeof x->ws[0].jid);
	run_watch(a, &x->ws[0].w);
	queue_pump(c->e, a->target);     /* may end it: x then replied */
}

/* ---- the op ---- */

static int check_fields(struct call *c, json_t *data)
{
	static const char *const known[] = {"name", "action", "yes",
	                                    "allocations", "health_check"};
	const char *k;
	json_t *v;
	json_object_foreach(data, k, v) {
		size_t i = 0;
		while (i < sizeof known / sizeof *known && strcmp(known[i], k))
			i++;
		if (i == sizeof known / sizeof *known && !strcmp(k, "names")) {
			call_fail(c, -EINVAL, "names: several jobs at once need a "
			          "cluster master (docs/cluster.md); here, one NAME a "
			          "command");
			return -1;
		}
		if (i == sizeof known / sizeof *known) {
			call_fail(c, -EINVAL, "unknown field '%s' (job-action takes "
			          "name, action, yes, health_check)", k);
			return -1;
		}
	}
	v = json_object_get(data, "yes");
	if (v && !json_is_boolean(v)) {
		call_fail(c, -EINVAL, "yes: must be true or false");
		return -1;
	}
	if (json_object_get(data, "allocations")) {
		call_fail(c, -EINVAL, "allocations: this jobd is no cluster master "
		          "(role = worker): the action runs here; --allocations "
		          "names a master's workers (docs/cluster.md)");
		return -1;
	}
	return 0;
}

/* The built-in's kind, action lowered to its name; else ACT_CUSTOM. */
static int action_kind(char *action)
{
	for (int i = 0; i < (int)(sizeof builtins / sizeof *builtins); i++)
		if (strcasecmp(action, builtins[i]) == 0) {
			strcpy(action, builtins[i]);
			return i;        /* enum act_kind's order */
		}
	return ACT_CUSTOM;
}

void op_job_action(struct call *c, json_t *data)
{
	const char *name, *act;
	char action[NAME_MAX_LEN + 1];
	struct job *j;

	if (ops_health_after(c, data, op_job_action))
		return;          /* the action, then its checks (ops_health.c) */
	if (check_fields(c, data) < 0 || need_str(c, data, "name", &name) < 0 ||
	    need_str(c, data, "action", &act) < 0)
		return;
	if (!action_name_valid(act))
		return call_fail(c, -EINVAL, "action: invalid name '%.64s' (want "
		                 "[A-Za-z0-9][A-Za-z0-9_.-]*, 64 characters at "
		                 "most)", act);
	snprintf(action, sizeof action, "%s", act);
	int kind = action_kind(action), yes = opt_bool(data, "yes", 0);
	j = engine_job_find(c->e, name);
	if ((j && !may_job(c, j)) || ops_tasks_action(c, data, name, action))
		return;          /* a service, a task's checks (ops_tasks.c) */
	if (!j)
		return call_fail(c, -ENOENT, "job '%s' not found", name);
	if (j->confirm && !yes && kind != ACT_STATUS)
		return call_fail(c, -ECANCELED, "%s aborted: job '%s' needs "
		                 "confirmation (answer yes, or pass --yes)",
		                 action, j->name);
	if (job_action_find(j, action))
		return do_custom(c, j, kind, action, yes);
	switch (kind) {
	case ACT_START:
		return do_start(c, j, NULL, kind, action, yes);
	case ACT_STOP:
	case ACT_RESTART:
		return do_stop(c, j, kind, action, yes);
	case ACT_RELOAD:
		return do_reload(c, j, action);
	case ACT_STATUS:
		return do_status(c, j, action);
	}
	call_fail(c, -EINVAL, "job '%s' has no action '%s' (the built-in "
	          "actions are start, stop, restart, reload and status)",
	          j->name, action);
}
