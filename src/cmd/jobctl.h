/* jobctl.h — private to jobctl: the output helpers of jobctl_out.c that
 * jobctl.c calls to show the daemon's replies to humans (aligned tables,
 * relative times) or as JSON. */
#ifndef JOBCTL_H
#define JOBCTL_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

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
