/* mysql.c — the MariaDB/MySQL store behind store.h, on libmariadb: its
 * operations.  Connection and prepared statements are mysql_conn.c, the
 * schema mysql_schema.c, the URI mysql_uri.c (mysql_int.h joins them),
 * run rows runrow.c (shared with sqlite.c).  It is
 * (MariaDB Connector/C), selected by
 *
 *   mysql://USER:PASS@HOST:PORT/DB?table=jobs[&socket=/path]
 *
 * (mariadb:// is the same).  USER and PASS may be percent-encoded.  Without
 * socket= the connection is TCP to HOST:PORT (default port 3306) even when
 * HOST is "localhost": libmariadb would otherwise silently use its default
 * unix socket and ignore the port, which is the `mysql_port` defect of the
 * original queue daemon.  With socket= it is that unix socket.
 *
 * The run table is the original queue daemon's table (its CREATE TABLE is
 * used as-is when jobd creates the table, with a wider `target`): id, target,
 * slot, time_created/started/finished in unix SECONDS, status and result
 * enums, return_code tinyint unsigned, sig char(10), stdout/stderr
 * mediumtext.  Applications keep INSERTing rows the original way and keep
 * their own extra columns; jobd only ADDs the columns it needs (migration 1,
 * ALTER TABLE ... ADD COLUMN IF NOT EXISTS) and never alters or drops a
 * column it did not add.  Choices forced by that table:
 *   - times: jobd keeps microseconds in extra columns time_*_us beside the
 *     seconds columns and reads the microsecond value only while it still
 *     agrees with the seconds column; a row written by another program
 *     (seconds only, or seconds changed later) reads as seconds * 10^6;
 *   - return_code -1 ("none") and codes outside 0..255 are NULL; sig is cut
 *     to the column's 10 characters;
 *   - stdout/stderr are text columns: output is stored as UTF-8 with invalid
 *     sequences (and, if the column is not utf8mb4, 4-byte characters)
 *     replaced by U+FFFD; NUL bytes are kept;
 *   - rows inserted by other programs have no jid (NULL): run_claim gives
 *     them one.
 * The schema version is kept per run table in jobd_meta(k, v) under
 * "schema/<table>"; migrations run under GET_LOCK so two jobds starting at
 * once do not race.  jobd_jobs, jobd_targets and jobd_kv are shared by all
 * jobd instances using the database.
 *
 * The session runs in READ COMMITTED with strict sql_mode: a claim is a
 * guarded UPDATE (status must still be the expected one) and its affected
 * row count (CLIENT_FOUND_ROWS: matched rows) says who won.
 *
 * Connection loss (2006/2013 and kin): the call reconnects at once,
 * re-prepares and retries its statement once, except inside a transaction,
 * which the server has rolled back (the call and the commit then fail with
 * -EIO).  A failed reconnect is not retried here: the store thread
 * (engine/storeq.c) retries unavailable writes with its back-off, and reads
 * fail fast; each call on a disconnected store tries to connect once.
 *
 * Threads: all state is in struct my (no globals, no statics but constant
 * tables), and each vtable call is self-contained on its connection, so a
 * store may be driven from a libuv worker thread as long as one thread at a
 * time uses it (libmariadb connections are not shared between threads;
 * mysql_init performs libmariadb's once-only library init).  The engine
 * still calls it on the loop thread today.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <mysqld_error.h>

#include "core/timefmt.h"
#include "store/mysql_int.h"

#define SIG_COL_LEN 10           /* sig char(10) of the original table */

/* A microsecond time read back: the _us column while it agrees with the
 * seconds column (another program may have written only seconds). */
#define TUS(c) "IF(" c "_us DIV 1000000 <=> " c ", " c "_us, " c " * 1000000)"

#define RUN_COLS_OUT RUNROW_COLS_OUT(TUS)
#define RUN_COLS_NOOUT RUNROW_COLS_NOOUT(TUS)

