/* client.c — jobd's protocol client on a libuv loop (client.h).
 *
 * Life of a client: RESOLVING (TCP only) -> CONNECTING -> UP, then LOST
 * when the connection ends by itself, or CLOSING from client_close in any
 * state.  Outstanding calls sit in a small hash by `no` (numbers are given
 * out in turn, so `no` modulo the bucket count spreads them evenly);
 * requests made before the connection is up wait, encoded, in `pending`.
 *
 * The memory is freed when CLOSING and nothing of libuv refers to it any
 * more (no handle open, no getaddrinfo running) and no callback of ours is
 * on the stack (`busy`): a user callback may close the client while we
 * are still reading messages out of its buffer. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "jobd.h"
#include "client/client.h"
#include "core/frame.h"
#include "core/list.h"
#include "core/wire.h"

#define NBUCKET 256
#define READ_CHUNK (64 * 1024)

enum cstate { CL_RESOLVING, CL_CONNECTING, CL_UP, CL_LOST, CL_CLOSING };
enum hstate { H_NONE, H_OPEN, H_CLOSING };

struct call {
	struct link link;          /* in a bucket */
	int64_t no;
	client_event_cb *on_event;
	client_reply_cb *on_reply;
	void *arg;
};

/* One frame to write: queued in `pending` until the connection is up. */
struct out {
	uv_write_t req;
	struct link link;
	struct client *cl;
	char *buf;
	size_t len;
};

struct client {
	uv_loop_t *loop;
	union {
		uv_handle_t h;
		uv_stream_t s;
		uv_pipe_t pipe;
		uv_tcp_t tcp;
	} u;
	enum hstate hstate;
	enum cstate state;
	int is_tcp;
	uv_connect_t creq;
	uv_getaddrinfo_t gai;
	int gai_pending;
	struct addrinfo *ais, *ai;   /* resolved addresses, the next to try */
	int conn_err;                /* why the last address failed */
	char *address, *password;
	int authed;                  /* the password went with a request */
	struct framebuf fb;
	client_connect_cb *on_connect;
	client_lost_cb *on_lost;
	client_request_cb *on_request;
	void *arg;
	struct link buckets[NBUCKET];
	size_t ncalls;
	struct link pending;
	int64_t next_no;
	int busy;                    /* our callbacks on the stack */
	char errtext[320];           /* why the calls failed (LOST) */
	char rbuf[READ_CHUNK];
};

static void maybe_free(struct client *cl)
{
	struct link *l;

	if (cl->state != CL_CLOSING || cl->busy || cl->hstate != H_NONE ||
	    cl->gai_pending)
		return;
	while ((l = link_pop(&cl->pending))) {
		struct out *o = link_entry(l, struct out, link);
		free(o->buf);
		free(o);
	}
	if (cl->ais)
		uv_freeaddrinfo(cl->ais);
	framebuf_free(&cl->fb);
	free(cl->address);
	free(cl->password);
	free(cl);
}

/* ---- calls ------------------------------------------------------------ */

static struct link *bucket(struct client *cl, int64_t no)
{
	return &cl->buckets[(size_t)no % NBUCKET];
}

static struct call *call_find(struct client *cl, int64_t no)
{
	struct link *head = bucket(cl, no), *l;

	for (l = head->next; l != head; l = l->next) {
		struct call *c = link_entry(l, struct call, link);
		if (c->no == no)
			return c;
	}
	return NULL;
}

/* Any one outstanding call (for the `no` 0 reply when there is one). */
static struct call *call_any(struct client *cl)
{
	for (size_t i = 0; i < NBUCKET; i++)
		if (!link_empty(&cl->buckets[i]))
			return link_entry(cl->buckets[i].next, struct call, link);
	return NULL;
}

/* Unlinks c, frees it, then tells its owner: the callback may reenter. */
static void call_finish(struct client *cl, struct call *c, int status,
                        json_t *data, const char *error, int code)
{
	client_reply_cb *cb = c->on_reply;
	void *arg = c->arg;

	link_remove(&c->link);
	cl->ncalls--;
	free(c);
	cb(arg, status, data, error, code);
}

