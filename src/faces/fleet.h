/* fleet.h — lifecycle actions across workers, on the master
 * (docs/cluster.md "Lifecycle actions"). */
#ifndef JOBD_FLEET_H
#define JOBD_FLEET_H
#include <jansson.h>

#include "engine/engine_api.h"

struct call;

/* job-action {name | names, action, allocations?, health_check?, yes?}
 * (or run {name, action, ...}) on the workers the jobs are allocated to:
 * the sync check, then waves by `after`, batches, health checks; a
 * "result" event per worker as it ends, and the reply {ok, results}. */
void fleet_act(struct engine *e, struct call *c, json_t *data);
/* Appends the names of "a,b" (or "a b") text to the array out: the text
 * form of a list of names, as jobctl and the original's workers send it. */
void fleet_names_split(json_t *out, const char *text);
#endif
