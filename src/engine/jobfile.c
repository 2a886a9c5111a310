/* jobfile.c — the job files of jobs_dir (docs/jobfiles.md), read with
 * inih (through config_ini_read) into the JSON objects that job_from_json
 * takes: [job NAME] with its [action NAME] and [health_check NAME]
 * sections, and the [task#N] sections of service files. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jobd.h"
#include "core/shlex.h"
#include "core/strpool.h"
#include "engine/config.h"
#include "engine/jobs.h"
#include "engine/tasks.h"

enum sec { SEC_NONE, SEC_JOB, SEC_TASK, SEC_ACTION, SEC_CHECK, SEC_DEFAULT };

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
	size_t i = strpool_hash(name) & (ns->n_slots - 1);

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
	char *run_schedule;      /* [DEFAULT] run_schedule: the tasks' default */
	int tasks;               /* [task#N] sections seen in this file */
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
	rc = strstr(json_string_value(json_object_get(def, "name")), ".task#") ?
	     task_hooks_wrap(def, e, sizeof(e)) : 0;
	if (rc == 0)
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
	int rc;

	if (!n[0] || strspn(n, "0123456789") != strlen(n) || strlen(n) > 9)
		return jf_err(err, errlen, "invalid section [task#%s] (task#N, N "
		              "a number)", n);
	snprintf(name, sizeof(name), "%s.task#%s", f->base, n);
	if (!job_name_valid(name))
		return jf_err(err, errlen, "file name '%s' cannot name task jobs "
		              "('%s' is not a valid job name)", f->base, name);
	f->sec = SEC_TASK;
	f->tasks++;
	rc = jf_add_job(f, name, line, err, errlen);
	/* the task's own schedule key, if any, replaces it */
	if (rc == 0 && f->run_schedule &&
	    json_object_set_new(f->job, "schedule",
	                        json_string(f->run_schedule)) < 0)
		rc = -ENOMEM;
	return rc;
}

/* A service file's [DEFAULT]: only run_schedule, before the tasks it is
 * the default of. */
static int jf_default_section(struct jfile *f, char *err, size_t errlen)
{
	if (f->tasks || f->job)
		return jf_err(err, errlen, "[DEFAULT] must come before the "
		              "sections of the file");
	if (jf_deliver(f))
		return jf_err(err, errlen, "callback failed");
	f->sec = SEC_DEFAULT;
	return 0;
}

static int jf_default_key(struct jfile *f, const char *key, const char *value,
                          int cont, char *err, size_t errlen)
{
	if (strcmp(key, "run_schedule") != 0)
		return jf_err(err, errlen, "unknown key '%s' in [DEFAULT] (only "
		              "run_schedule)", key);
	if (cont && f->run_schedule) {
		char *joined;
		if (asprintf(&joined, "%s %s", f->run_schedule, value) < 0)
			return -ENOMEM;
		free(f->run_schedule);
		f->run_schedule = joined;
		return 0;
	}
	free(f->run_schedule);
	f->run_schedule = strdup(value);
	return f->run_schedule ? 0 : -ENOMEM;
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
	if (strcmp(name, "DEFAULT") == 0)
		return jf_default_section(f, err, errlen);
	if (jf_split_header(name, "action", &arg) ||
	    jf_split_header(name, "health_check", &arg)) {
		if (!f->job)
			return jf_err(err, errlen, "%s before any [job NAME] section",
			              f->label);
		return name[0] == 'a' ? jf_action_section(f, arg, err, errlen)
		                      : jf_check_section(f, arg, err, errlen);
	}
	return jf_err(err, errlen, "unknown section [%s] (expected [job NAME], "
	              "[action NAME], [health_check NAME], [task#N] or [DEFAULT])", name);
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
	       strcmp(key, "after") == 0 ||
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
	"enabled", "kill_leftovers", "max_parallel", "retcodes", "log_output",
	"max_parallel_workers", "placement", "lease_timeout",
	NULL,
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
	    strcmp(key, "requires") == 0 || strcmp(key, "nodes") == 0 ||
	    strcmp(key, "after") == 0)
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
		"command", "user", "group", "cwd", "schedule", "timeout",
		"pre_run", "post_run", "on_error", "umask",   /* see tasks.c */
		"placement", "lease_timeout",
		NULL,
	};
	/* parsed by name, but what they do is not built: refused, never a
	 * task doing less than its file says */
	static const char *const unbuilt[] = {
		NULL,
	};
	int b, n;

	if (in_list(same, key))
		return jf_set(f, f->job, key, value, cont, err, errlen);
	if (strcmp(key, "tags") == 0)
		return jf_append_list(f->job, "tags", value, cont);
	if (strcmp(key, "run_requires") == 0)
		return jf_append_list(f->job, "requires", value, cont);
	if (strcmp(key, "nodes") == 0)
		return jf_append_list(f->job, "nodes", value, cont);
	if (cont)
		return jf_err(err, errlen, "continuation line for '%s' in %s", key,
		              f->label);
	if (strcmp(key, "confirmation") == 0)
		return jf_set(f, f->job, "confirm", value, 0, err, errlen);
	if (strcmp(key, "log") == 0) {
		if ((b = config_bool_parse(value)) < 0)
			return jf_err(err, errlen, "invalid value for log: '%s' "
			              "(true or false)", value);
		return jf_set(f, f->job, "log_output", b ? "true" : "false", 0,
		              err, errlen);
	}
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
		if (n > 1000)
			return jf_err(err, errlen, "invalid value for max_parallel: "
			              "'%s' (1 to 1000)", value);
		if (n > 1 && json_object_set_new(f->job, "max_parallel",
		                                 json_integer(n)) < 0)
			return -ENOMEM;
		return jf_set(f, f->job, "overlap", n == 1 ? "skip" : "allow", 0,
		              err, errlen);
	}
	if (strcmp(key, "retcodes") == 0)
		return jf_set(f, f->job, "retcodes", value, 0, err, errlen);
	if (strcmp(key, "check") == 0) {
		/* the original's one check of a task: its last run's code */
		if (strcmp(value, "last_run") != 0)
			return jf_err(err, errlen, "invalid value for check: '%s' "
			              "(last_run)", value);
		if (json_object_get(f->job, "retcodes"))
			return 0;
		return jf_set(f, f->job, "retcodes", "0:up 1:down", 0, err, errlen);
	}
	if (in_list(unbuilt, key) || strncmp(key, "limit_", 6) == 0)
		return jf_err(err, errlen, "task keyword '%s' in %s: not built "
		              "yet; remove it", key, f->label);
	return jf_err(err, errlen, "unknown key '%s' in %s", key, f->label);
}

static int jf_sub_key(struct jfile *f, const char *key, const char *value,
                      int cont, char *err, size_t errlen)
{
	static const char *const check_keys[] = {
		"tcp", "http", "command", "expect_status", "attempts", "interval",
		"timeout", NULL,
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
	case SEC_DEFAULT:
		return jf_default_key(f, key, value, cont, err, errlen);
	default:
		return jf_sub_key(f, key, value, cont, err, errlen);
	}
}

static void jf_clear(struct jfile *f)
{
	json_decref(f->job);
	free(f->action);
	free(f->run_schedule);
	f->run_schedule = NULL;
	f->tasks = 0;
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
