/* runs.c — a run's life: enqueue (row written: nothing accepted is lost),
 * start (row marked running *before* the spawn, so a crash can never make
 * it run twice; pid recorded right after), output (capped, streamed to
 * watchers), finish (result, code, signal and output in one update), and
 * retries with exponential backoff.
 *
 * Every status change asks core/runstate.c first. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/jid.h"
#include "core/runstate.h"
#include "core/timefmt.h"
#include "engine/engine.h"
#include "engine/log.h"
#include "engine/metrics.h"
#include "engine/proc.h"
#include "engine/requires.h"
#include "engine/spec.h"
#include "engine/tasks.h"

static char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }

/* ---- run events (the seam: engine.h's run_watcher) ---- */

static void watchers_started(struct arun *a)
{
	for (struct link *l = a->watchers.next, *n; l != &a->watchers; l = n) {
		struct run_watcher *w = link_entry(l, struct run_watcher, link);
		n = l->next;
		if (w->cbs->started)
			w->cbs->started(w, a);
	}
}

static void watchers_output(struct arun *a, int stream, const char *buf,
                            size_t len)
{
	for (struct link *l = a->watchers.next, *n; l != &a->watchers; l = n) {
		struct run_watcher *w = link_entry(l, struct run_watcher, link);
		n = l->next;
		if (w->cbs->output)
			w->cbs->output(w, a, stream, buf, len);
	}
}

static void watchers_ended(struct arun *a, int err, const char *msg)
{
	struct link *l;
	while ((l = link_pop(&a->watchers))) {
		struct run_watcher *w = link_entry(l, struct run_watcher, link);
		w->linked = 0;
		w->cbs->ended(w, a, err, msg);
	}
}

static int set_status(struct arun *a, int ev)
{
	int next = runstate_next(a->r.status, ev);
	if (next < 0) {
		log_error("run %s: %s not allowed in status %s", a->r.jid,
		          run_event_name(ev), run_status_name(a->r.status));
		return -EINVAL;
	}
	a->r.status = next;
	return 0;
}

static void save(struct engine *e, struct arun *a)
{
	persist_run_update(e, a, 0);
}

/* A run holds a slot of its target (and counts for its job) from its
 * start, while its start commits, until it is released. */
static void slot_take(struct engine *e, struct arun *a)
{
	struct job *j = a->r.job ? engine_job_find(e, a->r.job) : NULL;
	a->has_slot = 1;
	if (!a->supervised)      /* a service runs outside the slots */
		a->target->running++;
	e->n_running++;
	if (j)
		j->running++;
}

static void slot_give(struct engine *e, struct arun *a)
{
	struct job *j = a->r.job ? engine_job_find(e, a->r.job) : NULL;
	if (!a->has_slot)
		return;
	a->has_slot = 0;
	if (!a->supervised)
		a->target->running--;
	e->n_running--;
	if (j && j->running > 0)
		j->running--;
}

/* ---- output ---- */

static void outbuf_add(struct outbuf *b, const char *data, size_t n)
{
	if (b->len + n > b->limit) {
		n = b->limit > b->len ? b->limit - b->len : 0;
		b->truncated = 1;
	}
	if (!n)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		if (cap > b->limit)
			cap = b->limit;
		char *p = realloc(b->buf, cap);
		if (!p) {
			b->truncated = 1;
			return;
		}
		b->buf = p;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, data, n);
	b->len += n;
}

static void on_output(struct proc *p, int stream, const char *buf, size_t n,
                      void *ud)
{
	struct arun *a = ud;
	(void)p;
	outbuf_add(stream == 1 ? &a->out : &a->err, buf, n);
	task_log_output(a, stream, buf, n);
	watchers_output(a, stream, buf, n);
}

/* ---- finishing ---- */

static void arun_free(struct arun *a)
{
	link_remove(&a->all);
	run_clear(&a->r);
	free(a->out.buf);
	free(a->err.buf);
	free(a);
}

static void timer_free_cb(uv_handle_t *h) { free(h); }