static void fail_all(struct client *cl, int status, const char *error)
{
	struct link *l;

	for (size_t i = 0; i < NBUCKET; i++)
		while ((l = link_pop(&cl->buckets[i])))
			call_finish(cl, link_entry(l, struct call, link), status,
			            NULL, error, 0);
}

/* ---- writing ---------------------------------------------------------- */

static void lost(struct client *cl, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void on_written(uv_write_t *req, int status)
{
	struct out *o = req->data;
	struct client *cl = o->cl;

	free(o->buf);
	free(o);
	if (status < 0 && status != UV_ECANCELED && cl->state == CL_UP) {
		cl->busy++;
		lost(cl, status, "cannot write to jobd at %s: %s", cl->address,
		     uv_strerror(status));
		cl->busy--;
		maybe_free(cl);
	}
}

static int out_write(struct client *cl, struct out *o)
{
	uv_buf_t b = uv_buf_init(o->buf, (unsigned)o->len);

	o->req.data = o;
	return uv_write(&o->req, &cl->u.s, &b, 1, on_written);
}

/* Takes buf (malloc'd frame): written now when up, else kept for later. */
static int send_frame(struct client *cl, char *buf, size_t len)
{
	struct out *o = calloc(1, sizeof *o);
	int rc;

	if (!o) {
		free(buf);
		return -ENOMEM;
	}
	o->cl = cl;
	o->buf = buf;
	o->len = len;
	link_init(&o->link);
	if (cl->state != CL_UP) {
		link_insert_before(&cl->pending, &o->link);
		return 0;
	}
	if ((rc = out_write(cl, o)) < 0) {
		free(buf);
		free(o);
	}
	return rc;
}

static void flush_pending(struct client *cl)
{
	struct link *l;

	while (cl->state == CL_UP && (l = link_pop(&cl->pending))) {
		struct out *o = link_entry(l, struct out, link);
		int rc = out_write(cl, o);
		if (rc < 0) {
			free(o->buf);
			free(o);
			lost(cl, rc, "cannot write to jobd at %s: %s", cl->address,
			     uv_strerror(rc));
		}
	}
}

/* ---- ending ----------------------------------------------------------- */

static void on_closed(uv_handle_t *h)
{
	struct client *cl = h->data;

	cl->hstate = H_NONE;
	maybe_free(cl);
}

static void handle_close(struct client *cl)
{
	if (cl->hstate != H_OPEN)
		return;
	cl->hstate = H_CLOSING;
	uv_close(&cl->u.h, on_closed);
}

static void drop_pending(struct client *cl)
{
	struct link *l;

	while ((l = link_pop(&cl->pending))) {
		struct out *o = link_entry(l, struct out, link);
		free(o->buf);
		free(o);
	}
}

/* The connection ended by itself (or never came up): every call fails
 * with status, then the owner hears of it once. */
static void lost(struct client *cl, int status, const char *fmt, ...)
{
	int was_up = cl->state == CL_UP;
	va_list ap;

	if (cl->state == CL_LOST || cl->state == CL_CLOSING)
		return;
	va_start(ap, fmt);
	vsnprintf(cl->errtext, sizeof cl->errtext, fmt, ap);
	va_end(ap);
	cl->state = CL_LOST;
	handle_close(cl);
	drop_pending(cl);
	fail_all(cl, status, cl->errtext);
	if (cl->state != CL_LOST)
		return;   /* closed by a reply callback: nothing more to tell */
	if (!was_up && cl->on_connect)
		cl->on_connect(cl, status, cl->errtext, cl->arg);
	else if (was_up && cl->on_lost)
		cl->on_lost(cl, status, cl->errtext, cl->arg);
}

void client_close(struct client *cl)
{
	if (!cl || cl->state == CL_CLOSING)
		return;
	cl->state = CL_CLOSING;
	cl->busy++;
	drop_pending(cl);
	fail_all(cl, -ECANCELED, "the client was closed before the reply");
	if (cl->gai_pending)
		uv_cancel((uv_req_t *)&cl->gai);
	handle_close(cl);
	cl->busy--;
	maybe_free(cl);
}

/* ---- reading ---------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct client *cl = h->data;

	(void)suggested;
	*buf = uv_buf_init(cl->rbuf, sizeof cl->rbuf);
}

static void take_response(struct client *cl, struct wire_msg *m)
{
	struct call *c = call_find(cl, m->no);

	/* no 0: jobd could not read a request at all; with one call out it
	 * can only be that one's, otherwise nobody can tell whose it is */
	if (m->no == 0 && cl->ncalls == 1)
		c = call_any(cl);
	else if (m->no == 0) {
		lost(cl, -EPROTO, "jobd could not read a request: %s",
		     m->error ? m->error : "(no error text)");
		return;
	}
	if (c)   /* a reply to no call of ours: nothing waits for it */
		call_finish(cl, c, 0, m->error ? NULL : m->data ? m->data
		            : json_null(), m->error, m->code);
}

