/* tasks.h — what a service file's task adds to a job (tasks.c). */
#ifndef JOBD_TASKS_H
#define JOBD_TASKS_H
#include <stddef.h>
#include <jansson.h>

/* A task's def (from its [task#N] section) with pre_run, post_run,
 * on_error or umask: they and its command become one sh script (its `command`,
 * `shell` true) and the hook keys go.  Returns 0 (also without hooks), or
 * -EINVAL / -ENOMEM with err naming the key at fault. */
int task_hooks_wrap(json_t *def, char *err, size_t errlen);

struct arun;
/* A run's output chunk, to the log when its job has log_output: stdout
 * lines at INFO, stderr lines at WARN, each "job NAME JID: LINE". */
void task_log_output(struct arun *a, int stream, const char *buf, size_t n);

#endif
