/* jobctl_args.c — jobctl's errors ("jobctl: <what is wrong>" or JSON),
 * its hand-written option parsing, and the checks and conversions of
 * option values into the request's JSON.
 *
 * Hand-written option parsing: getopt_long cannot express "every word after
 * the job name is the command" (create, submit) together with a shared set
 * of options accepted before and after the command name, and its messages
 * do not follow jobd's "jobctl: <what is wrong>" form. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "jobd.h"
#include "cmd/jobctl.h"
#include "core/jid.h"
#include "core/timefmt.h"


/* --json anywhere before "--": errors are JSON too (set in main, before
 * the arguments are parsed, so that a usage error is JSON as well). */
int json_errors;

/* Every error of jobctl goes out here: "jobctl: <what is wrong>" on
 * stderr, or {"error": "<what is wrong>", "code": CODE} with --json.
 * Returns code, the exit code. */
static int vcomplain(int code, const char *fmt, va_list ap)
{
	char msg[2048];

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (!json_errors) {
		fprintf(stderr, "jobctl: %s\n", msg);
		return code;
	}
	json_t *o = json_pack("{s:s,s:i}", "error", msg, "code", code);
	char *t = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	fprintf(stderr, "%s\n", t ? t : "{\"error\": \"out of memory\"}");
	free(t);
	json_decref(o);
	return code;
}

int complain(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = vcomplain(code, fmt, ap);
	va_end(ap);
	return code;
}

/* A usage error: the usage exit code. */
int bad(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int code = vcomplain(EXIT_USAGE, fmt, ap);
	va_end(ap);
	return code;
}

/* ---- argument parsing -------------------------------------------------- */

static const struct optdef common_opts[] = {
	{ "json", 0, 0 },        { "help", 'h', 0 },
	{ "socket", 0, O_ARG },  { "connect", 0, O_ARG },
	{ "password", 0, O_ARG }, { NULL, 0, 0 },
};

static const struct optdef *opt_find(const struct optdef *t, const char *name,
				     size_t len, char shrt)
{
	for (; t && t->name; t++)
		if (shrt ? t->shrt == shrt :
		    strlen(t->name) == len && !strncmp(t->name, name, len))
			return t;
	return NULL;
}

static const struct optdef *opt_lookup(const struct command *cmd,
				       const char *name, size_t len, char shrt)
{
	const struct optdef *d = opt_find(cmd->opts, name, len, shrt);

	return d ? d : opt_find(common_opts, name, len, shrt);
}

/* "run: " in messages about a command's options; nothing for the global
 * options (the pseudo-command "jobctl"). */
#define CMD_PREFIX(cmd) (cmd)->fn ? (cmd)->name : "", (cmd)->fn ? ": " : ""

/* One option word at argv[*i] ("--name", "--name=v", "--name v", "-x",
 * "-xV", "-x V"); advances *i past a separate value. */
static int parse_opt(const struct command *cmd, char **argv, int argc,
		     int *i, struct args *a)
{
	const char *w = argv[*i], *eq = NULL, *v = NULL;
	const struct optdef *d;
	int lng = w[1] == '-';

	if (lng) {
		eq = strchr(w + 2, '=');
		d = opt_lookup(cmd, w + 2, eq ? (size_t)(eq - w - 2)
			       : strlen(w + 2), 0);
	} else {
		d = opt_lookup(cmd, NULL, 0, w[1]);
		eq = w[2] ? w + 1 : NULL;   /* -n5: the value follows */
	}
	if (!d)
		return bad("%s%sunknown option '%.*s'", CMD_PREFIX(cmd),
			   lng && eq ? (int)(eq - w) : lng ? (int)strlen(w) : 2, w);
	if (!(d->flags & O_ARG) && eq)
		return bad("%s%soption '--%s' takes no value", CMD_PREFIX(cmd),
			   d->name);
	if (d->flags & O_ARG) {
		v = eq ? eq + 1 : *i + 1 < argc ? argv[++*i] : NULL;
		if (!v)
			return bad("%s%soption '--%s' needs a value",
				   CMD_PREFIX(cmd), d->name);
	}
	a->opt[a->nopt++] = (struct optval){ d, v };
	return 0;
}

