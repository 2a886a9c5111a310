/* ninep.c — the 9P file server face: listeners, connections, who the peer
 * is, fids, requests and their replies (after the commit of what they
 * acknowledge), reading and writing messages (core/ninep.h decodes and
 * encodes them).  ninep_msg.c answers the messages; ninep_fs.c is the
 * namespace; ninep_file.c the files' contents, each read and write an
 * ops call (docs/9p.md, docs/security.md).
 *
 * Who is asking: on `ninep_socket` the peer's credentials (SO_PEERCRED),
 * as on jobctl's socket.  Over TCP the uname proves nothing: an attach
 * whose name is `ninep_token` acts as the daemon's user; one from
 * loopback without it gets ROLE_NINEP_READ (reads, and start/stop/run of
 * jobs that exist); any other is refused.
 *
 * Memory per connection is bounded: a message is at most msize (128 KiB
 * at most), at most NINEP_MAX_REQS requests are in flight (then it is not
 * read from), and replies not yet written stop its reading too. */
#include "faces/ninep.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "engine/log.h"
#include "faces/ninep_int.h"
#include "faces/peer.h"

#define OUT_HIGH (1u << 20)      /* replies unwritten: stop reading */

static void conn_process(struct nconn *cn);

/* ---- fids ---- */

struct nfid *nfid_get(struct nconn *cn, uint32_t no)
{
	for (struct nfid *f = cn->fids[no % NINEP_FID_BUCKETS]; f; f = f->next)
		if (f->no == no)
			return f;
	return NULL;
}

struct nfid *nfid_new(struct nconn *cn, uint32_t no)
{
	struct nfid *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->no = no;
	f->next = cn->fids[no % NINEP_FID_BUCKETS];
	cn->fids[no % NINEP_FID_BUCKETS] = f;
	cn->n_fids++;
	return f;
}

static void nfid_destroy(struct nconn *cn, struct nfid *f)
{
	cn->n_fids--;
	nfid_drop_snap(f);
	free(f->created);
	free(f);
}

void nfid_free(struct nconn *cn, struct nfid *f)
{
	struct nfid **p = &cn->fids[f->no % NINEP_FID_BUCKETS];
	while (*p && *p != f)
		p = &(*p)->next;
	if (*p)
		*p = f->next;
	nfid_destroy(cn, f);
}

/* ---- requests ---- */

static void nreq_free(struct nreq *r)
{
	struct nconn *cn = r->cn;
	link_remove(&r->link);
	cn->n_reqs--;
	if (r->f)
		r->f->busy--;
	free(r->wdata);
	free(r);
	if (!cn->closing && !cn->reading && !cn->processing)
		conn_process(cn);
}

/* The request goes without an answer (flushed, or its connection went). */
void nreq_drop(struct nreq *r)
{
	ninep_unwait(r);
	call_abandon(&r->c);       /* a reply waiting for a commit too */
	nreq_free(r);
}

struct wreq {
	uv_write_t req;
	struct nconn *cn;
	uint8_t *buf;
};

static void write_done(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct nconn *cn = w->cn;
	free(w->buf);
	free(w);
	cn->refs--;
	if (cn->closed && cn->refs == 0) {
		free(cn->in);
		free(cn);
		return;
	}
	if (status < 0 || (cn->close_after_write &&
	                   uv_stream_get_write_queue_size(&cn->h.stream) == 0))
		ninep_conn_close(cn);
	else if (!cn->closing && !cn->reading && !cn->processing)
		conn_process(cn);
}

/* Writes msg (taken, len bytes). */
static void conn_send(struct nconn *cn, uint8_t *msg, size_t len)
{
	struct wreq *w = malloc(sizeof *w);
	if (!w || cn->closing) {
		free(w);
		free(msg);
		return;
	}
	w->cn = cn;
	w->buf = msg;
	uv_buf_t b = uv_buf_init((char *)msg, (unsigned)len);
	cn->refs++;
	if (uv_write(&w->req, &cn->h.stream, &b, 1, write_done) < 0) {
		cn->refs--;
		free(msg);
		free(w);
		ninep_conn_close(cn);
	}
}

