/* http_api.c — the HTTP face's routes (docs/http.md): each is one line of
 * the table below, a method and a path ('*' matches one segment, given to
 * the handler as r->param[]), and a handler that turns the request into
 * one op of the ops table and its data; the op's answer becomes the
 * response (http.c: done_json, or the handler's own done).  Validation,
 * permissions and error texts are the ops'; these only translate. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faces/http_int.h"

http_static_fn http_static_hook;
http_route_fn http_metrics_hook;

/* ---- building op data ---- */

/* The body's fields (a copy to add to), or an empty object. */
static json_t *body(struct hreq *r)
{
	return r->json ? json_copy(r->json) : json_object();
}

/* The op with the body's fields and the path's parameter as `key` (the
 * path wins over the body). */
static void op_with(struct hreq *r, const char *key)
{
	json_t *d = body(r);

	json_object_set_new(d, key, json_string(r->param[0]));
	http_op(r, r->route->op, d, NULL);
}

struct qcheck {
	const char *const *known;
	const char *bad;
};

static enum MHD_Result query_known(void *cls, enum MHD_ValueKind kind,
                                   const char *key, const char *value)
{
	struct qcheck *q = cls;

	(void)kind;
	(void)value;
	for (const char *const *k = q->known; *k; k++)
		if (strlen(key) == strcspn(*k, "#") &&
		    strncmp(*k, key, strlen(key)) == 0)
			return MHD_YES;
	q->bad = key;
	return MHD_NO;
}

/* The query's parameters into data: each of known (a trailing '#' in a
 * name: an integer); 0, or r is answered 400. */
static int query_into(struct hreq *r, json_t *d, const char *const *known)
{
	struct qcheck q = {known, NULL};
	char key[32];

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, query_known,
	                          &q);
	for (const char *const *k = known; !q.bad && *k; k++) {
		size_t n = strcspn(*k, "#");
		snprintf(key, sizeof key, "%.*s", (int)n, *k);
		const char *v = http_query(r, key);
		char *end;
		if (!v)
			continue;
		if ((*k)[n] != '#') {
			json_t *s = json_string(v);
			if (!s) {
				http_reply_error(r, 400, "%s: not UTF-8", key);
				return -1;
			}
			json_object_set_new(d, key, s);
			continue;
		}
		errno = 0;
		long long i = strtoll(v, &end, 10);
		if (!*v || *end || errno) {
			http_reply_error(r, 400, "%s: must be an integer, not '%s'",
			                 key, v);
			return -1;
		}
		json_object_set_new(d, key, json_integer(i));
	}
	if (!q.bad)
		return 0;
	http_reply_error(r, 400, "unknown query parameter '%s'", q.bad);
	return -1;
}

/* ---- handlers ---- */

/* The op with the body as its data. */
static void rt_op(struct hreq *r)
{
	http_op(r, r->route->op, body(r), NULL);
}

static void rt_name(struct hreq *r)
{
	op_with(r, "name");
}

static void rt_jid(struct hreq *r)
{
	op_with(r, "jid");
}

static void rt_target(struct hreq *r)
{
	op_with(r, "target");
}

/* pause / continue of the one target in the path */
static void rt_targets(struct hreq *r)
{
	http_op(r, r->route->op, json_pack("{s:[s]}", "targets", r->param[0]),
	        NULL);
}

/* The body is the job ({"job": JOB, "replace": ..} too); 201 Created. */
static void rt_create(struct hreq *r)
{
	json_t *d = body(r);

	if (!json_is_object(json_object_get(d, "job"))) {
		json_t *job = d;
		d = json_pack("{s:o}", "job", job);
	}
	r->ok_status = 201;
	http_op(r, r->route->op, d, NULL);
}

/* A command of the caller's (the queue); 201 with its jid. */
static void rt_submit(struct hreq *r)
{
	r->ok_status = 201;
	rt_op(r);
}

/* Starts the job: {"jid"} at once unless the body asks "wait": true
 * (then the run when it ended); never a stream here. */
static void rt_run(struct hreq *r)
{
	json_t *d = body(r);

	json_object_set_new(d, "name", json_string(r->param[0]));
	json_object_set_new(d, "follow", json_false());
	if (!json_object_get(d, "wait"))
		json_object_set_new(d, "wait", json_false());
	http_op(r, "run", d, NULL);
}

static void rt_runs(struct hreq *r)
{
	static const char *const known[] = {"job", "status", "since", "limit#",
	                                    NULL};
	json_t *d = json_object();

	if (query_into(r, d, known) < 0)
		return json_decref(d);
	http_op(r, "runs", d, NULL);
}

