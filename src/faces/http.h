/* http.h — the HTTP face (docs/http.md): a JSON REST API and Server-Sent
 * Events on libmicrohttpd, run on jobd's libuv loop (no threads of its
 * own), over the same ops table as every other face. */
#ifndef JOBD_HTTP_H
#define JOBD_HTTP_H
#include <stddef.h>

#include "engine/engine_api.h"

struct http;
struct hreq;

/* Listens on http_listen (nothing to do and 0 when it is not set). */
int http_start(struct http **out, struct engine *e, char *err,
               size_t errlen);
/* Closes every connection (their calls are abandoned) and the listener. */
void http_close(struct http *h);

/* The static-file hook (the dashboard): for a GET of a path no API route
 * has, returns 0 with the asset's bytes (kept by the hook: static or
 * embedded), its length and its Content-Type, or -ENOENT.  Served without
 * the token: the page is public, what it asks of the API is not. */
typedef int (*http_static_fn)(const char *path, const void **data,
                              size_t *len, const char **ctype);
void http_set_static(http_static_fn fn);

/* The /metrics hook: called for GET /metrics once the caller is
 * authenticated (as any API GET); it answers r exactly once, typically by
 * http_op(r, "metrics", ...) with a done that renders text and replies
 * with http_reply().  Without a hook, /metrics is 404. */
typedef void (*http_route_fn)(struct hreq *r);
void http_set_metrics(http_route_fn fn);
#endif
