/* server_conn.h — private to the stream faces: one connection and one
 * request in flight, shared by server.c (connections, identity,
 * listeners) and server_io.c (memory, reading, writing, replies). */
#ifndef JOBD_SERVER_CONN_H
#define JOBD_SERVER_CONN_H
#include <netinet/in.h>
#include <stdint.h>

#include <uv.h>

#include "core/frame.h"
#include "faces/ops.h"
#include "faces/server.h"

struct mworker;

#define PREAUTH_MSG_MAX (64u << 10)   /* a message before the password */

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
	/* a cluster worker registered over this connection (master.c): its
	 * responses go there, and so does its end */
	struct mworker *worker;
};

struct conn_call {
	struct call c;
	struct conn *conn;
	struct link clink;
};

/* server.c */
/* Closes cn: its calls are abandoned, it is freed once libuv let go of
 * its handle and no reply waits for a commit. */
void conn_close(struct conn *cn);
/* 1 if request no (with password, or NULL) may go on on cn; else it was
 * refused (and cn closes after the reply). */
int conn_authorise(struct conn *cn, const char *password, int64_t no);

/* server_io.c */
/* Sends request `name` (data borrowed) under no to the peer of cn: the
 * master's requests to a worker that registered over cn.  0 or < 0. */
int conn_request(struct conn *cn, const char *name, int64_t no, json_t *data);
/* Sends a ping [2] to the peer. */
void conn_ping(struct conn *cn);
/* Starts reading cn; < 0 if libuv cannot. */
int conn_read_start(struct conn *cn);
/* Frees cn with what it still holds (its handle is closed). */
void conn_free_now(struct conn *cn);
/* An error reply to request no (err: negative errno, its class the code). */
void conn_error(struct conn *cn, int64_t no, int err, const char *msg);
#endif