void arun_row(const struct arun *a, struct run *r)
{
	*r = a->r;
	r->out = a->out.buf;
	r->out_len = a->out.len;
	r->out_truncated = a->out.truncated;
	r->errout = a->err.buf;
	r->err_len = a->err.len;
	r->err_truncated = a->err.truncated;
}

void arun_unref(struct arun *a)
{
	if (--a->pending == 0 && a->released)
		arun_free(a);
}

/* Ends a run's life in memory; the struct itself goes when no store op
 * of it is in flight any more. */
static void arun_release(struct engine *e, struct arun *a)
{
	slot_give(e, a);
	link_remove(&a->all);
	if (a->timeout) {
		uv_timer_stop(a->timeout);
		uv_close((uv_handle_t *)a->timeout, timer_free_cb);
		a->timeout = NULL;
	}
	if (!a->kill_leftovers)
		proc_free(a->proc);
	else if (a->proc && proc_release(a->proc, a->kill_grace))
		log_info("run %s: processes left in its group after it ended "
		         "got SIGTERM (SIGKILL in %llds if still there)", a->r.jid,
		         (long long)((a->kill_grace + US_PER_S - 1) / US_PER_S));
	a->proc = NULL;
	if (a->pending) {
		a->released = 1;
		link_insert_before(&e->settling, &a->all);
	} else {
		arun_free(a);
	}
	if (e->shutting_down && e->n_running == 0)
		engine_idle_soon(e);
}

static void retry_maybe(struct engine *e, struct arun *a);

/* Records the end of a run: one store update with everything.  ran: it
 * had a process (or was built in): its duration is measured. */
static void run_finish(struct engine *e, struct arun *a, int ran)
{
	struct run *r = &a->r;
	struct job *j = r->job ? engine_job_find(e, r->job) : NULL;

	/* what other jobs' requires ask of this one (requires.c) */
	if (j && !r->action)
		j->last_ok = r->result == RESULT_OK ? 1 : -1;
	else if (j && strcmp(r->action, "status") == 0)
		j->status_up = r->result == RESULT_OK ? 1 : -1;
	r->time_finished = now_us();
	metrics_run_finished(e, a, ran);
	save(e, a);              /* output from the outbufs (arun_row) */
	watchers_ended(a, 0, NULL);
	log_info("run %s%s%s %s: %s code=%d%s%s", r->jid, r->job ? " job=" : "",
	         r->job ? r->job : "", run_status_name(r->status),
	         r->result == RESULT_OK ? "ok" : "fail", r->return_code,
	         r->sig[0] ? " sig=" : "", r->sig);
	if (a->supervised)
		service_ended(e, a);
}

static void on_exit_cb(struct proc *p, int code, int sig, void *ud)
{
	struct arun *a = ud;
	struct engine *e = a->e;
	struct run *r = &a->r;
	(void)p;

	set_status(a, EV_EXIT);
	r->return_code = sig ? -1 : code;
	r->result = (!sig && code == 0) ? RESULT_OK : RESULT_FAIL;
	if (sig)
		snprintf(r->sig, sizeof r->sig, "%s", signal_name(sig));
	procfile_remove(e, r->jid);
	run_finish(e, a, 1);
	if (r->result == RESULT_FAIL && !a->cancelled && !e->shutting_down &&
	    !a->supervised)      /* a service restarts instead (service.c) */
		retry_maybe(e, a);
	struct target *t = a->target;
	arun_release(e, a);
	queue_pump(e, t);
}

/* A run that could not start: done/fail with the reason as its stderr,
 * code 127 as a shell gives for a command it cannot run. */
static void run_fail_start(struct engine *e, struct arun *a, const char *why)
{
	log_warn("run %s: cannot start: %s", a->r.jid, why);
	if (a->r.status == RUN_ACCEPTED)
		set_status(a, EV_SPAWN_FAIL);
	else
		set_status(a, EV_EXIT);
	a->r.result = RESULT_FAIL;
	a->r.return_code = 127;
	outbuf_add(&a->err, why, strlen(why));
	outbuf_add(&a->err, "\n", 1);
	run_finish(e, a, 0);
}

/* ---- starting ---- */

static void on_timeout(uv_timer_t *t)
{
	struct arun *a = t->data;

	log_warn("run %s: timed out, terminating its process group", a->r.jid);
	a->timed_out = 1;
	proc_terminate(a->proc, a->kill_grace);
}

