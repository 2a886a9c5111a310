/* jobctl_call.c — jobctl's requests: the blocking client of src/client
 * (client_sync.h) carries them; what goes wrong is told in jobctl's words
 * and exit codes.  Then what the replies of runs mean: live output,
 * the rest of it, and the exit code a run gives. */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
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

#ifndef JOBD_DEV_SOCKET
#define JOBD_DEV_SOCKET "var/jobd.sock"
#endif
#define JOBD_SYSTEM_SOCKET "/run/jobd/jobd.sock"

/* ---- transport -------------------------------------------------------- */

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
int ctl_call(struct ctl *c, const char *type, json_t *data,
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
int sig_number(const char *s)
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
void on_output(void *arg, const char *ev, json_t *data)
{
	struct ctl *c = arg;
	int err = ev && !strcmp(ev, "stderr");
	FILE *f = err ? stderr : stdout;

	if (ev && (!strcmp(ev, "begin") || !strcmp(ev, "result")))
		return lifecycle_event(c, ev, data);     /* a master's */
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
int finish_run(struct ctl *c, json_t *reply, int exit_code)
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

/* A request whose reply is shown as a message ("ok" -> `done`). */
int call_message(struct ctl *c, const char *type, json_t *data,
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

int call_show(struct ctl *c, const char *type, json_t *data,
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

