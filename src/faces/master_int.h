/* master_int.h — what the master (master.c) lends the fleet actions
 * (fleet.c): its registered workers and requests to them.  Faces only. */
#ifndef JOBD_MASTER_INT_H
#define JOBD_MASTER_INT_H
#include <jansson.h>
#include <stdint.h>

struct mworker;
struct mreq;

/* A worker's answer: data (borrowed), or error (borrowed) when it failed,
 * was lost before it answered, or the master is stopping. */
typedef void (*master_reply_fn)(void *arg, json_t *data, const char *error);

/* The registered workers, lost ones too: NULL gives the first. */
struct mworker *master_worker_next(struct mworker *prev);
struct mworker *master_worker_find(const char *name);
const char *master_worker_name(const struct mworker *w);
json_t *master_worker_labels(const struct mworker *w);   /* borrowed */
int master_worker_up(const struct mworker *w);
int64_t master_worker_seq(const struct mworker *w);

/* Sends request op (data borrowed) to w; cb is called exactly once, maybe
 * before this returns (w not connected).  *out (may be NULL) is the
 * request in flight, for master_ask_drop, or NULL when already answered. */
void master_ask(struct mworker *w, const char *op, json_t *data,
                master_reply_fn cb, void *arg, struct mreq **out);
/* Its answer is no longer wanted: cb is not called for it. */
void master_ask_drop(struct mreq *r);
#endif
