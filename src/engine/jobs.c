/* jobs.c — job definitions: the one validation path (job_from_json) that
 * every source goes through, its inverse (job_to_json), and the job files
 * of jobs_dir, which are read with inih (through config_ini_read) into the
 * same JSON objects.  See docs/jobfiles.md and docs/protocol.md. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jobd.h"
#include "core/schedule.h"
#include "core/shlex.h"
#include "core/timefmt.h"
#include "core/tz.h"
#include "engine/config.h"
#include "engine/jobs.h"

#define HC_ATTEMPTS 3
#define HC_INTERVAL (10 * US_PER_S)
#define HC_TIMEOUT (5 * US_PER_S)

struct jctx {
	char *err;
	size_t errlen;
	const char *tz_default;
};

static int ferr(struct jctx *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int ferr(struct jctx *x, const char *fmt, ...)
{
	va_list ap;

	if (x->err && x->errlen) {
		va_start(ap, fmt);
		vsnprintf(x->err, x->errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int oom(struct jctx *x)
{
	ferr(x, "out of memory");
	return -ENOMEM;
}

/* ---- interned strings -------------------------------------------------- */

/* Jobs share a few values many times over: their job file's path, their
 * target, their time zone.  Each distinct value is kept once, with a count
 * of the fields holding it; str_release frees it when the last goes.  The
 * pool belongs to the thread that loads jobs (the loop thread). */
struct istr {
	struct istr *next;      /* in its bucket */
	uint32_t hash;
	uint32_t refs;
	char s[];
};

