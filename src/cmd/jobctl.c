/* jobctl.c — the command-line client of jobd: global options, a table of
 * commands (each with its options and usage), and one blocking request /
 * reply exchange per command over the daemon's Unix socket (or TCP with
 * --connect) through the blocking client of src/client (client_sync.h).
 *
 * Hand-written option parsing: getopt_long cannot express "every word after
 * the job name is the command" (create, submit) together with a shared set
 * of options accepted before and after the command name, and its messages
 * do not follow jobd's "jobctl: <what is wrong>" form. */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "jobd.h"
#include "client/client_sync.h"
#include "cmd/jobctl.h"
#include "core/jid.h"
#include "core/schedule.h"
#include "core/timefmt.h"
#include "core/tz.h"

#ifndef JOBD_DEV_SOCKET
#define JOBD_DEV_SOCKET "var/jobd.sock"
#endif
#define JOBD_SYSTEM_SOCKET "/run/jobd/jobd.sock"

#define ERRLEN 512

/* ---- types ----------------------------------------------------------- */

enum { O_ARG = 1 };

struct optdef {
	const char *name;   /* long name, without "--" */
	char shrt;          /* short letter or 0 */
	int flags;          /* O_ARG: takes a value */
};

struct optval {
	const struct optdef *d;
	const char *v;      /* NULL for a flag */
};

struct args {
	int npos, nopt;
	char **pos;
	struct optval *opt;
};

struct ctl;

struct command {
	const char *name;
	int (*fn)(struct ctl *c, struct args *a);
	const struct optdef *opts;
	int min_pos, max_pos;   /* positional arguments; max -1 = any */
	int words_after;        /* after this many positionals every word is
	                           the COMMAND (create, submit); -1 = never */
	const char *synopsis;
	const char *help;
};

struct ctl {
	const char *socket;     /* --socket PATH */
	const char *connect;    /* --connect HOST:PORT */
	const char *password;
	int json;
	struct client_sync *cs; /* NULL until the first request */
	int ran;                /* the exit code came from a run */
	size_t streamed[2];     /* bytes of stdout / stderr shown live */
	const struct command *cmd;
};

typedef client_event_cb event_fn;   /* called with the struct ctl */

/* --json anywhere before "--": errors are JSON too (set in main, before
 * the arguments are parsed, so that a usage error is JSON as well). */
static int json_errors;

