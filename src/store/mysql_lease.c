/* mysql_lease.c — the MariaDB store's leases (store.h: lease_take ..
 * lease_release; engine/lease.c is their user), in table jobd_leases
 * (mysql_schema.c, migration 2).  Several jobds share the table: each verb
 * is a guarded UPDATE whose matched-row count (CLIENT_FOUND_ROWS) says who
 * won, so two daemons never both hold a lease nor both claim a fire time. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mysqld_error.h>

#include "store/mysql_int.h"

static const char *const lease_sql[LEASE_STMTS] = {
	/* the row, made once; "job = job" takes an exclusive lock where
	 * INSERT IGNORE would take a shared one, which two takers then both
	 * try to upgrade (a deadlock) */
	"INSERT INTO jobd_leases (job, holder, expires_us, last_fire_us) "
	"VALUES (?, NULL, 0, 0) ON DUPLICATE KEY UPDATE job = job",
	/* a locking read: the row as it is now, not the transaction's
	 * snapshot */
	"SELECT holder, expires_us, last_fire_us FROM jobd_leases "
	"WHERE job = ? FOR UPDATE",
	"UPDATE jobd_leases SET holder = ?, expires_us = ? WHERE job = ? AND "
	"(holder = ? OR holder IS NULL OR expires_us < ?)",
	"UPDATE jobd_leases SET last_fire_us = ? WHERE job = ? AND holder = ? "
	"AND expires_us >= ? AND last_fire_us < ?",
	"UPDATE jobd_leases SET expires_us = 0 WHERE job = ? AND holder = ?",
	"SELECT holder, expires_us, last_fire_us FROM jobd_leases WHERE job = ?",
};
enum { L_ENSURE, L_LOCK, L_TAKE, L_FIRE, L_RELEASE, L_GET };

static struct mst *stmt(struct my *m, int i)
{
	struct mst *t = &m->lease[i];
	if (!t->sql)
		t->sql = strdup(lease_sql[i]);
	return t->sql ? t : NULL;
}

/* Runs statement i; a deadlock rolls the server's transaction back, so the
 * rest of it must not run outside one (mysql.c's note_deadlock). */
static int lexec(struct my *m, int i, struct params *p,
                 unsigned long long *affected, int *retried)
{
	struct mst *t = stmt(m, i);
	int ret;

	if (!t)
		return my_failf(m, -ENOMEM, "out of memory");
	ret = my_exec(m, t, p, retried);
	if (ret < 0 && m->in_txn && t->h &&
	    mysql_stmt_errno(t->h) == ER_LOCK_DEADLOCK)
		m->txn_lost = 1;
	if (ret == 0 && affected)
		*affected = mysql_stmt_affected_rows(t->h);
	return ret;
}

static int check_args(struct my *m, const char *job, const char *holder)
{
	if (job && *job && holder && *holder)
		return 0;
	return my_failf(m, -EINVAL, "lease: a job and a holder are required");
}

/* SELECT i (L_LOCK or L_GET) into *out. */
static int read_lease(struct my *m, int i, const char *job,
                      struct store_lease *out)
{
	struct params p = {0};
	struct mst *t;
	int ret, rc;

	memset(out, 0, sizeof *out);
	p_str(&p, job);
	if ((ret = lexec(m, i, &p, NULL, NULL)) < 0)
		return ret;
	t = &m->lease[i];
	rc = my_fetch(m, t);
	if (rc > 0) {
		if (!my_col_null(t, 0))
			snprintf(out->holder, sizeof out->holder, "%s",
			         t->cols[0].buf);
		out->expires = my_col_int(t, 1);
		out->last_fire = my_col_int(t, 2);
		ret = 0;
	} else {
		ret = rc < 0 ? rc : my_failf(m, -ENOENT, "job '%s' has no lease",
		                             job);
	}
	my_result_done(t);
	return ret;
}

int my_lease_get(struct store *base, const char *job, struct store_lease *out)
{
	return read_lease(my_of(base), L_GET, job ? job : "", out);
}

int my_lease_take(struct store *base, const char *job, const char *holder,
                  int64_t now, int64_t ttl, struct store_lease *before)
{
	struct my *m = my_of(base);
	struct store_lease old;
	struct params p = {0};
	unsigned long long n = 0;
	int ret = check_args(m, job, holder);

	if (ret < 0)
		return ret;
	p_str(&p, job);
	if ((ret = lexec(m, L_ENSURE, &p, NULL, NULL)) < 0 ||
	    (ret = read_lease(m, L_LOCK, job, &old)) < 0)
		return ret;
	memset(&p, 0, sizeof p);
	p_str(&p, holder);
	p_int(&p, now + ttl);
	p_str(&p, job);
	p_str(&p, holder);
	p_int(&p, now);
	if ((ret = lexec(m, L_TAKE, &p, &n, NULL)) < 0)
		return ret;
	if (before)
		*before = old;
	return n == 1 ? 0 : -EBUSY;
}

int my_lease_fire(struct store *base, const char *job, const char *holder,
                  int64_t now, int64_t fire)
{
	struct my *m = my_of(base);
	struct store_lease cur;
	struct params p = {0};
	unsigned long long n = 0;
	int retried = 0, ret = check_args(m, job, holder);

	if (ret < 0)
		return ret;
	p_int(&p, fire);
	p_str(&p, job);
	p_str(&p, holder);
	p_int(&p, now);
	p_int(&p, fire);
	if ((ret = lexec(m, L_FIRE, &p, &n, &retried)) < 0 || n == 1)
		return ret;
	/* sent again after a lost connection: the first may have won */
	if (retried && read_lease(m, L_GET, job, &cur) == 0 &&
	    strcmp(cur.holder, holder) == 0 && cur.last_fire == fire)
		return 0;
	return -EBUSY;
}

int my_lease_release(struct store *base, const char *job, const char *holder)
{
	struct my *m = my_of(base);
	struct params p = {0};
	int ret = check_args(m, job, holder);

	if (ret < 0)
		return ret;
	p_str(&p, job);
	p_str(&p, holder);
	return lexec(m, L_RELEASE, &p, NULL, NULL);
}
