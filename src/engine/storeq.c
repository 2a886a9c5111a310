/* storeq.c — the store thread (storeq.h says what it promises).
 *
 * One thread, not libuv's pool: the store is one connection, used by one
 * thread at a time, and batches must commit in order; a pool would add
 * nothing but hand-offs.  The loop side gathers ops into `gather`; a
 * uv_check (end of each loop turn) hands it over when nothing is in flight;
 * the thread runs it and posts it back through a uv_async; the async hands
 * over the next.  So a burst of writes coalesces into few transactions
 * without a timer, and an idle daemon commits at once. */
#include "engine/storeq.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/log.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
/* Two batches in flight: the thread commits one while the loop answers
 * the last one's requests and gathers the next (a pipeline, not turns). */
#define MAX_IN_FLIGHT 2

struct batch {
	struct batch *next;
	struct storeq_op *first, **last;
	int n_work;              /* ops with work: 0 needs no transaction */
	int n_eager;             /* ops that are not lazy (barriers count) */
	int rc;
	char err[256];
	/* the store thread's: begin to commit of the attempt that committed
	 * (0: none), read on the loop once the batch is handed back */
	uint64_t commit_ns;
};

struct storeq {
	struct store *s;
	uv_thread_t thread;
	uv_mutex_t mu;
	uv_cond_t cv;            /* thread: work or stop; close: a batch done */
	uv_async_t async;
	uv_check_t check;
	uv_timer_t lazy;         /* hands over a batch of lazy ops alone */
	struct batch *gather;    /* loop only */
	int in_flight;           /* loop only: batches handed over, dones not
	                            yet run (at most MAX_IN_FLIGHT) */
	uint64_t seq;            /* ops ever added */
	uint64_t batch_no;       /* the gathering batch's number */
	/* under mu */
	struct batch *todo, **todo_last;          /* for the thread, FIFO */
	struct batch *finished, **finished_last;  /* for the loop, FIFO */
	int stop;
	int fail_fast;
	int open_handles;        /* close: q is freed with the last */
	void (*on_commit)(void *arg, double seconds);   /* loop only */
	void *on_commit_arg;
};

static struct batch *batch_new(void)
{
	struct batch *b = calloc(1, sizeof *b);
	if (b)
		b->last = &b->first;
	return b;
}

/* ---- the store thread ---- */

/* Sleeps ms unless asked to stop; 1 when asked. */
static int nap(struct storeq *q, int ms)
{
	uv_mutex_lock(&q->mu);
	if (!q->stop)
		uv_cond_timedwait(&q->cv, &q->mu, (uint64_t)ms * 1000000u);
	int stop = q->stop;
	uv_mutex_unlock(&q->mu);
	return stop;
}

/* One attempt: 0 committed, -EAGAIN try again later, else failed. */
static int batch_try(struct storeq *q, struct batch *b, int replay)
{
	struct store *s = q->s;
	uint64_t t0 = uv_hrtime();
	b->err[0] = '\0';
	int rc = store_begin(s);
	if (rc < 0)
		return store_unavailable(s) || rc == -EBUSY ? -EAGAIN : rc;
	for (struct storeq_op *op = b->first; op; op = op->next) {
		op->rc = op->work ? op->work(s, op, replay) : 0;
		if (op->rc < 0 && store_unavailable(s)) {
			store_rollback(s);
			return -EAGAIN;
		}
		if (op->rc < 0 && op->must) {
			snprintf(b->err, sizeof b->err, "%s", store_error(s));
			store_rollback(s);
			return op->rc;
		}
	}
	rc = store_commit(s);
	if (rc == 0) {
		b->commit_ns = uv_hrtime() - t0;
		return 0;
	}
	int again = store_unavailable(s) || rc == -EBUSY;
	snprintf(b->err, sizeof b->err, "%s", store_error(s));
	store_rollback(s);
	return again ? -EAGAIN : rc;
}

