/* ninep_file.c — what the 9P face's files hold (docs/9p.md): each read
 * takes a snapshot of the file's text at offset 0 (the job's ctl, cmd and
 * schedule from the definition in memory; status, log and a run's files
 * from the ops `show`, `runs` and `lookup`), and each write is one op
 * (clone: create; ctl: enable / disable / run; cmd and schedule: set-job;
 * a target's ctl: pause / continue / set-target-concurrency; removing
 * /jobs/NAME: delete), answered after its commit.
 *
 * log: the run history.  A read at its end gives EOF once; a second read
 * at the end on the same open file waits until new lines come (a run of
 * the job writes output, ends, or a new one starts: its watcher, and a
 * check each second) — so a reader that reads on after EOF follows the
 * log; Tflush ends the wait. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jid.h"
#include "core/timefmt.h"
#include "faces/ninep_int.h"

#define LOG_RUNS 32              /* the log shows the last 32 runs */
#define WAIT_MS 1000             /* a waiting log read checks this often */

/* ---- text ---- */

struct text {
	char *buf;
	size_t len, cap;
	int failed;
};

static void tadd(struct text *t, const char *s, size_t n)
{
	if (t->failed)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		while (cap < t->len + n + 1)
			cap *= 2;
		char *p = realloc(t->buf, cap);
		if (!p) {
			t->failed = 1;
			return;
		}
		t->buf = p;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = 0;
}

