/* ops_queue.c — run-manual and send-signal, the original queue daemon's
 * requests that name rows by their integer id.  Their replies and error
 * texts are the original's ("job N not found", "status = done != manual").
 *
 * run-manual waits for several runs with one call: each claimed run gets an
 * internal sub-call among its watchers (as `wait` does), whose respond
 * callback adds the run's result to the parent's reply; the parent replies
 * when the last sub-call has.  When the parent's connection goes away,
 * call_abandon runs manual_cancel, which unhooks and frees the sub-calls;
 * the runs themselves go on and record their results in the store. */
#include "faces/ops_queue.h"

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jid.h"
#include "core/timefmt.h"
#include "engine/engine_api.h"
#include "engine/log.h"
#include "engine/proc.h"
#include "engine/storeq.h"
#include "faces/ops.h"

struct manual {
	struct call *parent;
	json_t *jobs, *errors;   /* the reply's two members */
	int left;                /* sub-calls still watching, claims in flight,
	                            +1 while setting up */
	int claims;              /* claims in flight (they hold m) */
	struct link inflight;    /* struct mclaim.link: ids being claimed */
	int cancelled;           /* the parent went away during claims */
	struct link subs;        /* struct sub.link */
};

/* One row: read on the read thread, then claimed on the store thread. */
struct mclaim {
	struct storeq_op op;     /* the read */
	struct link link;        /* manual.inflight */
	struct manual *m;
	struct engine *e;
	int64_t id;
	struct run row;
	int now_status;          /* a lost claim: the row's status now */
};

struct sub {
	struct call c;           /* watches one run; c.op_state = its manual */
	int64_t id;
	struct link link;
};

static void id_key(char *buf, size_t n, int64_t id)
{
	snprintf(buf, n, "%" PRId64, id);
}

