/* mysql.c — the MariaDB/MySQL store behind store.h, on libmariadb
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
 * -EIO).  A failed reconnect backs off (100 ms doubling to 10 s) without
 * sleeping: calls in the back-off window fail fast with -EIO, so the loop is
 * not held up by a dead server more than once per window.
 *
 * Threads: all state is in struct my (no globals, no statics but constant
 * tables), and each vtable call is self-contained on its connection, so a
 * store may be driven from a libuv worker thread as long as one thread at a
 * time uses it (libmariadb connections are not shared between threads;
 * mysql_init performs libmariadb's once-only library init).  The engine
 * still calls it on the loop thread today.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "store/store.h"

#define TABLE_MAX 64
#define SIG_COL_LEN 10           /* sig char(10) of the original table */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 10000
#define MAX_PARAMS 32
#define COL_INIT_CAP 64

enum stmt_id {
	ST_JOB_PUT, ST_JOB_DEL, ST_JOB_EACH,
	ST_RUN_INSERT, ST_RUN_UPDATE, ST_RUN_INSERT_ID,
	ST_RUN_GET_JID, ST_RUN_GET_JID_OUT, ST_RUN_GET_ID, ST_RUN_GET_ID_OUT,
	ST_RUN_MAX_JID, ST_RUN_CLAIM, ST_RUN_CLAIM_CHECK, ST_RUN_SWEEP,
	ST_TARGET_PUT, ST_TARGET_DEL, ST_TARGET_EACH,
	ST_KV_GET, ST_KV_PUT,
	ST_COUNT
};

/* A microsecond time read back: the _us column while it agrees with the
 * seconds column (another program may have written only seconds). */
#define TUS(c) "IF(" c "_us DIV 1000000 <=> " c ", " c "_us, " c " * 1000000)"

#define RUN_COLS \
	"id, jid, job, action, target, `trigger`, attempt, parent, priority, " \
	"status, result, return_code, sig, " TUS("time_created") ", " \
	"time_not_before, " TUS("time_started") ", " TUS("time_finished") ", " \
	"spec, `user`, uid, pid, pid_start, worker, stdout_truncated, " \
	"stderr_truncated"
#define RUN_COLS_OUT RUN_COLS ", stdout, stderr"
#define RUN_COLS_NOOUT RUN_COLS ", NULL, NULL"

enum col {
	C_ID, C_JID, C_JOB, C_ACTION, C_TARGET, C_TRIGGER, C_ATTEMPT, C_PARENT,
	C_PRIORITY, C_STATUS, C_RESULT, C_RETURN_CODE, C_SIG, C_TIME_CREATED,
	C_TIME_NOT_BEFORE, C_TIME_STARTED, C_TIME_FINISHED, C_SPEC, C_USER, C_UID,
	C_PID, C_PID_START, C_WORKER, C_OUT_TRUNC, C_ERR_TRUNC, C_STDOUT, C_STDERR
};

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
};

/* Migrations: each an ordered list of statements (NULL-terminated), @T the
 * run table.  Every statement is idempotent (IF NOT EXISTS), because DDL
 * commits implicitly and a crash may stop a migration half-way; the version
 * row is written after the last one.  Never edit a released one: append. */
static const char *const migration_1[] = {
	/* The original queue table, for when there is none yet. */
	"CREATE TABLE IF NOT EXISTS `@T` ("
	" `id` int(10) UNSIGNED NOT NULL AUTO_INCREMENT,"
	" `target` varchar(64) COLLATE utf8mb4_bin NOT NULL,"
	" `slot` char(16) DEFAULT NULL,"
	" `time_created` int(10) UNSIGNED NOT NULL,"
	" `time_started` int(10) UNSIGNED NOT NULL DEFAULT 0,"
	" `time_finished` int(10) UNSIGNED NOT NULL DEFAULT 0,"
	" `status` enum('waiting','manual','accepted','running','done','ignored')"
	"   NOT NULL DEFAULT 'waiting',"
	" `result` enum('ok','fail') DEFAULT NULL,"
	" `return_code` tinyint(3) UNSIGNED DEFAULT NULL,"
	" `sig` char(10) DEFAULT NULL,"
	" `stdout` mediumtext DEFAULT NULL,"
	" `stderr` mediumtext DEFAULT NULL,"
	" PRIMARY KEY (`id`),"
	" KEY `status_target_idx` (`status`, `target`, `id`)"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	/* jobd's own columns, on a table of any origin. */
	"ALTER TABLE `@T`"
	" ADD COLUMN IF NOT EXISTS `jid` varchar(20) CHARACTER SET ascii NULL,"
	" ADD COLUMN IF NOT EXISTS `job` varchar(64)"
	"   CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,"
	" ADD COLUMN IF NOT EXISTS `action` varchar(64)"
	"   CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,"
	" ADD COLUMN IF NOT EXISTS `trigger` varchar(16) CHARACTER SET ascii NULL,"
	" ADD COLUMN IF NOT EXISTS `attempt` int NULL,"
	" ADD COLUMN IF NOT EXISTS `parent` varchar(20) CHARACTER SET ascii NULL,"
	" ADD COLUMN IF NOT EXISTS `priority` int NULL,"
	" ADD COLUMN IF NOT EXISTS `time_not_before` bigint NULL,"
	" ADD COLUMN IF NOT EXISTS `time_created_us` bigint NULL,"
	" ADD COLUMN IF NOT EXISTS `time_started_us` bigint NULL,"
	" ADD COLUMN IF NOT EXISTS `time_finished_us` bigint NULL,"
	" ADD COLUMN IF NOT EXISTS `spec` mediumtext CHARACTER SET utf8mb4 NULL,"
	" ADD COLUMN IF NOT EXISTS `user` varchar(64)"
	"   CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,"
	" ADD COLUMN IF NOT EXISTS `uid` int UNSIGNED NULL,"
	" ADD COLUMN IF NOT EXISTS `pid` int NULL,"
	" ADD COLUMN IF NOT EXISTS `pid_start` bigint NULL,"
	" ADD COLUMN IF NOT EXISTS `worker` varchar(255)"
	"   CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,"
	" ADD COLUMN IF NOT EXISTS `stdout_truncated` tinyint NULL,"
	" ADD COLUMN IF NOT EXISTS `stderr_truncated` tinyint NULL,"
	" ADD UNIQUE KEY IF NOT EXISTS `jobd_jid` (`jid`),"
	" ADD KEY IF NOT EXISTS `jobd_job` (`job`, `id`),"
	" ADD KEY IF NOT EXISTS `jobd_time_finished` (`time_finished`),"
	" ADD KEY IF NOT EXISTS `jobd_uid` (`uid`)",
	"CREATE TABLE IF NOT EXISTS jobd_jobs ("
	" name varchar(64) COLLATE utf8mb4_bin PRIMARY KEY,"
	" def mediumtext NOT NULL,"
	" updated bigint"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	"CREATE TABLE IF NOT EXISTS jobd_targets ("
	" name varchar(64) COLLATE utf8mb4_bin PRIMARY KEY,"
	" concurrency int NOT NULL,"
	" paused tinyint NOT NULL DEFAULT 0"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	"CREATE TABLE IF NOT EXISTS jobd_kv ("
	" k varchar(191) COLLATE utf8mb4_bin PRIMARY KEY,"
	" v mediumtext"
	") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
	NULL
};