static void tprintf(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void tprintf(struct text *t, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		tadd(t, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big) {
		t->failed = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	tadd(t, big, (size_t)n);
	free(big);
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "-";
}

/* ---- snapshots ---- */

static void serve(struct nreq *r, struct nfid *f);
static void log_wait(struct nreq *r);

/* The snapshot is made: serve the read (NULL text: out of memory). */
static void snap_set(struct nreq *r, struct text *t)
{
	struct nfid *f = r->f;
	if (t->failed) {
		free(t->buf);
		return nreq_fail(r, ENOMEM, "out of memory");
	}
	if (r->sized) {            /* a stat's: only the length */
		free(t->buf);
		return r->sized(r, t->len);
	}
	if (!f) {
		free(t->buf);
		return nreq_fail(r, EBADF, "fid clunked");
	}
	nfid_drop_snap(f);
	f->snap = t->buf ? t->buf : calloc(1, 1);
	f->snap_len = t->len;
	f->have_snap = 1;
	serve(r, f);
}

/* A snapshot's op failed.  A stat only wants its length: a file the
 * caller may not read (EPERM: loopback without the token) has size 0, as
 * made-when-read files do, so `ls -l` lists it; its read says why. */
static void snap_failed(struct nreq *r, int err, const char *msg)
{
	if (r->sized && (err == -EPERM || err == EPERM))
		return r->sized(r, 0);
	nreq_fail(r, err, msg);
}

static void text_job(struct nreq *r, struct job *j, struct text *t)
{
	char when[40];
	switch (r->f->n.kind) {
	case NK_CTL:
		tprintf(t, "%s\n", j->enabled ? "started" : "stopped");
		break;
	case NK_CMD:
		tprintf(t, "%s\n", j->command ? j->command : "");
		break;
	case NK_SCHEDULE:
		tprintf(t, "%s", j->schedule ? j->schedule : "");
		if (j->schedule && j->enabled && j->next_fire > 0) {
			time_format_utc(when, sizeof when, j->next_fire);
			tprintf(t, ":%s", when);
		}
		tadd(t, "\n", 1);
		break;
	}
}

static void status_shown(struct nreq *r, json_t *data, int err,
                         const char *msg)
{
	struct text t = {0};
	json_t *job = json_object_get(data, "job"), *last, *v;
	size_t i;
	if (err)
		return snap_failed(r, err, msg);
	last = json_object_get(data, "last_run");
	tprintf(&t, "state %s\n", json_is_true(json_object_get(job, "enabled"))
	        ? "started" : "stopped");
	tprintf(&t, "schedule %s\n", jstr(job, "schedule"));
	tprintf(&t, "next_run %s\n", jstr(data, "next_run"));
	tprintf(&t, "last_run %s\n", json_is_object(last) ?
	        jstr(last, "time_created") : "-");
	tprintf(&t, "last_jid %s\n", json_is_object(last) ? jstr(last, "jid")
	                                                  : "-");
	tprintf(&t, "last_result %s\n", json_is_object(last) ?
	        jstr(last, "result") : "-");
	tadd(&t, "running", 7);
	json_array_foreach(json_object_get(data, "running"), i, v)
		tprintf(&t, " %s", json_string_value(v));
	tadd(&t, "\n", 1);
	snap_set(r, &t);
}

static void run_looked_up(struct nreq *r, json_t *data, int err,
                          const char *msg)
{
	struct text t = {0};
	json_t *run = json_object_get(data, "run");
	if (err)
		return snap_failed(r, err, msg);
	if (!r->f)
		return nreq_fail(r, EBADF, "fid clunked");
	const char *job = json_string_value(json_object_get(run, "job"));
	if (!job || strcmp(job, r->f->n.job) != 0)
		return nreq_fail(r, ENOENT, "run not found (not a run of this "
		                 "job)");
	switch (r->f->n.kind) {
	case NK_STDOUT:
	case NK_STDERR: {
		json_t *s = json_object_get(run, r->f->n.kind == NK_STDOUT ?
		                            "stdout" : "stderr");
		tadd(&t, "", 0);
		if (json_is_string(s))
			tadd(&t, json_string_value(s), json_string_length(s));
		break;
	}
	default: {
		static const char *const keys[] = {
			"jid", "job", "status", "result", "return_code", "sig",
			"time_created", "time_started", "time_finished", "trigger",
			"user", "pid", NULL,
		};
		for (int i = 0; keys[i]; i++) {
			json_t *v = json_object_get(run, keys[i]);
			if (json_is_integer(v))
				tprintf(&t, "%s %lld\n", keys[i],
				        (long long)json_integer_value(v));
			else
				tprintf(&t, "%s %s\n", keys[i], jstr(run, keys[i]));
		}
	}
	}
	snap_set(r, &t);
}

/* One run in the log: started, its stdout lines (complete ones only
 * while it runs), and at its end its stderr lines and how it ended. */
static void log_run(struct text *t, struct engine *e, json_t *run)
{
	const char *jid = jstr(run, "jid"), *ts = jstr(run, "time_started");
	const char *out = json_string_value(json_object_get(run, "stdout"));
	const char *errs = json_string_value(json_object_get(run, "stderr"));
	struct arun *a = run_find(e, jid);
	const char *st = jstr(run, "status");
	int live = a && (a->r.status == RUN_RUNNING) && !a->released;
	size_t outlen = out ? strlen(out) : 0;
	char tbuf[40];

	if (strcmp(ts, "-") == 0 && !live)
		return;                /* never started */
	if (live) {
		time_format_utc(tbuf, sizeof tbuf, a->r.time_started);
		ts = tbuf;
		out = a->out.buf;
		outlen = a->out.len;
		/* only whole lines: what follows is appended, never changed */
		while (outlen > 0 && out[outlen - 1] != '\n')
			outlen--;
	}
	tprintf(t, "%s:started\n", ts);
	for (size_t i = 0; out && i < outlen;) {
		const char *nl = memchr(out + i, '\n', outlen - i);
		size_t n = nl ? (size_t)(nl - (out + i)) : outlen - i;
		tprintf(t, "%s:%.*s\n", ts, (int)n, out + i);
		i += n + 1;
	}
	if (live || strcmp(st, "done") != 0)
		return;
	for (const char *p = errs; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		tprintf(t, "%s:stderr:%.*s\n", ts, (int)n, p);
		p += n + (nl ? 1 : 0);
	}
	const char *result = jstr(run, "result");
	const char *fin = jstr(run, "time_finished");
	if (strcmp(result, "ok") == 0) {
		tprintf(t, "%s:completed\n", fin);
		return;
	}
	json_t *code = json_object_get(run, "return_code");
	const char *sig = json_string_value(json_object_get(run, "sig"));
	if (json_is_integer(code))
		tprintf(t, "%s:failed:%s (exit %lld)\n", fin, result,
		        (long long)json_integer_value(code));
	else
		tprintf(t, "%s:failed:%s%s%s\n", fin, result, sig && *sig ? " " : "",
		        sig ? sig : "");
}

static void log_listed(struct nreq *r, json_t *data, int err,
                       const char *msg)
{
	struct text t = {0};
	json_t *runs = json_object_get(data, "runs");
	if (err)
		return snap_failed(r, err, msg);
	tadd(&t, "", 0);
	for (size_t i = json_array_size(runs); i-- > 0;)
		log_run(&t, r->cn->srv->e, json_array_get(runs, i));
	snap_set(r, &t);
}

/* Makes f's snapshot, then serves r. */
static void snapshot(struct nreq *r, struct nfid *f)
{
	struct engine *e = r->cn->srv->e;
	struct text t = {0};
	struct job *j;
	struct target *tg;

	switch (f->n.kind) {
	case NK_CLONE:
		tprintf(&t, "%s%s", f->created ? f->created : "",
		        f->created ? "\n" : "");
		return snap_set(r, &t);
	case NK_CTL:
	case NK_CMD:
	case NK_SCHEDULE:
		if (!(j = engine_job_find(e, f->n.job)))
			return nreq_fail(r, ENOENT, "file not found (job removed)");
		text_job(r, j, &t);
		return snap_set(r, &t);
	case NK_TCTL:
		if (!(tg = queue_target(e, f->n.target)))
			return nreq_fail(r, ENOENT, "file not found (target removed)");
		tprintf(&t, "state %s\nconcurrency %d\nrunning %d\nwaiting %d\n",
		        tg->paused ? "paused" : "active", tg->concurrency,
		        tg->running, tg->waiting);
		return snap_set(r, &t);
	case NK_STATUS:
		r->done = status_shown;
		return nreq_dispatch(r, "show", json_pack("{s:s}", "name",
		                                           f->n.job));
	case NK_LOG:
		r->done = log_listed;
		return nreq_dispatch(r, "runs", json_pack("{s:s, s:i, s:b}", "job",
		                     f->n.job, "limit", LOG_RUNS, "output", 1));
	case NK_STDOUT:
	case NK_STDERR:
	case NK_RSTATUS:
		r->done = run_looked_up;
		return nreq_dispatch(r, "lookup", json_pack("{s:s}", "jid",
		                                             f->n.jid));
	}
	nreq_fail(r, EINVAL, "not a file");
}

/* ---- reads ---- */

static void serve(struct nreq *r, struct nfid *f)
{
	/* clone: the name the last write made, once, at whatever offset the
	 * write left (exec 3<>clone; echo DEF >&3; read NAME <&3) */
	int clone = f->n.kind == NK_CLONE;
	if (clone)
		r->offset = f->eof_seen ? f->snap_len : 0;
	if (r->offset < f->snap_len) {
		size_t n = f->snap_len - (size_t)r->offset;
		uint32_t max = r->cn->msize - P9_IOHDR;
		if (n > r->count)
			n = r->count;
		if (n > max)
			n = max;
		struct p9_buf b;
		uint8_t *msg = nreq_buf(r, &b, n + P9_IOHDR);
		if (msg) {
			p9_begin(&b, P9_RREAD, r->tag);
			p9_put32(&b, (uint32_t)n);
			p9_putdata(&b, f->snap + r->offset, n);
		}
		f->eof_seen = clone;
		return nreq_reply(r, msg, msg ? p9_end(&b) : -ENOMEM);
	}
	if (f->n.kind == NK_LOG && f->eof_seen && !r->waiting)
		return log_wait(r);
	f->eof_seen = 1;
	struct p9_buf b;
	uint8_t *msg = nreq_buf(r, &b, 16);
	if (msg) {
		p9_begin(&b, P9_RREAD, r->tag);
		p9_put32(&b, 0);
	}
	nreq_reply(r, msg, msg ? p9_end(&b) : -ENOMEM);
}

void ninep_read(struct nreq *r, struct nfid *f)
{
	/* offset 0 reads anew; the log also at its end (it grows) */
	if (r->offset == 0 || !f->have_snap || f->n.kind == NK_CLONE ||
	    (f->n.kind == NK_LOG && r->offset >= f->snap_len))
		return snapshot(r, f);
	serve(r, f);
}

void ninep_size(struct nreq *r, struct nfid *f)
{
	snapshot(r, f);
}

/* ---- the log's wait ---- */

static void timer_freed(uv_handle_t *h)
{
	free(h);
}

void ninep_unwait(struct nreq *r)
{
	if (r->waiting) {
		r->waiting = 0;
		r->cn->n_waiting--;
	}
	run_unwatch(&r->watch);
	if (r->timer) {
		uv_close((uv_handle_t *)r->timer, timer_freed);
		r->timer = NULL;
	}
}

/* Something may have changed: read the log again; serve() waits again
 * when nothing was added (r->waiting stays 0 until then). */
static void log_wake(struct nreq *r)
{
	ninep_unwait(r);
	if (!r->f)
		return nreq_fail(r, EBADF, "fid clunked");
	r->f->eof_seen = 1;
	r->done = log_listed;
	/* serve() on the new text: at the end still, it waits again */
	nreq_dispatch(r, "runs", json_pack("{s:s, s:i, s:b}", "job",
	              r->f->n.job, "limit", LOG_RUNS, "output", 1));
}

static void on_tick(uv_timer_t *t)
{
	log_wake(t->data);
}

static void w_output(struct run_watcher *w, const struct arun *a, int stream,
                     const char *buf, size_t n)
{
	(void)a;
	if (stream == 1 && memchr(buf, '\n', n))
		log_wake(link_entry(w, struct nreq, watch));
}

static void w_ended(struct run_watcher *w, const struct arun *a, int err,
                    const char *msg)
{
	(void)a;
	(void)err;
	(void)msg;
	log_wake(link_entry(w, struct nreq, watch));
}

static const struct run_watcher_cbs log_watch_cbs = {
	.output = w_output,
	.ended = w_ended,
};

static void log_wait(struct nreq *r)
{
	struct engine *e = r->cn->srv->e;
	if (r->cn->n_waiting >= NINEP_MAX_WAITING)
		return nreq_fail(r, EAGAIN, "too many reads waiting on this "
		                 "connection");
	r->timer = malloc(sizeof *r->timer);
	if (!r->timer)
		return nreq_fail(r, ENOMEM, "out of memory");
	r->waiting = 1;
	r->cn->n_waiting++;
	uv_timer_init(engine_loop(e), r->timer);
	r->timer->data = r;
	uv_timer_start(r->timer, on_tick, WAIT_MS, 0);
	/* the job's newest live run wakes it at once */
	for (struct arun *a = NULL; (a = engine_run_prev(e, a));) {
		if (a->r.job && strcmp(a->r.job, r->f->n.job) == 0 &&
		    a->r.status == RUN_RUNNING && !a->released) {
			r->watch.cbs = &log_watch_cbs;
			run_watch(a, &r->watch);
			break;
		}
	}
}

/* ---- writes ---- */

static void written(struct nreq *r, json_t *data, int err, const char *msg)
{
	if (err)
		return nreq_fail(r, err, msg);
	if (r->f && r->f->n.kind == NK_CLONE) {
		const char *name = json_string_value(json_object_get(
			json_object_get(data, "job"), "name"));
		free(r->f->created);
		r->f->created = name ? strdup(name) : NULL;
		nfid_drop_snap(r->f);
		r->f->eof_seen = 0;
	}
	struct p9_buf b;
	uint8_t *m = nreq_buf(r, &b, 16);
	if (m) {
		p9_begin(&b, P9_RWRITE, r->tag);
		p9_put32(&b, (uint32_t)r->wlen);
	}
	nreq_reply(r, m, m ? p9_end(&b) : -ENOMEM);
}

/* Cuts trailing white space (the shell's newline). */
static char *trim(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

/* clone: NAME:SCHEDULE:COMMAND (the command may hold ':'), or three
 * lines NAME, SCHEDULE, COMMAND (a calendar schedule holds ':'), or a
 * JSON object as jobctl create takes.  An empty name asks for a new one;
 * an empty schedule makes a manual-only job.  It starts stopped. */
static void write_clone(struct nreq *r, char *text)
{
	size_t n = strlen(text);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		text[--n] = 0;
	if (text[0] == '{') {
		json_error_t je;
		json_t *def = json_loads(text, 0, &je);
		if (!json_is_object(def)) {
			json_decref(def);
			return nreq_fail(r, EINVAL, "invalid job definition: not a "
			                 "JSON object");
		}
		int gen = !json_object_get(def, "name");
		return nreq_dispatch(r, "create", json_pack("{s:o, s:b}", "job",
		                     def, "generate_name", gen));
	}
	char sep = strchr(text, '\n') ? '\n' : ':';
	char *s1 = strchr(text, sep), *s2 = s1 ? strchr(s1 + 1, sep) : NULL;
	if (!s2)
		return nreq_fail(r, EINVAL, sep == ':' ? "invalid job definition: "
		                 "want NAME:SCHEDULE:COMMAND" : "invalid job "
		                 "definition: want three lines NAME, SCHEDULE, "
		                 "COMMAND");
	*s1 = *s2 = 0;
	char *name = trim(text), *sched = trim(s1 + 1), *cmd = trim(s2 + 1);
	if (!*cmd)
		return nreq_fail(r, EINVAL, "invalid job definition: empty command");
	json_t *def = json_pack("{s:s, s:b, s:b}", "command", cmd, "shell", 1,
	                        "enabled", 0);
	if (def && *name)
		json_object_set_new(def, "name", json_string(name));
	if (def && *sched)
		json_object_set_new(def, "schedule", json_string(sched));
	nreq_dispatch(r, "create", json_pack("{s:o, s:b}", "job", def,
	                                     "generate_name", !*name));
}

static void write_ctl(struct nreq *r, const char *job, char *text)
{
	char *w = trim(text);
	if (strcasecmp(w, "start") == 0)
		return nreq_dispatch(r, "enable", json_pack("{s:s}", "name", job));
	if (strcasecmp(w, "stop") == 0)
		return nreq_dispatch(r, "disable", json_pack("{s:s}", "name", job));
	if (strcasecmp(w, "run") == 0)
		return nreq_dispatch(r, "run", json_pack("{s:s}", "name", job));
	nreq_fail(r, EINVAL, "unknown ctl command: want start, stop or run");
}

static void write_tctl(struct nreq *r, const char *tg, char *text)
{
	char *w = trim(text), *end;
	if (strcasecmp(w, "pause") == 0)
		return nreq_dispatch(r, "pause", json_pack("{s:[s]}", "targets", tg));
	if (strcasecmp(w, "continue") == 0)
		return nreq_dispatch(r, "continue", json_pack("{s:[s]}", "targets",
		                                              tg));
	if (strncasecmp(w, "concurrency", 11) == 0 && isspace((unsigned char)w[11])) {
		long n = strtol(w + 12, &end, 10);
		if (end == w + 12 || *trim(end) || n < 1 || n > 100000)
			return nreq_fail(r, EINVAL, "concurrency: want a number "
			                 "1..100000");
		return nreq_dispatch(r, "set-target-concurrency", json_pack(
		                     "{s:s, s:i}", "target", tg, "concurrency",
		                     (int)n));
	}
	nreq_fail(r, EINVAL, "unknown ctl command: want pause, continue or "
	          "concurrency N");
}

int nnode_writable(const struct nnode *n)
{
	return n->kind == NK_CLONE || n->kind == NK_CTL || n->kind == NK_CMD ||
	       n->kind == NK_SCHEDULE || n->kind == NK_TCTL;
}

void ninep_write(struct nreq *r, struct nfid *f)
{
	char *text = r->wdata;
	if (memchr(text, 0, r->wlen))
		return nreq_fail(r, EINVAL, "a NUL byte in the text written");
	r->done = written;
	switch (f->n.kind) {
	case NK_CLONE:
		return write_clone(r, text);
	case NK_CTL:
		return write_ctl(r, f->n.job, text);
	case NK_TCTL:
		return write_tctl(r, f->n.target, text);
	case NK_CMD: {
		size_t n = strlen(text);
		while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
			text[--n] = 0;
		return nreq_dispatch(r, "set-job", json_pack("{s:s, s:s}", "name",
		                     f->n.job, "command", text));
	}
	case NK_SCHEDULE: {
		char *s = trim(text);
		return nreq_dispatch(r, "set-job", json_pack("{s:s, s:o}", "name",
		                     f->n.job, "schedule", *s ? json_string(s)
		                                              : json_null()));
	}
	}
	nreq_fail(r, EACCES, "permission denied: the file is read-only");
}

/* ---- remove ---- */

static void removed(struct nreq *r, json_t *data, int err, const char *msg)
{
	(void)data;
	if (err)
		return nreq_fail(r, err, msg);
	struct p9_buf b;
	uint8_t *m = nreq_buf(r, &b, 16);
	if (m)
		p9_begin(&b, r->type == P9_TUNLINKAT ? P9_RUNLINKAT : P9_RREMOVE,
		         r->tag);
	nreq_reply(r, m, m ? p9_end(&b) : -ENOMEM);
}

void ninep_remove(struct nreq *r, const struct nnode *n)
{
	if (n->kind != NK_JOB)
		return nreq_fail(r, EPERM, "permission denied: only /jobs/NAME "
		                 "can be removed (it deletes the job)");
	r->done = removed;
	nreq_dispatch(r, "delete", json_pack("{s:s}", "name", n->job));
}