/* The columns every write sets, in bind order (bind_mutable). */
#define RUN_MUTABLE \
	"target = ?, attempt = ?, parent = ?, priority = ?, status = ?, " \
	"result = ?, return_code = ?, sig = ?, time_created = ?, " \
	"time_created_us = ?, time_not_before = ?, time_started = ?, " \
	"time_started_us = ?, time_finished = ?, time_finished_us = ?, " \
	"spec = ?, `user` = ?, pid = ?, pid_start = ?, worker = ?, " \
	"stdout_truncated = ?, stderr_truncated = ?, stdout = ?, stderr = ?"

/* SQL templates; @T is the run table's name (validated: [A-Za-z0-9_]). */
static const char *const stmt_sql[ST_COUNT] = {
	[ST_JOB_PUT] = "INSERT INTO jobd_jobs (name, def, updated) VALUES (?, ?, ?) "
	               "ON DUPLICATE KEY UPDATE def = VALUES(def), "
	               "updated = VALUES(updated)",
	[ST_JOB_DEL] = "DELETE FROM jobd_jobs WHERE name = ?",
	[ST_JOB_EACH] = "SELECT name, def FROM jobd_jobs ORDER BY name",
	[ST_RUN_INSERT] = "INSERT INTO `@T` SET jid = ?, job = ?, action = ?, "
	                  "`trigger` = ?, uid = ?, " RUN_MUTABLE,
	[ST_RUN_UPDATE] = "UPDATE `@T` SET " RUN_MUTABLE " WHERE id = ?",
	[ST_RUN_INSERT_ID] = "SELECT id FROM `@T` WHERE jid = ?",
	[ST_RUN_GET_JID] = "SELECT " RUN_COLS_NOOUT " FROM `@T` WHERE jid = ?",
	[ST_RUN_GET_JID_OUT] = "SELECT " RUN_COLS_OUT " FROM `@T` WHERE jid = ?",
	[ST_RUN_GET_ID] = "SELECT " RUN_COLS_NOOUT " FROM `@T` WHERE id = ?",
	[ST_RUN_GET_ID_OUT] = "SELECT " RUN_COLS_OUT " FROM `@T` WHERE id = ?",
	[ST_RUN_MAX_JID] = "SELECT MAX(jid) FROM `@T`",
	[ST_RUN_LAST] = RUNROW_LAST_SQL_GROUPED(RUN_COLS_NOOUT, "`@T`"),
	[ST_RUN_CLAIM] = "UPDATE `@T` SET status = 'accepted', worker = ?, "
	                 "jid = COALESCE(NULLIF(jid, ''), ?) WHERE id = ? AND status = ?",
	[ST_RUN_CLAIM_CHECK] = "SELECT status, worker FROM `@T` WHERE id = ?",
	[ST_RUN_SWEEP] = "DELETE FROM `@T` WHERE status IN ('done', 'ignored') "
	                 "AND time_finished <= ? AND " TUS("time_finished")
	                 " < ? LIMIT ?",
	[ST_TARGET_PUT] = "INSERT INTO jobd_targets (name, concurrency, paused) "
	                  "VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE "
	                  "concurrency = VALUES(concurrency), paused = VALUES(paused)",
	[ST_TARGET_DEL] = "DELETE FROM jobd_targets WHERE name = ?",
	[ST_TARGET_EACH] = "SELECT name, concurrency, paused FROM jobd_targets "
	                   "ORDER BY name",
	[ST_KV_GET] = "SELECT v FROM jobd_kv WHERE k = ?",
	[ST_KV_PUT] = "INSERT INTO jobd_kv (k, v) VALUES (?, ?) "
	              "ON DUPLICATE KEY UPDATE v = VALUES(v)",
	/* every change of a definition counts (store.h STORE_UPDATE_SEQ);
	 * one statement, so two daemons never give out the same number */
	[ST_SEQ_BUMP] = "INSERT INTO jobd_kv (k, v) VALUES ('" STORE_UPDATE_SEQ "', '1') "
	                "ON DUPLICATE KEY UPDATE v = CAST(v AS UNSIGNED) + 1",
};


