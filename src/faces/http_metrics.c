/* http_metrics.c — GET /metrics: the page of the op "metrics" (the
 * engine's counters, docs/metrics.md) served as its text, not as JSON:
 * a Prometheus scrape reads it as it is. */
#include <stdlib.h>
#include <string.h>

#include "faces/http_int.h"
#include "faces/http_metrics.h"

#define PROM_CTYPE "text/plain; version=0.0.4; charset=utf-8"

static void metrics_done(struct hreq *r, json_t *data, int err,
                         const char *msg)
{
	json_t *text = json_object_get(data, "text");
	if (err)
		return http_reply_error(r, http_status_of(err), "%s", msg);
	if (!json_is_string(text))
		return http_reply_error(r, 500, "metrics: no text in the reply");
	size_t len = json_string_length(text);
	char *body = malloc(len + 1);
	if (!body)
		return http_reply_error(r, 503, "out of memory");
	memcpy(body, json_string_value(text), len + 1);
	http_reply(r, 200, PROM_CTYPE, body, len);
}

void http_metrics_serve(struct hreq *r)
{
	http_op(r, "metrics", json_object(), metrics_done);
}