static const char *const *const migrations[] = { migration_1 };
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* run_list shapes: which filters a query has.  Each shape's statement is
 * prepared on first use and kept. */
enum {
	Q_JOB = 1, Q_TARGET = 2, Q_STATUS = 4, Q_ACTIVE = 8, Q_SINCE = 16,
	Q_UID = 32, Q_DESC = 64, Q_OUTPUT = 128, Q_LIMIT = 256, Q_SHAPES = 512
};

/* One result column, fetched as a string (ints convert), grown on demand. */
struct rescol {
	char *buf;
	unsigned long cap, len;
	my_bool isnull, err;
};

/* A prepared statement that survives reconnects: sql is kept, h is
 * re-prepared lazily on the new connection. */
struct mst {
	MYSQL_STMT *h;
	char *sql;
	unsigned ncols;
	struct rescol *cols;
	MYSQL_BIND *rb;
};

struct my {
	struct store base;
	MYSQL *db;                   /* NULL while disconnected */
	char *host, *user, *pass, *dbname, *socket, *table;
	unsigned port;
	char *desc;
	char errmsg[512];
	int in_txn;
	int txn_lost;                /* the server rolled the open txn back */
	int out_mb4;                 /* stdout/stderr accept 4-byte UTF-8 */
	int64_t retry_at_ms;         /* no reconnect attempt before this */
	int backoff_ms;
	struct mst st[ST_COUNT];
	struct mst list[Q_SHAPES];
};

/* Statement parameters, bound by position. */
struct params {
	MYSQL_BIND b[MAX_PARAMS];
	long long iv[MAX_PARAMS];
	unsigned long len[MAX_PARAMS];
	unsigned n;
};

static struct my *my_of(struct store *s) { return (struct my *)s; }

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * US_PER_S + ts.tv_nsec / 1000;
}

__attribute__((format(printf, 3, 4)))
static int my_failf(struct my *m, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->errmsg, sizeof(m->errmsg), fmt, ap);
	va_end(ap);
	return ret;
}

/* Errors after which the connection is gone (the server restarted, was
 * killed, timed the session out). */
static int is_lost(unsigned e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
	       e == ER_CONNECTION_KILLED || e == 4031 /* client idle timeout */ ||
	       e == ER_SERVER_SHUTDOWN;
}

