/* master.c — the cluster master (reference/queue-wire.md, "Master
 * requests"; docs/cluster.md).  A worker connects to the master's wire
 * port and sends register-worker {name, targets, labels}; the master then
 * sends its requests back over that same connection (server_io.c hands
 * the worker's responses here).  The master's own requests arrive through
 * the ops table like any other: this file is the route hook that takes
 * poke, status, run-manual, send-signal, pause, continue and workers and
 * answers them from the workers, merged.  The role check of ops_dispatch
 * has run before: routing never widens what a caller may ask, and a
 * worker's answers are only ever relayed, never executed.
 *
 * Liveness: every ping_interval each worker gets a ping; one silent for
 * three intervals is marked lost and its connection closed (its requests
 * in flight fail, naming it).  A lost worker stays listed until it
 * registers again (by name). */
#include "faces/master.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/list.h"
#include "core/timefmt.h"
#include "engine/log.h"
#include "faces/fleet.h"
#include "faces/master_int.h"
#include "faces/ops.h"
#include "faces/server_conn.h"

struct mworker {
	struct link link;        /* m.workers */
	struct conn *cn;         /* NULL once lost */
	char *name;
	json_t *targets;         /* [str] */
	json_t *labels;          /* [str] */
	char peer[64];
	int64_t since, last_seen;
	json_t *status;          /* its last answer to status (each ping) */
	int64_t update_seq;      /* of the definitions it applied */
	struct link reqs;        /* struct mreq.link: sent, not answered */
	int64_t next_no;
};

/* One caller's call waiting for the answers of several workers. */
enum fan_kind { FAN_OK, FAN_STATUS, FAN_MANUAL, FAN_SIGNAL };
struct fan {
	struct call *c;          /* NULL once the caller went away */
	enum fan_kind kind;
	int left;                /* requests not answered yet */
	json_t *acc;             /* what the answers merge into */
	char *failed;            /* FAN_OK: the first worker's error */
};

/* One request sent to a worker. */
struct mreq {
	struct link link;        /* its worker's reqs */
	struct mworker *w;
	int64_t no;
	struct fan *fan;         /* NULL: nobody waits (poll) */
	json_t *ids;             /* run-manual: the ids sent, for errors */
	json_t *entry;           /* status: the worker's entry */
	int keep_status;         /* the master's own status poll */
	master_reply_fn cb;      /* master_ask's, or NULL */
	void *cb_arg;
};

static struct master {
	struct engine *e;
	struct link workers;
	uv_timer_t ping, poke;
	int on;
	json_t *poked;           /* targets poked, not yet polled: {t: 1} */
	uint64_t last_poke;      /* uv_now of the last polls sent */
	size_t rr;               /* round robin among a target's workers */
} m;

static json_t *time_json(int64_t us)
{
	char buf[40];
	time_format_utc(buf, sizeof buf, us);
	return json_string(buf);
}

static int64_t ms_of(int64_t us)
{
	return us / 1000 > 0 ? us / 1000 : 1;
}

static int serves(const struct mworker *w, const char *target)
{
	size_t i;
	json_t *t;
	json_array_foreach(w->targets, i, t)
		if (strcmp(json_string_value(t), target) == 0)
			return 1;
	return 0;
}

static struct mworker *worker_named(const char *name)
{
	for (struct link *l = m.workers.next; l != &m.workers; l = l->next) {
		struct mworker *w = link_entry(l, struct mworker, link);
		if (strcmp(w->name, name) == 0)
			return w;
	}
	return NULL;
}

/* ---- fans: one caller, many workers ---- */

static struct fan *fan_new(struct call *c, enum fan_kind kind, json_t *acc);

static void fan_cancel(struct call *c)
{
	struct fan *f = c->op_state;
	f->c = NULL;
}

static void fan_free(struct fan *f)
{
	json_decref(f->acc);
	free(f->failed);
	free(f);
}

/* The last answer came: the caller gets the merge. */
static void fan_end(struct fan *f)
{
	struct call *c = f->c;
	if (c) {
		c->cancel = NULL;
		if (f->failed)
			call_fail(c, -EIO, "%s", f->failed);
		else if (f->kind == FAN_OK)
			call_reply(c, NULL);
		else
			call_reply(c, json_incref(f->acc));
	}
	fan_free(f);
}