/* The next fire times of ?expr= (in ?tz=) or of the job ?name=. */
static void rt_next(struct hreq *r)
{
	static const char *const known[] = {"expr", "name", "tz", "from", "n#",
	                                    NULL};
	json_t *d = json_object();

	if (query_into(r, d, known) < 0)
		return json_decref(d);
	if (!json_object_get(d, "expr") && !json_object_get(d, "name")) {
		json_decref(d);
		return http_reply_error(r, 400, "missing query parameter 'expr' "
		                        "(a schedule) or 'name' (a job)");
	}
	http_op(r, "next", d, NULL);
}

static void rt_metrics(struct hreq *r)
{
	if (!http_metrics_hook)
		return http_reply_error(r, 404, "no metrics in this build");
	http_metrics_hook(r);
}

/* ---- the table: one line per route ---- */

static const struct http_route routes[] = {
	{"GET",    "/api/v1/status",                rt_op,      "status"},
	{"GET",    "/api/v1/jobs",                  rt_op,      "list"},
	{"POST",   "/api/v1/jobs",                  rt_create,  "create"},
	{"GET",    "/api/v1/jobs/*",                rt_name,    "show"},
	{"DELETE", "/api/v1/jobs/*",                rt_name,    "delete"},
	{"PATCH",  "/api/v1/jobs/*",                rt_name,    "set-job"},
	{"POST",   "/api/v1/jobs/*/run",            rt_run,     "run"},
	{"POST",   "/api/v1/jobs/*/enable",         rt_name,    "enable"},
	{"POST",   "/api/v1/jobs/*/disable",        rt_name,    "disable"},
	{"GET",    "/api/v1/runs",                  rt_runs,    "runs"},
	{"POST",   "/api/v1/runs",                  rt_submit,  "submit"},
	{"GET",    "/api/v1/runs/active",           rt_op,      "active"},
	{"GET",    "/api/v1/runs/*",                rt_jid,     "lookup"},
	{"GET",    "/api/v1/runs/*/output",         http_sse_output, "logs"},
	{"POST",   "/api/v1/runs/*/signal",         rt_jid,     "signal"},
	{"POST",   "/api/v1/runs/*/cancel",         rt_jid,     "cancel"},
	{"GET",    "/api/v1/targets",               rt_op,      "targets"},
	{"POST",   "/api/v1/targets",               rt_op,      "add-target"},
	{"DELETE", "/api/v1/targets/*",             rt_target,  "remove-target"},
	{"POST",   "/api/v1/targets/*/pause",       rt_targets, "pause"},
	{"POST",   "/api/v1/targets/*/continue",    rt_targets, "continue"},
	{"POST",   "/api/v1/targets/*/concurrency", rt_target,
	                                            "set-target-concurrency"},
	{"GET",    "/api/v1/workers",               rt_op,      "workers"},
	{"GET",    "/api/v1/schedule/next",         rt_next,    "next"},
	{"POST",   "/api/v1/reload",                rt_op,      "reload"},
	{"GET",    "/metrics",                      rt_metrics, "metrics"},
};

/* Whether pattern matches r's segments; the '*'s into r->param. */
static int route_match(const char *pattern, struct hreq *r)
{
	int i = 0, np = 0;

	for (const char *p = pattern; *p; i++) {
		size_t n;
		p += *p == '/';
		n = strcspn(p, "/");
		if (i >= r->nseg)
			return 0;
		if (n == 1 && *p == '*') {
			if (np < (int)(sizeof r->param / sizeof *r->param))
				r->param[np++] = r->seg[i];
		} else if (strlen(r->seg[i]) != n || strncmp(p, r->seg[i], n)) {
			return 0;
		}
		p += n;
	}
	if (i != r->nseg)
		return 0;
	r->nparam = np;
	return 1;
}

const struct http_route *http_route_find(const char *method, struct hreq *r,
                                         const char **allow)
{
	static char methods[64];
	size_t n = 0;

	*allow = NULL;
	methods[0] = 0;
	for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
		if (!route_match(routes[i].pattern, r))
			continue;
		if (strcmp(routes[i].method, method) == 0)
			return &routes[i];
		if (!strstr(methods, routes[i].method))
			n += (size_t)snprintf(methods + n, sizeof methods - n,
			                      "%s%s", n ? ", " : "", routes[i].method);
		*allow = methods;
	}
	return NULL;
}
