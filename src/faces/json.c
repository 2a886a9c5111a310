/* json.c — runs as JSON objects (docs/protocol.md "Objects"): one
 * spelling for every face. */
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "engine/engine.h"
#include "engine/spec.h"

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *time_or_null(int64_t us)
{
	char buf[40];
	if (!us)
		return json_null();
	time_format_utc(buf, sizeof buf, us);
	return json_string(buf);
}

/* Output as a JSON string.  Output that is not UTF-8 would make the whole
 * message unreadable, so then every non-ASCII byte becomes '?'. */
static json_t *bytes(const char *p, size_t n)
{
	if (!p)
		p = "", n = 0;
	json_t *s = json_stringn(p, n);
	if (s)
		return s;
	char *c = malloc(n + 1);
	if (!c)
		return json_string("");
	for (size_t i = 0; i < n; i++)
		c[i] = (unsigned char)p[i] < 0x80 ? p[i] : '?';
	s = json_stringn(c, n);
	free(c);
	return s;
}

json_t *run_to_json(const struct run *r, int with_output)
{
	json_t *o = json_object();
	json_t *spec = r->spec ? json_loads(r->spec, 0, NULL) : NULL;
	char *cmd = spec ? spec_display(spec) : NULL;

	json_object_set_new(o, "jid", json_string(r->jid));
	json_object_set_new(o, "id", json_integer(r->id));
	json_object_set_new(o, "job", str_or_null(r->job));
	json_object_set_new(o, "action", str_or_null(r->action));
	json_object_set_new(o, "target", str_or_null(r->target));
	json_object_set_new(o, "trigger", json_string(run_trigger_name(r->trigger)));
	json_object_set_new(o, "attempt", json_integer(r->attempt));
	json_object_set_new(o, "parent", str_or_null(r->parent));
	json_object_set_new(o, "priority", json_integer(r->priority));
	json_object_set_new(o, "status", json_string(run_status_name(r->status)));
	json_object_set_new(o, "result", str_or_null(run_result_name(r->result)));
	json_object_set_new(o, "return_code", r->return_code >= 0
	                    ? json_integer(r->return_code) : json_null());
	json_object_set_new(o, "sig", str_or_null(r->sig));
	json_object_set_new(o, "time_created", time_or_null(r->time_created));
	json_object_set_new(o, "time_started", time_or_null(r->time_started));
	json_object_set_new(o, "time_finished", time_or_null(r->time_finished));
	if (r->time_not_before)
		json_object_set_new(o, "not_before", time_or_null(r->time_not_before));
	json_object_set_new(o, "duration_ms",
	                    r->time_started && r->time_finished
	                    ? json_integer((r->time_finished - r->time_started) / 1000)
	                    : json_null());
	json_object_set_new(o, "command", str_or_null(cmd));
	json_object_set_new(o, "pid", r->pid ? json_integer(r->pid) : json_null());
	json_object_set_new(o, "user", str_or_null(r->user));
	json_object_set_new(o, "uid", json_integer(r->uid));
	json_object_set_new(o, "worker", str_or_null(r->worker));
	if (with_output) {
		json_object_set_new(o, "stdout", bytes(r->out, r->out_len));
		json_object_set_new(o, "stderr", bytes(r->errout, r->err_len));
		json_object_set_new(o, "stdout_truncated",
		                    json_boolean(r->out_truncated));
		json_object_set_new(o, "stderr_truncated",
		                    json_boolean(r->err_truncated));
	}
	free(cmd);
	json_decref(spec);
	return o;
}

/* A live run: its output so far comes from the engine's buffers. */
json_t *arun_to_json(const struct arun *a, int with_output)
{
	struct run r;
	arun_row(a, &r);
	return run_to_json(&r, with_output);
}
