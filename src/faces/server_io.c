/* server_io.c — the stream faces' bytes: what a connection makes jobd
 * hold (counted against max_buffered), writing (corked batches), the
 * replies that wait for the commit of what they acknowledge, and reading
 * messages (core/wire.h) into ops calls.
 *
 * Memory: a client that sends garbage gets an error reply; one that sends
 * a message over 16 MiB (64 KiB before its password) is dropped.  What
 * all clients make jobd hold, their input buffers and their replies not
 * yet written (each with its allocations' overhead), is counted in
 * srv->buffered against max_buffered.  A client whose replies pile up
 * unread is not read from until they drain, so pings or requests it never
 * collects cost nothing more; a read that would take the total over
 * max_buffered drops its client.  Nobody else is affected. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "jobd.h"
#include "core/frame.h"
#include "core/wire.h"
#include "engine/log.h"
#include "faces/ops.h"
#include "faces/master.h"
#include "faces/server_conn.h"

#define WRITE_QUEUE_MAX (64u << 20)   /* a client this far behind is dropped */
#define HIGH_WATER (1u << 20)      /* replies unread: stop reading the client */
#define ALLOC_OVERHEAD 32          /* malloc's header and rounding, counted
                                      per allocation */

struct wreq {
	uv_write_t req;
	struct conn *conn;
	char *buf;
	size_t cost;             /* counted in out_charged */
};

/* ---- memory ---- */

static void charge(struct conn *cn, size_t n)
{
	cn->out_charged += n;
	cn->srv->buffered += n;
}

static void discharge(struct conn *cn, size_t n)
{
	cn->out_charged -= n;
	cn->srv->buffered -= n;
}

/* The input buffer's size, counted again after it changed. */
static void charge_input(struct conn *cn)
{
	size_t now = cn->fb.cap ? cn->fb.cap + ALLOC_OVERHEAD : 0;
	cn->srv->buffered -= cn->in_charged;
	cn->srv->buffered += now;
	cn->in_charged = now;
}

static int over_budget(const struct server *srv)
{
	return srv->buffered > (size_t)engine_config(srv->e)->max_buffered;
}

/* Its replies pile up unread (or it holds some while all clients together
 * are over the budget): its next requests wait. */
static int conn_backlogged(const struct conn *cn)
{
	return cn->out_charged > HIGH_WATER ||
	       (cn->out_charged > 0 && over_budget(cn->srv));
}

/* ... and it may go on again (below half the mark: not at every reply) */
static int conn_drained(const struct conn *cn)
{
	return cn->out_charged <= HIGH_WATER / 2 &&
	       (cn->out_charged == 0 || !over_budget(cn->srv));
}

/* ---- writing ---- */

static void conn_process(struct conn *cn);

static void write_done(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct conn *cn = w->conn;
	discharge(cn, w->cost);
	free(w->buf);
	free(w);
	if (status == 0 && cn->close_after_write &&
	    uv_stream_get_write_queue_size(&cn->h.stream) == 0)
		conn_close(cn);
	/* a client that was not read from while its replies piled up */
	if (!cn->closing && !cn->reading && !cn->close_after_write &&
	    conn_drained(cn))
		conn_process(cn);
}

/* Writes buf (taken; size bytes allocated) to cn. */
static void conn_write(struct conn *cn, char *buf, size_t len, size_t size)
{
	struct wreq *w = malloc(sizeof *w);
	if (!w) {
		free(buf);
		return;
	}
	w->conn = cn;
	w->buf = buf;
	w->cost = sizeof *w + size + 2 * ALLOC_OVERHEAD;
	charge(cn, w->cost);
	uv_buf_t b = uv_buf_init(buf, (unsigned)len);
	if (uv_write(&w->req, &cn->h.stream, &b, 1, write_done) < 0) {
		discharge(cn, w->cost);
		free(buf);
		free(w);
		conn_close(cn);
	}
}

