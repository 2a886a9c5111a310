/* jobctl_cmd_runs.c — jobctl's commands on the queue (targets, target,
 * pause, continue, poll), on runs (active, runs, lookup, logs, wait,
 * signal, term, kill, cancel) and on the daemon (status, workers, next). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "jobd.h"
#include "cmd/jobctl.h"
#include "core/jid.h"
#include "core/schedule.h"
#include "core/timefmt.h"
#include "core/tz.h"

/* ---- commands: queue ------------------------------------------------- */

int cmd_targets(struct ctl *c, struct args *a)
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

int cmd_target(struct ctl *c, struct args *a)
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
int cmd_queue(struct ctl *c, struct args *a)
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

/* ---- confirmation ---------------------------------------------------- */

#define CONFIRM_WAIT_MS 30000   /* the original's 30 s */

/* One line from the terminal within the deadline: 1, 0 at end of input,
 * -ETIMEDOUT. */
static int read_answer(char *buf, size_t n)
{
	struct timespec t0, t;
	size_t len = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		long left = CONFIRM_WAIT_MS - ((t.tv_sec - t0.tv_sec) * 1000 +
		                               (t.tv_nsec - t0.tv_nsec) / 1000000);
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		if (left <= 0)
			return -ETIMEDOUT;
		int rc = poll(&p, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc == 0)
			return -ETIMEDOUT;
		ssize_t r = rc < 0 ? -1 : read(STDIN_FILENO, buf + len, n - 1 - len);
		if (r <= 0)
			return 0;
		len += (size_t)r;
		buf[len] = '\0';
		if (memchr(buf, '\n', len) || len == n - 1)
			return 1;
	}
}

/* The task's own name in the question: "task#0" of "web.task#0". */
static const char *confirm_rid(const char *name)
{
	const char *t = strstr(name, ".task#");

	return t ? t + 1 : name;
}

int run_confirm(struct ctl *c, const char *name, json_t *req)
{
	json_t *reply;
	char buf[256];
	int rc;

	/* --yes answered ahead; without a terminal the daemon refuses the
	 * request that lacks it, so nothing is asked */
	if (json_is_true(json_object_get(req, "yes")) || !isatty(STDIN_FILENO))
		return 0;
	if ((rc = ctl_call(c, "show", json_pack("{s:s}", "name", name), NULL,
	                   &reply)) != 0)
		return rc;
	int ask = json_is_true(json_object_get(json_object_get(reply, "job"),
	                                       "confirm"));
	json_decref(reply);
	if (!ask)
		return 0;
	fprintf(stderr, "This task run requires confirmation.\nPlease make sure "
	        "you fully understand its role and effects before confirming "
	        "the run.\nDo you really want to run %s (yes/no) > ",
	        confirm_rid(name));
	fflush(stderr);
	rc = read_answer(buf, sizeof buf);
	if (rc == -ETIMEDOUT) {
		fputc('\n', stderr);
		return complain(EXIT_FAILED, "timeout waiting for confirmation");
	}
	buf[rc > 0 ? strcspn(buf, "\r\n") : 0] = '\0';
	if (strcmp(buf, "yes") != 0)
		return complain(EXIT_FAILED, "run aborted");
	json_object_set_new(req, "yes", json_true());
	return 0;
}

/* ---- commands: runs -------------------------------------------------- */

int cmd_active(struct ctl *c, struct args *a)
{
	(void)a;
	return call_show(c, "active", NULL, out_active, "runs");
}

int cmd_runs(struct ctl *c, struct args *a)
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

int cmd_lookup(struct ctl *c, struct args *a)
{
	int rc = check_jid(a->pos[0]);

	return rc ? rc : call_show(c, "lookup",
		json_pack("{s:s}", "jid", a->pos[0]), out_run, "run");
}

int cmd_logs(struct ctl *c, struct args *a)
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

int cmd_wait(struct ctl *c, struct args *a)
{
	int rc = check_jid(a->pos[0]);

	return rc ? rc : wait_jid(c, a->pos[0]);
}

/* signal JID SIG, term JID, kill JID */
int cmd_signal(struct ctl *c, struct args *a)
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

int cmd_cancel(struct ctl *c, struct args *a)
{
	int rc = check_jid(a->pos[0]);

	return rc ? rc : call_message(c, "cancel",
		json_pack("{s:s}", "jid", a->pos[0]), "ok");
}

/* ---- commands: daemon, schedules, help ------------------------------- */

int cmd_status(struct ctl *c, struct args *a)
{
	if (a->npos)
		return cmd_action(c, a);
	return call_show(c, "status", NULL, out_status, NULL);
}

/* The text as jobd wrote it: what a scraper would read from /metrics */
static void show_metrics(json_t *text)
{
	fwrite(json_string_value(text), 1, json_string_length(text), stdout);
}

int cmd_metrics(struct ctl *c, struct args *a)
{
	(void)a;
	return call_show(c, "metrics", NULL, show_metrics, "text");
}

/* "a,b" of an array of names (or the string as it is). */
static json_t *names_text(json_t *v)
{
	char buf[512];
	size_t n = 0, i;
	json_t *x;
	if (!json_is_array(v))
		return json_is_string(v) ? json_incref(v) : json_string("-");
	buf[0] = 0;
	json_array_foreach(v, i, x)
		if (n < sizeof buf)
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s",
			                      i ? "," : "", json_string_value(x));
	return json_string(buf);
}

/* NAME STATE LABELS TARGETS UPDATE_SEQ RUNNING WAITING LAST_SEEN, one a
 * worker (the daemon asked first, as "self"). */
static void show_workers(json_t *reply)
{
	json_t *rows = json_array(), *w;
	size_t i;
	json_array_foreach(json_object_get(reply, "workers"), i, w) {
		json_t *st = json_object_get(w, "state");
		json_t *run = json_object_get(w, "running");
		json_t *wait = json_object_get(w, "waiting");
		json_t *seq = json_object_get(w, "update_seq");
		json_array_append_new(rows, json_pack("{s:O, s:o, s:o, s:o, s:O, "
			"s:O, s:O, s:O}", "name", json_object_get(w, "name"),
			"state", json_is_true(json_object_get(w, "self")) ?
			json_string("self") : st ? json_incref(st) : json_string("?"),
			"labels", names_text(json_object_get(w, "labels")),
			"targets", names_text(json_object_get(w, "targets")),
			"update_seq", seq ? seq : json_null(),
			"running", run ? run : json_null(),
			"waiting", wait ? wait : json_null(),
			"last_seen", json_object_get(w, "last_seen")));
	}
	out_objects(rows);
	json_decref(rows);
}

int cmd_workers(struct ctl *c, struct args *a)
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

int cmd_next(struct ctl *c, struct args *a)
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
	if (arg[0] != '@' && job_name_valid(arg))
		return next_remote(c, arg, n, from, zone);
	return next_local(c, arg, n, from_us, zone);
}