static int errno_of(unsigned e)
{
	switch (e) {
	case ER_DUP_ENTRY:
		return -EEXIST;
	case ER_DATA_TOO_LONG:
	case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:
	case ER_WARN_DATA_OUT_OF_RANGE:
	case WARN_DATA_TRUNCATED:
	case ER_BAD_NULL_ERROR:
		return -EINVAL;
	case ER_LOCK_WAIT_TIMEOUT:
	case ER_LOCK_DEADLOCK:
		return -EBUSY;
	case CR_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

/* ---- SQL text ---------------------------------------------------------- */

/* A copy of `tmpl` with every "@T" replaced by the table name. */
static char *sql_expand(const char *tmpl, const char *table)
{
	size_t tl = strlen(table), n = 0;
	const char *p;
	char *out, *o;

	for (p = tmpl; (p = strstr(p, "@T")); p += 2)
		n++;
	out = malloc(strlen(tmpl) + n * tl + 1);
	if (!out)
		return NULL;
	for (o = out, p = tmpl; *p;) {
		if (p[0] == '@' && p[1] == 'T') {
			memcpy(o, table, tl);
			o += tl;
			p += 2;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

/* ---- parameters -------------------------------------------------------- */

static MYSQL_BIND *p_next(struct params *p)
{
	MYSQL_BIND *b = &p->b[p->n];

	memset(b, 0, sizeof(*b));
	p->n++;
	return b;
}

static void p_null(struct params *p)
{
	p_next(p)->buffer_type = MYSQL_TYPE_NULL;
}

static void p_strn(struct params *p, const char *v, size_t n)
{
	unsigned i = p->n;
	MYSQL_BIND *b;

	if (!v) {
		p_null(p);
		return;
	}
	b = p_next(p);
	p->len[i] = (unsigned long)n;
	b->buffer_type = MYSQL_TYPE_STRING;
	b->buffer = (void *)v;
	b->buffer_length = (unsigned long)n;
	b->length = &p->len[i];
}

static void p_str(struct params *p, const char *v)
{
	p_strn(p, v, v ? strlen(v) : 0);
}

static void p_int(struct params *p, long long v)
{
	unsigned i = p->n;
	MYSQL_BIND *b = p_next(p);

	p->iv[i] = v;
	b->buffer_type = MYSQL_TYPE_LONGLONG;
	b->buffer = &p->iv[i];
}

/* ---- connection -------------------------------------------------------- */

static void stmt_close(struct mst *t)
{
	if (t->h)
		mysql_stmt_close(t->h);
	t->h = NULL;
}

static void disconnect(struct my *m)
{
	for (int i = 0; i < ST_COUNT; i++)
		stmt_close(&m->st[i]);
	for (int i = 0; i < Q_SHAPES; i++)
		stmt_close(&m->list[i]);
	if (m->db)
		mysql_close(m->db);
	m->db = NULL;
}

/* Connection options: TCP unless a socket is named (so the port counts),
 * utf8mb4, bounded waits, and the session settings the SQL relies on
 * (re-applied on every reconnect). */
static int set_options(struct my *m, MYSQL *db)
{
	unsigned proto = m->socket ? MYSQL_PROTOCOL_SOCKET : MYSQL_PROTOCOL_TCP;
	unsigned conn_to = 5, rw_to = 60;
	int rc = 0;

	rc |= mysql_options(db, MYSQL_OPT_PROTOCOL, &proto);
	rc |= mysql_options(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	rc |= mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &conn_to);
	rc |= mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &rw_to);
	rc |= mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &rw_to);
	rc |= mysql_options(db, MYSQL_INIT_COMMAND,
	                    "SET SESSION sql_mode = "
	                    "'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'");
	rc |= mysql_options(db, MYSQL_INIT_COMMAND,
	                    "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
	rc |= mysql_options(db, MYSQL_INIT_COMMAND,
	                    "SET SESSION innodb_lock_wait_timeout = 10");
	return rc ? -EINVAL : 0;
}

/* Connects now; on failure records why and backs off. */
static int connect_now(struct my *m)
{
	MYSQL *db = mysql_init(NULL);

	if (!db)
		return my_failf(m, -ENOMEM, "mysql: out of memory");
	if (set_options(m, db) < 0) {
		mysql_close(db);
		return my_failf(m, -EINVAL, "mysql: cannot set connection options");
	}
	if (!mysql_real_connect(db, m->socket ? NULL : m->host, m->user, m->pass,
	                        m->dbname, m->port, m->socket, CLIENT_FOUND_ROWS)) {
		my_failf(m, -EIO, "cannot connect to MariaDB at %s: %s", m->desc,
		         mysql_error(db));
		mysql_close(db);
		m->backoff_ms = m->backoff_ms ? m->backoff_ms * 2 : BACKOFF_MIN_MS;
		if (m->backoff_ms > BACKOFF_MAX_MS)
			m->backoff_ms = BACKOFF_MAX_MS;
		m->retry_at_ms = now_ms() + m->backoff_ms;
		return -EIO;
	}
	m->db = db;
	m->backoff_ms = 0;
	m->retry_at_ms = 0;
	return 0;
}

static int ensure_conn(struct my *m)
{
	int64_t wait;

	if (m->db)
		return 0;
	wait = m->retry_at_ms - now_ms();
	if (wait > 0)
		return my_failf(m, -EIO, "MariaDB at %s is unreachable; next "
		                "reconnect attempt in %lld ms", m->desc,
		                (long long)wait);
	return connect_now(m);
}

/* Runs one statement of plain SQL (no results kept) on the connection. */
static int query(struct my *m, const char *sql)
{
	MYSQL_RES *res;

	if (mysql_query(m->db, sql) != 0)
		return my_failf(m, errno_of(mysql_errno(m->db)), "mysql: %s: %s",
		                sql, mysql_error(m->db));
	res = mysql_store_result(m->db);
	mysql_free_result(res);
	return 0;
}

/* ---- prepared statements ------------------------------------------------ */

static int stmt_fail(struct my *m, struct mst *t, const char *what)
{
	unsigned e = t->h ? mysql_stmt_errno(t->h) : mysql_errno(m->db);
	const char *msg = t->h ? mysql_stmt_error(t->h) : mysql_error(m->db);

	return my_failf(m, errno_of(e), "%s: %s", what, msg);
}

static int cols_alloc(struct mst *t, unsigned n)
{
	if (t->cols)
		return 0;
	t->cols = calloc(n ? n : 1, sizeof(*t->cols));
	t->rb = calloc(n ? n : 1, sizeof(*t->rb));
	if (!t->cols || !t->rb)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		t->cols[i].buf = malloc(COL_INIT_CAP);
		if (!t->cols[i].buf)
			return -ENOMEM;
		t->cols[i].cap = COL_INIT_CAP;
	}
	t->ncols = n;
	return 0;
}

static int prepare(struct my *m, struct mst *t)
{
	if (t->h)
		return 0;
	t->h = mysql_stmt_init(m->db);
	if (!t->h)
		return my_failf(m, -ENOMEM, "mysql: out of memory");
	if (mysql_stmt_prepare(t->h, t->sql, strlen(t->sql)) != 0)
		return stmt_fail(m, t, "preparing a statement");
	if (cols_alloc(t, mysql_stmt_field_count(t->h)) < 0)
		return my_failf(m, -ENOMEM, "mysql: out of memory");
	return 0;
}

static int bind_results(struct mst *t)
{
	for (unsigned i = 0; i < t->ncols; i++) {
		MYSQL_BIND *b = &t->rb[i];

		memset(b, 0, sizeof(*b));
		b->buffer_type = MYSQL_TYPE_STRING;
		b->buffer = t->cols[i].buf;
		b->buffer_length = t->cols[i].cap - 1;   /* room for a NUL */
		b->length = &t->cols[i].len;
		b->is_null = &t->cols[i].isnull;
		b->error = &t->cols[i].err;
	}
	return t->ncols ? (mysql_stmt_bind_result(t->h, t->rb) ? -EIO : 0) : 0;
}

/* One attempt: prepare if needed, bind, execute, buffer the result set. */
static int exec_once(struct my *m, struct mst *t, struct params *p)
{
	int ret = ensure_conn(m);

	if (ret == 0)
		ret = prepare(m, t);
	if (ret < 0)
		return ret;
	if (mysql_stmt_param_count(t->h) != (p ? p->n : 0))
		return my_failf(m, -EINVAL, "mysql: statement takes %lu parameters, "
		                "%u given", mysql_stmt_param_count(t->h), p ? p->n : 0);
	if (p && p->n && mysql_stmt_bind_param(t->h, p->b) != 0)
		return stmt_fail(m, t, "binding parameters");
	if (mysql_stmt_execute(t->h) != 0)
		return stmt_fail(m, t, "executing");
	if (t->ncols) {
		if (bind_results(t) < 0)
			return stmt_fail(m, t, "binding results");
		if (mysql_stmt_store_result(t->h) != 0)
			return stmt_fail(m, t, "reading results");
	}
	return 0;
}

/* The error number of the last failure on this statement or connection. */
static unsigned last_errno(struct my *m, struct mst *t)
{
	if (t->h && mysql_stmt_errno(t->h))
		return mysql_stmt_errno(t->h);
	return m->db ? mysql_errno(m->db) : 0;
}

/* Executes a statement; when the connection turns out to be gone it
 * reconnects, re-prepares and retries once (outside transactions).
 * *retried (may be NULL) says whether the statement was sent twice: the
 * first may have been applied with only its reply lost. */
static int exec(struct my *m, struct mst *t, struct params *p, int *retried)
{
	int ret;

	if (retried)
		*retried = 0;
	if (m->txn_lost)
		return my_failf(m, -EIO, "the connection to MariaDB was lost in a "
		                "transaction (the server rolled it back); roll back");
	ret = exec_once(m, t, p);
	if (ret == 0 || !m->db || !is_lost(last_errno(m, t)))
		return ret;
	disconnect(m);
	if (m->in_txn) {
		char first[sizeof(m->errmsg)];

		snprintf(first, sizeof(first), "%s", m->errmsg);
		m->txn_lost = 1;
		return my_failf(m, -EIO, "%s (connection lost in a transaction: the "
		                "server rolled it back)", first);
	}
	if (retried)
		*retried = 1;
	ret = exec_once(m, t, p);
	if (ret < 0 && m->db && is_lost(last_errno(m, t))) {
		disconnect(m);
		ret = -EIO;
	}
	return ret;
}

/* Fetches the next row of a buffered result: 1 = a row, 0 = no more,
 * negative errno on failure.  Columns that did not fit are grown and
 * fetched again; every non-NULL value ends with a NUL. */
static int fetch(struct my *m, struct mst *t)
{
	int rc = mysql_stmt_fetch(t->h);

	if (rc == MYSQL_NO_DATA)
		return 0;
	if (rc == 1)
		return stmt_fail(m, t, "fetching a row");
	for (unsigned i = 0; rc == MYSQL_DATA_TRUNCATED && i < t->ncols; i++) {
		struct rescol *c = &t->cols[i];
		char *nb;

		if (c->isnull || c->len < c->cap)
			continue;
		nb = realloc(c->buf, c->len + 1);
		if (!nb)
			return my_failf(m, -ENOMEM, "mysql: out of memory");
		c->buf = nb;
		c->cap = c->len + 1;
		t->rb[i].buffer = c->buf;
		t->rb[i].buffer_length = c->cap - 1;
		if (mysql_stmt_fetch_column(t->h, &t->rb[i], i, 0) != 0)
			return stmt_fail(m, t, "fetching a column");
	}
	if (rc == MYSQL_DATA_TRUNCATED && bind_results(t) < 0)
		return stmt_fail(m, t, "binding results");
	for (unsigned i = 0; i < t->ncols; i++)
		if (!t->cols[i].isnull)
			t->cols[i].buf[t->cols[i].len] = '\0';
	return 1;
}

static void result_done(struct mst *t)
{
	if (t->h)
		mysql_stmt_free_result(t->h);
}

static long long col_int(struct mst *t, int i)
{
	return t->cols[i].isnull ? 0 : strtoll(t->cols[i].buf, NULL, 10);
}

static int col_null(struct mst *t, int i) { return t->cols[i].isnull; }

/* A column as a malloc'd copy (NUL after it), NULL for SQL NULL. */
static int col_dup(struct mst *t, int i, char **out, size_t *len)
{
	struct rescol *c = &t->cols[i];

	*out = NULL;
	if (len)
		*len = 0;
	if (c->isnull)
		return 0;
	*out = malloc(c->len + 1);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, c->buf, c->len + 1);
	if (len)
		*len = c->len;
	return 0;
}

static void col_fixed(struct mst *t, int i, char *buf, size_t size)
{
	snprintf(buf, size, "%s", t->cols[i].isnull ? "" : t->cols[i].buf);
}

/* ---- open, migrations, close -------------------------------------------- */

static void mst_free(struct mst *t)
{
	stmt_close(t);
	for (unsigned i = 0; t->cols && i < t->ncols; i++)
		free(t->cols[i].buf);
	free(t->cols);
	free(t->rb);
	free(t->sql);
	memset(t, 0, sizeof(*t));
}

static void my_close(struct store *base)
{
	struct my *m = my_of(base);

	if (!m)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		mst_free(&m->st[i]);
	for (int i = 0; i < Q_SHAPES; i++)
		mst_free(&m->list[i]);
	if (m->db)
		mysql_close(m->db);
	free(m->host);
	free(m->user);
	free(m->pass);
	free(m->dbname);
	free(m->socket);
	free(m->table);
	free(m->desc);
	free(m);
}

/* One text query's first column of its first row, as an int (-1 if no row). */
static int query_int(struct my *m, const char *sql, long long *out)
{
	MYSQL_RES *res;
	MYSQL_ROW row;

	*out = -1;
	if (mysql_query(m->db, sql) != 0)
		return my_failf(m, errno_of(mysql_errno(m->db)), "%s", mysql_error(m->db));
	res = mysql_store_result(m->db);
	if (!res)
		return my_failf(m, -EIO, "%s", mysql_error(m->db));
	row = mysql_fetch_row(res);
	if (row && row[0])
		*out = strtoll(row[0], NULL, 10);
	mysql_free_result(res);
	return 0;
}

static int apply_migration(struct my *m, int v)
{
	char sql[256];

	for (const char *const *q = migrations[v]; *q; q++) {
		char *s = sql_expand(*q, m->table);
		int ret = s ? query(m, s) : -ENOMEM;

		free(s);
		if (ret < 0)
			return ret;
	}
	snprintf(sql, sizeof(sql), "REPLACE INTO jobd_meta (k, v) VALUES "
	         "('schema/%s', '%d')", m->table, v + 1);
	return query(m, sql);
}

static int migrate_locked(struct my *m)
{
	char sql[256];
	long long v;
	int ret;

	ret = query(m, "CREATE TABLE IF NOT EXISTS jobd_meta ("
	               " k varchar(191) COLLATE utf8mb4_bin PRIMARY KEY,"
	               " v varchar(255) NOT NULL"
	               ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
	if (ret < 0)
		return ret;
	snprintf(sql, sizeof(sql), "SELECT v FROM jobd_meta WHERE k = 'schema/%s'",
	         m->table);
	ret = query_int(m, sql, &v);
	if (ret < 0)
		return ret;
	if (v < 0)
		v = 0;
	if (v > SCHEMA_VERSION)
		return my_failf(m, -EPROTO, "schema version %lld of table %s is newer "
		                "than this jobd's (%d)", v, m->table, SCHEMA_VERSION);
	for (; v < SCHEMA_VERSION; v++) {
		ret = apply_migration(m, (int)v);
		if (ret < 0)
			return my_failf(m, ret, "migrating table %s to schema version "
			                "%lld: %s", m->table, v + 1, m->errmsg);
	}
	return 0;
}

/* Migrates under a named lock: two jobds opening one table at once apply
 * each migration once. */
static int migrate(struct my *m)
{
	char sql[256];
	long long got;
	int ret;

	snprintf(sql, sizeof(sql), "SELECT GET_LOCK(CONCAT('jobd:', DATABASE(), "
	         "'.%s'), 30)", m->table);
	ret = query_int(m, sql, &got);
	if (ret == 0 && got != 1)
		ret = my_failf(m, -EBUSY, "another jobd holds the migration lock of "
		               "table %s (waited 30 s)", m->table);
	if (ret < 0)
		return ret;
	ret = migrate_locked(m);
	snprintf(sql, sizeof(sql), "DO RELEASE_LOCK(CONCAT('jobd:', DATABASE(), "
	         "'.%s'))", m->table);
	if (mysql_query(m->db, sql) != 0 && ret == 0)
		ret = my_failf(m, -EIO, "%s", mysql_error(m->db));
	return ret;
}

/* Whether the output columns take 4-byte UTF-8 (utf8mb4); the original's
 * table is utf8 (3-byte). */
static int probe_charset(struct my *m)
{
	char sql[256];
	MYSQL_RES *res;
	MYSQL_ROW row;

	snprintf(sql, sizeof(sql), "SELECT CHARACTER_SET_NAME FROM "
	         "information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND "
	         "TABLE_NAME = '%s' AND COLUMN_NAME = 'stdout'", m->table);
	if (mysql_query(m->db, sql) != 0 || !(res = mysql_store_result(m->db)))
		return my_failf(m, -EIO, "%s", mysql_error(m->db));
	row = mysql_fetch_row(res);
	m->out_mb4 = row && row[0] && strcmp(row[0], "utf8mb4") == 0;
	mysql_free_result(res);
	return 0;
}

static int prepare_sql(struct my *m)
{
	for (int i = 0; i < ST_COUNT; i++) {
		m->st[i].sql = sql_expand(stmt_sql[i], m->table);
		if (!m->st[i].sql)
			return -ENOMEM;
	}
	return 0;
}

/* ---- URI ---------------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* A percent-decoded copy of s[0..n). */
static char *pct_dup(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			*o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

static int table_valid(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n > TABLE_MAX)
		return 0;
	return strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                 "0123456789_") == n;
}

/* "table=..&socket=.." */
static int parse_query(struct my *m, const char *q, char *err, size_t errlen)
{
	while (q && *q) {
		size_t len = strcspn(q, "&");
		const char *eq = memchr(q, '=', len);
		size_t kl = eq ? (size_t)(eq - q) : len;
		char **dst = NULL;

		if (kl == 5 && strncmp(q, "table", 5) == 0)
			dst = &m->table;
		else if (kl == 6 && strncmp(q, "socket", 6) == 0)
			dst = &m->socket;
		if (!dst || !eq) {
			snprintf(err, errlen, "store option '%.*s' is unknown (known: "
			         "table=NAME, socket=PATH)", (int)len, q);
			return -EINVAL;
		}
		free(*dst);
		*dst = pct_dup(eq + 1, len - kl - 1);
		if (!*dst)
			return -ENOMEM;
		q += len + (q[len] == '&');
	}
	return 0;
}

/* user[:pass]@ */
static int parse_userinfo(struct my *m, const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);

	m->user = pct_dup(s, colon ? (size_t)(colon - s) : n);
	if (colon)
		m->pass = pct_dup(colon + 1, n - (size_t)(colon - s) - 1);
	return !m->user || (colon && !m->pass) ? -ENOMEM : 0;
}

/* host[:port] or [v6]:port */
static int parse_hostport(struct my *m, const char *s, size_t n, char *err,
                          size_t errlen)
{
	const char *port = NULL;
	size_t hl = n;
	char *end;
	long v;

	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close)
			goto bad;
		m->host = strndup(s + 1, (size_t)(close - s) - 1);
		if ((size_t)(close - s) + 1 < n) {
			if (close[1] != ':')
				goto bad;
			port = close + 2;
		}
	} else {
		const char *colon = memchr(s, ':', n);
		if (colon) {
			hl = (size_t)(colon - s);
			port = colon + 1;
		}
		m->host = strndup(s, hl);
	}
	if (!m->host)
		return -ENOMEM;
	m->port = 3306;
	if (port) {
		size_t pl = n - (size_t)(port - s);
		char buf[8];
		if (pl == 0 || pl >= sizeof(buf))
			goto bad;
		memcpy(buf, port, pl);
		buf[pl] = '\0';
		v = strtol(buf, &end, 10);
		if (*end || v < 1 || v > 65535)
			goto bad;
		m->port = (unsigned)v;
	}
	return 0;
