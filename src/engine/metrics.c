/* metrics.c — the engine's counters and histograms, and their text in the
 * Prometheus exposition format (core/prom.c writes it).
 *
 * Runs are counted by (job, target): a table of the pairs that ran since
 * jobd started, at most METRICS_MAX_SERIES; the runs of pairs beyond
 * count under job="(other)" with their target, so a daemon with 100,000
 * jobs exposes a bounded page.  Durations are histograms by target only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/prom.h"
#include "engine/engine.h"
#include "engine/metrics.h"
#include "engine/storeq.h"

#define N_BUCKETS 1024           /* of the (job, target) hash */

/* upper bounds, seconds */
static const double duration_bounds[] = {
	0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 10800, 43200,
	86400,
};
static const double lateness_bounds[] = {
	0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60,
};
static const double commit_bounds[] = {
	0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
	0.5, 1, 2.5, 5, 10,
};
#define NB(a) ((int)(sizeof(a) / sizeof((a)[0])))

struct series {
	struct series *next;     /* hash chain */
	char *job, *target;
	uint64_t started, ok, fail, cancelled;
};

struct tseries {
	char *target;
	struct prom_hist duration;
};

struct metrics {
	struct series *hash[N_BUCKETS];
	int n_series;
	struct tseries *targets;
	int n_targets;
	struct prom_hist lateness, commit;
};

static struct metrics *metrics_get(struct engine *e)
{
	if (e->metrics)
		return e->metrics;
	struct metrics *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	prom_hist_init(&m->lateness, lateness_bounds, NB(lateness_bounds));
	prom_hist_init(&m->commit, commit_bounds, NB(commit_bounds));
	return e->metrics = m;
}

static unsigned hash2(const char *a, const char *b)
{
	uint32_t h = 2166136261u;               /* FNV-1a */
	for (; *a; a++)
		h = (h ^ (unsigned char)*a) * 16777619u;
	h = (h ^ 0xffu) * 16777619u;            /* a separator no name has */
	for (; *b; b++)
		h = (h ^ (unsigned char)*b) * 16777619u;
	return h % N_BUCKETS;
}

static struct series *series_find(struct metrics *m, const char *job,
                                  const char *target)
{
	struct series *s;
	for (s = m->hash[hash2(job, target)]; s; s = s->next)
		if (strcmp(s->job, job) == 0 && strcmp(s->target, target) == 0)
			return s;
	return NULL;
}

static struct series *series_add(struct metrics *m, const char *job,
                                 const char *target)
{
	struct series *s = calloc(1, sizeof *s);
	if (!s || !(s->job = strdup(job)) || !(s->target = strdup(target))) {
		if (s)
			free(s->job);
		free(s);
		return NULL;
	}
	unsigned h = hash2(job, target);
	s->next = m->hash[h];
	m->hash[h] = s;
	m->n_series++;
	return s;
}

/* The pair's counters; past the cap, (other)'s of the target (which may
 * be made beyond the cap: one per target at most). */
static struct series *series_of(struct metrics *m, const struct arun *a)
{
	const char *job = a->r.job ? a->r.job : METRICS_JOB_SUBMIT;
	const char *target = a->r.target ? a->r.target : "default";
	struct series *s = series_find(m, job, target);
	if (s)
		return s;
	if (m->n_series >= METRICS_MAX_SERIES)
		job = METRICS_JOB_OTHER;
	if ((s = series_find(m, job, target)))
		return s;
	return series_add(m, job, target);
}

static struct prom_hist *duration_of(struct metrics *m, const char *target)
{
	for (int i = 0; i < m->n_targets; i++)
		if (strcmp(m->targets[i].target, target) == 0)
			return &m->targets[i].duration;
	if (m->n_targets >= METRICS_MAX_TARGETS) {
		target = METRICS_JOB_OTHER;
		for (int i = 0; i < m->n_targets; i++)
			if (strcmp(m->targets[i].target, target) == 0)
				return &m->targets[i].duration;
	}
	struct tseries *v = realloc(m->targets, (size_t)(m->n_targets + 1) *
	                            sizeof *v);
	if (!v)
		return NULL;
	m->targets = v;
	struct tseries *t = &v[m->n_targets];
	if (!(t->target = strdup(target)))
		return NULL;
	prom_hist_init(&t->duration, duration_bounds, NB(duration_bounds));
	m->n_targets++;
	return &t->duration;
}

