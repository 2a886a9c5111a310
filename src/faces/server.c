/* server.c — the stream faces: jobctl's Unix socket and the queue wire
 * TCP port.  Both speak EOT-framed JSON (docs/protocol.md); this file only
 * decodes frames into ops calls and encodes the answers.
 *
 * Who is asking (docs/security.md): on the Unix socket the peer's
 * credentials (SO_PEERCRED); on TCP what the peer proved: the password, or
 * only that it is on loopback (where there is no password, or with
 * always_allow_localhost), which says nothing about which local user it
 * is.  The call carries the connection's role; ops_dispatch decides what
 * the role may ask.
 *
 * Memory: a client that sends garbage gets an error reply; one that sends
 * a message over 16 MiB (64 KiB before its password) is dropped.  What
 * all clients make jobd hold, their input buffers and their replies not
 * yet written (each with its allocations' overhead), is counted in
 * srv->buffered against max_buffered.  A client whose replies pile up
 * unread is not read from until they drain, so pings or requests it never
 * collects cost nothing more; a read that would take the total over
 * max_buffered drops its client.  Nobody else is affected. */
#include "faces/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/frame.h"
#include "engine/log.h"
#include "faces/ops.h"

#define WRITE_QUEUE_MAX (64u << 20)   /* a client this far behind is dropped */
#define HIGH_WATER (1u << 20)      /* replies unread: stop reading the client */
#define PREAUTH_MSG_MAX (64u << 10)   /* a message before the password */
#define ALLOC_OVERHEAD 32          /* malloc's header and rounding, counted
                                      per allocation */

struct conn {
	union {
		uv_stream_t stream;
		uv_pipe_t pipe;
		uv_tcp_t tcp;
	} h;
	struct server *srv;
	struct framebuf fb;
	struct link link;        /* server.conns */
	struct link calls;       /* struct conn_call.clink: pending requests */
	uint32_t uid;
	int admin;
	int is_tcp;
	int role;                /* enum call_role */
	int need_auth;           /* TCP: nothing is served before the password */
	struct in6_addr addr;    /* TCP: the peer's address (IPv4 mapped) */
	uint64_t since;          /* uv_now when accepted */
	int reading;             /* uv_read_start in force */
	size_t in_charged;       /* its input buffer, counted in srv->buffered */
	size_t out_charged;      /* its replies held or being written, counted */
	int closing;
	int closed;              /* its handle is closed: free at refs 0 */
	int refs;                /* replies waiting for a commit */
	int close_after_write;
	char peer[64];
	/* corked: what conn_send made, written in one go by uncork() */
	char *obuf;
	size_t olen, ocap;
	struct conn *cork_next;
	int in_cork;
};

struct conn_call {
	struct call c;
	struct conn *conn;
	struct link clink;
};

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

static void conn_close(struct conn *cn);
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
static int corked;
static struct conn *cork_list;

static int cork_add(struct conn *cn, const char *text, size_t len)
{
	if (cn->olen + len + 1 > cn->ocap) {
		size_t cap = cn->ocap ? cn->ocap : 4096;
		while (cap < cn->olen + len + 1)
			cap *= 2;
		char *p = realloc(cn->obuf, cap);
		if (!p)
			return -ENOMEM;
		charge(cn, cap - cn->ocap + (cn->ocap ? 0 : ALLOC_OVERHEAD));
		cn->obuf = p;
		cn->ocap = cap;
	}
	memcpy(cn->obuf + cn->olen, text, len);
	cn->obuf[cn->olen + len] = FRAME_EOT;
	cn->olen += len + 1;
	if (!cn->in_cork) {
		cn->in_cork = 1;
		cn->cork_next = cork_list;
		cork_list = cn;
	}
	return 0;
}