uint8_t *nreq_buf(struct nreq *r, struct p9_buf *b, size_t cap)
{
	if (cap > r->cn->msize)
		cap = r->cn->msize;
	uint8_t *mem = malloc(cap);
	p9_buf_init(b, mem, mem ? cap : 0);
	return mem;
}

void nreq_reply(struct nreq *r, uint8_t *msg, long len)
{
	struct nconn *cn = r->cn;
	if (len < 0 || !msg) {
		/* a reply that does not fit msize: the error does */
		free(msg);
		struct p9_buf b;
		msg = nreq_buf(r, &b, 512);
		len = msg ? p9_error(&b, cn->dialect, r->tag, EMSGSIZE,
		                     "reply larger than msize") : -ENOMEM;
	}
	if (r->flushed || len < 0 || !msg) {
		free(msg);
		nreq_free(r);
		return;
	}
	conn_send(cn, msg, (size_t)len);
	nreq_free(r);
}

void nreq_fail(struct nreq *r, int err, const char *text)
{
	struct p9_buf b;
	uint8_t *msg = nreq_buf(r, &b, 600);
	if (err < 0)
		err = -err;
	nreq_reply(r, msg, msg ? p9_error(&b, r->cn->dialect, r->tag, err, text)
	                       : -ENOMEM);
}

static void nreq_respond(struct call *c, json_t *data, int err,
                         const char *msg)
{
	struct nreq *r = (struct nreq *)c;
	call_abandon(c);
	r->done(r, data, err, msg);
	json_decref(data);
}

void nreq_dispatch(struct nreq *r, const char *op, json_t *data)
{
	const struct nident *id = &r->id;
	memset(&r->c, 0, sizeof r->c);
	r->c.e = r->cn->srv->e;
	r->c.no = r->tag;
	r->c.uid = id->uid;
	r->c.admin = id->admin;
	r->c.role = id->role;
	r->c.face = r->cn;
	r->c.respond = nreq_respond;
	r->c.commit_wait = 1;        /* a write's reply after its commit */
	if (!data) {
		nreq_fail(r, ENOMEM, "out of memory");
		return;
	}
	ops_dispatch(&r->c, op, data);   /* may answer (and free r) at once */
	json_decref(data);
}

/* Drops every request in flight but self, and every fid. */
void ninep_drop_all(struct nconn *cn, struct nreq *self)
{
	for (struct link *l = cn->reqs.next, *next; l != &cn->reqs; l = next) {
		next = l->next;
		struct nreq *r = link_entry(l, struct nreq, link);
		if (r != self)
			nreq_drop(r);
	}
	for (int i = 0; i < NINEP_FID_BUCKETS; i++) {
		struct nfid *f;
		while ((f = cn->fids[i])) {
			cn->fids[i] = f->next;
			nfid_destroy(cn, f);
		}
	}
}

/* ---- reading ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct nconn *cn = h->data;
	size_t want = 64 * 1024;
	(void)suggested;
	if (cn->in_cap - cn->in_len < want) {
		uint8_t *p = realloc(cn->in, cn->in_len + want);
		if (!p) {
			*buf = uv_buf_init(NULL, 0);
			return;
		}
		cn->in = p;
		cn->in_cap = cn->in_len + want;
	}
	*buf = uv_buf_init((char *)cn->in + cn->in_len,
	                   (unsigned)(cn->in_cap - cn->in_len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static int conn_backlogged(const struct nconn *cn)
{
	return cn->n_reqs - cn->n_waiting >= NINEP_MAX_REQS ||
	       uv_stream_get_write_queue_size(&cn->h.stream) > OUT_HIGH;
}

/* A size field jobd cannot take: the stream cannot be cut any more.  The
 * error goes back under the message's tag, then the connection closes. */
static void frame_error(struct nconn *cn, size_t off, const char *err)
{
	struct p9_buf b;
	uint8_t *msg = cn->in_len - off >= P9_HDR ? malloc(600) : NULL;
	log_warn("9P client %s: %s; closed", cn->peer, err);
	if (!msg) {
		ninep_conn_close(cn);
		return;
	}
	p9_buf_init(&b, msg, 600);
	long n = p9_error(&b, cn->dialect, (uint16_t)(cn->in[off + 5] |
	                  cn->in[off + 6] << 8), EMSGSIZE, err);
	if (n < 0) {
		free(msg);
		ninep_conn_close(cn);
		return;
	}
	cn->close_after_write = 1;
	conn_send(cn, msg, (size_t)n);
}

