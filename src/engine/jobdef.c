/* jobdef.c — job definitions: the one validation path (job_from_json) that
 * every source goes through, walking the field table (the readers are
 * jobfield.c's), and its inverse (job_to_json).  The job files of
 * jobs_dir become the same JSON objects in jobfile.c.  See
 * docs/jobfiles.md and docs/protocol.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobd.h"
#include "core/schedule.h"
#include "core/shlex.h"
#include "core/strpool.h"
#include "core/timefmt.h"
#include "core/tz.h"
#include "engine/jobfield.h"
#include "engine/jobs.h"
#include "engine/requires.h"

/* ---- names ------------------------------------------------------------- */

int action_name_valid(const char *s)
{
	static const char more[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
	                           "QRSTUVWXYZ0123456789_.-";

	return s[0] && strchr(more, s[0]) && s[0] != '_' && s[0] != '.' &&
	       s[0] != '-' && strspn(s, more) == strlen(s) &&
	       strlen(s) <= NAME_MAX_LEN;
}
/* ---- the field table --------------------------------------------------- */

typedef int (*field_fn)(struct jctx *x, struct job *j, const char *key,
                        json_t *v);

static int f_name(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	int rc = jf_get_str(x, key, v, &j->name);

	if (rc)
		return rc;
	if (!j->name || !job_name_valid(j->name))
		return jf_ferr(x, "name: invalid name '%s' ([A-Za-z0-9_.-], 1 to %d "
		            "characters)", json_string_value(v), NAME_MAX_LEN);
	return 0;
}

static int f_shell(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	int b = 0, rc = jf_get_bool(x, key, v, &b);

	j->shell = (int8_t)b;
	return rc;
}

static int f_timezone(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	const struct tz *z;
	char e[200] = "";
	int rc = jf_get_istr(x, key, v, &j->timezone);

	if (rc || !j->timezone)
		return rc;
	rc = tz_get(j->timezone, &z, e, sizeof(e));
	if (rc == -ENOENT)
		return jf_ferr(x, "timezone: unknown time zone '%s'", j->timezone);
	return rc < 0 ? jf_ferr(x, "timezone: %s", e) : 0;
}

static int f_argv(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	char **argv = NULL;
	json_t *it;
	size_t i;
	int rc = 0;

	(void)key;
	if (!json_is_array(v))
		return jf_ferr(x, "argv: must be a list of strings");
	if (json_array_size(v) == 0)
		return jf_ferr(x, "argv: empty");
	json_array_foreach(v, i, it) {
		if (!json_is_string(it)) {
			rc = jf_ferr(x, "argv: item %zu is not a string", i + 1);
			goto out;
		}
		if (jf_strv_push(&argv, json_string_value(it),
		              strlen(json_string_value(it))) < 0) {
			rc = jf_oom(x);
			goto out;
		}
	}
	if (!(j->command = shlex_join(argv)))
		rc = jf_oom(x);
out:
	jf_strv_free(argv);
	return rc;
}

static int f_command(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	if (j->command)
		return jf_ferr(x, "command: give command or argv, not both");
	if (json_is_string(v) && !json_string_value(v)[0])
		return jf_ferr(x, "command: empty");
	return jf_get_str(x, key, v, &j->command);
}

static int f_schedule(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	char e[300] = "";
	int rc;

	if (json_is_array(v)) {   /* a calendar list: keep it as its text */
		j->schedule = json_dumps(v, JSON_COMPACT);
		if (!j->schedule)
			return jf_oom(x);
	} else if ((rc = jf_get_str(x, key, v, &j->schedule))) {
		return rc;
	}
	if (!j->schedule)
		return 0;
	rc = sched_parse(j->schedule, j->timezone ? j->timezone : x->tz_default,
	                 &j->sched, e, sizeof(e));
	if (rc == -ENOMEM)
		return jf_oom(x);
	return rc < 0 ? jf_ferr(x, "schedule: %s", e) : 0;
}

static int f_target(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	int rc = jf_get_istr(x, key, v, &j->target);

	if (rc == 0 && j->target && !name_valid(j->target))
		return jf_ferr(x, "target: invalid name '%s'", j->target);
	return rc;
}

static int f_strfield(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	if (strcmp(key, "source") == 0)
		return jf_get_istr(x, key, v, &j->source);
	return jf_get_str(x, key, v, strcmp(key, "user") == 0 ? &j->user : &j->group);
}

static int f_cwd(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	int rc = jf_get_str(x, key, v, &j->cwd);

	if (rc == 0 && j->cwd && j->cwd[0] != '/')
		return jf_ferr(x, "cwd: must be an absolute path: '%s'", j->cwd);
	return rc;
}

static int f_env(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	(void)key;
	return jf_get_env(x, v, &j->env);
}

static int f_dur(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	int64_t *f = strcmp(key, "timeout") == 0 ? &j->timeout
	           : strcmp(key, "kill_grace") == 0 ? &j->kill_grace
	           : strcmp(key, "jitter") == 0 ? &j->jitter : &j->backoff;

	return jf_get_dur(x, key, v, f);
}

static int f_retries(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	long long n;
	int rc = jf_get_int(x, key, v, 0, 100, &n);

	j->retries = (uint8_t)n;
	return rc;
}

/* The small counts, 0 to 1000. */
static int f_count(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	int16_t *f = strcmp(key, "overlap_queue_max") == 0 ? &j->overlap_queue_max
	           : strcmp(key, "max_parallel") == 0 ? &j->max_parallel
	           : &j->max_parallel_workers;
	long long n;
	int rc = jf_get_int(x, key, v, 0, 1000, &n);

	*f = (int16_t)n;
	return rc;
}

static const char *const retcode_states[] = { "up", "down", "warn", "n/a",
                                              NULL };

/* "0:up 1:down 2:warn": words CODE:STATE, CODE 0..255. */
static int f_retcodes(struct jctx *x, struct job *j, const char *key,
                      json_t *v)
{
	const char *s = json_string_value(v), *p;
	char state[8];
	int code, n;

	(void)key;
	if (!s)
		return jf_ferr(x, "retcodes: must be a string");
	for (p = s; *p; p += n) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		n = 0;
		if (sscanf(p, "%3d:%7[a-z/]%n", &code, state, &n) != 2 ||
		    code < 0 || code > 255 || (p[n] && p[n] != ' ' && p[n] != '\t'))
			return jf_ferr(x, "retcodes: '%s' is not CODE:STATE words "
			               "(0:up 1:down)", s);
		int ok = 0;
		for (const char *const *st = retcode_states; *st; st++)
			ok |= strcmp(*st, state) == 0;
		if (!ok)
			return jf_ferr(x, "retcodes: unknown state '%s' (up, down, "
			               "warn, n/a)", state);
	}
	free(j->retcodes);
	j->retcodes = strdup(s);
	return j->retcodes ? 0 : -ENOMEM;
}

