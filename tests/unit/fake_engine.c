/* fake_engine.c — see fake_engine.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/timefmt.h"
#include "engine/log.h"
#include "engine/storeq.h"
#include "fake_engine.h"

uint64_t fx_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void poke(uv_timer_t *t)
{
	(void)t;
}

void fx_open(struct fx *f, int64_t now)
{
	struct config c;
	char err[512] = "";

	memset(f, 0, sizeof *f);
	now_us_fake(now);
	snprintf(f->dir, sizeof f->dir, "/tmp/jobd-unit-XXXXXX");
	if (!mkdtemp(f->dir))
		fail_msg("mkdtemp failed");
	config_defaults(&c);
	free(c.state_dir);
	free(c.store);
	c.state_dir = strdup(f->dir);
	c.store = strdup("fake://unit");
	c.shutdown_grace = 0;
	assert_int_equal(uv_loop_init(&f->loop), 0);
	uv_timer_init(&f->loop, &f->poke);
	uv_timer_start(&f->poke, poke, 5, 5);
	if (engine_open(&f->e, &f->loop, &c, err, sizeof err) < 0)
		fail_msg("engine_open: %s", err);
	/* the start-up poll done: a run submitted while it lists would be
	 * found by it too (a race of its own, not what these tests test) */
	fx_settle(f, 0);
	for (int i = 0; i < f->e.n_targets; i++)
		FX_UNTIL(f, !f->e.targets[i]->polling);
}

static void stopped(struct engine *e)
{
	struct fx *f = (struct fx *)((char *)e - offsetof(struct fx, e));
	f->stopped = 1;
}

static int fx_starting(struct fx *f)
{
	for (struct link *l = f->e.runs.next; l != &f->e.runs; l = l->next)
		if (link_entry(l, struct arun, all)->starting)
			return 1;
	return 0;
}

void fx_shutdown(struct fx *f)
{
	f->shutdown = 1;
	engine_shutdown(&f->e, stopped);
}

void fx_close(struct fx *f)
{
	char cmd[128];

	/* a run whose spawn still waits for its commit would go back to
	 * accepted (a stopping engine starts nothing): let it spawn first */
	if (!f->shutdown) {
		FX_UNTIL(f, !fx_starting(f));
		fx_shutdown(f);
	}
	FX_UNTIL(f, f->stopped);
	engine_close(&f->e);
	uv_close((uv_handle_t *)&f->poke, NULL);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	fake_store_free();
	now_us_fake(0);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fail_msg("%s failed", cmd);
}

void fx_tick(struct fx *f, int64_t now)
{
	now_us_fake(now);
	scheduler_tick(&f->e);
}

void fx_settle(struct fx *f, int ms)
{
	FX_UNTIL(f, storeq_idle(f->e.sq) && storeq_idle(f->e.rq));
	uint64_t until = fx_ms() + (uint64_t)ms;
	while (fx_ms() < until)
		uv_run(&f->loop, UV_RUN_ONCE);
	FX_UNTIL(f, storeq_idle(f->e.sq) && storeq_idle(f->e.rq));
}

struct arun *fx_submit_spec(struct fx *f, const char *target, int priority,
                            int64_t not_before, const char *spec)
{
	char err[256];
	struct arun *a = NULL;
	json_t *s = json_loads(spec, 0, NULL);
	if (!s)
		fail_msg("bad spec %s", spec);
	struct run_req rq = {.trigger = TRIG_API, .spec = s, .target = target,
	                     .priority = priority, .not_before = not_before,
	                     .status = RUN_WAITING};
	if (run_enqueue(&f->e, &rq, &a, err, sizeof err) < 0)
		fail_msg("run_enqueue: %s", err);
	json_decref(s);
	return a;
}

struct arun *fx_submit(struct fx *f, const char *target, int priority,
                       int64_t not_before, const char *const *argv)
{
	json_t *v = json_array();
	for (int i = 0; argv[i]; i++)
		json_array_append_new(v, json_string(argv[i]));
	json_t *s = json_pack("{s:o}", "argv", v);
	char *text = json_dumps(s, JSON_COMPACT);
	struct arun *a = fx_submit_spec(f, target, priority, not_before, text);
	free(text);
	json_decref(s);
	return a;
}

int fx_status(const char *jid)
{
	struct run r;
	if (fake_store_row(jid, &r) < 0)
		return -1;
	int st = r.status;
	run_clear(&r);
	return st;
}

#define W(w) ((struct fx_watch *)(w))

static void w_started(struct run_watcher *w, const struct arun *a)
{
	(void)a;
	W(w)->started++;
}

static void w_output(struct run_watcher *w, const struct arun *a, int stream,
                     const char *buf, size_t n)
{
	struct fx_watch *x = W(w);
	size_t have = strlen(x->out);
	(void)a;
	(void)stream;
	if (n > sizeof x->out - 1 - have)
		n = sizeof x->out - 1 - have;
	memcpy(x->out + have, buf, n);
	x->out[have + n] = '\0';
	x->output++;
}

static void w_ended(struct run_watcher *w, const struct arun *a, int err,
                    const char *msg)
{
	struct fx_watch *x = W(w);
	(void)msg;
	x->ended++;
	x->err = err;
	x->result = a->r.result;
	x->code = a->r.return_code;
}

static const struct run_watcher_cbs w_cbs = {w_started, w_output, w_ended};

void fx_watch(struct arun *a, struct fx_watch *w)
{
	memset(w, 0, sizeof *w);
	w->w.cbs = &w_cbs;
	run_watch(a, &w->w);
}

struct job *fx_job(struct fx *f, const char *text)
{
	char err[256];
	json_t *def = json_loads(text, 0, NULL);
	struct job *j = calloc(1, sizeof *j);
	if (!def || !j)
		fail_msg("bad job %s", text);
	if (job_from_json(def, "UTC", j, err, sizeof err) < 0)
		fail_msg("job %s: %s", text, err);
	json_decref(def);
	assert_int_equal(engine_job_add(&f->e, j), 0);
	return j;
}

int fx_count(struct fx *f, const char *job, int status)
{
	int n = 0;
	for (struct link *l = f->e.runs.next; l != &f->e.runs; l = l->next) {
		struct arun *a = link_entry(l, struct arun, all);
		if ((!job || (a->r.job && strcmp(a->r.job, job) == 0)) &&
		    a->r.status == status)
			n++;
	}
	return n;
}

int fx_setup(void **state)
{
	(void)state;
	fake_store_reset();
	now_us_fake(0);
	return 0;
}