int parse_args(const struct command *cmd, int argc, char **argv,
		      struct args *a)
{
	int words = 0, rc;

	a->pos = calloc((size_t)argc + 1, sizeof(*a->pos));
	a->opt = calloc((size_t)argc + 1, sizeof(*a->opt));
	if (!a->pos || !a->opt)
		return bad("out of memory");
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];

		if (!words && cmd->words_after >= 0 &&
		    a->npos > cmd->words_after)
			words = 1;   /* the COMMAND began: the rest is its words */
		if (words || w[0] != '-' || !w[1])
			a->pos[a->npos++] = argv[i];
		else if (!strcmp(w, "--"))
			words = 1;
		else if ((rc = parse_opt(cmd, argv, argc, &i, a)) != 0)
			return rc;
	}
	return 0;
}

void args_free(struct args *a)
{
	free(a->pos);
	free(a->opt);
}

/* The last value of option `name`, or NULL. */
const char *opt_get(const struct args *a, const char *name)
{
	const char *v = NULL;

	for (int i = 0; i < a->nopt; i++)
		if (!strcmp(a->opt[i].d->name, name))
			v = a->opt[i].v ? a->opt[i].v : "";
	return v;
}

int opt_has(const struct args *a, const char *name)
{
	return opt_get(a, name) != NULL;
}

/* ---- values --------------------------------------------------------- */

int parse_long(const char *what, const char *s, long lo, long hi,
		      long *out)
{
	char *end;
	long v;

	*out = 0;   /* set on failure too: bad() is variadic, so clang's analyzer
		     * does not follow it and cannot see it returns non-zero */
	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno == ERANGE)
		return bad("%s: '%s' is not an integer", what, s);
	if (v < lo || v > hi)
		return bad("%s: %ld is out of range (%ld..%ld)", what, v, lo, hi);
	*out = v;
	return 0;
}

int check_name(const char *what, const char *s)
{
	/* a job may also be a service file's task: "web.task#1" */
	if (strcmp(what, "job") == 0 ? job_name_valid(s) : name_valid(s))
		return 0;
	return bad("invalid %s name '%s': use 1 to %d of A-Z a-z 0-9 _ . -",
		   what, s, NAME_MAX_LEN);
}

int check_jid(const char *s)
{
	if (jid_valid(s))
		return 0;
	return bad("invalid jid '%s': expected 20 digits YYYYMMDDhhmmssffffff",
		   s);
}

/* TIME (RFC 3339, now+DUR, @unix) as an RFC 3339 UTC string. */
int parse_time(const char *what, const char *s, char *out, size_t n,
		      int64_t *us)
{
	char err[ERRLEN];
	int64_t t;

	if (time_parse(s, now_us(), &t, err, sizeof(err)) < 0)
		return bad("%s: %s", what, err);
	time_format_utc(out, n, t);
	if (us)
		*us = t;
	return 0;
}

/* "a,b,c" as a JSON list; empty items are errors. */
static int parse_list(const char *what, const char *s, json_t **out)
{
	const char *p = s, *e;

	*out = json_array();
	do {
		e = strchrnul(p, ',');
		if (e == p) {
			json_decref(*out);
			return bad("%s: empty item in '%s'", what, s);
		}
		json_array_append_new(*out, json_stringn(p, (size_t)(e - p)));
		p = e + 1;
	} while (*e);
	return 0;
}

/* Option name to JSON key: "kill-grace" -> "kill_grace". */
static void opt_key(char *key, size_t n, const char *opt)
{
	snprintf(key, n, "%s", opt);
	for (char *p = key; *p; p++)
		if (*p == '-')
			*p = '_';
}

int put_str(const struct args *a, const char *opt, json_t *o)
{
	const char *v = opt_get(a, opt);
	char key[64];

	opt_key(key, sizeof(key), opt);
	if (v)
		json_object_set_new(o, key, json_string(v));
	return 0;
}