int job_on_node(const struct job *j, const char *node)
{
	if (!j->nodes)
		return 1;
	for (char **n = j->nodes; *n; n++)
		if (node && strcmp(*n, node) == 0)
			return 1;
	return 0;
}

int job_on_labels(const struct job *j, const char *labels, int worker)
{
	for (char **s = j->selectors; s && *s; s++) {
		size_t n = strlen(*s);
		const char *p = labels;
		int found = worker && strcmp(*s, "worker") == 0;
		while (p && *p && !found) {
			p += strspn(p, ", \t");
			size_t len = strcspn(p, ", \t");
			found = len == n && strncmp(p, *s, n) == 0;
			p += len;
		}
		if (!found)
			return 0;
	}
	return 1;
}

const char *job_retcode_status(const char *retcodes, int code)
{
	const char *p = retcodes;
	char state[8];
	int c, n;

	while (p && *p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (sscanf(p, "%3d:%7[a-z/]%n", &c, state, &n) != 2)
			break;
		if (c == code)
			for (const char *const *st = retcode_states; *st; st++)
				if (strcmp(*st, state) == 0)
					return *st;
		p += n;
	}
	return "warn";
}

static int f_priority(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	long long n;
	int rc = jf_get_int(x, key, v, -1000000, 1000000, &n);

	j->priority = (int)n;
	return rc;
}

static int f_owner(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	long long n;
	int rc = jf_get_int(x, key, v, 0, UINT32_MAX, &n);

	j->owner_uid = (uint32_t)n;
	return rc;
}