void metrics_run_started(struct engine *e, const struct arun *a)
{
	struct metrics *m = metrics_get(e);
	struct series *s = m ? series_of(m, a) : NULL;
	if (s)
		s->started++;
}

static void duration_observe(struct metrics *m, const struct run *r)
{
	struct prom_hist *h;
	if (r->time_started <= 0 || r->time_finished < r->time_started)
		return;
	if ((h = duration_of(m, r->target ? r->target : "default")))
		prom_hist_observe(h, (double)(r->time_finished -
		                              r->time_started) / 1e6);
}

void metrics_run_finished(struct engine *e, const struct arun *a, int ran)
{
	struct metrics *m = metrics_get(e);
	struct series *s = m ? series_of(m, a) : NULL;
	if (!s)
		return;
	if (a->r.result == RESULT_OK)
		s->ok++;
	else if (a->r.result == RESULT_FAIL)
		s->fail++;
	else
		s->cancelled++;         /* ignored: cancelled before it ran */
	if (ran)
		duration_observe(m, &a->r);
}

void metrics_lateness(struct engine *e, int64_t late_us)
{
	struct metrics *m = metrics_get(e);
	if (m)
		prom_hist_observe(&m->lateness, (double)late_us / 1e6);
}

void metrics_commit(void *engine, double seconds)
{
	struct metrics *m = metrics_get(engine);
	if (m)
		prom_hist_observe(&m->commit, seconds);
}

void metrics_free(struct engine *e)
{
	struct metrics *m = e->metrics;
	if (!m)
		return;
	for (int i = 0; i < N_BUCKETS; i++)
		for (struct series *s = m->hash[i], *n; s; s = n) {
			n = s->next;
			free(s->job);
			free(s->target);
			free(s);
		}
	for (int i = 0; i < m->n_targets; i++)
		free(m->targets[i].target);
	free(m->targets);
	free(m);
	e->metrics = NULL;
}

/* ---- the text ---- */

static int series_cmp(const void *x, const void *y)
{
	const struct series *a = *(struct series *const *)x;
	const struct series *b = *(struct series *const *)y;
	int c = strcmp(a->job, b->job);
	return c ? c : strcmp(a->target, b->target);
}

/* The pairs by job then target (a stable page); NULL with *n 0 when there
 * is none, -ENOMEM. */
static int series_sorted(struct metrics *m, struct series ***out, int *n)
{
	struct series **v;
	*n = 0;
	*out = NULL;
	if (!m || !m->n_series)
		return 0;
	if (!(v = malloc((size_t)m->n_series * sizeof *v)))
		return -ENOMEM;
	for (int i = 0; i < N_BUCKETS; i++)
		for (struct series *s = m->hash[i]; s && *n < m->n_series;
		     s = s->next)
			v[(*n)++] = s;
	qsort(v, (size_t)*n, sizeof *v, series_cmp);
	*out = v;
	return 0;
}

static int runs_put(struct prom *p, struct metrics *m)
{
	struct series **v;
	int n;
	if (series_sorted(m, &v, &n) < 0)
		return -ENOMEM;
	prom_family(p, "jobd_runs_started_total", "counter",
	            "Runs whose process was started, by job and target.");
	for (int i = 0; i < n; i++) {
		struct prom_label l[] = {{"job", v[i]->job},
		                         {"target", v[i]->target}};
		prom_sample(p, "jobd_runs_started_total", l, 2,
		            (double)v[i]->started);
	}
	prom_family(p, "jobd_runs_finished_total", "counter",
	            "Runs that ended, by job, target and result (ok, fail: "
	            "also a run that could not start, cancelled: before it "
	            "ran).");
	for (int i = 0; i < n; i++) {
		struct prom_label l[] = {{"job", v[i]->job},
		                         {"target", v[i]->target},
		                         {"result", "ok"}};
		prom_sample(p, "jobd_runs_finished_total", l, 3,
		            (double)v[i]->ok);
		l[2].value = "fail";
		prom_sample(p, "jobd_runs_finished_total", l, 3,
		            (double)v[i]->fail);
		l[2].value = "cancelled";
		prom_sample(p, "jobd_runs_finished_total", l, 3,
		            (double)v[i]->cancelled);
	}
	free(v);
	return 0;
}

static int tseries_cmp(const void *x, const void *y)
{
	return strcmp(((const struct tseries *)x)->target,
	              ((const struct tseries *)y)->target);
}