static struct istr **ipool;     /* buckets, NULL while empty */
static size_t ipool_size, ipool_count;

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;       /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static int ipool_grow(void)
{
	size_t n = ipool_size ? ipool_size * 2 : 64;
	struct istr **b = calloc(n, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < ipool_size; i++) {
		for (struct istr *e = ipool[i], *next; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(ipool);
	ipool = b;
	ipool_size = n;
	return 0;
}

/* A counted reference to the one copy of s; NULL when out of memory. */
static char *str_intern(const char *s)
{
	uint32_t h = str_hash(s);
	size_t len = strlen(s);
	struct istr *e;

	if (ipool_count >= ipool_size && ipool_grow() < 0 && !ipool)
		return NULL;
	for (e = ipool[h & (ipool_size - 1)]; e; e = e->next) {
		if (e->hash == h && strcmp(e->s, s) == 0) {
			e->refs++;
			return e->s;
		}
	}
	if (!(e = malloc(sizeof(*e) + len + 1)))
		return NULL;
	e->hash = h;
	e->refs = 1;
	memcpy(e->s, s, len + 1);
	e->next = ipool[h & (ipool_size - 1)];
	ipool[h & (ipool_size - 1)] = e;
	ipool_count++;
	return e->s;
}

static void str_release(char *s)
{
	struct istr *e, **at;

	if (!s)
		return;
	e = (struct istr *)(s - offsetof(struct istr, s));
	if (--e->refs)
		return;
	/* e is in the pool, so ipool_count > 0 and ipool is allocated: the
	 * analyzer cannot tie the count to the table across calls. */
	for (at = &ipool[e->hash & (ipool_size - 1)]; *at != e; at = &(*at)->next) // NOLINT(clang-analyzer-core.NullDereference)
		;
	*at = e->next;
	free(e);
	if (--ipool_count == 0) {
		free(ipool);
		ipool = NULL;
		ipool_size = 0;
	}
}

/* ---- names ------------------------------------------------------------- */

/* Task jobs of a service file are "<file>.task#N": '#' is outside the name
 * alphabet, so it is allowed in exactly this one shape. */
static int task_name_valid(const char *s)
{
	const char *h = strstr(s, ".task#");
	char prefix[NAME_MAX_LEN + 1];
	size_t n;

	if (!h || strlen(s) > NAME_MAX_LEN)
		return 0;
	n = (size_t)(h - s);
	memcpy(prefix, s, n);
	prefix[n] = '\0';
	if (!name_valid(prefix) || !h[6])
		return 0;
	return strspn(h + 6, "0123456789") == strlen(h + 6);
}

static int job_name_valid(const char *s)
{
	return name_valid(s) || task_name_valid(s);
}

static int action_name_valid(const char *s)
{
	static const char more[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
	                           "QRSTUVWXYZ0123456789_.-";

	return s[0] && strchr(more, s[0]) && s[0] != '_' && s[0] != '.' &&
	       s[0] != '-' && strspn(s, more) == strlen(s) &&
	       strlen(s) <= NAME_MAX_LEN;
}


/* ---- scalar fields ----------------------------------------------------- */

static int get_str(struct jctx *x, const char *key, json_t *v, char **out)
{
	if (!json_is_string(v))
		return ferr(x, "%s: must be a string", key);
	free(*out);
	*out = NULL;
	if (!json_string_value(v)[0])
		return 0;   /* "" = unset */
	*out = strdup(json_string_value(v));
	return *out ? 0 : oom(x);
}

/* get_str for an interned field. */
static int get_istr(struct jctx *x, const char *key, json_t *v, char **out)
{
	if (!json_is_string(v))
		return ferr(x, "%s: must be a string", key);
	str_release(*out);
	*out = NULL;
	if (!json_string_value(v)[0])
		return 0;   /* "" = unset */
	*out = str_intern(json_string_value(v));
	return *out ? 0 : oom(x);
}

static int get_bool(struct jctx *x, const char *key, json_t *v, int *out)
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
		return ferr(x, "%s: must be true or false", key);
	*out = b;
	return 0;
}

static int get_int(struct jctx *x, const char *key, json_t *v, long long lo,
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
	return ferr(x, "%s: must be an integer from %lld to %lld", key, lo, hi);
}

static int get_dur(struct jctx *x, const char *key, json_t *v, int64_t *out)
{
	char e[200] = "";

	if (json_is_string(v)) {
		if (dur_parse(json_string_value(v), out, e, sizeof(e)) < 0)
			return ferr(x, "%s: %s", key, e[0] ? e : "invalid duration");
		if (*out < 0)
			return ferr(x, "%s: must not be negative", key);
		return 0;
	}
	if (json_is_number(v) && json_number_value(v) >= 0 &&
	    json_number_value(v) < 1e12) {
		*out = json_is_integer(v) ? json_integer_value(v) * US_PER_S
		                          : llround(json_number_value(v) * 1e6);
		return 0;
	}
	return ferr(x, "%s: must be a duration ('90s', '15m', '1h30m') or "
	            "seconds", key);
}

/* A command is checked here, once, so that nothing that runs it later can
 * meet a string it cannot split. */
static int check_command(struct jctx *x, const char *key, const char *cmd,
                         int shell)
{
	char e[200] = "", **argv = NULL;
	int argc = 0, rc;

	if (shell) {
		if (strspn(cmd, " \t\n") == strlen(cmd))
			return ferr(x, "%s: empty", key);
		return 0;
	}
	rc = shlex_split(cmd, &argv, &argc, e, sizeof(e));
	if (rc == -ENOMEM)
		return oom(x);
	if (rc < 0)
		return ferr(x, "%s: %s", key, e);
	shlex_free(argv);
	return argc ? 0 : ferr(x, "%s: empty", key);
}

/* ---- lists ------------------------------------------------------------- */

static void strv_free(char **v)
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

static int strv_push(char ***v, const char *s, size_t n)
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
			if (start && strv_push(out, start, (size_t)(p - start)) < 0)
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

static int get_list(struct jctx *x, const char *key, json_t *v, char ***out)
{
	size_t i;
	json_t *it;

	strv_free(*out);
	*out = NULL;
	if (json_is_string(v)) {
		if (split_items(json_string_value(v), out) < 0)
			return oom(x);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, it) {
			if (!json_is_string(it))
				return ferr(x, "%s: item %zu is not a string", key, i + 1);
			if (strv_push(out, json_string_value(it),
			              strlen(json_string_value(it))) < 0)
				return oom(x);
		}
	} else {
		return ferr(x, "%s: must be a list of strings or a comma-separated "
		            "string", key);
	}
	for (i = 0; *out && (*out)[i]; i++)
		if (!item_valid(key, (*out)[i]))
			return ferr(x, "%s: invalid item '%s'", key, (*out)[i]);
	return 0;
}

static int env_add(struct jctx *x, char ***env, const char *k, size_t klen,
                   const char *val)
{
	char *kv;
	int rc;

	if (klen > ENV_NAME_MAX)
		return ferr(x, "env: variable name longer than %d bytes: '%.32s...'",
		            ENV_NAME_MAX, k);
	if (!env_name_valid(k, klen))
		return ferr(x, "env: invalid variable name '%.*s'", (int)klen, k);
	for (size_t i = 0; *env && (*env)[i]; i++)
		if (strncmp((*env)[i], k, klen) == 0 && (*env)[i][klen] == '=')
			return ferr(x, "env: '%.*s' given twice", (int)klen, k);
	if (asprintf(&kv, "%.*s=%s", (int)klen, k, val) < 0)
		return oom(x);
	rc = strv_push(env, kv, strlen(kv));
	free(kv);
	return rc < 0 ? oom(x) : 0;
}

static int get_env(struct jctx *x, json_t *v, char ***env)
{
	const char *k, *eq;
	json_t *it;
	size_t i;
	int rc;

	strv_free(*env);
	*env = NULL;
	if (json_is_object(v)) {
		json_object_foreach(v, k, it) {
			if (!json_is_string(it))
				return ferr(x, "env: value of '%s' is not a string", k);
			if ((rc = env_add(x, env, k, strlen(k), json_string_value(it))))
				return rc;
		}
		return 0;
	}
	if (!json_is_array(v))
		return ferr(x, "env: must be an object {\"K\": \"V\"} or a list "
		            "[\"K=V\"]");
	json_array_foreach(v, i, it) {
		if (!json_is_string(it) || !(eq = strchr(json_string_value(it), '=')))
			return ferr(x, "env: item %zu is not a \"K=V\" string", i + 1);
		k = json_string_value(it);
		if ((rc = env_add(x, env, k, (size_t)(eq - k), eq + 1)))
			return rc;
	}
	return 0;
}

/* ---- actions and health checks ----------------------------------------- */

static int get_actions(struct jctx *x, struct job *j, json_t *v)
{
	const char *name;
	json_t *cmd;
	char key[NAME_MAX_LEN + 16];
	int rc;

	if (!json_is_object(v))
		return ferr(x, "actions: must be an object {\"name\": \"command\"}");
	j->actions = calloc(json_object_size(v) + 1, sizeof(*j->actions));
	if (!j->actions)
		return oom(x);
	json_object_foreach(v, name, cmd) {
		if (!action_name_valid(name))
			return ferr(x, "actions: invalid action name '%s'", name);
		if (!json_is_string(cmd))
			return ferr(x, "actions: %s: must be a command string", name);
		snprintf(key, sizeof(key), "actions: %s", name);
		if ((rc = check_command(x, key, json_string_value(cmd), j->shell)))
			return rc;
		j->actions[j->n_actions].name = strdup(name);
		j->actions[j->n_actions].command = strdup(json_string_value(cmd));
		j->n_actions++;
		if (!j->actions[j->n_actions - 1].name ||
		    !j->actions[j->n_actions - 1].command)
			return oom(x);
	}
	return 0;
}

static int tcp_valid(const char *s)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || colon == s)
		return 0;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	return !errno && !*end && colon[1] && port >= 1 && port <= 65535;
}

