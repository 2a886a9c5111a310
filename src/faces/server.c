/* server.c — the stream faces: jobctl's Unix socket and the queue wire
 * TCP port.  Both speak EOT-framed JSON (docs/protocol.md); this file only
 * decodes frames into ops calls and encodes the answers.
 *
 * Who is asking: on the Unix socket the peer's credentials (SO_PEERCRED);
 * on TCP the password, unless the peer is on loopback and
 * always_allow_localhost is set.  A client that sends garbage gets an error
 * reply; one that sends more than 16 MiB without a frame end, or does not
 * read its replies, is dropped.  Nobody else is affected. */
#include "faces/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
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
	int authed;
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
};

/* ---- writing ---- */

static void conn_close(struct conn *cn);

static void write_done(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct conn *cn = w->conn;
	free(w->buf);
	free(w);
	if (status == 0 && cn->close_after_write &&
	    uv_stream_get_write_queue_size(&cn->h.stream) == 0)
		conn_close(cn);
}

/* Writes buf (taken) to cn. */
static void conn_write(struct conn *cn, char *buf, size_t len)
{
	struct wreq *w = malloc(sizeof *w);
	if (!w) {
		free(buf);
		return;
	}
	w->conn = cn;
	w->buf = buf;
	uv_buf_t b = uv_buf_init(buf, (unsigned)len);
	if (uv_write(&w->req, &cn->h.stream, &b, 1, write_done) < 0) {
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
			conn_write(cn, cn->obuf, cn->olen);
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
	if (uv_stream_get_write_queue_size(&cn->h.stream) > WRITE_QUEUE_MAX) {
		log_warn("client %s does not read its replies; dropped", cn->peer);
		free(text);
		conn_close(cn);
		return;
	}
	if (corked && cork_add(cn, text, len) == 0) {
		free(text);
		return;
	}
	text[len] = FRAME_EOT;          /* the NUL's place: one write */
	conn_write(cn, text, len + 1);
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

static int authorise(struct conn *cn, json_t *req, json_int_t no)
{
	const char *pw = cn->srv->e->cfg.password;
	const char *given = json_string_value(json_object_get(req, "password"));
	if (cn->authed)
		return 1;
	if (pw && *pw && (!given || strcmp(given, pw) != 0)) {
		send_error(cn, no, -EACCES, "invalid password");
		cn->close_after_write = 1;
		return 0;
	}
	cn->authed = 1;
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

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct conn *cn = s->data;
	char *msg;
	size_t len;

	if (n < 0) {
		conn_close(cn);
		return;
	}
	if (framebuf_push(&cn->fb, buf->base, (size_t)n) < 0) {
		log_warn("client %s sent a message over %u bytes; dropped",
		         cn->peer, MSG_MAX);
		conn_close(cn);
		return;
	}
	read_depth++;
	/* after "invalid password" nothing more is read: the close is due */
	for (int n = 1; !cn->closing && !cn->close_after_write &&
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
}

/* ---- connections ---- */

static void conn_free_now(struct conn *cn)
{
	free(cn->obuf);
	framebuf_free(&cn->fb);
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
	uv_close((uv_handle_t *)&cn->h.stream, conn_free);
}

static struct conn *conn_new(struct server *srv, int is_tcp)
{
	struct conn *cn = calloc(1, sizeof *cn);
	if (!cn)
		return NULL;
	cn->srv = srv;
	cn->is_tcp = is_tcp;
	framebuf_init(&cn->fb, MSG_MAX);
	link_init(&cn->calls);
	link_insert_before(&srv->conns, &cn->link);
	if (is_tcp)
		uv_tcp_init(srv->e->loop, &cn->h.tcp);
	else
		uv_pipe_init(srv->e->loop, &cn->h.pipe, 0);
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
	cn->admin = cn->uid == 0 || cn->uid == cn->srv->e->uid;
	cn->authed = 1;
}

static void tcp_identify(struct conn *cn)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;
	char ip[INET6_ADDRSTRLEN] = "?";
	int local = 0;
	if (uv_tcp_getpeername(&cn->h.tcp, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;
			uv_ip4_name(a, ip, sizeof ip);
			local = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
			snprintf(cn->peer, sizeof cn->peer, "%s:%d", ip,
			         ntohs(a->sin_port));
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
			uv_ip6_name(a, ip, sizeof ip);
			local = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
			snprintf(cn->peer, sizeof cn->peer, "[%s]:%d", ip,
			         ntohs(a->sin6_port));
		}
	}
	/* the wire face acts as the daemon's own user, as the original did */
	cn->uid = cn->srv->e->uid;
	cn->admin = 1;
	cn->authed = local && cn->srv->e->cfg.always_allow_localhost;
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
	uv_read_start(&cn->h.stream, on_alloc, on_read);
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
	const struct config *cfg = &srv->e->cfg;
	int rc = unix_claim(cfg->socket, err, errlen);
	if (rc < 0)
		return rc;
	uv_pipe_init(srv->e->loop, &srv->unix_listener, 0);
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
	const struct config *cfg = &srv->e->cfg;
	const char *host = cfg->host ? cfg->host : "127.0.0.1";
	struct sockaddr_storage sa;
	int rc = uv_ip4_addr(host, cfg->port, (struct sockaddr_in *)&sa);
	if (rc < 0)
		rc = uv_ip6_addr(host, cfg->port, (struct sockaddr_in6 *)&sa);
	if (rc < 0) {
		snprintf(err, errlen, "host: invalid address '%s'", host);
		return rc;
	}
	uv_tcp_init(srv->e->loop, &srv->tcp_listener);
	srv->tcp_listener.data = srv;
	srv->tcp_on = 1;
	rc = uv_tcp_bind(&srv->tcp_listener, (struct sockaddr *)&sa, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&srv->tcp_listener, SOMAXCONN,
		               on_connection);
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
	if (rc == 0 && e->cfg.port > 0)
		rc = tcp_listen(srv, err, errlen);
	return rc;
}

/* Stops accepting; open connections go on (a `jobctl wait` still gets its
 * answer during a graceful shutdown). */
void server_stop_listening(struct server *srv)
{
	if (srv->unix_on) {
		uv_close((uv_handle_t *)&srv->unix_listener, NULL);
		unlink(srv->e->cfg.socket);
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
	while (!link_empty(&srv->conns))
		conn_close(link_entry(srv->conns.next, struct conn, link));
}