static struct fan *fan_new(struct call *c, enum fan_kind kind, json_t *acc)
{
	struct fan *f = calloc(1, sizeof *f);
	if (!f) {
		json_decref(acc);
		call_fail(c, -ENOMEM, "out of memory");
		return NULL;
	}
	f->c = c;
	f->kind = kind;
	f->acc = acc;
	f->left = 1;             /* held while requests go out */
	c->cancel = fan_cancel;
	c->op_state = f;
	return f;
}

/* Every request is out: the fan ends once they are answered. */
static void fan_sent(struct fan *f)
{
	if (--f->left == 0)
		fan_end(f);
}

/* Merges one worker's answer (data, or error) into its fan. */
static void fan_take(struct mreq *r, json_t *data, const char *error)
{
	struct fan *f = r->fan;
	char buf[512];
	size_t i;
	json_t *v;
	const char *k;

	switch (f->kind) {
	case FAN_OK:
		if (error && !f->failed) {
			snprintf(buf, sizeof buf, "worker %s: %s", r->w->name, error);
			f->failed = strdup(buf);
		}
		break;
	case FAN_STATUS:
		if (error)
			json_object_set_new(r->entry, "workerStatus",
			                    json_pack("{s:s}", "error", error));
		else
			json_object_set(r->entry, "workerStatus", data);
		break;
	case FAN_MANUAL:
		if (error) {
			json_t *errs = json_object_get(f->acc, "errors");
			snprintf(buf, sizeof buf, "worker %s: %s", r->w->name, error);
			json_array_foreach(r->ids, i, v) {
				char id[32];
				snprintf(id, sizeof id, "%" JSON_INTEGER_FORMAT,
				         json_integer_value(v));
				json_object_set_new(errs, id, json_string(buf));
			}
			break;
		}
		json_object_foreach(json_object_get(data, "jobs"), k, v)
			json_object_set(json_object_get(f->acc, "jobs"), k, v);
		json_object_foreach(json_object_get(data, "errors"), k, v)
			json_object_set(json_object_get(f->acc, "errors"), k, v);
		break;
	case FAN_SIGNAL:
		/* the worker running it says true; the others false */
		json_object_foreach(error ? NULL : data, k, v)
			if (json_is_true(v))
				json_object_set_new(f->acc, k, json_true());
		break;
	}
	if (--f->left == 0)
		fan_end(f);
}

/* ---- requests to workers ---- */

static void mreq_free(struct mreq *r)
{
	link_remove(&r->link);
	json_decref(r->ids);
	json_decref(r->entry);
	free(r);
}

static int64_t worker_no(struct mworker *w)
{
	int64_t no;
	int used;
	do {
		w->next_no = w->next_no % WIRE_NO_MAX + 1;
		no = w->next_no;
		used = 0;
		for (struct link *l = w->reqs.next; l != &w->reqs && !used;
		     l = l->next)
			used = link_entry(l, struct mreq, link)->no == no;
	} while (used);
	return no;
}

/* Sends request name (data borrowed) to w for fan f (NULL: nobody
 * waits); ids / entry are kept for the merge (stolen).  On failure the fan
 * hears the error at once.  Returns the request in flight, or NULL. */
/* Sends r to w as request name: < 0 when it could not (r is not linked
 * then).  A worker that reads nothing is dropped by the send itself: then
 * master_lost has answered and freed r already (w->cn is NULL). */
static int mreq_send(struct mworker *w, struct mreq *r, const char *name,
                     json_t *data)
{
	r->w = w;
	r->no = worker_no(w);
	link_init(&r->link);
	if (!w->cn)
		return -ENOTCONN;
	link_insert_before(&w->reqs, &r->link);
	if (conn_request(w->cn, name, r->no, data) < 0) {
		link_remove(&r->link);
		link_init(&r->link);
		return -ENOTCONN;
	}
	return 0;
}

static struct mreq *worker_send(struct mworker *w, const char *name,
                                json_t *data, struct fan *f, json_t *ids,
                                json_t *entry)
{
	struct mreq *r = calloc(1, sizeof *r);
	if (!r) {
		json_decref(ids);
		json_decref(entry);
		return NULL;
	}
	r->fan = f;
	r->ids = ids;
	r->entry = entry;
	if (f)
		f->left++;
	if (mreq_send(w, r, name, data) < 0) {
		if (f)
			fan_take(r, NULL, "not connected");
		mreq_free(r);
		return NULL;
	}
	return w->cn ? r : NULL;
}