static void manual_error(struct manual *m, int64_t id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void manual_error(struct manual *m, int64_t id, const char *fmt, ...)
{
	char key[32], msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	id_key(key, sizeof key, id);
	json_object_set_new(m->errors, key, json_string(msg));
}

static void manual_free_subs(struct manual *m)
{
	for (struct link *l; (l = link_pop(&m->subs));) {
		struct sub *s = link_entry(l, struct sub, link);
		call_abandon(&s->c);
		free(s);
	}
}

static void manual_free(struct manual *m)
{
	manual_free_subs(m);
	json_decref(m->jobs);
	json_decref(m->errors);
	free(m);
}

/* The parent's connection closed before the runs finished. */
static void manual_cancel(struct call *parent)
{
	struct manual *m = parent->op_state;
	parent->op_state = NULL;
	if (m && m->claims) {    /* the last claim's done frees it */
		m->cancelled = 1;
		manual_free_subs(m);
	} else if (m) {
		manual_free(m);
	}
}

static void manual_done_maybe(struct manual *m)
{
	if (--m->left > 0)
		return;
	struct call *p = m->parent;
	json_t *reply = json_object();
	p->cancel = NULL;
	p->op_state = NULL;
	/* the PHP client reads absent members as empty: omit empty ones */
	if (json_object_size(m->jobs))
		json_object_set(reply, "jobs", m->jobs);
	if (json_object_size(m->errors))
		json_object_set(reply, "errors", m->errors);
	manual_free(m);
	call_reply(p, reply);
}

/* A sub-call's one response: the finished run (calls_finished). */
static void sub_respond(struct call *c, json_t *data, int err, const char *msg)
{
	struct sub *s = (struct sub *)c;
	struct manual *m = c->op_state;
	json_t *run = json_object_get(data, "run");
	const char *status = json_string_value(json_object_get(run, "status"));
	char key[32];

	id_key(key, sizeof key, s->id);
	if (err)
		manual_error(m, s->id, "%s", msg);
	else if (!status || strcmp(status, "done") != 0)
		manual_error(m, s->id, "job %" PRId64 " was not run (status = %s)",
		             s->id, status ? status : "?");
	else
		json_object_set_new(m->jobs, key, json_pack(
			"{s:O, s:O, s:O, s:O, s:O}",
			"result", json_object_get(run, "result"),
			"code", json_object_get(run, "return_code"),
			"signal", json_object_get(run, "sig"),
			"stdout", json_object_get(run, "stdout"),
			"stderr", json_object_get(run, "stderr")));
	json_decref(data);
	link_remove(&s->link);
	free(s);
	manual_done_maybe(m);
}

static int seen(struct manual *m, int64_t id)
{
	char key[32];
	id_key(key, sizeof key, id);
	if (json_object_get(m->jobs, key) || json_object_get(m->errors, key))
		return 1;
	for (struct link *l = m->subs.next; l != &m->subs; l = l->next)
		if (link_entry(l, struct sub, link)->id == id)
			return 1;
	for (struct link *l = m->inflight.next; l != &m->inflight; l = l->next)
		if (link_entry(l, struct mclaim, link)->id == id)
			return 1;
	return 0;
}

/* Watches a claimed run for the reply. */
static void manual_watch(struct manual *m, struct engine *e, int64_t id,
                         struct arun *a)
{
	struct sub *s = calloc(1, sizeof *s);
	if (!s)
		return manual_error(m, id, "out of memory");
	s->id = id;
	s->c.e = e;
	s->c.no = m->parent->no;
	s->c.uid = m->parent->uid;
	s->c.admin = m->parent->admin;
	s->c.respond = sub_respond;
	s->c.op_state = m;
	link_insert_before(&m->subs, &s->link);
	m->left++;
	call_watch(&s->c, a);
}

/* An id is through: 1 if its run-manual goes on, 0 if the caller went
 * away (m is then freed with its last id). */
static int mclaim_end(struct mclaim *mc)
{
	struct manual *m = mc->m;
	link_remove(&mc->link);
	run_clear(&mc->row);
	free(mc);
	m->claims--;
	if (!m->cancelled)
		return 1;
	if (m->claims == 0)
		manual_free(m);
	return 0;
}

/* The claim is committed (or not): the row runs here, watched. */
static void manual_claimed(void *arg, int rc, const char *err)
{
	struct mclaim *mc = arg;
	struct manual *m = mc->m;
	struct engine *e = mc->e;
	int64_t id = mc->id;
	int now_status = mc->now_status;
	struct arun *a = NULL;

	if (rc == 0) {
		mc->row.status = RUN_ACCEPTED;
		free(mc->row.worker);
		mc->row.worker = engine_config(e)->name ?
		                 strdup(engine_config(e)->name) : NULL;
		/* ours now: it runs even if the caller went away (were it not
		 * in memory, recovery would requeue the accepted row) */
		if ((a = run_adopt_row(e, &mc->row)))
			log_info("run-manual: job %" PRId64 " claimed as run %s", id,
			         a->r.jid);
	}
	if (!mclaim_end(mc)) {
		queue_pump_all(e);
		return;
	}
	if (a) {
		manual_watch(m, e, id, a);
	} else if (rc == -ENOENT) {
		manual_error(m, id, "job %" PRId64 " not found", id);
	} else if (rc == -EBUSY && now_status >= 0) {
		/* someone else ran it since we read it */
		manual_error(m, id, "status = %s != manual",
		             run_status_name(now_status));
	} else {
		manual_error(m, id, "cannot claim job %" PRId64 ": %s", id,
		             rc == 0 ? "out of memory" : err);
	}
	queue_pump_all(e);
	manual_done_maybe(m);
}

/* An id that fails its checks before any claim: its error, and it is
 * through. */
static void manual_skip(struct mclaim *mc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void manual_skip(struct mclaim *mc, const char *fmt, ...)
{
	struct manual *m = mc->m;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	manual_error(m, mc->id, "%s", msg);
	if (mclaim_end(mc))
		manual_done_maybe(m);
}

static int manual_read_work(struct store *s, struct storeq_op *op, int replay)
{
	struct mclaim *mc = (struct mclaim *)op;
	(void)replay;
	return store_run_get_id(s, mc->id, 0, &mc->row);
}

/* The row is read: checked, then claimed (manual -> accepted) on the
 * store thread; once that is committed the run is queued and watched
 * (manual_claimed). */
static void manual_read(struct storeq_op *op, int rc, const char *err)
{
	struct mclaim *mc = (struct mclaim *)op;
	struct engine *e = mc->e;
	struct run *row = &mc->row;
	int64_t id = mc->id;

	if (mc->m->cancelled)
		return manual_skip(mc, "cancelled");
	if (rc == -ENOENT)
		return manual_skip(mc, "job %" PRId64 " not found", id);
	if (rc < 0)
		return manual_skip(mc, "cannot read job %" PRId64 ": %s", id, err);
	if (row->status != RUN_MANUAL)
		return manual_skip(mc, "status = %s != manual",
		                   run_status_name(row->status));
	if (!row->target || !queue_target(e, row->target))
		return manual_skip(mc, "target '%s' not found (job id=%" PRId64
		                   ")", row->target ? row->target : "", id);
	if (!row->jid[0])
		engine_jid_next(e, row->jid);
	persist_claim(e, NULL, id, RUN_MANUAL, row->jid, &mc->now_status,
	              manual_claimed, mc);
}

static void manual_one(struct manual *m, struct engine *e, int64_t id)
{
	struct arun *a;

	if (seen(m, id))
		return;
	if ((a = run_find_id(e, id)))     /* queued or running here already */
		return manual_error(m, id, "status = %s != manual",
		                    run_status_name(a->r.status));
	struct mclaim *mc = calloc(1, sizeof *mc);
	if (!mc)
		return manual_error(m, id, "out of memory");
	mc->m = m;
	mc->e = e;
	mc->id = id;
	mc->now_status = -1;
	m->claims++;
	m->left++;
	link_insert_before(&m->inflight, &mc->link);
	engine_read(e, &mc->op, manual_read_work, manual_read);
}

/* An id as the PHP client sends it: an integer (or a string of digits). */
static int64_t id_of(json_t *v)
{
	if (json_is_integer(v))
		return json_integer_value(v) > 0 ? json_integer_value(v) : -1;
	const char *s = json_string_value(v);
	char *end;
	if (!s || !*s)
		return -1;
	long long n = strtoll(s, &end, 10);
	return *end || n <= 0 ? -1 : n;
}

void op_run_manual(struct call *c, json_t *data)
{
	json_t *ids = json_object_get(data, "ids");
	size_t i;
	json_t *v;

	if (!c->admin)
		return call_fail(c, -EPERM, "permission denied");
	/* the original sent an empty list to MySQL as "IN()": an SQL error */
	if (!json_is_array(ids) || json_array_size(ids) == 0)
		return call_fail(c, -EINVAL, "ids must be a non-empty array of "
		                 "job ids");
	json_array_foreach(ids, i, v)
		if (id_of(v) < 0)
			return call_fail(c, -EINVAL, "ids: invalid job id at index "
			                 "%zu", i);
	struct manual *m = calloc(1, sizeof *m);
	if (!m)
		return call_fail(c, -ENOMEM, "out of memory");
	m->parent = c;
	m->jobs = json_object();
	m->errors = json_object();
	m->left = 1;                     /* held until every id is set up */
	link_init(&m->subs);
	link_init(&m->inflight);
	c->op_state = m;
	c->cancel = manual_cancel;
	json_array_foreach(ids, i, v)
		manual_one(m, c->e, id_of(v));
	/* starting may finish runs at once (a spawn that fails): the hold
	 * above keeps m alive through it */
	queue_pump_all(c->e);
	manual_done_maybe(m);
}

void op_send_signal(struct call *c, json_t *data)
{
	json_t *jobs = json_object_get(data, "jobs");
	const char *key;
	json_t *v;

	if (!c->admin)
		return call_fail(c, -EPERM, "permission denied");
	if (!json_is_object(jobs))
		return call_fail(c, -EINVAL, "jobs must be object");
	/* all checked before any is sent */
	json_object_foreach(jobs, key, v) {
		char *end;
		long long id = strtoll(key, &end, 10);
		int sig = json_is_integer(v) ? (int)json_integer_value(v)
		        : json_is_string(v) ? signal_parse(json_string_value(v)) : -1;
		if (!*key || *end || id <= 0)
			return call_fail(c, -EINVAL, "invalid job id '%s'", key);
		if (sig < 1 || sig > 64)
			return call_fail(c, -EINVAL, "job %s: invalid signal", key);
	}
	json_t *out = json_object();
	json_object_foreach(jobs, key, v) {
		int sig = json_is_integer(v) ? (int)json_integer_value(v)
		        : signal_parse(json_string_value(v));
		struct arun *a = run_find_id(c->e, strtoll(key, NULL, 10));
		int sent = a && run_signal(c->e, a, sig) == 0;
		if (sent)
			log_info("run %s: signal %d sent to process group %d "
			         "(send-signal)", a->r.jid, sig, a->r.pid);
		json_object_set_new(out, key, json_boolean(sent));
	}
	call_reply(c, out);
}

/* ---- the wire's status and roles ---- */

void queue_status_fields(struct engine *e, json_t *o, json_int_t rss)
{
	/* the original's process.memoryUsage(), read from malloc: its heap
	 * is malloc's arena, `external` what malloc keeps outside it (mmap'd
	 * blocks: large buffers such as run output) */
	struct mallinfo2 mi = mallinfo2();
	int promises = 0;
	for (struct arun *a = NULL; (a = engine_run_next(e, a));) {
		int st = a->r.status;
		promises += st == RUN_ACCEPTED || st == RUN_RUNNING;
	}
	json_object_set_new(o, "jobPromisesCount", json_integer(promises));
	json_object_set_new(o, "memoryUsage", json_pack("{s:I, s:I, s:I, s:I}",
	                    "rss", rss,
	                    "heapTotal", (json_int_t)mi.arena,
	                    "heapUsed", (json_int_t)mi.uordblks,
	                    "external", (json_int_t)mi.hblkhd));
}

/* The master's requests, asked of a jobd that is none (role = master
 * takes them in faces/master.c, before these run). */
void op_poke(struct call *c, json_t *data)
{
	(void)data;
	call_fail(c, -EINVAL, "poke: this jobd is not a master (role = "
	          "worker); a worker takes poll");
}

void op_register_worker(struct call *c, json_t *data)
{
	(void)data;
	call_fail(c, -EINVAL, "register-worker: this jobd is not a master "
	          "(role = worker)%s", c->role == ROLE_LOCAL ? ", and a worker "
	          "registers over TCP" : "");
}

/* What a TCP peer may ask.  None of these makes jobd run a command that
 * the peer chose: poll and run-manual run the rows of the table with the
 * configured launcher (or the row's own stored run), as the original
 * worker did; a peer never creates, changes or starts a job
 * (docs/security.md). */
static const char *const wire_rows_ops[] = {
	"poke", "poll", "register-worker", "run-manual", "status", NULL,
};
static const char *const wire_queue_ops[] = {
	"add-target", "continue", "pause", "poke", "poll", "register-worker",
	"remove-target",
	"run-manual", "send-signal", "set-target-concurrency", "status", NULL,
};
static const char *const wire_password_ops[] = {
	/* the worker protocol, and the master's */
	"add-target", "continue", "pause", "poke", "poll", "register-worker",
	"remove-target",
	"run-manual", "send-signal", "set-target-concurrency", "status",
	/* jobd's reads, and control of runs that exist */
	"active", "cancel", "health", "list", "logs", "lookup", "metrics",
	"next", "runs", "show",
	"signal", "targets", "wait", "workers", NULL,
};

/* HTTP without the token (loopback, always_allow_localhost): what any
 * local user may see anyway in `ps` and the job files' names: no
 * commands, environments or output (docs/security.md "HTTP"). */
static const char *const http_read_ops[] = {
	"list", "metrics", "next", "status", "targets", "workers", NULL,
};

/* 9P from loopback without the token: loopback proves only that the
 * peer is some local user, so it never makes jobd run a command of its
 * choosing (create, set-job, delete, submit), and it sees what HTTP's
 * loopback reader sees: no commands, environments or output (those are
 * the runs' users' own: docs/security.md).  It starts, stops or runs the
 * jobs that exist, as they are defined, and pauses targets. */
static const char *const ninep_read_ops[] = {
	"continue", "disable", "enable", "job-action", "list", "next",
	"pause", "run",
	"set-target-concurrency", "status", "targets", "workers", NULL,
};

/* The master's requests to a worker (uplink.c): the worker protocol,
 * and the lifecycle actions, health checks and definitions sync of the
 * jobs the worker's own store defines: the master names a job and an
 * action, never a command (docs/security.md "Cluster"). */
static const char *const master_link_ops[] = {
	"add-target", "continue", "health", "job-action", "pause", "poke",
	"poll", "remove-target", "run-manual", "send-signal",
	"set-target-concurrency", "status", "sync", NULL,
};

static const struct role_rule {
	const char *const *ops;
	const char *refusal;     /* after "permission denied: '%s' " */
} role_rules[] = {
	[ROLE_WIRE_ROWS] = {wire_rows_ops, "needs the password (without it a "
		"loopback client of a root jobd may only poll, run-manual and "
		"status)"},
	[ROLE_WIRE_QUEUE] = {wire_queue_ops, "needs the password (without it "
		"the TCP port serves the worker protocol only)"},
	[ROLE_WIRE_PASSWORD] = {wire_password_ops, "is not served on the TCP "
		"port (it would start or change commands); use jobctl on the "
		"Unix socket"},
	[ROLE_HTTP_READ] = {http_read_ops, "needs the token (without it a "
		"loopback client may only read the overview: status, jobs, "
		"targets, workers, schedules)"},
	[ROLE_NINEP_READ] = {ninep_read_ops, "needs ninep_token as the attach "
		"name (mount -o aname=TOKEN) or the 9P Unix socket (without them "
		"a loopback client may list, start, stop and run existing "
		"jobs)"},
	[ROLE_MASTER_LINK] = {master_link_ops, "is not served to a master "
		"(it asks for the worker protocol and lifecycle actions only)"},
};

int ops_role_allows(struct call *c, const char *op)
{
	const struct role_rule *r = c->role > ROLE_LOCAL &&
		(size_t)c->role < sizeof role_rules / sizeof *role_rules ?
		&role_rules[c->role] : NULL;
	if (c->role == ROLE_LOCAL)
		return 0;
	for (const char *const *o = r && r->ops ? r->ops : NULL; o && *o; o++)
		if (strcmp(*o, op) == 0)
			return 0;
	if (r && r->refusal)
		call_fail(c, -EPERM, "permission denied: '%s' %s", op, r->refusal);
	else
		call_fail(c, -EPERM, "permission denied");
	return -EPERM;
}
