/* jobctl.h — private to jobctl: its types (options, parsed arguments, the
 * command table's entries, the state of one invocation), and the helpers
 * its files share: errors and values (jobctl_args.c), requests and run
 * results (jobctl_call.c), the commands (jobctl_cmd_*.c) and the output
 * helpers of jobctl_out.c that show the daemon's replies to humans
 * (aligned tables, relative times) or as JSON. */
#ifndef JOBCTL_H
#define JOBCTL_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "client/client.h"

#define ERRLEN 512

enum { O_ARG = 1 };

struct optdef {
	const char *name;   /* long name, without "--" */
	char shrt;          /* short letter or 0 */
	int flags;          /* O_ARG: takes a value */
};

struct optval {
	const struct optdef *d;
	const char *v;      /* NULL for a flag */
};

struct args {
	int npos, nopt;
	char **pos;
	struct optval *opt;
};

struct ctl;

struct command {
	const char *name;
	int (*fn)(struct ctl *c, struct args *a);
	const struct optdef *opts;
	int min_pos, max_pos;   /* positional arguments; max -1 = any */
	int words_after;        /* after this many positionals every word is
	                           the COMMAND (create, submit); -1 = never */
	const char *synopsis;
	const char *help;
};

struct ctl {
	const char *socket;     /* --socket PATH */
	const char *connect;    /* --connect HOST:PORT */
	const char *password;
	int json;
	struct client_sync *cs; /* NULL until the first request */
	int ran;                /* the exit code came from a run */
	size_t streamed[2];     /* bytes of stdout / stderr shown live */
	const struct command *cmd;
};


/* called with the struct ctl as its arg */
typedef client_event_cb event_fn;

/* ---- errors and values (jobctl_args.c) ---- */

/* --json anywhere before "--": errors are JSON too (set in main, before
 * the arguments are parsed, so that a usage error is JSON as well). */
extern int json_errors;

/* "jobctl: <what is wrong>" on stderr, or {"error", "code"} with --json;
 * returns code, the exit code (bad: the usage exit code). */
