/* mysql_uri.c — parses the MariaDB store's URI (mysql_uri.h).  USER and
 * PASS may be percent-encoded; the table name is checked ([A-Za-z0-9_]),
 * for it is spliced into SQL. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/mysql_uri.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* A percent-decoded copy of s[0..n) in *out; "%00" is refused (-EINVAL):
 * the C string would end there and silently name another user or
 * database. */
static int pct_dup(const char *s, size_t n, char **out)
{
	char *o = malloc(n + 1);

	*out = o;
	if (!o)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			*o = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			if (!*o++)
				return -EINVAL;
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return 0;
}

/* The URI as an error may show it: the password replaced by "***". */
static const char *uri_shown(const char *uri, char *buf, size_t n)
{
	const char *auth = strchr(uri, ':'), *slash, *at, *colon;

	if (!auth)
		return uri;
	auth += 1 + strspn(auth + 1, "/");   /* "mysql://" or a mistyped "mysql:" */
	slash = auth + strcspn(auth, "/");
	at = NULL;
	for (const char *a = auth; a < slash; a++)
		if (*a == '@')
			at = a;                 /* the last @ ends the userinfo */
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (!colon)
		return uri;
	snprintf(buf, n, "%.*s***%s", (int)(colon + 1 - uri), uri, at);
	return buf;
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
static int parse_query(struct my_uri *m, const char *q, char *err, size_t errlen)
{
	while (q && *q) {
		size_t len = strcspn(q, "&");
		const char *eq = memchr(q, '=', len);
		size_t kl = eq ? (size_t)(eq - q) : len;
		char **dst = NULL;
		int ret;

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
		ret = pct_dup(eq + 1, len - kl - 1, dst);
		if (ret == 0 && !**dst)
			ret = -EINVAL;
		if (ret == -EINVAL)
			snprintf(err, errlen, "store option '%.*s' has no value or "
			         "contains %%00", (int)kl, q);
		if (ret < 0)
			return ret;
		q += len + (q[len] == '&');
	}
	return 0;
}

/* user[:pass]@ */
static int parse_userinfo(struct my_uri *m, const char *s, size_t n, char *err,
                          size_t errlen)
{
	const char *colon = memchr(s, ':', n);
	int ret;

	ret = pct_dup(s, colon ? (size_t)(colon - s) : n, &m->user);
	if (ret == 0 && colon)
		ret = pct_dup(colon + 1, n - (size_t)(colon - s) - 1, &m->pass);
	if (ret == -EINVAL)
		snprintf(err, errlen, "store user or password contains %%00");
	return ret;
}

/* host[:port] or [v6]:port */
static int parse_hostport(struct my_uri *m, const char *s, size_t n, char *err,
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
		if (pl == 0 || pl >= sizeof(buf) || strspn(port, "0123456789") < pl)
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

static int parse_uri(struct my_uri *m, const char *uri, char *err, size_t errlen)
{
	const char *p = strstr(uri, "://"), *auth, *slash, *at, *q;
	char shown[512];
	int ret;

	if (!p) {
		snprintf(err, errlen, "store '%s' is not mysql://USER:PASS@HOST:PORT/DB",
		         uri_shown(uri, shown, sizeof(shown)));
		return -EINVAL;
	}
	auth = p + 3;
	slash = strchr(auth, '/');
	if (!slash || !slash[1] || slash[1] == '?') {
		snprintf(err, errlen, "store '%s' names no database: expected "
		         "mysql://USER:PASS@HOST:PORT/DB",
		         uri_shown(uri, shown, sizeof(shown)));
		return -EINVAL;
	}
	at = memchr(auth, '@', (size_t)(slash - auth));
	for (const char *a = at; a && (a = memchr(a + 1, '@', (size_t)(slash - a - 1)));)
		at = a;                         /* the last @ ends the userinfo */
	if (at && (ret = parse_userinfo(m, auth, (size_t)(at - auth), err, errlen)) < 0)
		return ret;
	if (at)
		auth = at + 1;
	ret = parse_hostport(m, auth, (size_t)(slash - auth), err, errlen);
	if (ret < 0)
		return ret;
	q = strchr(slash + 1, '?');
	ret = pct_dup(slash + 1, q ? (size_t)(q - slash - 1) : strlen(slash + 1),
	              &m->dbname);
	if (ret == -EINVAL)
		snprintf(err, errlen, "store database name contains %%00");
	if (ret < 0)
		return ret;
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
		snprintf(err, errlen, "store '%s' names no host (or ?socket=PATH)",
		         uri_shown(uri, shown, sizeof(shown)));
		return -EINVAL;
	}
	return 0;
}

/* "mysql://user@host:port/db?table=t" (no password). */
static int make_desc(struct my_uri *m)
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


int my_uri_parse(struct my_uri *u, const char *uri, char *err, size_t errlen)
{
	int ret;

	memset(u, 0, sizeof(*u));
	ret = parse_uri(u, uri, err, errlen);
	if (ret == 0)
		ret = make_desc(u);
	return ret;
}

void my_uri_free(struct my_uri *u)
{
	free(u->host);
	free(u->user);
	free(u->pass);
	free(u->dbname);
	free(u->socket);
	free(u->table);
	free(u->desc);
	memset(u, 0, sizeof(*u));
}
