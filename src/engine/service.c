/* service.c — supervised runs (jobctl start NAME; docs/lifecycle.md): a
 * job started as a service keeps one run of its command going.  The run
 * starts at once, outside its target's queue and slots (a service is not a
 * batch job waiting for its turn); when it ends on its own, whatever its
 * exit code (systemd's Restart=always), it is started again after a
 * backoff: 1 s, doubled at each restart up to 60 s, back to 1 s once a run
 * stayed up 60 s.  A run jobd ended on purpose (stop, restart, jobctl
 * kill: its stop_signal) ends the supervision instead.
 *
 * The wanted state lives in memory only: after a restart of jobd a service
 * must be started again (docs/lifecycle.md). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jid.h"
#include "core/timefmt.h"
#include "engine/engine.h"
#include "engine/log.h"
#include "engine/proc.h"

#define BACKOFF_MIN (1 * US_PER_S)
#define BACKOFF_MAX (60 * US_PER_S)
#define UP_RESET (60 * US_PER_S)   /* up this long: the backoff starts over */

struct svc {
	struct link link;        /* e->services */
	struct engine *e;
	char *job;
	uint32_t uid;            /* who started it: its runs are theirs */
	char jid[JID_LEN + 1];   /* its run, "" while waiting to restart */
	int64_t backoff;         /* the next restart's delay */
	uv_timer_t timer;        /* the restart */
	int timing;
};

static struct svc *svc_find(struct engine *e, const char *job)
{
	for (struct link *l = e->services.next; l != &e->services; l = l->next) {
		struct svc *s = link_entry(l, struct svc, link);
		if (strcmp(s->job, job) == 0)
			return s;
	}
	return NULL;
}

static void svc_closed(uv_handle_t *h)
{
	struct svc *s = h->data;
	free(s->job);
	free(s);
}

static void svc_drop(struct svc *s)
{
	link_remove(&s->link);
	uv_close((uv_handle_t *)&s->timer, svc_closed);
}

/* Whether run jid is in memory and not over (queued, starting, running). */
static struct arun *svc_run(struct engine *e, const struct svc *s)
{
	struct arun *a = s->jid[0] ? run_find(e, s->jid) : NULL;
	if (a && (a->released || (a->r.status != RUN_RUNNING &&
	                          a->r.status != RUN_ACCEPTED &&
	                          a->r.status != RUN_WAITING)))
		return NULL;
	return a;
}

/* A supervised run of j, started now. */
static int svc_spawn(struct engine *e, struct svc *s, struct job *j,
                     int confirmed, struct arun **out, char *err,
                     size_t errlen)
{
	struct run_req rq = {.job = j, .trigger = TRIG_MANUAL,
	                     .priority = j->priority, .uid = s->uid,
	                     .confirmed = confirmed};
	struct arun *a;
	int rc = run_enqueue(e, &rq, &a, err, errlen);
	if (rc < 0)
		return rc;
	a->supervised = 1;
	queue_unlink(e, a);          /* not behind the target's other runs */
	memcpy(s->jid, a->r.jid, sizeof s->jid);
	if (run_start(e, a) < 0) {   /* it has ended (and is released) */
		s->jid[0] = '\0';
		snprintf(err, errlen, "run %s could not start", a->r.jid);
		return -EIO;
	}
	*out = a;
	return 0;
}

static void svc_restart(uv_timer_t *t)
{
	struct svc *s = t->data;
	struct engine *e = s->e;
	struct job *j = engine_job_find(e, s->job);
	struct arun *a;
	char err[512];

	s->timing = 0;
	if (e->shutting_down)
		return;
	if (!j) {
		log_warn("job %s: deleted; its supervision ends", s->job);
		svc_drop(s);
		return;
	}
	if (svc_spawn(e, s, j, 1, &a, err, sizeof err) == 0) {
		log_info("job %s: started again as run %s", s->job, s->jid);
		return;
	}
	log_warn("job %s: cannot start it again: %s (next try in %llds)",
	         s->job, err, (long long)(s->backoff / US_PER_S));
	s->timing = 1;
	uv_timer_start(&s->timer, svc_restart, (uint64_t)(s->backoff / 1000), 0);
	if (s->backoff < BACKOFF_MAX)
		s->backoff = s->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX
		             : s->backoff * 2;
}

