/* master.h — the cluster master (role = master; docs/cluster.md): the
 * workers that registered over their own connections to the wire port, and
 * the master's requests (poke, status, run-manual, send-signal, pause,
 * continue, workers) answered by routing them to those workers.  It sits
 * in front of the local engine as ops.h's route hook, so what a caller may
 * ask is decided by the ops table first. */
#ifndef JOBD_MASTER_H
#define JOBD_MASTER_H

#include "core/wire.h"
#include "engine/engine_api.h"

struct call;

struct conn;
struct mworker;

/* Becomes the master of jobd's engine e: installs the route hook and the
 * ping timer.  0 or < 0 (naming why in err). */
int master_start(struct engine *e, char *err, size_t errlen);
/* Drops the workers and the hook (jobd's shutdown). */
void master_stop(void);

/* server_io.c: register-worker {name, targets, labels?} arrived on cn
 * (a handshake of the connection, like the password: the master's
 * requests go back over it).  -ENOENT when this jobd is no master (the
 * request then goes to the ops table, which says so); else 0, c answered. */
int master_register(struct call *c, struct conn *cn, json_t *data);
/* server_io.c: a response or pong of the worker registered over cn. */
void master_heard(struct conn *cn, const struct wire_msg *m);
/* server.c: cn, over which a worker registered, is closing. */
void master_lost(struct conn *cn);
#endif
