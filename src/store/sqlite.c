/* sqlite.c — the embedded SQLite store (the default engine behind store.h).
 *
 * One connection per store, used only from the loop thread.  WAL mode with
 * synchronous=NORMAL by default: a commit is durable across a crash of the
 * process (kill -9), though not necessarily across a power loss; the URI
 * option sync=full makes commits durable across power loss too.
 *
 * Every fixed statement is prepared once at open and reset after each use;
 * run_list statements are built from the query's shape and cached by shape,
 * so the hot run insert/update path never parses SQL.
 *
 * Enum fields are stored by name (core/names.c), so the table reads well from
 * the sqlite3 shell and matches the seed queue table's enums.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "core/timefmt.h"
#include "store/runrow.h"
#include "store/sqlite_int.h"
#include "store/store.h"


#define RUN_COLS_OUT RUNROW_COLS_OUT(RUNROW_TIME_PLAIN)
#define RUN_COLS_NOOUT RUNROW_COLS_NOOUT(RUNROW_TIME_PLAIN)

/* Insert and update share one parameter numbering (bind_run): ?1 jid ..
 * ?26 stderr, ?27 id.  The update names only the mutable ones; SQLite
 * allows binding numbered parameters a statement does not use. */
static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_JOB_PUT] = "INSERT INTO jobs (name, def, updated) VALUES (?1, ?2, ?3) "
	               "ON CONFLICT (name) DO UPDATE SET def = excluded.def, "
	               "updated = excluded.updated",
	[ST_JOB_DEL] = "DELETE FROM jobs WHERE name = ?1",
	[ST_JOB_EACH] = "SELECT name, def FROM jobs ORDER BY name",
	[ST_RUN_INSERT] =
		"INSERT INTO runs (jid, job, action, target, \"trigger\", attempt, "
		"parent, priority, status, result, return_code, sig, time_created, "
		"time_not_before, time_started, time_finished, spec, user, uid, pid, "
		"pid_start, worker, stdout_truncated, stderr_truncated, stdout, "
		"stderr) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
		"?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)",
	[ST_RUN_UPDATE] =
		"UPDATE runs SET target = ?4, attempt = ?6, parent = ?7, "
		"priority = ?8, status = ?9, result = ?10, return_code = ?11, "
		"sig = ?12, time_created = ?13, time_not_before = ?14, "
		"time_started = ?15, time_finished = ?16, spec = ?17, user = ?18, "
		"pid = ?20, pid_start = ?21, worker = ?22, stdout_truncated = ?23, "
		"stderr_truncated = ?24, stdout = ?25, stderr = ?26 WHERE id = ?27",
	[ST_RUN_GET_JID] = "SELECT " RUN_COLS_NOOUT " FROM runs WHERE jid = ?1",
	[ST_RUN_GET_JID_OUT] = "SELECT " RUN_COLS_OUT " FROM runs WHERE jid = ?1",
	[ST_RUN_GET_ID] = "SELECT " RUN_COLS_NOOUT " FROM runs WHERE id = ?1",
	[ST_RUN_GET_ID_OUT] = "SELECT " RUN_COLS_OUT " FROM runs WHERE id = ?1",
	[ST_RUN_MAX_JID] = "SELECT max(jid) FROM runs",
	[ST_RUN_LAST] = RUNROW_LAST_SQL_STEPPED(RUN_COLS_NOOUT, "runs"),
	/* A claim is one guarded UPDATE: of two claimers only one sees its
	 * row change.  An empty jid counts as none. */
	[ST_RUN_CLAIM] =
		"UPDATE runs SET status = 'accepted', worker = ?2, "
		"jid = COALESCE(NULLIF(jid, ''), ?3) WHERE id = ?1 AND status = ?4",
	[ST_RUN_STATUS] = "SELECT status FROM runs WHERE id = ?1",
	/* INDEXED BY: without statistics the planner would take
	 * runs_status_target and read every finished run on each sweep;
	 * in time order it reads only the ones it deletes */
	[ST_RUN_SWEEP] =
		"DELETE FROM runs WHERE id IN (SELECT id FROM runs INDEXED BY "
		"runs_time_finished WHERE time_finished < ?1 AND status IN "
		"('done', 'ignored') LIMIT ?2)",
	[ST_TARGET_PUT] =
		"INSERT INTO targets (name, concurrency, paused) VALUES (?1, ?2, ?3) "
		"ON CONFLICT (name) DO UPDATE SET concurrency = excluded.concurrency, "
		"paused = excluded.paused",
	[ST_TARGET_DEL] = "DELETE FROM targets WHERE name = ?1",
	[ST_TARGET_EACH] = "SELECT name, concurrency, paused FROM targets ORDER BY name",
	[ST_KV_GET] = "SELECT value FROM kv WHERE key = ?1",
	[ST_KV_PUT] = "INSERT INTO kv (key, value) VALUES (?1, ?2) "
	              "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	/* every change of a definition counts (store.h STORE_UPDATE_SEQ) */
	[ST_SEQ_BUMP] = "INSERT INTO kv (key, value) VALUES ('" STORE_UPDATE_SEQ "', '1') "
	                "ON CONFLICT (key) DO UPDATE SET value = "
	                "CAST(CAST(value AS INTEGER) + 1 AS TEXT)",
};