bad:
	snprintf(err, errlen, "store host '%.*s' is not HOST, HOST:PORT or "
	         "[V6ADDR]:PORT (port 1..65535)", (int)n, s);
	return -EINVAL;
}

static int parse_uri(struct my *m, const char *uri, char *err, size_t errlen)
{
	const char *p = strstr(uri, "://"), *auth, *slash, *at, *q;
	int ret;

	if (!p) {
		snprintf(err, errlen, "store '%s' is not mysql://USER:PASS@HOST:PORT/DB",
		         uri);
		return -EINVAL;
	}
	auth = p + 3;
	slash = strchr(auth, '/');
	if (!slash || !slash[1] || slash[1] == '?') {
		snprintf(err, errlen, "store '%s' names no database: expected "
		         "mysql://USER:PASS@HOST:PORT/DB", uri);
		return -EINVAL;
	}
	at = memchr(auth, '@', (size_t)(slash - auth));
	for (const char *a = at; a && (a = memchr(a + 1, '@', (size_t)(slash - a - 1)));)
		at = a;                         /* the last @ ends the userinfo */
	if (at && (ret = parse_userinfo(m, auth, (size_t)(at - auth))) < 0)
		return ret;
	if (at)
		auth = at + 1;
	ret = parse_hostport(m, auth, (size_t)(slash - auth), err, errlen);
	if (ret < 0)
		return ret;
	q = strchr(slash + 1, '?');
	m->dbname = pct_dup(slash + 1, q ? (size_t)(q - slash - 1) : strlen(slash + 1));
	if (!m->dbname)
		return -ENOMEM;
	ret = parse_query(m, q ? q + 1 : NULL, err, errlen);
	if (ret < 0)
		return ret;
	if (!m->table && !(m->table = strdup("jobs")))
		return -ENOMEM;
	if (!table_valid(m->table)) {
		snprintf(err, errlen, "store table '%s' is invalid: expected "
		         "[A-Za-z0-9_], 1..%d characters", m->table, TABLE_MAX);
		return -EINVAL;
	}
	if (!m->socket && !m->host[0]) {
		snprintf(err, errlen, "store '%s' names no host (or ?socket=PATH)", uri);
		return -EINVAL;
	}
	return 0;
}

