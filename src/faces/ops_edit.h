/* ops_edit.h — the operations that edit jobs in place (private to the
 * ops table): one field of a job, and names for new jobs. */
#ifndef JOBD_OPS_EDIT_H
#define JOBD_OPS_EDIT_H

#include <jansson.h>

struct call;

/* set-job {name, and one of: schedule (string or null), command
 * (string), argv (list of strings), enabled (boolean)}: replies {job}
 * (the definition as it is now).  docs/protocol.md. */
void op_set_job(struct call *c, json_t *data);
/* create's generate_name: sets def's "name" to a new job-N unless
 * data asks for no such thing; -1 when c has failed (a name was given
 * as well). */
int ops_create_name(struct call *c, json_t *data, json_t *def);

#endif
