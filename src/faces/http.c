/* http.c — the HTTP face: libmicrohttpd on jobd's libuv loop, who the
 * caller is, and the answers.  http_api.c holds the route table (what
 * each URL asks of the ops table), http_sse.c the event streams.
 *
 * The loop: MHD runs without threads of its own (external polling,
 * MHD_USE_EPOLL): its one epoll fd is watched by a uv_poll, its timeouts
 * by a uv_timer, and MHD_run does the work on the loop thread, so the
 * ops are called exactly as the socket face calls them.  A request whose
 * answer comes later (a store read, a commit, a run's end) suspends its
 * connection; the answer resumes it.
 *
 * Who is asking (docs/security.md "HTTP"): the bearer token (http_token,
 * compared in constant time, wrong ones limited per address) makes the
 * caller jobd's administrator; without it, only a GET from loopback with
 * always_allow_localhost is served, and only the overview ops
 * (ROLE_HTTP_READ).  Anything that changes state needs the token in the
 * Authorization header and a JSON body: no cookie, no form, no CORS, so a
 * web page elsewhere cannot make a browser ask for it. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "engine/log.h"
#include "faces/http_int.h"
#include "faces/peer.h"

#define CONN_LIMIT 256           /* connections at once */
#define CONN_TIMEOUT_S 60        /* an idle connection is closed */
#define KEEPALIVE_MS 15000       /* a comment on each event stream */

/* ---- MHD on the loop ---- */

static void on_timer(uv_timer_t *t);

static void http_run(struct http *h)
{
	MHD_UNSIGNED_LONG_LONG ms = 0;

	if (h->closing)
		return;
	h->kicked = 0;
	MHD_run(h->d);
	if (!h->kicked && MHD_get_timeout(h->d, &ms) != MHD_YES) {
		uv_timer_stop(&h->timer);
		return;
	}
	uv_timer_start(&h->timer, on_timer, h->kicked ? 0 : ms, 0);
}

