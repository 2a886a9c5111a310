/* store.c — store_open: picks the store engine from the `store` URI.
 *
 *   sqlite:PATH[?sync=normal|full]   the embedded SQLite store
 *   PATH                             the same, a bare path
 *   mysql://user:pass@host:port/db[?table=T&socket=PATH]
 *   mariadb://...                    MariaDB/MySQL (mysql.c)
 *
 * Anything else that looks like "scheme://" is refused rather than being
 * taken for a file name, so a typo does not silently create a database.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/store.h"

#define SQLITE_PREFIX "sqlite:"

/* Length of a leading "scheme://" (RFC 3986 scheme chars), 0 if none. */
static size_t scheme_len(const char *uri)
{
	size_t n = 0;

	if (!((uri[0] >= 'a' && uri[0] <= 'z') || (uri[0] >= 'A' && uri[0] <= 'Z')))
		return 0;
	while ((uri[n] >= 'a' && uri[n] <= 'z') || (uri[n] >= 'A' && uri[n] <= 'Z') ||
	       (uri[n] >= '0' && uri[n] <= '9') || uri[n] == '+' || uri[n] == '-' ||
	       uri[n] == '.')
		n++;
	return strncmp(uri + n, "://", 3) == 0 ? n : 0;
}

int (*store_fake_open)(const char *uri, struct store **out, char *err,
                       size_t errlen);

int store_open(const char *uri, struct store **out, char *err, size_t errlen)
{
	size_t n;

	*out = NULL;
	if (!uri || !*uri) {
		snprintf(err, errlen, "store is empty: expected sqlite:PATH or mysql://...");
		return -EINVAL;
	}
	if (strncmp(uri, SQLITE_PREFIX, strlen(SQLITE_PREFIX)) == 0)
		return store_sqlite_open(uri + strlen(SQLITE_PREFIX), out, err, errlen);
	if (strncmp(uri, "mysql:", 6) == 0 || strncmp(uri, "mariadb:", 8) == 0)
		return store_mysql_open(uri, out, err, errlen);
	if (store_fake_open && strncmp(uri, "fake://", 7) == 0)
		return store_fake_open(uri, out, err, errlen);
	n = scheme_len(uri);
	if (n > 0) {
		snprintf(err, errlen,
		         "store '%s' has unknown scheme '%.*s' (known: sqlite, mysql, mariadb)",
		         uri, (int)n, uri);
		return -EINVAL;
	}
	return store_sqlite_open(uri, out, err, errlen);
}

/* What every engine checks before it writes a run: the enum fields have
 * names, and the run has a target. */
int store_run_check(const struct run *r, char *msg, size_t n)
{
	if (!run_status_name(r->status))
		snprintf(msg, n, "run %s: status %d is invalid", r->jid, r->status);
	else if (r->result != RESULT_NONE && !run_result_name(r->result))
		snprintf(msg, n, "run %s: result %d is invalid", r->jid, r->result);
	else if (!run_trigger_name(r->trigger))
		snprintf(msg, n, "run %s: trigger %d is invalid", r->jid,
		         r->trigger);
	else if (!r->target)
		snprintf(msg, n, "run %s: target is required", r->jid);
	else
		return 0;
	return -EINVAL;
}

/* The end of an engine's failed open: err says why when the engine has
 * not said so already (out of memory, or the engine's own message). */
int store_open_fail(int ret, char *err, size_t errlen, const char *name,
                    const char *why)
{
	if (ret == -ENOMEM)
		snprintf(err, errlen, "cannot open store '%s': out of memory", name);
	else if (!err[0])
		snprintf(err, errlen, "cannot open store '%s': %s", name,
		         why && why[0] ? why : strerror(-ret));
	return ret;
}