/* "mysql://user@host:port/db?table=t" (no password). */
static int make_desc(struct my *m)
{
	int n;

	if (m->socket)
		n = asprintf(&m->desc, "mysql://%s%s/%s?socket=%s&table=%s",
		             m->user ? m->user : "", m->user ? "@" : "", m->dbname,
		             m->socket, m->table);
	else
		n = asprintf(&m->desc, "mysql://%s%s%s%s%s:%u/%s?table=%s",
		             m->user ? m->user : "", m->user ? "@" : "",
		             strchr(m->host, ':') ? "[" : "", m->host,
		             strchr(m->host, ':') ? "]" : "", m->port, m->dbname,
		             m->table);
	if (n < 0)
		m->desc = NULL;
	return m->desc ? 0 : -ENOMEM;
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
	ret = parse_uri(m, uri, err, errlen);
	if (ret == 0)
		ret = make_desc(m);
	if (ret == 0)
		ret = prepare_sql(m);
	if (ret == 0)
		ret = connect_now(m);
	if (ret == 0)
		ret = migrate(m);
	if (ret == 0)
		ret = probe_charset(m);
	if (ret < 0)
		goto error;
	*out = &m->base;
	return 0;
error:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "cannot open store '%s': out of memory",
		         m->desc ? m->desc : "mysql");
	else if (!err[0])
		snprintf(err, errlen, "cannot open store '%s': %s",
		         m->desc ? m->desc : "mysql", m->errmsg);
	my_close(&m->base);
	return ret;
}