/* The answer of r, to whoever waits for it. */
static void mreq_answer(struct mreq *r, json_t *data, const char *error)
{
	if (r->fan)
		fan_take(r, data, error);
	if (r->cb)
		r->cb(r->cb_arg, data, error);
}

void master_ask(struct mworker *w, const char *op, json_t *data,
                master_reply_fn cb, void *arg, struct mreq **out)
{
	struct mreq *r = calloc(1, sizeof *r);
	if (out)
		*out = NULL;
	if (!r) {
		cb(arg, NULL, "out of memory");
		return;
	}
	r->cb = cb;
	r->cb_arg = arg;
	if (mreq_send(w, r, op, data) < 0) {
		mreq_free(r);
		cb(arg, NULL, "not connected");
		return;
	}
	if (out && w->cn)
		*out = r;
}

void master_ask_drop(struct mreq *r)
{
	if (r)
		r->cb = NULL;
}

struct mworker *master_worker_next(struct mworker *prev)
{
	struct link *l = prev ? prev->link.next : m.workers.next;
	return m.on && l != &m.workers ? link_entry(l, struct mworker, link)
	                               : NULL;
}

struct mworker *master_worker_find(const char *name)
{
	return m.on ? worker_named(name) : NULL;
}

const char *master_worker_name(const struct mworker *w) { return w->name; }
json_t *master_worker_labels(const struct mworker *w) { return w->labels; }
int master_worker_up(const struct mworker *w) { return w->cn != NULL; }
int64_t master_worker_seq(const struct mworker *w) { return w->update_seq; }

/* Asks w for its status, kept for `workers` (running and waiting). */
static void worker_poll_status(struct mworker *w)
{
	struct mreq *r = worker_send(w, "status", NULL, NULL, NULL, NULL);
	if (r)
		r->keep_status = 1;
}

static void seq_take(struct mworker *w, json_t *data)
{
	json_t *v = json_object_get(data, "update_seq");
	if (json_is_integer(v))
		w->update_seq = json_integer_value(v);
}

void master_heard(struct conn *cn, const struct wire_msg *msg)
{
	struct mworker *w = cn->worker;
	w->last_seen = now_us();
	if (msg->type != WIRE_RESPONSE)
		return;
	for (struct link *l = w->reqs.next; l != &w->reqs; l = l->next) {
		struct mreq *r = link_entry(l, struct mreq, link);
		if (r->no != msg->no)
			continue;
		/* out of the list first: an answer may send new requests */
		link_remove(&r->link);
		link_init(&r->link);
		mreq_answer(r, msg->data ? msg->data : json_null(), msg->error);
		if (r->keep_status && !msg->error && json_is_object(msg->data)) {
			json_decref(w->status);
			w->status = json_incref(msg->data);
			seq_take(w, msg->data);
		}
		mreq_free(r);
		return;
	}
}

/* w's connection is gone: its requests fail, naming it. */
void master_lost(struct conn *cn)
{
	struct mworker *w = cn->worker;
	char why[160];
	cn->worker = NULL;
	w->cn = NULL;
	log_warn("worker %s (%s) lost", w->name, w->peer);
	snprintf(why, sizeof why, "worker %s lost before it answered",
	         w->name);
	for (struct link *l; (l = link_pop(&w->reqs));) {
		struct mreq *r = link_entry(l, struct mreq, link);
		link_init(&r->link);
		mreq_answer(r, NULL, why);
		mreq_free(r);
	}
}

/* ---- poke: polls, throttled ---- */

/* The poked targets some live worker serves get their poll; the others
 * stay remembered for a worker that will serve them. */