static int check_probe(struct jctx *x, struct health_check *h, int shell)
{
	int n = !!h->tcp + !!h->http + !!h->command;
	char key[NAME_MAX_LEN + 40];

	if (n != 1)
		return ferr(x, "health_checks: %s: give exactly one of tcp, http "
		            "and command", h->name);
	if (h->tcp && !tcp_valid(h->tcp))
		return ferr(x, "health_checks: %s: tcp must be host:port: '%s'",
		            h->name, h->tcp);
	if (h->http && strncmp(h->http, "http://", 7) != 0 &&
	    strncmp(h->http, "https://", 8) != 0)
		return ferr(x, "health_checks: %s: http must be an http:// or "
		            "https:// URL: '%s'", h->name, h->http);
	snprintf(key, sizeof(key), "health_checks: %s: command", h->name);
	return h->command ? check_command(x, key, h->command, shell) : 0;
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
		return get_str(x, key, v, &h->tcp);
	if (strcmp(k, "http") == 0)
		return get_str(x, key, v, &h->http);
	if (strcmp(k, "command") == 0)
		return get_str(x, key, v, &h->command);
	if (strcmp(k, "interval") == 0)
		return get_dur(x, key, v, &h->interval);
	if (strcmp(k, "timeout") == 0)
		return get_dur(x, key, v, &h->timeout);
	if (strcmp(k, "attempts") == 0) {
		if ((rc = get_int(x, key, v, 1, 100, &n)) == 0)
			h->attempts = (int)n;
		return rc;
	}
	return ferr(x, "health_checks: %s: unknown key '%s'", h->name, k);
}

static int get_check(struct jctx *x, struct job *j, json_t *o, size_t idx)
{
	struct health_check *h = &j->checks[j->n_checks];
	json_t *name = json_object_get(o, "name"), *v;
	const char *k;
	int rc;

	if (!json_is_object(o))
		return ferr(x, "health_checks: item %zu is not an object", idx + 1);
	if (!json_is_string(name) || !action_name_valid(json_string_value(name)))
		return ferr(x, "health_checks: item %zu needs a name "
		            "([A-Za-z0-9][A-Za-z0-9_.-]*)", idx + 1);
	for (int i = 0; i < j->n_checks; i++)
		if (strcmp(j->checks[i].name, json_string_value(name)) == 0)
			return ferr(x, "health_checks: duplicate name '%s'",
			            json_string_value(name));
	h->name = strdup(json_string_value(name));
	h->attempts = HC_ATTEMPTS;
	h->interval = HC_INTERVAL;
	h->timeout = HC_TIMEOUT;
	j->n_checks++;
	if (!h->name)
		return oom(x);
	json_object_foreach(o, k, v)
		if (strcmp(k, "name") != 0 && (rc = check_field(x, h, k, v)))
			return rc;
	return check_probe(x, h, j->shell);
}

static int get_checks(struct jctx *x, struct job *j, json_t *v)
{
	size_t i;
	json_t *o;
	int rc;

	if (!json_is_array(v))
		return ferr(x, "health_checks: must be a list of objects");
	j->checks = calloc(json_array_size(v) + 1, sizeof(*j->checks));
	if (!j->checks)
		return oom(x);
	j->n_checks = 0;   /* a new array holds none (lets the analyzer see it) */
	json_array_foreach(v, i, o)
		if ((rc = get_check(x, j, o, i)))
			return rc;
	return 0;
}

/* ---- the field table --------------------------------------------------- */

typedef int (*field_fn)(struct jctx *x, struct job *j, const char *key,
                        json_t *v);

static int f_name(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	int rc = get_str(x, key, v, &j->name);

	if (rc)
		return rc;
	if (!j->name || !job_name_valid(j->name))
		return ferr(x, "name: invalid name '%s' ([A-Za-z0-9_.-], 1 to %d "
		            "characters)", json_string_value(v), NAME_MAX_LEN);
	return 0;
}

static int f_shell(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	int b = 0, rc = get_bool(x, key, v, &b);

	j->shell = (int8_t)b;
	return rc;
}

static int f_timezone(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	const struct tz *z;
	char e[200] = "";
	int rc = get_istr(x, key, v, &j->timezone);

	if (rc || !j->timezone)
		return rc;
	rc = tz_get(j->timezone, &z, e, sizeof(e));
	if (rc == -ENOENT)
		return ferr(x, "timezone: unknown time zone '%s'", j->timezone);
	return rc < 0 ? ferr(x, "timezone: %s", e) : 0;
}

static int f_argv(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	char **argv = NULL;
	json_t *it;
	size_t i;
	int rc = 0;

	(void)key;
	if (!json_is_array(v))
		return ferr(x, "argv: must be a list of strings");
	if (json_array_size(v) == 0)
		return ferr(x, "argv: empty");
	json_array_foreach(v, i, it) {
		if (!json_is_string(it)) {
			rc = ferr(x, "argv: item %zu is not a string", i + 1);
			goto out;
		}
		if (strv_push(&argv, json_string_value(it),
		              strlen(json_string_value(it))) < 0) {
			rc = oom(x);
			goto out;
		}
	}
	if (!(j->command = shlex_join(argv)))
		rc = oom(x);
out:
	strv_free(argv);
	return rc;
}

static int f_command(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	if (j->command)
		return ferr(x, "command: give command or argv, not both");
	if (json_is_string(v) && !json_string_value(v)[0])
		return ferr(x, "command: empty");
	return get_str(x, key, v, &j->command);
}

static int f_schedule(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	char e[300] = "";
	int rc;

	if (json_is_array(v)) {   /* a calendar list: keep it as its text */
		j->schedule = json_dumps(v, JSON_COMPACT);
		if (!j->schedule)
			return oom(x);
	} else if ((rc = get_str(x, key, v, &j->schedule))) {
		return rc;
	}
	if (!j->schedule)
		return 0;
	rc = sched_parse(j->schedule, j->timezone ? j->timezone : x->tz_default,
	                 &j->sched, e, sizeof(e));
	if (rc == -ENOMEM)
		return oom(x);
	return rc < 0 ? ferr(x, "schedule: %s", e) : 0;
}

