/* tasks.c — a service task's hooks (docs/tasks.md): pre_run, post_run and
 * on_error become part of the task's command, one sh script run as the
 * task runs (same user, cwd, environment, timeout, process group):
 *
 *   PRE; COMMAND; rc=$?; if [ $rc -ne 0 ]; then ON_ERROR; fi; POST; exit $rc
 *
 * umask too: "umask 022; " before it ("umask 022; exec COMMAND" alone).
 * And `log`: a task's output to the daemon's log (task_log_output).
 *
 * Each hook is shell words, as `command`, quoted back for sh.  A hook's
 * failure does not change the run's result: its exit code is the
 * command's (as the original's non-blocking hooks). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/shlex.h"
#include "engine/engine.h"
#include "engine/log.h"
#include "engine/tasks.h"

/* The words of `s` quoted back for sh, or NULL with err set. */
static char *sh_words(const char *key, const char *s, char *err,
                      size_t errlen)
{
	char **argv = NULL, e[200] = "";
	int argc = 0, rc = shlex_split(s, &argv, &argc, e, sizeof e);
	char *out;

	if (rc == -ENOMEM) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (rc < 0 || argc == 0) {
		snprintf(err, errlen, "%s: %s", key, rc < 0 ? e : "empty command");
		shlex_free(argv);
		return NULL;
	}
	out = shlex_join(argv);
	shlex_free(argv);
	if (!out)
		snprintf(err, errlen, "out of memory");
	return out;
}

static const char *str(json_t *def, const char *key)
{
	return json_string_value(json_object_get(def, key));
}

int task_hooks_wrap(json_t *def, char *err, size_t errlen)
{
	const char *pre = str(def, "pre_run"), *post = str(def, "post_run");
	const char *onerr = str(def, "on_error"), *cmd = str(def, "command");
	const char *umask = str(def, "umask");
	char *w[4] = {NULL, NULL, NULL, NULL}, *script = NULL;
	int rc = -EINVAL;

	if (!pre && !post && !onerr && !umask)
		return 0;
	if (umask && (!umask[0] || strlen(umask) > 4 ||
	              strspn(umask, "01234567") != strlen(umask))) {
		snprintf(err, errlen, "umask: '%s' is not an octal mask (022)",
		         umask);
		goto error;
	}
	if (!cmd) {
		snprintf(err, errlen, "command: missing");
		goto error;
	}
	if (!(w[0] = sh_words("command", cmd, err, errlen)) ||
	    (pre && !(w[1] = sh_words("pre_run", pre, err, errlen))) ||
	    (onerr && !(w[2] = sh_words("on_error", onerr, err, errlen))) ||
	    (post && !(w[3] = sh_words("post_run", post, err, errlen))))
		goto error;
	size_t len = 0;
	FILE *m = open_memstream(&script, &len);
	if (!m) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto error;
	}
	if (umask)
		fprintf(m, "umask %s; ", umask);
	if (w[1])
		fprintf(m, "%s; ", w[1]);
	if (!w[1] && !w[2] && !w[3]) {  /* umask alone: the command as before */
		fprintf(m, "exec %s", w[0]);
		goto close;
	}
	fprintf(m, "%s; rc=$?; ", w[0]);
	if (w[2])
		fprintf(m, "if [ $rc -ne 0 ]; then %s; fi; ", w[2]);
	if (w[3])
		fprintf(m, "%s; ", w[3]);
	fprintf(m, "exit $rc");
close:
	if (fclose(m) != 0) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto error;
	}
	json_object_del(def, "pre_run");
	json_object_del(def, "post_run");
	json_object_del(def, "on_error");
	json_object_del(def, "umask");
	if (json_object_set_new(def, "command", json_string(script)) < 0 ||
	    json_object_set_new(def, "shell", json_string("true")) < 0) {
		rc = -ENOMEM;
		goto error;
	}
	rc = 0;
error:
	for (int i = 0; i < 4; i++)
		free(w[i]);
	free(script);
	return rc;
}

void task_log_output(struct arun *a, int stream, const char *buf, size_t n)
{
	struct job *j = a->r.job ? engine_job_find(a->e, a->r.job) : NULL;
	const char *p = buf, *end = buf + n;

	if (!j || !j->log_output)
		return;
	/* a chunk's lines; a line cut between two chunks is logged in two */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		int len = (int)((nl ? nl : end) - p);
		if (len > 0 && stream == 1)
			log_info("job %s %s: %.*s", j->name, a->r.jid, len, p);
		else if (len > 0)
			log_warn("job %s %s: %.*s", j->name, a->r.jid, len, p);
		p += len + (nl != NULL);
	}
}