static void poke_send(void)
{
	m.last_poke = uv_now(engine_loop(m.e));
	for (struct link *l = m.workers.next; l != &m.workers; l = l->next) {
		struct mworker *w = link_entry(l, struct mworker, link);
		json_t *ts = json_array();
		const char *t;
		json_t *v;
		if (!w->cn)
			continue;
		json_object_foreach(m.poked, t, v)
			if (serves(w, t))
				json_array_append_new(ts, json_string(t));
		if (json_array_size(ts)) {
			json_t *d = json_pack("{s:O}", "targets", ts);
			worker_send(w, "poll", d, NULL, NULL, NULL);
			json_decref(d);
		}
		json_decref(ts);
	}
	json_t *keep = json_object();
	const char *t;
	json_t *v;
	json_object_foreach(m.poked, t, v) {
		int served = 0;
		for (struct link *l = m.workers.next; l != &m.workers && !served;
		     l = l->next) {
			struct mworker *w = link_entry(l, struct mworker, link);
			served = w->cn && serves(w, t);
		}
		if (!served)
			json_object_set(keep, t, v);
	}
	json_decref(m.poked);
	m.poked = keep;
}

static void on_poke_timer(uv_timer_t *t)
{
	(void)t;
	poke_send();
}

static int targets_arg(struct call *c, json_t *data, json_t **out)
{
	json_t *ts = json_object_get(data, "targets");
	size_t i;
	json_t *v;
	*out = ts;
	if (!ts)
		return 0;
	if (!json_is_array(ts)) {
		call_fail(c, -EINVAL, "targets must be array");
		return -1;
	}
	json_array_foreach(ts, i, v)
		if (!json_is_string(v) || !*json_string_value(v)) {
			call_fail(c, -EINVAL, "invalid target '%s'",
			          json_is_string(v) ? "" : "(not a string)");
			return -1;
		}
	return 0;
}

static void route_poke(struct call *c, json_t *data)
{
	const struct config *cfg = engine_config(m.e);
	json_t *ts, *v;
	size_t i;
	if (targets_arg(c, data, &ts) < 0)
		return;
	if (!ts)
		return call_fail(c, -EINVAL, "missing field 'targets'");
	json_array_foreach(ts, i, v)
		json_object_set_new(m.poked, json_string_value(v), json_true());
	uint64_t now = uv_now(engine_loop(m.e));
	uint64_t gap = (uint64_t)ms_of(cfg->poke_throttle_interval);
	if (now - m.last_poke >= gap)
		poke_send();
	else if (!uv_is_active((uv_handle_t *)&m.poke))
		uv_timer_start(&m.poke, on_poke_timer, m.last_poke + gap - now, 0);
	call_reply(c, NULL);
}

/* ---- the master's requests ---- */

/* running and waiting of a worker, summed over its targets' status. */
static void counts_json(json_t *o, json_t *status)
{
	json_int_t running = 0, waiting = 0;
	const char *k;
	json_t *t;
	if (!status)
		return;
	json_object_foreach(json_object_get(status, "targets"), k, t) {
		running += json_integer_value(json_object_get(t, "running"));
		waiting += json_integer_value(json_object_get(t, "length"));
	}
	json_object_set_new(o, "running", json_integer(running));
	json_object_set_new(o, "waiting", json_integer(waiting));
}

static json_t *worker_json(const struct mworker *w, int full)
{
	const char *colon = strrchr(w->peer, ':');
	json_t *o = json_pack("{s:s, s:O, s:O}", "name", w->name,
	                      "targets", w->targets, "labels", w->labels);
	json_object_set_new(o, "remoteAddr", json_stringn(w->peer, colon ?
	                    (size_t)(colon - w->peer) : strlen(w->peer)));
	json_object_set_new(o, "remotePort", json_integer(colon ?
	                    atoi(colon + 1) : 0));
	if (full) {
		json_object_set_new(o, "state", json_string(w->cn ? "up" : "lost"));
		json_object_set_new(o, "address", json_string(w->peer));
		json_object_set_new(o, "registered", time_json(w->since));
		json_object_set_new(o, "last_seen", time_json(w->last_seen));
		json_object_set_new(o, "self", json_false());
		json_object_set_new(o, "update_seq",
		                    json_integer((json_int_t)w->update_seq));
		counts_json(o, w->status);
	}
	return o;
}