/* ---- open, close ---------------------------------------------------------- */

static void my_close(struct store *base)
{
	struct my *m = my_of(base);

	if (!m)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		my_mst_free(&m->st[i]);
	for (int i = 0; i < Q_SHAPES; i++)
		my_mst_free(&m->list[i]);
	for (int i = 0; i < LEASE_STMTS; i++)
		my_mst_free(&m->lease[i]);
	if (m->db)
		mysql_close(m->db);
	my_uri_free(&m->u);
	free(m);
}

static int prepare_sql(struct my *m)
{
	for (int i = 0; i < ST_COUNT; i++) {
		m->st[i].sql = my_sql_expand(stmt_sql[i], m->u.table);
		if (!m->st[i].sql)
			return -ENOMEM;
	}
	return 0;
}

static const struct store_vt my_vt;

int store_mysql_open(const char *uri, struct store **out, char *err,
                     size_t errlen)
{
	struct my *m = calloc(1, sizeof(*m));
	int ret;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->base.vt = &my_vt;
	err[0] = '\0';
	ret = my_uri_parse(&m->u, uri, err, errlen);
	if (ret == 0)
		ret = prepare_sql(m);
	if (ret == 0)
		ret = my_connect(m);
	if (ret == 0)
		ret = my_migrate(m);
	if (ret == 0)
		ret = my_probe_charset(m);
	if (ret < 0)
		goto error;
	*out = &m->base;
	return 0;
error:
	store_open_fail(ret, err, errlen, m->u.desc ? m->u.desc : "mysql",
	                m->errmsg);
	my_close(&m->base);
	return ret;
}

static const char *my_error(struct store *b) { return my_of(b)->errmsg; }
static const char *my_describe(struct store *b) { return my_of(b)->u.desc; }

/* ---- transactions ------------------------------------------------------- */

static int begin_txn(struct my *m)
{
	int ret;

	if (m->in_txn)
		return my_failf(m, -EINVAL, "begin: a transaction is already open");
	ret = my_ensure_conn(m);
	if (ret == 0 && (ret = my_query(m, "START TRANSACTION")) < 0 &&
	    my_is_lost(mysql_errno(m->db))) {
		my_disconnect(m);     /* no transaction yet: nothing is lost */
		ret = my_ensure_conn(m);
		if (ret == 0)
			ret = my_query(m, "START TRANSACTION");
	}
	if (ret == 0)
		m->in_txn = 1;
	return ret;
}

static int my_begin(struct store *base) { return begin_txn(my_of(base)); }

static int my_commit(struct store *base)
{
	struct my *m = my_of(base);

	if (!m->in_txn)
		return my_failf(m, -EINVAL, "commit: no transaction is open");
	if (m->txn_lost)
		return my_failf(m, -EIO, "commit: the connection to MariaDB was lost "
		                "in this transaction; the server rolled it back");
	if (!m->db || mysql_commit(m->db) != 0) {
		unsigned e = m->db ? mysql_errno(m->db) : CR_SERVER_GONE_ERROR;
		my_failf(m, my_errno_of(e), "commit: %s",
		         m->db ? mysql_error(m->db) : "not connected");
		if (my_is_lost(e)) {
			my_disconnect(m);
			m->txn_lost = 1;
		}
		return m->txn_lost ? -EIO : my_errno_of(e);
	}
	m->in_txn = 0;
	return 0;
}

static int my_rollback(struct store *base)
{
	struct my *m = my_of(base);
	int lost = m->txn_lost;

	if (!m->in_txn)
		return my_failf(m, -EINVAL, "rollback: no transaction is open");
	m->in_txn = 0;
	m->txn_lost = 0;
	if (lost || !m->db)
		return 0;          /* the server already rolled it back */
	if (mysql_rollback(m->db) != 0) {
		unsigned e = mysql_errno(m->db);
		my_failf(m, my_errno_of(e), "rollback: %s", mysql_error(m->db));
		if (my_is_lost(e)) {
			my_disconnect(m);
			return 0;  /* gone with the connection */
		}
		return my_errno_of(e);
	}
	return 0;
}