static const struct proc_cbs run_cbs = {on_output, on_exit_cb};

/* The process runs: its pid is recorded, its proc file written. */
static void run_started(struct engine *e, struct arun *a, struct exec *x)
{
	struct run *r = &a->r;
	r->pid = proc_pid(a->proc);
	r->pid_start = proc_start_time(a->proc);
	a->retries = x->retries;
	a->backoff = x->backoff;
	a->kill_grace = x->kill_grace;
	a->kill_leftovers = x->kill_leftovers;
	/* the row is running since before the spawn; its pid (also in the
	 * proc file, which recovery reads) may wait for company: a short
	 * run's pid and end are then one write */
	persist_run_update(e, a, 1);
	procfile_write(e, a);
	if (x->timeout > 0 && (a->timeout = malloc(sizeof *a->timeout))) {
		uv_timer_init(e->loop, a->timeout);
		a->timeout->data = a;
		uv_timer_start(a->timeout, on_timeout,
		               (uint64_t)((x->timeout + 999) / 1000), 0);
	}
	if (a->stop_signal == SIGTERM) {   /* run_stop while it was starting */
		a->kill_leftovers = 1;
		proc_terminate(a->proc, a->kill_grace);
	}
	log_debug("run %s started: pid %d", r->jid, r->pid);
	metrics_run_started(e, a);
	watchers_started(a);
}

/* A built-in run: the queue's whole path (stored, claimed, started,
 * finished) without a process. */
static int run_builtin(struct engine *e, struct arun *a)
{
	set_status(a, EV_EXIT);
	a->r.result = RESULT_OK;
	a->r.return_code = 0;
	metrics_run_started(e, a);
	run_finish(e, a, 1);
	arun_release(e, a);
	return 0;
}

/* The start's commit failed: the run must not start now.  A run whose
 * creation failed with it is gone (run_forget); any other goes back to its
 * queue, accepted, to be tried again in a second. */
static void run_unstart(struct engine *e, struct arun *a, const char *why)
{
	slot_give(e, a);
	if (a->forgotten) {
		arun_release(e, a);
		return;
	}
	log_warn("run %s: not started, the store did not take its start: %s",
	         a->r.jid, why);
	a->r.status = RUN_ACCEPTED;
	a->r.time_started = 0;
	a->r.time_not_before = now_us() + US_PER_S;
	queue_push(e, a);
	queue_pump(e, a->target);     /* arms the queue's timer for it */
}

void run_forget(struct engine *e, struct arun *a, const char *why)
{
	char msg[320];
	log_error("run %s: dropped, its creation was not stored: %s", a->r.jid,
	          why);
	snprintf(msg, sizeof msg, "run %s was not stored: %s", a->r.jid, why);
	if (!link_empty(&a->qlink))
		queue_unlink(e, a);
	watchers_ended(a, -EIO, msg);
	if (a->starting) {      /* run_start finishes the job */
		a->forgotten = 1;
		return;
	}
	arun_release(e, a);
}

/* jobd began to stop while the start waited for its commit: a stopping
 * engine starts nothing (once the grace is over nothing would stop it).
 * The committed running row goes back to accepted, which the next start
 * queues again (recover.c), and the run waits in memory until then. */
static void run_unspawn(struct engine *e, struct arun *a)
{
	slot_give(e, a);
	log_info("run %s: not started, jobd is stopping; it runs at the next "
	         "start", a->r.jid);
	a->r.status = RUN_ACCEPTED;
	a->r.time_started = 0;
	persist_run_update(e, a, 0);
	queue_push(e, a);
	if (e->n_running == 0)
		engine_idle_soon(e);
}

/* Its start committed: unless the claim or the commit failed, the spawn
 * waits for its turn (spawnq.c), the run still starting and held. */
