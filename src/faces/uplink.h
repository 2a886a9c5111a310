/* uplink.h — a worker's link to its cluster master (uplink.c). */
#ifndef JOBD_UPLINK_H
#define JOBD_UPLINK_H
#include <stddef.h>

#include "engine/engine_api.h"

/* With master_host set: connects, registers, serves the master's
 * requests, reconnects with backoff.  0 (also when there is no master)
 * or < 0 naming why in err. */
int uplink_start(struct engine *e, char *err, size_t errlen);
/* Closes the link (jobd's shutdown). */
void uplink_stop(void);
#endif
