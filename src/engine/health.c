/* health.c — a job's health checks, probed on the loop without blocking
 * it (see health.h).
 *
 * tcp: a connect (uv_tcp_connect) to host:port, the host resolved with
 * uv_getaddrinfo unless it is an address already; each address is tried
 * in turn.  http: the same connection, then "GET path HTTP/1.1" with Host
 * and Connection: close; the status line is all that is read
 * (core/probeparse.c), so a hand-written request is enough here: an HTTP
 * library (libcurl) would bring TLS, redirects and bodies that a status
 * check does not need, and its own event loop to fit onto libuv.  https is
 * refused when the job is parsed (engine/jobfield.c): a command check with
 * curl does it.  command: the check's command as a run of the job would
 * run it (spec.c: user, group, cwd, env, shell), spawned by proc.c in its
 * own process group, which is killed at the timeout.
 *
 * Each check runs its attempts on its own timer (the timeout while an
 * attempt is under way, the interval between attempts); the report goes
 * to done once every check has its verdict.  Memory: a run lives until
 * its last handle, connection, name lookup and process is gone (refs), so
 * a cancel never frees what a pending libuv callback still points to. */
#include "engine/health.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/list.h"
#include "core/probeparse.h"
#include "core/timefmt.h"
#include "engine/engine.h"
#include "engine/log.h"
#include "engine/proc.h"
#include "engine/spec.h"

enum { HK_TCP, HK_HTTP, HK_COMMAND };
static const char *const kind_names[] = { "tcp", "http", "command" };

struct probe;

/* One connection attempt (tcp, http); freed by its close callback. */
struct conn {
	uv_tcp_t tcp;
	uv_connect_t req;
	uv_write_t wr;
	struct probe *p;          /* NULL once its attempt is over */
	struct health_run *h;
	char in[1024];            /* the response's start */
	size_t n_in;
};

/* A name lookup; freed by its callback (also when cancelled). */
struct resolve {
	uv_getaddrinfo_t req;
	struct probe *p;          /* NULL once its attempt is over */
	struct health_run *h;
};

struct probe {
	struct health_run *h;
	int kind;
	char *name, *target;
	char host[PROBE_HOST_MAX];
	char port[8];
	char *request;            /* http: the GET */
	char *spec;               /* command: the run spec (spec.c) */
	int expect;
	int max, tries;
	int64_t interval, timeout;
	uv_timer_t timer;         /* the attempt's timeout, or the interval */
	int timed_out;            /* command: killed at its timeout */
	int done, ok;
	char msg[256];
	struct conn *conn;
	struct resolve *res;
	struct addrinfo *ai, *ai_next;
	struct proc *proc;
};

struct health_run {
	struct link all;          /* in `runs` until freed */
	struct engine *e;
	health_done_fn done;
	void *arg;
	char *job, *target;
	int wait;
	int n, left;
	int refs;                 /* handles, connections, lookups, procs */
	int shut;               /* health_close_all has seen it */
	int closing;
	uv_timer_t kick;          /* the start: done never inside health_run */
	struct probe *p;
};

static struct link runs = { &runs, &runs };

