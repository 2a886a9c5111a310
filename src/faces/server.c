/* server.c — the stream faces: jobctl's Unix socket and the queue wire
 * TCP port.  Both speak EOT-framed JSON (docs/protocol.md); this file only
 * decodes frames (core/wire.h) into ops calls and encodes the answers.
 *
 * Who is asking (docs/security.md): on the Unix socket the peer's
 * credentials (SO_PEERCRED); on TCP what the peer proved: the password, or
 * only that it is on loopback (where there is no password, or with
 * always_allow_localhost), which says nothing about which local user it
 * is.  The call carries the connection's role; ops_dispatch decides what
 * the role may ask.
 *
 * This file: connections, who they are, the password, the listeners;
 * server_io.c: memory, reading, writing and the replies. */
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

#include "engine/log.h"
#include "faces/ops.h"
#include "faces/master.h"
#include "faces/peer.h"
#include "faces/server_conn.h"

/* ---- the password ---- */

/* Refuses the request and closes the connection after the reply. */
static int deny(struct conn *cn, int64_t no, const char *msg)
{
	conn_error(cn, no, -EACCES, msg);
	cn->close_after_write = 1;
	return 0;
}

/* 1 if the request may go on.  A password, where one is configured and
 * the connection has not given it yet, is checked even on a connection
 * that needs none (loopback): right, it raises the role; wrong, it closes
 * the connection, as it does on any other. */
int conn_authorise(struct conn *cn, const char *given, int64_t no)
{
	const char *pw = engine_config(cn->srv->e)->password;
	uint64_t now = uv_now(engine_loop(cn->srv->e));

	if (!cn->is_tcp || cn->role == ROLE_WIRE_PASSWORD || !pw || !*pw)
		given = NULL;           /* nothing to prove with it */
	if (!given && !cn->need_auth)
		return 1;
	if (!given)
		return deny(cn, no, pw && *pw ? "invalid password" :
		            "clients from other hosts need the password, and "
		            "none is configured");
	if (peer_fails_blocked(&cn->srv->pwfails, &cn->addr, now))
		return deny(cn, no, "too many wrong passwords from this address; "
		            "try again later");
	if (!peer_secret_equal(given, strlen(given), pw)) {
		peer_fails_add(&cn->srv->pwfails, &cn->addr, now);
		log_warn("client %s: wrong password", cn->peer);
		return deny(cn, no, "invalid password");
	}
	cn->role = ROLE_WIRE_PASSWORD;
	cn->need_auth = 0;
	cn->fb.max = MSG_MAX;
	return 1;
}

/* ---- connections ---- */

static void conn_free(uv_handle_t *h)
{
	struct conn *cn = h->data;
	cn->closed = 1;
	if (cn->refs == 0)
		conn_free_now(cn);
}

void conn_close(struct conn *cn)
{
	if (cn->closing)
		return;
	cn->closing = 1;
	if (cn->worker)
		master_lost(cn);
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
	int len = sizeof ss, port, lo;
	char ip[INET6_ADDRSTRLEN];

	snprintf(cn->peer, sizeof cn->peer, "?");
	if (uv_tcp_getpeername(&cn->h.tcp, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	lo = peer_from_sockaddr((struct sockaddr *)&ss, &cn->addr, ip,
	                        sizeof ip, &port);
	if (lo < 0)
		return 0;
	snprintf(cn->peer, sizeof cn->peer, ss.ss_family == AF_INET6 ?
	         "[%s]:%d" : "%s:%d", ip, port);
	return lo;
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
	if (conn_read_start(cn) < 0)
		conn_close(cn);
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
	srv->held_last = &srv->held_first;
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
