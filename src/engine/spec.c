/* spec.c — what a run executes.  The spec is JSON stored with the run, so a
 * run requeued after a crash executes exactly what was asked, even if its
 * job was edited since.  At start it becomes argv, environment and
 * credentials (struct exec).
 *
 * Spec keys: argv (list) or command (string), shell, cwd, env {K: V},
 * user, group, timeout, kill_grace, backoff (microseconds), retries;
 * or "builtin": "true", a run without a process that succeeds at once
 * (for measuring the queue itself). */
#include "engine/spec.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/jw.h"
#include "core/shlex.h"

/* a key whose value may be absent: then no key either */
static void key_str(struct jw *w, const char *k, const char *v)
{
	if (v)
		jw_kstr(w, k, v);
}

/* Written as text (core/jw): a burst of scheduled runs makes each job's
 * spec once, and a jansson tree and its dump were most of that. */
char *spec_from_job(const struct job *j, const char *action, int retries,
                    char *err, size_t errlen)
{
	const char *command = j->command;
	struct jw w;
	if (action) {
		const struct job_action *ja = job_action_find(j, action);
		if (!ja) {
			snprintf(err, errlen, "job '%s' has no action '%s'",
			         j->name, action);
			return NULL;
		}
		command = ja->command;
	}
	jw_init(&w);
	jw_open(&w, '{');
	key_str(&w, "command", command);
	if (j->shell)
		jw_kbool(&w, "shell", 1);
	key_str(&w, "cwd", j->cwd);
	key_str(&w, "user", j->user);
	key_str(&w, "group", j->group);
	if (j->env) {
		jw_key(&w, "env");
		jw_open(&w, '{');
		for (char **kv = j->env; *kv; kv++) {
			char *eq = strchr(*kv, '=');
			if (!eq)
				continue;
			char key[256];   /* NAME: [A-Za-z_][A-Za-z0-9_]*, checked */
			snprintf(key, sizeof key, "%.*s", (int)(eq - *kv), *kv);
			key_str(&w, key, eq + 1);
		}
		jw_close(&w, '}');
	}
	jw_kint(&w, "timeout", j->timeout);
	jw_kint(&w, "kill_grace", j->kill_grace);
	if (j->kill_leftovers)
		jw_kbool(&w, "kill_leftovers", 1);
	jw_kint(&w, "retries", retries > 0 ? retries : j->retries);
	jw_kint(&w, "backoff", j->backoff);
	jw_close(&w, '}');
	char *text = jw_take(&w, NULL);
	if (!text)
		snprintf(err, errlen, "out of memory");
	return text;
}

/* One launcher word with its placeholders replaced. */
static char *launcher_word(const char *w, size_t n, const struct run *r)
{
	char id[32];
	size_t cap = n + 1, len = 0;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	snprintf(id, sizeof id, "%" PRId64, r->id);
	for (size_t i = 0; i < n;) {
		const char *val = NULL;
		size_t skip = 1;
		if (strncmp(w + i, "{id}", 4) == 0 && i + 4 <= n)
			val = id, skip = 4;
		else if (strncmp(w + i, "{jid}", 5) == 0 && i + 5 <= n)
			val = r->jid, skip = 5;
		else if (strncmp(w + i, "{target}", 8) == 0 && i + 8 <= n)
			val = r->target ? r->target : "", skip = 8;
		size_t vl = val ? strlen(val) : 1;
		if (len + vl + 1 > cap) {
			cap = (len + vl + 1) * 2;
			char *p = realloc(out, cap);
			if (!p) {
				free(out);
				return NULL;
			}
			out = p;
		}
		memcpy(out + len, val ? val : w + i, vl);
		len += vl;
		i += skip;
	}
	out[len] = '\0';
	return out;
}

char *spec_from_launcher(const struct config *cfg, const struct run *r,
                         char *err, size_t errlen)
{
	const char *t = cfg->launcher;
	char cwd[4096];

	if (!t || !*t) {
		snprintf(err, errlen, "run %" PRId64 " has no command and no "
		         "launcher is configured", r->id);
		return NULL;
	}
	json_t *s = json_object(), *argv = json_array();
	/* split first, replace after: a value with spaces stays one word */
	while (*t) {
		size_t n = strcspn(t, " ");
		if (n) {
			char *w = launcher_word(t, n, r);
			json_array_append_new(argv, json_string(w ? w : ""));
			free(w);
		}
		t += n + strspn(t + n, " ");
	}
	json_object_set_new(s, "argv", argv);
	/* the original's launcher.cwd defaults to the daemon's own directory */
	if (cfg->launcher_cwd)
		json_object_set_new(s, "cwd", json_string(cfg->launcher_cwd));
	else if (getcwd(cwd, sizeof cwd))
		json_object_set_new(s, "cwd", json_string(cwd));
	if (cfg->n_launcher_env) {
		json_t *env = json_object();
		for (int i = 0; i < cfg->n_launcher_env; i++)
			json_object_set_new(env, cfg->launcher_env[i].name,
			                    json_string(cfg->launcher_env[i].value));
		json_object_set_new(s, "env", env);
	}
	char *text = json_dumps(s, JSON_COMPACT);
	json_decref(s);
	if (!text)
		snprintf(err, errlen, "out of memory");
	return text;
}

