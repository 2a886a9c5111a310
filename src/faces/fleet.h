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
#endif