static struct sq *sq_of(struct store *s) { return (struct sq *)s; }

/* Records SQLite's message for a failed call and maps its code. */
static int sq_fail(struct sq *s, int rc)
{
	snprintf(s->errmsg, sizeof(s->errmsg), "%s", sqlite3_errmsg(s->db));
	return sq_errno_of(rc);
}

/* Records a message of our own (not from SQLite) and returns `ret`. */
__attribute__((format(printf, 3, 4)))
static int sq_failf(struct sq *s, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
	return ret;
}

/* Ends a use of a cached statement: ready for the next use, and no binding
 * left pointing at caller memory. */
static void stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Ends a listing's statement: the cached one is reset, a nested one's own
 * is finalized. */
static void list_done(sqlite3_stmt *st, int owned)
{
	if (owned)
		sqlite3_finalize(st);
	else
		stmt_done(st);
}

/* Steps a statement that returns no rows, then resets it. */
static int step_done(struct sq *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	int ret = rc == SQLITE_DONE ? 0 : sq_fail(s, rc);

	stmt_done(st);
	return ret;
}

/* Binding helpers: each does nothing once *rc holds an error, so a run of
 * binds needs one check at the end. */
static void b_text(sqlite3_stmt *st, int i, const char *v, int *rc)
{
	if (*rc == SQLITE_OK)
		*rc = v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC)
		        : sqlite3_bind_null(st, i);
}

static void b_int(sqlite3_stmt *st, int i, int64_t v, int *rc)
{
	if (*rc == SQLITE_OK)
		*rc = sqlite3_bind_int64(st, i, v);
}

static void b_blob(sqlite3_stmt *st, int i, const char *v, size_t n, int *rc)
{
	if (*rc != SQLITE_OK)
		return;
	if (!v)
		*rc = sqlite3_bind_null(st, i);
	else if (n == 0)
		*rc = sqlite3_bind_zeroblob(st, i, 0);   /* empty, not NULL */
	else
		*rc = sqlite3_bind_blob64(st, i, v, n, SQLITE_STATIC);
}

/* ---- open, migrations, close ------------------------------------------ */

static void sq_close(struct store *base)
{
	struct sq *s = sq_of(base);

	if (!s)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	for (int i = 0; i < Q_SHAPES; i++)
		sqlite3_finalize(s->list[i]);
	sqlite3_close(s->db);   /* all statements are finalized: cannot be BUSY */
	free(s->path);
	free(s->desc);
	free(s);
}

static int prepare_all(struct sq *s, char *err, size_t errlen)
{
	for (int i = 0; i < ST_COUNT; i++) {
		int rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
		                            SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL);
		if (rc != SQLITE_OK) {
			snprintf(err, errlen, "cannot open store '%s': preparing "
			         "statement %d: %s", s->path, i, sqlite3_errmsg(s->db));
			return sq_errno_of(rc);
		}
	}
	return 0;
}