/* The command as one display string. */
char *spec_display(json_t *spec)
{
	json_t *cmd = json_object_get(spec, "command");
	if (json_is_string(cmd))
		return strdup(json_string_value(cmd));
	json_t *argv = json_object_get(spec, "argv");
	size_t n = json_array_size(argv), i;
	char **v = calloc(n + 1, sizeof *v);
	if (!v)
		return NULL;
	for (i = 0; i < n; i++)
		v[i] = (char *)json_string_value(json_array_get(argv, i));
	char *s = shlex_join(v);
	free(v);
	return s;
}

static int argv_build(json_t *spec, struct exec *x, char *err, size_t errlen)
{
	json_t *cmd = json_object_get(spec, "command");
	json_t *argv = json_object_get(spec, "argv");
	int argc;

	if (json_is_true(json_object_get(spec, "shell"))) {
		x->argv = calloc(4, sizeof *x->argv);
		if (!x->argv)
			return -ENOMEM;
		x->argv[0] = strdup("/bin/sh");
		x->argv[1] = strdup("-c");
		x->argv[2] = json_is_string(cmd) ? strdup(json_string_value(cmd))
		                                 : spec_display(spec);
		return x->argv[2] ? 0 : -ENOMEM;
	}
	if (json_is_string(cmd))
		return shlex_split(json_string_value(cmd), &x->argv, &argc, err,
		                   errlen);
	size_t n = json_array_size(argv);
	x->argv = calloc(n + 1, sizeof *x->argv);
	if (!x->argv)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *w = json_string_value(json_array_get(argv, i));
		x->argv[i] = strdup(w ? w : "");
	}
	return 0;
}

static int env_add(struct exec *x, int *n, const char *k, const char *v)
{
	char **slot = NULL;
	size_t kl = strlen(k);
	for (int i = 0; i < *n; i++)
		if (strncmp(x->env[i], k, kl) == 0 && x->env[i][kl] == '=')
			slot = &x->env[i];
	char *kv = malloc(kl + strlen(v) + 2);
	if (!kv)
		return -ENOMEM;
	sprintf(kv, "%s=%s", k, v);
	if (slot) {
		free(*slot);
		*slot = kv;
		return 0;
	}
	x->env[(*n)++] = kv;
	return 0;
}

/* A clean environment, as cron and systemd give: PATH and the identity of
 * the user, LANG, the run's own JOBD_* variables, then the spec's env. */
static int env_build(json_t *spec, const struct run *r, const char *home,
                     const char *shell, struct exec *x)
{
	json_t *env = json_object_get(spec, "env");
	size_t cap = 16 + json_object_size(env);
	int n = 0;
	char num[32];
	const char *path = getenv("PATH"), *lang = getenv("LANG");
	const char *k;
	json_t *v;

	x->env = calloc(cap + 1, sizeof *x->env);
	if (!x->env)
		return -ENOMEM;
	env_add(x, &n, "PATH", path ? path : "/usr/local/bin:/usr/bin:/bin");
	env_add(x, &n, "HOME", home ? home : "/");
	env_add(x, &n, "USER", x->user);
	env_add(x, &n, "LOGNAME", x->user);
	env_add(x, &n, "SHELL", shell && *shell ? shell : "/bin/sh");
	if (lang)
		env_add(x, &n, "LANG", lang);
	env_add(x, &n, "JOBD_JID", r->jid);
	if (r->job)
		env_add(x, &n, "JOBD_JOB", r->job);
	env_add(x, &n, "JOBD_TARGET", r->target);
	if (r->worker)           /* the daemon running it (config `name`) */
		env_add(x, &n, "JOBD_WORKER", r->worker);
	snprintf(num, sizeof num, "%" PRId64, r->id);
	env_add(x, &n, "JOBD_ID", num);
	snprintf(num, sizeof num, "%d", r->attempt);
	env_add(x, &n, "JOBD_ATTEMPT", num);
	json_t *fire = json_object_get(spec, "fire_time");
	if (json_is_integer(fire)) {    /* a scheduled run: unix seconds */
		long long us = json_integer_value(fire);
		if (us % US_PER_S)
			snprintf(num, sizeof num, "%lld.%06lld", us / US_PER_S,
			         us % US_PER_S);
		else
			snprintf(num, sizeof num, "%lld", us / US_PER_S);
		env_add(x, &n, "JOBD_FIRE_TIME", num);
	}
	json_object_foreach(env, k, v)
		if (json_is_string(v))
			env_add(x, &n, k, json_string_value(v));
	return 0;
}