static const char *my_error(struct store *base)
{
	return my_of(base)->errmsg;
}

static const char *my_describe(struct store *base)
{
	return my_of(base)->desc;
}

/* ---- transactions ------------------------------------------------------- */

static int my_begin(struct my *m)
{
	int ret;

	if (m->in_txn)
		return my_failf(m, -EINVAL, "begin: a transaction is already open");
	ret = ensure_conn(m);
	if (ret == 0 && (ret = query(m, "START TRANSACTION")) < 0 &&
	    is_lost(mysql_errno(m->db))) {
		disconnect(m);     /* no transaction yet: nothing is lost */
		ret = ensure_conn(m);
		if (ret == 0)
			ret = query(m, "START TRANSACTION");
	}
	if (ret == 0)
		m->in_txn = 1;
	return ret;
}

static int st_begin(struct store *base) { return my_begin(my_of(base)); }

static int st_commit(struct store *base)
{
	struct my *m = my_of(base);

	if (!m->in_txn)
		return my_failf(m, -EINVAL, "commit: no transaction is open");
	if (m->txn_lost)
		return my_failf(m, -EIO, "commit: the connection to MariaDB was lost "
		                "in this transaction; the server rolled it back");
	if (!m->db || mysql_commit(m->db) != 0) {
		unsigned e = m->db ? mysql_errno(m->db) : CR_SERVER_GONE_ERROR;
		my_failf(m, errno_of(e), "commit: %s",
		         m->db ? mysql_error(m->db) : "not connected");
		if (is_lost(e)) {
			disconnect(m);
			m->txn_lost = 1;
		}
		return m->txn_lost ? -EIO : errno_of(e);
	}
	m->in_txn = 0;
	return 0;
}

static int st_rollback(struct store *base)
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
		my_failf(m, errno_of(e), "rollback: %s", mysql_error(m->db));
		if (is_lost(e)) {
			disconnect(m);
			return 0;  /* gone with the connection */
		}
		return errno_of(e);
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
	int ret = note_deadlock(m, t, exec(m, t, p, retried));

	if (ret == 0 && affected)
		*affected = mysql_stmt_affected_rows(t->h);
	return ret;
}

/* ---- jobs --------------------------------------------------------------- */

