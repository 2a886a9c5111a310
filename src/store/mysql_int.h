/* mysql_int.h — what the MariaDB store's files share (mysql.c: the
 * operations; mysql_conn.c: connection, reconnect and prepared statements;
 * mysql_schema.c: migrations; mysql_uri.c: the store URI). */
#ifndef JOBD_STORE_MYSQL_INT_H
#define JOBD_STORE_MYSQL_INT_H

#include <stdint.h>
#include <string.h>

#include <mysql.h>

#include "store/mysql_uri.h"
#include "store/runrow.h"
#include "store/store.h"

#define MAX_PARAMS 32
#define COL_INIT_CAP 64
#define LEASE_STMTS 6            /* mysql_lease.c's statements */

enum stmt_id {
	RUNROW_STMT_IDS,
	ST_RUN_INSERT_ID, ST_RUN_CLAIM_CHECK, ST_SEQ_BUMP,
	ST_COUNT
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
	struct my_uri u;             /* where, and the run table's name */
	char errmsg[512];
	int in_txn;
	int txn_lost;                /* the server rolled the open txn back */
	int out_mb4;                 /* stdout/stderr accept 4-byte UTF-8 */
	struct mst st[ST_COUNT];
	struct mst list[Q_SHAPES];
	struct mst lease[LEASE_STMTS];  /* mysql_lease.c's */
};

/* Statement parameters, bound by position. */
struct params {
	MYSQL_BIND b[MAX_PARAMS];
	long long iv[MAX_PARAMS];
	unsigned long len[MAX_PARAMS];
	unsigned n;
};

static inline struct my *my_of(struct store *s) { return (struct my *)s; }

/* ---- parameters -------------------------------------------------------- */

static inline MYSQL_BIND *p_next(struct params *p)
{
	MYSQL_BIND *b = &p->b[p->n];

	memset(b, 0, sizeof(*b));
	p->n++;
	return b;
}

static inline void p_null(struct params *p)
{
	p_next(p)->buffer_type = MYSQL_TYPE_NULL;
}

static inline void p_strn(struct params *p, const char *v, size_t n)
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

static inline void p_str(struct params *p, const char *v)
{
	p_strn(p, v, v ? strlen(v) : 0);
}

static inline void p_int(struct params *p, long long v)
{
	unsigned i = p->n;
	MYSQL_BIND *b = p_next(p);

	p->iv[i] = v;
	b->buffer_type = MYSQL_TYPE_LONGLONG;
	b->buffer = &p->iv[i];
}

/* ---- mysql_conn.c ---- */

__attribute__((format(printf, 3, 4)))
int my_failf(struct my *m, int ret, const char *fmt, ...);
int my_is_lost(unsigned e);
int my_errno_of(unsigned e);
/* A copy of `tmpl` with every "@T" replaced by the table name. */
char *my_sql_expand(const char *tmpl, const char *table);
void my_disconnect(struct my *m);
int my_connect(struct my *m);
int my_ensure_conn(struct my *m);
int my_query(struct my *m, const char *sql);
int my_stmt_fail(struct my *m, struct mst *t, const char *what);
int my_exec(struct my *m, struct mst *t, struct params *p, int *retried);
int my_fetch(struct my *m, struct mst *t);
void my_result_done(struct mst *t);
long long my_col_int(struct mst *t, int i);
int my_col_null(struct mst *t, int i);
int my_col_dup(struct mst *t, int i, char **out, size_t *len);
void my_col_fixed(struct mst *t, int i, char *buf, size_t size);
void my_mst_free(struct mst *t);
/* Output for a text column: NULL *clean when `in` is fine as it is, else a
 * malloc'd copy with each bad byte (and, unless mb4, each 4-byte character)
 * replaced by U+FFFD. */
int my_utf8_clean(const char *in, size_t n, int mb4, char **clean,
                  size_t *clen);
/* The row accessor of a fetched row (runrow_decode). */
extern const struct runrow_acc my_acc;

/* ---- mysql_schema.c ---- */

int my_migrate(struct my *m);

/* ---- mysql_lease.c: store.h's lease verbs ---- */

int my_lease_take(struct store *base, const char *job, const char *holder,
                  int64_t now, int64_t ttl, struct store_lease *before);
int my_lease_fire(struct store *base, const char *job, const char *holder,
                  int64_t now, int64_t fire);
int my_lease_get(struct store *base, const char *job, struct store_lease *out);
int my_lease_release(struct store *base, const char *job, const char *holder);
int my_probe_charset(struct my *m);

#endif