static void route_status(struct call *c, json_t *data)
{
	int poll = json_is_true(json_object_get(data, "poll_workers"));
	json_t *ws = json_array();
	struct fan *f = fan_new(c, FAN_STATUS, json_pack("{s:o}", "workers", ws));
	if (!f)
		return;
	for (struct link *l = m.workers.next; l != &m.workers; l = l->next) {
		struct mworker *w = link_entry(l, struct mworker, link);
		if (!w->cn)
			continue;
		json_t *entry = worker_json(w, 0);
		json_array_append(ws, entry);
		if (poll)
			worker_send(w, "status", NULL, f, NULL, entry);
		else
			json_decref(entry);
	}
	fan_sent(f);
}

/* The next live worker serving target, round robin; NULL if none. */
static struct mworker *worker_for(const char *target)
{
	struct mworker *found[64];
	size_t n = 0;
	for (struct link *l = m.workers.next; l != &m.workers && n < 64;
	     l = l->next) {
		struct mworker *w = link_entry(l, struct mworker, link);
		if (w->cn && serves(w, target))
			found[n++] = w;
	}
	return n ? found[m.rr++ % n] : NULL;
}

/* run-manual {jobs: [{id, target}]}: each target's ids go to one worker
 * serving it; the answers merge into {jobs, errors}. */
static void route_run_manual(struct call *c, json_t *data)
{
	json_t *jobs = json_object_get(data, "jobs");
	json_t *by = json_object(), *v;
	size_t i;
	const char *t;
	if (!json_is_array(jobs) || !json_array_size(jobs)) {
		json_decref(by);
		return call_fail(c, -EINVAL, "jobs must be a non-empty array of "
		                 "{id, target}");
	}
	json_array_foreach(jobs, i, v) {
		json_t *id = json_object_get(v, "id");
		const char *target = json_string_value(json_object_get(v, "target"));
		if (!json_is_integer(id) || json_integer_value(id) < 1 || !target) {
			json_decref(by);
			return call_fail(c, -EINVAL, "jobs[%zu]: needs an integer id "
			                 "and a target", i);
		}
		if (!json_object_get(by, target))
			json_object_set_new(by, target, json_array());
		json_array_append(json_object_get(by, target), id);
	}
	struct fan *f = fan_new(c, FAN_MANUAL, json_pack("{s:{}, s:{}}", "jobs",
	                        "errors"));
	if (!f) {
		json_decref(by);
		return;
	}
	json_object_foreach(by, t, v) {
		struct mworker *w = worker_for(t);
		if (!w) {
			size_t k;
			json_t *id;
			json_array_foreach(v, k, id) {
				char key[32];
				snprintf(key, sizeof key, "%" JSON_INTEGER_FORMAT,
				         json_integer_value(id));
				json_object_set_new(json_object_get(f->acc, "errors"), key,
				                    json_sprintf("no worker serves target "
				                                 "'%s'", t));
			}
			continue;
		}
		json_t *d = json_pack("{s:O}", "ids", v);
		worker_send(w, "run-manual", d, f, json_incref(v), NULL);
		json_decref(d);
	}
	json_decref(by);
	fan_sent(f);
}

/* send-signal {jobs: [{id, signal, target}]}: every live worker serving
 * the target is asked; only the one running the job signals it and says
 * true (a worker signals only its own runs), so the signal reaches the
 * worker that runs it, never a random one. */
static void route_send_signal(struct call *c, json_t *data)
{
	json_t *jobs = json_object_get(data, "jobs"), *v;
	size_t i;
	if (!json_is_array(jobs)) {
		return call_fail(c, -EINVAL, "jobs must be an array of {id, "
		                 "signal, target}");
	}
	json_array_foreach(jobs, i, v)
		if (!json_is_integer(json_object_get(v, "id")) ||
		    !json_is_string(json_object_get(v, "target")) ||
		    !json_object_get(v, "signal"))
			return call_fail(c, -EINVAL, "jobs[%zu]: needs an integer id, "
			                 "a signal and a target", i);
	struct fan *f = fan_new(c, FAN_SIGNAL, json_object());
	if (!f)
		return;
	json_array_foreach(jobs, i, v) {
		char key[32];
		snprintf(key, sizeof key, "%" JSON_INTEGER_FORMAT,
		         json_integer_value(json_object_get(v, "id")));
		json_object_set_new(f->acc, key, json_false());
	}
	for (struct link *l = m.workers.next; l != &m.workers; l = l->next) {
		struct mworker *w = link_entry(l, struct mworker, link);
		json_t *mine = json_object();
		if (!w->cn) {
			json_decref(mine);
			continue;
		}
		json_array_foreach(jobs, i, v) {
			char key[32];
			if (!serves(w, json_string_value(json_object_get(v, "target"))))
				continue;
			snprintf(key, sizeof key, "%" JSON_INTEGER_FORMAT,
			         json_integer_value(json_object_get(v, "id")));
			json_object_set(mine, key, json_object_get(v, "signal"));
		}
		if (json_object_size(mine)) {
			json_t *d = json_pack("{s:O}", "jobs", mine);
			worker_send(w, "send-signal", d, f, NULL, NULL);
			json_decref(d);
		}
		json_decref(mine);
	}
	fan_sent(f);
}