static void take_message(struct client *cl, const char *text, size_t len)
{
	struct wire_msg m;
	char err[256], *pong;
	size_t n;
	struct call *c;

	if (wire_decode(text, len, &m, err, sizeof err) < 0) {
		lost(cl, -EPROTO, "bad message from jobd: %s", err);
		return;
	}
	switch (m.type) {
	case WIRE_PING:
		if (wire_encode_bare(WIRE_PONG, &pong, &n) == 0)
			send_frame(cl, pong, n);
		break;
	case WIRE_PONG:
		break;
	case WIRE_REQUEST:
		if (cl->on_request)
			cl->on_request(cl, m.no, m.name, m.data, cl->arg);
		else
			lost(cl, -EPROTO, "bad message from jobd: a request "
			     "(type %d)", WIRE_REQUEST);
		break;
	case WIRE_EVENT:
		c = call_find(cl, m.no);
		if (c && c->on_event)
			c->on_event(c->arg, m.name, m.data);
		break;
	case WIRE_RESPONSE:
		take_response(cl, &m);
		break;
	}
	wire_msg_free(&m);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct client *cl = s->data;
	char *msg;
	size_t len;
	int rc;

	(void)buf;
	if (nread == 0 || cl->state != CL_UP)
		return;
	cl->busy++;
	if (nread == UV_EOF)
		lost(cl, -ECONNRESET, "jobd at %s closed the connection",
		     cl->address);
	else if (nread < 0)
		lost(cl, (int)nread, "connection to jobd at %s lost: %s",
		     cl->address, uv_strerror((int)nread));
	else if ((rc = framebuf_push(&cl->fb, cl->rbuf, (size_t)nread)) < 0)
		lost(cl, rc, rc == -EMSGSIZE ? "message from jobd longer than "
		     "%zu bytes" : "out of memory reading from jobd (%zu)",
		     cl->fb.max);
	while (cl->state == CL_UP && framebuf_pop(&cl->fb, &msg, &len) == 1)
		take_message(cl, msg, len);
	cl->busy--;
	maybe_free(cl);
}

/* ---- connecting ------------------------------------------------------- */

static void try_next(struct client *cl);
static void on_retry_closed(uv_handle_t *h);

static void on_connected(uv_connect_t *req, int status)
{
	struct client *cl = req->data;
	int rc;

	if (cl->state != CL_CONNECTING)
		return;   /* closed meanwhile: status is UV_ECANCELED */
	cl->busy++;
	if (status < 0 && cl->is_tcp && cl->ai) {
		cl->conn_err = status;   /* try the next address */
		cl->hstate = H_CLOSING;
		uv_close(&cl->u.h, on_retry_closed);
	} else if (status < 0) {
		lost(cl, status, "cannot reach jobd at %s: %s", cl->address,
		     uv_strerror(status));
	} else if ((rc = uv_read_start(&cl->u.s, on_alloc, on_read)) < 0) {
		lost(cl, rc, "cannot read from jobd at %s: %s", cl->address,
		     uv_strerror(rc));
	} else {
		cl->state = CL_UP;
		flush_pending(cl);
		if (cl->state == CL_UP && cl->on_connect)
			cl->on_connect(cl, 0, NULL, cl->arg);
	}
	cl->busy--;
	maybe_free(cl);
}