int complain(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int parse_args(const struct command *cmd, int argc, char **argv,
	       struct args *a);
void args_free(struct args *a);
/* The last value of option `name` ("" for a flag), or NULL. */
const char *opt_get(const struct args *a, const char *name);
int opt_has(const struct args *a, const char *name);

int parse_long(const char *what, const char *s, long lo, long hi,
	       long *out);
int check_name(const char *what, const char *s);
int check_jid(const char *s);
int parse_time(const char *what, const char *s, char *out, size_t n,
	       int64_t *us);
/* Option `opt`, checked, into o under its JSON key ("kill-grace" ->
 * "kill_grace"); nothing when absent.  0 or an exit code. */
int put_str(const struct args *a, const char *opt, json_t *o);
int put_long(const struct args *a, const char *opt, long lo, long hi,
	     json_t *o);
int put_dur(const struct args *a, const char *opt, json_t *o);
int put_list(const struct args *a, const char *opt, json_t *o);
int put_time(const struct args *a, const char *opt, json_t *o);
int put_cwd(const struct ctl *c, const struct args *a, json_t *o);
int put_pairs(const struct args *a, const char *opt, const char *key,
	      json_t *o);
int put_command(const struct args *a, int first, json_t *o);

/* ---- requests and run results (jobctl_call.c) ---- */

/* Sends request `type` with `data` (stolen), passes events to on_event
 * (with c), and returns 0 with the reply's data in *reply (caller
 * decrefs), or an exit code after printing what went wrong. */
int ctl_call(struct ctl *c, const char *type, json_t *data,
	     event_fn *on_event, json_t **reply);
/* A request whose reply is shown as a message ("ok" -> `done`). */
int call_message(struct ctl *c, const char *type, json_t *data,
		 const char *done);
/* A request whose reply (or its `member`) is shown by `show`. */
int call_show(struct ctl *c, const char *type, json_t *data,
	      void (*show)(json_t *), const char *member);
/* "TERM", "SIGTERM", "term" -> 15; 0 if unknown. */
int sig_number(const char *s);
/* event_fn: live output to our stdout / stderr (not with --json). */
void on_output(void *arg, const char *ev, json_t *data);
/* The reply of run/wait/logs shown; exit_code: the run's exit code. */
int finish_run(struct ctl *c, json_t *reply, int exit_code);

/* ---- the commands (jobctl_cmd_jobs.c, jobctl_cmd_runs.c) ---- */

int cmd_create(struct ctl *c, struct args *a);
int cmd_name(struct ctl *c, struct args *a);
int cmd_set(struct ctl *c, struct args *a);
int cmd_list(struct ctl *c, struct args *a);
int cmd_show(struct ctl *c, struct args *a);
int cmd_health(struct ctl *c, struct args *a);   /* jobctl_cmd_health.c */
int cmd_run(struct ctl *c, struct args *a);
/* start|stop|restart|reload|status NAME (jobctl_lifecycle.c) */
int cmd_action(struct ctl *c, struct args *a);
int cmd_run_action(struct ctl *c, struct args *a);
/* A job-action reply's results (and a master's live `begin` / `result`
 * events, handed to lifecycle_event as a call's event callback) printed
 * once each: lifecycle_begin before the call, lifecycle_end after it
 * (reply NULL: nothing to print) gives the exit code. */
void lifecycle_begin(struct ctl *c);
void lifecycle_event(void *arg, const char *ev, json_t *data);
int lifecycle_end(json_t *reply, const char *action);
/* The reply of status SERVICE: each task's check; exit 0 or 3. */
int show_task_status(struct ctl *c, json_t *reply);
int cmd_reload(struct ctl *c, struct args *a);
int cmd_submit(struct ctl *c, struct args *a);
/* Waits for run `jid`, streaming its output; exits with its code. */
int wait_jid(struct ctl *c, const char *jid);
/* Asks on the terminal before a manual run of a job marked confirm (sets
 * "yes" in req); 0 to go on, else the exit code (1: "no" or no answer). */
int run_confirm(struct ctl *c, const char *name, json_t *req);
int cmd_targets(struct ctl *c, struct args *a);
int cmd_target(struct ctl *c, struct args *a);
int cmd_queue(struct ctl *c, struct args *a);
int cmd_active(struct ctl *c, struct args *a);
int cmd_runs(struct ctl *c, struct args *a);
int cmd_lookup(struct ctl *c, struct args *a);
int cmd_logs(struct ctl *c, struct args *a);
int cmd_wait(struct ctl *c, struct args *a);
int cmd_signal(struct ctl *c, struct args *a);
int cmd_cancel(struct ctl *c, struct args *a);
int cmd_status(struct ctl *c, struct args *a);
int cmd_metrics(struct ctl *c, struct args *a);
int cmd_workers(struct ctl *c, struct args *a);
int cmd_next(struct ctl *c, struct args *a);

/* ---- output (jobctl_out.c) ---- */

/* One JSON document on stdout, indented by 2, any type (also "ok"). */
void out_json(json_t *v);

/* `list` reply: NAME STATE SCHEDULE NEXT LAST RESULT. */
void out_jobs(json_t *data);
/* `show` reply: key: value lines, then next runs, last run, running. */
void out_job(json_t *data);
/* Runs table for `runs`: JID JOB STATUS RESULT CODE CREATED DURATION. */
void out_runs(json_t *runs);
/* Runs table for `active`: JID JOB PID USER STARTED COMMAND. */
void out_active(json_t *runs);
/* One run, every field, then its stdout and stderr (`lookup`). */
void out_run(json_t *run);
/* The daemon's `status` reply, targets table included. */
void out_status(json_t *data);
/* TARGET CONCURRENCY RUNNING WAITING PAUSED from status' "targets". */
void out_targets(json_t *targets);
/* A table of an array of flat objects, columns from their keys (`workers`). */
void out_objects(json_t *arr);
/* A reply that is a string or {"message": ...}; else `fallback`. */
void out_message(json_t *data, const char *fallback);

/* Writes a JSON value for humans: strings as is, null as "-", arrays
 * joined by ",", numbers and booleans in decimal/true/false. */
void out_value(char *out, size_t n, json_t *v);
/* An RFC 3339 string relative to now ("3m ago", "in 2h"), "-" if null. */
void out_reltime(char *out, size_t n, json_t *v);
/* A duration for humans: "877ms", "12.3s", "4m05s", "2h10m", "3d4h". */
void out_duration(char *out, size_t n, int64_t us);

/* `set NAME KEY=VALUE` (jobctl_edit.c): *out = the set-job request;
 * -1 with err naming what is wrong. */
int set_request(const char *name, const char *kv, json_t **out, char *err,
                size_t errlen);
#endif