/* "sqlite:" + the absolute path (the file exists once opened). */
static int make_desc(struct sq *s)
{
	char *abs = realpath(s->path, NULL);
	const char *p = abs ? abs : s->path;
	size_t n = strlen("sqlite:") + strlen(p) + 1;

	s->desc = malloc(n);
	if (s->desc)
		snprintf(s->desc, n, "sqlite:%s", p);
	free(abs);
	return s->desc ? 0 : -ENOMEM;
}

static int open_db(struct sq *s, char *err, size_t errlen)
{
	int rc = sqlite3_open_v2(s->path, &s->db,
	                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                         SQLITE_OPEN_NOMUTEX, NULL);
	int sys;

	if (rc == SQLITE_OK) {
		sqlite3_extended_result_codes(s->db, 1);
		return 0;
	}
	sys = s->db ? sqlite3_system_errno(s->db) : 0;
	if (sys)
		snprintf(err, errlen, "cannot open store '%s': %s (%s)", s->path,
		         s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc),
		         strerror(sys));
	else
		snprintf(err, errlen, "cannot open store '%s': %s", s->path,
		         s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	return sys ? -sys : sq_errno_of(rc);
}

static const struct store_vt sq_vt;

int store_sqlite_open(const char *spec, struct store **out, char *err,
                      size_t errlen)
{
	struct sq *s = calloc(1, sizeof(*s));
	int sync_full = 0;
	int ret;

	*out = NULL;
	err[0] = '\0';
	if (!s)
		return -ENOMEM;
	s->base.vt = &sq_vt;
	ret = sq_parse_options(spec ? spec : "", &s->path, &sync_full, err, errlen);
	if (ret < 0)
		goto error;
	ret = open_db(s, err, errlen);
	if (ret < 0)
		goto error;
	ret = sq_configure(s, sync_full, err, errlen);
	if (ret < 0)
		goto error;
	ret = sq_migrate(s, err, errlen);
	if (ret < 0)
		goto error;
	ret = prepare_all(s, err, errlen);
	if (ret < 0)
		goto error;
	ret = make_desc(s);
	if (ret < 0)
		goto error;
	*out = &s->base;
	return 0;
error:
	store_open_fail(ret, err, errlen, s->path ? s->path : spec, s->errmsg);
	sq_close(&s->base);
	return ret;
}

static const char *sq_error(struct store *b) { return sq_of(b)->errmsg; }
static const char *sq_describe(struct store *b) { return sq_of(b)->desc; }

/* ---- transactions ----------------------------------------------------- */

static int sq_begin(struct store *base)
{
	struct sq *s = sq_of(base);

	if (!sqlite3_get_autocommit(s->db))
		return sq_failf(s, -EINVAL, "begin: a transaction is already open");
	return step_done(s, s->st[ST_BEGIN]);
}

static int sq_commit(struct store *base)
{
	struct sq *s = sq_of(base);

	if (sqlite3_get_autocommit(s->db))
		return sq_failf(s, -EINVAL, "commit: no transaction is open");
	return step_done(s, s->st[ST_COMMIT]);
}

static int sq_rollback(struct store *base)
{
	struct sq *s = sq_of(base);

	if (sqlite3_get_autocommit(s->db))
		return sq_failf(s, -EINVAL, "rollback: no transaction is open");
	return step_done(s, s->st[ST_ROLLBACK]);
}

/* ---- jobs ------------------------------------------------------------- */

static int sq_job_put(struct store *base, const char *name, const char *def)
{
	struct sq *s = sq_of(base);
	sqlite3_stmt *st = s->st[ST_JOB_PUT];
	int rc = SQLITE_OK;

	if (!name || !def)
		return sq_failf(s, -EINVAL, "job_put: name and definition are required");
	b_text(st, 1, name, &rc);
	b_text(st, 2, def, &rc);
	b_int(st, 3, now_us(), &rc);
	if (rc != SQLITE_OK) {
		stmt_done(st);
		return sq_fail(s, rc);
	}
	rc = step_done(s, st);
	return rc < 0 ? rc : step_done(s, s->st[ST_SEQ_BUMP]);
}

