/* jobctl_out.c — how jobctl shows the daemon's replies: aligned tables with
 * relative times and human durations, key: value listings, and JSON.
 *
 * Hand-written: the tables are a few columns of short strings; a terminal
 * table library (libsmartcols) would add a dependency for ~60 lines. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/jobctl.h"
#include "core/timefmt.h"

#define CELL 256   /* longest cell shown; longer values are cut */
#define MAX_COLS 12

/* ---- tables ------------------------------------------------------------ */

struct table {
	int ncols;
	const char *heads[MAX_COLS];
	char **cells;        /* nrows * ncols, malloc'd strings */
	int nrows, cap;
};

static void table_init(struct table *t, int ncols, ...)
{
	va_list ap;

	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	va_start(ap, ncols);
	for (int i = 0; i < ncols; i++)
		t->heads[i] = va_arg(ap, const char *);
	va_end(ap);
}

/* Adds one row of ncols strings (copied). */
static void table_row(struct table *t, char cols[][CELL])
{
	if (t->nrows == t->cap) {
		int cap = t->cap ? 2 * t->cap : 16;
		char **c = realloc(t->cells, sizeof(char *) * cap * t->ncols);

		if (!c)
			return;   /* out of memory: the row is left out */
		t->cells = c;
		t->cap = cap;
	}
	for (int i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] = strdup(cols[i]);
	t->nrows++;
}

static const char *cell(const struct table *t, int r, int c)
{
	const char *s = r < 0 ? t->heads[c] : t->cells[r * t->ncols + c];

	return s ? s : "";
}

/* Prints the heads and rows, columns padded to their widest cell (the last
 * column is not padded, so lines carry no trailing blanks). */
static void table_print(struct table *t)
{
	int w[MAX_COLS] = { 0 };

	for (int r = -1; r < t->nrows; r++)
		for (int c = 0; c < t->ncols; c++) {
			int l = (int)strlen(cell(t, r, c));
			if (l > w[c])
				w[c] = l;
		}
	for (int r = -1; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols - 1; c++)
			printf("%-*s  ", w[c], cell(t, r, c));
		printf("%s\n", cell(t, r, t->ncols - 1));
	}
	for (int i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
}

/* ---- values -------------------------------------------------------------- */

void out_json(json_t *v)
{
	json_dumpf(v ? v : json_null(), stdout,
		   JSON_INDENT(2) | JSON_ENCODE_ANY);
	putchar('\n');
}

static void array_join(char *out, size_t n, json_t *a)
{
	size_t i, len = 0;
	json_t *v;
	char one[CELL];

	out[0] = '\0';
	json_array_foreach(a, i, v) {
		out_value(one, sizeof(one), v);
		len += snprintf(out + len, len < n ? n - len : 0, "%s%s",
				i ? "," : "", one);
	}
	if (json_array_size(a) == 0)
		snprintf(out, n, "-");
}

