/* server.h — the stream faces (Unix socket for jobctl, TCP for the queue
 * wire protocol): EOT-framed JSON in, ops calls, EOT-framed JSON out. */
#ifndef JOBD_SERVER_H
#define JOBD_SERVER_H
#include <uv.h>

#include "engine/engine_api.h"

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
};

int server_start(struct server *srv, struct engine *e, char *err,
                 size_t errlen);
void server_stop_listening(struct server *srv);
void server_close(struct server *srv);
#endif