/* While corked, the messages sent to a connection gather in its buffer
 * and go out in one write each when uncorked: a batch of replies that
 * one commit released costs one system call per client, not per reply. */
static int cork_add(struct conn *cn, const char *frame, size_t len)
{
	struct server *srv = cn->srv;

	if (cn->olen + len > cn->ocap) {
		size_t cap = cn->ocap ? cn->ocap : 4096;
		while (cap < cn->olen + len)
			cap *= 2;
		char *p = realloc(cn->obuf, cap);
		if (!p)
			return -ENOMEM;
		charge(cn, cap - cn->ocap + (cn->ocap ? 0 : ALLOC_OVERHEAD));
		cn->obuf = p;
		cn->ocap = cap;
	}
	memcpy(cn->obuf + cn->olen, frame, len);
	cn->olen += len;
	if (!cn->in_cork) {
		cn->in_cork = 1;
		cn->cork_next = srv->cork_list;
		srv->cork_list = cn;
	}
	return 0;
}

static void uncork(struct server *srv)
{
	srv->corked = 0;
	while (srv->cork_list) {
		struct conn *cn = srv->cork_list;
		srv->cork_list = cn->cork_next;
		cn->in_cork = 0;
		if (cn->olen && !cn->closing) {
			discharge(cn, cn->ocap + ALLOC_OVERHEAD);
			conn_write(cn, cn->obuf, cn->olen, cn->ocap);
			cn->obuf = NULL;
			cn->olen = cn->ocap = 0;
		}
		cn->olen = 0;
	}
}

/* Sends frame (taken: a message and its EOT, len bytes; wire.h). */
static void conn_send(struct conn *cn, char *frame, size_t len)
{
	if (!frame || cn->closing) {
		free(frame);
		return;
	}
	/* replies that are not answers to what we read now (a run finished)
	 * cannot wait: a client far behind is dropped */
	if (cn->out_charged > WRITE_QUEUE_MAX ||
	    (cn->out_charged > HIGH_WATER && over_budget(cn->srv))) {
		log_warn("client %s does not read its replies (%zu bytes held); "
		         "dropped", cn->peer, cn->out_charged);
		free(frame);
		conn_close(cn);
		return;
	}
	if (cn->srv->corked && cork_add(cn, frame, len) == 0) {
		free(frame);
		return;
	}
	conn_write(cn, frame, len, len);
}

/* Group commit: what we acknowledge is stored, so a response that
 * acknowledges writes waits for their commit (persist_flush).  The
 * responses made while one read's requests are handled are held and share
 * one barrier per slice of KICK_EVERY requests (a client pipelining
 * requests gets one commit per slice, not one per request, and the first
 * slice commits while the next is handled); a later response (a run
 * finished) gets its own.  A response whose request wrote nothing (status,
 * lookup, an error, a pong) goes at once, so reads are served while the
 * store is unavailable, unless replies of its connection are still
 * waiting: barriers complete in order, and a connection's replies keep
 * theirs. */
struct held {
	struct held *next;
	struct conn *conn;       /* kept (refs) until the response is sent */
	char *text;              /* the response, a frame */
	size_t len;
	size_t cost;             /* counted in its conn's out_charged */
	json_int_t no;           /* its request's, for unstored() */
	int ok;                  /* a success */
};
#define KICK_EVERY 16       /* requests of one read per commit slice */

static int code_of(int err)
{
	return err == -ESRCH ? EXIT_NOT_RUNNING : err_exit_code(err);
}

/* An error response as a frame; NULL when out of memory. */
static char *error_frame(json_int_t no, int err, const char *msg,
                         size_t *len)
{
	char *frame;

	if (wire_encode_error(no, msg, code_of(err), &frame, len) < 0)
		return NULL;
	return frame;
}

/* A success reply whose commit failed must not go out: it becomes an
 * error naming why, under the same request number. */