int engine_service_start(struct engine *e, struct job *j, uint32_t uid,
                         int confirmed, struct arun **out, char *err,
                         size_t errlen)
{
	struct svc *s = svc_find(e, j->name);
	struct arun *a;
	int rc;

	if (s && (a = svc_run(e, s))) {
		*out = a;
		return 1;
	}
	if (e->shutting_down) {
		snprintf(err, errlen, "jobd is stopping");
		return -ESHUTDOWN;
	}
	if (!s) {
		if (!(s = calloc(1, sizeof *s)) || !(s->job = strdup(j->name))) {
			free(s);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		s->e = e;
		uv_timer_init(e->loop, &s->timer);
		s->timer.data = s;
		link_insert_before(&e->services, &s->link);
	}
	s->uid = uid;
	s->backoff = BACKOFF_MIN;
	s->timing = 0;
	uv_timer_stop(&s->timer);     /* waiting to restart: now instead */
	if ((rc = svc_spawn(e, s, j, confirmed, out, err, errlen)) < 0)
		svc_drop(s);              /* a start that fails supervises nothing */
	return rc;
}

int engine_service_end(struct engine *e, const char *job)
{
	struct svc *s = svc_find(e, job);
	if (!s)
		return 0;
	svc_drop(s);
	return 1;
}

int engine_service_restarting(struct engine *e, const char *job)
{
	struct svc *s = svc_find(e, job);
	return s && s->timing;
}

/* run_finish of a supervised run: start it again later, unless jobd ended
 * it on purpose or it is not the service's run any more. */
void service_ended(struct engine *e, struct arun *a)
{
	struct svc *s = a->r.job ? svc_find(e, a->r.job) : NULL;
	int64_t up;

	if (!s || strcmp(s->jid, a->r.jid) != 0)
		return;
	s->jid[0] = '\0';
	if (a->stop_signal || a->cancelled) {
		log_info("job %s: run %s was stopped; its supervision ends",
		         s->job, a->r.jid);
		svc_drop(s);
		return;
	}
	if (e->shutting_down)
		return;
	up = a->r.time_started > 0 ? now_us() - a->r.time_started : 0;
	if (up >= UP_RESET)
		s->backoff = BACKOFF_MIN;
	char how[64];
	if (a->r.sig[0])
		snprintf(how, sizeof how, "signal %s", a->r.sig);
	else
		snprintf(how, sizeof how, "exit %d", a->r.return_code);
	log_warn("job %s: its supervised run %s ended (%s); starting it again "
	         "in %llds", s->job, a->r.jid, how,
	         (long long)(s->backoff / US_PER_S));
	s->timing = 1;
	uv_timer_start(&s->timer, svc_restart, (uint64_t)(s->backoff / 1000), 0);
	s->backoff = s->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : s->backoff * 2;
}

void service_close(struct engine *e)
{
	for (struct link *l; (l = e->services.next) != &e->services;)
		svc_drop(link_entry(l, struct svc, link));
}

/* ---- run verbs of the lifecycle ---- */

int run_stop(struct engine *e, struct arun *a)
{
	(void)e;
	if (a->r.status != RUN_RUNNING)
		return -ESRCH;
	a->stop_signal = SIGTERM;
	if (a->starting)          /* run_started terminates it */
		return 0;
	if (a->orphan)
		return kill(-a->r.pid, SIGTERM) < 0 ? -errno : 0;
	if (!a->proc)
		return -ESRCH;
	/* what outlives the leader gets its SIGKILL after the grace too */
	a->kill_leftovers = 1;
	proc_terminate(a->proc, a->kill_grace);
	return 0;
}

struct arun *engine_job_run_next(const struct engine *e, const char *job,
                                 const struct arun *a)
{
	while ((a = engine_run_next(e, a)))
		if (a->r.status == RUN_RUNNING && !a->r.action && a->r.job &&
		    strcmp(a->r.job, job) == 0)
			return (struct arun *)a;
	return NULL;
}