static void attempt_start(struct probe *p);
static void on_interval(uv_timer_t *t);
static void attempt_end(struct probe *p, int ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static uint64_t ms_of(int64_t us)
{
	return us <= 0 ? 0 : (uint64_t)((us + 999) / 1000);
}

/* ---- freeing ---- */

static void run_free(struct health_run *h)
{
	link_remove(&h->all);
	for (int i = 0; h->p && i < h->n; i++) {   /* p: NULL if calloc failed */
		free(h->p[i].name);
		free(h->p[i].target);
		free(h->p[i].request);
		free(h->p[i].spec);
	}
	free(h->p);
	free(h->job);
	free(h->target);
	free(h);
}

static void unref(struct health_run *h)
{
	if (--h->refs == 0 && h->closing)
		run_free(h);
}

static void on_kick_closed(uv_handle_t *hd)
{
	unref(hd->data);
}

static void on_timer_closed(uv_handle_t *hd)
{
	struct probe *p = hd->data;

	unref(p->h);
}

static void on_conn_closed(uv_handle_t *hd)
{
	struct conn *c = hd->data;
	struct health_run *h = c->h;

	free(c);
	unref(h);
}

static void conn_drop(struct probe *p)
{
	struct conn *c = p->conn;

	if (!c)
		return;
	p->conn = NULL;
	c->p = NULL;
	uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void resolve_drop(struct probe *p)
{
	if (!p->res)
		return;
	p->res->p = NULL;         /* its callback frees it */
	uv_cancel((uv_req_t *)&p->res->req);
	p->res = NULL;
}

/* Stops what an attempt has under way, but a process: its group is
 * killed and its exit awaited (on_proc_exit), unless `now` (the engine
 * is closing: the loop runs only once more). */
/* Stops what p has going; with now, lets its process go at once: then 1,
 * a reference of the run's the caller drops (after it is done with it). */
static int probe_stop(struct probe *p, int now)
{
	conn_drop(p);
	resolve_drop(p);
	if (p->ai)
		uv_freeaddrinfo(p->ai);
	p->ai = p->ai_next = NULL;
	if (p->proc) {
		proc_signal(p->proc, SIGKILL);
		if (now) {
			proc_free(p->proc);
			p->proc = NULL;
			return 1;
		}
	}
	return 0;
}

static void run_close(struct health_run *h, int now)
{
	if (h->closing)
		return;
	h->closing = 1;
	uv_close((uv_handle_t *)&h->kick, on_kick_closed);
	int drop = 0;
	for (int i = 0; i < h->n; i++) {
		drop += probe_stop(&h->p[i], now);
		uv_close((uv_handle_t *)&h->p[i].timer, on_timer_closed);
	}
	h->refs -= drop;          /* the handles' closes still hold theirs */
}

/* ---- the report ---- */

static void run_report(struct health_run *h)
{
	json_t *checks = json_array(), *r;
	int ok = 1;

	for (int i = 0; i < h->n; i++) {
		struct probe *p = &h->p[i];
		ok = ok && p->ok;
		json_array_append_new(checks, json_pack("{s:s, s:s, s:s, s:b, s:i, "
			"s:s}", "name", p->name, "kind", kind_names[p->kind],
			"target", p->target, "ok", p->ok, "attempts", p->tries,
			"message", p->msg));
	}
	r = json_pack("{s:b, s:o}", "ok", ok, "checks", checks);
	h->done(h->arg, r);
	run_close(h, 0);
}

static void attempt_end(struct probe *p, int ok, const char *fmt, ...)
{
	struct health_run *h = p->h;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof p->msg, fmt, ap);
	va_end(ap);
	uv_timer_stop(&p->timer);
	probe_stop(p, 0);
	log_debug("job %s: health check %s: attempt %d of %d: %s", h->job,
	          p->name, p->tries, h->wait ? p->max : 1, p->msg);
	if (!ok && h->wait && p->tries < p->max) {
		uv_timer_start(&p->timer, on_interval, ms_of(p->interval), 0);
		return;
	}
	p->done = 1;
	p->ok = ok;
	if (--h->left == 0)
		run_report(h);
}

/* ---- tcp and http ---- */

static void conn_connect(struct probe *p, const struct sockaddr *sa);

static void on_read_alloc(uv_handle_t *hd, size_t hint, uv_buf_t *buf)
{
	struct conn *c = hd->data;

	(void)hint;
	*buf = uv_buf_init(c->in + c->n_in, (unsigned)(sizeof c->in - c->n_in));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = s->data;
	struct probe *p = c->p;
	int code = 0, rc;

	(void)buf;
	if (!p || n == 0)
		return;
	if (n == UV_EOF) {
		attempt_end(p, 0, "connection closed before the status line");
		return;
	}
	if (n < 0) {
		attempt_end(p, 0, "%s", uv_strerror((int)n));
		return;
	}
	c->n_in += (size_t)n;
	rc = probe_status(c->in, c->n_in, &code);
	if (rc < 0)
		attempt_end(p, 0, "not an HTTP response");
	else if (rc > 0 && code == p->expect)
		attempt_end(p, 1, "HTTP %d", code);
	else if (rc > 0)
		attempt_end(p, 0, "HTTP %d (expected %d)", code, p->expect);
	else if (c->n_in == sizeof c->in)
		attempt_end(p, 0, "not an HTTP response");
}

static void on_written(uv_write_t *w, int status)
{
	struct conn *c = w->data;

	if (c->p && status < 0)
		attempt_end(c->p, 0, "%s", uv_strerror(status));
}

static void on_connect(uv_connect_t *req, int status)
{
	struct conn *c = req->data;
	struct probe *p = c->p;
	uv_buf_t b;
	int rc;

	if (!p)
		return;
	if (status < 0 && p->ai_next) {   /* the name's next address */
		struct addrinfo *next = p->ai_next;
		p->ai_next = next->ai_next;
		conn_drop(p);
		conn_connect(p, next->ai_addr);
		return;
	}
	if (status < 0) {
		attempt_end(p, 0, "%s", uv_strerror(status));
		return;
	}
	if (p->kind == HK_TCP) {
		attempt_end(p, 1, "connected");
		return;
	}
	b = uv_buf_init(p->request, (unsigned)strlen(p->request));
	c->wr.data = c;
	if ((rc = uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, on_written)) < 0 ||
	    (rc = uv_read_start((uv_stream_t *)&c->tcp, on_read_alloc,
	                        on_read)) < 0)
		attempt_end(p, 0, "%s", uv_strerror(rc));
}