static int st_job_put(struct store *base, const char *name, const char *def)
{
	struct my *m = my_of(base);
	struct params p = {0};

	if (!name || !def)
		return my_failf(m, -EINVAL, "job_put: name and definition are required");
	p_str(&p, name);
	p_str(&p, def);
	p_int(&p, now_us());
	return exec_write(m, ST_JOB_PUT, &p, NULL, NULL);
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

static int st_job_del(struct store *base, const char *name)
{
	return delete_by_name(my_of(base), ST_JOB_DEL, name, "job");
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
	int ret = exec(m, t, NULL, NULL), rc;

	while (ret == 0 && (rc = fetch(m, t)) != 0) {
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
		ret = col_dup(t, 0, &v[n].name, NULL);
		if (ret == 0 && !ints)
			ret = col_dup(t, 1, &v[n].text, NULL);
		if (ints) {
			v[n].a = (int)col_int(t, 1);
			v[n].b = (int)col_int(t, 2);
		}
		n++;
	}
	result_done(t);
	if (ret < 0) {
		named_free(v, n);
		return ret;
	}
	*out = v;
	*count = n;
	return 0;
}

static int st_job_each(struct store *base, store_job_cb cb, void *ctx)
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


/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid.
 * 4-byte sequences count as invalid unless mb4. */
static size_t utf8_seq(const unsigned char *s, size_t n, int mb4)
{
	size_t len;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) { len = 2; cp = s[0] & 0x1f; }
	else if (s[0] >= 0xe0 && s[0] <= 0xef) { len = 3; cp = s[0] & 0x0f; }
	else if (s[0] >= 0xf0 && s[0] <= 0xf4 && mb4) { len = 4; cp = s[0] & 0x07; }
	else return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* Output for a text column: NULL *clean when `in` is fine as it is, else a
 * malloc'd copy with each bad byte replaced by U+FFFD. */
static int utf8_clean(const char *in, size_t n, int mb4, char **clean,
                      size_t *clen)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, o = 0, k;
	char *out;

	*clean = NULL;
	while (i < n && (k = utf8_seq(s + i, n - i, mb4)) > 0)
		i += k;
	if (i == n)
		return 0;
	out = malloc(n * 3 + 1);
	if (!out)
		return -ENOMEM;
	for (i = 0; i < n;) {
		k = utf8_seq(s + i, n - i, mb4);
		if (k) {
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
		} else {
			/* one U+FFFD per bad byte, or per character that the
			 * column's charset cannot hold */
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i += mb4 ? 1 : utf8_seq(s + i, n - i, 1) == 4 ? 4 : 1;
		}
	}
	out[o] = '\0';
	*clean = out;
	*clen = o;
	return 0;
}

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

	if (ov && (ret = utf8_clean(ov, on, m->out_mb4, &ob->out, &on)) == 0 && ob->out)
		ov = ob->out;
	if (ret == 0 && ev &&
	    (ret = utf8_clean(ev, en, m->out_mb4, &ob->err, &en)) == 0 && ob->err)
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

/* Enum columns.  A row INSERTed the original way has no trigger or
 * attempt: it counts as a first API submission. */
static void decode_enums(struct mst *t, struct run *r)
{
	r->status = col_null(t, C_STATUS) ? -1 : run_status_parse(t->cols[C_STATUS].buf);
	if (r->status < 0)
		r->status = RUN_WAITING;
	r->result = col_null(t, C_RESULT) ? RESULT_NONE
	                                  : run_result_parse(t->cols[C_RESULT].buf);
	if (r->result < 0)
		r->result = RESULT_NONE;
	r->trigger = col_null(t, C_TRIGGER) ? -1
	                                    : run_trigger_parse(t->cols[C_TRIGGER].buf);
	if (r->trigger < 0)
		r->trigger = TRIG_API;
	r->attempt = col_null(t, C_ATTEMPT) ? 1 : (int)col_int(t, C_ATTEMPT);
	r->return_code = col_null(t, C_RETURN_CODE) ? -1
	                                            : (int)col_int(t, C_RETURN_CODE);
}

/* Fills *r (overwritten) from the current row; on failure *r is cleared. */
static int decode_run(struct mst *t, struct run *r)
{
	int ret = 0;

	memset(r, 0, sizeof(*r));
	r->id = col_int(t, C_ID);
	col_fixed(t, C_JID, r->jid, sizeof(r->jid));
	col_fixed(t, C_PARENT, r->parent, sizeof(r->parent));
	col_fixed(t, C_SIG, r->sig, sizeof(r->sig));
	decode_enums(t, r);
	r->priority = (int)col_int(t, C_PRIORITY);
	r->time_created = col_int(t, C_TIME_CREATED);
	r->time_not_before = col_int(t, C_TIME_NOT_BEFORE);
	r->time_started = col_int(t, C_TIME_STARTED);
	r->time_finished = col_int(t, C_TIME_FINISHED);
	r->uid = (uint32_t)col_int(t, C_UID);
	r->pid = (int)col_int(t, C_PID);
	r->pid_start = col_int(t, C_PID_START);
	r->out_truncated = (int)col_int(t, C_OUT_TRUNC);
	r->err_truncated = (int)col_int(t, C_ERR_TRUNC);
	if (ret == 0) ret = col_dup(t, C_JOB, &r->job, NULL);
	if (ret == 0) ret = col_dup(t, C_ACTION, &r->action, NULL);
	if (ret == 0) ret = col_dup(t, C_TARGET, &r->target, NULL);
	if (ret == 0) ret = col_dup(t, C_SPEC, &r->spec, NULL);
	if (ret == 0) ret = col_dup(t, C_USER, &r->user, NULL);
	if (ret == 0) ret = col_dup(t, C_WORKER, &r->worker, NULL);
	if (ret == 0) ret = col_dup(t, C_STDOUT, &r->out, &r->out_len);
	if (ret == 0) ret = col_dup(t, C_STDERR, &r->errout, &r->err_len);
	if (ret < 0)
		run_clear(r);
	return ret;
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
	ret = exec(m, t, &p, NULL);
	if (ret == 0) {
		rc = fetch(m, t);
		if (rc > 0)
			r->id = col_int(t, 0);
		ret = rc > 0 ? 0 : rc < 0 ? rc
		     : my_failf(m, -EIO, "run %s: insert lost with the connection", r->jid);
	}
	result_done(t);
	return ret;
}

static int st_run_insert(struct store *base, struct run *r)
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

static int st_run_update(struct store *base, const struct run *r)
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
	int ret = exec(m, t, p, NULL), rc;

	if (ret < 0)
		return ret;
	rc = fetch(m, t);
	if (rc > 0)
		ret = decode_run(t, out);
	else
		ret = rc < 0 ? rc : my_failf(m, -ENOENT, "run %s not found", what);
	result_done(t);
	return ret;
}

