/* fuzz_wire.c — libFuzzer target for the stream faces' decoding
 * (faces/server.c): frame splitting, the JSON message decode, the
 * request-shape checks (object, password, 'no', 'type'), the answers to
 * ping and to unreadable messages, the held (group-commit) responses,
 * events, and calls pending when the connection closes.
 *
 * server.c is included whole, so its static functions run as they do in
 * jobd: one connection on one end of a socketpair, input pushed through
 * on_read in pieces, replies read back from the other end.  What is NOT
 * the real thing: ops_dispatch (a stub; the real ops act on the engine —
 * sqlite, processes — and as root a fuzzed `submit` would run commands),
 * persist_flush and call_abandon (stubs with the real contract).  The stub
 * answers by the request type: "wait..." stays pending (answered after
 * the read, or abandoned at close), "fail..." is an error, "event..."
 * streams an event first (Unix only), anything else echoes its data.
 *
 * Byte 0 of the input picks the face (bit 0: TCP), a password (bit 1:
 * "pw" set, bit 2: the TCP peer is trusted without it, as on loopback;
 * a password it sends anyway is still checked), whether pending
 * calls are answered before the close (bit 3); byte 1 seeds the read
 * sizes; the rest is the byte stream.  Checked: the replies are
 * well-formed EOT-framed JSON, and they are, in order, the ones a model of
 * docs/protocol.md expects (one response per request with its `no`, 0 for
 * unreadable messages, [3] per ping, nothing for [3], the connection gone
 * after "invalid password"); no leaks (LeakSanitizer); the memory count
 * (srv.buffered) back to 0 once the connection is gone.
 *   see scripts/fuzz.sh for the build line */
#include "faces/server.c"
#include "faces/server_io.c"
#include "engine/engine.h"   /* the stub engine below is a real struct */

#include <fcntl.h>
#include <stdint.h>

/* ---- stubs of the engine and ops ---- */

const struct config *engine_config(const struct engine *e)
{
	return &e->cfg;
}

uv_loop_t *engine_loop(const struct engine *e)
{
	return e->loop;
}

uid_t engine_uid(const struct engine *e)
{
	return e->uid;
}

int engine_is_root(const struct engine *e)
{
	return e->is_root;
}

static struct link pending = { &pending, &pending };

void persist_flush(struct engine *e, persist_cb cb, void *arg)
{
	(void)e;
	cb(arg, 0, "");
}

void persist_kick(struct engine *e)
{
	(void)e;
}

uint64_t persist_writes(const struct engine *e)
{
	(void)e;
	return 0;
}

void call_abandon(struct call *c)
{
	if (c->watch.linked) {
		link_remove(&c->watch.link);
		c->watch.linked = 0;
	}
}

int ops_dispatch(struct call *c, const char *type, json_t *data)
{
	if (strncmp(type, "wait", 4) == 0) {
		c->watch.linked = 1;
		link_insert_before(&pending, &c->watch.link);
		return 0;
	}
	if (strncmp(type, "fail", 4) == 0) {
		c->respond(c, NULL, -ENOENT, "no such thing");
		return 0;
	}
	if (strncmp(type, "text", 4) == 0) {      /* the pre-encoded path */
		char *t = json_dumps(data ? data : json_null(),
		                     JSON_COMPACT | JSON_ENCODE_ANY);
		c->respond_text(c, t, strlen(t));
		return 0;
	}
	if (strncmp(type, "event", 5) == 0 && c->event)
		c->event(c, "stdout", json_string("text"));
	c->respond(c, data ? json_deep_copy(data) : json_string("ok"), 0, NULL);
	return 0;
}

/* No master here: register-worker goes to ops_dispatch, as on a worker,
 * and no connection has a worker registered on it. */
int master_register(struct call *c, struct conn *cn, json_t *data)
{
	(void)c;
	(void)cn;
	(void)data;
	return -ENOENT;
}

void master_heard(struct conn *cn, const struct wire_msg *m)
{
	(void)cn;
	(void)m;
}

void master_lost(struct conn *cn)
{
	(void)cn;
}

/* ---- the model ---- */

