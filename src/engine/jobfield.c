/* jobfield.c — the field readers of job_from_json (jobfield.h): strings,
 * booleans, integers, durations, commands, lists, env, actions and health
 * checks, each from the JSON any source gives (strings too, as job files
 * give them). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobd.h"
#include "core/probeparse.h"
#include "core/shlex.h"
#include "core/strpool.h"
#include "core/timefmt.h"
#include "engine/config.h"
#include "engine/jobfield.h"
#include "engine/jobs.h"

#define HC_ATTEMPTS 3
#define HC_INTERVAL (10 * US_PER_S)
#define HC_TIMEOUT (5 * US_PER_S)

int jf_ferr(struct jctx *x, const char *fmt, ...)
{
	va_list ap;

	if (x->err && x->errlen) {
		va_start(ap, fmt);
		vsnprintf(x->err, x->errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int jf_oom(struct jctx *x)
{
	jf_ferr(x, "out of memory");
	return -ENOMEM;
}

/* ---- scalar fields ----------------------------------------------------- */

int jf_get_str(struct jctx *x, const char *key, json_t *v, char **out)
{
	if (!json_is_string(v))
		return jf_ferr(x, "%s: must be a string", key);
	free(*out);
	*out = NULL;
	if (!json_string_value(v)[0])
		return 0;   /* "" = unset */
	*out = strdup(json_string_value(v));
	return *out ? 0 : jf_oom(x);
}

/* get_str for an interned field. */
int jf_get_istr(struct jctx *x, const char *key, json_t *v, char **out)
{
	if (!json_is_string(v))
		return jf_ferr(x, "%s: must be a string", key);
	strpool_release(*out);
	*out = NULL;
	if (!json_string_value(v)[0])
		return 0;   /* "" = unset */
	*out = strpool_intern(json_string_value(v));
	return *out ? 0 : jf_oom(x);
}

int jf_get_bool(struct jctx *x, const char *key, json_t *v, int *out)
{
	int b = -1;

	if (json_is_boolean(v))
		b = json_is_true(v);
	else if (json_is_string(v))
		b = config_bool_parse(json_string_value(v));
	else if (json_is_integer(v) && (json_integer_value(v) == 0 ||
	                                json_integer_value(v) == 1))
		b = (int)json_integer_value(v);
	if (b < 0)
		return jf_ferr(x, "%s: must be true or false", key);
	*out = b;
	return 0;
}

int jf_get_int(struct jctx *x, const char *key, json_t *v, long long lo,
                   long long hi, long long *out)
{
	long long n;
	char *end;

	*out = 0;   /* defined on failure too: callers store it before checking */
	if (json_is_integer(v)) {
		n = json_integer_value(v);
	} else if (json_is_string(v) && json_string_value(v)[0]) {
		errno = 0;
		n = strtoll(json_string_value(v), &end, 10);
		if (errno || *end)
			goto bad;
	} else {
		goto bad;
	}
	if (n < lo || n > hi)
		goto bad;
	*out = n;
	return 0;
bad:
	return jf_ferr(x, "%s: must be an integer from %lld to %lld", key, lo, hi);
}

int jf_get_dur(struct jctx *x, const char *key, json_t *v, int64_t *out)
{
	char e[200] = "";

	if (json_is_string(v)) {
		if (dur_parse(json_string_value(v), out, e, sizeof(e)) < 0)
			return jf_ferr(x, "%s: %s", key, e[0] ? e : "invalid duration");
		if (*out < 0)
			return jf_ferr(x, "%s: must not be negative", key);
		return 0;
	}
	if (json_is_number(v) && json_number_value(v) >= 0 &&
	    json_number_value(v) < 1e12) {
		*out = json_is_integer(v) ? json_integer_value(v) * US_PER_S
		                          : llround(json_number_value(v) * 1e6);
		return 0;
	}
	return jf_ferr(x, "%s: must be a duration ('90s', '15m', '1h30m') or "
	            "seconds", key);
}

/* A command is checked here, once, so that nothing that runs it later can
 * meet a string it cannot split. */
int jf_check_command(struct jctx *x, const char *key, const char *cmd,
                         int shell)
{
	char e[200] = "", **argv = NULL;
	int argc = 0, rc;

	if (shell) {
		if (strspn(cmd, " \t\n") == strlen(cmd))
			return jf_ferr(x, "%s: empty", key);
		return 0;
	}
	rc = shlex_split(cmd, &argv, &argc, e, sizeof(e));
	if (rc == -ENOMEM)
		return jf_oom(x);
	if (rc < 0)
		return jf_ferr(x, "%s: %s", key, e);
	shlex_free(argv);
	return argc ? 0 : jf_ferr(x, "%s: empty", key);
}

/* ---- lists ------------------------------------------------------------- */

void jf_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

int jf_strv_push(char ***v, const char *s, size_t n)
{
	size_t len = strv_len(*v);
	char **nv = realloc(*v, sizeof(char *) * (len + 2)), *d;

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[len] = NULL;
	d = strndup(s, n);
	if (!d)
		return -ENOMEM;
	nv[len] = d;
	nv[len + 1] = NULL;
	return 0;
}

