/* storeq.h — the store thread: the loop hands store work to one thread,
 * which runs it in transactions (group commit) and reports back on the
 * loop.  The loop never waits for the store.
 *
 * An op is a piece of store work embedded in the caller's own struct: `work`
 * runs on the store thread with the store; `done` runs afterwards on the
 * loop thread, in the order the ops were added.  Ops added on one loop turn
 * share a batch: one transaction.  While a batch is in flight the next one
 * gathers ops; it is handed over when the first is done.  A batch of lazy
 * ops alone waits (op.lazy).
 *
 * A batch whose store is unavailable (connection lost, server restarting:
 * store_unavailable) is rolled back and run again, from its first op, with
 * back-off (100 ms doubling to 5 s), until it commits: nothing handed over
 * is dropped by an outage.  `replay` tells an op it runs again after a
 * commit whose outcome is unknown (the connection died while committing),
 * so it must not do twice what may already be done.  Any other failure
 * ends the batch: every op's done gets the error. */
#ifndef JOBD_STOREQ_H
#define JOBD_STOREQ_H

#include <uv.h>

#include "store/store.h"

struct storeq_op;
/* On the store thread: 0, or a negative errno that is this op's result
 * (it does not fail the batch, unless the op is a `must`). */
typedef int (*storeq_work_fn)(struct store *s, struct storeq_op *op,
                              int replay);
/* On the loop: rc is the op's result, or the batch's failure (err says
 * what).  May free the op. */
typedef void (*storeq_done_fn)(struct storeq_op *op, int rc, const char *err);

struct storeq_op {
	struct storeq_op *next;
	storeq_work_fn work;     /* NULL: a barrier (only done) */
	storeq_done_fn done;
	/* NULL, or called on the loop as its batch is handed to the thread:
	 * the last moment to take what work will write */
	void (*prepare)(struct storeq_op *op);
	int must;                /* its failure fails the whole batch */
	/* may wait, up to STOREQ_LAZY_MS, for a batch that other (eager) ops
	 * send: a write nobody waits for rides with the next one, or is
	 * replaced by a later write of the same row while it gathers */
	int lazy;
	int rc;
};

#define STOREQ_LAZY_MS 500

struct storeq;

/* fail_fast: an unavailable store fails the batch at once instead of
 * being waited for (reads: better an error now than an answer later). */
int storeq_open(uv_loop_t *loop, struct store *s, int fail_fast,
                struct storeq **out);
/* Adds op to the gathering batch. */
void storeq_add(struct storeq *q, struct storeq_op *op);
/* An op of the gathering batch stopped being lazy (its caller cleared
 * op->lazy): the batch goes at the end of the turn. */
void storeq_hurry(struct storeq *q);
/* Hands the gathering batch to the thread now, if it has room, instead of
 * at the end of the loop turn: for a caller at a consistent point of a
 * long turn (between two requests of one read), so the commit overlaps the
 * rest of the turn. */
void storeq_kick(struct storeq *q);
/* 1 when nothing is gathering or in flight: a barrier would complete at
 * once. */
int storeq_idle(const struct storeq *q);
/* The gathering batch's number: it changes when the batch is handed to
 * the thread; until then an op added with this number may still be
 * changed in place (its work has not started). */
uint64_t storeq_gathering(const struct storeq *q);
/* How many ops were ever added: a caller that compares two readings
 * learns whether it wrote anything in between. */
uint64_t storeq_seq(const struct storeq *q);
/* fn(arg, seconds) on the loop for each batch that committed: how long
 * its transaction took on the thread, begin to commit (the attempt that
 * committed).  NULL: none. */
void storeq_on_commit(struct storeq *q, void (*fn)(void *, double),
                      void *arg);
/* Batches not yet committed (gathering + in flight), for status. */
int storeq_backlog(const struct storeq *q);
/* Hands the remaining batches to the thread, waits for them up to
 * timeout_ms (then gives up on them, logging how many), runs their dones,
 * stops the thread and frees q.  The loop must still be alive. */
void storeq_close(struct storeq *q, int timeout_ms);
#endif