/* Runs a one-key DELETE; -ENOENT when no row matched. */
static int delete_by_name(struct sq *s, enum stmt_id id, const char *name,
                          const char *what)
{
	sqlite3_stmt *st = s->st[id];
	int rc = SQLITE_OK;
	int ret;

	b_text(st, 1, name, &rc);
	if (rc != SQLITE_OK) {
		stmt_done(st);
		return sq_fail(s, rc);
	}
	ret = step_done(s, st);
	if (ret == 0 && sqlite3_changes(s->db) == 0)
		return sq_failf(s, -ENOENT, "%s '%s' not found", what,
		                name ? name : "(null)");
	return ret;
}

static int sq_job_del(struct store *base, const char *name)
{
	int rc = delete_by_name(sq_of(base), ST_JOB_DEL, name, "job");
	return rc < 0 ? rc : step_done(sq_of(base), sq_of(base)->st[ST_SEQ_BUMP]);
}

static int sq_job_each(struct store *base, store_job_cb cb, void *ctx)
{
	struct sq *s = sq_of(base);
	sqlite3_stmt *st = s->st[ST_JOB_EACH];
	int rc = SQLITE_DONE, ret = 0;

	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		ret = cb(ctx, (const char *)sqlite3_column_text(st, 0),
		         (const char *)sqlite3_column_text(st, 1));
	if (ret == 0 && rc != SQLITE_DONE)
		ret = sq_fail(s, rc);
	stmt_done(st);
	return ret;
}

/* ---- runs: binding and decoding ---------------------------------------- */


/* Binds ?1..?26 (see stmt_sql); "none" values become NULL. */
static int bind_run(sqlite3_stmt *st, const struct run *r)
{
	int rc = SQLITE_OK;

	b_text(st, 1, r->jid, &rc);
	b_text(st, 2, r->job, &rc);
	b_text(st, 3, r->action, &rc);
	b_text(st, 4, r->target, &rc);
	b_text(st, 5, run_trigger_name(r->trigger), &rc);
	b_int(st, 6, r->attempt, &rc);
	b_text(st, 7, r->parent[0] ? r->parent : NULL, &rc);
	b_int(st, 8, r->priority, &rc);
	b_text(st, 9, run_status_name(r->status), &rc);
	b_text(st, 10, run_result_name(r->result), &rc);
	if (r->return_code != -1)
		b_int(st, 11, r->return_code, &rc);
	b_text(st, 12, r->sig[0] ? r->sig : NULL, &rc);
	b_int(st, 13, r->time_created, &rc);
	b_int(st, 14, r->time_not_before, &rc);
	b_int(st, 15, r->time_started, &rc);
	b_int(st, 16, r->time_finished, &rc);
	b_text(st, 17, r->spec, &rc);
	b_text(st, 18, r->user, &rc);
	b_int(st, 19, r->uid, &rc);
	if (r->pid != 0)
		b_int(st, 20, r->pid, &rc);
	b_int(st, 21, r->pid_start, &rc);
	b_text(st, 22, r->worker, &rc);
	b_int(st, 23, r->out_truncated, &rc);
	b_int(st, 24, r->err_truncated, &rc);
	b_blob(st, 25, r->out, r->out_len, &rc);
	b_blob(st, 26, r->errout, r->err_len, &rc);
	return rc;
}

/* The row accessor runrow_decode reads SQLite's current row through. */
static int acc_null(void *row, int i)
{
	return sqlite3_column_type(row, i) == SQLITE_NULL;
}

static int64_t acc_int(void *row, int i) { return sqlite3_column_int64(row, i); }

static const char *acc_text(void *row, int i, size_t *len)
{
	const char *v = (const char *)sqlite3_column_text(row, i);

	*len = (size_t)sqlite3_column_bytes(row, i);
	return v;
}

/* An empty blob reads as NULL from SQLite: a zero-length value then. */
static const char *acc_blob(void *row, int i, size_t *len)
{
	const char *v = sqlite3_column_blob(row, i);

	*len = (size_t)sqlite3_column_bytes(row, i);
	return v ? v : "";
}

static const struct runrow_acc sq_acc = {
	.is_null = acc_null, .get_int = acc_int, .text = acc_text, .blob = acc_blob,
};

static int decode_run(sqlite3_stmt *st, struct run *r)
{
	return runrow_decode(&sq_acc, st, r);
}

/* ---- runs ------------------------------------------------------------- */