/* Splits "a, b c" at commas and white space, but not inside parentheses:
 * requires items look like "fs#1(up,stdby up)". */
static int split_items(const char *s, char ***out)
{
	int depth = 0;
	const char *start = NULL;

	for (const char *p = s;; p++) {
		int sep = !*p || (depth == 0 && (*p == ',' || *p == ' ' ||
		                                 *p == '\t'));

		if (sep) {
			if (start && jf_strv_push(out, start, (size_t)(p - start)) < 0)
				return -ENOMEM;
			start = NULL;
			if (!*p)
				return 0;
			continue;
		}
		if (!start)
			start = p;
		depth += *p == '(';
		depth -= *p == ')' && depth > 0;
	}
}

static int item_valid(const char *key, const char *s)
{
	int depth = 0;

	if (!s[0])
		return 0;
	if (strcmp(key, "requires") != 0)
		return strcspn(s, ", \t\n") == strlen(s);
	if (s[0] == '(')
		return 0;
	for (; *s; s++) {
		depth += *s == '(';
		depth -= *s == ')';
		if (depth < 0 || depth > 1)
			return 0;
	}
	return depth == 0;
}

int jf_get_list(struct jctx *x, const char *key, json_t *v, char ***out)
{
	size_t i;
	json_t *it;

	jf_strv_free(*out);
	*out = NULL;
	if (json_is_string(v)) {
		if (split_items(json_string_value(v), out) < 0)
			return jf_oom(x);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, it) {
			if (!json_is_string(it))
				return jf_ferr(x, "%s: item %zu is not a string", key, i + 1);
			if (jf_strv_push(out, json_string_value(it),
			              strlen(json_string_value(it))) < 0)
				return jf_oom(x);
		}
	} else {
		return jf_ferr(x, "%s: must be a list of strings or a comma-separated "
		            "string", key);
	}
	for (i = 0; *out && (*out)[i]; i++)
		if (!item_valid(key, (*out)[i]))
			return jf_ferr(x, "%s: invalid item '%s'", key, (*out)[i]);
	return 0;
}

static int env_add(struct jctx *x, char ***env, const char *k, size_t klen,
                   const char *val)
{
	char *kv;
	int rc;

	if (klen > ENV_NAME_MAX)
		return jf_ferr(x, "env: variable name longer than %d bytes: '%.32s...'",
		            ENV_NAME_MAX, k);
	if (!env_name_valid(k, klen))
		return jf_ferr(x, "env: invalid variable name '%.*s'", (int)klen, k);
	for (size_t i = 0; *env && (*env)[i]; i++)
		if (strncmp((*env)[i], k, klen) == 0 && (*env)[i][klen] == '=')
			return jf_ferr(x, "env: '%.*s' given twice", (int)klen, k);
	if (asprintf(&kv, "%.*s=%s", (int)klen, k, val) < 0)
		return jf_oom(x);
	rc = jf_strv_push(env, kv, strlen(kv));
	free(kv);
	return rc < 0 ? jf_oom(x) : 0;
}

int jf_get_env(struct jctx *x, json_t *v, char ***env)
{
	const char *k, *eq;
	json_t *it;
	size_t i;
	int rc;

	jf_strv_free(*env);
	*env = NULL;
	if (json_is_object(v)) {
		json_object_foreach(v, k, it) {
			if (!json_is_string(it))
				return jf_ferr(x, "env: value of '%s' is not a string", k);
			if ((rc = env_add(x, env, k, strlen(k), json_string_value(it))))
				return rc;
		}
		return 0;
	}
	if (!json_is_array(v))
		return jf_ferr(x, "env: must be an object {\"K\": \"V\"} or a list "
		            "[\"K=V\"]");
	json_array_foreach(v, i, it) {
		if (!json_is_string(it) || !(eq = strchr(json_string_value(it), '=')))
			return jf_ferr(x, "env: item %zu is not a \"K=V\" string", i + 1);
		k = json_string_value(it);
		if ((rc = env_add(x, env, k, (size_t)(eq - k), eq + 1)))
			return rc;
	}
	return 0;
}

/* ---- actions and health checks ----------------------------------------- */

int jf_get_actions(struct jctx *x, struct job *j, json_t *v)
{
	const char *name;
	json_t *cmd;
	char key[NAME_MAX_LEN + 16];
	int rc;

	if (!json_is_object(v))
		return jf_ferr(x, "actions: must be an object {\"name\": \"command\"}");
	j->actions = calloc(json_object_size(v) + 1, sizeof(*j->actions));
	if (!j->actions)
		return jf_oom(x);
	json_object_foreach(v, name, cmd) {
		if (!action_name_valid(name))
			return jf_ferr(x, "actions: invalid action name '%s'", name);
		if (!json_is_string(cmd))
			return jf_ferr(x, "actions: %s: must be a command string", name);
		snprintf(key, sizeof(key), "actions: %s", name);
		if ((rc = jf_check_command(x, key, json_string_value(cmd), j->shell)))
			return rc;
		j->actions[j->n_actions].name = strdup(name);
		j->actions[j->n_actions].command = strdup(json_string_value(cmd));
		j->n_actions++;
		if (!j->actions[j->n_actions - 1].name ||
		    !j->actions[j->n_actions - 1].command)
			return jf_oom(x);
	}
	return 0;
}