static int f_overlap(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	(void)key;
	if (!json_is_string(v) || (j->overlap = overlap_parse(json_string_value(v))) < 0)
		return jf_ferr(x, "overlap: must be skip, queue, replace or allow");
	return 0;
}

static int f_placement(struct jctx *x, struct job *j, const char *key,
                       json_t *v)
{
	const char *s = json_string_value(v);

	(void)key;
	if (s && strcmp(s, "any") == 0)
		j->placement = PLACEMENT_ANY;
	else if (s && strcmp(s, "one") == 0)
		j->placement = PLACEMENT_ONE;
	else
		return jf_ferr(x, "placement: must be any or one");
	return 0;
}

/* At least a second: the holder renews every third of it, through the
 * store; a shorter one would be lost to a busy store, not to a death. */
static int f_lease_timeout(struct jctx *x, struct job *j, const char *key,
                           json_t *v)
{
	int rc = jf_get_dur(x, key, v, &j->lease_timeout);

	if (rc == 0 && j->lease_timeout < US_PER_S)
		return jf_ferr(x, "lease_timeout: must be at least 1s");
	if (rc == 0 && j->lease_timeout > 86400 * US_PER_S)
		return jf_ferr(x, "lease_timeout: must be at most 24h");
	return rc;
}

static int f_catchup(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	const char *s = json_string_value(v);

	(void)key;
	if (s && strcmp(s, "none") == 0)
		j->catchup = CATCHUP_NONE;
	else if (s && strcmp(s, "once") == 0)
		j->catchup = CATCHUP_ONCE;
	else if (s && strcmp(s, "default") == 0)
		j->catchup = CATCHUP_DEFAULT;
	else
		return jf_ferr(x, "catchup: must be none or once");
	return 0;
}

static int f_list(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	char ***f = strcmp(key, "tags") == 0 ? &j->tags
	          : strcmp(key, "selectors") == 0 ? &j->selectors
	          : strcmp(key, "after") == 0 ? &j->after
	          : strcmp(key, "nodes") == 0 ? &j->nodes : &j->requires;

	return jf_get_list(x, key, v, f);
}

static int f_flag(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	int8_t *f = strcmp(key, "confirm") == 0 ? &j->confirm
	          : strcmp(key, "kill_leftovers") == 0 ? &j->kill_leftovers
	          : strcmp(key, "log_output") == 0 ? &j->log_output
	          : &j->enabled;
	int b = 0, rc = jf_get_bool(x, key, v, &b);

	if (rc == 0)
		*f = (int8_t)b;
	return rc;
}

static int f_actions(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	(void)key;
	return jf_get_actions(x, j, v);
}

static int f_checks(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	(void)key;
	return jf_get_checks(x, j, v);
}

/* In dependency order: shell before the commands, timezone before the
 * schedule, argv before command (so that both given is an error). */