/* A deadlock rolls the whole transaction back on the server: later
 * statements would run outside it, so it is marked lost. */
static int note_deadlock(struct my *m, struct mst *t, int ret)
{
	if (ret < 0 && m->in_txn && t->h && mysql_stmt_errno(t->h) == ER_LOCK_DEADLOCK)
		m->txn_lost = 1;
	return ret;
}

/* Executes a statement that returns no rows; *affected (may be NULL) gets
 * the matched-row count. */
static int exec_write(struct my *m, enum stmt_id id, struct params *p,
                      unsigned long long *affected, int *retried)
{
	struct mst *t = &m->st[id];
	int ret = note_deadlock(m, t, my_exec(m, t, p, retried));

	if (ret == 0 && affected)
		*affected = mysql_stmt_affected_rows(t->h);
	return ret;
}

/* ---- jobs --------------------------------------------------------------- */

static int my_job_put(struct store *base, const char *name, const char *def)
{
	struct my *m = my_of(base);
	struct params p = {0};

	if (!name || !def)
		return my_failf(m, -EINVAL, "job_put: name and definition are required");
	p_str(&p, name);
	p_str(&p, def);
	p_int(&p, now_us());
	int ret = exec_write(m, ST_JOB_PUT, &p, NULL, NULL);
	struct params none = {0};
	return ret < 0 ? ret : exec_write(m, ST_SEQ_BUMP, &none, NULL, NULL);
}

static int delete_by_name(struct my *m, enum stmt_id id, const char *name,
                          const char *what)
{
	struct params p = {0};
	unsigned long long n = 0;
	int ret;

	if (!name)
		return my_failf(m, -EINVAL, "%s: name is required", what);
	p_str(&p, name);
	ret = exec_write(m, id, &p, &n, NULL);
	if (ret == 0 && n == 0)
		return my_failf(m, -ENOENT, "%s '%s' not found", what, name);
	return ret;
}

static int my_job_del(struct store *base, const char *name)
{
	struct params none = {0};
	int ret = delete_by_name(my_of(base), ST_JOB_DEL, name, "job");
	return ret < 0 ? ret : exec_write(my_of(base), ST_SEQ_BUMP, &none, NULL,
	                                  NULL);
}

/* Rows of name-keyed tables, copied out before any callback runs so a
 * callback may call the store again. */
struct named {
	char *name, *text;
	int a, b;
};

static void named_free(struct named *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].text);
	}
	free(v);
}

/* Runs a SELECT of (name, text) or (name, int, int) into a vector. */
static int collect_named(struct my *m, enum stmt_id id, int ints,
                         struct named **out, size_t *count)
{
	struct mst *t = &m->st[id];
	struct named *v = NULL;
	size_t n = 0, cap = 0;
	int ret = my_exec(m, t, NULL, NULL), rc;

	while (ret == 0 && (rc = my_fetch(m, t)) != 0) {
		if (rc < 0) {
			ret = rc;
			break;
		}
		if (n == cap) {
			struct named *nv = reallocarray(v, cap ? cap * 2 : 16, sizeof(*v));
			if (!nv) {
				ret = my_failf(m, -ENOMEM, "out of memory");
				break;
			}
			v = nv;
			cap = cap ? cap * 2 : 16;
		}
		memset(&v[n], 0, sizeof(v[n]));
		ret = my_col_dup(t, 0, &v[n].name, NULL);
		if (ret == 0 && !ints)
			ret = my_col_dup(t, 1, &v[n].text, NULL);
		if (ints) {
			v[n].a = (int)my_col_int(t, 1);
			v[n].b = (int)my_col_int(t, 2);
		}
		n++;
	}
	my_result_done(t);
	if (ret < 0) {
		named_free(v, n);
		return ret;
	}
	*out = v;
	*count = n;
	return 0;
}

