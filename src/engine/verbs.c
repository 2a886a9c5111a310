/* verbs.c — the engine's verbs for its callers (engine/engine_api.h):
 * what a face or cmd/jobd.c may ask of the engine, so that none of them
 * reads or writes struct engine's fields. */
#include <errno.h>
#include <stdlib.h>

#include "core/jid.h"
#include "core/timefmt.h"
#include "engine/engine.h"
#include "engine/storeq.h"

/* ---- lifecycle ---- */

struct engine *engine_new(void)
{
	return calloc(1, sizeof(struct engine));
}

void engine_free(struct engine *e)
{
	free(e);
}

void engine_shutdown_now(struct engine *e, void (*done)(struct engine *))
{
	uv_timer_stop(&e->shutdown_timer);
	e->cfg.shutdown_grace = 0;
	engine_shutdown(e, done);
}

int engine_shutting_down(const struct engine *e)
{
	return e->shutting_down;
}

/* ---- what the engine is ---- */

const struct config *engine_config(const struct engine *e)
{
	return &e->cfg;
}

uv_loop_t *engine_loop(const struct engine *e)
{
	return e->loop;
}

uid_t engine_uid(const struct engine *e)
{
	return e->uid;
}

int engine_is_root(const struct engine *e)
{
	return e->is_root;
}

void engine_stats(const struct engine *e, struct engine_stats *st)
{
	st->started = e->started;
	st->store = store_describe(e->rstore);
	st->n_jobs = e->n_jobs;
	st->n_targets = e->n_targets;
	st->n_running = e->n_running;
	st->n_waiting = e->n_waiting;
	st->job_errors = e->job_errors;
	st->n_job_errors = e->n_job_errors;
}

/* ---- reads ---- */

void engine_read(struct engine *e, struct storeq_op *op, storeq_work_fn work,
                 storeq_done_fn done)
{
	op->work = work;
	op->done = done;
	storeq_add(e->rq, op);
}

/* ---- jobs ---- */

struct job *engine_job_at(const struct engine *e, int i)
{
	return i >= 0 && i < e->n_jobs ? e->jobs[i] : NULL;
}

int engine_job_save(struct engine *e, const struct job *j)
{
	json_t *def = job_to_json(j);
	char *text = def ? json_dumps(def, JSON_COMPACT) : NULL;
	json_decref(def);
	if (text)
		persist_job_put(e, j->name, text);
	free(text);
	return text ? 0 : -ENOMEM;
}

int engine_job_put(struct engine *e, struct job *j)
{
	int rc = engine_job_save(e, j);
	return rc < 0 ? rc : engine_job_replace(e, j);
}

int engine_job_delete(struct engine *e, const char *name)
{
	if (!engine_job_find(e, name))
		return -ENOENT;
	persist_job_put(e, name, NULL);
	return engine_job_remove(e, name);
}

/* ---- runs ---- */

static struct arun *run_at(const struct engine *e, const struct link *l)
{
	return l == &e->runs ? NULL : link_entry(l, struct arun, all);
}

struct arun *engine_run_next(const struct engine *e, const struct arun *a)
{
	return run_at(e, a ? a->all.next : e->runs.next);
}

struct arun *engine_run_prev(const struct engine *e, const struct arun *a)
{
	return run_at(e, a ? a->all.prev : e->runs.prev);
}

void engine_jid_next(struct engine *e, char *jid)
{
	jid_next(jid, now_us(), &e->last_jid);
}

/* ---- targets ---- */

struct target *engine_target_at(const struct engine *e, int i)
{
	return i >= 0 && i < e->n_targets ? e->targets[i] : NULL;
}

struct target *engine_target_add(struct engine *e, const char *name,
                                 int concurrency)
{
	struct target *t = queue_target_add(e, name, concurrency);
	if (t)
		persist_target_put(e, name, concurrency, 0);
	return t;
}

int engine_target_remove(struct engine *e, const char *name)
{
	int rc = queue_target_remove(e, name);
	if (rc == 0)
		persist_target_del(e, name);
	return rc;
}

void engine_target_set(struct engine *e, struct target *t, int concurrency,
                       int paused)
{
	if (concurrency >= 0)
		t->concurrency = concurrency;
	if (paused >= 0)
		t->paused = paused != 0;
	persist_target_put(e, t->name, t->concurrency, t->paused);
	queue_pump(e, t);
	if (paused == 0)
		queue_poll(e, t);
}