static int sq_run_insert(struct store *base, struct run *r)
{
	struct sq *s = sq_of(base);
	sqlite3_stmt *st = s->st[ST_RUN_INSERT];
	int rc, ret = store_run_check(r, s->errmsg, sizeof s->errmsg);

	if (ret < 0)
		return ret;
	rc = bind_run(st, r);
	if (rc != SQLITE_OK) {
		stmt_done(st);
		return sq_fail(s, rc);
	}
	ret = step_done(s, st);
	if (ret == 0)
		r->id = sqlite3_last_insert_rowid(s->db);
	return ret;
}

static int sq_run_update(struct store *base, const struct run *r)
{
	struct sq *s = sq_of(base);
	sqlite3_stmt *st = s->st[ST_RUN_UPDATE];
	int rc, ret = store_run_check(r, s->errmsg, sizeof s->errmsg);

	if (ret < 0)
		return ret;
	rc = bind_run(st, r);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 27, r->id);
	if (rc != SQLITE_OK) {
		stmt_done(st);
		return sq_fail(s, rc);
	}
	ret = step_done(s, st);
	if (ret == 0 && sqlite3_changes(s->db) == 0)
		return sq_failf(s, -ENOENT, "run id %lld not found", (long long)r->id);
	return ret;
}

/* Steps a bound single-row run SELECT into *out and resets it. */
static int get_one(struct sq *s, sqlite3_stmt *st, struct run *out,
                   const char *what)
{
	int rc = sqlite3_step(st);
	int ret;

	if (rc == SQLITE_ROW)
		ret = decode_run(st, out);
	else if (rc == SQLITE_DONE)
		ret = sq_failf(s, -ENOENT, "run %s not found", what);
	else
		ret = sq_fail(s, rc);
	stmt_done(st);
	return ret;
}

static int sq_run_get(struct store *base, const char *jid, int with_output,
                      struct run *out)
{
	struct sq *s = sq_of(base);
	sqlite3_stmt *st = s->st[with_output ? ST_RUN_GET_JID_OUT : ST_RUN_GET_JID];
	int rc = SQLITE_OK;

	if (!jid)
		return sq_failf(s, -EINVAL, "run_get: jid is required");
	b_text(st, 1, jid, &rc);
	if (rc != SQLITE_OK) {
		stmt_done(st);
		return sq_fail(s, rc);
	}
	return get_one(s, st, out, jid);
}

static int sq_run_get_id(struct store *base, int64_t id, int with_output,
                         struct run *out)
{
	struct sq *s = sq_of(base);
	sqlite3_stmt *st = s->st[with_output ? ST_RUN_GET_ID_OUT : ST_RUN_GET_ID];
	char what[32];
	int rc = SQLITE_OK;

	b_int(st, 1, id, &rc);
	if (rc != SQLITE_OK) {
		stmt_done(st);
		return sq_fail(s, rc);
	}
	snprintf(what, sizeof(what), "id %lld", (long long)id);
	return get_one(s, st, out, what);
}

static const struct runrow_dialect sq_dialect = {
	.cols = RUN_COLS_NOOUT,
	.cols_out = RUN_COLS_OUT,
	.created = "time_created",
};

/* Prepares a shape's statement into *st. */
static int list_prepare(struct sq *s, unsigned shape, unsigned flags,
                        sqlite3_stmt **st)
{
	char sql[1024];
	int rc;

	if (runrow_list_sql(&sq_dialect, "runs", shape, sql, sizeof(sql)) < 0)
		return sq_failf(s, -EINVAL, "run_list: query too long");
	rc = sqlite3_prepare_v3(s->db, sql, -1, flags, st, NULL);
	return rc == SQLITE_OK ? 0 : sq_fail(s, rc);
}

/* The statement of a query, prepared and bound: the shape's cached one,
 * or, for a listing nested in a callback of the same shape (the cached
 * one is mid-iteration), one of its own that *owned says to finalize. */