static void conn_connect(struct probe *p, const struct sockaddr *sa)
{
	struct conn *c = calloc(1, sizeof *c);
	int rc;

	if (!c) {
		attempt_end(p, 0, "out of memory");
		return;
	}
	c->p = p;
	c->h = p->h;
	uv_tcp_init(p->h->e->loop, &c->tcp);
	c->tcp.data = c;
	c->req.data = c;
	p->h->refs++;
	p->conn = c;
	if ((rc = uv_tcp_connect(&c->req, &c->tcp, sa, on_connect)) < 0)
		attempt_end(p, 0, "%s", uv_strerror(rc));
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *ai)
{
	struct resolve *r = req->data;
	struct probe *p = r->p;
	struct health_run *h = r->h;

	free(r);
	if (p) {
		p->res = NULL;
		if (status < 0) {
			attempt_end(p, 0, "cannot resolve '%s': %s", p->host,
			            uv_strerror(status));
		} else {
			p->ai = ai;
			p->ai_next = ai->ai_next;
			ai = NULL;
			conn_connect(p, p->ai->ai_addr);
		}
	}
	if (ai)
		uv_freeaddrinfo(ai);
	unref(h);
}

static void net_start(struct probe *p)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct sockaddr_in6 a6;
	struct sockaddr_in a4;
	struct resolve *r;
	int port = atoi(p->port), rc;

	if (uv_ip4_addr(p->host, port, &a4) == 0) {
		conn_connect(p, (struct sockaddr *)&a4);
		return;
	}
	if (uv_ip6_addr(p->host, port, &a6) == 0) {
		conn_connect(p, (struct sockaddr *)&a6);
		return;
	}
	if (!(r = calloc(1, sizeof *r))) {
		attempt_end(p, 0, "out of memory");
		return;
	}
	r->p = p;
	r->h = p->h;
	r->req.data = r;
	rc = uv_getaddrinfo(p->h->e->loop, &r->req, on_resolved, p->host,
	                    p->port, &hints);
	if (rc < 0) {
		free(r);
		attempt_end(p, 0, "cannot resolve '%s': %s", p->host,
		            uv_strerror(rc));
		return;
	}
	p->h->refs++;
	p->res = r;
}

/* ---- command ---- */

static void on_proc_exit(struct proc *pr, int code, int sig, void *ud)
{
	struct probe *p = ud;
	struct health_run *h = p->h;
	char dur[32];

	proc_free(pr);
	p->proc = NULL;
	if (!h->closing) {
		dur_format(dur, sizeof dur, p->timeout);
		if (p->timed_out)
			attempt_end(p, 0, "timed out after %s", dur);
		else if (code == 0)
			attempt_end(p, 1, "exit 0");
		else if (code < 0)
			attempt_end(p, 0, "killed by %s", signal_name(sig));
		else
			attempt_end(p, 0, "exit %d", code);
	}
	unref(h);
}

static void command_start(struct probe *p)
{
	static const struct proc_cbs cbs = { .on_exit = on_proc_exit };
	struct health_run *h = p->h;
	/* JOBD_WORKER too: one definition checks each worker's own */
	struct run r = { .job = h->job, .target = h->target,
	                 .attempt = p->tries, .worker = h->e->cfg.name };
	struct exec x;
	char err[512];

	if (spec_prepare(p->spec, &r, h->e->is_root, &x, err, sizeof err) < 0) {
		attempt_end(p, 0, "%s", err);
		return;
	}
	struct proc_spec ps = { x.argv, x.env, x.cwd, x.set_ids, x.uid, x.gid };
	if (proc_start(h->e->loop, &ps, &cbs, p, &p->proc, err, sizeof err) < 0)
		attempt_end(p, 0, "%s", err);
	else
		h->refs++;
	exec_free(&x);
}

/* ---- attempts ---- */

static void on_timeout(uv_timer_t *t)
{
	struct probe *p = t->data;
	char dur[32];

	if (p->proc) {            /* its exit ends the attempt */
		p->timed_out = 1;
		proc_signal(p->proc, SIGKILL);
		return;
	}
	dur_format(dur, sizeof dur, p->timeout);
	attempt_end(p, 0, "timed out after %s", dur);
}

static void attempt_start(struct probe *p)
{
	p->tries++;
	p->timed_out = 0;
	uv_timer_start(&p->timer, on_timeout, ms_of(p->timeout), 0);
	if (p->kind == HK_COMMAND)
		command_start(p);
	else
		net_start(p);
}

static void on_interval(uv_timer_t *t)
{
	attempt_start(t->data);
}

