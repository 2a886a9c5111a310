/* runrow.h — what the SQL store engines share about a run row: the column
 * list every run SELECT returns, decoding a row into struct run through a
 * small accessor (so sqlite.c and mysql.c decode through one code path),
 * and the run_list query builder with its parameter order.
 *
 * Identifiers are quoted with backticks: MySQL's quoting, which SQLite
 * accepts too.  Placeholders are plain `?`, bound in the order
 * runrow_list_args gives; both engines take that style.
 */
#ifndef JOBD_STORE_RUNROW_H
#define JOBD_STORE_RUNROW_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* The columns every run SELECT returns, in enum runrow_col order.  T(c) is
 * the engine's expression for a microsecond time column c (MySQL keeps
 * seconds and microseconds apart; SQLite reads c as it is). */
#define RUNROW_COLS(T) \
	"id, jid, job, action, target, `trigger`, attempt, parent, priority, " \
	"status, result, return_code, sig, " T("time_created") ", " \
	"time_not_before, " T("time_started") ", " T("time_finished") ", " \
	"spec, `user`, uid, pid, pid_start, worker, stdout_truncated, " \
	"stderr_truncated"
#define RUNROW_COLS_OUT(T) RUNROW_COLS(T) ", stdout, stderr"
#define RUNROW_COLS_NOOUT(T) RUNROW_COLS(T) ", NULL, NULL"  /* output stays */
#define RUNROW_TIME_PLAIN(c) c

/* The prepared statements both engines have (each engine's enum stmt_id
 * adds its own: SQLite its transaction and status statements, MariaDB its
 * insert-id and claim check). */
#define RUNROW_STMT_IDS \
	ST_JOB_PUT, ST_JOB_DEL, ST_JOB_EACH, ST_RUN_INSERT, ST_RUN_UPDATE, \
	ST_RUN_GET_JID, ST_RUN_GET_JID_OUT, ST_RUN_GET_ID, ST_RUN_GET_ID_OUT, \
	ST_RUN_MAX_JID, ST_RUN_LAST, ST_RUN_CLAIM, ST_RUN_SWEEP, \
	ST_TARGET_PUT, ST_TARGET_DEL, ST_TARGET_EACH, ST_KV_GET, ST_KV_PUT

enum runrow_col {
	C_ID, C_JID, C_JOB, C_ACTION, C_TARGET, C_TRIGGER, C_ATTEMPT, C_PARENT,
	C_PRIORITY, C_STATUS, C_RESULT, C_RETURN_CODE, C_SIG, C_TIME_CREATED,
	C_TIME_NOT_BEFORE, C_TIME_STARTED, C_TIME_FINISHED, C_SPEC, C_USER, C_UID,
	C_PID, C_PID_START, C_WORKER, C_OUT_TRUNC, C_ERR_TRUNC, C_STDOUT, C_STDERR,
	C_COUNT
};

/* Reads column i of the engine's current row.  text returns the value
 * NUL-terminated with its length, valid until the next call on that row;
 * NULL only when out of memory (callers ask is_null first).  blob is the
 * same for binary columns (stdout, stderr). */
struct runrow_acc {
	int (*is_null)(void *row, int i);
	int64_t (*get_int)(void *row, int i);
	const char *(*text)(void *row, int i, size_t *len);
	const char *(*blob)(void *row, int i, size_t *len);
};

/* Fills *r (overwritten) from the current row; on failure (-ENOMEM) *r is
 * cleared.  A row INSERTed by another program (no trigger, attempt or
 * known status) reads as a waiting first API submission. */
int runrow_decode(const struct runrow_acc *a, void *row, struct run *r);

/* run_last_each's statements: the newest run of each job, both read
 * through the (job, id) index without scanning it.  `table` as the engine
 * quotes it.  MariaDB reads GROUP BY job with MAX(id) as a loose index
 * scan (one seek per job); SQLite would scan the whole index for it, so
 * there a recursive CTE steps from job to job (min(job) > the last one),
 * one seek each (300x faster with 500,000 runs of 20 jobs; MariaDB in
 * turn scans for the CTE). */
#define RUNROW_LAST_SQL_GROUPED(cols, table) \
	"SELECT " cols " FROM " table " JOIN (SELECT MAX(id) AS last_id " \
	"FROM " table " WHERE job IS NOT NULL GROUP BY job) AS l " \
	"ON id = l.last_id"
#define RUNROW_LAST_SQL_STEPPED(cols, table) \
	"WITH RECURSIVE js(j) AS (SELECT min(job) FROM " table " UNION ALL " \
	"SELECT (SELECT min(job) FROM " table " WHERE job > j) FROM js " \
	"WHERE j IS NOT NULL) SELECT " cols " FROM " table " WHERE id IN " \
	"(SELECT (SELECT max(id) FROM " table " WHERE job = j) FROM js " \
	"WHERE j IS NOT NULL)"

/* run_list shapes: which filters a query has.  Engines cache one
 * statement per shape. */
enum {
	Q_JOB = 1, Q_TARGET = 2, Q_STATUS = 4, Q_ACTIVE = 8, Q_SINCE = 16,
	Q_UID = 32, Q_DESC = 64, Q_OUTPUT = 128, Q_LIMIT = 256, Q_SHAPES = 512
};

unsigned runrow_list_shape(const struct run_query *q);

/* How an engine spells what the builder needs. */
struct runrow_dialect {
	const char *cols;        /* RUNROW_COLS_NOOUT(T) */
	const char *cols_out;    /* RUNROW_COLS_OUT(T) */
	const char *created;     /* T("time_created") */
};

/* The SQL of one shape on `table`; -ENAMETOOLONG if it does not fit. */
int runrow_list_sql(const struct runrow_dialect *d, const char *table,
                    unsigned shape, char *buf, size_t size);

/* One `?` of a run_list statement: text (s) or integer (i). */
struct runrow_arg {
	const char *s;
	int64_t i;
	int is_text;
};
#define RUNROW_MAX_ARGS 6

/* The parameters of q's statement, in placeholder order; returns how many. */
int runrow_list_args(const struct run_query *q,
                     struct runrow_arg out[RUNROW_MAX_ARGS]);

/* -EINVAL with msg set when q cannot be listed. */
int runrow_query_check(const struct run_query *q, char *msg, size_t n);

#endif
