/* config.c — the daemon configuration (jobd -c FILE) and the INI reader
 * that job files share.  Parsing is inih's (libinih); this file adds what
 * inih lacks in Debian's build: line numbers in callbacks, visible (empty)
 * section headers, and errors instead of silently split over-long lines.
 * The keys are those of the original queue daemon plus jobd's own; see
 * docs/jobd.conf.md. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "jobd.h"
#include "core/timefmt.h"
#include "core/tz.h"
#include "engine/config.h"
#include "engine/log.h"

/* ---- the INI reader ---------------------------------------------------- */

enum line_kind { LINE_OTHER, LINE_KEY, LINE_CONT };

struct ini_ctx {
	FILE *f;
	const char *path;
	const struct config_ini_ops *ops;
	void *user;
	char *line;
	size_t cap;
	int lineno;
	int kind;         /* enum line_kind of the line inih is handling */
	int have_prev;    /* a key since the last header: inih's prev_name */
	char *prev_name;  /* ours: inih's copy is cut at 50 bytes */
	int hdr_line;     /* header line of the open section, 0 = none */
	int err_line;     /* line of our first error, 0 = none */
	char msg[512];
	char cont[1024];  /* a continuation value, comment stripped */
	int read_errno;   /* getline's, e.g. EISDIR */
};

/* Callbacks that fail for want of memory may leave msg empty. */
static void ini_fail(struct ini_ctx *c, int line, const char *msg)
{
	if (c->err_line)
		return;
	c->err_line = line;
	snprintf(c->msg, sizeof(c->msg), "%s", msg[0] ? msg : "out of memory");
}

/* inih's find_chars_or_comment: the first of `chars`, or an inline ';'
 * comment (one preceded by white space), or the end. */