static void batch_run(struct storeq *q, struct batch *b)
{
	int backoff = 0, replay = 0;
	for (;;) {
		int rc = batch_try(q, b, replay);
		if (rc == -EAGAIN && q->fail_fast) {
			snprintf(b->err, sizeof b->err, "%s", store_error(q->s));
			b->rc = -EIO;
			return;
		}
		if (rc != -EAGAIN) {
			if (rc < 0 && !b->err[0])
				snprintf(b->err, sizeof b->err, "%s",
				         store_error(q->s));
			if (backoff && rc == 0)
				log_info("store: available again; the held writes "
				         "are committed");
			if (rc < 0)
				log_error("store: commit failed: %s; its writes are "
				          "rolled back", b->err);
			b->rc = rc;
			return;
		}
		if (!backoff)
			log_error("store: unavailable (%s); holding the writes and "
			          "retrying", store_error(q->s));
		/* the commit may have reached the server before the link
		 * broke: from now on ops must not repeat what may be done */
		replay = 1;
		backoff = backoff ? backoff * 2 : BACKOFF_MIN_MS;
		if (backoff > BACKOFF_MAX_MS)
			backoff = BACKOFF_MAX_MS;
		if (nap(q, backoff)) {
			b->rc = -ECANCELED;
			snprintf(b->err, sizeof b->err, "jobd stopped while the "
			         "store was unavailable");
			return;
		}
	}
}

static void thread_main(void *arg)
{
	struct storeq *q = arg;
	/* named for top -H and perf: the store's writes or its reads */
	pthread_setname_np(pthread_self(), q->fail_fast ? "jobd-read"
	                                                : "jobd-store");
	uv_mutex_lock(&q->mu);
	for (;;) {
		while (!q->todo && !q->stop)
			uv_cond_wait(&q->cv, &q->mu);
		struct batch *b = q->todo;
		if (!b)
			break;            /* stop, and nothing left */
		if (!(q->todo = b->next))
			q->todo_last = &q->todo;
		b->next = NULL;
		uv_mutex_unlock(&q->mu);
		batch_run(q, b);
		uv_mutex_lock(&q->mu);
		*q->finished_last = b;
		q->finished_last = &b->next;
		uv_cond_broadcast(&q->cv);
		uv_async_send(&q->async);
	}
	uv_mutex_unlock(&q->mu);
}

/* ---- the loop side ---- */

static void complete(struct storeq *q, struct batch *b);
static void on_lazy(uv_timer_t *t);

/* force: a batch of lazy ops goes too (their time is up, or closing) */
static void hand_over(struct storeq *q, int force)
{
	/* barriers alone need no transaction: done here, in order */
	while (!q->in_flight && q->gather && !q->gather->n_work) {
		struct batch *g = q->gather;
		q->gather = NULL;
		q->in_flight++;          /* complete() counts it back */
		complete(q, g);
	}
	if (q->in_flight >= MAX_IN_FLIGHT || !q->gather || !q->gather->n_work)
		return;
	if (!q->gather->n_eager && !force) {
		if (!uv_is_active((uv_handle_t *)&q->lazy))
			uv_timer_start(&q->lazy, on_lazy, STOREQ_LAZY_MS, 0);
		return;
	}
	uv_timer_stop(&q->lazy);
	struct batch *b = q->gather;
	q->gather = NULL;
	q->batch_no++;
	q->in_flight++;
	for (struct storeq_op *op = b->first; op; op = op->next)
		if (op->prepare)
			op->prepare(op);
	uv_mutex_lock(&q->mu);
	*q->todo_last = b;
	q->todo_last = &b->next;
	uv_cond_broadcast(&q->cv);
	uv_mutex_unlock(&q->mu);
}

static void on_lazy(uv_timer_t *t)
{
	hand_over(t->data, 1);
}

static void complete(struct storeq *q, struct batch *b)
{
	q->in_flight--;
	if (b->commit_ns && q->on_commit)
		q->on_commit(q->on_commit_arg, (double)b->commit_ns / 1e9);
	for (struct storeq_op *op = b->first, *next; op; op = next) {
		next = op->next;          /* done may free op */
		if (op->done)
			op->done(op, b->rc < 0 ? b->rc : op->rc, b->err);
	}
	free(b);
}

static struct batch *take_finished(struct storeq *q)
{
	uv_mutex_lock(&q->mu);
	struct batch *b = q->finished;
	if (b && !(q->finished = b->next))
		q->finished_last = &q->finished;
	uv_mutex_unlock(&q->mu);
	if (b)
		b->next = NULL;
	return b;
}

static void on_async(uv_async_t *h)
{
	struct storeq *q = h->data;
	struct batch *b;
	while ((b = take_finished(q)))
		complete(q, b);
	hand_over(q, 0);    /* what gathered meanwhile */
}

static void on_check(uv_check_t *h)
{
	hand_over(h->data, 0);
}