static int f_target(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	int rc = get_istr(x, key, v, &j->target);

	if (rc == 0 && j->target && !name_valid(j->target))
		return ferr(x, "target: invalid name '%s'", j->target);
	return rc;
}

static int f_strfield(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	if (strcmp(key, "source") == 0)
		return get_istr(x, key, v, &j->source);
	return get_str(x, key, v, strcmp(key, "user") == 0 ? &j->user : &j->group);
}

static int f_cwd(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	int rc = get_str(x, key, v, &j->cwd);

	if (rc == 0 && j->cwd && j->cwd[0] != '/')
		return ferr(x, "cwd: must be an absolute path: '%s'", j->cwd);
	return rc;
}

static int f_env(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	(void)key;
	return get_env(x, v, &j->env);
}

static int f_dur(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	int64_t *f = strcmp(key, "timeout") == 0 ? &j->timeout
	           : strcmp(key, "kill_grace") == 0 ? &j->kill_grace
	           : strcmp(key, "jitter") == 0 ? &j->jitter : &j->backoff;

	return get_dur(x, key, v, f);
}

static int f_retries(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	long long n;
	int rc = get_int(x, key, v, 0, 100, &n);

	j->retries = (uint8_t)n;
	return rc;
}

static int f_queue_max(struct jctx *x, struct job *j, const char *key,
                       json_t *v)
{
	long long n;
	int rc = get_int(x, key, v, 0, 1000, &n);

	j->overlap_queue_max = (int16_t)n;
	return rc;
}

static int f_priority(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	long long n;
	int rc = get_int(x, key, v, -1000000, 1000000, &n);

	j->priority = (int)n;
	return rc;
}

static int f_owner(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	long long n;
	int rc = get_int(x, key, v, 0, UINT32_MAX, &n);

	j->owner_uid = (uint32_t)n;
	return rc;
}

static int f_overlap(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	(void)key;
	if (!json_is_string(v) || (j->overlap = overlap_parse(json_string_value(v))) < 0)
		return ferr(x, "overlap: must be skip, queue, replace or allow");
	return 0;
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
		return ferr(x, "catchup: must be none or once");
	return 0;
}

static int f_list(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	char ***f = strcmp(key, "tags") == 0 ? &j->tags
	          : strcmp(key, "selectors") == 0 ? &j->selectors : &j->requires;

	return get_list(x, key, v, f);
}

static int f_flag(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	int8_t *f = strcmp(key, "confirm") == 0 ? &j->confirm
	          : strcmp(key, "kill_leftovers") == 0 ? &j->kill_leftovers
	          : &j->enabled;
	int b = 0, rc = get_bool(x, key, v, &b);

	if (rc == 0)
		*f = (int8_t)b;
	return rc;
}

static int f_actions(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	(void)key;
	return get_actions(x, j, v);
}

static int f_checks(struct jctx *x, struct job *j, const char *key, json_t *v)
{
	(void)key;
	return get_checks(x, j, v);
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
	{ "overlap_queue_max", f_queue_max },
	{ "catchup", f_catchup },   { "tags", f_list },
	{ "selectors", f_list },    { "requires", f_list },
	{ "confirm", f_flag },      { "enabled", f_flag },
	{ "kill_leftovers", f_flag },
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
	j->enabled = 1;
	j->next_fire = -1;
}

static int job_fields(struct jctx *x, json_t *def, struct job *j)
{
	const char *k;
	json_t *v;
	int rc;

	if (!json_is_object(def))
		return ferr(x, "job: must be a JSON object");
	json_object_foreach(def, k, v)
		if (!known_key(k))
			return ferr(x, "unknown key '%s'", k);
	for (size_t i = 0; i < N_FIELDS; i++) {
		v = json_object_get(def, fields[i].key);
		if (v && !json_is_null(v) && (rc = fields[i].fn(x, j, fields[i].key, v)))
			return rc;
	}
	if (!j->name)
		return ferr(x, "name: missing");
	if (!j->command)
		return ferr(x, "command: missing (give command or argv)");
	if ((rc = check_command(x, "command", j->command, j->shell)))
		return rc;
	if (!j->target && !(j->target = str_intern("default")))
		return oom(x);
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
	str_release(j->timezone);
	str_release(j->target);
	free(j->user);
	free(j->group);
	free(j->cwd);
	strv_free(j->env);
	strv_free(j->tags);
	strv_free(j->selectors);
	strv_free(j->requires);
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
	str_release(j->source);
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
	const char *key = j->selectors && j->selectors[0] ? "selectors"
	                : j->requires && j->requires[0] ? "requires"
	                : j->n_checks ? "health_checks" : NULL;

	if (!key)
		return 0;
	snprintf(err, errlen, "%s: not built yet (planned: %s); remove it",
	         key, strcmp(key, "requires") == 0 ? "service task tables"
	         : "the cluster master and workers");
	return -ENOTSUP;
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

		json_array_append_new(a, json_pack("{s:s, s:o, s:o, s:o, s:i, s:o, s:o}",
			"name", h->name, "tcp", str_or_null(h->tcp),
			"http", str_or_null(h->http), "command", str_or_null(h->command),
			"attempts", h->attempts, "interval", dur_json(h->interval),
			"timeout", dur_json(h->timeout)));
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
	json_object_set_new(o, "retries", json_integer(j->retries));
	json_object_set_new(o, "overlap_queue_max",
	                    json_integer(j->overlap_queue_max));
	json_object_set_new(o, "backoff", dur_json(j->backoff));
	json_object_set_new(o, "overlap", json_string(overlap_name(j->overlap)));
	json_object_set_new(o, "catchup", str_or_null(catchup));
	json_object_set_new(o, "jitter", dur_json(j->jitter));
	json_object_set_new(o, "tags", list_json(j->tags));
	json_object_set_new(o, "confirm", json_boolean(j->confirm));
	json_object_set_new(o, "requires", list_json(j->requires));
	json_object_set_new(o, "selectors", list_json(j->selectors));
	json_object_set_new(o, "enabled", json_boolean(j->enabled));
	json_object_set_new(o, "actions", actions_json(j));
	json_object_set_new(o, "health_checks", checks_json(j));
	json_object_set_new(o, "priority", json_integer(j->priority));
	json_object_set_new(o, "source", str_or_null(j->source));
	json_object_set_new(o, "owner_uid", json_integer(j->owner_uid));
	return o;
}

