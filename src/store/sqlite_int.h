/* sqlite_int.h — what the SQLite store's files share (sqlite.c: the
 * operations; sqlite_schema.c: options, connection settings, migrations). */
#ifndef JOBD_STORE_SQLITE_INT_H
#define JOBD_STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "store/runrow.h"
#include "store/store.h"

enum stmt_id {
	RUNROW_STMT_IDS,
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_RUN_STATUS, ST_SEQ_BUMP,
	ST_COUNT
};

struct sq {
	struct store base;
	sqlite3 *db;
	char *path;                  /* as given, for messages */
	char *desc;                  /* "sqlite:/abs/path" */
	char errmsg[512];
	sqlite3_stmt *st[ST_COUNT];
	sqlite3_stmt *list[Q_SHAPES];
};

/* SQLite's result code as a negative errno. */
int sq_errno_of(int rc);
/* Splits "PATH?opt&opt" into the path and options; only sync= exists. */
int sq_parse_options(const char *spec, char **path, int *sync_full,
                     char *err, size_t errlen);
/* Journal, durability and locking settings for this connection. */
int sq_configure(struct sq *s, int sync_full, char *err, size_t errlen);
/* Migrates the schema to STORE_SCHEMA_VERSION (migrations.h). */
int sq_migrate(struct sq *s, char *err, size_t errlen);

/* sqlite_lease.c: store.h's lease verbs */
int sq_lease_take(struct store *base, const char *job, const char *holder,
                  int64_t now, int64_t ttl, struct store_lease *before);
int sq_lease_fire(struct store *base, const char *job, const char *holder,
                  int64_t now, int64_t fire);
int sq_lease_get(struct store *base, const char *job, struct store_lease *out);
int sq_lease_release(struct store *base, const char *job, const char *holder);

#endif