static int complain(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

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

static int complain(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = vcomplain(code, fmt, ap);
	va_end(ap);
	return code;
}

/* A usage error: the usage exit code. */
static int bad(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int code = vcomplain(EXIT_USAGE, fmt, ap);
	va_end(ap);
	return code;
}

/* ---- transport -------------------------------------------------------- */

/* The blocking client of src/client (client_sync.h) carries the requests;
 * what goes wrong is told here in jobctl's words and exit codes. */

static int unreachable(const char *where, int err)
{
	return complain(err == EACCES || err == EPERM ? EXIT_PERM
	                : EXIT_UNREACHABLE, "cannot reach jobd at %s: %s", where,
	                strerror(err));
}

/* --socket, JOBD_SOCKET, the development socket if it exists (make run),
 * then the system one. */
static const char *socket_path(const struct ctl *c)
{
	const char *e = getenv("JOBD_SOCKET");

	if (c->socket)
		return c->socket;
	if (e && *e)
		return e;
	if (access(JOBD_DEV_SOCKET, F_OK) == 0)
		return JOBD_DEV_SOCKET;
	return JOBD_SYSTEM_SOCKET;
}

/* "host:port" or "[v6addr]:port": checked here, so that a bad one is a
 * usage error naming --connect. */
static int check_hostport(const char *s)
{
	const char *colon = strrchr(s, ':');
	size_t hl;

	if (!colon || !colon[1] || colon == s)
		return bad("--connect: expected HOST:PORT, got '%s'", s);
	hl = (size_t)(colon - s);
	if (s[0] == '[' && colon[-1] == ']')
		hl -= 2;
	if (hl >= 256)
		return bad("--connect: host name too long");
	return 0;
}

/* libuv's getaddrinfo errors as the C library's, for gai_strerror. */
static const char *resolve_error(int uverr)
{
	static const struct { int uv, eai; } map[] = {
		{ UV_EAI_ADDRFAMILY, EAI_ADDRFAMILY }, { UV_EAI_AGAIN, EAI_AGAIN },
		{ UV_EAI_BADFLAGS, EAI_BADFLAGS },     { UV_EAI_FAIL, EAI_FAIL },
		{ UV_EAI_FAMILY, EAI_FAMILY },         { UV_EAI_MEMORY, EAI_MEMORY },
		{ UV_EAI_NODATA, EAI_NODATA },         { UV_EAI_NONAME, EAI_NONAME },
		{ UV_EAI_SERVICE, EAI_SERVICE },
		{ UV_EAI_SOCKTYPE, EAI_SOCKTYPE },
	};

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (map[i].uv == uverr)
			return gai_strerror(map[i].eai);
	return NULL;
}

static int open_failed(const char *where, int rc, const char *err)
{
	const char *gai = resolve_error(rc);

	if (gai)
		return complain(EXIT_UNREACHABLE, "cannot reach jobd at %s: %s",
		                where, gai);
	if (rc == -ENOMEM || rc == -EINVAL)
		return complain(rc == -EINVAL ? EXIT_USAGE : EXIT_FAILED, "%s",
		                err);
	return unreachable(where, -rc);
}

static int ctl_open(struct ctl *c)
{
	const char *where = c->connect ? c->connect : socket_path(c);
	char err[ERRLEN], addr[sizeof(((struct sockaddr_un *)0)->sun_path) + 2];
	int rc;

	if (!c->password)
		c->password = getenv("JOBD_PASSWORD");
	if (c->connect && (rc = check_hostport(c->connect)) != 0)
		return rc;
	if (!c->connect && strlen(where) >= sizeof addr - 2)
		return bad("socket path too long: %s", where);
	/* the client takes an address without '/' but with ':' for TCP */
	snprintf(addr, sizeof addr, "%s%s", !c->connect && !strchr(where, '/')
	         && strchr(where, ':') ? "./" : "", where);
	rc = client_sync_open(c->connect ? c->connect : addr, c->password, 0,
	                      &c->cs, err, sizeof err);
	return rc ? open_failed(where, rc, err) : 0;
}

/* A call that got no reply, or an error reply: its message and exit code. */
static int call_failed(int rc, int code, const char *err)
{
	switch (rc) {
	case -EREMOTEIO:   /* jobd's own error: its text, its class */
		if (code != EXIT_USAGE && code != EXIT_NOT_RUNNING &&
		    code != EXIT_NOT_FOUND && code != EXIT_PERM)
			code = EXIT_FAILED;
		return complain(code, "%s", err);
	case -ECONNRESET:
		return complain(EXIT_UNREACHABLE, "jobd closed the connection "
		                "before replying");
	case -EPIPE:
		return complain(EXIT_UNREACHABLE, "lost the connection to jobd: "
		                "%s", strerror(EPIPE));
	case -EMSGSIZE:
		return complain(EXIT_FAILED, "reply from jobd too long");
	case -EPROTO:      /* "bad message from jobd: ..." */
		return complain(EXIT_FAILED, "%s", err);
	case -EINVAL:
		return bad("cannot encode the request");
	case -ENOMEM:
		return complain(EXIT_FAILED, "out of memory");
	default:
		return complain(EXIT_UNREACHABLE, "jobd closed the connection "
		                "before replying: %s", strerror(-rc));
	}
}

/* Sends request `type` with `data` (stolen), passes events to on_event
 * (with c), and returns 0 with the reply's data in *reply (caller
 * decrefs), or an exit code after printing what went wrong. */
static int ctl_call(struct ctl *c, const char *type, json_t *data,
		    event_fn *on_event, json_t **reply)
{
	char err[ERRLEN];
	int rc, code;

	*reply = NULL;
	if (!c->cs && (rc = ctl_open(c)) != 0) {
		json_decref(data);
		return rc;
	}
	rc = client_sync_call(c->cs, type, data, on_event, c, reply, &code,
	                      err, sizeof err);
	json_decref(data);
	return rc ? call_failed(rc, code, err) : 0;
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

static int parse_args(const struct command *cmd, int argc, char **argv,
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

static void args_free(struct args *a)
{
	free(a->pos);
	free(a->opt);
}

/* The last value of option `name`, or NULL. */
static const char *opt_get(const struct args *a, const char *name)
{
	const char *v = NULL;

	for (int i = 0; i < a->nopt; i++)
		if (!strcmp(a->opt[i].d->name, name))
			v = a->opt[i].v ? a->opt[i].v : "";
	return v;
}

static int opt_has(const struct args *a, const char *name)
{
	return opt_get(a, name) != NULL;
}

/* ---- values --------------------------------------------------------- */

static int parse_long(const char *what, const char *s, long lo, long hi,
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

static int check_name(const char *what, const char *s)
{
	if (name_valid(s))
		return 0;
	return bad("invalid %s name '%s': use 1 to %d of A-Z a-z 0-9 _ . -",
		   what, s, NAME_MAX_LEN);
}

static int check_jid(const char *s)
{
	if (jid_valid(s))
		return 0;
	return bad("invalid jid '%s': expected 20 digits YYYYMMDDhhmmssffffff",
		   s);
}

/* TIME (RFC 3339, now+DUR, @unix) as an RFC 3339 UTC string. */
static int parse_time(const char *what, const char *s, char *out, size_t n,
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

static int put_str(const struct args *a, const char *opt, json_t *o)
{
	const char *v = opt_get(a, opt);
	char key[64];

	opt_key(key, sizeof(key), opt);
	if (v)
		json_object_set_new(o, key, json_string(v));
	return 0;
}

static int put_long(const struct args *a, const char *opt, long lo, long hi,
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
static int put_dur(const struct args *a, const char *opt, json_t *o)
{
	const char *v = opt_get(a, opt);
	char err[ERRLEN];
	int64_t us;

	if (v && dur_parse(v, &us, err, sizeof(err)) < 0)
		return bad("--%s: %s", opt, err);
	return put_str(a, opt, o);
}

static int put_list(const struct args *a, const char *opt, json_t *o)
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

static int put_time(const struct args *a, const char *opt, json_t *o)
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
static int put_cwd(const struct ctl *c, const struct args *a, json_t *o)
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
static int put_pairs(const struct args *a, const char *opt, const char *key,
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
static int put_command(const struct args *a, int first, json_t *o)
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

/* ---- signals and run results ----------------------------------------- */

static const struct { const char *name; int no; } sigs[] = {
	{ "HUP", SIGHUP },   { "INT", SIGINT },     { "QUIT", SIGQUIT },
	{ "ILL", SIGILL },   { "TRAP", SIGTRAP },   { "ABRT", SIGABRT },
	{ "BUS", SIGBUS },   { "FPE", SIGFPE },     { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 }, { "SEGV", SIGSEGV },   { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM },   { "TERM", SIGTERM },
	{ "CHLD", SIGCHLD }, { "CONT", SIGCONT },   { "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },   { "TTOU", SIGTTOU },
	{ "URG", SIGURG },   { "XCPU", SIGXCPU },   { "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
	{ "IO", SIGIO },     { "PWR", SIGPWR },     { "SYS", SIGSYS },
};

/* "TERM", "SIGTERM", "term" -> 15; 0 if unknown. */
static int sig_number(const char *s)
{
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (!strcasecmp(s, sigs[i].name))
			return sigs[i].no;
	return 0;
}

/* The exit code jobctl gives for a finished run: its return code, 128+N
 * when killed by signal N, 1 when lost, cancelled or failed otherwise. */
static int run_exit_code(json_t *run)
{
	json_t *rc = json_object_get(run, "return_code");
	const char *sig = json_string_value(json_object_get(run, "sig"));
	const char *result = json_string_value(json_object_get(run, "result"));

	if (json_is_integer(rc))
		return (int)(json_integer_value(rc) & 255);
	if (sig && sig_number(sig))
		return 128 + sig_number(sig);
	return result && !strcmp(result, "ok") ? 0 : 1;
}

/* Live output events go straight to our stdout/stderr (not with --json:
 * the output is in the final run object then). */
static void on_output(void *arg, const char *ev, json_t *data)
{
	struct ctl *c = arg;
	int err = ev && !strcmp(ev, "stderr");
	FILE *f = err ? stderr : stdout;

	if (c->json || !ev || !json_is_string(data) ||
	    (!err && strcmp(ev, "stdout")))
		return;
	fwrite(json_string_value(data), 1, json_string_length(data), f);
	fflush(f);
	c->streamed[err] += json_string_length(data);
}

/* Output in the final run object that did not come as events. */
static void show_rest(struct ctl *c, json_t *run)
{
	static const char *const keys[2] = { "stdout", "stderr" };

	for (int i = 0; i < 2; i++) {
		json_t *s = json_object_get(run, keys[i]);

		if (c->streamed[i] || !json_is_string(s))
			continue;
		fwrite(json_string_value(s), 1, json_string_length(s),
		       i ? stderr : stdout);
	}
	fflush(stdout);
}

/* The reply of run/wait/logs: {"run": RUN}, {"runs": [RUN]} (several
 * allocations) or {"jid"} (not waited for). */
static int finish_run(struct ctl *c, json_t *reply, int exit_code)
{
	json_t *run = json_object_get(reply, "run");
	json_t *runs = json_object_get(reply, "runs"), *r;
	int rc = 0;
	size_t i;

	if (!run && !json_is_array(runs)) {
		if (c->json)
			out_json(reply);
		else
			out_message(json_object_get(reply, "jid"), NULL);
		return 0;
	}
	if (c->json)
		out_json(run ? run : runs);
	c->ran = exit_code;
	if (run)
		runs = NULL;
	for (i = 0, r = run ? run : json_array_get(runs, 0); r;
	     r = json_array_get(runs, ++i)) {
		if (!c->json)
			show_rest(c, r);
		if (!rc)
			rc = run_exit_code(r);
	}
	return exit_code ? rc : 0;
}

/* ---- commands: definitions ------------------------------------------- */

/* A request whose reply is shown as a message ("ok" -> `done`). */
static int call_message(struct ctl *c, const char *type, json_t *data,
			const char *done)
{
	json_t *reply;
	int rc = ctl_call(c, type, data, NULL, &reply);

	if (rc)
		return rc;
	if (c->json)
		out_json(reply);
	else
		out_message(reply, done);
	json_decref(reply);
	return 0;
}

static int call_show(struct ctl *c, const char *type, json_t *data,
		     void (*show)(json_t *), const char *member)
{
	json_t *reply;
	int rc = ctl_call(c, type, data, NULL, &reply);

	if (rc)
		return rc;
	if (c->json)
		out_json(reply);
	else
		show(member ? json_object_get(reply, member) : reply);
	json_decref(reply);
	return 0;
}

static int job_schedule_check(const struct args *a)
{
	const char *s = opt_get(a, "schedule"), *zone = opt_get(a, "timezone");
	const struct tz *z;
	struct sched *sc;
	char err[ERRLEN];

	if (zone && tz_get(zone, &z, err, sizeof(err)) < 0)
		return bad("--timezone: %s", err);
	if (!s)
		return 0;
	if (sched_parse(s, zone, &sc, err, sizeof(err)) < 0)
		return bad("--schedule: %s", err);
	sched_free(sc);
	return 0;
}

static int job_enums(const struct args *a, json_t *job)
{
	const char *o = opt_get(a, "overlap"), *cu = opt_get(a, "catchup");

	if (o && overlap_parse(o) < 0)
		return bad("--overlap: '%s' is not one of skip, queue, replace, "
			   "allow", o);
	if (cu && strcmp(cu, "none") && strcmp(cu, "once"))
		return bad("--catchup: '%s' is not one of none, once", cu);
	put_str(a, "overlap", job);
	put_str(a, "catchup", job);
	if (opt_has(a, "confirm"))
		json_object_set_new(job, "confirm", json_true());
	if (opt_has(a, "disabled"))
		json_object_set_new(job, "enabled", json_false());
	if (opt_has(a, "kill-leftovers"))
		json_object_set_new(job, "kill_leftovers", json_true());
	return 0;
}

/* Every option of `create` into the job object. */
static int job_build(const struct ctl *c, const struct args *a, json_t *job)
{
	static const char *const strs[] = { "schedule", "target", "user",
		"group", "timezone" };
	static const char *const durs[] = { "timeout", "kill-grace", "backoff",
		"jitter" };
	static const char *const lists[] = { "tags", "selectors", "requires" };
	int rc = 0;

	json_object_set_new(job, "name", json_string(a->pos[0]));
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		put_str(a, strs[i], job);
	for (size_t i = 0; !rc && i < sizeof(durs) / sizeof(durs[0]); i++)
		rc = put_dur(a, durs[i], job);
	for (size_t i = 0; !rc && i < sizeof(lists) / sizeof(lists[0]); i++)
		rc = put_list(a, lists[i], job);
	if (!rc)
		rc = put_long(a, "retries", 0, 1000000, job);
	if (!rc)
		rc = put_long(a, "priority", -1000000, 1000000, job);
	if (!rc)
		rc = put_long(a, "overlap-queue-max", 0, 1000, job);
	if (!rc)
		rc = job_enums(a, job);
	if (!rc)
		rc = put_cwd(c, a, job);
	if (!rc)
		rc = put_pairs(a, "env", "env", job);
	if (!rc)
		rc = put_pairs(a, "action", "actions", job);
	if (!rc)
		rc = job_schedule_check(a);
	return rc ? rc : put_command(a, 1, job);
}

static int cmd_create(struct ctl *c, struct args *a)
{
	json_t *job = json_object(), *reply;
	int rc = check_name("job", a->pos[0]);

	if (!rc)
		rc = job_build(c, a, job);
	if (rc) {
		json_decref(job);
		return rc;
	}
	rc = ctl_call(c, "create", json_pack("{s:o,s:b}", "job", job, "replace",
		      opt_has(a, "replace")), NULL, &reply);
	if (rc)
		return rc;
	if (c->json)
		out_json(reply);
	else
		printf("%s job %s\n", opt_has(a, "replace") ? "saved" : "created",
		       a->pos[0]);
	json_decref(reply);
	return 0;
}

/* delete, enable, disable: {"name"} -> "ok" ("deleted job NAME"). */
static int cmd_name(struct ctl *c, struct args *a)
{
	char done[NAME_MAX_LEN + 32];
	int rc = check_name("job", a->pos[0]);

	if (rc)
		return rc;
	snprintf(done, sizeof(done), "%sd job %s", c->cmd->name, a->pos[0]);
	return call_message(c, c->cmd->name,
			    json_pack("{s:s}", "name", a->pos[0]), done);
}

static int cmd_list(struct ctl *c, struct args *a)
{
	(void)a;
	return call_show(c, "list", NULL, out_jobs, NULL);
}

static int cmd_show(struct ctl *c, struct args *a)
{
	int rc = check_name("job", a->pos[0]);

	return rc ? rc : call_show(c, "show",
		json_pack("{s:s}", "name", a->pos[0]), out_job, NULL);
}

/* ---- commands: running ------------------------------------------------ */

static int run_request(const struct args *a, json_t *req)
{
	int rc = put_list(a, "allocations", req);

	if (!rc)
		rc = put_list(a, "tags", req);
	if (!rc)
		rc = put_str(a, "rid", req);
	if (opt_has(a, "yes"))
		json_object_set_new(req, "yes", json_true());
	if (opt_has(a, "health-check"))
		json_object_set_new(req, "health_check", json_true());
	return rc;
}

/* Runs selected by tags: the daemon starts them and gives their jids. */
static int run_tags(struct ctl *c, json_t *req)
{
	json_t *reply, *list, *v;
	size_t i;
	int rc;

	json_object_set_new(req, "wait", json_false());
	json_object_set_new(req, "follow", json_false());
	if ((rc = ctl_call(c, "run", req, NULL, &reply)) != 0)
		return rc;
	list = json_object_get(reply, "jids");
	if (!list)
		list = json_object_get(reply, "runs");
	if (c->json)
		out_json(reply);
	else if (!json_is_array(list))
		out_message(json_object_get(reply, "jid"), NULL);
	json_array_foreach(c->json ? NULL : list, i, v)
		out_message(json_is_object(v) ? json_object_get(v, "jid") : v,
			    NULL);
	json_decref(reply);
	return 0;
}

/* run NAME, and the lifecycle actions (start, stop, ... = action). */
static int run_job(struct ctl *c, struct args *a, const char *action)
{
	json_t *req = json_object(), *reply;
	int rc, wait = !opt_has(a, "no-wait");

	if (a->npos)
		json_object_set_new(req, "name", json_string(a->pos[0]));
	if (action)
		json_object_set_new(req, "action", json_string(action));
	if ((a->npos && (rc = check_name("job", a->pos[0]))) ||
	    (rc = run_request(a, req)) != 0) {
		json_decref(req);
		return rc;
	}
	if (json_object_get(req, "tags"))
		return run_tags(c, req);
	if (!a->npos) {
		json_decref(req);
		return bad("run: missing NAME (or --tags)");
	}
	json_object_set_new(req, "follow", json_boolean(wait));
	json_object_set_new(req, "wait", json_boolean(wait));
	if ((rc = ctl_call(c, "run", req, on_output, &reply)) != 0)
		return rc;
	rc = finish_run(c, reply, 1);
	json_decref(reply);
	return rc;
}

static int cmd_run(struct ctl *c, struct args *a)
{
	return run_job(c, a, opt_get(a, "action"));
}

/* start, stop, restart, status NAME; `status` exits 3 when the action
 * failed (an LSB-style "not running / unhealthy"). */
static int cmd_action(struct ctl *c, struct args *a)
{
	int rc = run_job(c, a, c->cmd->name);

	if (!strcmp(c->cmd->name, "status") && c->ran && rc)
		return EXIT_NOT_RUNNING;
	return rc;
}

/* reload: the daemon's config and job files; reload NAME: the action. */
static int cmd_reload(struct ctl *c, struct args *a)
{
	json_t *reply;
	int rc;

	if (a->npos)
		return run_job(c, a, "reload");
	if ((rc = ctl_call(c, "reload", NULL, NULL, &reply)) != 0)
		return rc;
	if (c->json)
		out_json(reply);
	else
		printf("reloaded %lld jobs from %lld files\n",
		       (long long)json_integer_value(json_object_get(reply, "jobs")),
		       (long long)json_integer_value(json_object_get(reply, "files")));
	json_decref(reply);
	return 0;
}

/* Waits for run `jid`, streaming its output; exits with its code. */
static int wait_jid(struct ctl *c, const char *jid)
{
	json_t *reply;
	int rc = ctl_call(c, "wait", json_pack("{s:s}", "jid", jid), on_output,
			  &reply);

	if (rc)
		return rc;
	rc = finish_run(c, reply, 1);
	json_decref(reply);
	return rc;
}

static int submit_build(const struct ctl *c, const struct args *a,
			json_t *req)
{
	int rc = put_long(a, "priority", -1000000, 1000000, req);

	put_str(a, "target", req);
	put_str(a, "user", req);
	put_str(a, "group", req);
	if (!rc)
		rc = put_long(a, "retries", 0, 1000000, req);
	if (!rc)
		rc = put_time(a, "at", req);
	if (!rc)
		rc = put_dur(a, "timeout", req);
	if (!rc)
		rc = put_cwd(c, a, req);
	if (!rc)
		rc = put_pairs(a, "env", "env", req);
	if (opt_has(a, "kill-leftovers"))
		json_object_set_new(req, "kill_leftovers", json_true());
	return rc ? rc : put_command(a, 0, req);
}

static int cmd_submit(struct ctl *c, struct args *a)
{
	json_t *req = json_object(), *reply;
	const char *target = opt_get(a, "target");
	char jid[JID_LEN + 1];
	int rc = target ? check_name("target", target) : 0;

	if (rc || (rc = submit_build(c, a, req)) != 0) {
		json_decref(req);
		return rc;
	}
	if ((rc = ctl_call(c, "submit", req, NULL, &reply)) != 0)
		return rc;
	snprintf(jid, sizeof(jid), "%s", json_is_string(json_object_get(reply,
		 "jid")) ? json_string_value(json_object_get(reply, "jid")) : "");
	if (!opt_has(a, "wait") && c->json)
		out_json(reply);
	else if (!opt_has(a, "wait"))
		printf("%s\n", jid);
	json_decref(reply);
	if (!opt_has(a, "wait"))
		return 0;
	if (!jid[0])
		return bad("submit: jobd's reply has no jid to wait for");
	return wait_jid(c, jid);
}

/* ---- commands: queue ------------------------------------------------- */

static int cmd_targets(struct ctl *c, struct args *a)
{
	json_t *reply, *t;
	int rc;

	(void)a;
	if ((rc = ctl_call(c, "status", NULL, NULL, &reply)) != 0)
		return rc;
	t = json_object_get(reply, "targets");
	if (c->json)
		out_json(t ? t : json_object());
	else
		out_targets(t);
	json_decref(reply);
	return 0;
}

static int cmd_target(struct ctl *c, struct args *a)
{
	const char *op = a->pos[0];
	int add = !strcmp(op, "add"), set = !strcmp(op, "set");
	long n = 0;
	int rc;

	if (!add && !set && strcmp(op, "rm"))
		return bad("target: unknown operation '%s' (add, rm, set)", op);
	if (a->npos != (add || set ? 3 : 2))
		return bad("target: usage: target add T N | target rm T | "
			   "target set T N");
	if ((rc = check_name("target", a->pos[1])) != 0 ||
	    ((add || set) &&
	     (rc = parse_long("concurrency", a->pos[2], 0, 1000000, &n))))
		return rc;
	if (!add && !set)
		return call_message(c, "remove-target",
			json_pack("{s:s}", "target", a->pos[1]), "ok");
	return call_message(c, add ? "add-target" : "set-target-concurrency",
		json_pack("{s:s,s:i}", "target", a->pos[1], "concurrency",
			  (json_int_t)n), "ok");
}

/* pause, continue, poll [T...] */
static int cmd_queue(struct ctl *c, struct args *a)
{
	json_t *data = json_object(), *t = json_array();
	int rc;

	for (int i = 0; i < a->npos; i++) {
		if ((rc = check_name("target", a->pos[i])) != 0) {
			json_decref(data);
			json_decref(t);
			return rc;
		}
		json_array_append_new(t, json_string(a->pos[i]));
	}
	if (a->npos)
		json_object_set_new(data, "targets", t);
	else
		json_decref(t);
	return call_message(c, c->cmd->name, data, "ok");
}

/* ---- commands: runs -------------------------------------------------- */

static int cmd_active(struct ctl *c, struct args *a)
{
	(void)a;
	return call_show(c, "active", NULL, out_active, "runs");
}

static int cmd_runs(struct ctl *c, struct args *a)
{
	json_t *req = json_object();
	const char *st = opt_get(a, "status");
	int rc = a->npos ? check_name("job", a->pos[0]) : 0;

	if (!rc && st && run_status_parse(st) < 0)
		rc = bad("--status: '%s' is not one of waiting, manual, accepted, "
			 "running, done, ignored", st);
	if (!rc)
		rc = put_time(a, "since", req);
	if (!rc)
		rc = put_long(a, "limit", 1, 1000000, req);
	if (rc) {
		json_decref(req);
		return rc;
	}
	if (a->npos)
		json_object_set_new(req, "job", json_string(a->pos[0]));
	put_str(a, "status", req);
	return call_show(c, "runs", req, out_runs, "runs");
}

static int cmd_lookup(struct ctl *c, struct args *a)
{
	int rc = check_jid(a->pos[0]);

	return rc ? rc : call_show(c, "lookup",
		json_pack("{s:s}", "jid", a->pos[0]), out_run, "run");
}

static int cmd_logs(struct ctl *c, struct args *a)
{
	const char *arg = a->pos[0];
	int is_jid = strlen(arg) == JID_LEN && strspn(arg, "0123456789") ==
		     JID_LEN;
	json_t *reply;
	int rc = is_jid ? check_jid(arg) : check_name("job", arg);

	if (rc)
		return rc;
	rc = ctl_call(c, "logs", json_pack("{s:s,s:b}", is_jid ? "jid" : "name",
		      arg, "follow", opt_has(a, "follow")), on_output, &reply);
	if (rc)
		return rc;
	rc = finish_run(c, reply, 0);
	json_decref(reply);
	return rc;
}

static int cmd_wait(struct ctl *c, struct args *a)
{
	int rc = check_jid(a->pos[0]);

	return rc ? rc : wait_jid(c, a->pos[0]);
}

/* signal JID SIG, term JID, kill JID */
static int cmd_signal(struct ctl *c, struct args *a)
{
	const char *name = c->cmd->name, *sig;
	json_t *s;
	long n;
	int rc = check_jid(a->pos[0]);

	if (rc)
		return rc;
	if (!strcmp(name, "signal") && a->npos < 2)
		return bad("signal: missing SIG");
	sig = !strcmp(name, "term") ? "TERM" : !strcmp(name, "kill") ? "KILL" :
	      a->pos[1];
	if (sig[0] >= '0' && sig[0] <= '9') {
		if ((rc = parse_long("signal", sig, 1, 64, &n)) != 0)
			return rc;
		s = json_integer(n);
	} else if (sig_number(sig)) {
		s = json_string(sig);
	} else {
		return bad("signal: unknown signal '%s'", sig);
	}
	return call_message(c, "signal", json_pack("{s:s,s:o}", "jid",
			    a->pos[0], "signal", s), "ok");
}

static int cmd_cancel(struct ctl *c, struct args *a)
{
	int rc = check_jid(a->pos[0]);

	return rc ? rc : call_message(c, "cancel",
		json_pack("{s:s}", "jid", a->pos[0]), "ok");
}

/* ---- commands: daemon, schedules, help ------------------------------- */

static int cmd_status(struct ctl *c, struct args *a)
{
	if (a->npos)
		return cmd_action(c, a);
	return call_show(c, "status", NULL, out_status, NULL);
}

static void show_workers(json_t *reply)
{
	out_objects(json_is_array(reply) ? reply :
		    json_object_get(reply, "workers"));
}

static int cmd_workers(struct ctl *c, struct args *a)
{
	(void)a;
	return call_show(c, "workers", NULL, show_workers, NULL);
}

/* One line per fire time, in zone z (UTC when z is NULL). */
static void print_fire(int64_t us, const struct tz *z)
{
	struct tm tm;
	int off = 0;
	char buf[64];

	if (z)
		tz_to_local(z, us / 1000000, &tm, &off);
	time_format_offset(buf, sizeof(buf), us, off);
	printf("%s\n", buf);
}

static int next_local(struct ctl *c, const char *expr, long n, int64_t from,
		      const char *zone)
{
	json_t *times = json_array();
	struct sched *s;
	char err[ERRLEN], buf[64];
	int64_t t = from, last = 0;

	if (sched_parse(expr, zone, &s, err, sizeof(err)) < 0) {
		json_decref(times);
		return bad("%s", err);
	}
	/* Each fire time counts as a run.  Before the first: @every counts
	 * from --from (the intuitive "from + DUR"); calendar windows as for a
	 * job never run (last 0), so the current window is not skipped. */
	if (sched_kind(s) == SCHED_EVERY)
		last = from;
	for (long i = 0; i < n && (t = sched_next(s, t, last, 0)) >= 0; i++) {
		last = t;
		time_format_utc(buf, sizeof(buf), t);
		json_array_append_new(times, json_string(buf));
		if (!c->json)
			print_fire(t, sched_tz(s));
	}
	if (c->json) {
		json_t *o = json_pack("{s:o,s:s}", "times", times, "timezone",
				      zone ? zone : "UTC");
		out_json(o);
		json_decref(o);
	} else {
		json_decref(times);
	}
	sched_free(s);
	return 0;
}

static int next_remote(struct ctl *c, const char *name, long n,
		       const char *from, const char *zone)
{
	json_t *reply, *t;
	const struct tz *z = NULL;
	char err[ERRLEN];
	int64_t us;
	size_t i;
	int rc = ctl_call(c, "next", json_pack("{s:s,s:i,s:s}", "name", name,
			  "n", (json_int_t)n, "from", from), NULL, &reply);

	if (rc)
		return rc;
	if (!zone)
		zone = json_string_value(json_object_get(reply, "timezone"));
	if (c->json)
		out_json(reply);
	else if (tz_get(zone, &z, err, sizeof(err)) < 0)
		z = NULL;   /* a zone unknown here: show UTC */
	json_array_foreach(c->json ? NULL : json_object_get(reply, "times"),
			   i, t) {
		if (time_parse(json_string_value(t), 0, &us, err, sizeof(err)) == 0)
			print_fire(us, z);
	}
	json_decref(reply);
	return 0;
}

static int cmd_next(struct ctl *c, struct args *a)
{
	const char *arg = a->pos[0], *zone = opt_get(a, "tz");
	const char *nv = opt_get(a, "count"), *fv = opt_get(a, "from");
	const struct tz *z;
	char from[64], err[ERRLEN];
	int64_t from_us = now_us();
	long n = 5;
	int rc = 0;

	if (nv)
		rc = parse_long("-n", nv, 1, 100000, &n);
	if (!rc && fv)
		rc = parse_time("--from", fv, from, sizeof(from), &from_us);
	else
		time_format_utc(from, sizeof(from), from_us);
	if (!rc && zone && tz_get(zone, &z, err, sizeof(err)) < 0)
		rc = bad("--tz: %s", err);
	if (rc)
		return rc;
	if (arg[0] != '@' && name_valid(arg))
		return next_remote(c, arg, n, from, zone);
	return next_local(c, arg, n, from_us, zone);
}

static const struct command commands[];
static void usage_all(FILE *f);
static void usage_cmd(FILE *f, const struct command *cmd);
static const struct command *command_find(const char *name);

static int cmd_help(struct ctl *c, struct args *a)
{
	const struct command *cmd;

	(void)c;
	if (!a->npos) {
		usage_all(stdout);
		return 0;
	}
	if (!(cmd = command_find(a->pos[0])))
		return bad("help: unknown command '%s'", a->pos[0]);
	usage_cmd(stdout, cmd);
	return 0;
}

static int cmd_version(struct ctl *c, struct args *a)
{
	(void)a;
	if (c->json)
		printf("{\n  \"version\": \"%s\"\n}\n", JOBD_VERSION);
	else
		printf("jobctl %s\n", JOBD_VERSION);
	return 0;
}

/* ---- the command table ----------------------------------------------- */

static const struct optdef create_opts[] = {
	{ "schedule", 0, O_ARG }, { "target", 0, O_ARG }, { "user", 0, O_ARG },
	{ "group", 0, O_ARG },    { "cwd", 0, O_ARG },    { "env", 'e', O_ARG },
	{ "timeout", 0, O_ARG },  { "kill-grace", 0, O_ARG },
	{ "retries", 0, O_ARG },  { "backoff", 0, O_ARG }, { "tags", 0, O_ARG },
	{ "confirm", 0, 0 },      { "overlap", 0, O_ARG },
	{ "overlap-queue-max", 0, O_ARG },
	{ "catchup", 0, O_ARG },  { "jitter", 0, O_ARG },
	{ "timezone", 0, O_ARG }, { "selectors", 0, O_ARG },
	{ "requires", 0, O_ARG }, { "priority", 0, O_ARG }, { "shell", 0, 0 },
	{ "action", 0, O_ARG },   { "disabled", 0, 0 },
	{ "kill-leftovers", 0, 0 },   { "replace", 0, 0 },
	{ NULL, 0, 0 },
};
static const struct optdef run_opts[] = {
	{ "action", 'a', O_ARG }, { "yes", 'y', 0 }, { "no-wait", 0, 0 },
	{ "allocations", 0, O_ARG }, { "health-check", 0, 0 },
	{ "tags", 0, O_ARG }, { "rid", 0, O_ARG }, { NULL, 0, 0 },
};
static const struct optdef action_opts[] = {
	{ "yes", 'y', 0 }, { "no-wait", 0, 0 }, { "allocations", 0, O_ARG },
	{ "health-check", 0, 0 }, { NULL, 0, 0 },
};
static const struct optdef submit_opts[] = {
	{ "target", 0, O_ARG }, { "priority", 0, O_ARG },
	{ "retries", 0, O_ARG }, { "at", 0, O_ARG }, { "cwd", 0, O_ARG },
	{ "env", 'e', O_ARG }, { "timeout", 0, O_ARG }, { "user", 0, O_ARG },
	{ "group", 0, O_ARG },
	{ "shell", 0, 0 }, { "wait", 'w', 0 }, { "kill-leftovers", 0, 0 },
	{ NULL, 0, 0 },
};
static const struct optdef runs_opts[] = {
	{ "status", 0, O_ARG }, { "since", 0, O_ARG }, { "limit", 0, O_ARG },
	{ NULL, 0, 0 },
};
static const struct optdef logs_opts[] = {
	{ "follow", 'f', 0 }, { NULL, 0, 0 },
};
static const struct optdef next_opts[] = {
	{ "count", 'n', O_ARG }, { "from", 0, O_ARG }, { "tz", 0, O_ARG },
	{ NULL, 0, 0 },
};

#define ACTION_HELP \
	"  -y, --yes              confirm a job marked --confirm\n" \
	"      --no-wait          print the jid and return at once\n" \
	"      --allocations W,W  only on these workers\n" \
	"      --health-check     run the job's health checks afterwards\n"

static const struct command commands[] = {
	{ "create", cmd_create, create_opts, 1, -1, 1,
	  "NAME [OPTIONS] -- COMMAND [ARG...]",
	  "Define job NAME (or, with --replace, redefine it).\n\n"
	  "      --schedule S       cron, @every DUR, calendar or @reboot\n"
	  "      --timezone ZONE    IANA zone of the schedule (default UTC)\n"
	  "      --target T         queue target (concurrency limit)\n"
	  "      --user U, --group G  run as this user / group\n"
	  "      --cwd DIR          working directory\n"
	  "  -e, --env K=V          environment variable (repeatable)\n"
	  "      --timeout DUR      kill the run after DUR\n"
	  "      --kill-grace DUR   SIGTERM to SIGKILL delay (default 10s)\n"
	  "      --kill-leftovers   at the run's end, SIGTERM what is left in its group\n"
	  "      --retries N        retry a failed run N times\n"
	  "      --backoff DUR      delay before a retry\n"
	  "      --tags a,b         tags for `run --tags`\n"
	  "      --confirm          manual runs need --yes\n"
	  "      --overlap MODE     skip, queue, replace or allow\n"
	  "      --overlap-queue-max N  with --overlap queue: runs that may wait (1)\n"
	  "      --catchup MODE     none or once (runs missed while down)\n"
	  "      --jitter DUR       random delay up to DUR\n"
	  "      --selectors s1,s2  workers that may run it\n"
	  "      --requires j1,j2   jobs that must have succeeded first\n"
	  "      --priority N       higher runs first\n"
	  "      --shell            COMMAND is one /bin/sh command line\n"
	  "      --action NAME=COMMAND  a lifecycle action (repeatable)\n"
	  "      --disabled         define it with the schedule disarmed\n"
	  "      --replace          replace an existing job NAME\n" },
	{ "delete", cmd_name, NULL, 1, 1, -1, "NAME", "Delete job NAME.\n" },
	{ "list", cmd_list, NULL, 0, 0, -1, "",
	  "Jobs: name, state, schedule, next run, last run, last result.\n" },
	{ "show", cmd_show, NULL, 1, 1, -1, "NAME",
	  "Job NAME's definition, next runs, last run and running jids.\n" },
	{ "enable", cmd_name, NULL, 1, 1, -1, "NAME", "Arm NAME's schedule.\n" },
	{ "disable", cmd_name, NULL, 1, 1, -1, "NAME",
	  "Disarm NAME's schedule.\n" },
	{ "reload", cmd_reload, action_opts, 0, 1, -1, "[NAME]",
	  "Without NAME: re-read the config and job files.\n"
	  "With NAME: run NAME's \"reload\" action.\n\n" ACTION_HELP },
	{ "run", cmd_run, run_opts, 0, 1, -1,
	  "NAME [--action A] [OPTIONS] | --tags TAG[,TAG]",
	  "Run job NAME now, stream its output and exit with its exit code\n"
	  "(128+N when killed by signal N).\n\n"
	  "  -a, --action A         run action A instead of the command\n"
	  ACTION_HELP
	  "      --tags T,T         run every job carrying one of the tags\n"
	  "      --rid task#N       one task of a service file\n" },
	{ "start", cmd_action, action_opts, 1, 1, -1, "NAME [OPTIONS]",
	  "Run NAME's \"start\" action.\n\n" ACTION_HELP },
	{ "stop", cmd_action, action_opts, 1, 1, -1, "NAME [OPTIONS]",
	  "Run NAME's \"stop\" action.\n\n" ACTION_HELP },
	{ "restart", cmd_action, action_opts, 1, 1, -1, "NAME [OPTIONS]",
	  "Run NAME's \"restart\" action.\n\n" ACTION_HELP },
	{ "status", cmd_status, action_opts, 0, 1, -1, "[NAME [OPTIONS]]",
	  "Without NAME: the daemon's version, uptime, store, counts, targets.\n"
	  "With NAME: run NAME's \"status\" action; exit 3 if it fails.\n\n"
	  ACTION_HELP },
	{ "submit", cmd_submit, submit_opts, 1, -1, 0,
	  "[OPTIONS] -- COMMAND [ARG...]",
	  "Queue an ad-hoc command; print its jid.\n\n"
	  "      --target T         queue target\n"
	  "      --priority N       higher runs first\n"
	  "      --retries N        retry a failed run N times\n"
	  "      --at TIME          not before TIME (RFC 3339 or now+DUR)\n"
	  "      --cwd DIR          working directory\n"
	  "  -e, --env K=V          environment variable (repeatable)\n"
	  "      --timeout DUR      kill the run after DUR\n"
	  "      --user U           run as this user\n"
	  "      --group G          run with this group\n"
	  "      --shell            COMMAND is one /bin/sh command line\n"
	  "      --kill-leftovers   at its end, SIGTERM what is left in its group\n"
	  "  -w, --wait             wait, stream output, exit with its code\n" },
	{ "targets", cmd_targets, NULL, 0, 0, -1, "",
	  "Queue targets: concurrency, running, waiting, paused.\n" },
	{ "target", cmd_target, NULL, 2, 3, -1, "add T N | rm T | set T N",
	  "Add target T with concurrency N, remove it, or set its "
	  "concurrency.\n" },
	{ "pause", cmd_queue, NULL, 0, -1, -1, "[T...]",
	  "Stop starting queued runs (of targets T, or all).\n" },
	{ "continue", cmd_queue, NULL, 0, -1, -1, "[T...]",
	  "Start queued runs again (of targets T, or all).\n" },
	{ "poll", cmd_queue, NULL, 0, -1, -1, "[T...]",
	  "Look for runnable queued runs now.\n" },
	{ "active", cmd_active, NULL, 0, 0, -1, "", "Running runs.\n" },
	{ "runs", cmd_runs, runs_opts, 0, 1, -1,
	  "[NAME] [--status S] [--since TIME] [--limit N]",
	  "Runs, newest first (of job NAME, or all).\n\n"
	  "      --status S         waiting, manual, accepted, running, done,\n"
	  "                         ignored\n"
	  "      --since TIME       created at or after TIME\n"
	  "      --limit N          at most N runs (default 50)\n" },
	{ "lookup", cmd_lookup, NULL, 1, 1, -1, "JID",
	  "Every field of run JID, then its stdout and stderr.\n" },
	{ "logs", cmd_logs, logs_opts, 1, 1, -1, "JID|NAME [-f]",
	  "The output of run JID, or of job NAME's latest run.\n\n"
	  "  -f, --follow           stream new output until the run ends\n" },
	{ "wait", cmd_wait, NULL, 1, 1, -1, "JID",
	  "Wait for run JID; exit with its exit code.\n" },
	{ "signal", cmd_signal, NULL, 2, 2, -1, "JID SIG",
	  "Send signal SIG (TERM, SIGTERM or 15) to run JID.\n" },
	{ "term", cmd_signal, NULL, 1, 1, -1, "JID", "Send SIGTERM to run JID.\n" },
	{ "kill", cmd_signal, NULL, 1, 1, -1, "JID", "Send SIGKILL to run JID.\n" },
	{ "cancel", cmd_cancel, NULL, 1, 1, -1, "JID",
	  "Cancel run JID if it has not started.\n" },
	{ "workers", cmd_workers, NULL, 0, 0, -1, "", "Cluster workers.\n" },
	{ "next", cmd_next, next_opts, 1, 1, -1,
	  "EXPR|NAME [-n N] [--from TIME] [--tz ZONE]",
	  "The next fire times of a schedule expression (computed here) or of\n"
	  "job NAME (asked of jobd), one per line, in ZONE (default UTC).\n\n"
	  "  -n, --count N          how many (default 5)\n"
	  "      --from TIME        after TIME (default now)\n"
	  "      --tz ZONE          IANA time zone\n" },
	{ "help", cmd_help, NULL, 0, 1, -1, "[COMMAND]", "Show usage.\n" },
	{ "version", cmd_version, NULL, 0, 0, -1, "", "Show jobctl's version.\n" },
	{ NULL, NULL, NULL, 0, 0, 0, NULL, NULL },
};

static const struct command *command_find(const char *name)
{
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static const char global_help[] =
	"Global options (before or after COMMAND):\n"
	"      --socket PATH      jobd's Unix socket (env JOBD_SOCKET)\n"
	"      --connect HOST:PORT  jobd over TCP\n"
	"      --password X       password for --connect (env JOBD_PASSWORD)\n"
	"      --json             print the reply as one JSON document\n"
	"  -h, --help             show usage\n";

static void usage_all(FILE *f)
{
	fprintf(f, "usage: jobctl [GLOBAL OPTIONS] COMMAND [ARGS]\n\n"
		"Commands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(f, "  %s%s%s\n", c->name, *c->synopsis ? " " : "",
			c->synopsis);
	fprintf(f, "\n%s      --version          show the version\n\n"
		"`jobctl help COMMAND` or `jobctl COMMAND --help` describes one.\n"
		"Exit codes: 0 ok, 1 failed, 2 usage, 3 not running, 4 not found,\n"
		"69 jobd unreachable, 77 permission denied; run/wait: the run's.\n",
		global_help);
}

static void usage_cmd(FILE *f, const struct command *cmd)
{
	fprintf(f, "usage: jobctl %s%s%s\n\n%s\n%s", cmd->name,
		*cmd->synopsis ? " " : "", cmd->synopsis, cmd->help, global_help);
}

/* ---- main -------------------------------------------------------------- */

/* Common options (from either side of the command name) into ctl. */
static void apply_common(struct ctl *c, const struct args *a)
{
	const char *v;

	if (opt_has(a, "json"))
		c->json = 1;
	if ((v = opt_get(a, "socket")))
		c->socket = v;
	if ((v = opt_get(a, "connect")))
		c->connect = v;
	if ((v = opt_get(a, "password")))
		c->password = v;
}

static int check_positionals(const struct command *cmd, const struct args *a)
{
	if (a->npos < cmd->min_pos)
		return bad("%s: missing argument (usage: jobctl %s %s)", cmd->name,
			   cmd->name, cmd->synopsis);
	if (cmd->max_pos >= 0 && a->npos > cmd->max_pos)
		return bad("%s: unexpected argument '%s'", cmd->name,
			   a->pos[cmd->max_pos]);
	return 0;
}

/* Global options before the command: the "jobctl" pseudo-command's. */
static const struct optdef global_opts[] = {
	{ "version", 'V', 0 }, { NULL, 0, 0 },
};
static const struct command global_cmd = {
	"jobctl", NULL, global_opts, 0, -1, 0, "", "",
};

static int run_command(struct ctl *c, int argc, char **argv)
{
	struct args g = { 0 }, a = { 0 };
	int rc = parse_args(&global_cmd, argc, argv, &g);

	if (rc)
		goto out;
	apply_common(c, &g);
	if (opt_has(&g, "version") || opt_has(&g, "help") || !g.npos) {
		if (opt_has(&g, "version")) {
			rc = cmd_version(c, &g);
		} else {
			usage_all(g.npos || opt_has(&g, "help") ? stdout : stderr);
			rc = opt_has(&g, "help") ? 0 : EXIT_USAGE;
		}
		goto out;
	}
	/* g.pos[0] is argv[k]: the command; its arguments follow it. */
	c->cmd = command_find(g.pos[0]);
	if (!c->cmd) {
		rc = bad("unknown command '%s' (see jobctl help)", g.pos[0]);
		goto out;
	}
	for (rc = 0; argv[rc] != g.pos[0]; rc++)
		;
	rc = parse_args(c->cmd, argc - rc - 1, argv + rc + 1, &a);
	if (rc)
		goto out;
	apply_common(c, &a);
	if (opt_has(&a, "help"))
		usage_cmd(stdout, c->cmd);
	else if ((rc = check_positionals(c->cmd, &a)) == 0)
		rc = c->cmd->fn(c, &a);
out:
	args_free(&g);
	args_free(&a);
	return rc;
}

int main(int argc, char **argv)
{
	struct ctl c = { 0 };
	int rc;

	signal(SIGPIPE, SIG_IGN);   /* a dead daemon is an error, not a kill */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			json_errors = 1;
	rc = run_command(&c, argc - 1, argv + 1);
	client_sync_close(c.cs);
	if (fflush(stdout) != 0 && !rc)
		rc = EXIT_FAILED;
	tz_cache_clear();
	return rc;
}
