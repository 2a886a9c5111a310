/* ops_queue.h — the queue worker requests of the original daemon that
 * act on rows by id (private to the ops table). */
#ifndef JOBD_OPS_QUEUE_H
#define JOBD_OPS_QUEUE_H

#include <jansson.h>

struct call;
struct engine;

/* run-manual {ids: [int]}: runs rows in status manual; replies when all
 * have finished: {jobs?: {"ID": {result, code, signal, stdout, stderr}},
 * errors?: {"ID": msg}}. */
void op_run_manual(struct call *c, json_t *data);
/* send-signal {jobs: {"ID": signal}}: {"ID": bool}, false when the run is
 * not running here. */
void op_send_signal(struct call *c, json_t *data);
/* poke, register-worker: answered by the master (faces/master.c); here
 * they say this jobd is not one. */
void op_poke(struct call *c, json_t *data);
void op_register_worker(struct call *c, json_t *data);
/* The original worker's members of `status`, added to o: jobPromisesCount
 * (runs accepted or running here) and memoryUsage {rss, heapTotal,
 * heapUsed, external}. */
void queue_status_fields(struct engine *e, json_t *o, json_int_t rss);
/* 0 if c's role (enum call_role) may call the op; else fails c (-EPERM,
 * "permission denied: ...") and returns -EPERM. */
int ops_role_allows(struct call *c, const char *op);

#endif
