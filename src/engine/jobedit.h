/* jobedit.h — changing one field of a job in place (jobctl set, 9P's
 * writes to schedule and cmd) and naming new jobs (9P's clone), for API
 * jobs and file jobs alike. */
#ifndef JOBD_JOBEDIT_H
#define JOBD_JOBEDIT_H
#include <jansson.h>
#include <stddef.h>

#include "engine/engine_api.h"

/* Sets field `field` of job `name` to `value`:
 *   "schedule"  a string ("" or null: manual runs only),
 *   "command"   a string (shell words; sh -c text for a shell job),
 *   "argv"      a list of words, kept as the command (quoted words),
 *   "enabled"   a boolean (as jobctl enable / disable).
 * The new definition is validated as create's (job_from_json); an API
 * job is saved in the store, a file job's file gets the key's line
 * rewritten (atomically; comments, other lines, mode and owner kept), so
 * that the change outlives a reload and a restart ("enabled" of a file
 * job is kept in the store, as `jobctl disable` does).  The caller checks
 * permissions.  Returns 0 with *out the job as it is now (the old struct
 * is gone), -ENOENT, -EINVAL (err names the field: "schedule: syntax error
 * in minute field: '61'"), -EIO (the file could not be rewritten; nothing
 * changed) or -ENOMEM. */
int engine_job_set(struct engine *e, const char *name, const char *field,
                   json_t *value, struct job **out, char *err, size_t errlen);

/* A free name for a new job, "job-N": N is above every job-N that is a
 * job now, is in a job file (loaded or not) or was given out before by
 * this daemon. */
int engine_job_name_new(struct engine *e, char *out, size_t n);

/* Rewrites `key = value` in section [job JOB] of the job file `path`
 * (replacing the key's line and its continuation lines, or adding the
 * key after the header), through a temporary file renamed over it.
 * -EINVAL when the value cannot be written as an INI value or the
 * section is not in the file, -EIO when the file cannot be written; err
 * says which. */
int jobfile_set_key(const char *path, const char *job, const char *key,
                    const char *value, char *err, size_t errlen);
#endif
