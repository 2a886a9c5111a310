/* engine.c — the engine's lifecycle (open, reload, shutdown), the job
 * registry (a sorted array: O(log n) lookup, bulk loads sorted once).
 * The proc files of running runs are procfile.c's. */
#include "engine/engine.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/jid.h"
#include "core/schedule.h"
#include "core/timefmt.h"
#include "engine/health.h"
#include "engine/log.h"
#include "engine/metrics.h"
#include "engine/storeq.h"
#include "engine/proc.h"
#include "engine/statedir.h"

/* ---- job registry ---- */

static int job_cmp(const void *a, const void *b)
{
	return strcmp((*(struct job *const *)a)->name,
	              (*(struct job *const *)b)->name);
}

static int job_index(struct engine *e, const char *name, int *at)
{
	int lo = 0, hi = e->n_jobs;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		int c = strcmp(e->jobs[mid]->name, name);
		if (c == 0) {
			*at = mid;
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return 0;
}

struct job *engine_job_find(struct engine *e, const char *name)
{
	int at;
	return job_index(e, name, &at) ? e->jobs[at] : NULL;
}

/* What the store keeps of a job beside its definition: "last:NAME", the
 * time of its last run, and for a file job "off:NAME" = 1 when `jobctl
 * disable` turned it off (a file cannot say so: its state outlives a
 * restart in the store).  Read at start-up directly, later on the read
 * thread (the job is found again by name: it may be gone). */
struct kv_read {
	struct storeq_op op;
	struct engine *e;
	char key[128];
	char *val;
};

static void job_kv_apply(struct engine *e, struct job *j, const char *key,
                         const char *val)
{
	if (strncmp(key, "last:", 5) == 0 && !j->last_run)
		j->last_run = strtoll(val, NULL, 10);
	else if (strncmp(key, "off:", 4) == 0 && j->source && strcmp(val, "1") == 0)
		j->enabled = 0;
	else
		return;
	scheduler_arm_job(e, j, now_us());
}

static int kv_read_work(struct store *s, struct storeq_op *op, int replay)
{
	struct kv_read *kr = (struct kv_read *)op;
	(void)replay;
	return store_kv_get(s, kr->key, &kr->val);
}

static void kv_read_done(struct storeq_op *op, int rc, const char *err)
{
	struct kv_read *kr = (struct kv_read *)op;
	struct job *j = engine_job_find(kr->e, strchr(kr->key, ':') + 1);
	(void)err;
	if (rc == 0 && j)
		job_kv_apply(kr->e, j, kr->key, kr->val);
	free(kr->val);
	free(kr);
}

static void job_kv_read(struct engine *e, struct job *j, const char *prefix)
{
	char key[128], *val = NULL;
	snprintf(key, sizeof key, "%s:%s", prefix, j->name);
	if (!e->rq) {                                   /* start-up */
		if (store_kv_get(e->store, key, &val) == 0)
			job_kv_apply(e, j, key, val);
		free(val);
		return;
	}
	struct kv_read *kr = calloc(1, sizeof *kr);
	if (!kr)
		return;
	kr->op.work = kv_read_work;
	kr->op.done = kv_read_done;
	kr->e = e;
	memcpy(kr->key, key, sizeof key);
	storeq_add(e->rq, &kr->op);
}

static void job_load_last_run(struct engine *e, struct job *j)
{
	if (j->source)
		job_kv_read(e, j, "off");
	if (job_keeps_last_run(j))      /* else in memory only (scheduler.c) */
		job_kv_read(e, j, "last");
}

static int jobs_reserve(struct engine *e, int n)
{
	if (n <= e->cap_jobs)
		return 0;
	int cap = e->cap_jobs ? e->cap_jobs : 64;
	while (cap < n)
		cap *= 2;
	struct job **v = realloc(e->jobs, (size_t)cap * sizeof *v);
	if (!v)
		return -ENOMEM;
	e->jobs = v;
	e->cap_jobs = cap;
	return 0;
}

int engine_job_add(struct engine *e, struct job *j)
{
	int at;
	if (job_index(e, j->name, &at))
		return -EEXIST;
	if (jobs_reserve(e, e->n_jobs + 1) < 0)
		return -ENOMEM;
	memmove(e->jobs + at + 1, e->jobs + at,
	        (size_t)(e->n_jobs - at) * sizeof *e->jobs);
	e->jobs[at] = j;
	e->n_jobs++;
	j->fire.slot = SIZE_MAX;
	job_load_last_run(e, j);
	scheduler_arm_job(e, j, now_us());
	return 0;
}

static void job_destroy(struct engine *e, struct job *j)
{
	scheduler_disarm_job(e, j);
	job_free(j);
	free(j);
}

/* Swaps in a new definition under the same name, keeping what the engine
 * knows at run time (live run counts, last run). */
int engine_job_replace(struct engine *e, struct job *j)
{
	int at;
	if (!job_index(e, j->name, &at))
		return engine_job_add(e, j);
	struct job *old = e->jobs[at];
	j->running = old->running;
	j->queued = old->queued;
	j->last_run = old->last_run;
	j->last_ok = old->last_ok;
	j->status_up = old->status_up;
	j->fire.slot = SIZE_MAX;
	job_destroy(e, old);
	e->jobs[at] = j;
	scheduler_arm_job(e, j, now_us());
	if (j->source)          /* an edited file keeps `jobctl disable` */
		job_kv_read(e, j, "off");
	return 0;
}

int engine_job_remove(struct engine *e, const char *name)
{
	int at;
	if (!job_index(e, name, &at))
		return -ENOENT;
	lease_forget(e, name);
	job_destroy(e, e->jobs[at]);
	memmove(e->jobs + at, e->jobs + at + 1,
	        (size_t)(e->n_jobs - at - 1) * sizeof *e->jobs);
	e->n_jobs--;
	return 0;
}

int engine_job_set_enabled(struct engine *e, struct job *j, int enabled)
{
	j->enabled = enabled != 0;
	if (j->enabled)
		scheduler_arm_job(e, j, now_us());
	else
		scheduler_disarm_job(e, j);
	lease_want(e, j);       /* disabled: released */
	if (j->source) {        /* its file cannot say so: the store does */
		char key[128];
		snprintf(key, sizeof key, "off:%s", j->name);
		persist_kv_put(e, key, j->enabled ? "0" : "1");
		return 0;
	}
	return engine_job_save(e, j);
}

/* ---- loading jobs: the store's API jobs, then the job files ---- */

struct load_ctx {
	struct engine *e;
	struct job **v;
	int n, cap;
	int from_files;
	char **bad;              /* the skipped files' messages */
	int n_bad;
};

/* A bad job file is skipped: its jobs already read go, the others stay. */
static void load_bad_file(void *ctx, const char *file, const char *err)
{
	struct load_ctx *lc = ctx;
	char **v = realloc(lc->bad, (size_t)(lc->n_bad + 1) * sizeof *v);

	log_error("%s (the file is skipped, the other job files are loaded)",
	          err);
	while (lc->n > 0 && lc->v[lc->n - 1]->source &&
	       strcmp(lc->v[lc->n - 1]->source, file) == 0) {
		job_free(lc->v[--lc->n]);
		free(lc->v[lc->n]);
	}
	if (!v)
		return;
	lc->bad = v;
	if ((v[lc->n_bad] = strdup(err)))
		lc->n_bad++;
}

/* A reload keeps the jobs of a file that has become bad as they were. */
static int load_file_bad(const struct load_ctx *lc, const char *file)
{
	size_t n = strlen(file);
	for (int i = 0; i < lc->n_bad; i++)
		if (strncmp(lc->bad[i], file, n) == 0 && lc->bad[i][n] == ':')
			return 1;
	return 0;
}

static void job_errors_free(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int engine_job_parse(const struct engine *e, json_t *def, struct job **out,
                     char *err, size_t n)
{
	struct job *j = calloc(1, sizeof *j);
	if (!j)
		return -ENOMEM;
	int rc = job_from_json(def, e->cfg.timezone, j, err, n);
	if (rc == 0 && (rc = job_check_built(j, err, n)) < 0)
		job_free(j);
	if (rc < 0) {
		free(j);
		return rc;
	}
	/* the definition and the default zone it is read in */
	char *text = json_dumps(def, JSON_COMPACT | JSON_SORT_KEYS);
	const char *parts[2] = {text, e->cfg.timezone};
	j->def_hash = 1469598103934665603ULL;          /* FNV-1a */
	for (int k = 0; k < 2; k++)
		for (const char *p = parts[k]; p && *p; p++)
			j->def_hash = (j->def_hash ^ (unsigned char)*p) *
			              1099511628211ULL;
	free(text);
	*out = j;
	return 0;
}

static int load_push(struct load_ctx *lc, json_t *def, char *err, size_t n)
{
	struct job *j;
	int rc = engine_job_parse(lc->e, def, &j, err, n);
	if (rc < 0)
		return rc;
	if (lc->n == lc->cap) {
		int cap = lc->cap ? lc->cap * 2 : 64;
		struct job **v = realloc(lc->v, (size_t)cap * sizeof *v);
		if (!v) {
			job_free(j);
			free(j);
			return -ENOMEM;
		}
		lc->v = v;
		lc->cap = cap;
	}
	lc->v[lc->n++] = j;
	return 0;
}

/* A job file's user and group must exist, and a jobd that is not root
 * runs commands only as its own user: said at load, at the key's line,
 * not when the first run fails. */
static int check_file_ids(const struct engine *e, json_t *def, char *err,
                          size_t n)
{
	const char *user = json_string_value(json_object_get(def, "user"));
	const char *group = json_string_value(json_object_get(def, "group"));
	struct passwd *pw = user && *user ? getpwnam(user) : NULL;

	if (user && *user && !pw) {
		snprintf(err, n, "user: unknown user '%s'", user);
		return -EINVAL;
	}
	if (pw && !e->is_root && pw->pw_uid != e->uid) {
		snprintf(err, n, "user: cannot run as '%s': jobd is not running "
		         "as root", user);
		return -EPERM;
	}
	if (group && *group && !getgrnam(group)) {
		snprintf(err, n, "group: unknown group '%s'", group);
		return -EINVAL;
	}
	return 0;
}

static int load_file_job(void *ctx, json_t *def, const char *file, int line,
                         char *err, size_t n)
{
	int rc = check_file_ids(((struct load_ctx *)ctx)->e, def, err, n);
	if (rc < 0)
		return rc;
	(void)file;             /* jobfiles_load puts FILE:LINE before err */
	(void)line;
	return load_push(ctx, def, err, n);
}

static int load_store_job(void *ctx, const char *name, const char *text)
{
	struct load_ctx *lc = ctx;
	char msg[512];
	json_t *def = json_loads(text, 0, NULL);
	int rc = def ? load_push(lc, def, msg, sizeof msg) : -EINVAL;
	json_decref(def);
	if (rc < 0)
		log_error("stored job '%s' is invalid, skipped: %s", name,
		          def ? msg : "not JSON");
	return 0;
}

static void load_free(struct load_ctx *lc)
{
	job_errors_free(lc->bad, lc->n_bad);
	for (int i = 0; i < lc->n; i++) {
		job_free(lc->v[i]);
		free(lc->v[i]);
	}
	free(lc->v);
}

/* Replaces the file-defined jobs with those of jobs_dir; API jobs stay.
 * All or nothing: on any error the old set is kept. */
/* A job made with jobctl under the name a job file now uses: file jobs
 * win (the administrator's files are the configuration; any socket user
 * may create jobs), so the API job is renamed NAME.api (NAME.api2, ...),
 * in the store too, with a warning, and the start or reload goes on. */
static int job_move_aside(struct engine *e, struct job *old, const char *file,
                          char *err, size_t errlen)
{
	char name[NAME_MAX_LEN + 1], sfx[16];
	int k;

	for (k = 1; k < 1000; k++) {
		snprintf(sfx, sizeof sfx, k == 1 ? ".api" : ".api%d", k);
		int base = NAME_MAX_LEN - (int)strlen(sfx);
		snprintf(name, sizeof name, "%.*s%s", base, old->name, sfx);
		if (!engine_job_find(e, name))
			break;
	}
	json_t *def = job_to_json(old);
	struct job *j = calloc(1, sizeof *j);
	char *text = NULL;
	int rc = -ENOMEM;
	if (!def || !j || json_object_set_new(def, "name", json_string(name)))
		goto error;
	if ((rc = job_from_json(def, e->cfg.timezone, j, err, errlen)) < 0) {
		free(j);
		j = NULL;
		goto error;
	}
	if (!(text = json_dumps(def, JSON_COMPACT)))
		goto error;
	log_warn("job %s: made with jobctl (uid %u), now renamed %s: the job "
	         "file %s defines %s, and file jobs win", old->name,
	         (unsigned)old->owner_uid, name, file, old->name);
	if (e->sq) {
		persist_job_put(e, name, text);
		persist_job_put(e, old->name, NULL);
	} else if (store_job_put(e->store, name, text) < 0 ||   /* start-up */
	           store_job_del(e->store, old->name) < 0) {
		snprintf(err, errlen, "cannot rename job %s in the store: %s",
		         old->name, store_error(e->store));
		rc = -EIO;
		goto error;
	}
	engine_job_remove(e, old->name);
	engine_job_add(e, j);
	free(text);
	json_decref(def);
	return 0;
error:
	if (j) {
		job_free(j);
		free(j);
	}
	json_decref(def);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return rc;
}

int engine_jobs_load(struct engine *e, int *n_files, char *err, size_t errlen)
{
	struct load_ctx lc = {.e = e};
	int rc = jobfiles_load_each(e->cfg.jobs_dir, load_file_job,
	                            load_bad_file, &lc, err, errlen);
	if (rc < 0)
		goto error;
	if (n_files)
		*n_files = rc;
	for (int i = 0; i < lc.n; i++) {
		struct job *old = engine_job_find(e, lc.v[i]->name);
		if (old && !old->source &&
		    (rc = job_move_aside(e, old, lc.v[i]->source, err, errlen)) < 0)
			goto error;
	}
	/* room for all first: past here nothing fails */
	if (jobs_reserve(e, e->n_jobs + lc.n) < 0) {
		rc = -ENOMEM;
		goto error;
	}
	/* drop file jobs that are gone, in one pass; the new list is sorted
	 * so each lookup is a binary search (O(n log n), not O(n^2)) */
	if (lc.n > 1)
		qsort(lc.v, (size_t)lc.n, sizeof *lc.v, job_cmp);
	int kept = 0;
	for (int i = 0; i < e->n_jobs; i++) {
		struct job *j = e->jobs[i];
		if (j->source && !load_file_bad(&lc, j->source) &&
		    (lc.n == 0 || !bsearch(&j, lc.v, (size_t)lc.n, sizeof *lc.v,
		                           job_cmp))) {
			job_destroy(e, j);
			continue;
		}
		e->jobs[kept++] = j;
	}
	e->n_jobs = kept;
	/* replace the jobs that stay in place; append the new ones and sort
	 * once, rather than inserting one by one */
	int n_old = e->n_jobs, n_new = 0;
	for (int i = 0; i < lc.n; i++) {
		struct job *j = lc.v[i];
		lc.v[i] = NULL;
		struct job *was = engine_job_find(e, j->name); /* the old jobs */
		if (was && was->def_hash == j->def_hash) {
			/* unchanged: it keeps its next fire, nothing is recomputed */
			job_free(j);
			free(j);
			continue;
		}
		if (was) {
			engine_job_replace(e, j);
			continue;
		}
		e->jobs[n_old + n_new++] = j;
		j->fire.slot = SIZE_MAX;
		job_load_last_run(e, j);
		scheduler_arm_job(e, j, now_us());
	}
	e->n_jobs = n_old + n_new;
	if (n_new > 0 && n_old > 0)    /* lc.v was sorted: only then needed */
		qsort(e->jobs, (size_t)e->n_jobs, sizeof *e->jobs, job_cmp);
	lc.n = 0;
	job_errors_free(e->job_errors, e->n_job_errors);
	e->job_errors = lc.bad;
	e->n_job_errors = lc.n_bad;
	lc.bad = NULL;
	lc.n_bad = 0;
	load_free(&lc);
	/* parsing leaves many freed holes (the JSON of each file, the old
	 * definitions on reload): hand them back to the system */
	malloc_trim(0);
	return 0;
error:
	load_free(&lc);
	return rc;
}

static int jobs_load_store(struct engine *e)
{
	struct load_ctx lc = {.e = e};
	int rc = store_job_each(e->store, load_store_job, &lc);
	if (rc < 0) {
		load_free(&lc);
		return rc;
	}
	/* bulk: sort once instead of inserting one by one */
	if (jobs_reserve(e, e->n_jobs + lc.n) < 0) {
		load_free(&lc);
		return -ENOMEM;
	}
	for (int i = 0; i < lc.n; i++)
		e->jobs[e->n_jobs++] = lc.v[i];
	if (e->n_jobs > 1)      /* e->jobs is NULL when there are none */
		qsort(e->jobs, (size_t)e->n_jobs, sizeof *e->jobs, job_cmp);
	for (int i = 0; i < lc.n; i++) {
		lc.v[i]->fire.slot = SIZE_MAX;
		job_load_last_run(e, lc.v[i]);
	}
	free(lc.v);
	return 0;
}

/* ---- targets from the config ---- */

static void targets_apply_config(struct engine *e)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (!queue_target(e, "default"))
		queue_target_add(e, "default", ncpu > 0 ? (int)ncpu : 1);
	for (int i = 0; i < e->cfg.n_targets; i++) {
		struct config_target *ct = &e->cfg.targets[i];
		struct target *t = queue_target(e, ct->name);
		if (!t)
			t = queue_target_add(e, ct->name, ct->concurrency);
		else
			t->concurrency = ct->concurrency;
		if (t)
			t->from_config = 1;
	}
}

static int load_store_target(void *ctx, const char *name, int conc, int paused)
{
	struct engine *e = ctx;
	struct target *t = queue_target_add(e, name, conc);
	if (t)
		t->paused = paused;
	return 0;
}

/* ---- retention ---- */

static void sweep_tick(uv_timer_t *t)
{
	struct engine *e = t->data;
	if (e->cfg.keep_runs <= 0)
		return;
	/* on the store thread, in batches of 500 that leave room for the
	 * writes in between; a tick that deleted a full batch comes back soon */
	persist_sweep(e, now_us() - e->cfg.keep_runs, 500);
	uv_timer_start(&e->sweep_timer, sweep_tick, e->sweep_full ? 10 : 60000,
	               0);
}

/* ---- lifecycle ---- */

static int mkdir_p(const char *dir, mode_t mode)
{
	char buf[4096];
	snprintf(buf, sizeof buf, "%s", dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void clear_stale_procfiles(struct engine *e)
{
	uv_fs_t req;
	uv_dirent_t ent;
	if (uv_fs_scandir(NULL, &req, e->proc_dir, 0, NULL) < 0)
		return;
	while (uv_fs_scandir_next(&req, &ent) != UV_EOF) {
		char path[4200];
		if (run_find(e, ent.name))
			continue;
		snprintf(path, sizeof path, "%s/%s", e->proc_dir, ent.name);
		unlink(path);
	}
	uv_fs_req_cleanup(&req);
}

int engine_open(struct engine *e, uv_loop_t *loop, const struct config *cfg,
                char *err, size_t errlen)
{
	int rc;
	char jid[JID_LEN + 1] = "";

	memset(e, 0, sizeof *e);
	e->loop = loop;
	e->cfg = *cfg;
	e->uid = geteuid();
	e->is_root = e->uid == 0;
	e->started = now_us();
	link_init(&e->runs);
	link_init(&e->settling);
	link_init(&e->services);
	spawnq_init(e);
	heap_init(&e->fires);
	e->sched_fd = -1;
	uv_timer_init(loop, &e->sweep_timer);
	uv_timer_init(loop, &e->resave_timer);
	e->resave_timer.data = e;
	uv_timer_init(loop, &e->shutdown_timer);
	e->sweep_timer.data = e;
	e->shutdown_timer.data = e;

	snprintf(e->proc_dir, sizeof e->proc_dir, "%s/proc", e->cfg.state_dir);
	struct statedir_modes m;
	if ((rc = statedir_modes(&e->cfg, &m, err, errlen)) < 0)
		goto error;
	e->file_mode = m.file;
	if ((rc = mkdir_p(e->proc_dir, m.dir & 0777)) < 0) {
		snprintf(err, errlen, "cannot create state directory '%s': %s",
		         e->proc_dir, strerror(-rc));
		goto error;
	}
	/* the store's files (SQLite's -wal and -shm follow the database's
	 * mode) are made no more readable than proc files */
	mode_t old_mask = umask(0777 & ~m.file);
	if ((rc = store_open(e->cfg.store, &e->store, err, errlen)) == 0)
		rc = store_open(e->cfg.store, &e->rstore, err, errlen);
	umask(old_mask);
	if (rc < 0)
		goto error;
	if (store_run_max_jid(e->store, jid) == 0 && jid[0])
		jid_parse(jid, &e->last_jid);
	store_target_each(e->store, load_store_target, e);
	targets_apply_config(e);
	defsync_load_seq(e);
	if ((rc = jobs_load_store(e)) < 0) {
		snprintf(err, errlen, "cannot load jobs from the store: %s",
		         store_error(e->store));
		goto error;
	}
	if ((rc = engine_jobs_load(e, NULL, err, errlen)) < 0)
		goto error;
	if ((rc = recover_runs(e, err, errlen)) < 0)
		goto error;
	clear_stale_procfiles(e);
	procfile_close(e);      /* its kept spares may have been cleared */
	service_load(e);
	/* from here on the loop leaves e->store to the store thread */
	if ((rc = storeq_open(loop, e->store, 0, &e->sq)) < 0 ||
	    (rc = storeq_open(loop, e->rstore, 1, &e->rq)) < 0) {
		snprintf(err, errlen, "cannot start the store threads: %s",
		         strerror(-rc));
		goto error;
	}
	storeq_on_commit(e->sq, metrics_commit, e);
	if ((rc = scheduler_init(e)) < 0) {
		snprintf(err, errlen, "cannot create the scheduler's timer: %s",
		         strerror(-rc));
		goto error;
	}
	scheduler_start(e, 1);
	uv_timer_start(&e->sweep_timer, sweep_tick, 1000, 0);
	queue_pump_all(e);
	service_resume(e);
	/* one poll at start-up: rows other programs INSERTed while jobd was
	 * down (recovery leaves rows without a jid to a claim) */
	for (int i = 0; i < e->n_targets; i++)
		queue_poll(e, e->targets[i]);
	return 0;
error:
	/* engine_close takes each part only if it was set up (NULL stores
	 * and queues, no scheduler fd): what was opened is closed, the
	 * timers are closing (the caller's loop finishes them) */
	engine_close(e);
	return rc;
}

static void swap_str(char **a, char **b)
{
	char *t = *a;
	*a = *b;
	*b = t;
}

/* The state dir, store and socket are fixed for the daemon's life: a
 * reload keeps the running values and ignores changes to them. */
static void swap_pinned(struct config *a, struct config *b)
{
	swap_str(&a->state_dir, &b->state_dir);
	swap_str(&a->store, &b->store);
	swap_str(&a->socket, &b->socket);
}

/* Takes *cfg on success (the caller must not free it); on failure the old
 * configuration stays in force and *cfg is the caller's to free. */
int engine_reload(struct engine *e, struct config *cfg, int *n_jobs,
                  int *n_files, char *err, size_t errlen)
{
	struct config old = e->cfg;
	swap_pinned(cfg, &old);
	e->cfg = *cfg;
	int rc = engine_jobs_load(e, n_files, err, errlen);
	if (rc < 0) {
		swap_pinned(cfg, &old);
		e->cfg = old;
		return rc;
	}
	config_free(&old);
	targets_apply_config(e);
	*n_jobs = e->n_jobs;
	queue_pump_all(e);
	return 0;
}

/* Stopped once no run is left and the store has taken what they wrote
 * (their replies wait for it); an unavailable store is waited for 10 s. */
static void idle_cb(uv_timer_t *t)
{
	struct engine *e = t->data;
	if (e->n_running != 0 || !e->on_idle)
		return;
	if (!storeq_idle(e->sq) && now_us() - e->idle_since < 10 * US_PER_S) {
		uv_timer_start(&e->shutdown_timer, idle_cb, 5, 0);
		return;
	}
	e->on_idle(e);
}

void engine_idle_soon(struct engine *e)
{
	e->idle_since = now_us();
	uv_timer_start(&e->shutdown_timer, idle_cb, 0, 0);
}

static void grace_over(uv_timer_t *t)
{
	struct engine *e = t->data;
	log_warn("shutdown grace over: terminating %d running runs",
	         e->n_running);
	for (struct link *l = e->runs.next; l != &e->runs; l = l->next) {
		struct arun *a = link_entry(l, struct arun, all);
		if (a->r.status == RUN_RUNNING && a->proc)
			proc_terminate(a->proc, 5 * US_PER_S);
		else if (a->r.status == RUN_RUNNING && a->orphan)
			run_signal(e, a, SIGKILL);   /* no grace timer of its own */
	}
}

void engine_shutdown(struct engine *e, void (*done)(struct engine *))
{
	e->shutting_down = 1;
	e->on_idle = done;
	scheduler_stop(e);
	spawnq_due(e, INT64_MAX);       /* early commits: not spawned (run_spawn) */
	lease_release_all(e);
	uv_timer_stop(&e->sweep_timer);
	if (e->n_running == 0) {
		engine_idle_soon(e);
		return;
	}
	log_info("waiting up to %llds for %d running runs",
	         (long long)(e->cfg.shutdown_grace / US_PER_S), e->n_running);
	uv_timer_start(&e->shutdown_timer, grace_over,
	               (uint64_t)(e->cfg.shutdown_grace / 1000), 0);
}

void engine_close(struct engine *e)
{
	storeq_close(e->rq, 1000);
	storeq_close(e->sq, 5000);
	e->sq = e->rq = NULL;
	lease_close(e);
	procfile_close(e);
	job_errors_free(e->job_errors, e->n_job_errors);
	e->job_errors = NULL;
	e->n_job_errors = 0;
	proc_linger_stop();
	health_close_all(e);
	service_close(e);
	scheduler_stop(e);
	scheduler_close(e);
	uv_close((uv_handle_t *)&e->sweep_timer, NULL);
	spawnq_close(e);
	persist_close(e);
	uv_close((uv_handle_t *)&e->resave_timer, NULL);
	uv_close((uv_handle_t *)&e->shutdown_timer, NULL);
	for (struct link *l; (l = link_pop(&e->runs));) {
		struct arun *a = link_entry(l, struct arun, all);
		run_orphan_close(a);
		run_clear(&a->r);
		free(a->out.buf);
		free(a->err.buf);
		free(a);
	}
	heap_free(&e->fires);   /* it touches the jobs' nodes: before freeing them */
	for (int i = 0; i < e->n_jobs; i++) {
		job_free(e->jobs[i]);
		free(e->jobs[i]);
	}
	free(e->jobs);
	for (int i = 0; i < e->n_targets; i++) {
		free(e->targets[i]->name);
		free(e->targets[i]);
	}
	free(e->targets);
	store_close(e->store);
	store_close(e->rstore);
	config_free(&e->cfg);
	metrics_free(e);        /* after storeq_close: its dones observe */
}
