/* recover.c — settles what a crash (kill -9, power loss) left in the store,
 * before anything new starts:
 *   waiting   stays waiting and goes back into its target's queue;
 *   accepted  was claimed but never started: back to waiting;
 *   running   was started: never run again.  If its process still lives
 *             (same pid *and* same start time, so a reused pid is not
 *             mistaken for it) it is killed with its group (orphans=kill)
 *             and recorded done/fail with sig=LOST; with orphans=adopt it
 *             stays running, watched through a pidfd (runs.c), and is
 *             recorded when it ends; a dead one is done/fail sig=LOST.
 * All in one transaction. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/runstate.h"
#include "core/timefmt.h"
#include "engine/engine.h"
#include "engine/log.h"
#include "engine/proc.h"

struct recover_ctx {
	struct engine *e;
	int requeued, lost, killed, waiting, adopted;
	int rc;
};

/* Returns 1 when the run was adopted (it stays running), else settles it. */
static int settle_running(struct recover_ctx *rc, struct run *r)
{
	int64_t start;
	if (r->pid <= 0)
		procfile_read(rc->e, r->jid, &r->pid, &r->pid_start);
	int alive = r->pid > 0 && proc_identity(r->pid, &start) == 0 &&
	            start == r->pid_start;
	if (alive && rc->e->cfg.orphans_adopt) {
		if (store_run_update(rc->e->store, r) == 0 &&
		    run_adopt_orphan(rc->e, r) == 0) {
			log_warn("run %s was running when jobd stopped: still alive "
			         "(pid %d), adopted", r->jid, r->pid);
			rc->adopted++;
			return 1;
		}
	}
	if (alive) {
		kill(-r->pid, SIGKILL);
		rc->killed++;
	}
	log_warn("run %s%s%s was running when jobd stopped: %s, recorded LOST",
	         r->jid, r->job ? " job=" : "", r->job ? r->job : "",
	         alive ? "killed its process group" : "process gone");
	r->status = runstate_next(r->status, EV_LOST);
	r->result = RESULT_FAIL;
	r->return_code = -1;
	snprintf(r->sig, sizeof r->sig, "LOST");
	r->time_finished = now_us();
	procfile_remove(rc->e, r->jid);
	rc->lost++;
	return 0;
}

static void recover_one(struct recover_ctx *rc, struct run *r)
{
	struct engine *e = rc->e;

	/* Workers may share one table: settle only this worker's rows.  Rows
	 * other programs INSERTed (no jid) wait for a claim by poll. */
	if (!r->jid[0] || (r->worker && e->cfg.name &&
	                   strcmp(r->worker, e->cfg.name) != 0))
		return;
	switch (r->status) {
	case RUN_ACCEPTED:
		r->status = runstate_next(r->status, EV_REQUEUE);
		rc->requeued++;
		break;
	case RUN_RUNNING:
		if (settle_running(rc, r))
			return;
		break;
	case RUN_WAITING:
		rc->waiting++;
		run_adopt_row(e, r);
		return;
	default:                    /* manual rows wait for run-manual */
		return;
	}
	if (store_run_update(e->store, r) < 0)
		rc->rc = -EIO;
	else if (r->status == RUN_WAITING)
		run_adopt_row(e, r);
}

/* Rows are collected first and settled after: no writes while a read
 * statement walks the same rows. */
struct rows {
	struct run *v;
	size_t n, cap;
};

static int collect(void *ctx, struct run *r)
{
	struct rows *rows = ctx;
	if (rows->n == rows->cap) {
		size_t cap = rows->cap ? rows->cap * 2 : 256;
		struct run *v = realloc(rows->v, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		rows->v = v;
		rows->cap = cap;
	}
	rows->v[rows->n++] = *r;
	memset(r, 0, sizeof *r);
	return 0;
}

int recover_runs(struct engine *e, char *err, size_t errlen)
{
	struct recover_ctx rc = {.e = e};
	struct run_query q = {.status = -1, .active = 1};
	struct rows rows = {0};

	if (store_run_list(e->store, &q, collect, &rows) < 0)
		goto error;
	if (store_begin(e->store) < 0)
		goto error;
	for (size_t i = 0; i < rows.n; i++)
		recover_one(&rc, &rows.v[i]);
	if (rc.rc < 0) {
		store_rollback(e->store);
		goto error;
	}
	if (store_commit(e->store) < 0)
		goto error;
	for (size_t i = 0; i < rows.n; i++)
		run_clear(&rows.v[i]);
	free(rows.v);
	if (rc.requeued || rc.lost || rc.waiting || rc.adopted)
		log_info("recovery: %d waiting, %d requeued, %d lost (%d "
		         "orphan groups killed), %d adopted",
		         rc.waiting + rc.requeued, rc.requeued, rc.lost, rc.killed,
		         rc.adopted);
	return 0;
error:
	for (size_t i = 0; i < rows.n; i++)
		run_clear(&rows.v[i]);
	free(rows.v);
	snprintf(err, errlen, "cannot recover runs from the store: %s",
	         store_error(e->store));
	return -EIO;
}
