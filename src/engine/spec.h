/* spec.h — a run's spec (JSON, stored with the run) and its execution form. */
#ifndef JOBD_SPEC_H
#define JOBD_SPEC_H
#include <inttypes.h>
#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "engine/config.h"
#include "engine/jobs.h"
#include "jobd.h"

struct exec {
	char **argv, **env;
	char *cwd;
	char *user;
	int set_ids;
	uid_t uid;
	gid_t gid;
	int64_t timeout, kill_grace, backoff;
	int retries;
	int kill_leftovers;
	int builtin;      /* "builtin": "true": no process (benchmarks) */
	char *fail;       /* it cannot start: why (runs.c, after the claim) */
};

/* The spec (JSON text, malloc'd) of a run of job j or of its action, with
 * retries in place of the job's when > 0; NULL with err when the action
 * does not exist or memory ran out. */
char *spec_from_job(const struct job *j, const char *action, int retries,
                    char *err, size_t errlen);
/* The spec of a run whose row has none (INSERTed by another program): the
 * config's launcher template split on spaces, each word with {id}, {jid}
 * and {target} replaced, with launcher.cwd and launcher.env.NAME.  Returns
 * the JSON text (malloc'd), or NULL with err when no launcher is set. */
char *spec_from_launcher(const struct config *cfg, const struct run *r,
                         char *err, size_t errlen);
/* The command as one string, for lists and proc files. */
char *spec_display(json_t *spec);
/* Turns a stored spec into argv/env/ids for run r.  -EPERM when it asks for
 * another user and jobd is not root; err says what is wrong. */
int spec_prepare(const char *spec_text, const struct run *r, int is_root,
                 struct exec *x, char *err, size_t errlen);
void exec_free(struct exec *x);
#endif
