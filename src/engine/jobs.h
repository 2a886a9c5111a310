/* jobs.h — job definitions: one validation path for every source (jobctl
 * create, job files, later 9P and HTTP): everything becomes a JSON object
 * and goes through job_from_json(). */
#ifndef JOBD_JOBS_H
#define JOBD_JOBS_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "core/heap.h"

struct sched;

enum placement { PLACEMENT_ANY, PLACEMENT_ONE };

struct job_action {
	char *name;
	char *command;
};

struct health_check {
	char *name;
	char *tcp, *http, *command;
	int attempts;
	int expect_status;      /* http: the status that is healthy (200) */
	int64_t interval, timeout;
};

/* Field order packs the struct (malloc'd once per job; 100,000 jobs are
 * a case to serve).  source, target and timezone are interned: shared by
 * every job with the same value, reference-counted, released by job_free;
 * never free() them. */
struct job {
	char *name;
	char *command;          /* shell-word string (or sh -c text if shell) */
	char *schedule;         /* NULL = manual only */
	char *timezone;         /* NULL = the daemon's; interned */
	char *target;           /* default "default"; interned */
	char *user, *group, *cwd;
	char **env;             /* "K=V", NULL-terminated (may be NULL) */
	int64_t timeout;        /* us, 0 = none */
	int64_t kill_grace;     /* us, default 10 s */
	int64_t jitter;         /* us */
	int64_t backoff;        /* us, default 10 s */
	char **tags, **selectors, **requires;   /* NULL-terminated or NULL */
	char **after;           /* lifecycle actions: these jobs first (start;
	                         * stop goes in reverse) */
	char **nodes;           /* runs only on the daemons of these names
	                         * (config `name`); NULL = everywhere */
	struct job_action *actions;
	struct health_check *checks;
	int n_actions;
	int n_checks;
	char *source;           /* job file path, NULL for API-made jobs;
	                         * interned */
	int priority;
	uint32_t owner_uid;
	int8_t shell;
	int8_t confirm;
	int8_t kill_leftovers;  /* SIGTERM what is left in its group at the end */
	int8_t log_output;      /* its runs' stdout to the log at INFO, stderr
	                         * at WARN (a task's `log`) */
	int8_t enabled;         /* default 1 */
	int8_t overlap;         /* enum overlap, default skip */
	int8_t catchup;         /* enum catchup, CATCHUP_DEFAULT = by schedule */
	uint8_t retries;        /* 0 to 100 */
	/* overlap = queue: runs of it that may wait behind the running one
	 * (1, like systemd's single pending start; 0 to 1000) */
	int16_t overlap_queue_max;
	/* overlap = allow: at most this many runs at once (0 = no bound; a
	 * task's max_parallel) */
	int16_t max_parallel;
	/* lifecycle actions across workers: workers per batch (0 = 1 for
	 * restart and reload, all for the others; core/fleet.h) */
	int16_t max_parallel_workers;
	/* "0:up 1:down": its last exit code gives a status (a task's check
	 * / retcodes; jobctl status SERVICE); NULL = none */
	char *retcodes;
	/* placement = one: runs its schedule on one daemon of the cluster at
	 * a time, the holder of its lease in the store (engine/lease.c);
	 * lease_timeout: how long a silent holder keeps it (us, default 15 s) */
	int8_t placement;       /* enum placement, default PLACEMENT_ANY */
	int64_t lease_timeout;

	/* runtime (engine), not part of the definition */
	struct sched *sched;
	struct heap_node fire;  /* scheduler heap node; key = next fire us */
	int64_t last_run;       /* us; in the store's kv if job_keeps_last_run */
	int64_t next_fire;      /* us, -1 none */
	int running;            /* live runs of this job */
	int queued;             /* runs of this job waiting for a slot */
	int64_t skipped;        /* fires skipped: overlap skip, queue full */
	int64_t skipped_requires;   /* fires skipped: requires unmet */
	int8_t last_ok;         /* last run of its command: 1 ok, -1 not,
	                         * 0 none yet (requires "ok") */
	int8_t status_up;       /* last run of its status action: 1 ok, -1
	                         * not, 0 none yet (requires "up") */
	char *spec;             /* the JSON spec of a run of its command,
	                         * made at its first run (runs.c); a job is
	                         * replaced whole on edit, so it never goes
	                         * stale */
	uint64_t def_hash;       /* of a file job's definition: reload keeps
	                          * an unchanged job as it is (engine.c) */
};