static const struct field {
	const char *key;
	field_fn fn;
} fields[] = {
	{ "name", f_name },         { "shell", f_shell },
	{ "timezone", f_timezone }, { "argv", f_argv },
	{ "command", f_command },   { "schedule", f_schedule },
	{ "target", f_target },     { "user", f_strfield },
	{ "group", f_strfield },    { "cwd", f_cwd },
	{ "env", f_env },           { "timeout", f_dur },
	{ "kill_grace", f_dur },    { "jitter", f_dur },
	{ "backoff", f_dur },       { "retries", f_retries },
	{ "priority", f_priority }, { "overlap", f_overlap },
	{ "overlap_queue_max", f_count },
	{ "max_parallel", f_count }, { "retcodes", f_retcodes },
	{ "catchup", f_catchup },   { "tags", f_list },
	{ "selectors", f_list },    { "requires", f_list },
	{ "nodes", f_list },         { "after", f_list },
	{ "max_parallel_workers", f_count },
	{ "nodes", f_list },
	{ "placement", f_placement }, { "lease_timeout", f_lease_timeout },
	{ "confirm", f_flag },      { "enabled", f_flag },
	{ "kill_leftovers", f_flag }, { "log_output", f_flag },
	{ "actions", f_actions },   { "health_checks", f_checks },
	{ "source", f_strfield },   { "owner_uid", f_owner },
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static int known_key(const char *k)
{
	for (size_t i = 0; i < N_FIELDS; i++)
		if (strcmp(fields[i].key, k) == 0)
			return 1;
	return 0;
}

static void job_init(struct job *j)
{
	memset(j, 0, sizeof(*j));
	j->kill_grace = 10 * US_PER_S;
	j->backoff = 10 * US_PER_S;
	j->overlap = OVERLAP_SKIP;
	j->overlap_queue_max = 1;
	j->catchup = CATCHUP_DEFAULT;
	j->lease_timeout = 15 * US_PER_S;
	j->enabled = 1;
	j->next_fire = -1;
}

static int job_fields(struct jctx *x, json_t *def, struct job *j)
{
	const char *k;
	json_t *v;
	int rc;

	if (!json_is_object(def))
		return jf_ferr(x, "job: must be a JSON object");
	json_object_foreach(def, k, v)
		if (!known_key(k))
			return jf_ferr(x, "unknown key '%s'", k);
	for (size_t i = 0; i < N_FIELDS; i++) {
		v = json_object_get(def, fields[i].key);
		if (v && !json_is_null(v) && (rc = fields[i].fn(x, j, fields[i].key, v)))
			return rc;
	}
	if (!j->name)
		return jf_ferr(x, "name: missing");
	if (!j->command)
		return jf_ferr(x, "command: missing (give command or argv)");
	if ((rc = jf_check_command(x, "command", j->command, j->shell)))
		return rc;
	if (!j->target && !(j->target = strpool_intern("default")))
		return jf_oom(x);
	return 0;
}

int job_from_json(json_t *def, const char *tz_default, struct job *out,
                  char *err, size_t errlen)
{
	struct jctx x = { .err = err, .errlen = errlen, .tz_default = tz_default };
	int rc;

	job_init(out);
	rc = job_fields(&x, def, out);
	if (rc)
		job_free(out);
	return rc;
}

void job_free(struct job *j)
{
	free(j->name);
	free(j->command);
	free(j->schedule);
	strpool_release(j->timezone);
	strpool_release(j->target);
	free(j->user);
	free(j->group);
	free(j->cwd);
	free(j->retcodes);
	jf_strv_free(j->env);
	jf_strv_free(j->tags);
	jf_strv_free(j->selectors);
	jf_strv_free(j->requires);
	jf_strv_free(j->nodes);
	jf_strv_free(j->after);
	for (int i = 0; i < j->n_actions; i++) {
		free(j->actions[i].name);
		free(j->actions[i].command);
	}
	free(j->actions);
	for (int i = 0; i < j->n_checks; i++) {
		free(j->checks[i].name);
		free(j->checks[i].tcp);
		free(j->checks[i].http);
		free(j->checks[i].command);
	}
	free(j->checks);
	strpool_release(j->source);
	if (j->sched)
		sched_free(j->sched);
	free(j->spec);
	memset(j, 0, sizeof(*j));
}

int job_catchup(const struct job *j)
{
	return j->catchup == CATCHUP_DEFAULT ? sched_default_catchup(j->sched)
	                                     : j->catchup;
}

int job_keeps_last_run(const struct job *j)
{
	int k = j->sched ? sched_kind(j->sched) : SCHED_NEVER;

	return k == SCHED_EVERY || k == SCHED_CALENDAR ||
	       (j->sched && job_catchup(j) == CATCHUP_ONCE);
}

const struct job_action *job_action_find(const struct job *j, const char *name)
{
	for (int i = 0; i < j->n_actions; i++)
		if (strcmp(j->actions[i].name, name) == 0)
			return &j->actions[i];
	return NULL;
}

int job_check_built(const struct job *j, char *err, size_t errlen)
{
	return requires_validate(j->requires, j->name, err, errlen);
}

/* ---- job_to_json ------------------------------------------------------- */

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *dur_json(int64_t us)
{
	char buf[64];

	dur_format(buf, sizeof(buf), us);
	return json_string(buf);
}

static json_t *list_json(char *const *v)
{
	json_t *a = json_array();

	for (size_t i = 0; a && v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *env_json(char *const *env)
{
	json_t *o = json_object();

	for (size_t i = 0; o && env && env[i]; i++) {
		char *eq = strchr(env[i], '='), *k;

		if (!eq || !(k = strndup(env[i], (size_t)(eq - env[i]))))
			continue;
		json_object_set_new(o, k, json_string(eq + 1));
		free(k);
	}
	return o;
}

static json_t *checks_json(const struct job *j)
{
	json_t *a = json_array();

	for (int i = 0; a && i < j->n_checks; i++) {
		const struct health_check *h = &j->checks[i];

		json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:i, s:o, s:o}",
			"name", h->name, "tcp", str_or_null(h->tcp),
			"http", str_or_null(h->http), "command", str_or_null(h->command),
			"attempts", h->attempts, "interval", dur_json(h->interval),
			"timeout", dur_json(h->timeout));

		if (o && h->http)   /* only where it means something: it is an
		                     * error on the other kinds */
			json_object_set_new(o, "expect_status",
			                    json_integer(h->expect_status));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *actions_json(const struct job *j)
{
	json_t *o = json_object();

	for (int i = 0; o && i < j->n_actions; i++)
		json_object_set_new(o, j->actions[i].name,
		                    json_string(j->actions[i].command));
	return o;
}

json_t *job_to_json(const struct job *j)
{
	const char *catchup = j->catchup == CATCHUP_NONE ? "none"
	                    : j->catchup == CATCHUP_ONCE ? "once" : NULL;
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "name", json_string(j->name));
	json_object_set_new(o, "command", json_string(j->command));
	json_object_set_new(o, "shell", json_boolean(j->shell));
	json_object_set_new(o, "schedule", str_or_null(j->schedule));
	json_object_set_new(o, "timezone", str_or_null(j->timezone));
	json_object_set_new(o, "target", str_or_null(j->target));
	json_object_set_new(o, "user", str_or_null(j->user));
	json_object_set_new(o, "group", str_or_null(j->group));
	json_object_set_new(o, "cwd", str_or_null(j->cwd));
	json_object_set_new(o, "env", env_json(j->env));
	json_object_set_new(o, "timeout", dur_json(j->timeout));
	json_object_set_new(o, "kill_grace", dur_json(j->kill_grace));
	json_object_set_new(o, "kill_leftovers", json_boolean(j->kill_leftovers));
	json_object_set_new(o, "log_output", json_boolean(j->log_output));
	json_object_set_new(o, "retries", json_integer(j->retries));
	json_object_set_new(o, "overlap_queue_max",
	                    json_integer(j->overlap_queue_max));
	json_object_set_new(o, "max_parallel", json_integer(j->max_parallel));
	json_object_set_new(o, "retcodes", str_or_null(j->retcodes));
	json_object_set_new(o, "backoff", dur_json(j->backoff));
	json_object_set_new(o, "overlap", json_string(overlap_name(j->overlap)));
	json_object_set_new(o, "catchup", str_or_null(catchup));
	json_object_set_new(o, "jitter", dur_json(j->jitter));
	json_object_set_new(o, "tags", list_json(j->tags));
	json_object_set_new(o, "confirm", json_boolean(j->confirm));
	json_object_set_new(o, "requires", list_json(j->requires));
	json_object_set_new(o, "selectors", list_json(j->selectors));
	json_object_set_new(o, "nodes", list_json(j->nodes));
	json_object_set_new(o, "after", list_json(j->after));
	json_object_set_new(o, "max_parallel_workers",
	                    json_integer(j->max_parallel_workers));
	json_object_set_new(o, "placement", json_string(
	                    j->placement == PLACEMENT_ONE ? "one" : "any"));
	json_object_set_new(o, "lease_timeout", dur_json(j->lease_timeout));
	json_object_set_new(o, "enabled", json_boolean(j->enabled));
	json_object_set_new(o, "actions", actions_json(j));
	json_object_set_new(o, "health_checks", checks_json(j));
	json_object_set_new(o, "priority", json_integer(j->priority));
	json_object_set_new(o, "source", str_or_null(j->source));
	json_object_set_new(o, "owner_uid", json_integer(j->owner_uid));
	return o;
}
