/* service.c — supervised runs (jobctl start NAME; docs/lifecycle.md): a
 * job started as a service keeps one run of its command going.  The run
 * starts at once, outside its target's queue and slots (a service is not a
 * batch job waiting for its turn); when it ends on its own, whatever its
 * exit code (systemd's Restart=always), it is started again after a
 * backoff: 1 s, doubled at each restart up to 60 s, back to 1 s once a run
 * stayed up 60 s.  A run jobd ended on purpose (stop, restart, jobctl
 * kill: its stop_signal) ends the supervision instead.
 *
 * The wanted state outlives a restart of jobd: the store's kv
 * "services:WORKER" lists the supervised jobs ("UID NAME" lines), written
 * at each change, read at start-up (service_load, before the store
 * threads) and started again then (service_resume): a run of the job that
 * outlived jobd (orphans = adopt) is supervised as it is. */
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
	int resume;              /* wanted before jobd restarted (service_load) */
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

/* The kv key of this daemon's services: each worker of a shared store
 * keeps its own. */
static void svc_key(const struct engine *e, char *key, size_t n)
{
	snprintf(key, n, "services:%s", e->cfg.name ? e->cfg.name : "");
}

/* Stores the list of wanted services (a lost write is only logged: the
 * services still run, they are just not resumed after a restart). */
static void svc_save(struct engine *e)
{
	char key[128], *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f) {
		log_error("services: out of memory; not stored");
		return;
	}
	for (struct link *l = e->services.next; l != &e->services; l = l->next) {
		struct svc *s = link_entry(l, struct svc, link);
		fprintf(f, "%u %s\n", s->uid, s->job);
	}
	fclose(f);
	svc_key(e, key, sizeof key);
	persist_kv_put(e, key, text ? text : "");
	free(text);
}

/* Ends a service's supervision for good (stop, kill, deleted job). */
static void svc_end(struct svc *s)
{
	struct engine *e = s->e;
	svc_drop(s);
	svc_save(e);
}

static struct svc *svc_add(struct engine *e, const char *job, uint32_t uid)
{
	struct svc *s = calloc(1, sizeof *s);
	if (!s || !(s->job = strdup(job))) {
		free(s);
		return NULL;
	}
	s->e = e;
	s->uid = uid;
	s->backoff = BACKOFF_MIN;
	uv_timer_init(e->loop, &s->timer);
	s->timer.data = s;
	link_insert_before(&e->services, &s->link);
	return s;
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
		svc_end(s);
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
	if (!s && !(s = svc_add(e, j->name, uid))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->uid = uid;
	s->backoff = BACKOFF_MIN;
	s->timing = 0;
	uv_timer_stop(&s->timer);     /* waiting to restart: now instead */
	if ((rc = svc_spawn(e, s, j, confirmed, out, err, errlen)) < 0)
		svc_end(s);               /* a start that fails supervises nothing */
	else
		svc_save(e);
	return rc;
}

int engine_service_end(struct engine *e, const char *job)
{
	struct svc *s = svc_find(e, job);
	if (!s)
		return 0;
	svc_end(s);
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
		svc_end(s);
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

void service_load(struct engine *e)
{
	char key[128], *text = NULL, *save = NULL;
	svc_key(e, key, sizeof key);
	if (store_kv_get(e->store, key, &text) < 0 || !text)
		return;
	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *end, *name;
		unsigned long uid = strtoul(line, &end, 10);
		if (end == line || *end != ' ' || !*(name = end + 1))
			continue;
		struct svc *s = svc_add(e, name, (uint32_t)uid);
		if (s)
			s->resume = 1;
	}
	free(text);
}

void service_resume(struct engine *e)
{
	struct link *l, *next;
	char err[512];
	int changed = 0;

	for (l = e->services.next; l != &e->services; l = next) {
		struct svc *s = link_entry(l, struct svc, link);
		struct job *j = engine_job_find(e, s->job);
		struct arun *a;
		next = l->next;
		if (!s->resume)
			continue;
		s->resume = 0;
		if (!j) {
			log_warn("job %s: gone; its supervision ends", s->job);
			svc_drop(s);
			changed = 1;
		} else if ((a = engine_job_run_next(e, j->name, NULL))) {
			/* it outlived jobd (orphans = adopt): supervised as it is,
			 * outside the slots as a service's run is */
			if (a->has_slot)
				a->target->running--;
			a->supervised = 1;
			memcpy(s->jid, a->r.jid, sizeof s->jid);
			log_info("job %s: supervising its run %s again", s->job,
			         s->jid);
		} else if (svc_spawn(e, s, j, 1, &a, err, sizeof err) == 0) {
			log_info("job %s: started again after jobd's restart as run "
			         "%s", s->job, s->jid);
		} else {
			log_warn("job %s: cannot start it again: %s (next try in 1s)",
			         s->job, err);
			s->timing = 1;
			uv_timer_start(&s->timer, svc_restart, 1000, 0);
		}
	}
	if (changed)
		svc_save(e);
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