static int st_run_get(struct store *base, const char *jid, int with_output,
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

static int st_run_get_id(struct store *base, int64_t id, int with_output,
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

static unsigned list_shape(const struct run_query *q)
{
	return (q->job ? Q_JOB : 0) | (q->target ? Q_TARGET : 0) |
	       (q->status >= 0 ? Q_STATUS : 0) | (q->active ? Q_ACTIVE : 0) |
	       (q->since ? Q_SINCE : 0) | (q->by_uid ? Q_UID : 0) |
	       (q->newest_first ? Q_DESC : 0) | (q->with_output ? Q_OUTPUT : 0) |
	       (q->limit > 0 ? Q_LIMIT : 0);
}

/* The SQL of one shape; parameters in the order list_params binds them. */
static char *list_sql(struct my *m, unsigned shape)
{
	char buf[2048];
	size_t n = 0;
	const char *and = " WHERE ";

#define ADD(...) (n += (size_t)snprintf(buf + n, sizeof(buf) - n, __VA_ARGS__))
#define COND(bit, text) \
	if (shape & (bit)) { ADD("%s%s", and, text); and = " AND "; }
	ADD("SELECT %s FROM `%s`", shape & Q_OUTPUT ? RUN_COLS_OUT : RUN_COLS_NOOUT,
	    m->table);
	COND(Q_JOB, "job = ?");
	COND(Q_TARGET, "target = ?");
	COND(Q_STATUS, "status = ?");
	COND(Q_ACTIVE, "status IN ('waiting', 'manual', 'accepted', 'running')");
	COND(Q_SINCE, TUS("time_created") " >= ?");
	COND(Q_UID, "uid = ?");
	ADD(" ORDER BY id %s", shape & Q_DESC ? "DESC" : "ASC");
	if (shape & Q_LIMIT)
		ADD(" LIMIT ?");
#undef COND
#undef ADD
	return strdup(buf);
}

static void list_params(const struct run_query *q, struct params *p)
{
	if (q->job) p_str(p, q->job);
	if (q->target) p_str(p, q->target);
	if (q->status >= 0) p_str(p, run_status_name(q->status));
	if (q->since) p_int(p, q->since);
	if (q->by_uid) p_int(p, q->uid);
	if (q->limit > 0) p_int(p, q->limit);
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
	unsigned shape = list_shape(q);
	struct mst *t = &m->list[shape];
	struct params p = {0};
	int ret, rc;

	if (!t->sql && !(t->sql = list_sql(m, shape)))
		return my_failf(m, -ENOMEM, "out of memory");
	list_params(q, &p);
	ret = exec(m, t, &p, NULL);
	while (ret == 0 && (rc = fetch(m, t)) != 0) {
		ret = rc < 0 ? rc : runvec_push(rv, t);
		if (ret == -ENOMEM)
			my_failf(m, ret, "run_list: out of memory");
	}
	result_done(t);
	return ret;
}

static int st_run_list(struct store *base, const struct run_query *q,
                       store_run_cb cb, void *ctx)
{
	struct my *m = my_of(base);
	struct runvec rv = {0};
	size_t i = 0;
	int ret;

	if (q->status >= RUN_STATUS_COUNT || q->status < -1)
		return my_failf(m, -EINVAL, "run_list: status %d is invalid", q->status);
	ret = list_collect(m, q, &rv);
	for (; ret == 0 && i < rv.n; i++)
		ret = cb(ctx, &rv.v[i]);      /* the callback may keep the strings */
	for (size_t k = 0; k < rv.n; k++)
		run_clear(&rv.v[k]);
	free(rv.v);
	return ret;
}

static int st_run_max_jid(struct store *base, char out[JID_LEN + 1])
{
	struct my *m = my_of(base);
	struct mst *t = &m->st[ST_RUN_MAX_JID];
	int ret = exec(m, t, NULL, NULL), rc;

	out[0] = '\0';
	if (ret < 0)
		return ret;
	rc = fetch(m, t);
	if (rc > 0)
		col_fixed(t, 0, out, JID_LEN + 1);
	result_done(t);
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
	ret = exec(m, t, &p, NULL);
	if (ret < 0)
		return ret;
	rc = fetch(m, t);
	if (rc < 0)
		ret = rc;
	else if (rc == 0)
		ret = my_failf(m, -ENOENT, "run id %lld not found", (long long)id);
	else if (retried && !col_null(t, 0) && !col_null(t, 1) &&
	         strcmp(t->cols[0].buf, "accepted") == 0 &&
	         strcmp(t->cols[1].buf, worker) == 0)
		ret = 0;   /* the first attempt won; only its reply was lost */
	else
		ret = my_failf(m, -EBUSY, "run id %lld: status = %s != %s",
		               (long long)id, col_null(t, 0) ? "NULL" : t->cols[0].buf,
		               from);
	result_done(t);
	return ret;
}

static int st_run_claim(struct store *base, int64_t id, int from_status,
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

static int st_run_sweep(struct store *base, int64_t before, int batch)
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

static int st_target_put(struct store *base, const char *name, int concurrency,
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

static int st_target_del(struct store *base, const char *name)
{
	return delete_by_name(my_of(base), ST_TARGET_DEL, name, "target");
}

static int st_target_each(struct store *base, store_target_cb cb, void *ctx)
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

static int st_kv_get(struct store *base, const char *key, char **val)
{
	struct my *m = my_of(base);
	struct mst *t = &m->st[ST_KV_GET];
	struct params p = {0};
	int ret, rc;

	*val = NULL;
	if (!key)
		return my_failf(m, -EINVAL, "kv_get: key is required");
	p_str(&p, key);
	ret = exec(m, t, &p, NULL);
	if (ret < 0)
		return ret;
	rc = fetch(m, t);
	if (rc > 0) {
		*val = strdup(col_null(t, 0) ? "" : t->cols[0].buf);
		ret = *val ? 0 : my_failf(m, -ENOMEM, "out of memory");
	} else {
		ret = rc < 0 ? rc : my_failf(m, -ENOENT, "key '%s' not found", key);
	}
	result_done(t);
	return ret;
}

static int st_kv_put(struct store *base, const char *key, const char *val)
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
static int st_unavailable(struct store *base)
{
	struct my *m = my_of(base);
	return !m->db || m->txn_lost;
}

static const struct store_vt my_vt = {
	.close = my_close,
	.error = my_error,
	.describe = my_describe,
	.unavailable = st_unavailable,
	.begin = st_begin,
	.commit = st_commit,
	.rollback = st_rollback,
	.job_put = st_job_put,
	.job_del = st_job_del,
	.job_each = st_job_each,
	.run_insert = st_run_insert,
	.run_update = st_run_update,
	.run_get = st_run_get,
	.run_get_id = st_run_get_id,
	.run_list = st_run_list,
	.run_max_jid = st_run_max_jid,
	.run_claim = st_run_claim,
	.run_sweep = st_run_sweep,
	.target_put = st_target_put,
	.target_del = st_target_del,
	.target_each = st_target_each,
	.kv_get = st_kv_get,
	.kv_put = st_kv_put,
};