static void on_timer(uv_timer_t *t)
{
	http_run(t->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	http_run(p->data);
}

static void on_keepalive(uv_timer_t *t)
{
	http_sse_keepalive(t->data);
}

void http_wake(struct hreq *r)
{
	struct http *h = r->h;

	if (r->gone || h->closing)
		return;
	if (r->suspended) {
		r->suspended = 0;
		MHD_resume_connection(r->conn);
	}
	h->kicked = 1;
	uv_timer_start(&h->timer, on_timer, 0, 0);
}

/* ---- answers ---- */

int http_status_of(int err)
{
	switch (err) {
	case -EEXIST: case -EBUSY: case -ESRCH: case -EALREADY:
		return 409;
	case -ENOENT:
		return 404;
	case -EPERM: case -EACCES:
		return 403;
	}
	return err_exit_code(err) == EXIT_USAGE ? 400 : 500;
}

void http_reply(struct hreq *r, int status, const char *ctype, char *body,
                size_t len)
{
	free(r->out);
	r->status = status;
	r->ctype = ctype;
	r->out = body;
	r->olen = body ? len : 0;
	r->ready = 1;
}

void http_reply_json(struct hreq *r, int status, json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	size_t len = text ? strlen(text) : 0;
	char *body = text ? realloc(text, len + 2) : NULL;

	json_decref(o);
	if (!body) {
		free(text);
		body = strdup("{\"error\":\"out of memory\"}\n");
		status = 500;
		len = body ? strlen(body) - 1 : 0;
	}
	if (body) {
		body[len] = '\n';
		body[++len] = 0;
	}
	http_reply(r, status, "application/json", body, len);
}

void http_reply_error(struct hreq *r, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	http_reply_json(r, status, json_pack("{s:s}", "error", msg));
}

/* The answer of an op as JSON: its data, a bare string (the ops' "ok")
 * as {"result": "ok"}; an error as {"error": "..."}. */
static void done_json(struct hreq *r, json_t *data, int err, const char *msg)
{
	if (err)
		return http_reply_error(r, http_status_of(err), "%s", msg);
	if (json_is_string(data))
		return http_reply_json(r, r->ok_status, json_pack("{s:O}",
		                       "result", data));
	http_reply_json(r, r->ok_status, json_incref(data));
}

int http_charge(struct hreq *r, size_t n)
{
	struct http *h = r->h;

	if (h->buffered + n > (size_t)engine_config(h->e)->max_buffered)
		return -ENOBUFS;
	h->buffered += n;
	r->charged += n;
	return 0;
}

void http_unref(struct hreq *r)
{
	if (--r->refs > 0)
		return;
	free(r->path);
	free(r->body);
	free(r->out);
	free(r->sbuf);
	json_decref(r->json);
	free(r);
}

/* The call's respond: the route's done makes the answer.  One that
 * acknowledges writes comes only once they are committed (the call's
 * commit_wait, set in req_new: ops.h). */
static void req_respond(struct call *c, json_t *data, int err,
                        const char *msg)
{
	struct hreq *r = (struct hreq *)c;

	call_abandon(c);
	r->pending = 0;
	r->done(r, data, err, msg);
	json_decref(data);
	http_wake(r);
}

void http_op(struct hreq *r, const char *op, json_t *data, http_done_fn done)
{
	r->done = done ? done : done_json;
	r->pending = 1;
	ops_dispatch(&r->c, op, data);
	json_decref(data);
}

const char *http_query(struct hreq *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

/* ---- who is asking ---- */

/* 1 when r's peer is loopback; its address in a, as text in peer. */
static int peer_of(struct hreq *r, struct in6_addr *a, char *peer,
                   size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn,
	                                     MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	int port;
	return peer_from_sockaddr(ci ? ci->client_addr : NULL, a, peer, len,
	                          &port) == 1;
}

static int unauthorised(struct hreq *r, int status, const char *msg)
{
	r->unauth = status == 401;
	http_reply_error(r, status, "%s", msg);
	return 0;
}

/* 1 when r may go on, its identity in its call; else r is answered. */
static int req_auth(struct hreq *r)
{
	const struct config *cfg = engine_config(r->h->e);
	const char *tok = cfg->http_token;
	const char *hdr = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	                                              MHD_HTTP_HEADER_AUTHORIZATION);
	int is_get = strcmp(r->method, "GET") == 0;
	struct in6_addr addr = IN6ADDR_ANY_INIT;
	char peer[INET6_ADDRSTRLEN];
	int loopback = peer_of(r, &addr, peer, sizeof peer);

	r->c.uid = engine_uid(r->h->e);
	r->c.admin = 1;
	if (hdr) {
		uint64_t now = uv_now(engine_loop(r->h->e));
		if (strncasecmp(hdr, "Bearer ", 7) != 0)
			return unauthorised(r, 401, "Authorization must be "
			                    "'Bearer TOKEN'");
		if (peer_fails_blocked(&r->h->fails, &addr, now))
			return unauthorised(r, 429, "too many wrong tokens from this "
			                    "address; try again later");
		if (!tok || !peer_secret_equal(hdr + 7, strlen(hdr + 7), tok)) {
			peer_fails_add(&r->h->fails, &addr, now);
			log_warn("http client %s: wrong token", peer);
			return unauthorised(r, 401, "invalid token");
		}
		r->c.role = ROLE_LOCAL;      /* the administrator's credential */
		return 1;
	}
	if (loopback && cfg->always_allow_localhost && is_get) {
		r->c.role = ROLE_HTTP_READ;
		return 1;
	}
	return unauthorised(r, 401, is_get ? "missing token: send "
	                    "'Authorization: Bearer TOKEN'" : "missing token: "
	                    "a request that changes anything needs "
	                    "'Authorization: Bearer TOKEN', from loopback too");
}

/* A body is JSON or nothing: a form or text body is what a page of
 * another site could make a browser send. */
static int req_body_ok(struct hreq *r)
{
	const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	                 MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	                 MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	                 MHD_HTTP_HEADER_TRANSFER_ENCODING);
	int has_body = (cl && strcmp(cl, "0") != 0) || te;

	if (ct && (strncasecmp(ct, "application/json", 16) != 0 ||
	           (ct[16] && ct[16] != ';' && ct[16] != ' '))) {
		http_reply_error(r, 415, "Content-Type must be application/json, "
		                 "not '%s'", ct);
		return 0;
	}
	if (has_body && !ct) {
		http_reply_error(r, 415, "a request body needs Content-Type: "
		                 "application/json");
		return 0;
	}
	return 1;
}

/* Any method: a body announced over the limit is refused unread. */
static int req_length_ok(struct hreq *r)
{
	const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	                 MHD_HTTP_HEADER_CONTENT_LENGTH);

	if (!cl || strtoull(cl, NULL, 10) <= HTTP_BODY_MAX)
		return 1;
	http_reply_error(r, 413, "request body over %u bytes", HTTP_BODY_MAX);
	return 0;
}

/* ---- one request ---- */