static void unstored(struct held *h, const char *why)
{
	char text[320];
	if (!h->ok)
		return;
	snprintf(text, sizeof text, "not stored: %s", why);
	free(h->text);
	h->text = error_frame(h->no, -EIO, text, &h->len);
}

/* persist_flush's callback: the held responses (a list) go out. */
static void held_sent(void *arg, int rc, const char *why)
{
	struct held *first = arg;
	struct server *srv = first->conn->srv;

	srv->corked = 1;
	for (struct held *h = arg; h; h = h->next) {
		discharge(h->conn, h->cost);
		if (rc < 0)
			unstored(h, why);
		conn_send(h->conn, h->text, h->len);
	}
	uncork(srv);
	for (struct held *h = arg, *next; h; h = next) {
		struct conn *cn = h->conn;
		next = h->next;
		if (--cn->refs == 0 && cn->closed)
			conn_free_now(cn);
		free(h);
	}
}

/* Responds frame text (taken) to request no; ok: a success; acks: it
 * acknowledges writes (may wait for their commit). */
static void conn_respond(struct conn *cn, char *text, size_t len,
                         json_int_t no, int ok, int acks)
{
	struct server *srv = cn->srv;

	if (!acks && cn->refs == 0) {
		conn_send(cn, text, len);
		return;
	}
	struct held *h = malloc(sizeof *h);
	if (!h || !text) {
		free(h);
		free(text);
		log_error("out of memory: a reply to %s is lost", cn->peer);
		return;
	}
	h->next = NULL;
	h->conn = cn;
	h->text = text;
	h->len = len;
	h->no = no;
	h->ok = ok;
	h->cost = sizeof *h + len + 2 * ALLOC_OVERHEAD;
	charge(cn, h->cost);
	cn->refs++;
	if (!srv->read_depth) {
		persist_flush(srv->e, held_sent, h);
		return;
	}
	*srv->held_last = h;
	srv->held_last = &h->next;
}

static void held_send(struct server *srv)
{
	struct held *first = srv->held_first;
	if (!first)
		return;
	srv->held_first = NULL;
	srv->held_last = &srv->held_first;
	persist_flush(srv->e, held_sent, first);
}

void conn_error(struct conn *cn, int64_t no, int err, const char *msg)
{
	size_t len;
	char *frame = error_frame(no, err, msg, &len);

	conn_respond(cn, frame, len, no, 0, 0);   /* in order */
}

/* The call is answered: it leaves its connection.  1 when the answer
 * acknowledges writes: answered later, or while dispatched with writes. */
static int call_end(struct conn_call *cc)
{
	struct server *srv = cc->conn->srv;
	int acks = srv->dispatching != cc ||
	           persist_writes(srv->e) != srv->dispatch_writes;
	call_abandon(&cc->c);
	link_remove(&cc->clink);
	return acks;
}

static void call_respond(struct call *c, json_t *data, int err,
                         const char *msg)
{
	struct conn_call *cc = (struct conn_call *)c;
	int acks = call_end(cc);
	char *frame = NULL;
	size_t len = 0;

	if (err)
		frame = error_frame(c->no, err, msg, &len);
	else if (wire_encode_response(c->no, data, &frame, &len) < 0)
		frame = NULL;
	json_decref(data);
	conn_respond(cc->conn, frame, len, c->no, !err, acks);
	free(cc);
}

/* The same for data that is JSON text already: the envelope around it. */
static void call_respond_text(struct call *c, char *data, size_t len)
{
	struct conn_call *cc = (struct conn_call *)c;
	int acks = call_end(cc);
	char *frame;
	size_t flen;

	if (wire_encode_response_text(c->no, data, len, &frame, &flen) < 0)
		frame = NULL;
	free(data);
	conn_respond(cc->conn, frame, flen, c->no, 1, acks);
	free(cc);
}