/* After a failed address: its handle is closed, on to the next. */
static void on_retry_closed(uv_handle_t *h)
{
	struct client *cl = h->data;

	cl->hstate = H_NONE;
	if (cl->state != CL_CONNECTING) {
		maybe_free(cl);
		return;
	}
	cl->busy++;
	try_next(cl);
	cl->busy--;
	maybe_free(cl);
}

static void try_next(struct client *cl)
{
	struct addrinfo *ai = cl->ai;
	int rc;

	if (!ai) {
		lost(cl, cl->conn_err, "cannot reach jobd at %s: %s",
		     cl->address, uv_strerror(cl->conn_err));
		return;
	}
	cl->ai = ai->ai_next;
	if ((rc = uv_tcp_init(cl->loop, &cl->u.tcp)) < 0) {
		lost(cl, rc, "cannot reach jobd at %s: %s", cl->address,
		     uv_strerror(rc));
		return;
	}
	cl->u.h.data = cl;
	cl->hstate = H_OPEN;
	rc = uv_tcp_connect(&cl->creq, &cl->u.tcp, ai->ai_addr, on_connected);
	if (rc < 0) {
		cl->conn_err = rc;
		cl->hstate = H_CLOSING;
		uv_close(&cl->u.h, on_retry_closed);
	}
}

static void on_resolved(uv_getaddrinfo_t *req, int status,
                        struct addrinfo *res)
{
	struct client *cl = req->data;

	cl->gai_pending = 0;
	if (cl->state != CL_RESOLVING) {
		if (res)
			uv_freeaddrinfo(res);
		maybe_free(cl);
		return;
	}
	cl->busy++;
	cl->state = CL_CONNECTING;
	cl->ais = cl->ai = res;
	cl->conn_err = -ECONNREFUSED;
	if (status < 0)
		lost(cl, status, "cannot reach jobd at %s: %s", cl->address,
		     uv_strerror(status));
	else
		try_next(cl);
	cl->busy--;
	maybe_free(cl);
}

/* "host:port" or "[v6addr]:port" into host and port. */
static int split_hostport(const char *s, char *host, size_t n, char *port,
                          size_t pn)
{
	const char *colon = strrchr(s, ':');
	size_t hl;

	if (!colon || !colon[1] || colon == s || strlen(colon + 1) >= pn)
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (s[0] == '[' && hl >= 2 && colon[-1] == ']') {
		s++;
		hl -= 2;
	}
	if (hl == 0 || hl >= n)
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memcpy(port, colon + 1, strlen(colon + 1) + 1);
	return 0;
}

static int start_tcp(struct client *cl, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	char host[256], port[32];
	int rc;

	if (split_hostport(cl->address, host, sizeof host, port,
	                   sizeof port) < 0) {
		snprintf(err, errlen, "expected HOST:PORT or a socket path, got "
		         "'%s'", cl->address);
		return -EINVAL;
	}
	cl->is_tcp = 1;
	cl->state = CL_RESOLVING;
	cl->gai.data = cl;
	rc = uv_getaddrinfo(cl->loop, &cl->gai, on_resolved, host, port,
	                    &hints);
	if (rc < 0) {
		snprintf(err, errlen, "cannot reach jobd at %s: %s", cl->address,
		         uv_strerror(rc));
		return rc;
	}
	cl->gai_pending = 1;
	return 0;
}

static int start_unix(struct client *cl, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	int rc;

	if (strlen(cl->address) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "socket path too long (%zu bytes, at most "
		         "%zu): %s", strlen(cl->address),
		         sizeof sa.sun_path - 1, cl->address);
		return -EINVAL;
	}
	if ((rc = uv_pipe_init(cl->loop, &cl->u.pipe, 0)) < 0) {
		snprintf(err, errlen, "cannot reach jobd at %s: %s", cl->address,
		         uv_strerror(rc));
		return rc;
	}
	cl->u.h.data = cl;
	cl->hstate = H_OPEN;
	cl->state = CL_CONNECTING;
	uv_pipe_connect(&cl->creq, &cl->u.pipe, cl->address, on_connected);
	return 0;
}