static int list_stmt(struct sq *s, const struct run_query *q,
                     sqlite3_stmt **out, int *owned)
{
	unsigned shape = runrow_list_shape(q);
	struct runrow_arg args[RUNROW_MAX_ARGS];
	int n = runrow_list_args(q, args);
	sqlite3_stmt *st = s->list[shape];
	int rc = SQLITE_OK, ret;

	*owned = 0;
	if (!st && (ret = list_prepare(s, shape, SQLITE_PREPARE_PERSISTENT,
	                               &s->list[shape])) < 0)
		return ret;
	st = s->list[shape];
	if (sqlite3_stmt_busy(st)) {
		if ((ret = list_prepare(s, shape, 0, &st)) < 0)
			return ret;
		*owned = 1;
	}
	for (int i = 0; i < n; i++) {
		if (args[i].is_text)
			b_text(st, i + 1, args[i].s, &rc);
		else
			b_int(st, i + 1, args[i].i, &rc);
	}
	*out = st;
	if (rc == SQLITE_OK)
		return 0;
	ret = sq_fail(s, rc);
	list_done(st, *owned);
	return ret;
}

/* Each row of st to cb, then st is done with (list_done). */
static int step_runs(struct sq *s, sqlite3_stmt *st, int owned,
                     store_run_cb cb, void *ctx)
{
	struct run r;
	int rc = SQLITE_DONE, ret = 0;

	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((ret = decode_run(st, &r)) < 0)
			break;
		ret = cb(ctx, &r);
		run_clear(&r);
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = sq_fail(s, rc);
	list_done(st, owned);
	return ret;
}

static int sq_run_list(struct store *base, const struct run_query *q,
                       store_run_cb cb, void *ctx)
{
	struct sq *s = sq_of(base);
	sqlite3_stmt *st = NULL;
	int owned, ret;

	if ((ret = runrow_query_check(q, s->errmsg, sizeof(s->errmsg))) < 0)
		return ret;
	if ((ret = list_stmt(s, q, &st, &owned)) < 0)
		return ret;
	return step_runs(s, st, owned, cb, ctx);
}

static int sq_run_last_each(struct store *base, store_run_cb cb, void *ctx)
{
	struct sq *s = sq_of(base);
	sqlite3_stmt *st = s->st[ST_RUN_LAST];
	int owned = sqlite3_stmt_busy(st), rc;

	/* nested in its own callback: a statement of its own */
	if (owned && (rc = sqlite3_prepare_v2(s->db, sqlite3_sql(st), -1, &st,
	                                      NULL)) != SQLITE_OK)
		return sq_fail(s, rc);
	return step_runs(s, st, owned, cb, ctx);
}

static int sq_run_max_jid(struct store *base, char out[JID_LEN + 1])
{
	struct sq *s = sq_of(base);
	sqlite3_stmt *st = s->st[ST_RUN_MAX_JID];
	int rc = sqlite3_step(st);
	int ret = 0;

	out[0] = '\0';
	if (rc == SQLITE_ROW)
		snprintf(out, JID_LEN + 1, "%s",
		         sqlite3_column_text(st, 0)
		         ? (const char *)sqlite3_column_text(st, 0) : "");
	else
		ret = sq_fail(s, rc);
	stmt_done(st);
	return ret;
}

static int sq_run_claim(struct store *base, int64_t id, int from_status,
                        const char *worker, const char *jid)
{
	struct sq *s = sq_of(base);
	sqlite3_stmt *st = s->st[ST_RUN_CLAIM];
	const char *from = run_status_name(from_status);
	int rc = SQLITE_OK;
	int ret;

	if (!from || !jid || !*jid)
		return sq_failf(s, -EINVAL, "run_claim: a status and a jid are required");
	b_int(st, 1, id, &rc);
	b_text(st, 2, worker, &rc);
	b_text(st, 3, jid, &rc);
	b_text(st, 4, from, &rc);
	if (rc != SQLITE_OK) {
		stmt_done(st);
		return sq_fail(s, rc);
	}
	ret = step_done(s, st);
	if (ret < 0 || sqlite3_changes(s->db) > 0)
		return ret;
	/* Nothing changed: tell "gone" from "someone else has it". */
	st = s->st[ST_RUN_STATUS];
	b_int(st, 1, id, &rc);
	if (rc != SQLITE_OK) {
		stmt_done(st);
		return sq_fail(s, rc);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *now = sqlite3_column_text(st, 0);
		ret = sq_failf(s, -EBUSY, "run id %lld: status = %s != %s",
		               (long long)id, now ? (const char *)now : "NULL", from);
	} else if (rc == SQLITE_DONE) {
		ret = sq_failf(s, -ENOENT, "run id %lld not found", (long long)id);
	} else {
		ret = sq_fail(s, rc);
	}
	stmt_done(st);
	return ret;
}

