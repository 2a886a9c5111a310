/* json.c — runs as JSON objects (docs/protocol.md "Objects"): one
 * spelling for every face.  Written as text (core/jw.h): a run is the
 * commonest reply; run_to_json parses that text for the replies that
 * embed runs in larger trees. */
#include <stdlib.h>
#include <string.h>

#include "core/jw.h"
#include "core/timefmt.h"
#include "engine/engine_api.h"
#include "engine/spec.h"
#include "faces/json.h"

static void str_or_null(struct jw *w, const char *key, const char *s)
{
	jw_kstr(w, key, s && *s ? s : NULL);
}

static void time_or_null(struct jw *w, const char *key, int64_t us)
{
	char buf[40];
	if (us)
		time_format_utc(buf, sizeof buf, us);
	jw_kstr(w, key, us ? buf : NULL);
}

static void int_or_null(struct jw *w, const char *key, int64_t v, int null)
{
	if (null)
		jw_kstr(w, key, NULL);
	else
		jw_kint(w, key, v);
}

static char *command_of(const struct run *r)
{
	json_t *spec = r->spec ? json_loads(r->spec, 0, NULL) : NULL;
	char *cmd = spec ? spec_display(spec) : NULL;
	json_decref(spec);
	return cmd;
}

void run_write_json(struct jw *w, const struct run *r, int with_output)
{
	char *cmd = command_of(r);

	jw_open(w, '{');
	jw_kstr(w, "jid", r->jid);
	jw_kint(w, "id", r->id);
	str_or_null(w, "job", r->job);
	str_or_null(w, "action", r->action);
	str_or_null(w, "target", r->target);
	str_or_null(w, "trigger", run_trigger_name(r->trigger));
	jw_kint(w, "attempt", r->attempt);
	str_or_null(w, "parent", r->parent);
	jw_kint(w, "priority", r->priority);
	str_or_null(w, "status", run_status_name(r->status));
	str_or_null(w, "result", run_result_name(r->result));
	int_or_null(w, "return_code", r->return_code, r->return_code < 0);
	str_or_null(w, "sig", r->sig);
	time_or_null(w, "time_created", r->time_created);
	time_or_null(w, "time_started", r->time_started);
	time_or_null(w, "time_finished", r->time_finished);
	if (r->time_not_before)
		time_or_null(w, "not_before", r->time_not_before);
	int_or_null(w, "duration_ms", (r->time_finished - r->time_started) / 1000,
	            !r->time_started || !r->time_finished);
	str_or_null(w, "command", cmd);
	int_or_null(w, "pid", r->pid, !r->pid);
	str_or_null(w, "user", r->user);
	jw_kint(w, "uid", r->uid);
	str_or_null(w, "worker", r->worker);
	if (with_output) {
		jw_key(w, "stdout");
		jw_bytes(w, r->out, r->out_len);
		jw_key(w, "stderr");
		jw_bytes(w, r->errout, r->err_len);
		jw_kbool(w, "stdout_truncated", r->out_truncated);
		jw_kbool(w, "stderr_truncated", r->err_truncated);
	}
	jw_close(w, '}');
	free(cmd);
}

json_t *run_to_json(const struct run *r, int with_output)
{
	struct jw w;
	size_t len;
	jw_init(&w);
	run_write_json(&w, r, with_output);
	char *text = jw_take(&w, &len);
	json_t *o = text ? json_loadb(text, len, 0, NULL) : NULL;
	free(text);
	return o ? o : json_object();
}

/* A live run: its output so far comes from the engine's buffers. */
json_t *arun_to_json(const struct arun *a, int with_output)
{
	struct run r;
	arun_row(a, &r);
	return run_to_json(&r, with_output);
}