static void call_event(struct call *c, const char *kind, json_t *data)
{
	struct conn_call *cc = (struct conn_call *)c;
	char *frame;
	size_t len;

	if (wire_encode_event(c->no, kind, data, &frame, &len) < 0)
		frame = NULL;
	json_decref(data);
	conn_send(cc->conn, frame, len);
}

int conn_request(struct conn *cn, const char *name, int64_t no, json_t *data)
{
	char *frame;
	size_t len;
	int rc = wire_encode_request(name, no, data, NULL, &frame, &len);
	if (rc < 0)
		return rc;
	if (cn->closing) {
		free(frame);
		return -EPIPE;
	}
	conn_send(cn, frame, len);
	return 0;
}

void conn_ping(struct conn *cn)
{
	char *frame;
	size_t len;
	if (wire_encode_bare(WIRE_PING, &frame, &len) == 0)
		conn_send(cn, frame, len);
}

/* ---- reading ---- */

static void handle_request(struct conn *cn, const struct wire_msg *m)
{
	struct server *srv = cn->srv;
	int64_t no = m->no;

	if (!conn_authorise(cn, m->password, no))
		return;
	struct conn_call *cc = calloc(1, sizeof *cc);
	if (!cc)
		return conn_error(cn, no, -ENOMEM, "out of memory");
	cc->conn = cn;
	cc->c.e = cn->srv->e;
	cc->c.no = no;
	cc->c.uid = cn->uid;
	cc->c.admin = cn->admin;
	cc->c.role = cn->role;
	cc->c.face = cn;
	cc->c.respond = call_respond;
	cc->c.respond_text = call_respond_text;
	cc->c.event = cn->is_tcp ? NULL : call_event;
	link_insert_before(&cn->calls, &cc->clink);
	srv->dispatching = cc;
	srv->dispatch_writes = persist_writes(srv->e);
	if (!cn->is_tcp || strcmp(m->name, "register-worker") != 0 ||
	    master_register(&cc->c, cn, m->data) == -ENOENT)
		ops_dispatch(&cc->c, m->name, m->data);
	srv->dispatching = NULL;
}

/* A request that cannot be decoded (a bad `no`, a password that is not a
 * string): its password is checked first, as for any request, so a peer
 * that owes it and has not got it learns nothing more and is closed, and
 * so is one that sends a wrong one where none was owed (1 if the
 * connection goes on). */
static int preauth_check(struct conn *cn, const char *text, size_t len)
{
	json_t *msg = json_loadb(text, len, 0, NULL);
	json_t *req = json_array_get(msg, 1);
	json_int_t no = json_integer_value(json_object_get(req, "no"));
	int ok = 1;
	if (no < 1 || no > WIRE_NO_MAX)
		no = 0;                /* an error never echoes a bad no */
	if (json_is_integer(json_array_get(msg, 0)) &&
	    json_integer_value(json_array_get(msg, 0)) == WIRE_REQUEST &&
	    json_is_object(req))
		ok = conn_authorise(cn, json_string_value(json_object_get(req,
		                    "password")), no);
	json_decref(msg);
	return ok;
}

/* One message: a request, a ping (answered), a pong (ignored); anything
 * else, or what cannot be read, gets an error under the request's no
 * when it had a valid one (else 0). */