static int my_job_each(struct store *base, store_job_cb cb, void *ctx)
{
	struct named *v = NULL;
	size_t n = 0;
	int ret = collect_named(my_of(base), ST_JOB_EACH, 0, &v, &n);

	for (size_t i = 0; ret == 0 && i < n; i++)
		ret = cb(ctx, v[i].name, v[i].text ? v[i].text : "");
	named_free(v, n);
	return ret;
}

/* ---- runs: binding and decoding ----------------------------------------- */


/* The seconds and microseconds of one time: both columns. */
static void p_time(struct params *p, int64_t us)
{
	p_int(p, us > 0 ? us / US_PER_S : 0);
	p_int(p, us);
}

struct outbufs {
	char *out, *err;       /* cleaned copies, or NULL */
};

/* Binds the RUN_MUTABLE columns in order. */
static int bind_mutable(struct my *m, struct params *p, const struct run *r,
                        struct outbufs *ob)
{
	size_t on = r->out_len, en = r->err_len;
	const char *ov = r->out, *ev = r->errout;
	int ret = 0;

	if (ov && (ret = my_utf8_clean(ov, on, m->out_mb4, &ob->out, &on)) == 0 && ob->out)
		ov = ob->out;
	if (ret == 0 && ev &&
	    (ret = my_utf8_clean(ev, en, m->out_mb4, &ob->err, &en)) == 0 && ob->err)
		ev = ob->err;
	if (ret < 0)
		return my_failf(m, ret, "run %s: out of memory", r->jid);
	p_str(p, r->target);
	p_int(p, r->attempt);
	p_str(p, r->parent[0] ? r->parent : NULL);
	p_int(p, r->priority);
	p_str(p, run_status_name(r->status));
	p_str(p, run_result_name(r->result));
	if (r->return_code >= 0 && r->return_code <= 255)
		p_int(p, r->return_code);
	else
		p_null(p);             /* -1 = none; tinyint unsigned holds no more */
	p_strn(p, r->sig[0] ? r->sig : NULL, strnlen(r->sig, SIG_COL_LEN));
	p_time(p, r->time_created);
	p_int(p, r->time_not_before);
	p_time(p, r->time_started);
	p_time(p, r->time_finished);
	p_str(p, r->spec);
	p_str(p, r->user);
	if (r->pid != 0)
		p_int(p, r->pid);
	else
		p_null(p);
	p_int(p, r->pid_start);
	p_str(p, r->worker);
	p_int(p, r->out_truncated);
	p_int(p, r->err_truncated);
	p_strn(p, ov, on);
	p_strn(p, ev, en);
	return 0;
}

static int decode_run(struct mst *t, struct run *r)
{
	return runrow_decode(&my_acc, t, r);
}

/* ---- runs --------------------------------------------------------------- */

/* After a retried insert whose first attempt may have been applied: the
 * row is ours if it has our jid. */
static int insert_id_by_jid(struct my *m, struct run *r)
{
	struct mst *t = &m->st[ST_RUN_INSERT_ID];
	struct params p = {0};
	int ret, rc;

	p_str(&p, r->jid);
	ret = my_exec(m, t, &p, NULL);
	if (ret == 0) {
		rc = my_fetch(m, t);
		if (rc > 0)
			r->id = my_col_int(t, 0);
		ret = rc > 0 ? 0 : rc < 0 ? rc
		     : my_failf(m, -EIO, "run %s: insert lost with the connection", r->jid);
	}
	my_result_done(t);
	return ret;
}