static void conn_process(struct nconn *cn)
{
	size_t off = 0;
	char err[200];
	if (cn->processing)
		return;
	cn->processing = 1;
	while (!cn->closing && !cn->close_after_write && !conn_backlogged(cn)) {
		uint32_t limit = cn->versioned ? cn->msize : NINEP_MSIZE;
		long len = p9_frame_len(cn->in + off, cn->in_len - off, limit, err,
		                        sizeof err);
		if (len < 0) {
			frame_error(cn, off, err);
			break;
		}
		if (len == 0 || (size_t)len > cn->in_len - off)
			break;
		struct p9_msg m;
		int rc = p9_decode(cn->in + off, (size_t)len, cn->dialect, &m, err,
		                   sizeof err);
		off += (size_t)len;
		if (rc < 0)
			ninep_bad_message(cn, &m, rc, err);
		else
			ninep_handle(cn, &m);
	}
	if (!cn->closing && off) {
		memmove(cn->in, cn->in + off, cn->in_len - off);
		cn->in_len -= off;
	}
	cn->processing = 0;
	if (cn->closing)
		return;
	int stop = conn_backlogged(cn) || cn->close_after_write;
	if (stop && cn->reading) {
		uv_read_stop(&cn->h.stream);
		cn->reading = 0;
	} else if (!stop && !cn->reading) {
		if (uv_read_start(&cn->h.stream, on_alloc, on_read) < 0)
			return ninep_conn_close(cn);
		cn->reading = 1;
	}
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct nconn *cn = s->data;
	(void)buf;
	if (n < 0 || (n == 0 && !buf->base)) {
		ninep_conn_close(cn);
		return;
	}
	cn->in_len += (size_t)n;
	conn_process(cn);
}

/* ---- connections ---- */

static void conn_closed(uv_handle_t *h)
{
	struct nconn *cn = h->data;
	cn->closed = 1;
	if (cn->refs == 0) {
		free(cn->in);
		free(cn);
	}
}

void ninep_conn_close(struct nconn *cn)
{
	if (cn->closing)
		return;
	cn->closing = 1;
	ninep_drop_all(cn, NULL);
	link_remove(&cn->link);
	cn->srv->n_conns--;
	uv_close((uv_handle_t *)&cn->h.stream, conn_closed);
}

static void identify(struct nconn *cn, int is_tcp)
{
	struct engine *e = cn->srv->e;
	if (is_tcp) {
		struct sockaddr_storage ss;
		int len = sizeof ss, port = 0;
		char ip[64] = "?";
		cn->listener = 1;
		if (uv_tcp_getpeername(&cn->h.tcp, (struct sockaddr *)&ss,
		                       &len) == 0 &&
		    peer_from_sockaddr((struct sockaddr *)&ss, &cn->addr, ip,
		                       sizeof ip, &port) == 1)
			cn->listener = 0;
		snprintf(cn->peer, sizeof cn->peer, "%s:%d", ip, port);
		return;
	}
	struct ucred cred;
	socklen_t len = sizeof cred;
	uv_os_fd_t fd;
	cn->listener = 2;
	cn->unix_id.uid = (uint32_t)-1;
	if (uv_fileno((uv_handle_t *)&cn->h.pipe, &fd) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		cn->unix_id.uid = cred.uid;
		snprintf(cn->peer, sizeof cn->peer, "pid %d uid %u", cred.pid,
		         cred.uid);
	}
	cn->unix_id.admin = cn->unix_id.uid == 0 ||
	                    cn->unix_id.uid == engine_uid(e);
	cn->unix_id.role = ROLE_LOCAL;
}