static int split_path(struct hreq *r, const char *url)
{
	char *save = NULL;

	if (!(r->path = strdup(url)))
		return -ENOMEM;
	for (char *s = strtok_r(r->path, "/", &save); s;
	     s = strtok_r(NULL, "/", &save)) {
		if (r->nseg == HTTP_MAX_SEGS)
			return -E2BIG;
		r->seg[r->nseg++] = s;
	}
	return 0;
}

static void req_static(struct hreq *r, const char *url)
{
	const void *data;
	size_t len;
	const char *ctype;

	if (!http_static_hook || strcmp(r->method, "GET") != 0 ||
	    strncmp(url, "/api/", 5) == 0 ||
	    http_static_hook(url, &data, &len, &ctype) < 0)
		return http_reply_error(r, 404, "no such resource: %s %s",
		                        r->method, url);
	char *copy = malloc(len ? len : 1);
	if (!copy)
		return http_reply_error(r, 500, "out of memory");
	memcpy(copy, data, len);
	http_reply(r, 200, ctype, copy, len);
}

/* The first call: route, identity, body rules; r may be answered now. */
static void req_begin(struct hreq *r, const char *url)
{
	const char *allow = NULL;
	int rc = split_path(r, url);

	if (rc == -ENOMEM)
		return http_reply_error(r, 500, "out of memory");
	r->route = rc ? NULL : http_route_find(r->method, r, &allow);
	if (!r->route && allow) {
		r->allow = allow;
		return http_reply_error(r, 405, "method %s is not allowed on %s "
		                        "(allowed: %s)", r->method, url, allow);
	}
	if (!r->route)
		return req_static(r, url);
	if (!req_auth(r) || !req_length_ok(r))
		return;
	if (strcmp(r->method, "GET") != 0 && !req_body_ok(r))
		return;
}

static void req_body(struct hreq *r, const char *data, size_t n)
{
	if (r->too_big || strcmp(r->method, "GET") == 0)
		return;                 /* a GET's body means nothing */
	if (r->blen + n > HTTP_BODY_MAX) {
		r->too_big = 1;
		return;
	}
	char *p = http_charge(r, n) == 0 ? realloc(r->body, r->blen + n + 1)
	                                 : NULL;
	if (!p) {
		r->too_big = 2;
		return;
	}
	memcpy(p + r->blen, data, n);
	r->body = p;
	r->blen += n;
	r->body[r->blen] = 0;
}

/* The whole request is in: its body parsed, its route run. */
static void req_route(struct hreq *r)
{
	json_error_t je;

	r->routed = 1;
	if (r->too_big == 2)
		return http_reply_error(r, 503, "busy: max_buffered is spent; "
		                        "try again later");
	if (r->too_big)
		return http_reply_error(r, 413, "request body over %u bytes",
		                        HTTP_BODY_MAX);
	if (r->blen && !(r->json = json_loadb(r->body, r->blen,
	                                      JSON_REJECT_DUPLICATES, &je)))
		return http_reply_error(r, 400, "invalid JSON: %s (line %d, "
		                        "column %d)", je.text, je.line, je.column);
	if (r->json && !json_is_object(r->json))
		return http_reply_error(r, 400, "the body must be a JSON object");
	r->route->fn(r);
}

static enum MHD_Result req_send(struct hreq *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (r->sse) {
		resp = http_sse_response(r);
	} else {
		resp = MHD_create_response_from_buffer(r->olen, r->out,
		                                       MHD_RESPMEM_MUST_FREE);
		if (resp)
			r->out = NULL;
	}
	if (!resp)
		return MHD_NO;
	if (!r->sse)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		                        r->ctype ? r->ctype : "application/json");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (r->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	if (r->unauth)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                        "Bearer realm=\"jobd\"");
	ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static struct hreq *req_new(struct http *h, struct MHD_Connection *conn,
                            const char *method)
{
	struct hreq *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	r->h = h;
	r->conn = conn;
	r->method = method;
	r->refs = 1;             /* MHD's, until on_completed */
	r->ok_status = 200;
	r->c.e = h->e;
	r->c.face = r;
	r->c.respond = req_respond;
	r->c.commit_wait = 1;    /* reply-after-commit (ops.h) */
	link_init(&r->slink);
	link_insert_before(&h->reqs, &r->rlink);
	return r;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const char *version, const char *upload,
                                 size_t *upsize, void **con_cls)
{
	struct hreq *r = *con_cls;

	(void)version;
	if (!r) {
		if (!(r = req_new(cls, conn, method)))
			return MHD_NO;
		*con_cls = r;
		req_begin(r, url);
		return r->ready ? req_send(r) : MHD_YES;
	}
	if (*upsize) {
		req_body(r, upload, *upsize);
		*upsize = 0;
		return MHD_YES;
	}
	if (!r->ready && !r->routed)
		req_route(r);
	if (r->ready)
		return req_send(r);
	r->suspended = 1;
	MHD_suspend_connection(conn);
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn,
                         void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct hreq *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!r)
		return;
	*con_cls = NULL;
	r->gone = 1;             /* from now on r never touches r->h */
	link_remove(&r->rlink);
	r->h->buffered -= r->charged;
	r->charged = 0;
	if (r->pending) {
		r->pending = 0;
		call_abandon(&r->c);
	}
	http_sse_close(r);
	http_unref(r);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\n")] = 0;
	log_debug("http: %s", msg);
}

