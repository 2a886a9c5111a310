/* server.h — the stream faces (Unix socket for jobctl, TCP for the queue
 * wire protocol): EOT-framed JSON in, ops calls, EOT-framed JSON out.
 * Everything the face keeps lives in struct server (one per jobd). */
#ifndef JOBD_SERVER_H
#define JOBD_SERVER_H
#include <netinet/in.h>
#include <stdint.h>

#include <uv.h>

#include "engine/engine_api.h"
#include "faces/peer.h"

struct conn;
struct conn_call;
struct held;

struct server {
	struct engine *e;
	uv_pipe_t unix_listener;
	uv_tcp_t tcp_listener;
	uv_timer_t auth_timer;   /* closes TCP clients slow to authenticate */
	int unix_on, tcp_on, timer_on;
	struct link conns;
	int n_conns;
	int refusing;            /* at max_connections (logged once) */
	size_t buffered;         /* every connection's input buffer and
	                            replies held, with allocation overhead */
	/* replies (server_io.c): while corked, what is sent gathers per
	 * connection (those in cork_list) and goes out in one write each */
	int corked;
	struct conn *cork_list;
	int read_depth;          /* in conn_process: responses are held */
	struct held *held_first, **held_last;   /* waiting for one barrier */
	struct conn_call *dispatching;   /* the request in ops_dispatch */
	uint64_t dispatch_writes;        /* the store's writes before it */
	/* wrong passwords per address, bounded (server.c) */
	struct peer_fails pwfails;
};

int server_start(struct server *srv, struct engine *e, char *err,
                 size_t errlen);
void server_stop_listening(struct server *srv);
void server_close(struct server *srv);
#endif
