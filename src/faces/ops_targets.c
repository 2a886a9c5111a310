/* ops_targets.c — the queue's target ops (targets, add-target,
 * remove-target, set-target-concurrency, pause, continue, poll). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "faces/ops_int.h"

/* ---- targets (the queue's requests; their error texts are the original
 * daemon's) ---- */

json_t *targets_json(struct engine *e, int as_list)
{
	json_t *out = as_list ? json_array() : json_object();
	struct target *t;
	for (int i = 0; (t = engine_target_at(e, i)); i++) {
		json_t *o = json_pack("{s:b, s:i, s:i, s:i}", "paused", t->paused,
		                      "concurrency", t->concurrency,
		                      "length", t->waiting, "running", t->running);
		if (as_list) {
			json_object_set_new(o, "name", json_string(t->name));
			json_array_append_new(out, o);
		} else {
			json_object_set_new(out, t->name, o);
		}
	}
	return out;
}

void op_targets(struct call *c, json_t *data)
{
	(void)data;
	call_reply(c, json_pack("{s:o}", "targets", targets_json(c->e, 1)));
}

static int need_target(struct call *c, json_t *data, const char **name)
{
	json_t *v = json_object_get(data, "target");
	if (!json_is_string(v) || !name_valid(json_string_value(v))) {
		call_fail(c, -EINVAL, "invalid target '%s'",
		          json_is_string(v) ? json_string_value(v) : "");
		return -1;
	}
	*name = json_string_value(v);
	return 0;
}

static int need_concurrency(struct call *c, json_t *data, int *n)
{
	json_t *v = json_object_get(data, "concurrency");
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > 100000) {
		call_fail(c, -EINVAL, "invalid concurrency");
		return -1;
	}
	*n = (int)json_integer_value(v);
	return 0;
}

void op_add_target(struct call *c, json_t *data)
{
	const char *name;
	int n;
	if (!c->admin)
		return call_fail(c, -EPERM, "permission denied");
	if (need_target(c, data, &name) < 0 || need_concurrency(c, data, &n) < 0)
		return;
	if (queue_target(c->e, name))
		return call_fail(c, -EEXIST, "target '%s' already added", name);
	if (!engine_target_add(c->e, name, n))
		return call_fail(c, -ENOMEM, "cannot add target '%s'", name);
	call_reply(c, NULL);
}

void op_remove_target(struct call *c, json_t *data)
{
	const char *name;
	if (!c->admin)
		return call_fail(c, -EPERM, "permission denied");
	if (need_target(c, data, &name) < 0)
		return;
	int rc = engine_target_remove(c->e, name);
	if (rc == -ENOENT)
		return call_fail(c, -ENOENT, "invalid target '%s'", name);
	if (rc == -EBUSY)
		return call_fail(c, -EBUSY, "queue is not empty");
	if (rc == -EPERM)
		return call_fail(c, -EINVAL, "the default target cannot be removed");
	if (rc == -EROFS)
		return call_fail(c, -EINVAL, "target '%s' is defined in the config "
		                 "file's [targets]: remove it there and reload", name);
	if (rc == -EADDRINUSE)
		return call_fail(c, -EINVAL, "target '%s' is used by jobs: change "
		                 "their target first", name);
	call_reply(c, NULL);
}

void op_set_concurrency(struct call *c, json_t *data)
{
	const char *name;
	struct target *t;
	int n;
	if (!c->admin)
		return call_fail(c, -EPERM, "permission denied");
	if (need_target(c, data, &name) < 0 || need_concurrency(c, data, &n) < 0)
		return;
	if (!(t = queue_target(c->e, name)))
		return call_fail(c, -ENOENT, "invalid target '%s'", name);
	engine_target_set(c->e, t, n, -1);
	call_reply(c, NULL);
}

/* pause / continue / poll: {targets?: [str]}, absent = all. */
static void each_target(struct call *c, json_t *data,
                        void (*fn)(struct engine *, struct target *))
{
	json_t *ts = json_object_get(data, "targets");
	size_t i;
	json_t *v;
	if (ts && !json_is_array(ts))
		return call_fail(c, -EINVAL, "targets must be array");
	json_array_foreach(ts, i, v)
		if (!json_is_string(v) || !queue_target(c->e, json_string_value(v)))
			return call_fail(c, -ENOENT, "invalid target '%s'",
			                 json_is_string(v) ? json_string_value(v) : "");
	if (!ts) {
		struct target *t;
		for (int k = 0; (t = engine_target_at(c->e, k)); k++)
			fn(c->e, t);
	}
	json_array_foreach(ts, i, v)
		fn(c->e, queue_target(c->e, json_string_value(v)));
	call_reply(c, NULL);
}

static void t_pause(struct engine *e, struct target *t)
{
	engine_target_set(e, t, -1, 1);
}

/* Continue also polls: a paused target's poll left its rows in the store
 * (for other workers), so they are claimed now. */
static void t_continue(struct engine *e, struct target *t)
{
	engine_target_set(e, t, -1, 0);
}

void op_pause(struct call *c, json_t *data)
{
	if (!c->admin)
		return call_fail(c, -EPERM, "permission denied");
	each_target(c, data, t_pause);
}

void op_continue(struct call *c, json_t *data)
{
	if (!c->admin)
		return call_fail(c, -EPERM, "permission denied");
	each_target(c, data, t_continue);
}

/* Replies "ok" at once, as the original does, then claims the waiting rows
 * of the targets (see queue_poll). */
void op_poll(struct call *c, json_t *data)
{
	struct engine *e = c->e;
	json_t *ts = json_object_get(data, "targets");
	struct engine_stats st;
	json_t *v;

	engine_stats(e, &st);
	size_t i, n = ts ? json_array_size(ts) : (size_t)st.n_targets;

	if (ts && !json_is_array(ts))
		return call_fail(c, -EINVAL, "targets must be array");
	json_array_foreach(ts, i, v)
		if (!json_is_string(v) || !queue_target(e, json_string_value(v)))
			return call_fail(c, -ENOENT, "invalid target '%s'",
			                 json_is_string(v) ? json_string_value(v) : "");
	char **names = calloc(n + 1, sizeof *names);
	for (i = 0; names && i < n; i++)
		names[i] = strdup(ts ? json_string_value(json_array_get(ts, i))
		                     : engine_target_at(e, (int)i)->name);
	call_reply(c, NULL);         /* c is gone from here on */
	for (i = 0; names && i < n; i++) {
		struct target *t = names[i] ? queue_target(e, names[i]) : NULL;
		if (t)
			queue_poll(e, t);
		free(names[i]);
	}
	free(names);
}
