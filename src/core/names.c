/* names.c — the spellings of jobd's enums (as stored and as shown), run_clear,
 * the errno -> jobctl exit code map, and job/target name validation.
 * Hand-written: these are jobd's own vocabularies, there is no library. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jobd.h"

static const char *const status_names[RUN_STATUS_COUNT] = {
	[RUN_WAITING] = "waiting",   [RUN_MANUAL] = "manual",
	[RUN_ACCEPTED] = "accepted", [RUN_RUNNING] = "running",
	[RUN_DONE] = "done",         [RUN_IGNORED] = "ignored",
};

static const char *const result_names[] = {
	[RESULT_NONE] = NULL, [RESULT_OK] = "ok", [RESULT_FAIL] = "fail",
};

static const char *const trigger_names[TRIG_COUNT] = {
	[TRIG_SCHEDULE] = "schedule", [TRIG_MANUAL] = "manual",
	[TRIG_API] = "api",           [TRIG_RETRY] = "retry",
	[TRIG_CATCHUP] = "catchup",
};

static const char *const overlap_names[] = {
	[OVERLAP_SKIP] = "skip",       [OVERLAP_QUEUE] = "queue",
	[OVERLAP_REPLACE] = "replace", [OVERLAP_ALLOW] = "allow",
};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *table_name(const char *const *t, int n, int v)
{
	return v >= 0 && v < n ? t[v] : NULL;
}

static int table_parse(const char *const *t, int n, const char *s)
{
	if (!s)
		return -1;
	for (int i = 0; i < n; i++)
		if (t[i] && strcmp(t[i], s) == 0)
			return i;
	return -1;
}

const char *run_status_name(int status)
{
	return table_name(status_names, COUNT(status_names), status);
}

int run_status_parse(const char *s)
{
	return table_parse(status_names, COUNT(status_names), s);
}

const char *run_result_name(int result)
{
	return table_name(result_names, COUNT(result_names), result);
}

int run_result_parse(const char *s)
{
	return table_parse(result_names, COUNT(result_names), s);
}

const char *run_trigger_name(int trig)
{
	return table_name(trigger_names, COUNT(trigger_names), trig);
}

int run_trigger_parse(const char *s)
{
	return table_parse(trigger_names, COUNT(trigger_names), s);
}

const char *overlap_name(int o)
{
	return table_name(overlap_names, COUNT(overlap_names), o);
}

int overlap_parse(const char *s)
{
	return table_parse(overlap_names, COUNT(overlap_names), s);
}

void run_clear(struct run *r)
{
	free(r->job);
	free(r->action);
	free(r->target);
	free(r->spec);
	free(r->user);
	free(r->worker);
	free(r->out);
	free(r->errout);
	memset(r, 0, sizeof(*r));
	r->return_code = -1;   /* "no exit code", as documented in jobd.h */
}

static int dup_str(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -ENOMEM : 0;
}

static int dup_mem(char **dst, const char *src, size_t n)
{
	*dst = NULL;
	if (!src)
		return 0;
	if (!(*dst = malloc(n + 1)))
		return -ENOMEM;
	memcpy(*dst, src, n);
	(*dst)[n] = '\0';
	return 0;
}

int run_copy(struct run *dst, const struct run *src)
{
	*dst = *src;
	int rc = dup_str(&dst->job, src->job) | dup_str(&dst->action, src->action) |
	         dup_str(&dst->target, src->target) |
	         dup_str(&dst->spec, src->spec) | dup_str(&dst->user, src->user) |
	         dup_str(&dst->worker, src->worker) |
	         dup_mem(&dst->out, src->out, src->out_len) |
	         dup_mem(&dst->errout, src->errout, src->err_len);
	if (rc) {
		run_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

int err_exit_code(int neg_errno)
{
	switch (neg_errno) {
	case 0:
		return EXIT_OK;
	case -EINVAL: case -E2BIG: case -ERANGE: case -ENAMETOOLONG:
		return EXIT_USAGE;
	case -ENOENT: case -ESRCH:
		return EXIT_NOT_FOUND;
	case -EPERM: case -EACCES:
		return EXIT_PERM;
	case -ECONNREFUSED: case -ENOTCONN: case -ECONNRESET:
		return EXIT_UNREACHABLE;
	default:
		return EXIT_FAILED;
	}
}

static int name_char(char c)
{
	/* Explicit ranges rather than isalnum(): locale must not widen the set. */
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

int name_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (; s[n]; n++)
		if (n >= NAME_MAX_LEN || !name_char(s[n]))
			return 0;
	if (n == 0 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	return 1;
}

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

int job_name_valid(const char *s)
{
	return s && (name_valid(s) || task_name_valid(s));
}

int env_name_valid(const char *s, size_t n)
{
	if (n == 0 || n > ENV_NAME_MAX || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}
