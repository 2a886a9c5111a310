/* client.h — a client of jobd's protocol (docs/protocol.md) on a libuv
 * loop: one connection, to a Unix socket path or a TCP HOST:PORT, with
 * any number of requests outstanding, their replies matched by `no`.
 * Pings from the server are answered with pongs.  Reconnecting is the
 * caller's: after a lost connection it closes the client and opens anew.
 *
 * Errors are negative errno values (libuv's UV_E* are the same numbers on
 * Linux).  Every call made gets exactly one on_reply:
 *   status 0, error NULL      the reply's data (borrowed: incref to keep);
 *   status 0, error set       jobd answered with an error text and code;
 *   status < 0                no answer: -ECONNRESET the connection was
 *                             lost, -EMSGSIZE an oversized message from the
 *                             server, -EPROTO a message that is not jobd's
 *                             protocol, -ECANCELED client_close, or the
 *                             error of connecting; error says it in words.
 * Calls may be made before the connection is up: they are sent once it is.
 *
 * Callbacks may call client_call and client_close (the client is freed
 * only later, from the loop), and must not block. */
#ifndef JOBD_CLIENT_H
#define JOBD_CLIENT_H
#include <stddef.h>

#include <jansson.h>
#include <uv.h>

struct client;

/* The connection is up (status 0) or could not be made (status < 0, error
 * in words: "cannot reach jobd at ADDRESS: ..."). */
typedef void client_connect_cb(struct client *cl, int status,
                               const char *error, void *arg);
/* The connection ended by itself (the server closed it, a read or write
 * failed, a bad message came): called once, after failing every
 * outstanding call with the same status.  Not called after client_close. */
typedef void client_lost_cb(struct client *cl, int status, const char *error,
                            void *arg);
/* An event (type 4) of a call: kind ("start", "stdout", ...) and data. */
typedef void client_event_cb(void *arg, const char *kind, json_t *data);
/* A request from the server (the cluster master's, over the connection a
 * worker opened): answer it with client_respond(cl, no, ...), now or
 * later.  data is borrowed (incref to keep). */
typedef void client_request_cb(struct client *cl, int64_t no,
                               const char *name, json_t *data, void *arg);
/* The end of a call: see the top of this file. */
typedef void client_reply_cb(void *arg, int status, json_t *data,
                             const char *error, int code);

struct client_opts {
	const char *password;    /* sent with the first request; NULL none */
	size_t max_frame;        /* largest message taken; 0: MSG_MAX */
	client_connect_cb *on_connect;   /* optional */
	client_lost_cb *on_lost;         /* optional */
	/* optional: without it a request from the server is a protocol
	 * error (the connection is lost with -EPROTO) */
	client_request_cb *on_request;
	void *arg;               /* for on_connect, on_lost and on_request */
};

/* Starts connecting to address: a Unix socket path when it holds a '/' or
 * no ':', else HOST:PORT or [V6ADDR]:PORT (resolved with uv_getaddrinfo,
 * each address tried in turn).  opts may be NULL; what it points to is
 * copied.  Returns 0 with *out set, -EINVAL for an address that cannot be
 * one (naming why in err), -ENOMEM.  Even when connecting fails later,
 * *out is to be given to client_close. */
int client_open(uv_loop_t *loop, const char *address,
                const struct client_opts *opts, struct client **out,
                char *err, size_t errlen);

/* Sends request `type` with data (borrowed; NULL sends {}).  on_event may
 * be NULL; on_reply is called exactly once, never from within client_call.
 * Returns 0, -EINVAL (empty type, data not encodable), -EPIPE when the
 * connection is already lost or closed (on_reply is then not called),
 * -EBUSY when WIRE_NO_MAX calls are outstanding, -ENOMEM. */
int client_call(struct client *cl, const char *type, json_t *data,
                client_event_cb *on_event, client_reply_cb *on_reply,
                void *arg);

/* Answers the server's request no: data (borrowed; NULL sends "ok") when
 * error is NULL, else the error text with its code (docs/protocol.md).
 * Returns 0, -EPIPE when the connection is lost or closed (the answer is
 * dropped), -EINVAL, -ENOMEM. */
int client_respond(struct client *cl, int64_t no, json_t *data,
                   const char *error, int code);

/* Number of calls waiting for their reply. */
size_t client_outstanding(const struct client *cl);

/* Closes the connection: each outstanding call's on_reply gets
 * -ECANCELED before this returns; the memory goes once the loop has run
 * the handles' close callbacks.  cl is not to be used afterwards.
 * NULL-safe. */
void client_close(struct client *cl);
#endif