static void handle_message(struct conn *cn, const char *text, size_t len)
{
	struct wire_msg m;
	char err[300], *frame;
	size_t flen;
	int rc = wire_decode_flags(text, len, WIRE_EXTRA_OK | WIRE_NO_NUL |
	                           WIRE_ANY_PASSWORD, &m, err, sizeof err);

	if (rc < 0) {
		if (!preauth_check(cn, text, len))
			return;
		/* only a request's no is answered: a response or event from
		 * the client answered under its no would pass for the reply
		 * to the client's request of that no */
		conn_error(cn, m.type == WIRE_REQUEST ? m.no : 0, rc,
		           rc == -ENOMEM ? "out of memory" : err);
		return;
	}
	if (m.type == WIRE_PING) {
		if (wire_encode_bare(WIRE_PONG, &frame, &flen) < 0)
			frame = NULL;
		conn_respond(cn, frame, flen, 0, 0, 0);
	} else if (m.type == WIRE_REQUEST) {
		handle_request(cn, &m);
	} else if (cn->worker && (m.type == WIRE_RESPONSE ||
	                          m.type == WIRE_PONG)) {
		master_heard(cn, &m);    /* its answer to the master */
	} else if (m.type != WIRE_PONG) {
		conn_error(cn, 0, -EINVAL, m.type == WIRE_RESPONSE ? "unexpected "
		           "message type 1 (a response)" : "unexpected message "
		           "type 4 (an event)");
	}
	wire_msg_free(&m);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char slab[64 * 1024];   /* one loop thread: one buffer */
	(void)h;
	(void)suggested;
	*buf = uv_buf_init(slab, sizeof slab);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* Handles the messages cn has buffered until its replies pile up
 * unread, then reads on or stops reading: the rest waits in its buffer
 * until write_done finds the replies drained. */
static void conn_process(struct conn *cn)
{
	char *msg;
	size_t len;

	cn->srv->read_depth++;
	/* after "invalid password" nothing more is read: the close is due */
	for (int n = 1; !cn->closing && !cn->close_after_write &&
	                !conn_backlogged(cn) &&
	                framebuf_pop(&cn->fb, &msg, &len) == 1; n++) {
		handle_message(cn, msg, len);
		/* a long read commits in slices: the first slice's commit
		 * overlaps the handling of the next, and its replies go out
		 * sooner (the client sends more meanwhile) */
		if (n % KICK_EVERY == 0) {
			held_send(cn->srv);
			persist_kick(cn->srv->e);
		}
	}
	if (--cn->srv->read_depth == 0)
		held_send(cn->srv);
	if (cn->closing)
		return;
	/* all read: a buffer that a big message grew is given back */
	if (cn->fb.off == cn->fb.len && cn->fb.cap > PREAUTH_MSG_MAX) {
		framebuf_free(&cn->fb);
		charge_input(cn);
	}
	int stop = cn->close_after_write || conn_backlogged(cn);
	if (stop && cn->reading) {
		uv_read_stop(&cn->h.stream);
		cn->reading = 0;
	} else if (!stop && !cn->reading) {
		if (uv_read_start(&cn->h.stream, on_alloc, on_read) < 0)
			return conn_close(cn);
		cn->reading = 1;
	}
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct conn *cn = s->data;
	size_t cap = cn->fb.cap;

	if (n < 0) {
		conn_close(cn);
		return;
	}
	if (framebuf_push(&cn->fb, buf->base, (size_t)n) < 0) {
		log_warn("client %s sent a message over %zu bytes%s; dropped",
		         cn->peer, cn->fb.max, cn->need_auth || cn->fb.max <
		         MSG_MAX ? " without the password" : "");
		conn_close(cn);
		return;
	}
	if (cn->fb.cap != cap) {
		charge_input(cn);
		if (cn->fb.cap > cap && over_budget(cn->srv)) {
			log_warn("max_buffered (%" PRId64 " bytes) is spent: client "
			         "%s, with %zu bytes of unfinished messages, dropped",
			         engine_config(cn->srv->e)->max_buffered, cn->peer,
			         cn->fb.len - cn->fb.off);
			conn_close(cn);
			return;
		}
	}
	conn_process(cn);
}

int conn_read_start(struct conn *cn)
{
	int rc = uv_read_start(&cn->h.stream, on_alloc, on_read);

	if (rc == 0)
		cn->reading = 1;
	return rc;
}

void conn_free_now(struct conn *cn)
{
	/* what is left: the cork buffer and the input buffer (the writes and
	 * held replies have ended) */
	discharge(cn, cn->out_charged);
	free(cn->obuf);
	framebuf_free(&cn->fb);
	charge_input(cn);
	free(cn);
}