/* ---- job files ----------------------------------------------------------- */

enum sec { SEC_NONE, SEC_JOB, SEC_TASK, SEC_ACTION, SEC_CHECK };

/* The job names seen so far, across the files, with where each was
 * defined: a hash set over one buffer of entries (file index, line,
 * name), so that 100,000 names take two blocks rather than 100,000 small
 * allocations freed among the jobs' own. */
struct nameset {
	char *buf;               /* entries; an entry's offset + 1 is its id */
	size_t len, cap;
	uint32_t *slot;          /* ids by hash, 0 = empty; open addressing */
	size_t n_slots, count;
};

struct name_entry {
	uint32_t file, line;
	char name[];
};

static struct name_entry *nameset_entry(const struct nameset *ns, uint32_t id)
{
	return (struct name_entry *)(ns->buf + id - 1);
}

static size_t nameset_probe(const struct nameset *ns, const char *name)
{
	size_t i = str_hash(name) & (ns->n_slots - 1);

	while (ns->slot[i] && strcmp(nameset_entry(ns, ns->slot[i])->name, name))
		i = (i + 1) & (ns->n_slots - 1);
	return i;
}

static int nameset_grow(struct nameset *ns)
{
	size_t n = ns->n_slots ? ns->n_slots * 2 : 1024;
	uint32_t *old = ns->slot;
	size_t n_old = ns->n_slots;

	if (!(ns->slot = calloc(n, sizeof(*ns->slot)))) {
		ns->slot = old;
		return -ENOMEM;
	}
	ns->n_slots = n;
	for (size_t i = 0; i < n_old; i++)
		if (old[i])
			ns->slot[nameset_probe(ns, nameset_entry(ns, old[i])->name)] = old[i];
	free(old);
	return 0;
}

/* Adds name, defined at file:line.  Returns 0, 1 when it was there
 * already (*prev: its entry), or -ENOMEM. */
static int nameset_add(struct nameset *ns, const char *name, uint32_t file,
                       uint32_t line, const struct name_entry **prev)
{
	size_t need = (sizeof(struct name_entry) + strlen(name) + 1 + 7) & ~(size_t)7;
	struct name_entry *e;
	size_t i;

	if ((ns->count + 1) * 2 > ns->n_slots && nameset_grow(ns) < 0)
		return -ENOMEM;
	i = nameset_probe(ns, name);
	if (ns->slot[i]) {
		*prev = nameset_entry(ns, ns->slot[i]);
		return 1;
	}
	if (ns->len + need > ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 16384;
		char *b;

		while (cap < ns->len + need)
			cap *= 2;
		if (cap > UINT32_MAX || !(b = realloc(ns->buf, cap)))
			return -ENOMEM;
		ns->buf = b;
		ns->cap = cap;
	}
	e = (struct name_entry *)(ns->buf + ns->len);
	e->file = file;
	e->line = line;
	strcpy(e->name, name);
	ns->slot[i] = (uint32_t)ns->len + 1;
	ns->len += need;
	ns->count++;
	return 0;
}

static void nameset_free(struct nameset *ns)
{
	free(ns->buf);
	free(ns->slot);
}

struct jfile {
	const char *dir;
	struct dirent **files;   /* the directory's job files, by index */
	uint32_t file_index;     /* the one being read */
	const char *file;        /* dir/x.conf, as in messages */
	char base[256];          /* x: names the file's task jobs */
	struct nameset seen;     /* job names, across files */
	jobfile_cb cb;
	void *ctx;
	int cb_rc;               /* cb's error, with its message: */
	char cb_err[4096 + 1100];
	char *err;
	size_t errlen;
	int sec;                 /* enum sec */
	char label[NAME_MAX_LEN + 64];   /* "[job backup]" for messages */
	json_t *job;             /* the current job's def, not yet delivered */
	int job_line;            /* its header's line */
	json_t *sub;             /* the current [health_check] object */
	char *action;            /* the current [action NAME] */
	json_t *keys;            /* keys given in this section */
	json_t *lines;           /* the current job's keys -> their lines */
	int line;                /* of the key being read */
};

static int jf_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int jf_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Hands the current job to cb, as soon as its last section has ended:
 * its JSON is freed before the next is built, so the jobs' long-lived
 * allocations are not interleaved with a whole file's worth of JSON.  On
 * an error, f->cb_rc is cb's code and f->cb_err its message, "FILE:LINE: "
 * added unless it starts with the file. */
static int jf_deliver(struct jfile *f)
{
	char e[1024] = "";
	json_t *def = f->job;
	int rc;

	if (!def)
		return 0;
	f->job = NULL;
	rc = f->cb(f->ctx, def, f->file, f->job_line, e, sizeof(e));
	json_decref(def);
	if (rc == 0)
		return 0;
	/* "timeout: invalid duration": told at the key's line, not the
	 * section's */
	char key[64];
	json_t *at = sscanf(e, "%63[a-z_]:", key) == 1 ?
	             json_object_get(f->lines, key) : NULL;
	int line = at ? (int)json_integer_value(at) : f->job_line;
	if (strncmp(e, f->file, strlen(f->file)) == 0)
		snprintf(f->cb_err, sizeof(f->cb_err), "%s", e);
	else
		snprintf(f->cb_err, sizeof(f->cb_err), "%s:%d: %s", f->file,
		         line, e[0] ? e : strerror(-rc));
	f->cb_rc = rc;
	return rc;
}

