/* http_metrics.h — GET /metrics of the HTTP face (docs/metrics.md):
 * cmd/jobd.c hands it to http_set_metrics. */
#ifndef JOBD_HTTP_METRICS_H
#define JOBD_HTTP_METRICS_H
#include "faces/http.h"

/* Answers r with the op "metrics"'s page, text/plain; version=0.0.4 (as
 * Prometheus scrapes it), or the op's error. */
void http_metrics_serve(struct hreq *r);
#endif