/* job_name_valid() is jobd.h's (core/names.c): jobctl checks names too. */
/* Whether s may name an action or a health check:
 * [A-Za-z0-9][A-Za-z0-9_.-]*, 64 characters at most. */
int action_name_valid(const char *s);

/* Validates `def` and fills *out (zeroed first).  Accepts every key of
 * docs/protocol.md's job object; unknown keys are errors.  Durations are
 * DUR strings or integer seconds; env is an object or a ["K=V"] list;
 * tags/selectors/requires are lists or comma strings; actions an object
 * name -> command; health_checks a list of {name, tcp|http|command,
 * expect_status, attempts, interval, timeout}.  Booleans and integers may also be strings
 * (as job files give them).  A name is name_valid() or, for the tasks of a
 * service file, "<valid>.task#<digits>" (64 characters at most).  The
 * schedule is parsed into out->sched with the job's timezone, else
 * `tz_default`.  Returns 0 or -EINVAL with err naming the field:
 * "schedule: syntax error in minute field: '61'"; *out is then freed. */
int job_from_json(json_t *def, const char *tz_default, struct job *out,
                  char *err, size_t errlen);
/* What job_from_json does not check alone: the requires items (they name
 * other jobs).  Also the place to refuse, with -ENOTSUP naming the key, a
 * key that parses but does nothing yet: a job is never kept doing less
 * than it says (none today). */
int job_check_built(const struct job *j, char *err, size_t errlen);
/* The definition as JSON (the same keys; durations as DUR strings). */
json_t *job_to_json(const struct job *j);
void job_free(struct job *j);   /* frees the fields, not j itself */
const struct job_action *job_action_find(const struct job *j, const char *name);
/* The status ("up", "down", "warn", "n/a") that retcodes (j->retcodes'
 * syntax) gives exit code `code`; codes it does not name are "warn". */
const char *job_retcode_status(const char *retcodes, int code);
/* Whether j may run on the daemon named `node` (its nodes list). */
int job_on_node(const struct job *j, const char *node);
/* Whether j's schedule fires on a daemon with these labels (config
 * `labels`, "a,b"; a worker also has `worker`): a job with selectors only
 * where all of them are labels; a job without runs wherever it is
 * defined. */
int job_on_labels(const struct job *j, const char *labels, int worker);
/* The catch-up policy in force: j->catchup, or the schedule's default. */
int job_catchup(const struct job *j);
/* Whether the time of the job's last run must outlive the daemon (the
 * store's kv "last:NAME"): @every and calendar schedules count from it,
 * catch-up looks for a fire missed since it.  A cron job without catch-up
 * needs it only in memory. */
int job_keeps_last_run(const struct job *j);

/* Reads every *.conf file of `dir` (sorted by name; see docs/jobfiles.md).
 * Calls cb(ctx, def, file, line) once per job, as soon as the job's last
 * section has ended (so before an error further down its file is found),
 * `line` being its section header's, with the section turned
 * into a JSON object (the keys of job_from_json, values mostly strings,
 * plus "source" = file); def is borrowed (json_incref to keep it).  Stops
 * at the first error: -EINVAL with err "dir/x.conf:7: unknown key 'foo' in
 * [job backup]"; duplicate job names across the files are errors naming
 * both places.  cb's message is prefixed with "FILE:LINE: " unless it
 * already starts with the file.  A missing (or NULL) dir is not an error.
 * Returns the number of files read. */
typedef int (*jobfile_cb)(void *ctx, json_t *def, const char *file, int line,
                          char *err, size_t errlen);
int jobfiles_load(const char *dir, jobfile_cb cb, void *ctx, char *err,
                  size_t errlen);
/* As jobfiles_load, but a file with an error is skipped: on_bad(ctx, file,
 * message) is told, and reading goes on with the next file (jobs of the
 * bad file that cb was already given are the caller's to drop: their
 * "source" is that file).  Only a jobs_dir that cannot be read or memory
 * running out stop it. */
typedef void (*jobfile_bad_cb)(void *ctx, const char *file, const char *err);
int jobfiles_load_each(const char *dir, jobfile_cb cb, jobfile_bad_cb on_bad,
                       void *ctx, char *err, size_t errlen);
#endif