int put_long(const struct args *a, const char *opt, long lo, long hi,
		    json_t *o)
{
	const char *v = opt_get(a, opt);
	char key[64], what[80];
	long n;
	int rc;

	if (!v)
		return 0;
	snprintf(what, sizeof(what), "--%s", opt);
	if ((rc = parse_long(what, v, lo, hi, &n)) != 0)
		return rc;
	opt_key(key, sizeof(key), opt);
	json_object_set_new(o, key, json_integer(n));
	return 0;
}

/* A DUR option, checked here and sent as the user wrote it. */
int put_dur(const struct args *a, const char *opt, json_t *o)
{
	const char *v = opt_get(a, opt);
	char err[ERRLEN];
	int64_t us;

	if (v && dur_parse(v, &us, err, sizeof(err)) < 0)
		return bad("--%s: %s", opt, err);
	return put_str(a, opt, o);
}

int put_list(const struct args *a, const char *opt, json_t *o)
{
	const char *v = opt_get(a, opt);
	char key[64], what[80];
	json_t *l;
	int rc;

	if (!v)
		return 0;
	snprintf(what, sizeof(what), "--%s", opt);
	if ((rc = parse_list(what, v, &l)) != 0)
		return rc;
	opt_key(key, sizeof(key), opt);
	json_object_set_new(o, key, l);
	return 0;
}

int put_time(const struct args *a, const char *opt, json_t *o)
{
	const char *v = opt_get(a, opt);
	char key[64], what[80], t[64];
	int rc;

	if (!v)
		return 0;
	snprintf(what, sizeof(what), "--%s", opt);
	if ((rc = parse_time(what, v, t, sizeof(t), NULL)) != 0)
		return rc;
	opt_key(key, sizeof(key), opt);
	json_object_set_new(o, key, json_string(t));
	return 0;
}

/* --cwd made absolute against our own directory when the daemon is local. */
int put_cwd(const struct ctl *c, const struct args *a, json_t *o)
{
	const char *v = opt_get(a, "cwd");
	char *here, *abs;

	if (!v || v[0] == '/' || c->connect)
		return put_str(a, "cwd", o);
	here = getcwd(NULL, 0);
	if (!here || asprintf(&abs, "%s/%s", here, v) < 0) {
		free(here);
		return bad("--cwd: cannot resolve '%s': %s", v, strerror(errno));
	}
	json_object_set_new(o, "cwd", json_string(abs));
	free(here);
	free(abs);
	return 0;
}

/* Repeated K=V (env) or NAME=COMMAND (action) options into an object. */
int put_pairs(const struct args *a, const char *opt, const char *key,
		     json_t *o)
{
	json_t *m = json_object();
	const char *v, *eq;

	for (int i = 0; i < a->nopt; i++) {
		if (strcmp(a->opt[i].d->name, opt))
			continue;
		v = a->opt[i].v;
		eq = strchr(v, '=');
		if (!eq || eq == v) {
			json_decref(m);
			return bad("--%s: expected %s, got '%s'", opt,
				   strcmp(opt, "env") ? "NAME=COMMAND" : "K=V", v);
		}
		json_object_setn_new(m, v, (size_t)(eq - v), json_string(eq + 1));
	}
	if (json_object_size(m))
		json_object_set_new(o, key, m);
	else
		json_decref(m);
	return 0;
}

/* The COMMAND words from positional `first` on: "argv", or with --shell
 * one "command" string of the words joined by spaces. */
int put_command(const struct args *a, int first, json_t *o)
{
	json_t *argv;
	size_t len = 0;
	char *cmd;

	if (a->npos <= first)
		return bad("missing COMMAND (after --)");
	if (!opt_has(a, "shell")) {
		argv = json_array();
		for (int i = first; i < a->npos; i++)
			json_array_append_new(argv, json_string(a->pos[i]));
		json_object_set_new(o, "argv", argv);
		return 0;
	}
	for (int i = first; i < a->npos; i++)
		len += strlen(a->pos[i]) + 1;
	cmd = calloc(1, len);
	for (int i = first; cmd && i < a->npos; i++)
		strcat(strcat(cmd, i > first ? " " : ""), a->pos[i]);
	json_object_set_new(o, "command", json_string(cmd ? cmd : ""));
	json_object_set_new(o, "shell", json_true());
	free(cmd);
	return 0;
}

