/* defsync.c — the API-made job definitions of a shared store, applied
 * again while the daemon runs (docs/cluster.md "Definitions and the sync
 * check").  Daemons sharing one MariaDB store share its definitions: one
 * daemon's `jobctl create` is another's change.  Every put and delete of a
 * definition adds 1 to the store's update_seq (store.h); a daemon records
 * the update_seq of the definitions it applied, at start-up and at each
 * refresh (jobctl reload, or the master's request), and the master
 * refuses a lifecycle action on a worker whose update_seq is behind.
 *
 * A refresh reads on the store thread, behind the writes already asked
 * for, so a job this daemon just made is in what it reads.  A definition
 * written here while the read was out makes it read again: an older
 * reading never undoes a newer write. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/log.h"
#include "engine/storeq.h"

struct refresh {
	struct storeq_op op;
	struct engine *e;
	persist_cb cb;
	void *arg;
	uint64_t gen;            /* e->defs_gen when it was asked for */
	int64_t seq;
	char **names, **defs;
	char **sorted;           /* names, by strcmp: in_store's bsearch */
	int n, cap;
};

static int64_t seq_read(struct store *s)
{
	char *v = NULL;
	int64_t seq = store_kv_get(s, STORE_UPDATE_SEQ, &v) == 0 ?
	              strtoll(v, NULL, 10) : 0;
	free(v);
	return seq;
}

void defsync_load_seq(struct engine *e)
{
	e->update_seq = seq_read(e->store);
}

int64_t engine_update_seq(const struct engine *e)
{
	return e->update_seq;
}

static void refresh_free(struct refresh *r)
{
	for (int i = 0; i < r->n; i++) {
		free(r->names[i]);
		free(r->defs[i]);
	}
	free(r->names);
	free(r->defs);
	free(r->sorted);
	free(r);
}

static int collect(void *ctx, const char *name, const char *def)
{
	struct refresh *r = ctx;
	if (r->n == r->cap) {
		int cap = r->cap ? r->cap * 2 : 32;
		char **n = realloc(r->names, (size_t)cap * sizeof *n);
		if (n)
			r->names = n;
		char **d = n ? realloc(r->defs, (size_t)cap * sizeof *d) : NULL;
		if (!d)
			return -ENOMEM;
		r->defs = d;
		r->cap = cap;
	}
	r->names[r->n] = strdup(name);
	r->defs[r->n] = strdup(def);
	if (!r->names[r->n] || !r->defs[r->n]) {
		free(r->names[r->n]);
		free(r->defs[r->n]);
		return -ENOMEM;
	}
	r->n++;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int refresh_work(struct store *s, struct storeq_op *op, int replay)
{
	struct refresh *r = (struct refresh *)op;
	(void)replay;
	for (int i = 0; i < r->n; i++) {       /* a batch run again */
		free(r->names[i]);
		free(r->defs[i]);
	}
	r->n = 0;
	/* the number first: a change between the two reads leaves it
	 * behind, and the next check says so, rather than ahead */
	r->seq = seq_read(s);
	int rc = store_job_each(s, collect, r);
	if (rc < 0 || r->n == 0)
		return rc;
	/* sorted here, on the store thread: the loop's pass over every job
	 * then looks each up in O(log n), not O(n) */
	free(r->sorted);
	if (!(r->sorted = malloc((size_t)r->n * sizeof *r->sorted)))
		return -ENOMEM;
	memcpy(r->sorted, r->names, (size_t)r->n * sizeof *r->sorted);
	qsort(r->sorted, (size_t)r->n, sizeof *r->sorted, name_cmp);
	return 0;
}

static int in_store(const struct refresh *r, const char *name)
{
	return r->n > 0 && bsearch(&name, r->sorted, (size_t)r->n,
	                           sizeof *r->sorted, name_cmp) != NULL;
}

/* One stored definition: new or changed ones replace what the daemon
 * has, unless a job file defines that name (file jobs win). */
static void apply_one(struct engine *e, const char *name, const char *text)
{
	struct job *old = engine_job_find(e, name), *j;
	char err[512];
	json_t *def = json_loads(text, 0, NULL);
	int rc = def ? engine_job_parse(e, def, &j, err, sizeof err) : -EINVAL;
	json_decref(def);
	if (rc < 0) {
		log_error("stored job '%s' is invalid, skipped: %s", name,
		          def ? err : "not JSON");
		return;
	}
	if ((old && old->source) || (old && old->def_hash == j->def_hash)) {
		job_free(j);
		free(j);
		return;
	}
	log_info("job %s: %s from the store", name, old ? "changed" : "new");
	engine_job_replace(e, j);
}

static void refresh_apply(struct refresh *r)
{
	struct engine *e = r->e;
	for (int i = 0; i < r->n; i++)
		apply_one(e, r->names[i], r->defs[i]);
	for (int i = e->n_jobs - 1; i >= 0; i--) {
		struct job *j = e->jobs[i];
		if (!j->source && !in_store(r, j->name)) {
			log_info("job %s: deleted from the store", j->name);
			engine_job_remove(e, j->name);
		}
	}
	e->update_seq = r->seq;
}

static void refresh_done(struct storeq_op *op, int rc, const char *err)
{
	struct refresh *r = (struct refresh *)op;
	if (rc == 0 && r->gen != r->e->defs_gen) {
		/* written here meanwhile: read again */
		engine_jobs_refresh(r->e, r->cb, r->arg);
		r->cb = NULL;
	} else if (rc == 0) {
		refresh_apply(r);
	}
	if (r->cb)
		r->cb(r->arg, rc, rc < 0 ? err : "");
	refresh_free(r);
}

void engine_jobs_refresh(struct engine *e, persist_cb cb, void *arg)
{
	struct refresh *r = calloc(1, sizeof *r);
	if (!r || !e->sq) {
		free(r);
		cb(arg, -ENOMEM, "out of memory");
		return;
	}
	r->e = e;
	r->cb = cb;
	r->arg = arg;
	r->gen = e->defs_gen;
	r->op.work = refresh_work;
	r->op.done = refresh_done;
	storeq_add(e->sq, &r->op);
}