static int my_run_insert(struct store *base, struct run *r)
{
	struct my *m = my_of(base);
	struct params p = {0};
	struct outbufs ob = {0};
	int retried = 0;
	int ret = store_run_check(r, m->errmsg, sizeof m->errmsg);

	if (ret < 0)
		return ret;
	p_str(&p, r->jid[0] ? r->jid : NULL);
	p_str(&p, r->job);
	p_str(&p, r->action);
	p_str(&p, run_trigger_name(r->trigger));
	p_int(&p, r->uid);
	ret = bind_mutable(m, &p, r, &ob);
	if (ret == 0)
		ret = exec_write(m, ST_RUN_INSERT, &p, NULL, &retried);
	if (ret == 0)
		r->id = (int64_t)mysql_stmt_insert_id(m->st[ST_RUN_INSERT].h);
	else if (ret == -EEXIST && retried && r->jid[0])
		ret = insert_id_by_jid(m, r);
	free(ob.out);
	free(ob.err);
	return ret;
}

static int my_run_update(struct store *base, const struct run *r)
{
	struct my *m = my_of(base);
	struct params p = {0};
	struct outbufs ob = {0};
	unsigned long long n = 0;
	int ret = store_run_check(r, m->errmsg, sizeof m->errmsg);

	if (ret == 0)
		ret = bind_mutable(m, &p, r, &ob);
	if (ret == 0) {
		p_int(&p, r->id);
		ret = exec_write(m, ST_RUN_UPDATE, &p, &n, NULL);
	}
	free(ob.out);
	free(ob.err);
	if (ret == 0 && n == 0)
		return my_failf(m, -ENOENT, "run id %lld not found", (long long)r->id);
	return ret;
}

static int get_one(struct my *m, enum stmt_id id, struct params *p,
                   struct run *out, const char *what)
{
	struct mst *t = &m->st[id];
	int ret = my_exec(m, t, p, NULL), rc;

	if (ret < 0)
		return ret;
	rc = my_fetch(m, t);
	if (rc > 0)
		ret = decode_run(t, out);
	else
		ret = rc < 0 ? rc : my_failf(m, -ENOENT, "run %s not found", what);
	my_result_done(t);
	return ret;
}

static int my_run_get(struct store *base, const char *jid, int with_output,
                      struct run *out)
{
	struct my *m = my_of(base);
	struct params p = {0};

	if (!jid)
		return my_failf(m, -EINVAL, "run_get: jid is required");
	p_str(&p, jid);
	return get_one(m, with_output ? ST_RUN_GET_JID_OUT : ST_RUN_GET_JID, &p,
	               out, jid);
}

static int my_run_get_id(struct store *base, int64_t id, int with_output,
                         struct run *out)
{
	struct my *m = my_of(base);
	struct params p = {0};
	char what[32];

	p_int(&p, id);
	snprintf(what, sizeof(what), "id %lld", (long long)id);
	return get_one(m, with_output ? ST_RUN_GET_ID_OUT : ST_RUN_GET_ID, &p,
	               out, what);
}

static const struct runrow_dialect my_dialect = {
	.cols = RUN_COLS_NOOUT,
	.cols_out = RUN_COLS_OUT,
	.created = TUS("time_created"),
};

static void list_params(const struct run_query *q, struct params *p)
{
	struct runrow_arg args[RUNROW_MAX_ARGS];
	int n = runrow_list_args(q, args);

	for (int i = 0; i < n; i++) {
		if (args[i].is_text)
			p_str(p, args[i].s);
		else
			p_int(p, args[i].i);
	}
}

/* Runs of a listing, decoded before any callback runs: a callback may use
 * the store (even list again) without disturbing the result. */
struct runvec {
	struct run *v;
	size_t n, cap;
};