static void run_committed(void *arg, int rc, const char *why)
{
	struct arun *a = arg;
	struct engine *e = a->e;
	struct exec *x = a->x;

	if (a->forgotten || (rc >= 0 && a->claim_rc >= 0 && !a->lease_lost &&
	                     !x->fail)) {
		spawnq_push(e, a);      /* run_spawn: forgotten, stopping or spawned */
		return;
	}
	a->x = NULL;
	a->starting = 0;
	/* run_start's hold ends here (a starting run is never released, only
	 * forgotten): from here on arun_release may free a */
	a->pending--;
	if (a->claim_rc == -EBUSY || a->claim_rc == -ENOENT) {
		log_info("run %s: another worker has its row; not starting it",
		         a->r.jid);
		run_drop(e, a);
	} else if (a->lease_lost) {
		run_drop(e, a);         /* persist.c said why */
	} else if (rc < 0 || a->claim_rc < 0) {
		run_unstart(e, a, rc < 0 ? why : "cannot claim its row");
	} else {
		run_fail_start(e, a, x->fail);
		arun_release(e, a);
	}
	exec_free(x);
	free(x);
}

/* The spawn, its turn come: unless the run was forgotten or jobd stops. */
void run_spawn(struct engine *e, struct arun *a)
{
	struct exec *x = a->x;
	char err[512];

	a->x = NULL;
	a->starting = 0;
	a->pending--;           /* run_start's hold (see run_committed) */
	if (a->forgotten) {
		arun_release(e, a);
	} else if (e->shutting_down) {
		run_unspawn(e, a);
	} else {
		struct proc_spec ps = {x->argv, x->env, x->cwd, x->set_ids,
		                       x->uid, x->gid};
		/* the start is the spawn, not the claim: the commit before it
		 * may have waited (a busy or locked store) */
		a->r.time_started = now_us();
		if (proc_start(e->loop, &ps, &run_cbs, a, &a->proc, err,
		               sizeof err) < 0) {
			run_fail_start(e, a, err);
			arun_release(e, a);
		} else {
			run_started(e, a, x);
		}
	}
	exec_free(x);
	free(x);
}

/* Starts an accepted (or waiting: claimed first) run: its running row is
 * handed to the store, the spawn waits for its commit (run_committed).  0 when
 * under way; otherwise the run is finished (failed) and released, and -1
 * is returned. */
int run_start(struct engine *e, struct arun *a)
{
	struct run *r = &a->r;
	struct exec *x = calloc(1, sizeof *x);
	char err[512] = "out of memory";

	/* a row INSERTed by another program carries no command: it runs the
	 * config's launcher, whose spec is kept with the run from now on */
	if (!x) {
		run_fail_start(e, a, err);
		arun_release(e, a);
		return -1;
	}
	/* A run that cannot start (unknown user, missing cwd, no launcher)
	 * still goes through its claim and start: a waiting row must end
	 * `fail` once, by the worker that claimed it, and not stay waiting to
	 * be claimed and fail again after every restart.  run_committed fails it. */
	if ((!r->spec && !(r->spec = spec_from_launcher(&e->cfg, r, err,
	                                                 sizeof err))) ||
	    spec_prepare(r->spec, r, e->is_root, x, err, sizeof err) < 0) {
		if (!(x->fail = strdup(err))) {
			free(x);
			run_fail_start(e, a, err);
			arun_release(e, a);
			return -1;
		}
	}
	free(r->user);
	r->user = xstrdup(x->user);
	/* a waiting row is claimed first: another worker may poll it too */
	a->claim_rc = 0;
	if (r->status == RUN_WAITING) {
		persist_claim(e, a, r->id, RUN_WAITING, r->jid, NULL, NULL, NULL);
		set_status(a, EV_CLAIM);
	}
	set_status(a, EV_START);
	r->time_started = now_us();
	save(e, a);
	slot_take(e, a);
	if (x->builtin && !x->fail) {
		exec_free(x);
		free(x);
		return run_builtin(e, a);
	}
	a->x = x;
	a->starting = 1;
	a->pending++;            /* run_committed's, then run_spawn's */
	persist_flush(e, run_committed, a);
	return 0;
}

/* ---- creating ---- */

/* A run in memory, of target t, with nothing in its row yet: the one
 * setup of a new run (arun_new) and of a stored one (run_adopt_row). */