#define MAXEXP 8192
struct expect {
	int type;          /* 1 response, 3 pong */
	json_int_t no;
	int error;         /* a response with "error" */
};
static struct expect exp_[MAXEXP];
static int n_exp;
static json_int_t pend_no[MAXEXP];
static int n_pend;
static int n_events_exp;

static void want(int type, json_int_t no, int error)
{
	if (n_exp < MAXEXP)
		exp_[n_exp++] = (struct expect){ type, no, error };
}

/* What the server must do with one complete message; returns 0 when the
 * connection must close after it (wrong password). */
static int model(const char *text, size_t len, int is_tcp, int *authed,
                 int *pwrole, const char *pw)
{
	json_t *msg = json_loadb(text, len, 0, NULL), *req, *t;
	int type, keep = 1;

	if (!msg || !json_is_array(msg) ||
	    !json_is_integer(json_array_get(msg, 0))) {
		want(1, 0, 1);
		goto out;
	}
	type = (int)json_integer_value(json_array_get(msg, 0));
	if (json_integer_value(json_array_get(msg, 0)) != type)
		type = -1;
	if (type == 2) {
		want(3, 0, 0);
		goto out;
	}
	if (type == 3)
		goto out;
	if (type != 0) {
		want(1, 0, 1);
		goto out;
	}
	req = json_array_get(msg, 1);
	if (!json_is_object(req)) {
		want(1, 0, 1);
		goto out;
	}
	t = json_object_get(req, "no");
	json_int_t no = json_is_integer(t) ? json_integer_value(t) : 0;
	const char *given = json_string_value(json_object_get(req, "password"));
	if (!is_tcp || *pwrole || !pw)
		given = NULL;
	if (given || !*authed) {
		if (!given || strcmp(given, pw) != 0) {
			want(1, no < 1 || no > 999999 ? 0 : no, 1);
			keep = 0;
			goto out;
		}
		*authed = *pwrole = 1;
	}
	if (no < 1 || no > 999999) {
		want(1, 0, 1);
		goto out;
	}
	/* an empty type is refused by the decoder (core/wire.c) */
	const char *name = json_string_value(json_object_get(req, "type"));
	if (!name || !*name) {
		want(1, no, 1);
		goto out;
	}
	if (strncmp(name, "wait", 4) == 0) {
		if (n_pend < MAXEXP)
			pend_no[n_pend++] = no;
		goto out;
	}
	if (strncmp(name, "event", 5) == 0 && !is_tcp)
		n_events_exp++;
	want(1, no, strncmp(name, "fail", 4) == 0);
out:
	json_decref(msg);
	return keep;
}

/* ---- the harness ---- */

static uv_loop_t loop;
static struct engine eng;
static struct server srv;
static char *out;
static size_t out_len, out_cap;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (uv_loop_init(&loop) < 0)
		abort();
	eng.loop = &loop;
	eng.uid = getuid();
	eng.cfg.max_buffered = 64 << 20;
	eng.cfg.max_connections = 1024;
	srv.e = &eng;
	link_init(&srv.conns);
	log_min_level = LOG_ERROR + 1;
	return 0;
}

static void drain(int fd)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof buf)) > 0) {
		if (out_len + (size_t)n > out_cap) {
			out_cap = (out_len + (size_t)n) * 2;
			out = realloc(out, out_cap);
			if (!out)
				abort();
		}
		memcpy(out + out_len, buf, (size_t)n);
		out_len += (size_t)n;
	}
}

/* Whether the connection is closed (then it may be freed already). */
static int gone(void)
{
	return link_empty(&srv.conns);
}

/* Runs the loop until the writes are out and the replies read. */
static void settle(struct conn *cn, int peer)
{
	for (int i = 0; i < 1000; i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		drain(peer);
		if (!cn || gone() ||
		    uv_stream_get_write_queue_size(&cn->h.stream) == 0)
			return;
	}
	abort();                       /* a write that never goes out */
}