static int jf_add_job(struct jfile *f, const char *name, int line, char *err,
                      size_t errlen)
{
	const struct name_entry *prev;
	int rc;

	if (jf_deliver(f))
		return jf_err(err, errlen, "callback failed");  /* cb_err wins */
	rc = nameset_add(&f->seen, name, f->file_index, (uint32_t)line, &prev);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return jf_err(err, errlen, "duplicate job '%s' (also defined at "
		              "%s/%s:%u)", name, f->dir, f->files[prev->file]->d_name,
		              prev->line);
	f->job = json_pack("{s:s, s:s}", "name", name, "source", f->file);
	f->job_line = line;
	json_object_clear(f->lines);
	return f->job ? 0 : -ENOMEM;
}

static int jf_job_section(struct jfile *f, const char *name, int line,
                          char *err, size_t errlen)
{
	if (!name_valid(name))
		return jf_err(err, errlen, "invalid job name '%s' ([A-Za-z0-9_.-], "
		              "1 to %d characters)", name, NAME_MAX_LEN);
	f->sec = SEC_JOB;
	return jf_add_job(f, name, line, err, errlen);
}

static int jf_task_section(struct jfile *f, const char *n, int line,
                           char *err, size_t errlen)
{
	char name[sizeof(f->base) + 32];

	if (!n[0] || strspn(n, "0123456789") != strlen(n) || strlen(n) > 9)
		return jf_err(err, errlen, "invalid section [task#%s] (task#N, N "
		              "a number)", n);
	snprintf(name, sizeof(name), "%s.task#%s", f->base, n);
	if (!job_name_valid(name))
		return jf_err(err, errlen, "file name '%s' cannot name task jobs "
		              "('%s' is not a valid job name)", f->base, name);
	f->sec = SEC_TASK;
	return jf_add_job(f, name, line, err, errlen);
}

static json_t *jf_member(json_t *o, const char *key, json_t *(*make)(void))
{
	json_t *m = json_object_get(o, key);

	if (!m && json_object_set_new(o, key, make()) == 0)
		m = json_object_get(o, key);
	return m;
}

static int jf_action_section(struct jfile *f, const char *name, char *err,
                             size_t errlen)
{
	json_t *acts = jf_member(f->job, "actions", json_object);

	if (!action_name_valid(name))
		return jf_err(err, errlen, "invalid action name '%s'", name);
	if (!acts)
		return -ENOMEM;
	if (json_object_get(acts, name))
		return jf_err(err, errlen, "duplicate action '%s' in [job %s]", name,
		              json_string_value(json_object_get(f->job, "name")));
	f->sec = SEC_ACTION;
	f->action = strdup(name);
	if (!f->action || json_object_set_new(acts, name, json_string("")) < 0)
		return -ENOMEM;
	return 0;
}

static int jf_check_section(struct jfile *f, const char *name, char *err,
                            size_t errlen)
{
	json_t *list = jf_member(f->job, "health_checks", json_array), *it;
	size_t i;

	if (!action_name_valid(name))
		return jf_err(err, errlen, "invalid health check name '%s'", name);
	if (!list)
		return -ENOMEM;
	json_array_foreach(list, i, it)
		if (strcmp(json_string_value(json_object_get(it, "name")), name) == 0)
			return jf_err(err, errlen, "duplicate health check '%s' in "
			              "[job %s]", name,
			              json_string_value(json_object_get(f->job, "name")));
	f->sec = SEC_CHECK;
	f->sub = json_pack("{s:s}", "name", name);
	if (!f->sub || json_array_append_new(list, f->sub) < 0)
		return -ENOMEM;
	return 0;
}

/* "[job  backup]" -> word "job", arg "backup". */
static int jf_split_header(const char *name, const char *word, const char **arg)
{
	size_t n = strlen(word);

	if (strncmp(name, word, n) != 0 || (name[n] != ' ' && name[n] != '\t'))
		return 0;
	for (*arg = name + n; **arg == ' ' || **arg == '\t'; (*arg)++)
		;
	return 1;
}

static int jf_section(void *user, const char *name, int line, char *err,
                      size_t errlen)
{
	struct jfile *f = user;
	const char *arg;

	snprintf(f->label, sizeof(f->label), "[%s]", name);
	json_object_clear(f->keys);
	f->sec = SEC_NONE;
	if (jf_split_header(name, "job", &arg))
		return jf_job_section(f, arg, line, err, errlen);
	if (strncmp(name, "task#", 5) == 0)
		return jf_task_section(f, name + 5, line, err, errlen);
	if (jf_split_header(name, "action", &arg) ||
	    jf_split_header(name, "health_check", &arg)) {
		if (!f->job)
			return jf_err(err, errlen, "%s before any [job NAME] section",
			              f->label);
		return name[0] == 'a' ? jf_action_section(f, arg, err, errlen)
		                      : jf_check_section(f, arg, err, errlen);
	}
	return jf_err(err, errlen, "unknown section [%s] (expected [job NAME], "
	              "[action NAME], [health_check NAME] or [task#N])", name);
}

static int jf_end(void *user, int line, char *err, size_t errlen)
{
	struct jfile *f = user;
	json_t *cmd;

	(void)line;
	if (f->sec == SEC_ACTION) {
		cmd = json_object_get(json_object_get(f->job, "actions"), f->action);
		if (!json_string_value(cmd)[0])
			return jf_err(err, errlen, "[action %s] has no command",
			              f->action);
	}
	free(f->action);
	f->action = NULL;
	f->sub = NULL;
	return 0;
}