/* The daemon's own entry, looked up once: most runs run as the daemon's
 * user, and an NSS lookup per run (reading /etc/passwd) is not free. */
static struct passwd *self_passwd(void)
{
	static struct passwd self;
	static char buf[2048];
	static int known;
	struct passwd *pw = NULL;
	if (!known && getpwuid_r(geteuid(), &self, buf, sizeof buf, &pw) == 0 &&
	    pw)
		known = 1;
	return known ? &self : getpwuid(geteuid());
}

/* Who the run runs as.  Another user only when jobd is root. */
static int ids_resolve(json_t *spec, int is_root, struct exec *x,
                       const char **home, const char **shell, char *err,
                       size_t errlen)
{
	const char *user = json_string_value(json_object_get(spec, "user"));
	const char *group = json_string_value(json_object_get(spec, "group"));
	uid_t me = geteuid();
	struct passwd *pw = user ? getpwnam(user) : self_passwd();

	if (!pw) {
		snprintf(err, errlen, "unknown user '%s'", user ? user : "?");
		return -ENOENT;
	}
	x->user = strdup(pw->pw_name);
	*home = pw->pw_dir;
	*shell = pw->pw_shell;   /* the passwd entry's, as login(1) sets it */
	x->uid = pw->pw_uid;
	x->gid = pw->pw_gid;
	if (group) {
		struct group *gr = getgrnam(group);
		if (!gr) {
			snprintf(err, errlen, "unknown group '%s'", group);
			return -ENOENT;
		}
		x->gid = gr->gr_gid;
	}
	if (x->uid == me && (!group || x->gid == getegid()))
		return 0;
	if (!is_root) {
		snprintf(err, errlen, "cannot run as user '%s'%s%s: jobd is not "
		         "running as root", pw->pw_name, group ? " group " : "",
		         group ? group : "");
		return -EPERM;
	}
	x->set_ids = 1;
	return 0;
}

int spec_prepare(const char *spec_text, const struct run *r, int is_root,
                 struct exec *x, char *err, size_t errlen)
{
	const char *home = NULL, *shell = NULL;
	json_error_t je;
	json_t *spec = json_loads(spec_text ? spec_text : "{}", 0, &je);
	int rc;

	memset(x, 0, sizeof *x);
	if (!spec) {
		snprintf(err, errlen, "invalid run spec: %s", je.text);
		return -EINVAL;
	}
	if ((rc = ids_resolve(spec, is_root, x, &home, &shell, err,
	                      errlen)) < 0)
		goto out;
	const char *builtin = json_string_value(json_object_get(spec, "builtin"));
	if (builtin) {
		if (strcmp(builtin, "true") != 0) {
			snprintf(err, errlen, "unknown builtin '%s'", builtin);
			rc = -EINVAL;
		}
		x->builtin = 1;
		goto out;
	}
	if ((rc = argv_build(spec, x, err, errlen)) < 0)
		goto out;
	if (!x->argv || !x->argv[0]) {
		snprintf(err, errlen, "empty command");
		rc = -EINVAL;
		goto out;
	}
	if ((rc = env_build(spec, r, home, shell, x)) < 0)
		goto out;
	/* a missing directory is named here: after the fork the child could
	 * only report it as if the program were missing */
	const char *cwd = json_string_value(json_object_get(spec, "cwd"));
	struct stat st;
	/* ... but not for a run as another user: its child enters the
	 * directory as that user (runas.c), and a check as root would tell
	 * the user which paths exist behind directories it cannot enter */
	if (cwd && !x->set_ids && (stat(cwd, &st) < 0 || !S_ISDIR(st.st_mode))) {
		int missing = stat(cwd, &st) < 0;
		snprintf(err, errlen, "cannot change to directory '%s': %s", cwd,
		         missing ? strerror(errno) : "not a directory");
		rc = -ENOENT;
		goto out;
	}
	if (!cwd)       /* the user's home, as cron does, if it exists */
		cwd = home && stat(home, &st) == 0 && S_ISDIR(st.st_mode) ? home
		                                                         : "/";
	x->cwd = strdup(cwd);
	x->timeout = json_integer_value(json_object_get(spec, "timeout"));
	x->kill_grace = json_integer_value(json_object_get(spec, "kill_grace"));
	if (x->kill_grace <= 0)
		x->kill_grace = 10 * US_PER_S;
	x->retries = (int)json_integer_value(json_object_get(spec, "retries"));
	x->kill_leftovers = json_is_true(json_object_get(spec, "kill_leftovers"));
	x->backoff = json_integer_value(json_object_get(spec, "backoff"));
out:
	json_decref(spec);
	if (rc < 0)
		exec_free(x);
	return rc;
}

static void strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

void exec_free(struct exec *x)
{
	strv_free(x->argv);
	strv_free(x->env);
	free(x->cwd);
	free(x->user);
	free(x->fail);
	memset(x, 0, sizeof *x);
}