static int sq_run_sweep(struct store *base, int64_t before, int batch)
{
	struct sq *s = sq_of(base);
	sqlite3_stmt *st = s->st[ST_RUN_SWEEP];
	int rc = SQLITE_OK;
	int ret;

	if (batch <= 0)
		return sq_failf(s, -EINVAL, "run_sweep: batch %d must be positive", batch);
	b_int(st, 1, before, &rc);
	b_int(st, 2, batch, &rc);
	if (rc != SQLITE_OK) {
		stmt_done(st);
		return sq_fail(s, rc);
	}
	ret = step_done(s, st);
	return ret < 0 ? ret : sqlite3_changes(s->db);
}

/* ---- targets ---------------------------------------------------------- */

static int sq_target_put(struct store *base, const char *name, int concurrency,
                         int paused)
{
	struct sq *s = sq_of(base);
	sqlite3_stmt *st = s->st[ST_TARGET_PUT];
	int rc = SQLITE_OK;

	if (!name)
		return sq_failf(s, -EINVAL, "target_put: name is required");
	b_text(st, 1, name, &rc);
	b_int(st, 2, concurrency, &rc);
	b_int(st, 3, paused ? 1 : 0, &rc);
	if (rc != SQLITE_OK) {
		stmt_done(st);
		return sq_fail(s, rc);
	}
	return step_done(s, st);
}

static int sq_target_del(struct store *base, const char *name)
{
	return delete_by_name(sq_of(base), ST_TARGET_DEL, name, "target");
}

static int sq_target_each(struct store *base, store_target_cb cb, void *ctx)
{
	struct sq *s = sq_of(base);
	sqlite3_stmt *st = s->st[ST_TARGET_EACH];
	int rc = SQLITE_DONE, ret = 0;

	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		ret = cb(ctx, (const char *)sqlite3_column_text(st, 0),
		         sqlite3_column_int(st, 1), sqlite3_column_int(st, 2));
	if (ret == 0 && rc != SQLITE_DONE)
		ret = sq_fail(s, rc);
	stmt_done(st);
	return ret;
}

/* ---- kv --------------------------------------------------------------- */

static int sq_kv_get(struct store *base, const char *key, char **val)
{
	struct sq *s = sq_of(base);
	sqlite3_stmt *st = s->st[ST_KV_GET];
	int rc = SQLITE_OK;
	int ret;

	*val = NULL;
	b_text(st, 1, key, &rc);
	if (rc != SQLITE_OK) {
		stmt_done(st);
		return sq_fail(s, rc);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *v = sqlite3_column_text(st, 0);
		*val = strdup(v ? (const char *)v : "");
		ret = *val ? 0 : -ENOMEM;
	} else if (rc == SQLITE_DONE) {
		ret = sq_failf(s, -ENOENT, "key '%s' not found", key ? key : "(null)");
	} else {
		ret = sq_fail(s, rc);
	}
	stmt_done(st);
	return ret;
}

static int sq_kv_put(struct store *base, const char *key, const char *val)
{
	struct sq *s = sq_of(base);
	sqlite3_stmt *st = s->st[ST_KV_PUT];
	int rc = SQLITE_OK;

	if (!key || !val)
		return sq_failf(s, -EINVAL, "kv_put: key and value are required");
	b_text(st, 1, key, &rc);
	b_text(st, 2, val, &rc);
	if (rc != SQLITE_OK) {
		stmt_done(st);
		return sq_fail(s, rc);
	}
	return step_done(s, st);
}

/* A local file is never "out of reach"; a lock held past busy_timeout
 * is the one wait worth repeating. */
static int sq_unavailable(struct store *base)
{
	int rc = sqlite3_errcode(sq_of(base)->db) & 0xff;
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

static const struct store_vt sq_vt = STORE_VT(sq);