/* Sets o[key] = value; a continuation line appends " value". */
static int jf_set(struct jfile *f, json_t *o, const char *key,
                  const char *value, int cont, char *err, size_t errlen)
{
	json_t *old = json_object_get(o, key);
	char *joined;
	int rc;

	if (cont && json_is_string(old)) {
		if (asprintf(&joined, "%s %s", json_string_value(old), value) < 0)
			return -ENOMEM;
		rc = json_object_set_new(o, key, json_string(joined));
		free(joined);
		return rc < 0 ? -ENOMEM : 0;
	}
	if (cont)
		return jf_err(err, errlen, "continuation line for '%s' in %s", key,
		              f->label);
	if (o == f->job && f->lines)
		json_object_set_new(f->lines, key, json_integer(f->line));
	return json_object_set_new(o, key, json_string(value)) < 0 ? -ENOMEM : 0;
}

/* tags = a,b twice gives "a,b,c": lists accumulate. */
static int jf_append_list(json_t *o, const char *key, const char *value,
                          int cont)
{
	json_t *old = json_object_get(o, key);
	char *joined;
	int rc;

	if (!old)
		return json_object_set_new(o, key, json_string(value)) < 0 ? -ENOMEM : 0;
	if (asprintf(&joined, "%s%s%s", json_string_value(old), cont ? " " : ",",
	             value) < 0)
		return -ENOMEM;
	rc = json_object_set_new(o, key, json_string(joined));
	free(joined);
	return rc < 0 ? -ENOMEM : 0;
}

static int jf_env_push(json_t *job, const char *kv, char *err, size_t errlen,
                       const char *key)
{
	const char *eq = strchr(kv, '=');
	json_t *env;

	if (!eq || !env_name_valid(kv, (size_t)(eq - kv)))
		return jf_err(err, errlen, "invalid value for %s: '%s' (K=V)", key, kv);
	env = jf_member(job, "env", json_array);
	return env && json_array_append_new(env, json_string(kv)) == 0 ? 0 : -ENOMEM;
}

/* Repeats of these accumulate; every other key may be given once. */
static int jf_repeatable(const char *key)
{
	return strcmp(key, "env") == 0 || strcmp(key, "tags") == 0 ||
	       strcmp(key, "selectors") == 0 || strcmp(key, "requires") == 0 ||
	       strcmp(key, "environment") == 0 || strcmp(key, "run_requires") == 0;
}

static int jf_once(struct jfile *f, const char *key, int cont, char *err,
                   size_t errlen)
{
	if (cont || jf_repeatable(key))
		return 0;
	if (json_object_get(f->keys, key))
		return jf_err(err, errlen, "duplicate key '%s' in %s", key, f->label);
	return json_object_set_new(f->keys, key, json_true()) < 0 ? -ENOMEM : 0;
}

static const char *const file_job_keys[] = {
	"command", "shell", "schedule", "timezone", "target", "user", "group",
	"cwd", "timeout", "kill_grace", "jitter", "backoff", "retries",
	"priority", "overlap", "overlap_queue_max", "catchup", "confirm",
	"enabled", "kill_leftovers", NULL,
};

static int in_list(const char *const *l, const char *s)
{
	for (; *l; l++)
		if (strcmp(*l, s) == 0)
			return 1;
	return 0;
}

static int jf_job_key(struct jfile *f, const char *key, const char *value,
                      int cont, char *err, size_t errlen)
{
	json_t *acts;

	if (strncmp(key, "action.", 7) == 0) {
		if (!action_name_valid(key + 7))
			return jf_err(err, errlen, "invalid action name '%s'", key + 7);
		acts = jf_member(f->job, "actions", json_object);
		if (!acts)
			return -ENOMEM;
		if (!cont && json_object_get(acts, key + 7))
			return jf_err(err, errlen, "duplicate action '%s' in %s",
			              key + 7, f->label);
		return jf_set(f, acts, key + 7, value, cont, err, errlen);
	}
	if (strcmp(key, "env") == 0) {
		if (cont)
			return jf_err(err, errlen, "continuation line for 'env' (give "
			              "each variable its own 'env =' line)");
		return jf_env_push(f->job, value, err, errlen, key);
	}
	if (strcmp(key, "tags") == 0 || strcmp(key, "selectors") == 0 ||
	    strcmp(key, "requires") == 0)
		return jf_append_list(f->job, key, value, cont);
	if (in_list(file_job_keys, key))
		return jf_set(f, f->job, key, value, cont, err, errlen);
	return jf_err(err, errlen, "unknown key '%s' in %s", key, f->label);
}

static int jf_task_env(struct jfile *f, const char *value, char *err,
                       size_t errlen)
{
	char **argv = NULL, e[200] = "";
	int argc = 0, rc;

	rc = shlex_split(value, &argv, &argc, e, sizeof(e));
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0)
		return jf_err(err, errlen, "invalid value for environment: %s", e);
	for (int i = 0; rc == 0 && i < argc; i++)
		rc = jf_env_push(f->job, argv[i], err, errlen, "environment");
	shlex_free(argv);
	return rc;
}