int storeq_open(uv_loop_t *loop, struct store *s, int fail_fast,
                struct storeq **out)
{
	struct storeq *q = calloc(1, sizeof *q);
	if (!q)
		return -ENOMEM;
	q->s = s;
	q->fail_fast = fail_fast;
	q->todo_last = &q->todo;
	q->finished_last = &q->finished;
	if (uv_mutex_init(&q->mu) < 0)
		goto error_mu;
	if (uv_cond_init(&q->cv) < 0)
		goto error_cv;
	if (uv_async_init(loop, &q->async, on_async) < 0)
		goto error_async;
	q->async.data = q;
	uv_check_init(loop, &q->check);
	q->check.data = q;
	uv_check_start(&q->check, on_check);
	uv_unref((uv_handle_t *)&q->check);
	uv_timer_init(loop, &q->lazy);
	q->lazy.data = q;
	uv_unref((uv_handle_t *)&q->lazy);
	uv_unref((uv_handle_t *)&q->async);
	if (uv_thread_create(&q->thread, thread_main, q) < 0)
		goto error_thread;
	*out = q;
	return 0;
error_thread:
	uv_close((uv_handle_t *)&q->check, NULL);
	uv_close((uv_handle_t *)&q->lazy, NULL);
	uv_close((uv_handle_t *)&q->async, NULL);
	/* the handles are closed on the loop's next turn: q must outlive
	 * them, a small leak on a failure that ends the daemon anyway */
	return -EAGAIN;
error_async:
	uv_cond_destroy(&q->cv);
error_cv:
	uv_mutex_destroy(&q->mu);
error_mu:
	free(q);
	return -ENOMEM;
}

void storeq_add(struct storeq *q, struct storeq_op *op)
{
	if (!q->gather && !(q->gather = batch_new())) {
		/* no memory for a batch: the op fails at once */
		if (op->done)
			op->done(op, -ENOMEM, "out of memory");
		return;
	}
	op->next = NULL;
	*q->gather->last = op;
	q->gather->last = &op->next;
	q->gather->n_work += op->work != NULL;
	q->gather->n_eager += !op->lazy;
	q->seq++;
}

void storeq_kick(struct storeq *q)
{
	/* a batch of barriers alone would complete here, inside the caller:
	 * those wait for the end of the turn */
	if (q->gather && q->gather->n_eager && q->gather->n_work)
		hand_over(q, 0);
}

void storeq_hurry(struct storeq *q)
{
	if (q->gather)
		q->gather->n_eager++;
}

int storeq_idle(const struct storeq *q)
{
	return !q->gather && !q->in_flight;
}

uint64_t storeq_gathering(const struct storeq *q)
{
	return q->batch_no;
}

uint64_t storeq_seq(const struct storeq *q)
{
	return q->seq;
}

void storeq_on_commit(struct storeq *q, void (*fn)(void *, double),
                      void *arg)
{
	q->on_commit = fn;
	q->on_commit_arg = arg;
}

int storeq_backlog(const struct storeq *q)
{
	return (q->gather != NULL) + q->in_flight;
}

static void free_handle(uv_handle_t *h)
{
	struct storeq *q = h->data;
	if (--q->open_handles == 0)
		free(q);
}

void storeq_close(struct storeq *q, int timeout_ms)
{
	uint64_t deadline = uv_hrtime() + (uint64_t)timeout_ms * 1000000u;
	struct batch *b;

	if (!q)
		return;
	for (;;) {
		hand_over(q, 1);
		if (!q->in_flight)
			break;
		uv_mutex_lock(&q->mu);
		while (!q->finished && uv_hrtime() < deadline)
			uv_cond_timedwait(&q->cv, &q->mu, 10000000u);
		uv_mutex_unlock(&q->mu);
		if (!(b = take_finished(q))) {
			log_error("store: still unavailable after %d ms; giving up "
			          "on %d unsaved batch%s", timeout_ms,
			          storeq_backlog(q),
			          storeq_backlog(q) == 1 ? "" : "es");
			break;
		}
		complete(q, b);
	}
	uv_mutex_lock(&q->mu);
	q->stop = 1;
	uv_cond_broadcast(&q->cv);
	uv_mutex_unlock(&q->mu);
	uv_thread_join(&q->thread);
	/* the batches the thread gave up on (stop during an outage) */
	while ((b = take_finished(q)))
		complete(q, b);
	if (q->gather) {
		struct batch *g = q->gather;
		q->gather = NULL;
		g->rc = -ECANCELED;
		snprintf(g->err, sizeof g->err, "jobd stopped");
		q->in_flight++;
		complete(q, g);
	}
	uv_mutex_destroy(&q->mu);
	uv_cond_destroy(&q->cv);
	q->open_handles = 3;
	uv_close((uv_handle_t *)&q->check, free_handle);
	uv_close((uv_handle_t *)&q->lazy, free_handle);
	uv_close((uv_handle_t *)&q->async, free_handle);
}