/* ---- start and stop ---- */

static int listen_addr(const char *spec, struct sockaddr_storage *sa)
{
	char host[64];
	int port;

	memset(sa, 0, sizeof *sa);
	if (config_hostport(spec, host, sizeof host, &port) < 0)
		return -EINVAL;
	if (uv_ip4_addr(host, port, (struct sockaddr_in *)sa) == 0)
		return 0;
	if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)sa) == 0)
		return 0;
	return -EINVAL;
}

static void handle_closed(uv_handle_t *hd)
{
	struct http *h = hd->data;

	if (--h->handles == 0)
		free(h);
}

static int http_listen(struct http *h, const char *spec, char *err,
                       size_t errlen)
{
	struct sockaddr_storage sa;
	const union MHD_DaemonInfo *di;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	                 MHD_USE_ERROR_LOG;

	if (listen_addr(spec, &sa) < 0) {
		snprintf(err, errlen, "http_listen: invalid address '%s'", spec);
		return -EINVAL;
	}
	if (sa.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_access, h,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
		MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen, "cannot listen on http_listen %s: %s", spec,
		         strerror(errno ? errno : EADDRINUSE));
		return -EADDRINUSE;
	}
	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!di || uv_poll_init(engine_loop(h->e), &h->poll, di->epoll_fd) < 0) {
		snprintf(err, errlen, "http_listen %s: cannot poll libmicrohttpd",
		         spec);
		MHD_stop_daemon(h->d);
		return -EIO;
	}
	h->poll.data = h;
	h->handles++;
	uv_poll_start(&h->poll, UV_READABLE, on_poll);
	return 0;
}

int http_start(struct http **out, struct engine *e, char *err,
               size_t errlen)
{
	const char *spec = engine_config(e)->http_listen;
	struct http *h;
	int rc;

	*out = NULL;
	if (!spec)
		return 0;
	if (!(h = calloc(1, sizeof *h))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	h->e = e;
	link_init(&h->reqs);
	link_init(&h->streams);
	if ((rc = http_listen(h, spec, err, errlen)) < 0) {
		free(h);
		return rc;
	}
	uv_timer_init(engine_loop(e), &h->timer);
	uv_timer_init(engine_loop(e), &h->keepalive);
	h->timer.data = h->keepalive.data = h;
	h->handles += 2;
	uv_timer_start(&h->keepalive, on_keepalive, KEEPALIVE_MS, KEEPALIVE_MS);
	http_run(h);
	const char *cpath = engine_config(e)->path;
	struct stat st;
	if (engine_config(e)->http_token && cpath && stat(cpath, &st) == 0 &&
	    (st.st_mode & S_IROTH))
		log_warn("%s holds http_token and every user may read it; "
		         "chmod o-r %s", cpath, cpath);
	log_info("HTTP API on %s%s", spec, engine_config(e)->http_token ?
	         " (token)" : " (no token: loopback may only read the overview)");
	*out = h;
	return 0;
}

void http_close(struct http *h)
{
	if (!h)
		return;
	/* suspended connections are resumed, so that MHD closes them */
	for (struct link *l = h->reqs.next; l != &h->reqs; l = l->next) {
		struct hreq *r = link_entry(l, struct hreq, rlink);
		if (r->suspended && !r->gone) {
			r->suspended = 0;
			MHD_resume_connection(r->conn);
		}
	}
	h->closing = 1;
	uv_close((uv_handle_t *)&h->poll, handle_closed);
	uv_close((uv_handle_t *)&h->timer, handle_closed);
	uv_close((uv_handle_t *)&h->keepalive, handle_closed);
	MHD_stop_daemon(h->d);      /* on_completed for each request */
	h->d = NULL;
}

void http_set_static(http_static_fn fn)
{
	http_static_hook = fn;
}

void http_set_metrics(http_route_fn fn)
{
	http_metrics_hook = fn;
}