static void on_kick(uv_timer_t *t)
{
	struct health_run *h = t->data;

	if (h->n == 0) {
		run_report(h);
		return;
	}
	for (int i = 0; i < h->n && !h->closing; i++)
		attempt_start(&h->p[i]);
}

/* ---- setting up ---- */

/* What check hc needs, copied: the job may be replaced or deleted while
 * its checks run. */
static int probe_init(struct probe *p, const struct job *j,
                      const struct health_check *hc)
{
	char err[256];
	int port;
	const char *why;

	p->name = strdup(hc->name);
	p->max = hc->attempts > 0 ? hc->attempts : 1;
	p->interval = hc->interval;
	p->timeout = hc->timeout;
	p->expect = hc->expect_status ? hc->expect_status : 200;
	snprintf(p->msg, sizeof p->msg, "not run");
	if (hc->tcp) {
		p->kind = HK_TCP;
		p->target = strdup(hc->tcp);
		if (probe_hostport(hc->tcp, p->host, &port, &why) < 0)
			return -EINVAL;   /* checked when the job was parsed */
		snprintf(p->port, sizeof p->port, "%d", port);
	} else if (hc->http) {
		struct probe_url u;
		p->kind = HK_HTTP;
		p->target = strdup(hc->http);
		if (probe_url(hc->http, &u, &why) < 0 || u.https)
			return -EINVAL;
		snprintf(p->host, sizeof p->host, "%s", u.host);
		snprintf(p->port, sizeof p->port, "%d", u.port);
		if (asprintf(&p->request, "GET %s HTTP/1.1\r\nHost: %s\r\n"
		             "User-Agent: jobd-health\r\nAccept: */*\r\n"
		             "Connection: close\r\n\r\n", u.path, u.hostport) < 0)
			p->request = NULL;
		if (!p->request)
			return -ENOMEM;
	} else {
		/* the job's own spec, its command swapped for the check's: a
		 * shallow copy, read only */
		struct job tmp = *j;
		p->kind = HK_COMMAND;
		p->target = strdup(hc->command);
		tmp.command = hc->command;
		if (!(p->spec = spec_from_job(&tmp, NULL, 0, err, sizeof err)))
			return -ENOMEM;
	}
	return p->name && p->target ? 0 : -ENOMEM;
}

int health_run(struct engine *e, const struct job *j, int wait,
               health_done_fn done, void *arg, struct health_run **out)
{
	struct health_run *h;
	int rc = -ENOMEM;

	if (e->shutting_down)
		return -ESHUTDOWN;
	if (!(h = calloc(1, sizeof *h)))
		return -ENOMEM;
	h->e = e;
	h->done = done;
	h->arg = arg;
	h->wait = wait;
	h->n = h->left = j->n_checks;
	link_init(&h->all);
	h->job = strdup(j->name);
	h->target = strdup(j->target ? j->target : "default");
	h->p = calloc((size_t)j->n_checks + 1, sizeof *h->p);
	if (!h->job || !h->target || !h->p)
		goto error;
	for (int i = 0; i < h->n; i++) {
		h->p[i].h = h;
		if ((rc = probe_init(&h->p[i], j, &j->checks[i])) < 0)
			goto error;
	}
	uv_timer_init(e->loop, &h->kick);
	h->kick.data = h;
	h->refs++;
	for (int i = 0; i < h->n; i++, h->refs++) {
		uv_timer_init(e->loop, &h->p[i].timer);
		h->p[i].timer.data = &h->p[i];
	}
	link_insert_before(&runs, &h->all);
	uv_timer_start(&h->kick, on_kick, 0, 0);
	*out = h;
	return 0;
error:
	run_free(h);
	return rc;
}

void health_cancel(struct health_run *h)
{
	if (h)
		run_close(h, 0);
}

/* One run at a time, looked up from the start again each time: closing
 * one may end others (their callbacks run), so no next pointer is kept. */
static struct health_run *first_open(struct engine *e)
{
	for (struct link *l = runs.next; l != &runs; l = l->next) {
		struct health_run *h = link_entry(l, struct health_run, all);
		/* the analyzer misses that run_free unlinks h before freeing it */
		if (h->e == e && !h->shut) // NOLINT(clang-analyzer-unix.Malloc)
			return h;
	}
	return NULL;
}

void health_close_all(struct engine *e)
{
	struct health_run *h;

	while ((h = first_open(e))) {
		h->shut = 1;
		/* a cancelled run may still wait for a process's exit: the loop
		 * runs only once more, so it is let go now (already killed) */
		if (h->closing) {
			int drop = 0;
			for (int i = 0; i < h->n; i++)
				drop += probe_stop(&h->p[i], 1);
			h->refs -= drop - 1;
			unref(h);     /* the last of them */
		} else {
			run_close(h, 1);
		}
	}
}