/* pause / continue {targets?}: to every worker serving any of them (all
 * when absent), answered once they all did (the original never answered). */
static void route_pause(struct call *c, const char *op, json_t *data)
{
	json_t *ts, *v;
	size_t i;
	if (targets_arg(c, data, &ts) < 0)
		return;
	struct fan *f = fan_new(c, FAN_OK, NULL);
	if (!f)
		return;
	for (struct link *l = m.workers.next; l != &m.workers; l = l->next) {
		struct mworker *w = link_entry(l, struct mworker, link);
		json_t *mine = json_array();
		if (!w->cn) {
			json_decref(mine);
			continue;
		}
		json_array_foreach(ts, i, v)
			if (serves(w, json_string_value(v)))
				json_array_append(mine, v);
		if (!ts || json_array_size(mine)) {
			json_t *d = ts ? json_pack("{s:O}", "targets", mine)
			               : json_object();
			worker_send(w, op, d, f, NULL, NULL);
			json_decref(d);
		}
		json_decref(mine);
	}
	fan_sent(f);
}

/* workers: the master itself, then every worker that registered. */
static void route_workers(struct call *c)
{
	const struct config *cfg = engine_config(m.e);
	json_t *ws = json_array();
	json_array_append_new(ws, json_pack("{s:s?, s:s, s:s?, s:b, s:o, s:I}",
	                      "name", cfg->name, "role", "master",
	                      "labels", cfg->labels, "self", 1,
	                      "last_seen", time_json(now_us()), "update_seq",
	                      (json_int_t)engine_update_seq(m.e)));
	for (struct link *l = m.workers.next; l != &m.workers; l = l->next)
		json_array_append_new(ws, worker_json(link_entry(l, struct mworker,
		                                                 link), 1));
	call_reply(c, json_pack("{s:o}", "workers", ws));
}

static int route(void *arg, struct call *c, const char *op, json_t *data)
{
	(void)arg;
	if (strcmp(op, "poke") == 0)
		route_poke(c, data);
	else if (strcmp(op, "status") == 0 && c->role != ROLE_LOCAL)
		route_status(c, data);
	else if (strcmp(op, "run-manual") == 0 && json_object_get(data, "jobs"))
		route_run_manual(c, data);
	else if (strcmp(op, "send-signal") == 0 &&
	         json_is_array(json_object_get(data, "jobs")))
		route_send_signal(c, data);
	else if (strcmp(op, "pause") == 0 || strcmp(op, "continue") == 0)
		route_pause(c, op, data);
	else if (strcmp(op, "workers") == 0)
		route_workers(c);
	else if (strcmp(op, "job-action") == 0 || (strcmp(op, "run") == 0 &&
	         json_object_get(data, "action")))
		fleet_act(m.e, c, data);
	else
		return 0;
	return 1;
}

/* ---- registering and liveness ---- */

/* Reads a list of names: a JSON array of strings or "a,b" text. */
static json_t *names_arg(json_t *v)
{
	json_t *out = json_array();
	if (json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x) {
			if (!json_is_string(x) || !*json_string_value(x)) {
				json_decref(out);
				return NULL;
			}
			json_array_append(out, x);
		}
	} else if (json_is_string(v)) {
		fleet_names_split(out, json_string_value(v));
	} else if (v && !json_is_null(v)) {
		json_decref(out);
		return NULL;
	}
	return out;
}