static int runvec_push(struct runvec *rv, struct mst *t)
{
	if (rv->n == rv->cap) {
		size_t cap = rv->cap ? rv->cap * 2 : 32;
		struct run *v = reallocarray(rv->v, cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		rv->v = v;
		rv->cap = cap;
	}
	if (decode_run(t, &rv->v[rv->n]) < 0)
		return -ENOMEM;
	rv->n++;
	return 0;
}

static int list_collect(struct my *m, const struct run_query *q,
                        struct runvec *rv)
{
	unsigned shape = runrow_list_shape(q);
	struct mst *t = &m->list[shape];
	struct params p = {0};
	char sql[2048];
	int ret, rc;

	if (!t->sql) {
		if (runrow_list_sql(&my_dialect, m->u.table, shape, sql, sizeof(sql)) < 0)
			return my_failf(m, -EINVAL, "run_list: query too long");
		if (!(t->sql = strdup(sql)))
			return my_failf(m, -ENOMEM, "out of memory");
	}
	list_params(q, &p);
	ret = my_exec(m, t, &p, NULL);
	while (ret == 0 && (rc = my_fetch(m, t)) != 0) {
		ret = rc < 0 ? rc : runvec_push(rv, t);
		if (ret == -ENOMEM)
			my_failf(m, ret, "run_list: out of memory");
	}
	my_result_done(t);
	return ret;
}

static int my_run_list(struct store *base, const struct run_query *q,
                       store_run_cb cb, void *ctx)
{
	struct my *m = my_of(base);
	struct runvec rv = {0};
	size_t i = 0;
	int ret;

	if ((ret = runrow_query_check(q, m->errmsg, sizeof(m->errmsg))) < 0)
		return ret;
	ret = list_collect(m, q, &rv);
	for (; ret == 0 && i < rv.n; i++)
		ret = cb(ctx, &rv.v[i]);      /* the callback may keep the strings */
	for (size_t k = 0; k < rv.n; k++)
		run_clear(&rv.v[k]);
	free(rv.v);
	return ret;
}

/* Decoded before any callback runs, as run_list's. */
static int my_run_last_each(struct store *base, store_run_cb cb, void *ctx)
{
	struct my *m = my_of(base);
	struct mst *t = &m->st[ST_RUN_LAST];
	struct runvec rv = {0};
	int ret = my_exec(m, t, NULL, NULL), rc;

	while (ret == 0 && (rc = my_fetch(m, t)) != 0) {
		ret = rc < 0 ? rc : runvec_push(&rv, t);
		if (ret == -ENOMEM)
			my_failf(m, ret, "run_last_each: out of memory");
	}
	my_result_done(t);
	for (size_t i = 0; ret == 0 && i < rv.n; i++)
		ret = cb(ctx, &rv.v[i]);
	for (size_t k = 0; k < rv.n; k++)
		run_clear(&rv.v[k]);
	free(rv.v);
	return ret;
}

static int my_run_max_jid(struct store *base, char out[JID_LEN + 1])
{
	struct my *m = my_of(base);
	struct mst *t = &m->st[ST_RUN_MAX_JID];
	int ret = my_exec(m, t, NULL, NULL), rc;

	out[0] = '\0';
	if (ret < 0)
		return ret;
	rc = my_fetch(m, t);
	if (rc > 0)
		my_col_fixed(t, 0, out, JID_LEN + 1);
	my_result_done(t);
	return rc < 0 ? rc : 0;
}

/* After a claim that changed nothing: whose is the row now? */
static int claim_check(struct my *m, int64_t id, const char *from,
                       const char *worker, int retried)
{
	struct mst *t = &m->st[ST_RUN_CLAIM_CHECK];
	struct params p = {0};
	int ret, rc;

	p_int(&p, id);
	ret = my_exec(m, t, &p, NULL);
	if (ret < 0)
		return ret;
	rc = my_fetch(m, t);
	if (rc < 0)
		ret = rc;
	else if (rc == 0)
		ret = my_failf(m, -ENOENT, "run id %lld not found", (long long)id);
	else if (retried && !my_col_null(t, 0) && !my_col_null(t, 1) &&
	         strcmp(t->cols[0].buf, "accepted") == 0 &&
	         strcmp(t->cols[1].buf, worker) == 0)
		ret = 0;   /* the first attempt won; only its reply was lost */
	else
		ret = my_failf(m, -EBUSY, "run id %lld: status = %s != %s",
		               (long long)id, my_col_null(t, 0) ? "NULL" : t->cols[0].buf,
		               from);
	my_result_done(t);
	return ret;
}

static int my_run_claim(struct store *base, int64_t id, int from_status,
                        const char *worker, const char *jid)
{
	struct my *m = my_of(base);
	struct params p = {0};
	unsigned long long n = 0;
	int retried = 0, ret;

	if (!run_status_name(from_status))
		return my_failf(m, -EINVAL, "run_claim: status %d is invalid",
		                from_status);
	if (!worker || !jid || !jid[0])
		return my_failf(m, -EINVAL, "run_claim: a worker and a jid are required");
	p_str(&p, worker);
	p_str(&p, jid);
	p_int(&p, id);
	p_str(&p, run_status_name(from_status));
	ret = exec_write(m, ST_RUN_CLAIM, &p, &n, &retried);
	if (ret < 0 || n == 1)
		return ret;
	return claim_check(m, id, run_status_name(from_status), worker, retried);
}

static int my_run_sweep(struct store *base, int64_t before, int batch)
{
	struct my *m = my_of(base);
	struct params p = {0};
	unsigned long long n = 0;
	int ret;

	if (batch <= 0)
		return my_failf(m, -EINVAL, "run_sweep: batch %d must be positive", batch);
	p_int(&p, before > 0 ? before / US_PER_S : 0);
	p_int(&p, before);
	p_int(&p, batch);
	ret = exec_write(m, ST_RUN_SWEEP, &p, &n, NULL);
	return ret < 0 ? ret : (int)n;
}

/* ---- targets ------------------------------------------------------------ */

static int my_target_put(struct store *base, const char *name, int concurrency,
                         int paused)
{
	struct my *m = my_of(base);
	struct params p = {0};

	if (!name)
		return my_failf(m, -EINVAL, "target_put: name is required");
	p_str(&p, name);
	p_int(&p, concurrency);
	p_int(&p, paused ? 1 : 0);
	return exec_write(m, ST_TARGET_PUT, &p, NULL, NULL);
}

static int my_target_del(struct store *base, const char *name)
{
	return delete_by_name(my_of(base), ST_TARGET_DEL, name, "target");
}

static int my_target_each(struct store *base, store_target_cb cb, void *ctx)
{
	struct named *v = NULL;
	size_t n = 0;
	int ret = collect_named(my_of(base), ST_TARGET_EACH, 1, &v, &n);

	for (size_t i = 0; ret == 0 && i < n; i++)
		ret = cb(ctx, v[i].name, v[i].a, v[i].b);
	named_free(v, n);
	return ret;
}

/* ---- kv ----------------------------------------------------------------- */

static int my_kv_get(struct store *base, const char *key, char **val)
{
	struct my *m = my_of(base);
	struct mst *t = &m->st[ST_KV_GET];
	struct params p = {0};
	int ret, rc;

	*val = NULL;
	if (!key)
		return my_failf(m, -EINVAL, "kv_get: key is required");
	p_str(&p, key);
	ret = my_exec(m, t, &p, NULL);
	if (ret < 0)
		return ret;
	rc = my_fetch(m, t);
	if (rc > 0) {
		*val = strdup(my_col_null(t, 0) ? "" : t->cols[0].buf);
		ret = *val ? 0 : my_failf(m, -ENOMEM, "out of memory");
	} else {
		ret = rc < 0 ? rc : my_failf(m, -ENOENT, "key '%s' not found", key);
	}
	my_result_done(t);
	return ret;
}

static int my_kv_put(struct store *base, const char *key, const char *val)
{
	struct my *m = my_of(base);
	struct params p = {0};

	if (!key || !val)
		return my_failf(m, -EINVAL, "kv_put: key and value are required");
	p_str(&p, key);
	p_str(&p, val);
	return exec_write(m, ST_KV_PUT, &p, NULL, NULL);
}

/* Disconnected (the server is down or the link broke) or a transaction
 * the server rolled back with the connection: worth trying again. */
static int my_unavailable(struct store *base)
{
	struct my *m = my_of(base);
	return !m->db || m->txn_lost;
}

static const struct store_vt my_vt = STORE_VT(my);