/* The replies, in order, against the model's list. */
static void check_output(void)
{
	size_t pos = 0;
	int k = 0, events = 0;

	while (pos < out_len) {
		char *e = memchr(out + pos, FRAME_EOT, out_len - pos);
		json_error_t je;
		if (!e)
			abort();               /* a reply without its EOT */
		json_t *m = json_loadb(out + pos, (size_t)(e - (out + pos)), 0, &je);
		if (!m || !json_is_array(m))
			abort();               /* a reply that is not JSON */
		json_int_t type = json_integer_value(json_array_get(m, 0));
		json_t *body = json_array_get(m, 1);
		if (type == 4) {
			events++;
			if (!json_is_integer(json_object_get(body, "no")))
				abort();
		} else {
			if (k >= n_exp || exp_[k].type != type)
				abort();
			if (type == 1) {
				json_t *no = json_object_get(body, "no");
				int is_err = json_object_get(body, "error") != NULL;
				if (!json_is_integer(no) ||
				    json_integer_value(no) != exp_[k].no ||
				    is_err != exp_[k].error ||
				    (!is_err && !json_object_get(body, "data")) ||
				    (is_err && !json_is_integer(json_object_get(body,
				                                                "code"))))
					abort();
			} else if (json_array_size(m) != 1) {
				abort();
			}
			k++;
		}
		json_decref(m);
		pos = (size_t)(e - out) + 1;
	}
	if (k != n_exp || events != n_events_exp)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2], is_tcp, authed, pwrole = 0, keep = 1;
	const char *pw;
	unsigned seed;
	size_t pos = 2, mstart = 2;

	if (size < 2)
		return 0;
	is_tcp = data[0] & 1;
	pw = data[0] & 2 ? "pw" : NULL;
	eng.cfg.password = (char *)pw;
	seed = data[1];
	n_exp = n_pend = n_events_exp = 0;
	out_len = 0;
	memset(&srv.pwfails, 0, sizeof srv.pwfails);   /* one wrong password per input */

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	struct conn *cn = conn_new(&srv, is_tcp);
	if (!cn)
		abort();
	int rc = is_tcp ? uv_tcp_open(&cn->h.tcp, sv[0])
	                : uv_pipe_open(&cn->h.pipe, sv[0]);
	if (rc < 0)
		abort();
	snprintf(cn->peer, sizeof cn->peer, "fuzz");
	cn->uid = eng.uid;
	cn->admin = 1;
	cn->role = is_tcp ? ROLE_WIRE_ROWS : ROLE_LOCAL;
	cn->need_auth = is_tcp && !(data[0] & 4);
	authed = !cn->need_auth;
	if (uv_read_start(&cn->h.stream, on_alloc, on_read) < 0)
		abort();
	cn->reading = 1;

	while (pos < size && !gone()) {
		size_t cut = 1 + (seed = seed * 1103515245u + 12345u) % 97;
		if (cut > size - pos)
			cut = size - pos;
		/* the model sees the messages this piece completes */
		for (size_t i = pos; i < pos + cut && keep; i++)
			if (data[i] == FRAME_EOT) {
				keep = model((const char *)data + mstart, i - mstart,
				             is_tcp, &authed, &pwrole, pw);
				mstart = i + 1;
			}
		uv_buf_t b = uv_buf_init((char *)data + pos, (unsigned)cut);
		on_read(&cn->h.stream, (ssize_t)cut, &b);
		pos += cut;
		settle(cn, sv[1]);
	}
	if (keep && gone())
		abort();                       /* closed without a reason */
	if (!keep && !gone())
		abort();                       /* a wrong password left it open */
	/* Pending calls: answered (outside any read: no holding) or left for
	 * the close to abandon. */
	if ((data[0] & 8) && !gone()) {
		for (int i = 0; i < n_pend; i++) {
			struct call *c = link_entry(pending.next, struct call, watch.link);
			if (pending.next == &pending)
				abort();       /* a pending call went missing */
			want(1, c->no, 0);
			if (c->no != pend_no[i])
				abort();
			c->respond(c, json_string("ok"), 0, NULL);
		}
		settle(cn, sv[1]);
	}
	if (!gone()) {
		uv_buf_t b = uv_buf_init(NULL, 0);
		on_read(&cn->h.stream, UV_EOF, &b);   /* the client hangs up */
	}
	if (pending.next != &pending)
		abort();                       /* abandoned calls still linked */
	settle(NULL, sv[1]);
	uv_run(&loop, UV_RUN_NOWAIT);          /* conn_free */
	drain(sv[1]);
	close(sv[1]);
	if (!link_empty(&srv.conns) || srv.held_first || srv.buffered != 0)
		abort();
	check_output();
	return 0;
}