int master_register(struct call *c, struct conn *cn, json_t *data)
{
	const char *name = json_string_value(json_object_get(data, "name"));
	json_t *targets = names_arg(json_object_get(data, "targets"));
	json_t *labels = names_arg(json_object_get(data, "labels"));
	struct mworker *w;

	if (!m.on)
		return -ENOENT;
	if (!targets || !labels || !name || !*name) {
		json_decref(targets);
		json_decref(labels);
		call_fail(c, -EINVAL, !name || !*name ? "register-worker: missing "
		          "field 'name'" : "register-worker: targets and labels "
		          "must be arrays of names");
		return 0;
	}
	/* every worker has the label `worker` */
	int has = 0;
	size_t i;
	json_t *v;
	json_array_foreach(labels, i, v)
		has |= strcmp(json_string_value(v), "worker") == 0;
	if (!has)
		json_array_insert_new(labels, 0, json_string("worker"));
	if ((w = worker_named(name)) && w->cn && w->cn != cn) {
		log_warn("worker %s registers again from %s; its connection from "
		         "%s is closed", name, cn->peer, w->peer);
		conn_close(w->cn);       /* master_lost: w->cn = NULL */
	}
	if (!w) {
		if (!(w = calloc(1, sizeof *w)) || !(w->name = strdup(name))) {
			free(w);
			json_decref(targets);
			json_decref(labels);
			call_fail(c, -ENOMEM, "out of memory");
			return 0;
		}
		link_init(&w->reqs);
		link_insert_before(&m.workers, &w->link);
	}
	if (cn->worker && cn->worker != w)
		master_lost(cn);     /* the same connection, a new name */
	json_decref(w->targets);
	json_decref(w->labels);
	w->targets = targets;
	w->labels = labels;
	w->cn = cn;
	cn->worker = w;
	seq_take(w, data);
	snprintf(w->peer, sizeof w->peer, "%s", cn->peer);
	w->since = w->last_seen = now_us();
	log_info("worker %s registered from %s with %zu targets", name,
	         cn->peer, json_array_size(targets));
	call_reply(c, NULL);
	worker_poll_status(w);
	if (json_object_size(m.poked))   /* remembered pokes it may serve */
		poke_send();
	return 0;
}

static void on_ping(uv_timer_t *t)
{
	const struct config *cfg = engine_config(m.e);
	int64_t now = now_us();
	(void)t;
	for (struct link *l = m.workers.next, *next; l != &m.workers; l = next) {
		struct mworker *w = link_entry(l, struct mworker, link);
		next = l->next;
		if (!w->cn)
			continue;
		if (now - w->last_seen > 3 * cfg->ping_interval) {
			log_warn("worker %s (%s) silent for %llds; marked lost",
			         w->name, w->peer,
			         (long long)((now - w->last_seen) / US_PER_S));
			conn_close(w->cn);
			continue;
		}
		conn_ping(w->cn);
		worker_poll_status(w);
	}
}

int master_start(struct engine *e, char *err, size_t errlen)
{
	const struct config *cfg = engine_config(e);
	if (!cfg->port) {
		snprintf(err, errlen, "role = master needs a port to listen on");
		return -EINVAL;
	}
	m.e = e;
	link_init(&m.workers);
	if (!(m.poked = json_object())) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	uv_timer_init(engine_loop(e), &m.ping);
	uv_timer_init(engine_loop(e), &m.poke);
	uint64_t every = (uint64_t)ms_of(cfg->ping_interval);
	uv_timer_start(&m.ping, on_ping, every, every);
	m.on = 1;
	ops_set_route(route, &m);
	return 0;
}

void master_stop(void)
{
	if (!m.on)
		return;
	m.on = 0;
	ops_set_route(NULL, NULL);
	uv_close((uv_handle_t *)&m.ping, NULL);
	uv_close((uv_handle_t *)&m.poke, NULL);
	for (struct link *l; (l = link_pop(&m.workers));) {
		struct mworker *w = link_entry(l, struct mworker, link);
		if (w->cn)
			w->cn->worker = NULL;
		for (struct link *r; (r = link_pop(&w->reqs));) {
			struct mreq *q = link_entry(r, struct mreq, link);
			link_init(&q->link);
			mreq_answer(q, NULL, "jobd is shutting down");
			mreq_free(q);
		}
		json_decref(w->targets);
		json_decref(w->labels);
		json_decref(w->status);
		free(w->name);
		free(w);
	}
	json_decref(m.poked);
	m.poked = NULL;
}
