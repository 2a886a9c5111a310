/* http_int.h — private to the HTTP face: one request (struct hreq) and
 * what http.c (the daemon, the loop, auth, replies), http_api.c (the
 * route table) and http_sse.c (event streams) share. */
#ifndef JOBD_HTTP_INT_H
#define JOBD_HTTP_INT_H
#include <netinet/in.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>
#include <uv.h>

#include "core/list.h"
#include "faces/http.h"
#include "faces/peer.h"
#include "faces/ops.h"

#define HTTP_BODY_MAX (1u << 20)     /* a request body: 1 MiB */
#define HTTP_SSE_MAX (4u << 20)      /* events a stream may owe its client */
#define HTTP_MAX_SEGS 8

struct http {
	struct engine *e;
	struct MHD_Daemon *d;
	uv_poll_t poll;          /* MHD's epoll fd */
	uv_timer_t timer;        /* MHD's timeouts, and kicks after resumes */
	uv_timer_t keepalive;    /* a comment on every event stream */
	int handles;             /* open uv handles (closing: freed at 0) */
	int closing;
	struct link reqs;        /* struct hreq.rlink: every request */
	struct link streams;     /* struct hreq.slink: live event streams */
	int kicked;              /* a connection was resumed: run MHD soon */
	size_t buffered;         /* bodies and event buffers, against
	                            max_buffered */
	struct peer_fails fails;          /* wrong tokens per address */
};

typedef void (*http_done_fn)(struct hreq *r, json_t *data, int err,
                             const char *msg);

struct hreq {
	struct call c;           /* first: the call is the request */
	struct http *h;
	struct MHD_Connection *conn;
	const char *method;      /* MHD's, valid for the request */
	char *path;              /* copied; cut into seg[] */
	char *seg[HTTP_MAX_SEGS];
	int nseg;
	const char *param[3];    /* the segments the route's '*'s matched */
	int nparam;
	struct link rlink;       /* http.reqs, until gone */
	const struct http_route *route;
	char *body;
	size_t blen;
	int too_big;             /* 1: over HTTP_BODY_MAX; 2: max_buffered */
	size_t charged;          /* its part of http.buffered */
	json_t *json;            /* the body, parsed (NULL: none) */
	int routed;              /* the route ran (its op is dispatched) */
	int pending;             /* an op call is in flight */
	int suspended;
	int gone;                /* MHD is done with it */
	int refs;                /* a commit waited for, a stream's response */
	http_done_fn done;       /* the route's translation of the answer */
	int ok_status;           /* the status of a success (200, 201) */
	/* the answer, once made */
	int ready;
	int status;
	char *out;
	size_t olen;
	const char *ctype;
	const char *allow;       /* 405: the methods the path has */
	int unauth;              /* 401: WWW-Authenticate */
	/* an event stream (http_sse.c) */
	int sse;                 /* 1: the response is a stream */
	struct link slink;       /* http.streams */
	char *sbuf;
	size_t slen, soff, scap;
	int sended;              /* the stream's last event is in sbuf */
	int s_output;            /* output events were sent */
};

struct http_route {
	const char *method;
	const char *pattern;     /* '*' stands for one path segment */
	void (*fn)(struct hreq *r);
	const char *op;          /* for the generic handlers */
};

/* ---- http.c ---- */
/* Dispatches op with data (taken) for r; done (NULL: the answer as JSON,
 * r->ok_status on success) translates the answer. */
void http_op(struct hreq *r, const char *op, json_t *data, http_done_fn done);
/* Answers r: status and body (taken, len bytes) of Content-Type ctype. */
void http_reply(struct hreq *r, int status, const char *ctype, char *body,
                size_t len);
void http_reply_json(struct hreq *r, int status, json_t *o);
void http_reply_error(struct hreq *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The HTTP status of a call's negative errno. */
int http_status_of(int err);
/* A query parameter, or NULL. */
const char *http_query(struct hreq *r, const char *key);
/* r's connection may go on (after a suspend): it is run soon. */
void http_wake(struct hreq *r);
void http_unref(struct hreq *r);
/* Counts n more bytes of r against max_buffered; -ENOBUFS when over. */
int http_charge(struct hreq *r, size_t n);

/* ---- http_api.c ---- */
/* The route of method and r's segments; NULL with *allow set to the
 * methods the path has (405), or NULL (404). */
const struct http_route *http_route_find(const char *method, struct hreq *r,
                                         const char **allow);
extern http_static_fn http_static_hook;
extern http_route_fn http_metrics_hook;

/* ---- http_sse.c ---- */
void http_sse_output(struct hreq *r);    /* the route of .../output */
struct MHD_Response *http_sse_response(struct hreq *r);
void http_sse_keepalive(struct http *h);
void http_sse_close(struct hreq *r);
#endif