/* https would need TLS in the daemon (a library, certificates, SNI): a
 * command check with curl does it better, so it is refused here. */
static int check_probe(struct jctx *x, struct health_check *h, int shell)
{
	int n = !!h->tcp + !!h->http + !!h->command, port;
	char key[NAME_MAX_LEN + 40], host[PROBE_HOST_MAX];
	struct probe_url u;
	const char *why;

	if (n != 1)
		return jf_ferr(x, "health_checks: %s: give exactly one of tcp, http "
		            "and command", h->name);
	if (h->tcp && probe_hostport(h->tcp, host, &port, &why) < 0)
		return jf_ferr(x, "health_checks: %s: tcp must be host:port: '%s' "
		            "(%s)", h->name, h->tcp, why);
	if (h->http && probe_url(h->http, &u, &why) < 0)
		return jf_ferr(x, "health_checks: %s: http %s: '%s'", h->name, why,
		            h->http);
	if (h->http && u.https)
		return jf_ferr(x, "health_checks: %s: https is not supported; use "
		            "a command check, e.g. curl -fsS %s", h->name, h->http);
	if (h->expect_status && !h->http)
		return jf_ferr(x, "health_checks: %s: expect_status needs an http "
		            "check", h->name);
	if (!h->expect_status)
		h->expect_status = 200;
	if (h->timeout <= 0)
		return jf_ferr(x, "health_checks: %s: timeout: must be more than 0",
		            h->name);
	snprintf(key, sizeof(key), "health_checks: %s: command", h->name);
	return h->command ? jf_check_command(x, key, h->command, shell) : 0;
}

static int check_field(struct jctx *x, struct health_check *h,
                       const char *k, json_t *v)
{
	char key[NAME_MAX_LEN + 40];
	long long n;
	int rc;

	snprintf(key, sizeof(key), "health_checks: %s: %s", h->name, k);
	if (json_is_null(v))
		return 0;
	if (strcmp(k, "tcp") == 0)
		return jf_get_str(x, key, v, &h->tcp);
	if (strcmp(k, "http") == 0)
		return jf_get_str(x, key, v, &h->http);
	if (strcmp(k, "command") == 0)
		return jf_get_str(x, key, v, &h->command);
	if (strcmp(k, "interval") == 0)
		return jf_get_dur(x, key, v, &h->interval);
	if (strcmp(k, "timeout") == 0)
		return jf_get_dur(x, key, v, &h->timeout);
	if (strcmp(k, "attempts") == 0) {
		if ((rc = jf_get_int(x, key, v, 1, 100, &n)) == 0)
			h->attempts = (int)n;
		return rc;
	}
	if (strcmp(k, "expect_status") == 0) {
		if ((rc = jf_get_int(x, key, v, 100, 599, &n)) == 0)
			h->expect_status = (int)n;
		return rc;
	}
	return jf_ferr(x, "health_checks: %s: unknown key '%s'", h->name, k);
}

static int get_check(struct jctx *x, struct job *j, json_t *o, size_t idx)
{
	struct health_check *h = &j->checks[j->n_checks];
	json_t *name = json_object_get(o, "name"), *v;
	const char *k;
	int rc;

	if (!json_is_object(o))
		return jf_ferr(x, "health_checks: item %zu is not an object", idx + 1);
	if (!json_is_string(name) || !action_name_valid(json_string_value(name)))
		return jf_ferr(x, "health_checks: item %zu needs a name "
		            "([A-Za-z0-9][A-Za-z0-9_.-]*)", idx + 1);
	for (int i = 0; i < j->n_checks; i++)
		if (strcmp(j->checks[i].name, json_string_value(name)) == 0)
			return jf_ferr(x, "health_checks: duplicate name '%s'",
			            json_string_value(name));
	h->name = strdup(json_string_value(name));
	h->attempts = HC_ATTEMPTS;
	h->interval = HC_INTERVAL;
	h->timeout = HC_TIMEOUT;
	j->n_checks++;
	if (!h->name)
		return jf_oom(x);
	json_object_foreach(o, k, v)
		if (strcmp(k, "name") != 0 && (rc = check_field(x, h, k, v)))
			return rc;
	return check_probe(x, h, j->shell);
}

int jf_get_checks(struct jctx *x, struct job *j, json_t *v)
{
	size_t i;
	json_t *o;
	int rc;

	if (!json_is_array(v))
		return jf_ferr(x, "health_checks: must be a list of objects");
	j->checks = calloc(json_array_size(v) + 1, sizeof(*j->checks));
	if (!j->checks)
		return jf_oom(x);
	j->n_checks = 0;   /* a new array holds none (lets the analyzer see it) */
	json_array_foreach(v, i, o)
		if ((rc = get_check(x, j, o, i)))
			return rc;
	return 0;
}
