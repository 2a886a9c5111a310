/* http_sse.c — a run's output as Server-Sent Events
 * (GET /api/v1/runs/{jid}/output; docs/http.md).
 *
 * The stream is the `logs` op with follow, the same call jobctl's `logs
 * -f` makes: its events (start, stdout, stderr: the output so far first)
 * become `started`, `stdout`, `stderr`, and its one answer, the run once
 * it ended, becomes `ended` (the run without its output).  For a run that
 * had ended already the answer comes at once: its stored output is sent
 * as one `stdout` and one `stderr` event, then `ended`.  An error before
 * anything was sent is an ordinary JSON error (404 for an unknown jid);
 * after that, an `error` event ends the stream.
 *
 * The events wait in the request's buffer until MHD asks for them (the
 * reader suspends the connection when it is empty; a new event resumes
 * it).  A client that does not read is dropped at HTTP_SSE_MAX. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/log.h"
#include "faces/http_int.h"

static void sse_append(struct hreq *r, const char *text, size_t len)
{
	if (r->sended)
		return;
	if (r->slen - r->soff + len > HTTP_SSE_MAX) {
		log_warn("http: event stream of run %s not read; ended",
		         r->param[0]);
		r->sended = 1;
		return;
	}
	if (r->soff && r->slen + len > r->scap) {      /* make room first */
		memmove(r->sbuf, r->sbuf + r->soff, r->slen - r->soff);
		r->slen -= r->soff;
		r->soff = 0;
	}
	if (r->slen + len > r->scap) {
		size_t cap = r->scap ? r->scap : 4096;
		while (cap < r->slen + len)
			cap *= 2;
		char *p = http_charge(r, cap - r->scap) == 0 ?
		          realloc(r->sbuf, cap) : NULL;
		if (!p) {
			r->sended = 1;
			return;
		}
		r->sbuf = p;
		r->scap = cap;
	}
	memcpy(r->sbuf + r->slen, text, len);
	r->slen += len;
}

/* One event: its name and data (taken) as one line of JSON. */
static void sse_push(struct hreq *r, const char *event, json_t *data)
{
	char *text = data ? json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY)
	                  : NULL;
	json_decref(data);
	if (!text)
		return;
	size_t n = strlen(event) + strlen(text) + 20;
	char *line = malloc(n);
	if (line) {
		n = (size_t)snprintf(line, n, "event: %s\ndata: %s\n\n", event,
		                     text);
		sse_append(r, line, n);
	}
	free(line);
	free(text);
	http_wake(r);
}

/* The answer is a stream from now on (its headers go out). */
static void sse_start(struct hreq *r)
{
	if (r->sse)
		return;
	r->sse = 1;
	r->status = 200;
	r->ready = 1;
	link_insert_before(&r->h->streams, &r->slink);
	/* a quiet run is no idle connection; keepalives keep it open */
	MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT,
	                          (unsigned)0);
	http_wake(r);
}

static void sse_event(struct call *c, const char *kind, json_t *data)
{
	struct hreq *r = (struct hreq *)c;

	sse_start(r);
	if (strcmp(kind, "start") == 0)
		return sse_push(r, "started", data);
	r->s_output = 1;
	sse_push(r, kind, data);
}

/* The output of a run that had ended before the stream began. */
static void sse_output_of(struct hreq *r, json_t *run, const char *key)
{
	json_t *s = json_object_get(run, key);

	if (json_string_length(s))
		sse_push(r, key, json_incref(s));
}

static void sse_done(struct hreq *r, json_t *data, int err, const char *msg)
{
	json_t *run = json_object_get(data, "run");

	if (err && !r->sse)
		return http_reply_error(r, http_status_of(err), "%s", msg);
	sse_start(r);
	if (err) {
		sse_push(r, "error", json_pack("{s:s, s:i}", "error", msg,
		         "status", http_status_of(err)));
	} else {
		if (!r->s_output) {
			sse_output_of(r, run, "stdout");
			sse_output_of(r, run, "stderr");
		}
		run = json_copy(run);
		json_object_del(run, "stdout");
		json_object_del(run, "stderr");
		sse_push(r, "ended", run);
	}
	r->sended = 1;
	http_wake(r);
}

void http_sse_output(struct hreq *r)
{
	r->c.event = sse_event;
	http_op(r, "logs", json_pack("{s:s, s:b}", "jid", r->param[0],
	        "follow", 1), sse_done);
	/* a live run: the stream begins now (an error would have come) */
	if (r->pending && r->c.watch.linked)
		sse_start(r);
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct hreq *r = cls;
	size_t n = r->slen - r->soff;

	(void)pos;
	if (r->gone)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (n) {
		if (n > max)
			n = max;
		memcpy(buf, r->sbuf + r->soff, n);
		r->soff += n;
		if (r->soff == r->slen)
			r->soff = r->slen = 0;
		return (ssize_t)n;
	}
	if (r->sended)
		return MHD_CONTENT_READER_END_OF_STREAM;
	r->suspended = 1;            /* until the next event */
	MHD_suspend_connection(r->conn);
	return 0;
}

static void sse_free(void *cls)
{
	http_unref(cls);
}

struct MHD_Response *http_sse_response(struct hreq *r)
{
	struct MHD_Response *resp = MHD_create_response_from_callback(
		MHD_SIZE_UNKNOWN, 16 * 1024, sse_read, r, sse_free);

	if (!resp)
		return NULL;
	r->refs++;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        "text/event-stream");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	return resp;
}

/* A comment on every stream: a client that went away is found out, and
 * proxies do not time a quiet run out. */
void http_sse_keepalive(struct http *h)
{
	for (struct link *l = h->streams.next; l != &h->streams; l = l->next) {
		struct hreq *r = link_entry(l, struct hreq, slink);
		if (r->sended || r->gone)
			continue;
		sse_append(r, ":\n\n", 3);
		http_wake(r);
	}
}

void http_sse_close(struct hreq *r)
{
	link_remove(&r->slink);
}