static void on_connection(uv_stream_t *l, int status)
{
	struct nsrv *s = l->data;
	int is_tcp = l->type == UV_TCP;
	struct nconn *cn;
	if (status < 0 || !(cn = calloc(1, sizeof *cn)))
		return;
	cn->srv = s;
	cn->msize = 8192;
	link_init(&cn->reqs);
	link_insert_before(&s->conns, &cn->link);
	s->n_conns++;
	if (is_tcp)
		uv_tcp_init(engine_loop(s->e), &cn->h.tcp);
	else
		uv_pipe_init(engine_loop(s->e), &cn->h.pipe, 0);
	cn->h.stream.data = cn;
	if (uv_accept(l, &cn->h.stream) < 0) {
		ninep_conn_close(cn);
		return;
	}
	identify(cn, is_tcp);
	if (s->n_conns > engine_config(s->e)->max_connections) {
		log_warn("9P: max_connections reached; %s refused", cn->peer);
		ninep_conn_close(cn);
		return;
	}
	conn_process(cn);
}

/* ---- listeners ---- */

static int listen_tcp(struct nsrv *s, const char *spec, char *err,
                      size_t errlen)
{
	char host[256];
	struct sockaddr_storage sa;
	const char *colon = strrchr(spec, ':');
	int port = colon ? atoi(colon + 1) : 0;
	if (!colon || port <= 0 || port > 65535 ||
	    (size_t)(colon - spec) >= sizeof host) {
		snprintf(err, errlen, "ninep_listen: want HOST:PORT, not '%s'",
		         spec);
		return -EINVAL;
	}
	snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = 0;
	}
	int rc = uv_ip4_addr(host, port, (struct sockaddr_in *)&sa);
	if (rc < 0)
		rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&sa);
	if (rc < 0) {
		snprintf(err, errlen, "ninep_listen: invalid address '%s'", host);
		return rc;
	}
	uv_tcp_init(engine_loop(s->e), &s->tcp);
	s->tcp.data = s;
	s->tcp_on = 1;
	rc = uv_tcp_bind(&s->tcp, (struct sockaddr *)&sa, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&s->tcp, SOMAXCONN, on_connection);
	if (rc < 0)
		snprintf(err, errlen, "cannot listen for 9P on %s: %s", spec,
		         uv_strerror(rc));
	else
		log_info("9P on %s", spec);
	return rc;
}

static int listen_unix(struct nsrv *s, const char *path, char *err,
                       size_t errlen)
{
	struct sockaddr_un sa;
	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "ninep_socket: path too long: %s", path);
		return -ENAMETOOLONG;
	}
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);          /* ours, left by a crash: the state dir
		                          lock says no other jobd runs */
	uv_pipe_init(engine_loop(s->e), &s->unix_l, 0);
	s->unix_l.data = s;
	s->unix_on = 1;
	mode_t old = umask(0111);  /* 0666: the peer's uid decides */
	int rc = uv_pipe_bind(&s->unix_l, path);
	umask(old);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&s->unix_l, SOMAXCONN, on_connection);
	if (rc < 0)
		snprintf(err, errlen, "cannot listen for 9P on %s: %s", path,
		         uv_strerror(rc));
	else
		log_info("9P on %s", path);
	return rc;
}

int ninep_start(struct nsrv **out, struct engine *e, char *err,
                size_t errlen)
{
	const struct config *cfg = engine_config(e);
	int rc = 0;
	*out = NULL;
	if (!(cfg->ninep_listen && *cfg->ninep_listen) &&
	    !(cfg->ninep_socket && *cfg->ninep_socket))
		return 0;
	struct nsrv *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->e = e;
	link_init(&s->conns);
	if (cfg->ninep_listen && *cfg->ninep_listen)
		rc = listen_tcp(s, cfg->ninep_listen, err, errlen);
	if (rc == 0 && cfg->ninep_socket && *cfg->ninep_socket)
		rc = listen_unix(s, cfg->ninep_socket, err, errlen);
	*out = s;             /* on failure too: ninep_close closes what is open */
	return rc;
}

void ninep_stop_listening(struct nsrv *s)
{
	if (!s)
		return;
	if (s->tcp_on)
		uv_close((uv_handle_t *)&s->tcp, NULL);
	if (s->unix_on) {
		uv_close((uv_handle_t *)&s->unix_l, NULL);
		unlink(engine_config(s->e)->ninep_socket);
	}
	s->tcp_on = s->unix_on = 0;
}

void ninep_close(struct nsrv *s)
{
	if (!s)
		return;
	ninep_stop_listening(s);
	while (!link_empty(&s->conns))
		ninep_conn_close(link_entry(s->conns.next, struct nconn, link));
	free(s);    /* the connections' close callbacks do not use it */
}
