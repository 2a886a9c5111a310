/* sqlite_lease.c — the SQLite store's leases (store.h: lease_take ..
 * lease_release; engine/lease.c is their user).  Each call prepares its
 * statements: a lease is renewed a few times a minute, not per run.  The
 * guarded UPDATE decides; sqlite3_changes() says whether it matched. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/sqlite_int.h"

static int lfail(struct sq *s, int rc)
{
	snprintf(s->errmsg, sizeof(s->errmsg), "%s", sqlite3_errmsg(s->db));
	return sq_errno_of(rc);
}

/* Runs `sql` with ?1 = job, ?2 = holder (or NULL), ?3, ?4 = a, b; no rows
 * expected.  *changed (may be NULL) gets the matched-row count. */
static int lexec(struct sq *s, const char *sql, const char *job,
                 const char *holder, int64_t a, int64_t b, int *changed)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = holder ? sqlite3_bind_text(st, 2, holder, -1, SQLITE_STATIC)
		            : sqlite3_bind_null(st, 2);
	if (rc == SQLITE_OK && sqlite3_bind_parameter_count(st) >= 3)
		rc = sqlite3_bind_int64(st, 3, a);
	if (rc == SQLITE_OK && sqlite3_bind_parameter_count(st) >= 4)
		rc = sqlite3_bind_int64(st, 4, b);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_DONE)
		rc = SQLITE_OK;
	if (rc == SQLITE_OK && changed)
		*changed = sqlite3_changes(s->db);
	int ret = rc == SQLITE_OK ? 0 : lfail(s, rc);
	sqlite3_finalize(st);
	return ret;
}

static int check_args(struct sq *s, const char *job, const char *holder)
{
	if (job && *job && holder && *holder)
		return 0;
	snprintf(s->errmsg, sizeof(s->errmsg), "lease: a job and a holder are "
	         "required");
	return -EINVAL;
}

int sq_lease_get(struct store *base, const char *job, struct store_lease *out)
{
	struct sq *s = (struct sq *)base;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, "SELECT holder, expires_us, "
	                            "last_fire_us FROM leases WHERE job = ?1",
	                            -1, &st, NULL);
	int ret;

	memset(out, 0, sizeof *out);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, job ? job : "", -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *h = sqlite3_column_text(st, 0);
		snprintf(out->holder, sizeof out->holder, "%s",
		         h ? (const char *)h : "");
		out->expires = sqlite3_column_int64(st, 1);
		out->last_fire = sqlite3_column_int64(st, 2);
		ret = 0;
	} else if (rc == SQLITE_DONE) {
		snprintf(s->errmsg, sizeof(s->errmsg), "job '%s' has no lease",
		         job ? job : "");
		ret = -ENOENT;
	} else {
		ret = lfail(s, rc);
	}
	sqlite3_finalize(st);
	return ret;
}

int sq_lease_take(struct store *base, const char *job, const char *holder,
                  int64_t now, int64_t ttl, struct store_lease *before)
{
	struct sq *s = (struct sq *)base;
	struct store_lease old;
	int n = 0, ret = check_args(s, job, holder);

	if (ret == 0)
		ret = lexec(s, "INSERT OR IGNORE INTO leases (job, holder, "
		            "expires_us, last_fire_us) VALUES (?1, ?2, 0, 0)",
		            job, NULL, 0, 0, NULL);
	if (ret == 0)
		ret = sq_lease_get(base, job, &old);
	if (ret == 0)
		ret = lexec(s, "UPDATE leases SET holder = ?2, expires_us = ?3 "
		            "WHERE job = ?1 AND (holder = ?2 OR holder IS NULL OR "
		            "expires_us < ?4)", job, holder, now + ttl, now, &n);
	if (ret == 0 && before)
		*before = old;
	return ret < 0 ? ret : n == 1 ? 0 : -EBUSY;
}

int sq_lease_fire(struct store *base, const char *job, const char *holder,
                  int64_t now, int64_t fire)
{
	struct sq *s = (struct sq *)base;
	int n = 0, ret = check_args(s, job, holder);

	if (ret == 0)
		ret = lexec(s, "UPDATE leases SET last_fire_us = ?4 WHERE job = ?1 "
		            "AND holder = ?2 AND expires_us >= ?3 AND "
		            "last_fire_us < ?4", job, holder, now, fire, &n);
	return ret < 0 ? ret : n == 1 ? 0 : -EBUSY;
}

int sq_lease_release(struct store *base, const char *job, const char *holder)
{
	struct sq *s = (struct sq *)base;
	int ret = check_args(s, job, holder);

	return ret < 0 ? ret : lexec(s, "UPDATE leases SET expires_us = 0 WHERE "
	                             "job = ?1 AND holder = ?2", job, holder,
	                             0, 0, NULL);
}