static char *find_delim(char *s, const char *chars)
{
	int was_space = 0;

	while (*s && !strchr(chars, *s) && !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

static void ini_header(struct ini_ctx *c, char *s)
{
	char *e = find_delim(s + 1, "]"), *name, msg[400] = "";
	int rc;

	if (*e != ']')
		return;              /* inih reports the syntax error */
	*e = '\0';
	name = s + 1;
	while (isspace((unsigned char)*name))
		name++;
	for (e = name + strlen(name); e > name && isspace((unsigned char)e[-1]); )
		*--e = '\0';
	if (c->hdr_line && c->ops->end) {
		rc = c->ops->end(c->user, c->hdr_line, msg, sizeof(msg));
		if (rc) {
			ini_fail(c, c->hdr_line, msg);
			return;
		}
	}
	c->hdr_line = c->lineno;
	c->have_prev = 0;
	rc = c->ops->section(c->user, name, c->lineno, msg, sizeof(msg));
	if (rc)
		ini_fail(c, c->lineno, msg);
}

/* Mirrors inih's reading of one line so that we know what inih will do
 * with it (its parser gives callbacks neither line numbers nor headers). */
static void ini_classify(struct ini_ctx *c)
{
	char *p = c->line, *s;

	if (c->lineno == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	for (s = p; isspace((unsigned char)*s); s++)
		;
	c->kind = LINE_OTHER;
	if (!*s || *s == ';' || *s == '#')
		return;
	if (c->have_prev && s > p) {
		c->kind = LINE_CONT;
	} else if (*s == '[') {
		ini_header(c, s);
	} else if (*(s = find_delim(s, "=:")) == '=' || *s == ':') {
		/* not "m ;": inih stops at the comment, a syntax error that
		 * sets no previous key for a continuation to belong to */
		c->kind = LINE_KEY;
		c->have_prev = 1;
	}
}

static char *ini_line_reader(char *str, int num, void *stream)
{
	struct ini_ctx *c = stream;
	ssize_t n;
	char msg[128];

	if (c->err_line)
		return NULL;
	n = getline(&c->line, &c->cap, c->f);
	if (n < 0) {
		c->read_errno = ferror(c->f) ? errno : 0;
		return NULL;
	}
	c->lineno++;
	while (n > 0 && (c->line[n - 1] == '\n' || c->line[n - 1] == '\r'))
		c->line[--n] = '\0';
	/* inih reads into a num-byte buffer and would split a longer line
	 * into two, the second half parsed as a line of its own. */
	if (n > num - 2) {
		snprintf(msg, sizeof(msg), "line too long (%zd characters, at "
		         "most %d; continue a value on indented lines)", n, num - 2);
		ini_fail(c, c->lineno, msg);
		return NULL;
	}
	memcpy(str, c->line, (size_t)n + 1);
	ini_classify(c);
	return c->err_line ? NULL : str;
}

/* inih strips " ; comment" from key lines but not from continuation
 * lines; strip it here so that both read alike. */
static const char *strip_comment(struct ini_ctx *c, const char *value)
{
	size_t n = strlen(value) + 1;
	char *e;

	if (n > sizeof(c->cont))
		n = sizeof(c->cont);
	memcpy(c->cont, value, n);
	c->cont[n - 1] = '\0';
	e = find_delim(c->cont, "");
	*e = '\0';
	while (e > c->cont && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return c->cont;
}

static int ini_line_handler(void *user, const char *section, const char *name,
                       const char *value)
{
	struct ini_ctx *c = user;
	char msg[400] = "";
	int cont = c->kind == LINE_CONT;

	(void)section;   /* ours is not cut at 50 bytes */
	if (c->err_line)
		return 0;
	if (!cont) {
		free(c->prev_name);
		c->prev_name = strdup(name);
		if (!c->prev_name) {
			ini_fail(c, c->lineno, "out of memory");
			return 0;
		}
	}
	if (cont)
		value = strip_comment(c, value);
	/* inih would take an indented "[x]" as more of the previous value. */
	if (cont && value[0] == '[') {
		ini_fail(c, c->lineno, "indented section header (a continuation "
		         "line may not start with '[')");
		return 0;
	}
	if (c->ops->key(c->user, cont ? c->prev_name : name, value, c->lineno,
	                cont, msg, sizeof(msg))) {
		ini_fail(c, c->lineno, msg);
		return 0;
	}
	return 1;
}

static void ini_end(struct ini_ctx *c)
{
	char msg[400] = "";

	if (!c->err_line && c->hdr_line && c->ops->end &&
	    c->ops->end(c->user, c->hdr_line, msg, sizeof(msg)))
		ini_fail(c, c->hdr_line, msg);
}

int config_ini_read(const char *path, const char *what,
                    const struct config_ini_ops *ops, void *user, char *err,
                    size_t errlen)
{
	struct ini_ctx c = { .path = path, .ops = ops, .user = user };
	int rc, syntax, ret = 0;

	c.f = fopen(path, "r");
	if (!c.f) {
		ret = -errno;
		snprintf(err, errlen, "cannot read %s '%s': %s", what, path,
		         strerror(errno));
		return ret;
	}
	rc = ini_parse_stream(ini_line_reader, &c, ini_line_handler, &c);
	if (c.read_errno) {
		ret = -c.read_errno;
		snprintf(err, errlen, "cannot read %s '%s': %s", what, path,
		         strerror(c.read_errno));
		goto out;
	}
	syntax = rc > 0 && (!c.err_line || rc < c.err_line);
	if (!syntax && !c.err_line)
		ini_end(&c);
	if (rc < 0) {
		ret = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
	} else if (syntax) {
		ret = -EINVAL;
		snprintf(err, errlen, "%s:%d: syntax error (expected "
		         "'[section]' or 'key = value')", path, rc);
	} else if (c.err_line) {
		ret = -EINVAL;
		snprintf(err, errlen, "%s:%d: %s", path, c.err_line, c.msg);
	}
out:
	fclose(c.f);
	free(c.line);
	free(c.prev_name);
	return ret;
}

/* ---- value parsers ------------------------------------------------------ */

int config_bool_parse(const char *s)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

static int bytes_unit(const char *u, int *shift)
{
	static const struct { const char *s; int shift; } units[] = {
		{ "", 0 }, { "b", 0 },
		{ "k", 10 }, { "kb", 10 }, { "kib", 10 },
		{ "m", 20 }, { "mb", 20 }, { "mib", 20 },
		{ "g", 30 }, { "gb", 30 }, { "gib", 30 },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcasecmp(u, units[i].s) == 0) {
			*shift = units[i].shift;
			return 0;
		}
	return -EINVAL;
}

int config_bytes_parse(const char *s, int64_t *out)
{
	char *end;
	unsigned long long v;
	int shift;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	while (*end == ' ')
		end++;
	if (bytes_unit(end, &shift) < 0 || v > (unsigned long long)(INT64_MAX >> shift))
		return -EINVAL;
	*out = (int64_t)(v << shift);
	return 0;
}

/* A whole decimal integer in [lo, hi]. */
static int int_parse(const char *s, long lo, long hi, int *out)
{
	char *end;
	long v;

	if (!*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/* ---- the keys ---------------------------------------------------------- */

enum ckind {
	C_STR, C_DUR, C_BYTES, C_BOOL, C_PORT, C_LEVEL, C_ORPHANS, C_ROLE,
	C_TZ, C_COUNT, C_IGNORE,
};

struct ckey {
	const char *name;
	enum ckind kind;
	size_t off;
};

#define F(f) offsetof(struct config, f)
static const struct ckey ckeys[] = {
	{ "state_dir", C_STR, F(state_dir) },
	{ "socket", C_STR, F(socket) },
	{ "socket_group", C_STR, F(socket_group) },
	{ "log_level", C_LEVEL, F(log_level) },
	{ "store", C_STR, F(store) },
	{ "jobs_dir", C_STR, F(jobs_dir) },
	{ "timezone", C_TZ, F(timezone) },
	{ "output_cap", C_BYTES, F(output_cap) },
	{ "keep_runs", C_DUR, F(keep_runs) },
	{ "shutdown_grace", C_DUR, F(shutdown_grace) },
	{ "orphans", C_ORPHANS, F(orphans_adopt) },
	{ "host", C_STR, F(host) },
	{ "port", C_PORT, F(port) },
	{ "password", C_STR, F(password) },
	{ "always_allow_localhost", C_BOOL, F(always_allow_localhost) },
	{ "max_buffered", C_BYTES, F(max_buffered) },
	{ "max_connections", C_COUNT, F(max_connections) },
	{ "auth_timeout", C_DUR, F(auth_timeout) },
	{ "name", C_STR, F(name) },
	{ "labels", C_STR, F(labels) },
	{ "role", C_ROLE, F(role) },
	{ "master_host", C_STR, F(master_host) },
	{ "master_port", C_PORT, F(master_port) },
	{ "ping_interval", C_DUR, F(ping_interval) },
	{ "poke_throttle_interval", C_DUR, F(poke_throttle_interval) },
	{ "master_reconnect_timeout", C_DUR, F(master_reconnect_timeout) },
	{ "ninep_listen", C_STR, F(ninep_listen) },
	{ "ninep_token", C_STR, F(ninep_token) },
	{ "ninep_socket", C_STR, F(ninep_socket) },
	{ "http_listen", C_STR, F(http_listen) },
	{ "http_token", C_STR, F(http_token) },
	{ "launcher", C_STR, F(launcher) },
	{ "launcher.cwd", C_STR, F(launcher_cwd) },
	{ "mysql_host", C_STR, F(mysql_host) },
	{ "mysql_port", C_PORT, F(mysql_port) },
	{ "mysql_user", C_STR, F(mysql_user) },
	{ "mysql_password", C_STR, F(mysql_password) },
	{ "mysql_database", C_STR, F(mysql_database) },
	{ "mysql_table", C_STR, F(mysql_table) },
	{ "mysql_fetch_limit", C_COUNT, F(mysql_fetch_limit) },
	{ "max_output_buffer", C_BYTES, F(max_output_buffer) },
	/* The original's logging keys: jobd logs to stderr only. */
	{ "log_level_console", C_LEVEL, F(log_level) },
	{ "log_file", C_IGNORE, 0 },
	{ "log_level_file", C_IGNORE, 0 },
};
#define N_CKEYS (sizeof(ckeys) / sizeof(ckeys[0]))

struct cparse {
	struct config *c;
	int in_targets;
	unsigned char seen[N_CKEYS];
};

static int bad_value(char *err, size_t errlen, const char *key,
                     const char *value, const char *why)
{
	snprintf(err, errlen, "invalid value for %s: '%s'%s%s%s", key, value,
	         why ? " (" : "", why ? why : "", why ? ")" : "");
	return -EINVAL;
}

static int set_str(char **field, const char *value)
{
	char *v = value[0] ? strdup(value) : NULL;

	if (value[0] && !v)
		return -ENOMEM;
	free(*field);
	*field = v;   /* empty = unset: the default applies */
	return 0;
}

static int set_tz(struct config *c, const struct ckey *k, const char *value,
                  char *err, size_t errlen)
{
	const struct tz *z;
	char e[256] = "";
	int rc = tz_get(value, &z, e, sizeof(e));

	if (rc < 0)
		return bad_value(err, errlen, k->name, value,
		                 rc == -ENOENT ? "unknown time zone" : e);
	return set_str(&c->timezone, value);
}

static int set_value(struct config *c, const struct ckey *k, const char *v,
                     char *err, size_t errlen)
{
	char *base = (char *)c + k->off, e[256] = "";
	int i;

	switch (k->kind) {
	case C_STR:
		return set_str((char **)base, v);
	case C_TZ:
		return set_tz(c, k, v, err, errlen);
	case C_DUR:
		if (dur_parse(v, (int64_t *)base, e, sizeof(e)) < 0 || *(int64_t *)base < 0)
			return bad_value(err, errlen, k->name, v, e[0] ? e : NULL);
		return 0;
	case C_BYTES:
		if (config_bytes_parse(v, (int64_t *)base) < 0)
			return bad_value(err, errlen, k->name, v, "bytes: 1048576, 512k, 1M, 1MiB");
		return 0;
	case C_BOOL:
		if ((i = config_bool_parse(v)) < 0)
			return bad_value(err, errlen, k->name, v, "true or false");
		*(int *)base = i;
		return 0;
	case C_PORT:
		if (int_parse(v, 1, 65535, (int *)base) < 0)
			return bad_value(err, errlen, k->name, v, "1 to 65535");
		return 0;
	case C_COUNT:
		if (int_parse(v, 1, 1000000, (int *)base) < 0)
			return bad_value(err, errlen, k->name, v, "1 to 1000000");
		return 0;
	case C_LEVEL:
		if ((i = log_level_parse(v)) < 0)
			return bad_value(err, errlen, k->name, v, "debug, info, warn or error");
		*(int *)base = i;
		return 0;
	case C_ORPHANS:
		if (strcmp(v, "adopt") != 0 && strcmp(v, "kill") != 0)
			return bad_value(err, errlen, k->name, v, "adopt or kill");
		*(int *)base = strcmp(v, "adopt") == 0;
		return 0;
	case C_ROLE:
		if (strcmp(v, "worker") != 0 && strcmp(v, "master") != 0)
			return bad_value(err, errlen, k->name, v, "worker or master");
		return set_str((char **)base, v);
	case C_IGNORE:
		return 0;
	}
	return -EINVAL;
}

static int set_launcher_env(struct config *c, const char *key,
                            const char *name, const char *value, char *err,
                            size_t errlen)
{
	struct config_env *v;

	if (!name[0]) {
		snprintf(err, errlen, "unknown key '%s'", key);
		return -EINVAL;
	}
	for (int i = 0; i < c->n_launcher_env; i++)
		if (strcmp(c->launcher_env[i].name, name) == 0) {
			snprintf(err, errlen, "duplicate key '%s'", key);
			return -EINVAL;
		}
	v = realloc(c->launcher_env, sizeof(*v) * (size_t)(c->n_launcher_env + 1));
	if (!v)
		return -ENOMEM;
	c->launcher_env = v;
	v += c->n_launcher_env;
	v->name = strdup(name);
	v->value = strdup(value);
	c->n_launcher_env++;   /* counted even when strdup failed: freed */
	return v->name && v->value ? 0 : -ENOMEM;
}

static int set_target(struct config *c, const char *name, const char *value,
                      char *err, size_t errlen)
{
	struct config_target *t;
	int n;

	if (!name_valid(name)) {
		snprintf(err, errlen, "invalid target name '%s' ([A-Za-z0-9_.-], "
		         "1 to %d characters)", name, NAME_MAX_LEN);
		return -EINVAL;
	}
	for (int i = 0; i < c->n_targets; i++)
		if (strcmp(c->targets[i].name, name) == 0) {
			snprintf(err, errlen, "duplicate target '%s'", name);
			return -EINVAL;
		}
	if (int_parse(value, 1, 10000, &n) < 0) {
		snprintf(err, errlen, "invalid concurrency for target '%s': '%s' "
		         "(1 to 10000)", name, value);
		return -EINVAL;
	}
	t = realloc(c->targets, sizeof(*t) * (size_t)(c->n_targets + 1));
	if (!t)
		return -ENOMEM;
	c->targets = t;
	t[c->n_targets].concurrency = n;
	t[c->n_targets].name = strdup(name);
	c->n_targets++;
	return t[c->n_targets - 1].name ? 0 : -ENOMEM;
}

static int conf_key(void *user, const char *name, const char *value, int line,
                    int cont, char *err, size_t errlen)
{
	struct cparse *p = user;

	(void)line;
	if (cont) {
		snprintf(err, errlen, "continuation line for '%s' (values of "
		         "the daemon config fit on one line)", name);
		return -EINVAL;
	}
	if (p->in_targets)
		return set_target(p->c, name, value, err, errlen);
	if (strncmp(name, "launcher.env.", 13) == 0)
		return set_launcher_env(p->c, name, name + 13, value, err, errlen);
	for (size_t i = 0; i < N_CKEYS; i++) {
		if (strcmp(ckeys[i].name, name) != 0)
			continue;
		if (p->seen[i]) {
			snprintf(err, errlen, "duplicate key '%s'", name);
			return -EINVAL;
		}
		p->seen[i] = 1;
		return set_value(p->c, &ckeys[i], value, err, errlen);
	}
	snprintf(err, errlen, "unknown key '%s'", name);
	return -EINVAL;
}

static int conf_section(void *user, const char *name, int line, char *err,
                        size_t errlen)
{
	struct cparse *p = user;

	(void)line;
	if (strcmp(name, "targets") != 0) {
		snprintf(err, errlen, "unknown section [%s] (only [targets])", name);
		return -EINVAL;
	}
	p->in_targets = 1;
	return 0;
}

/* ---- defaults ---------------------------------------------------------- */

static void defaults_numeric(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->log_level = LOG_INFO;
	c->output_cap = 1 << 20;
	c->keep_runs = 24 * 3600 * US_PER_S;
	c->shutdown_grace = 30 * US_PER_S;
	c->ping_interval = 30 * US_PER_S;
	c->poke_throttle_interval = US_PER_S / 2;
	c->master_reconnect_timeout = 10 * US_PER_S;
	c->mysql_fetch_limit = 100;
	c->max_output_buffer = 1 << 20;
	c->max_buffered = 64 << 20;
	c->max_connections = 1024;
	c->auth_timeout = 10 * US_PER_S;
}

static int dup_default(char **field, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int dup_default(char **field, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*field)
		return 0;
	va_start(ap, fmt);
	n = vasprintf(field, fmt, ap);
	va_end(ap);
	if (n < 0) {
		*field = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Percent-encodes the characters that would end a URL's user or password. */
static void url_part(char *out, size_t n, const char *s)
{
	size_t o = 0;

	for (; s && *s && o + 4 < n; s++) {
		if (strchr(":@/?#%[] ", *s))
			o += (size_t)snprintf(out + o, n - o, "%%%02X", (unsigned char)*s);
		else
			out[o++] = *s;
	}
	out[o] = '\0';
}

/* The original names its database with mysql_* keys; jobd's store takes a
 * URL.  Used only when `store` itself is not set. */
static int mysql_store(struct config *c)
{
	char user[256], pass[256];

	url_part(user, sizeof(user), c->mysql_user);
	url_part(pass, sizeof(pass), c->mysql_password);
	return dup_default(&c->store, "mysql://%s%s%s%s%s:%d/%s?table=%s", user,
	                   c->mysql_password ? ":" : "", pass, user[0] ? "@" : "",
	                   c->mysql_host ? c->mysql_host : "localhost",
	                   c->mysql_port ? c->mysql_port : 3306,
	                   c->mysql_database ? c->mysql_database : "jobd",
	                   c->mysql_table ? c->mysql_table : "jobs");
}

static int defaults_strings(struct config *c)
{
	char host[256] = "";
	int rc = 0;

	rc |= dup_default(&c->state_dir, "var");
	rc |= dup_default(&c->socket, "%s/jobd.sock", c->state_dir);
	if (!c->store && (c->mysql_host || c->mysql_database))
		rc |= mysql_store(c);
	rc |= dup_default(&c->store, "sqlite:%s/jobd.db", c->state_dir);
	if (c->path) {
		char *slash = strrchr(c->path, '/');
		int dirlen = slash ? (int)(slash - c->path) : 0;

		rc |= dup_default(&c->jobs_dir, "%.*s/jobs.d", dirlen, c->path);
	}
	rc |= dup_default(&c->timezone, "UTC");
	rc |= dup_default(&c->role, "worker");
	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		strcpy(host, "localhost");
	rc |= dup_default(&c->name, "%s", host);
	if (!c->port && strcmp(c->role, "master") == 0)
		c->port = 7081;
	if (c->master_host && !c->master_port)
		c->master_port = 7081;
	return rc ? -ENOMEM : 0;
}

void config_defaults(struct config *c)
{
	defaults_numeric(c);
	if (defaults_strings(c) < 0)
		log_error("config: out of memory");
}

void config_free(struct config *c)
{
	for (size_t i = 0; i < N_CKEYS; i++)
		if (ckeys[i].kind == C_STR || ckeys[i].kind == C_TZ ||
		    ckeys[i].kind == C_ROLE) {
			char **f = (char **)((char *)c + ckeys[i].off);

			free(*f);
			*f = NULL;
		}
	for (int i = 0; i < c->n_launcher_env; i++) {
		free(c->launcher_env[i].name);
		free(c->launcher_env[i].value);
	}
	for (int i = 0; i < c->n_targets; i++)
		free(c->targets[i].name);
	free(c->launcher_env);
	free(c->targets);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

static int key_seen(const struct cparse *p, const char *name)
{
	for (size_t i = 0; i < N_CKEYS; i++)
		if (strcmp(ckeys[i].name, name) == 0)
			return p->seen[i];
	return 0;
}

/* The original's max_output_buffer capped output as output_cap does. */
static void compat_keys(struct cparse *p)
{
	if (key_seen(p, "max_output_buffer") && !key_seen(p, "output_cap"))
		p->c->output_cap = p->c->max_output_buffer;
}

/* 1 if host (a numeric address) is a loopback one: 127.0.0.0/8, ::1, or
 * 127.0.0.0/8 mapped into IPv6; 0 otherwise, and for names. */
static int host_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) != 1)
		return 0;
	return IN6_IS_ADDR_LOOPBACK(&a6) ||
	       (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
}

/* The TCP port without a password is safe only where no other host can
 * reach it; the memory and connection bounds must leave room to work. */
static int check_wire(const struct config *c, const char *path, char *err,
                      size_t errlen)
{
	const char *host = c->host ? c->host : "127.0.0.1";

	if (c->port && !(c->password && c->password[0]) && !host_loopback(host)) {
		snprintf(err, errlen, "%s: port %d on host %s without a password: "
		         "any host could use the queue; set password, or host = "
		         "127.0.0.1", path, c->port, host);
		return -EINVAL;
	}
	if (c->max_buffered < (1 << 20)) {
		snprintf(err, errlen, "%s: invalid value for max_buffered: %lld "
		         "bytes (at least 1M)", path, (long long)c->max_buffered);
		return -EINVAL;
	}
	if (c->auth_timeout < US_PER_S / 10) {
		snprintf(err, errlen, "%s: invalid value for auth_timeout: at least "
		         "100ms", path);
		return -EINVAL;
	}
	return 0;
}

/* ninep_listen: HOST:PORT (a numeric port 1..65535; the host is checked
 * when jobd listens). */
static int check_ninep(const struct config *c, const char *path, char *err,
                       size_t errlen)
{
	const char *l = c->ninep_listen, *colon = l ? strrchr(l, ':') : NULL;
	char *end;
	long port = colon ? strtol(colon + 1, &end, 10) : 0;

	if (!l || !*l)
		return 0;
	if (!colon || colon == l || end == colon + 1 || *end || port < 1 ||
	    port > 65535) {
		snprintf(err, errlen, "%s: ninep_listen: want HOST:PORT (e.g. "
		         "127.0.0.1:5640), not '%s'", path, l);
		return -EINVAL;
	}
	return 0;
}

/* Keys of faces not built yet parse (their values are checked) but are
 * refused: a key that does nothing is an error, never silently kept. */
static const struct planned {
	const char *key, *face;
} planned[] = {
	{ "master_host", "the cluster master and workers" },
	{ "master_port", "the cluster master and workers" },
	{ "ping_interval", "the cluster master and workers" },
	{ "poke_throttle_interval", "the cluster master and workers" },
	{ "master_reconnect_timeout", "the cluster master and workers" },
	{ "http_listen", "the HTTP face" },
	{ "http_token", "the HTTP face" },
};

static int check_built(const struct cparse *p, const char *path, char *err,
                       size_t errlen)
{
	const char *key = NULL, *face = NULL;

	for (size_t i = 0; i < N_CKEYS && !key; i++)
		for (size_t k = 0; k < sizeof planned / sizeof *planned; k++)
			if (p->seen[i] && strcmp(ckeys[i].name, planned[k].key) == 0) {
				key = planned[k].key;
				face = planned[k].face;
			}
	if (!key && strcmp(p->c->role, "master") == 0) {
		key = "role = master";
		face = "the cluster master and workers";
	}
	if (!key)
		return 0;
	snprintf(err, errlen, "%s: %s: not built yet (planned: %s); remove it",
	         path, key, face);
	return -ENOTSUP;
}

int config_load(const char *path, struct config *out, char *err, size_t errlen)
{
	static const struct config_ini_ops ops = {
		.section = conf_section, .key = conf_key,
	};
	struct config c;
	struct cparse p = { .c = &c };
	int rc;

	defaults_numeric(&c);
	rc = config_ini_read(path, "config", &ops, &p, err, errlen);
	if (rc < 0)
		goto error;
	compat_keys(&p);
	c.path = realpath(path, NULL);
	if (!c.path) {
		rc = -errno;
		snprintf(err, errlen, "cannot read config '%s': %s", path,
		         strerror(errno));
		goto error;
	}
	rc = defaults_strings(&c);
	if (rc < 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto error;
	}
	rc = check_wire(&c, path, err, errlen);
	if (rc == 0)
		rc = check_ninep(&c, path, err, errlen);
	if (rc == 0)
		rc = check_built(&p, path, err, errlen);
	if (rc < 0)
		goto error;
	*out = c;
	return 0;
error:
	config_free(&c);
	return rc;
}
