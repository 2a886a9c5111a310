/* sqlite_schema.c — the SQLite store's setup (sqlite_int.h): the URI's
 * options, the connection's journal and durability settings, and the
 * schema migrations (migrations.h), each in its own transaction. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/migrations.h"
#include "store/sqlite_int.h"

int sq_errno_of(int rc)
{
	switch (rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return -EEXIST;
	case SQLITE_CONSTRAINT_CHECK:
	case SQLITE_CONSTRAINT_NOTNULL:
		return -EINVAL;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	default:
		break;
	}
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	default:
		return -EIO;
	}
}

/* Splits "PATH?opt&opt" into the path and options; only sync= exists. */
int sq_parse_options(const char *spec, char **path, int *sync_full,
                         char *err, size_t errlen)
{
	const char *q = strchr(spec, '?');
	size_t n = q ? (size_t)(q - spec) : strlen(spec);

	*sync_full = 0;
	while (q && *q) {
		const char *opt = q + 1;
		size_t len = strcspn(opt, "&");

		if (len == 9 && strncmp(opt, "sync=full", 9) == 0)
			*sync_full = 1;
		else if (len == 11 && strncmp(opt, "sync=normal", 11) == 0)
			*sync_full = 0;
		else {
			snprintf(err, errlen, "store option '%.*s' is unknown "
			         "(known: sync=normal, sync=full)", (int)len, opt);
			return -EINVAL;
		}
		q = opt + len;
	}
	if (n == 0) {
		snprintf(err, errlen, "store path is empty in '%s'", spec);
		return -EINVAL;
	}
	*path = strndup(spec, n);
	return *path ? 0 : -ENOMEM;
}

/* Reads one integer from a single-row query (a PRAGMA). */
static int query_int(sqlite3 *db, const char *sql, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*out = sqlite3_column_int(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/* Applies migration `v` (0-based) and sets user_version v + 1, in one
 * transaction.  The version is re-read inside the transaction: another
 * process opening the same store at once may have applied it already. */
static int migrate_one(struct sq *s, int v, char *err, size_t errlen)
{
	char sql[64];
	int cur = 0;
	int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		rc = query_int(s->db, "PRAGMA user_version", &cur);
	if (rc == SQLITE_OK && cur == v) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		rc = sqlite3_exec(s->db, store_migrations[v], NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "cannot migrate store '%s' to schema version %d: %s",
	         s->path, v + 1, sqlite3_errmsg(s->db));
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return sq_errno_of(rc);
}

int sq_migrate(struct sq *s, char *err, size_t errlen)
{
	int v = 0;
	int rc = query_int(s->db, "PRAGMA user_version", &v);

	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open store '%s': %s", s->path,
		         sqlite3_errmsg(s->db));
		return sq_errno_of(rc);
	}
	if (v > STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "store schema version %d is newer than this jobd (%d)",
		         v, STORE_SCHEMA_VERSION);
		return -EPROTO;
	}
	for (; v < STORE_SCHEMA_VERSION; v++) {
		int ret = migrate_one(s, v, err, errlen);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Journal, durability and locking settings for this connection. */
int sq_configure(struct sq *s, int sync_full, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	const char *mode = NULL;
	int rc;

	sqlite3_busy_timeout(s->db, 5000);
	rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		mode = (const char *)sqlite3_column_text(st, 0);
		rc = mode && strcmp(mode, "wal") == 0 ? SQLITE_OK : SQLITE_ERROR;
	}
	if (rc == SQLITE_ERROR && mode) {
		snprintf(err, errlen, "cannot open store '%s': WAL mode not available "
		         "(journal_mode is %s)", s->path, mode);
		sqlite3_finalize(st);
		return -EIO;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, sync_full ? "PRAGMA synchronous = FULL"
		                                   : "PRAGMA synchronous = NORMAL",
		                  NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	/* checkpoint (and fsync) every 4000 pages (16 MiB of WAL) rather than
	 * every 1000: a busy queue checkpoints a quarter as often */
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(s->db, "PRAGMA wal_autocheckpoint = 4000", NULL,
		                  NULL, NULL);
	if (rc == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "cannot open store '%s': %s", s->path,
	         sqlite3_errmsg(s->db));
	return sq_errno_of(rc);
}