void out_value(char *out, size_t n, json_t *v)
{
	char *s;

	if (!v || json_is_null(v))
		snprintf(out, n, "-");
	else if (json_is_string(v))
		snprintf(out, n, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(out, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(out, n, "%g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(out, n, "%s", json_is_true(v) ? "yes" : "no");
	else if (json_is_array(v))
		array_join(out, n, v);
	else {
		s = json_dumps(v, JSON_COMPACT);
		snprintf(out, n, "%s", s ? s : "?");
		free(s);
	}
}

static int time_of(json_t *v, int64_t *us)
{
	char err[160];

	if (!json_is_string(v))
		return -1;
	return time_parse(json_string_value(v), now_us(), us, err, sizeof(err));
}

void out_reltime(char *out, size_t n, json_t *v)
{
	int64_t us;

	if (time_of(v, &us) < 0)
		out_value(out, n, v);
	else
		time_format_relative(out, n, us, now_us());
}

void out_duration(char *out, size_t n, int64_t us)
{
	int64_t s = us / 1000000;

	if (us < 0)
		snprintf(out, n, "-");
	else if (us < 1000000)
		snprintf(out, n, "%" PRId64 "ms", us / 1000);
	else if (s < 60)
		snprintf(out, n, "%.1fs", (double)us / 1e6);
	else if (s < 3600)
		snprintf(out, n, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, n, "%" PRId64 "h%02" PRId64 "m", s / 3600,
			 s / 60 % 60);
	else
		snprintf(out, n, "%" PRId64 "d%" PRId64 "h", s / 86400,
			 s / 3600 % 24);
}

/* A run's duration: duration_ms when finished, else the time since it
 * started (still running), else "-". */
static void run_duration(char *out, size_t n, json_t *run)
{
	json_t *ms = json_object_get(run, "duration_ms");
	int64_t started;

	if (json_is_integer(ms))
		out_duration(out, n, json_integer_value(ms) * 1000);
	else if (json_is_number(ms))
		out_duration(out, n, (int64_t)(json_number_value(ms) * 1000));
	else if (json_is_null(json_object_get(run, "time_finished")) &&
		 time_of(json_object_get(run, "time_started"), &started) == 0)
		out_duration(out, n, now_us() - started);
	else
		snprintf(out, n, "-");
}

static void field(char *out, json_t *o, const char *key)
{
	out_value(out, CELL, json_object_get(o, key));
}

/* A value that looks like an RFC 3339 time ("2026-11-23T10:00:00...")
 * relative to now, anything else as out_value does. */
static void field_auto(char *out, json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (s && strlen(s) >= 20 && s[4] == '-' && s[10] == 'T')
		out_reltime(out, CELL, json_object_get(o, key));
	else
		field(out, o, key);
}

/* ---- replies --------------------------------------------------------- */

static void job_state(char *out, json_t *j)
{
	json_int_t running = json_integer_value(json_object_get(j, "running"));

	if (running > 0)
		snprintf(out, CELL, "running(%" JSON_INTEGER_FORMAT ")", running);
	else if (json_is_false(json_object_get(j, "enabled")))
		snprintf(out, CELL, "disabled");
	else
		snprintf(out, CELL, "enabled");
}

void out_jobs(json_t *data)
{
	struct table t;
	char c[6][CELL];
	size_t i;
	json_t *j;

	table_init(&t, 6, "NAME", "STATE", "SCHEDULE", "NEXT", "LAST", "RESULT");
	json_array_foreach(json_object_get(data, "jobs"), i, j) {
		field(c[0], j, "name");
		job_state(c[1], j);
		field(c[2], j, "schedule");
		if (!strcmp(c[2], ""))
			strcpy(c[2], "-");
		out_reltime(c[3], CELL, json_object_get(j, "next_run"));
		if (json_is_true(json_object_get(j, "confirm")))
			snprintf(c[3], CELL, "manual (confirm)");
		out_reltime(c[4], CELL, json_object_get(j, "last_run"));
		field(c[5], j, "last_result");
		table_row(&t, c);
	}
	table_print(&t);
}

static int key_width(json_t *o)
{
	const char *k;
	json_t *v;
	int w = 0;

	json_object_foreach(o, k, v)
		if ((int)strlen(k) > w)
			w = (int)strlen(k);
	return w;
}

/* A job's health checks, one line each:
 * "  web: http http://h/ (expect 200; attempts 3, interval 10s, timeout 5s)" */
static void print_checks(json_t *checks)
{
	size_t i;
	json_t *h;

	printf("health_checks:\n");
	json_array_foreach(checks, i, h) {
		const char *kind = json_is_string(json_object_get(h, "tcp")) ? "tcp"
		                 : json_is_string(json_object_get(h, "http")) ? "http"
		                 : "command";
		json_t *expect = json_object_get(h, "expect_status");

		printf("  %s: %s %s (", json_string_value(json_object_get(h, "name")),
		       kind, json_string_value(json_object_get(h, kind)));
		if (expect)
			printf("expect %lld; ", (long long)json_integer_value(expect));
		printf("attempts %lld, interval %s, timeout %s)\n",
		       (long long)json_integer_value(json_object_get(h, "attempts")),
		       json_string_value(json_object_get(h, "interval")),
		       json_string_value(json_object_get(h, "timeout")));
	}
}

/* "key: value" lines, values aligned; nested objects (env, actions) get
 * one "  k: v" line per member under their key.  stdout/stderr are left
 * to print_output. */
static void print_fields(json_t *o)
{
	const char *k, *k2;
	json_t *v, *v2;
	char buf[4096];
	int w = key_width(o);

	json_object_foreach(o, k, v) {
		if (!strcmp(k, "stdout") || !strcmp(k, "stderr"))
			continue;
		if (!strcmp(k, "health_checks") && json_array_size(v)) {
			print_checks(v);
			continue;
		}
		if (!json_is_object(v) || json_object_size(v) == 0) {
			out_value(buf, sizeof(buf), json_is_object(v) ? NULL : v);
			printf("%s:%*s %s\n", k, w - (int)strlen(k), "", buf);
			continue;
		}
		printf("%s:\n", k);
		json_object_foreach(v, k2, v2) {
			out_value(buf, sizeof(buf), v2);
			printf("  %s: %s\n", k2, buf);
		}
	}
}

static void print_times(json_t *times)
{
	char rel[CELL];
	size_t i;
	json_t *t;

	json_array_foreach(times, i, t) {
		out_reltime(rel, sizeof(rel), t);
		printf("  %s  (%s)\n", json_string_value(t) ? json_string_value(t)
			: "-", rel);
	}
}

/* placement = one: who holds the lease, until when. */
static void out_lease(json_t *l)
{
	char a[CELL], b[CELL];

	if (!json_is_object(l))
		return;
	field(a, l, "holder");
	out_reltime(b, sizeof(b), json_object_get(l, "expires"));
	printf("lease: %s%s, expires %s\n", strcmp(a, "-") ? a : "nobody",
	       json_is_true(json_object_get(l, "here")) ? " (this daemon)" : "",
	       b);
}

void out_job(json_t *data)
{
	json_t *last = json_object_get(data, "last_run");
	json_t *running = json_object_get(data, "running");
	char a[CELL], b[CELL], c[CELL];

	print_fields(json_object_get(data, "job"));
	if (json_array_size(json_object_get(data, "next_runs"))) {
		printf("next runs:\n");
		print_times(json_object_get(data, "next_runs"));
	}
	if (json_is_object(last)) {
		field(a, last, "jid");
		field(b, last, "result");
		out_reltime(c, sizeof(c), json_object_get(last, "time_created"));
		printf("last run: %s  %s  (%s)\n", a, b, c);
	}
	if (json_array_size(running)) {
		out_value(a, sizeof(a), running);
		printf("running: %s\n", a);
	}
	out_lease(json_object_get(data, "lease"));
}

void out_runs(json_t *runs)
{
	struct table t;
	char c[7][CELL];
	size_t i;
	json_t *r;

	table_init(&t, 7, "JID", "JOB", "STATUS", "RESULT", "CODE", "CREATED",
		   "DURATION");
	json_array_foreach(runs, i, r) {
		field(c[0], r, "jid");
		field(c[1], r, "job");
		field(c[2], r, "status");
		field(c[3], r, "result");
		field(c[4], r, "return_code");
		if (!strcmp(c[4], "-") && json_is_string(json_object_get(r, "sig")))
			field(c[4], r, "sig");
		out_reltime(c[5], CELL, json_object_get(r, "time_created"));
		run_duration(c[6], CELL, r);
		table_row(&t, c);
	}
	table_print(&t);
}

void out_active(json_t *runs)
{
	struct table t;
	char c[6][CELL];
	size_t i;
	json_t *r;

	table_init(&t, 6, "JID", "JOB", "PID", "USER", "STARTED", "COMMAND");
	json_array_foreach(runs, i, r) {
		field(c[0], r, "jid");
		field(c[1], r, "job");
		field(c[2], r, "pid");
		field(c[3], r, "user");
		out_reltime(c[4], CELL, json_object_get(r, "time_started"));
		field(c[5], r, "command");
		table_row(&t, c);
	}
	table_print(&t);
}

static void print_output(const char *name, json_t *s, json_t *truncated)
{
	size_t len = json_string_length(s);

	if (!json_is_string(s))
		return;
	printf("--- %s%s ---\n", name,
	       json_is_true(truncated) ? " (truncated)" : "");
	fwrite(json_string_value(s), 1, len, stdout);
	if (len && json_string_value(s)[len - 1] != '\n')
		putchar('\n');
}

void out_run(json_t *run)
{
	print_fields(run);
	print_output("stdout", json_object_get(run, "stdout"),
		     json_object_get(run, "stdout_truncated"));
	print_output("stderr", json_object_get(run, "stderr"),
		     json_object_get(run, "stderr_truncated"));
}

void out_targets(json_t *targets)
{
	struct table t;
	char c[5][CELL];
	const char *k;
	json_t *v;

	table_init(&t, 5, "TARGET", "CONCURRENCY", "RUNNING", "WAITING",
		   "PAUSED");
	json_object_foreach(targets, k, v) {
		snprintf(c[0], CELL, "%s", k);
		field(c[1], v, "concurrency");
		field(c[2], v, "running");
		field(c[3], v, "length");
		field(c[4], v, "paused");
		table_row(&t, c);
	}
	table_print(&t);
}

void out_status(json_t *d)
{
	json_t *counts = json_object_get(d, "counts");
	json_t *sched = json_object_get(d, "schedule");
	char a[CELL], b[CELL], c[CELL];

	field(a, d, "version");
	printf("jobd %s, pid ", a);
	field(a, d, "pid");
	out_duration(b, sizeof(b), json_integer_value(json_object_get(d,
		"uptime_s")) * 1000000);
	printf("%s, up %s\n", a, b);
	field(a, d, "store");
	printf("store:     %s\n", a);
	field(a, d, "state_dir");
	printf("state dir: %s\n", a);
	field(a, counts, "jobs");
	field(b, counts, "running");
	field(c, counts, "waiting");
	printf("jobs:      %s (%s running, %s waiting)\n", a, b, c);
	json_t *bad = json_object_get(d, "job_file_errors"), *v;
	size_t i;
	json_array_foreach(bad, i, v)
		printf("%s%s\n", i ? "           " : "job files: skipped ",
		       json_string_value(v));
	if (json_is_object(json_object_get(d, "memory"))) {
		json_t *rss = json_object_get(json_object_get(d, "memory"), "rss");
		if (json_is_integer(rss))
			printf("memory:    rss %.1f MiB\n",
			       (double)json_integer_value(rss) / (1 << 20));
	}
	if (json_is_object(sched)) {
		field(a, sched, "lateness_p50_ms");
		field(b, sched, "lateness_p99_ms");
		printf("lateness:  p50 %s ms, p99 %s ms\n", a, b);
	}
	if (json_object_size(json_object_get(d, "targets"))) {
		putchar('\n');
		out_targets(json_object_get(d, "targets"));
	}
}

/* Columns: the keys of the first object, upper-cased, at most MAX_COLS. */
void out_objects(json_t *arr)
{
	struct table t = { 0 };
	char c[MAX_COLS][CELL], heads[MAX_COLS][CELL];
	const char *k;
	json_t *v, *o;
	size_t i;

	json_object_foreach(json_array_get(arr, 0), k, v) {
		if (t.ncols == MAX_COLS)
			break;
		for (i = 0; i < CELL - 1 && k[i]; i++)
			heads[t.ncols][i] = (char)(k[i] >= 'a' && k[i] <= 'z' ?
				k[i] - 'a' + 'A' : k[i]);
		heads[t.ncols][i] = '\0';
		t.heads[t.ncols] = heads[t.ncols];
		t.ncols++;
	}
	if (!t.ncols)
		return;
	json_array_foreach(arr, i, o) {
		int col = 0;
		json_object_foreach(json_array_get(arr, 0), k, v)
			if (col < t.ncols)
				field_auto(c[col++], o, k);
		table_row(&t, c);
	}
	table_print(&t);
}

void out_message(json_t *data, const char *fallback)
{
	json_t *m = json_object_get(data, "message");

	if (json_is_string(data) && strcmp(json_string_value(data), "ok"))
		printf("%s\n", json_string_value(data));
	else if (json_is_string(m))
		printf("%s\n", json_string_value(m));
	else if (fallback)
		printf("%s\n", fallback);
}