static struct arun *arun_alloc(struct engine *e, struct target *t)
{
	struct arun *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->e = e;
	a->target = t;
	link_init(&a->all);
	link_init(&a->qlink);
	link_init(&a->slink);
	link_init(&a->watchers);
	a->out.limit = a->err.limit = (size_t)e->cfg.output_cap;
	return a;
}

static struct arun *arun_new(struct engine *e, const struct run_req *rq,
                             char *spec_text, struct target *t)
{
	struct arun *a = arun_alloc(e, t);
	if (!a) {
		free(spec_text);
		return NULL;
	}
	struct run *r = &a->r;
	r->return_code = -1;
	jid_next(r->jid, now_us(), &e->last_jid);
	r->job = rq->job ? strdup(rq->job->name) : NULL;
	r->action = xstrdup(rq->action);
	r->target = strdup(t->name);
	r->trigger = rq->trigger;
	r->attempt = 1;
	r->priority = rq->priority;
	r->status = rq->status;
	r->time_created = e->last_jid;     /* the jid is the creation time */
	r->time_not_before = rq->not_before;
	r->spec = spec_text;
	r->uid = rq->uid;
	r->worker = xstrdup(e->cfg.name);
	return a;
}

/* Adopts a run whose row is already stored, j being its job if any. */
static void arun_attach_job(struct engine *e, struct arun *a, struct job *j)
{
	link_insert_before(&e->runs, &a->all);
	/* accepted: claimed from the store by poll or run-manual */
	if (a->r.status == RUN_WAITING || a->r.status == RUN_ACCEPTED) {
		queue_push(e, a);
		if (j)
			j->queued++;
	}
}

/* ... for a run whose job is known by name only (retry, recovery) */
static void arun_attach(struct engine *e, struct arun *a)
{
	arun_attach_job(e, a, a->r.job ? engine_job_find(e, a->r.job) : NULL);
}

/* A copy of spec text `spec` (a JSON object) that says its fire time:
 * {"fire_time":US,...}, spliced rather than parsed (a burst of fires). */
static char *spec_with_fire(const char *spec, int64_t fire)
{
	char head[48];
	if (fire <= 0 || spec[0] != '{')
		return strdup(spec);
	int n = snprintf(head, sizeof head, "{\"fire_time\":%lld%s",
	                 (long long)fire, spec[1] == '}' ? "" : ",");
	size_t len = strlen(spec + 1);
	char *t = malloc((size_t)n + len + 1);
	if (t) {
		memcpy(t, head, (size_t)n);
		memcpy(t + n, spec + 1, len + 1);
	}
	return t;
}

/* A run in memory only: its jid and creation time, its spec; run_store
 * writes its row and queues it. */
int run_create(struct engine *e, const struct run_req *rq, struct arun **out,
               char *err, size_t errlen)
{
	const char *tname = rq->target ? rq->target
	                  : rq->job ? rq->job->target : "default";
	struct target *t = queue_target(e, tname ? tname : "default");
	json_t *spec;
	char *text;

	if (!t) {
		snprintf(err, errlen, "invalid target '%s'", tname);
		return -ENOENT;
	}
	if (rq->job && !rq->action && rq->retries <= 0) {
		/* the job's own command: the spec is the same every time */
		if (!rq->job->spec)
			rq->job->spec = spec_from_job(rq->job, NULL, 0, err, errlen);
		text = rq->job->spec ? spec_with_fire(rq->job->spec,
		                                      rq->fire_time) : NULL;
	} else if (rq->job) {
		text = spec_from_job(rq->job, rq->action, rq->retries, err,
		                     errlen);
		if (!text)
			return -ENOENT;
	} else {
		spec = json_deep_copy(rq->spec);
		if (rq->retries > 0)
			json_object_set_new(spec, "retries",
			                    json_integer(rq->retries));
		text = json_dumps(spec, JSON_COMPACT);
		json_decref(spec);
	}
	*out = text ? arun_new(e, rq, text, t) : NULL;
	return *out ? 0 : -ENOMEM;
}