/* The task keywords of reference/tasks.md, mapped onto job keys. */
static int jf_task_key(struct jfile *f, const char *key, const char *value,
                       int cont, char *err, size_t errlen)
{
	static const char *const same[] = {
		"command", "user", "group", "cwd", "schedule", "timeout", NULL,
	};
	static const char *const unsupported[] = {
		"umask", "check", "retcodes", "on_error", "pre_run", "post_run",
		"log", NULL,
	};
	int b, n;

	if (in_list(same, key))
		return jf_set(f, f->job, key, value, cont, err, errlen);
	if (strcmp(key, "tags") == 0)
		return jf_append_list(f->job, "tags", value, cont);
	if (strcmp(key, "run_requires") == 0)
		return jf_append_list(f->job, "requires", value, cont);
	if (cont)
		return jf_err(err, errlen, "continuation line for '%s' in %s", key,
		              f->label);
	if (strcmp(key, "confirmation") == 0)
		return jf_set(f, f->job, "confirm", value, 0, err, errlen);
	if (strcmp(key, "environment") == 0)
		return jf_task_env(f, value, err, errlen);
	if (strcmp(key, "disable") == 0) {
		if ((b = config_bool_parse(value)) < 0)
			return jf_err(err, errlen, "invalid value for disable: '%s' "
			              "(true or false)", value);
		return jf_set(f, f->job, "enabled", b ? "false" : "true", 0, err, errlen);
	}
	if (strcmp(key, "max_parallel") == 0) {
		if (sscanf(value, "%d%*c", &n) != 1 || n < 1 ||
		    strspn(value, "0123456789") != strlen(value))
			return jf_err(err, errlen, "invalid value for max_parallel: "
			              "'%s' (1 or more)", value);
		return jf_set(f, f->job, "overlap", n == 1 ? "skip" : "allow", 0,
		              err, errlen);
	}
	if (in_list(unsupported, key) || strncmp(key, "limit_", 6) == 0)
		return jf_err(err, errlen, "unsupported task keyword '%s' in %s",
		              key, f->label);
	return jf_err(err, errlen, "unknown key '%s' in %s", key, f->label);
}

static int jf_sub_key(struct jfile *f, const char *key, const char *value,
                      int cont, char *err, size_t errlen)
{
	static const char *const check_keys[] = {
		"tcp", "http", "command", "attempts", "interval", "timeout", NULL,
	};
	json_t *acts;

	if (f->sec == SEC_ACTION) {
		if (strcmp(key, "command") != 0)
			return jf_err(err, errlen, "unknown key '%s' in %s (only "
			              "command)", key, f->label);
		acts = json_object_get(f->job, "actions");
		return jf_set(f, acts, f->action, value, cont, err, errlen);
	}
	if (!in_list(check_keys, key))
		return jf_err(err, errlen, "unknown key '%s' in %s", key, f->label);
	return jf_set(f, f->sub, key, value, cont, err, errlen);
}

static int jf_key(void *user, const char *key, const char *value, int line,
                  int cont, char *err, size_t errlen)
{
	struct jfile *f = user;
	int rc;

	f->line = line;
	if (f->sec == SEC_NONE)
		return jf_err(err, errlen, "key '%s' outside a section (start one "
		              "with [job NAME])", key);
	if ((rc = jf_once(f, key, cont, err, errlen)))
		return rc;
	switch (f->sec) {
	case SEC_JOB:
		return jf_job_key(f, key, value, cont, err, errlen);
	case SEC_TASK:
		return jf_task_key(f, key, value, cont, err, errlen);
	default:
		return jf_sub_key(f, key, value, cont, err, errlen);
	}
}

static void jf_clear(struct jfile *f)
{
	json_decref(f->job);
	free(f->action);
	f->action = NULL;
	f->job = f->sub = NULL;
	f->sec = SEC_NONE;
}

static int jf_read(struct jfile *f)
{
	static const struct config_ini_ops ops = {
		.section = jf_section, .end = jf_end, .key = jf_key,
	};
	const char *slash = strrchr(f->file, '/');
	int rc;

	snprintf(f->base, sizeof(f->base), "%s", slash ? slash + 1 : f->file);
	f->base[strlen(f->base) - 5] = '\0';     /* ".conf" */
	f->cb_rc = 0;
	rc = config_ini_read(f->file, "job file", &ops, f, f->err, f->errlen);
	if (rc == 0)
		jf_deliver(f);
	if (f->cb_rc) {         /* at the end, or as the next job began */
		rc = f->cb_rc;
		snprintf(f->err, f->errlen, "%s", f->cb_err);
	}
	jf_clear(f);
	return rc;
}

static int conf_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 &&
	       strcmp(d->d_name + n - 5, ".conf") == 0;
}

/* Byte order, not the locale's collation: the order must not depend on
 * the environment jobd starts in. */
static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int jobfiles_read(const char *dir, jobfile_cb cb, jobfile_bad_cb on_bad,
                         void *ctx, char *err, size_t errlen);

int jobfiles_load(const char *dir, jobfile_cb cb, void *ctx, char *err,
                  size_t errlen)
{
	return jobfiles_read(dir, cb, NULL, ctx, err, errlen);
}

int jobfiles_load_each(const char *dir, jobfile_cb cb, jobfile_bad_cb on_bad,
                       void *ctx, char *err, size_t errlen)
{
	return jobfiles_read(dir, cb, on_bad, ctx, err, errlen);
}

static int jobfiles_read(const char *dir, jobfile_cb cb, jobfile_bad_cb on_bad,
                         void *ctx, char *err, size_t errlen)
{
	struct jfile f = { .dir = dir, .cb = cb, .ctx = ctx, .err = err,
	                   .errlen = errlen };
	struct dirent **list = NULL;
	struct stat st;
	char *path = NULL;
	int n, i, rc = 0, files = 0;

	if (!dir)
		return 0;
	n = scandir(dir, &list, conf_filter, name_cmp);
	if (n < 0) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		snprintf(err, errlen, "cannot read jobs_dir '%s': %s", dir,
		         strerror(errno));
		return rc;
	}
	f.files = list;
	f.keys = json_object();
	f.lines = json_object();
	for (i = 0; i < n && rc == 0; i++) {
		if (asprintf(&path, "%s/%s", dir, list[i]->d_name) < 0) {
			rc = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			break;
		}
		if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
			free(path);
			continue;   /* a directory named x.conf is not a job file */
		}
		f.file = path;
		f.file_index = (uint32_t)i;
		rc = f.keys ? jf_read(&f) : -ENOMEM;
		files += rc == 0;
		if (rc < 0 && rc != -ENOMEM && on_bad) {
			on_bad(ctx, path, err);      /* skipped; the next one */
			rc = 0;
		}
		free(path);
	}
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
	nameset_free(&f.seen);
	json_decref(f.keys);
	json_decref(f.lines);
	return rc < 0 ? rc : files;
}