static struct client *client_new(uv_loop_t *loop, const char *address,
                                 const struct client_opts *opts)
{
	struct client *cl = calloc(1, sizeof *cl);

	if (!cl)
		return NULL;
	cl->loop = loop;
	cl->address = strdup(address);
	cl->password = opts && opts->password ? strdup(opts->password) : NULL;
	if (!cl->address || (opts && opts->password && !cl->password)) {
		free(cl->address);
		free(cl);
		return NULL;
	}
	for (size_t i = 0; i < NBUCKET; i++)
		link_init(&cl->buckets[i]);
	link_init(&cl->pending);
	framebuf_init(&cl->fb, opts && opts->max_frame ? opts->max_frame
	                                               : MSG_MAX);
	if (opts) {
		cl->on_connect = opts->on_connect;
		cl->on_lost = opts->on_lost;
		cl->on_request = opts->on_request;
		cl->arg = opts->arg;
	}
	cl->creq.data = cl;
	return cl;
}

int client_open(uv_loop_t *loop, const char *address,
                const struct client_opts *opts, struct client **out,
                char *err, size_t errlen)
{
	struct client *cl;
	int rc;

	*out = NULL;
	if (!address || !*address) {
		snprintf(err, errlen, "no address of jobd given");
		return -EINVAL;
	}
	if (!(cl = client_new(loop, address, opts))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (strchr(address, '/') || !strchr(address, ':'))
		rc = start_unix(cl, err, errlen);
	else
		rc = start_tcp(cl, err, errlen);
	if (rc < 0) {
		client_close(cl);   /* frees at once, or once the handle closed */
		return rc;
	}
	*out = cl;
	return 0;
}

/* ---- calling ---------------------------------------------------------- */

static int next_no(struct client *cl, int64_t *no)
{
	if (cl->ncalls >= WIRE_NO_MAX)
		return -EBUSY;
	do
		cl->next_no = cl->next_no % WIRE_NO_MAX + 1;
	while (call_find(cl, cl->next_no));
	*no = cl->next_no;
	return 0;
}

int client_call(struct client *cl, const char *type, json_t *data,
                client_event_cb *on_event, client_reply_cb *on_reply,
                void *arg)
{
	const char *pw = cl->authed ? NULL : cl->password;
	struct call *c;
	char *buf;
	size_t len;
	int64_t no;
	int rc;

	if (cl->state == CL_LOST || cl->state == CL_CLOSING)
		return -EPIPE;
	if (!on_reply)
		return -EINVAL;
	if ((rc = next_no(cl, &no)) < 0)
		return rc;
	if ((rc = wire_encode_request(type, no, data, pw, &buf, &len)) < 0)
		return rc;
	if (!(c = calloc(1, sizeof *c))) {
		free(buf);
		return -ENOMEM;
	}
	if ((rc = send_frame(cl, buf, len)) < 0) {
		free(c);
		return rc;
	}
	cl->authed = 1;
	c->no = no;
	c->on_event = on_event;
	c->on_reply = on_reply;
	c->arg = arg;
	link_insert_before(bucket(cl, no), &c->link);
	cl->ncalls++;
	return 0;
}

int client_respond(struct client *cl, int64_t no, json_t *data,
                   const char *error, int code)
{
	char *buf;
	size_t len;
	int rc;

	if (cl->state == CL_LOST || cl->state == CL_CLOSING)
		return -EPIPE;
	rc = error ? wire_encode_error(no, error, code, &buf, &len)
	           : wire_encode_response(no, data, &buf, &len);
	if (rc < 0)
		return rc;
	return send_frame(cl, buf, len);
}

size_t client_outstanding(const struct client *cl)
{
	return cl->ncalls;
}