/* Stores a created run and puts it in its queue; on failure it is freed. */
int run_store(struct engine *e, struct arun *a, struct job *j, char *err,
              size_t errlen)
{
	char why[256];
	int rc = store_run_check(&a->r, why, sizeof why);
	if (rc == 0 && (rc = persist_run_insert(e, a)) < 0)
		snprintf(why, sizeof why, "out of memory");
	if (rc < 0) {
		snprintf(err, errlen, "cannot store the run: %s", why);
		arun_free(a);
		return rc;
	}
	arun_attach_job(e, a, j);
	return 0;
}

int run_enqueue(struct engine *e, const struct run_req *rq, struct arun **out,
                char *err, size_t errlen)
{
	/* here, not in a face: no face can run it unconfirmed */
	if (rq->job && rq->trigger == TRIG_MANUAL && rq->job->confirm &&
	    !rq->confirmed) {
		snprintf(err, errlen, "run aborted: job '%s' needs confirmation "
		         "(run it from a terminal to be asked, or pass --yes)",
		         rq->job->name);
		return -ECANCELED;
	}
	/* a manual run of the command with unmet requires is an error that
	 * names the item, whoever asks (the scheduler skips instead) */
	int rc = rq->job && rq->trigger == TRIG_MANUAL && !rq->action
	         ? job_requires_met(e, rq->job, err, errlen) : 0;
	if (rc == 0)
		rc = run_create(e, rq, out, err, errlen);
	return rc < 0 ? rc : run_store(e, *out, rq->job, err, errlen);
}

/* Retries a failed run: a new row linked to the first attempt, not before
 * backoff * 2^(attempt-1) (capped at an hour) plus up to 10 % jitter. */
static void retry_maybe(struct engine *e, struct arun *a)
{
	const struct run *r = &a->r;
	if (r->attempt > a->retries)
		return;
	int64_t base = a->backoff > 0 ? a->backoff : 10 * US_PER_S;
	int64_t delay = base;
	for (int i = 1; i < r->attempt && delay < 3600 * US_PER_S; i++)
		delay *= 2;
	if (delay > 3600 * US_PER_S)
		delay = 3600 * US_PER_S;
	delay += delay / 10 ? rand() % (delay / 10) : 0;

	struct run_req rq = {.trigger = TRIG_RETRY, .priority = r->priority,
	                     .uid = r->uid, .status = RUN_WAITING,
	                     .not_before = now_us() + delay};
	struct arun *b = arun_new(e, &rq, xstrdup(r->spec), a->target);
	if (!b)
		return;
	b->r.job = xstrdup(r->job);
	b->r.action = xstrdup(r->action);
	b->r.attempt = r->attempt + 1;
	snprintf(b->r.parent, sizeof b->r.parent, "%s",
	         r->parent[0] ? r->parent : r->jid);
	if (persist_run_insert(e, b) < 0) {
		log_error("run %s: cannot store its retry: out of memory",
		          r->jid);
		arun_free(b);
		return;
	}
	arun_attach(e, b);
	log_info("run %s failed; retry %d of %d as %s in %.1fs", r->jid,
	         r->attempt, a->retries, b->r.jid, (double)delay / US_PER_S);
}

/* Recovery, poll and run-manual hand over rows read from the store. */
struct arun *run_adopt_row(struct engine *e, struct run *row)
{
	/* Rows INSERTed by other programs have no jid until they are claimed
	 * (the claim stores this one: store_run_claim keeps a jid a row
	 * has), and the seed queue's time_created in unix seconds: jobd's
	 * microseconds are >= 10^12 for any time after 2001-09-09. */
	if (!row->jid[0])
		jid_next(row->jid, now_us(), &e->last_jid);
	if (row->time_created <= 0)
		row->time_created = now_us();
	else if (row->time_created < 1000000000000LL)
		row->time_created *= US_PER_S;
	struct target *t = queue_target(e, row->target);
	if (!t)
		t = queue_target_add(e, row->target, 1);
	struct arun *a = t ? arun_alloc(e, t) : NULL;
	if (!a)
		return NULL;
	a->r = *row;
	memset(row, 0, sizeof *row);
	arun_attach(e, a);
	return a;
}

/* ---- control ---- */

