/* mysql_conn.c — the MariaDB store's connection: connecting with the
 * session settings the SQL relies on, reconnecting when the server went
 * away, and prepared statements that survive a reconnect (mysql_int.h).
 *
 * A failed connect is not retried here: the store thread (engine/storeq.c)
 * already retries unavailable writes with its own back-off, and reads fail
 * fast; each call on a disconnected store tries to connect once.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <mysqld_error.h>

#include "store/mysql_int.h"

int my_failf(struct my *m, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->errmsg, sizeof(m->errmsg), fmt, ap);
	va_end(ap);
	return ret;
}

/* Errors after which the connection is gone (the server restarted, was
 * killed, timed the session out). */
int my_is_lost(unsigned e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST ||
	       e == ER_CONNECTION_KILLED || e == 4031 /* client idle timeout */ ||
	       e == ER_SERVER_SHUTDOWN;
}

int my_errno_of(unsigned e)
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
char *my_sql_expand(const char *tmpl, const char *table)
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

/* ---- connection -------------------------------------------------------- */

static void stmt_close(struct mst *t)
{
	if (t->h)
		mysql_stmt_close(t->h);
	t->h = NULL;
}

void my_disconnect(struct my *m)
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
	unsigned proto = m->u.socket ? MYSQL_PROTOCOL_SOCKET : MYSQL_PROTOCOL_TCP;
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

/* Connects now; on failure records why. */
int my_connect(struct my *m)
{
	MYSQL *db = mysql_init(NULL);

	if (!db)
		return my_failf(m, -ENOMEM, "mysql: out of memory");
	if (set_options(m, db) < 0) {
		mysql_close(db);
		return my_failf(m, -EINVAL, "mysql: cannot set connection options");
	}
	if (!mysql_real_connect(db, m->u.socket ? NULL : m->u.host, m->u.user, m->u.pass,
	                        m->u.dbname, m->u.port, m->u.socket, CLIENT_FOUND_ROWS)) {
		my_failf(m, -EIO, "cannot connect to MariaDB at %s: %s", m->u.desc,
		         mysql_error(db));
		mysql_close(db);
		return -EIO;
	}
	m->db = db;
	return 0;
}

int my_ensure_conn(struct my *m)
{
	return m->db ? 0 : my_connect(m);
}

/* Runs one statement of plain SQL (no results kept) on the connection. */
int my_query(struct my *m, const char *sql)
{
	MYSQL_RES *res;

	if (mysql_query(m->db, sql) != 0)
		return my_failf(m, my_errno_of(mysql_errno(m->db)), "mysql: %s: %s",
		                sql, mysql_error(m->db));
	res = mysql_store_result(m->db);
	mysql_free_result(res);
	return 0;
}

/* ---- prepared statements ------------------------------------------------ */

int my_stmt_fail(struct my *m, struct mst *t, const char *what)
{
	unsigned e = t->h ? mysql_stmt_errno(t->h) : mysql_errno(m->db);
	const char *msg = t->h ? mysql_stmt_error(t->h) : mysql_error(m->db);

	return my_failf(m, my_errno_of(e), "%s: %s", what, msg);
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
		return my_stmt_fail(m, t, "preparing a statement");
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
	int ret = my_ensure_conn(m);

	if (ret == 0)
		ret = prepare(m, t);
	if (ret < 0)
		return ret;
	if (mysql_stmt_param_count(t->h) != (p ? p->n : 0))
		return my_failf(m, -EINVAL, "mysql: statement takes %lu parameters, "
		                "%u given", mysql_stmt_param_count(t->h), p ? p->n : 0);
	if (p && p->n && mysql_stmt_bind_param(t->h, p->b) != 0)
		return my_stmt_fail(m, t, "binding parameters");
	if (mysql_stmt_execute(t->h) != 0)
		return my_stmt_fail(m, t, "executing");
	if (t->ncols) {
		if (bind_results(t) < 0)
			return my_stmt_fail(m, t, "binding results");
		if (mysql_stmt_store_result(t->h) != 0)
			return my_stmt_fail(m, t, "reading results");
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
int my_exec(struct my *m, struct mst *t, struct params *p, int *retried)
{
	int ret;

	if (retried)
		*retried = 0;
	if (m->txn_lost)
		return my_failf(m, -EIO, "the connection to MariaDB was lost in a "
		                "transaction (the server rolled it back); roll back");
	ret = exec_once(m, t, p);
	if (ret == 0 || !m->db || !my_is_lost(last_errno(m, t)))
		return ret;
	my_disconnect(m);
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
	if (ret < 0 && m->db && my_is_lost(last_errno(m, t))) {
		my_disconnect(m);
		ret = -EIO;
	}
	return ret;
}

/* Fetches the next row of a buffered result: 1 = a row, 0 = no more,
 * negative errno on failure.  Columns that did not fit are grown and
 * fetched again; every non-NULL value ends with a NUL. */
int my_fetch(struct my *m, struct mst *t)
{
	int rc = mysql_stmt_fetch(t->h);

	if (rc == MYSQL_NO_DATA)
		return 0;
	if (rc == 1)
		return my_stmt_fail(m, t, "fetching a row");
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
			return my_stmt_fail(m, t, "fetching a column");
	}
	if (rc == MYSQL_DATA_TRUNCATED && bind_results(t) < 0)
		return my_stmt_fail(m, t, "binding results");
	for (unsigned i = 0; i < t->ncols; i++)
		if (!t->cols[i].isnull)
			t->cols[i].buf[t->cols[i].len] = '\0';
	return 1;
}

void my_result_done(struct mst *t)
{
	if (t->h)
		mysql_stmt_free_result(t->h);
}

long long my_col_int(struct mst *t, int i)
{
	return t->cols[i].isnull ? 0 : strtoll(t->cols[i].buf, NULL, 10);
}

int my_col_null(struct mst *t, int i) { return t->cols[i].isnull; }

/* A column as a malloc'd copy (NUL after it), NULL for SQL NULL. */
int my_col_dup(struct mst *t, int i, char **out, size_t *len)
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

void my_col_fixed(struct mst *t, int i, char *buf, size_t size)
{
	snprintf(buf, size, "%s", t->cols[i].isnull ? "" : t->cols[i].buf);
}

void my_mst_free(struct mst *t)
{
	stmt_close(t);
	for (unsigned i = 0; t->cols && i < t->ncols; i++)
		free(t->cols[i].buf);
	free(t->cols);
	free(t->rb);
	free(t->sql);
	memset(t, 0, sizeof(*t));
}

/* ---- text for the text columns ------------------------------------------ */

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
int my_utf8_clean(const char *in, size_t n, int mb4, char **clean,
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

/* ---- the row accessor ---------------------------------------------------- */

static int acc_null(void *row, int i) { return my_col_null(row, i); }
static int64_t acc_int(void *row, int i) { return my_col_int(row, i); }

static const char *acc_text(void *row, int i, size_t *len)
{
	struct rescol *c = &((struct mst *)row)->cols[i];

	*len = c->len;
	return c->buf;
}

const struct runrow_acc my_acc = {
	.is_null = acc_null, .get_int = acc_int, .text = acc_text, .blob = acc_text,
};