static void durations_put(struct prom *p, struct metrics *m)
{
	prom_family(p, "jobd_run_duration_seconds", "histogram",
	            "How long runs ran, from the start of their process to "
	            "its end, by target.");
	if (!m || !m->n_targets)
		return;          /* (qsort's array must not be NULL, even empty) */
	qsort(m->targets, (size_t)m->n_targets, sizeof *m->targets,
	      tseries_cmp);
	for (int i = 0; i < m->n_targets; i++) {
		struct prom_label l[] = {{"target", m->targets[i].target}};
		prom_histogram(p, "jobd_run_duration_seconds", l, 1,
		               &m->targets[i].duration);
	}
}

static void target_gauge(struct prom *p, const struct engine *e,
                         const char *name, const char *help, int which)
{
	prom_family(p, name, "gauge", help);
	for (int i = 0; i < e->n_targets; i++) {
		const struct target *t = e->targets[i];
		struct prom_label l[] = {{"target", t->name}};
		int v = which == 0 ? t->waiting : which == 1 ? t->running :
		        which == 2 ? t->concurrency : t->paused;
		prom_sample(p, name, l, 1, v);
	}
}

static void queues_put(struct prom *p, const struct engine *e)
{
	target_gauge(p, e, "jobd_queue_waiting", "Runs waiting for a slot "
	             "(or for their instant), by target.", 0);
	target_gauge(p, e, "jobd_queue_running", "Runs holding a slot, by "
	             "target.", 1);
	target_gauge(p, e, "jobd_target_slots", "The target's concurrency: "
	             "how many of its runs may run at once.", 2);
	target_gauge(p, e, "jobd_target_paused", "1 when the target is "
	             "paused (starts nothing).", 3);
}

static void hist_put(struct prom *p, const char *name, const char *help,
                     const struct prom_hist *h, const double *bounds, int n)
{
	struct prom_hist empty;
	if (!h) {
		prom_hist_init(&empty, bounds, n);
		h = &empty;
	}
	prom_family(p, name, "histogram", help);
	prom_histogram(p, name, NULL, 0, h);
}

static long rss_bytes(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * sysconf(_SC_PAGESIZE);
}

static void process_put(struct prom *p, const struct engine *e)
{
	struct rusage ru;
	double cpu = 0;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		      (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	struct prom_label v[] = {{"version", JOBD_VERSION}};
	prom_family(p, "jobd_build_info", "gauge",
	            "Always 1; the version of jobd serving these metrics.");
	prom_sample(p, "jobd_build_info", v, 1, 1);
	prom_family(p, "process_start_time_seconds", "gauge",
	            "Start time of the process since unix epoch in seconds.");
	prom_sample(p, "process_start_time_seconds", NULL, 0,
	            (double)(e->started / 1000000));
	prom_family(p, "process_resident_memory_bytes", "gauge",
	            "Resident memory size in bytes.");
	prom_sample(p, "process_resident_memory_bytes", NULL, 0,
	            (double)rss_bytes());
	prom_family(p, "process_cpu_seconds_total", "counter",
	            "Total user and system CPU time spent in seconds.");
	prom_sample(p, "process_cpu_seconds_total", NULL, 0, cpu);
	prom_family(p, "jobd_jobs", "gauge", "Jobs defined.");
	prom_sample(p, "jobd_jobs", NULL, 0, e->n_jobs);
	prom_family(p, "jobd_store_backlog", "gauge",
	            "Store write batches not yet committed.");
	prom_sample(p, "jobd_store_backlog", NULL, 0,
	            e->sq ? storeq_backlog(e->sq) : 0);
}

char *engine_metrics(struct engine *e, size_t *len)
{
	struct metrics *m = e->metrics;
	struct prom p;
	prom_init(&p);
	process_put(&p, e);
	if (runs_put(&p, m) < 0) {
		prom_free(&p);
		return NULL;
	}
	durations_put(&p, m);
	queues_put(&p, e);
	hist_put(&p, "jobd_schedule_lateness_seconds", "How late scheduled "
	         "fires woke after their due instant (catch-up fires not "
	         "counted).", m ? &m->lateness : NULL, lateness_bounds,
	         NB(lateness_bounds));
	hist_put(&p, "jobd_store_commit_seconds", "How long the store took "
	         "to commit a batch of writes (begin to commit, on the store "
	         "thread).", m ? &m->commit : NULL, commit_bounds,
	         NB(commit_bounds));
	return prom_take(&p, len);
}