static struct arun *find_in(struct link *list, const char *jid)
{
	for (struct link *l = list->next; l != list; l = l->next) {
		struct arun *a = link_entry(l, struct arun, all);
		if (strcmp(a->r.jid, jid) == 0)
			return a;
	}
	return NULL;
}

struct arun *run_find(struct engine *e, const char *jid)
{
	struct arun *a = find_in(&e->runs, jid);
	return a ? a : find_in(&e->settling, jid);
}

struct arun *run_find_id(struct engine *e, int64_t id)
{
	for (struct link *l = e->runs.next; l != &e->runs; l = l->next) {
		struct arun *a = link_entry(l, struct arun, all);
		if (a->r.id == id)
			return a;
	}
	return NULL;
}

void run_drop(struct engine *e, struct arun *a)
{
	if (!link_empty(&a->qlink))
		queue_unlink(e, a);
	watchers_ended(a, 0, NULL);   /* watchers get the run as it was */
	arun_release(e, a);
}

int run_signal(struct engine *e, struct arun *a, int sig)
{
	(void)e;
	if (a->r.status != RUN_RUNNING || (!a->proc && !a->orphan))
		return -ESRCH;
	if (sig == SIGKILL || sig == SIGTERM)
		a->stop_signal = sig;
	if (a->orphan)
		return kill(-a->r.pid, sig) < 0 ? -errno : 0;
	return proc_signal(a->proc, sig);
}

/* ---- orphans (orphans = adopt) ----
 * A run's process that outlived a crash of jobd is not jobd's child any
 * more: jobd cannot reap it nor read the rest of its output.  It watches
 * it through a pidfd, can signal its group, and records it when it ends:
 * done, exit status unknown (result fail, sig LOST). */

static void orphan_closed(uv_handle_t *h)
{
	uv_os_fd_t fd;
	if (uv_fileno(h, &fd) == 0)
		close(fd);
	free(h);
}

static void on_orphan_exit(uv_poll_t *h, int status, int events)
{
	static const char note[] = "jobd restarted while this run was going: "
	                           "its exit status is unknown\n";
	struct arun *a = h->data;
	struct engine *e = a->e;
	struct target *t = a->target;
	(void)status;
	(void)events;
	uv_poll_stop(h);
	uv_close((uv_handle_t *)h, orphan_closed);
	a->orphan = NULL;
	set_status(a, EV_EXIT);
	a->r.result = RESULT_FAIL;
	a->r.return_code = -1;
	snprintf(a->r.sig, sizeof a->r.sig, "LOST");
	outbuf_add(&a->err, note, sizeof note - 1);
	procfile_remove(e, a->r.jid);
	run_finish(e, a, 1);
	arun_release(e, a);
	queue_pump(e, t);
}

int run_adopt_orphan(struct engine *e, struct run *row)
{
	int fd = (int)syscall(SYS_pidfd_open, row->pid, 0);
	if (fd < 0)
		return -errno;
	uv_poll_t *h = malloc(sizeof *h);
	struct arun *a = h ? run_adopt_row(e, row) : NULL;
	if (!a) {
		free(h);
		close(fd);
		return -ENOMEM;
	}
	uv_poll_init(e->loop, h, fd);
	h->data = a;
	a->orphan = h;
	uv_poll_start(h, UV_READABLE, on_orphan_exit);
	slot_take(e, a);
	procfile_write(e, a);
	return 0;
}

void run_orphan_close(struct arun *a)
{
	if (!a->orphan)
		return;
	uv_poll_stop(a->orphan);
	uv_close((uv_handle_t *)a->orphan, orphan_closed);
	a->orphan = NULL;
}

int run_cancel(struct engine *e, struct arun *a)
{
	if (set_status(a, EV_CANCEL) < 0)
		return -EBUSY;
	a->cancelled = 1;
	if (!link_empty(&a->qlink))
		queue_unlink(e, a);
	run_finish(e, a, 0);
	arun_release(e, a);
	return 0;
}

void run_watch(struct arun *a, struct run_watcher *w)
{
	w->linked = 1;
	link_insert_before(&a->watchers, &w->link);
}

void run_unwatch(struct run_watcher *w)
{
	if (!w->linked)
		return;
	link_remove(&w->link);
	w->linked = 0;
}