static void uncork(void)
{
	corked = 0;
	while (cork_list) {
		struct conn *cn = cork_list;
		cork_list = cn->cork_next;
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

/* Sends text (taken; len bytes, writable at text[len]) as one message. */
static void conn_send(struct conn *cn, char *text, size_t len)
{
	if (!text || cn->closing) {
		free(text);
		return;
	}
	/* replies that are not answers to what we read now (a run finished)
	 * cannot wait: a client far behind is dropped */
	if (cn->out_charged > WRITE_QUEUE_MAX ||
	    (cn->out_charged > HIGH_WATER && over_budget(cn->srv))) {
		log_warn("client %s does not read its replies (%zu bytes held); "
		         "dropped", cn->peer, cn->out_charged);
		free(text);
		conn_close(cn);
		return;
	}
	if (corked && cork_add(cn, text, len) == 0) {
		free(text);
		return;
	}
	text[len] = FRAME_EOT;          /* the NUL's place: one write */
	conn_write(cn, text, len + 1, len + 1);
}

/* msg (taken) as text; NULL when out of memory */
static char *msg_text(json_t *msg, size_t *len)
{
	char *text = json_dumps(msg, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(msg);
	*len = text ? strlen(text) : 0;
	return text;
}

static void conn_send_json(struct conn *cn, json_t *msg)
{
	size_t len;
	char *text = msg_text(msg, &len);
	conn_send(cn, text, len);
}

/* Group commit: what we acknowledge is stored, so a response that
 * acknowledges writes waits for their commit (engine_flush).  The
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
	char *text;              /* the response */
	size_t len;
	size_t cost;             /* counted in its conn's out_charged */
	json_int_t no;           /* its request's, for unstored() */
	int ok;                  /* a success */
};
static int read_depth;
#define KICK_EVERY 16       /* requests of one read per commit slice */
static struct held *held_first, **held_last = &held_first;
/* the request being dispatched, and the store's write count before it */
static struct conn_call *dispatching;
static uint64_t dispatch_writes;

static json_t *error_msg(json_int_t no, int err, const char *msg);
static void conn_free_now(struct conn *cn);

/* A success reply whose commit failed must not go out: it becomes an
 * error naming why, under the same request number. */
static void unstored(struct held *h, const char *why)
{
	char text[320];
	if (!h->ok)
		return;
	snprintf(text, sizeof text, "not stored: %s", why);
	free(h->text);
	h->text = msg_text(error_msg(h->no, -EIO, text), &h->len);
}

/* engine_flush's callback: the held responses (a list) go out. */
static void held_sent(void *arg, int rc, const char *why)
{
	corked = 1;
	for (struct held *h = arg; h; h = h->next) {
		discharge(h->conn, h->cost);
		if (rc < 0)
			unstored(h, why);
		conn_send(h->conn, h->text, h->len);
	}
	uncork();
	for (struct held *h = arg, *next; h; h = next) {
		struct conn *cn = h->conn;
		next = h->next;
		if (--cn->refs == 0 && cn->closed)
			conn_free_now(cn);
		free(h);
	}
}

/* Responds text (taken) to request no; ok: a success; acks: it
 * acknowledges writes (may wait for their commit). */
static void conn_respond(struct conn *cn, char *text, size_t len,
                         json_int_t no, int ok, int acks)
{
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
	h->cost = sizeof *h + len + 1 + 2 * ALLOC_OVERHEAD;
	charge(cn, h->cost);
	cn->refs++;
	if (!read_depth) {
		engine_flush(cn->srv->e, held_sent, h);
		return;
	}
	*held_last = h;
	held_last = &h->next;
}

static void held_send(struct engine *e)
{
	struct held *first = held_first;
	if (!first)
		return;
	held_first = NULL;
	held_last = &held_first;
	engine_flush(e, held_sent, first);
}

static int code_of(int err)
{
	return err == -ESRCH ? EXIT_NOT_RUNNING : err_exit_code(err);
}

static json_t *error_msg(json_int_t no, int err, const char *msg)
{
	return json_pack("[i, {s:I, s:s, s:i}]", 1, "no", no, "error", msg,
	                 "code", code_of(err));
}

static void conn_respond_json(struct conn *cn, json_t *msg, json_int_t no,
                              int ok, int acks)
{
	size_t len;
	char *text = msg_text(msg, &len);
	conn_respond(cn, text, len, no, ok, acks);
}

static void send_error(struct conn *cn, json_int_t no, int err, const char *msg)
{
	conn_respond_json(cn, error_msg(no, err, msg), no, 0, 0);  /* in order */
}

/* The call is answered: it leaves its connection.  1 when the answer
 * acknowledges writes: answered later, or while dispatched with writes. */
static int call_end(struct conn_call *cc)
{
	int acks = dispatching != cc ||
	           engine_writes(cc->conn->srv->e) != dispatch_writes;
	call_abandon(&cc->c);
	link_remove(&cc->clink);
	return acks;
}

static void call_respond(struct call *c, json_t *data, int err,
                         const char *msg)
{
	struct conn_call *cc = (struct conn_call *)c;
	int acks = call_end(cc);
	if (err)
		conn_respond_json(cc->conn, error_msg(c->no, err, msg), c->no, 0,
		                  acks);
	else
		conn_respond_json(cc->conn, json_pack("[i, {s:I, s:o}]", 1, "no",
		                  (json_int_t)c->no, "data", data), c->no, 1, acks);
	free(cc);
}

/* The same for data that is JSON text already: the envelope around it. */
static void call_respond_text(struct call *c, char *data, size_t len)
{
	struct conn_call *cc = (struct conn_call *)c;
	int acks = call_end(cc);
	char head[48];
	int n = snprintf(head, sizeof head, "[1,{\"no\":%lld,\"data\":",
	                 (long long)c->no);
	char *text = malloc((size_t)n + len + 3);
	if (text) {
		memcpy(text, head, (size_t)n);
		memcpy(text + n, data, len);
		memcpy(text + n + len, "}]", 3);
	}
	free(data);
	conn_respond(cc->conn, text, (size_t)n + len + 2, c->no, 1, acks);
	free(cc);
}

static void call_event(struct call *c, const char *kind, json_t *data)
{
	struct conn_call *cc = (struct conn_call *)c;
	conn_send_json(cc->conn, json_pack("[i, {s:I, s:s, s:o}]", 4, "no",
	                              (json_int_t)c->no, "event", kind,
	                              "data", data));
}

/* ---- reading ---- */

/* Wrong passwords are limited per address: PW_FAILS in PW_WINDOW_MS, then
 * none is even compared until the window ends.  The table is bounded: when
 * it is full the address whose window began first is forgotten. */
#define PW_SLOTS 256
#define PW_FAILS 5
#define PW_WINDOW_MS 60000
static struct pwfail {
	struct in6_addr addr;
	uint64_t since;          /* its window's start (uv_now) */
	int fails;               /* 0: a free slot */
} pwfails[PW_SLOTS];

static struct pwfail *pw_slot(const struct in6_addr *a, uint64_t now,
                              int create)
{
	struct pwfail *victim = NULL;
	for (int i = 0; i < PW_SLOTS; i++) {
		struct pwfail *f = &pwfails[i];
		if (f->fails && now - f->since >= PW_WINDOW_MS)
			f->fails = 0;                      /* its window is over */
		if (!f->fails) {
			if (!victim || victim->fails)
				victim = f;
			continue;
		}
		if (memcmp(&f->addr, a, sizeof *a) == 0)
			return f;
		if (!victim || (victim->fails && f->since < victim->since))
			victim = f;
	}
	if (!create)
		return NULL;
	victim->addr = *a;
	victim->since = now;
	victim->fails = 0;
	return victim;
}

/* Compares in time that depends on the given password's length only. */
static int pw_equal(const char *given, const char *pw)
{
	size_t gl = strlen(given), pl = strlen(pw);
	unsigned char d = gl != pl;
	for (size_t i = 0; i < gl; i++)
		d |= (unsigned char)given[i] ^ (unsigned char)pw[i % pl];
	return d == 0;
}

/* Refuses the request and closes the connection after the reply. */
static int deny(struct conn *cn, json_int_t no, const char *msg)
{
	send_error(cn, no, -EACCES, msg);
	cn->close_after_write = 1;
	return 0;
}

/* 1 if the request may go on.  A password, where one is configured and
 * the connection has not given it yet, is checked even on a connection
 * that needs none (loopback): right, it raises the role; wrong, it closes
 * the connection, as it does on any other. */
static int authorise(struct conn *cn, json_t *req, json_int_t no)
{
	const char *pw = engine_config(cn->srv->e)->password;
	const char *given = json_string_value(json_object_get(req, "password"));
	uint64_t now = uv_now(engine_loop(cn->srv->e));

	if (!cn->is_tcp || cn->role == ROLE_WIRE_PASSWORD || !pw || !*pw)
		given = NULL;           /* nothing to prove with it */
	if (!given && !cn->need_auth)
		return 1;
	if (!given)
		return deny(cn, no, pw && *pw ? "invalid password" :
		            "clients from other hosts need the password, and "
		            "none is configured");
	struct pwfail *f = pw_slot(&cn->addr, now, 0);
	if (f && f->fails >= PW_FAILS)
		return deny(cn, no, "too many wrong passwords from this address; "
		            "try again later");
	if (!pw_equal(given, pw)) {
		pw_slot(&cn->addr, now, 1)->fails++;
		log_warn("client %s: wrong password", cn->peer);
		return deny(cn, no, "invalid password");
	}
	cn->role = ROLE_WIRE_PASSWORD;
	cn->need_auth = 0;
	cn->fb.max = MSG_MAX;
	return 1;
}

static void handle_request(struct conn *cn, json_t *req)
{
	json_t *nov = json_object_get(req, "no");
	json_int_t no = json_is_integer(nov) ? json_integer_value(nov) : 0;
	const char *type = json_string_value(json_object_get(req, "type"));

	if (!json_is_object(req))
		return send_error(cn, 0, -EINVAL, "request must be an object");
	if (!authorise(cn, req, no))
		return;
	if (no < 1 || no > 999999)
		return send_error(cn, 0, -EINVAL, "'no' must be an integer "
		                  "1..999999");
	if (!type)
		return send_error(cn, no, -EINVAL, "missing request 'type'");

	struct conn_call *cc = calloc(1, sizeof *cc);
	if (!cc)
		return send_error(cn, no, -ENOMEM, "out of memory");
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
	dispatching = cc;
	dispatch_writes = engine_writes(cn->srv->e);
	ops_dispatch(&cc->c, type, json_object_get(req, "data"));
	dispatching = NULL;
}

static void handle_message(struct conn *cn, const char *text, size_t len)
{
	json_error_t je;
	json_t *msg = json_loadb(text, len, 0, &je);
	json_t *type = json_array_get(msg, 0);

	if (!msg) {
		char err[300];
		snprintf(err, sizeof err, "invalid JSON: %s at byte %d", je.text,
		         je.position);
		send_error(cn, 0, -EINVAL, err);
		return;
	}
	if (!json_is_array(msg) || !json_is_integer(type))
		send_error(cn, 0, -EINVAL, "message must be an array [type, data]");
	else if (json_integer_value(type) == 2)
		conn_respond_json(cn, json_pack("[i]", 3), 0, 0, 0);
	else if (json_integer_value(type) == 0)
		handle_request(cn, json_array_get(msg, 1));
	else if (json_integer_value(type) != 3)
		send_error(cn, 0, -EINVAL, "unknown message type");
	json_decref(msg);
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

	read_depth++;
	/* after "invalid password" nothing more is read: the close is due */
	for (int n = 1; !cn->closing && !cn->close_after_write &&
	                !conn_backlogged(cn) &&
	                framebuf_pop(&cn->fb, &msg, &len) == 1; n++) {
		handle_message(cn, msg, len);
		/* a long read commits in slices: the first slice's commit
		 * overlaps the handling of the next, and its replies go out
		 * sooner (the client sends more meanwhile) */
		if (n % KICK_EVERY == 0) {
			held_send(cn->srv->e);
			engine_kick(cn->srv->e);
		}
	}
	if (--read_depth == 0)
		held_send(cn->srv->e);
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

/* ---- connections ---- */

static void conn_free_now(struct conn *cn)
{
	/* what is left: the cork buffer and the input buffer (the writes and
	 * held replies have ended) */
	discharge(cn, cn->out_charged);
	free(cn->obuf);
	framebuf_free(&cn->fb);
	charge_input(cn);
	free(cn);
}

static void conn_free(uv_handle_t *h)
{
	struct conn *cn = h->data;
	cn->closed = 1;
	if (cn->refs == 0)
		conn_free_now(cn);
}

static void conn_close(struct conn *cn)
{
	if (cn->closing)
		return;
	cn->closing = 1;
	for (struct link *l; (l = link_pop(&cn->calls));) {
		struct conn_call *cc = link_entry(l, struct conn_call, clink);
		call_abandon(&cc->c);
		free(cc);
	}
	link_remove(&cn->link);
	if (--cn->srv->n_conns < engine_config(cn->srv->e)->max_connections)
		cn->srv->refusing = 0;
	uv_close((uv_handle_t *)&cn->h.stream, conn_free);
}

static struct conn *conn_new(struct server *srv, int is_tcp)
{
	struct conn *cn = calloc(1, sizeof *cn);
	if (!cn)
		return NULL;
	cn->srv = srv;
	cn->is_tcp = is_tcp;
	cn->since = uv_now(engine_loop(srv->e));
	framebuf_init(&cn->fb, is_tcp ? PREAUTH_MSG_MAX : MSG_MAX);
	link_init(&cn->calls);
	link_insert_before(&srv->conns, &cn->link);
	srv->n_conns++;
	if (is_tcp)
		uv_tcp_init(engine_loop(srv->e), &cn->h.tcp);
	else
		uv_pipe_init(engine_loop(srv->e), &cn->h.pipe, 0);
	cn->h.stream.data = cn;
	return cn;
}

static void unix_identify(struct conn *cn)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	uv_os_fd_t fd;
	cn->uid = (uint32_t)-1;
	if (uv_fileno((uv_handle_t *)&cn->h.pipe, &fd) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		cn->uid = cred.uid;
		snprintf(cn->peer, sizeof cn->peer, "pid %d uid %u", cred.pid,
		         cred.uid);
	}
	cn->admin = cn->uid == 0 || cn->uid == engine_uid(cn->srv->e);
	cn->role = ROLE_LOCAL;
}

/* Reads the peer's address into cn (IPv4 as mapped IPv6); 1 if it is on
 * loopback. */
static int tcp_peer(struct conn *cn)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;
	char ip[INET6_ADDRSTRLEN] = "?";
	uint8_t *b = cn->addr.s6_addr;
	snprintf(cn->peer, sizeof cn->peer, "?");
	if (uv_tcp_getpeername(&cn->h.tcp, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		uv_ip4_name(a, ip, sizeof ip);
		snprintf(cn->peer, sizeof cn->peer, "%s:%d", ip,
		         ntohs(a->sin_port));
		memset(b, 0, 10);
		b[10] = b[11] = 0xff;
		memcpy(b + 12, &a->sin_addr, 4);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		uv_ip6_name(a, ip, sizeof ip);
		snprintf(cn->peer, sizeof cn->peer, "[%s]:%d", ip,
		         ntohs(a->sin6_port));
		cn->addr = a->sin6_addr;
	} else {
		return 0;
	}
	return IN6_IS_ADDR_LOOPBACK(&cn->addr) ||
	       (IN6_IS_ADDR_V4MAPPED(&cn->addr) && b[12] == 127);
}

/* A TCP peer acts as the daemon's user within its role: what it may ask
 * is decided by ops_role_allows, not by uid/admin.  Loopback proves only
 * that the peer is some local user: without the password it gets the
 * worker protocol, and from a root daemon only the requests that work the
 * rows already in the table (docs/security.md). */
static void tcp_identify(struct conn *cn)
{
	const struct config *cfg = engine_config(cn->srv->e);
	int has_pw = cfg->password && *cfg->password;
	cn->uid = engine_uid(cn->srv->e);
	cn->admin = 1;
	cn->role = ROLE_WIRE_ROWS;
	if (tcp_peer(cn) && (!has_pw || cfg->always_allow_localhost))
		cn->role = engine_is_root(cn->srv->e) ? ROLE_WIRE_ROWS : ROLE_WIRE_QUEUE;
	else
		cn->need_auth = 1;
}

/* Closes the TCP connections that did not give the password within
 * auth_timeout (checked every second). */
static void auth_sweep(uv_timer_t *t)
{
	struct server *srv = t->data;
	uint64_t now = uv_now(engine_loop(srv->e));
	uint64_t limit = (uint64_t)(engine_config(srv->e)->auth_timeout / 1000);
	for (struct link *l = srv->conns.next, *next; l != &srv->conns;
	     l = next) {
		struct conn *cn = link_entry(l, struct conn, link);
		next = l->next;
		if (cn->need_auth && now - cn->since >= limit) {
			log_info("client %s gave no password in time; closed",
			         cn->peer);
			conn_close(cn);
		}
	}
}

static void on_connection(uv_stream_t *listener, int status)
{
	struct server *srv = listener->data;
	int is_tcp = listener->type == UV_TCP;
	struct conn *cn;
	if (status < 0 || !(cn = conn_new(srv, is_tcp)))
		return;
	if (uv_accept(listener, &cn->h.stream) < 0) {
		conn_close(cn);
		return;
	}
	if (is_tcp)
		tcp_identify(cn);
	else
		unix_identify(cn);
	/* root and the daemon's user on the socket are never locked out */
	if (srv->n_conns > engine_config(srv->e)->max_connections &&
	    (is_tcp || !cn->admin)) {
		if (!srv->refusing)
			log_warn("max_connections (%d) reached: refusing clients",
			         engine_config(srv->e)->max_connections);
		srv->refusing = 1;
		conn_close(cn);
		return;
	}
	if (uv_read_start(&cn->h.stream, on_alloc, on_read) < 0) {
		conn_close(cn);
		return;
	}
	cn->reading = 1;
}

/* ---- listeners ---- */

/* Refuses to take over the socket of a daemon that still answers; removes
 * a stale one left by a crash. */
static int unix_claim(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int busy = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	if (fd >= 0)
		close(fd);
	if (busy) {
		snprintf(err, errlen, "another jobd is listening on %s", path);
		return -EADDRINUSE;
	}
	unlink(path);
	return 0;
}

static int unix_listen(struct server *srv, char *err, size_t errlen)
{
	const struct config *cfg = engine_config(srv->e);
	int rc = unix_claim(cfg->socket, err, errlen);
	if (rc < 0)
		return rc;
	uv_pipe_init(engine_loop(srv->e), &srv->unix_listener, 0);
	srv->unix_listener.data = srv;
	srv->unix_on = 1;
	mode_t old = umask(0117);       /* created 0660: no window of 0777 */
	rc = uv_pipe_bind(&srv->unix_listener, cfg->socket);
	umask(old);
	if (rc == 0 && cfg->socket_group) {
		struct group *gr = getgrnam(cfg->socket_group);
		if (!gr || chown(cfg->socket, (uid_t)-1, gr->gr_gid) < 0)
			log_warn("cannot give socket %s to group '%s'", cfg->socket,
			         cfg->socket_group);
	}
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&srv->unix_listener, SOMAXCONN,
		               on_connection);
	if (rc < 0)
		snprintf(err, errlen, "cannot listen on %s: %s", cfg->socket,
		         uv_strerror(rc));
	return rc;
}

static int tcp_listen(struct server *srv, char *err, size_t errlen)
{
	const struct config *cfg = engine_config(srv->e);
	const char *host = cfg->host ? cfg->host : "127.0.0.1";
	struct sockaddr_storage sa;
	int rc = uv_ip4_addr(host, cfg->port, (struct sockaddr_in *)&sa);
	if (rc < 0)
		rc = uv_ip6_addr(host, cfg->port, (struct sockaddr_in6 *)&sa);
	if (rc < 0) {
		snprintf(err, errlen, "host: invalid address '%s'", host);
		return rc;
	}
	uv_tcp_init(engine_loop(srv->e), &srv->tcp_listener);
	srv->tcp_listener.data = srv;
	srv->tcp_on = 1;
	rc = uv_tcp_bind(&srv->tcp_listener, (struct sockaddr *)&sa, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&srv->tcp_listener, SOMAXCONN,
		               on_connection);
	if (rc == 0) {
		uv_timer_init(engine_loop(srv->e), &srv->auth_timer);
		srv->auth_timer.data = srv;
		srv->timer_on = 1;
		uv_timer_start(&srv->auth_timer, auth_sweep, 1000, 1000);
		uv_unref((uv_handle_t *)&srv->auth_timer);
	}
	if (rc < 0)
		snprintf(err, errlen, "cannot listen on %s:%d: %s", host,
		         cfg->port, uv_strerror(rc));
	else
		log_info("wire protocol on %s:%d%s", host, cfg->port,
		         cfg->password && *cfg->password ? " (password)" : "");
	return rc;
}

int server_start(struct server *srv, struct engine *e, char *err,
                 size_t errlen)
{
	memset(srv, 0, sizeof *srv);
	srv->e = e;
	link_init(&srv->conns);
	int rc = unix_listen(srv, err, errlen);
	if (rc == 0 && engine_config(e)->port > 0)
		rc = tcp_listen(srv, err, errlen);
	return rc;
}

/* Stops accepting; open connections go on (a `jobctl wait` still gets its
 * answer during a graceful shutdown). */
void server_stop_listening(struct server *srv)
{
	if (srv->unix_on) {
		uv_close((uv_handle_t *)&srv->unix_listener, NULL);
		unlink(engine_config(srv->e)->socket);
		srv->unix_on = 0;
	}
	if (srv->tcp_on) {
		uv_close((uv_handle_t *)&srv->tcp_listener, NULL);
		srv->tcp_on = 0;
	}
}

void server_close(struct server *srv)
{
	server_stop_listening(srv);
	if (srv->timer_on) {
		uv_close((uv_handle_t *)&srv->auth_timer, NULL);
		srv->timer_on = 0;
	}
	while (!link_empty(&srv->conns))
		conn_close(link_entry(srv->conns.next, struct conn, link));
}
