/* test_store.c — the SQLite store (src/store): opening and URIs, schema
 * versioning, every store function, and durability across kill -9. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/migrations.h"
#include "store/store.h"
#include "store_lease_cases.h"

struct fx {
	char dir[64];
	char path[128];
	struct store *s;
	char err[512];
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/jobd.db", f->dir);
	assert_int_equal(store_open(f->path, &f->s, f->err, sizeof(f->err)), 0);
	*state = f;
	return 0;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->s);
	nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void reopen(struct fx *f)
{
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(f->path, &f->s, f->err, sizeof(f->err)), 0);
}

/* Runs SQL on the store's file through a separate connection. */
static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* The first column of the first row of `sql`, as text ("NULL" for NULL). */
static void raw_text(const char *path, const char *sql, char *out, size_t n)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	const unsigned char *v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_text(st, 0);
	snprintf(out, n, "%s", v ? (const char *)v : "NULL");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* The jid of test run number i (0 <= i < 10^7). */
static void jid_of(char out[JID_LEN + 1], int i)
{
	snprintf(out, JID_LEN + 1, "2024010100000%07u", (unsigned)i % 10000000u);
}

static void make_run(struct run *r, int i, const char *job, const char *target,
                     int status)
{
	memset(r, 0, sizeof(*r));
	jid_of(r->jid, i);
	r->job = job ? strdup(job) : NULL;
	r->target = strdup(target);
	r->trigger = TRIG_SCHEDULE;
	r->attempt = 1;
	r->status = status;
	r->result = RESULT_NONE;
	r->return_code = -1;
	r->time_created = 1000 + i;
}

static void insert(struct store *s, int i, const char *job,
                   const char *target, int status)
{
	struct run r;

	make_run(&r, i, job, target, status);
	assert_int_equal(store_run_insert(s, &r), 0);
	assert_true(r.id > 0);
	run_clear(&r);
}

/* A run with every field set, binary output included. */
static void full_run(struct run *r)
{
	static const char out[] = "line1\n\0binary\0\xff\x01 end";
	static const char err[] = "\0\0err";

	memset(r, 0, sizeof(*r));
	strcpy(r->jid, "20240102030405123456");
	r->job = strdup("backup");
	r->action = strdup("migrate");
	r->target = strdup("nightly");
	r->trigger = TRIG_RETRY;
	r->attempt = 3;
	strcpy(r->parent, "20240102030405000001");
	r->priority = -7;
	r->status = RUN_DONE;
	r->result = RESULT_FAIL;
	r->return_code = 137;
	strcpy(r->sig, "SIGKILL");
	r->time_created = 1704164645123456LL;
	r->time_not_before = 1704164646000000LL;
	r->time_started = 1704164646500000LL;
	r->time_finished = 1704164650999999LL;
	r->spec = strdup("{\"argv\":[\"tar\",\"c\"]}");
	r->user = strdup("nobody");
	r->uid = 4000000000u;   /* above INT32_MAX: must survive as unsigned */
	r->pid = 4242;
	r->pid_start = 987654321012LL;
	r->worker = strdup("w1");
	r->out = malloc(sizeof(out) - 1);
	memcpy(r->out, out, sizeof(out) - 1);
	r->out_len = sizeof(out) - 1;
	r->errout = malloc(sizeof(err) - 1);
	memcpy(r->errout, err, sizeof(err) - 1);
	r->err_len = sizeof(err) - 1;
	r->out_truncated = 1;
	r->err_truncated = 0;
}

static void assert_str_eq_null(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_runs_equal(const struct run *a, const struct run *b,
                              int with_output)
{
	assert_int_equal(a->id, b->id);
	assert_string_equal(a->jid, b->jid);
	assert_str_eq_null(a->job, b->job);
	assert_str_eq_null(a->action, b->action);
	assert_str_eq_null(a->target, b->target);
	assert_int_equal(a->trigger, b->trigger);
	assert_int_equal(a->attempt, b->attempt);
	assert_string_equal(a->parent, b->parent);
	assert_int_equal(a->priority, b->priority);
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->result, b->result);
	assert_int_equal(a->return_code, b->return_code);
	assert_string_equal(a->sig, b->sig);
	assert_int_equal(a->time_created, b->time_created);
	assert_int_equal(a->time_not_before, b->time_not_before);
	assert_int_equal(a->time_started, b->time_started);
	assert_int_equal(a->time_finished, b->time_finished);
	assert_str_eq_null(a->spec, b->spec);
	assert_str_eq_null(a->user, b->user);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->pid_start, b->pid_start);
	assert_str_eq_null(a->worker, b->worker);
	assert_int_equal(a->out_truncated, b->out_truncated);
	assert_int_equal(a->err_truncated, b->err_truncated);
	if (!with_output)
		return;
	assert_int_equal(a->out_len, b->out_len);
	assert_int_equal(a->err_len, b->err_len);
	assert_true((a->out == NULL) == (b->out == NULL));
	assert_true((a->errout == NULL) == (b->errout == NULL));
	if (a->out)
		assert_memory_equal(a->out, b->out, a->out_len);
	if (a->errout)
		assert_memory_equal(a->errout, b->errout, a->err_len);
}

/* ---- opening ---------------------------------------------------------- */

static void test_open_fresh(void **state)
{
	struct fx *f = *state;
	char buf[128], want[200];

	snprintf(want, sizeof(want), "sqlite:%s", f->path);
	assert_string_equal(store_describe(f->s), want);
	raw_text(f->path, "PRAGMA journal_mode", buf, sizeof(buf));
	assert_string_equal(buf, "wal");
	raw_text(f->path, "PRAGMA user_version", buf, sizeof(buf));
	assert_string_equal(buf, "4");
	/* v3: only finished runs are in runs_time_finished */
	raw_text(f->path, "SELECT sql LIKE '%WHERE time_finished IS NOT NULL' "
	         "FROM sqlite_master WHERE name = 'runs_time_finished'", buf,
	         sizeof(buf));
	assert_string_equal(buf, "1");
	raw_text(f->path, "SELECT group_concat(name, ',') FROM (SELECT name FROM "
	         "sqlite_master WHERE type IN ('table','index') AND name NOT LIKE "
	         "'sqlite_%' ORDER BY name)", buf, sizeof(buf));
	assert_string_equal(buf, "jobs,kv,leases,runs,runs_job,runs_status_target,"
	                    "runs_time_finished,runs_uid,targets");
}

static void test_open_uris(void **state)
{
	struct fx *f = *state;
	struct store *s = (struct store *)0x1;
	char uri[256], want[256], cwd[200];

	/* sqlite: prefix, with and without the sync option */
	snprintf(uri, sizeof(uri), "sqlite:%s/b.db?sync=full", f->dir);
	assert_int_equal(store_open(uri, &s, f->err, sizeof(f->err)), 0);
	snprintf(want, sizeof(want), "sqlite:%s/b.db", f->dir);
	assert_string_equal(store_describe(s), want);
	store_close(s);
	snprintf(uri, sizeof(uri), "sqlite:%s/b.db?sync=normal", f->dir);
	assert_int_equal(store_open(uri, &s, f->err, sizeof(f->err)), 0);
	store_close(s);

	/* a relative path is described absolute */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	assert_int_equal(store_open("sqlite:rel.db", &s, f->err, sizeof(f->err)), 0);
	snprintf(want, sizeof(want), "sqlite:%s/rel.db", f->dir);
	assert_string_equal(store_describe(s), want);
	store_close(s);
	assert_int_equal(chdir(cwd), 0);

	snprintf(uri, sizeof(uri), "sqlite:%s/b.db?sync=bogus", f->dir);
	assert_int_equal(store_open(uri, &s, f->err, sizeof(f->err)), -EINVAL);
	assert_null(s);
	assert_non_null(strstr(f->err, "'sync=bogus'"));

	/* mysql URIs go to mysql.c, which checks them before connecting */
	assert_int_equal(store_open("mysql://u:p@localhost:3306/jobs?table=a;b",
	                            &s, f->err, sizeof(f->err)), -EINVAL);
	assert_null(s);
	assert_non_null(strstr(f->err, "is invalid"));
	assert_int_equal(store_open("postgres://x/y", &s, f->err, sizeof(f->err)),
	                 -EINVAL);
	assert_non_null(strstr(f->err, "'postgres'"));
	assert_int_equal(store_open("", &s, f->err, sizeof(f->err)), -EINVAL);
	assert_int_equal(store_open("sqlite:", &s, f->err, sizeof(f->err)), -EINVAL);
	assert_non_null(strstr(f->err, "empty"));
	/* durability needs a WAL file: an in-memory database is refused */
	assert_int_equal(store_open(":memory:", &s, f->err, sizeof(f->err)), -EIO);
	assert_non_null(strstr(f->err, "WAL"));
}

static void test_open_missing_dir(void **state)
{
	struct fx *f = *state;
	struct store *s;
	char uri[256], want[300];

	snprintf(uri, sizeof(uri), "%s/nodir/x.db", f->dir);
	assert_true(store_open(uri, &s, f->err, sizeof(f->err)) < 0);
	assert_null(s);
	snprintf(want, sizeof(want), "cannot open store '%s': ", uri);
	assert_memory_equal(f->err, want, strlen(want));
}

static void test_open_not_a_database(void **state)
{
	struct fx *f = *state;
	struct store *s;
	char path[200];
	int fd;

	snprintf(path, sizeof(path), "%s/junk.db", f->dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(write(fd, "this is not sqlite at all. ", 27), 27);
	close(fd);
	assert_true(store_open(path, &s, f->err, sizeof(f->err)) < 0);
	assert_null(s);
	assert_non_null(strstr(f->err, "cannot open store"));
	assert_non_null(strstr(f->err, "not a database"));
}

static void test_newer_schema_refused(void **state)
{
	struct fx *f = *state;
	struct store *s;
	char path[200];

	snprintf(path, sizeof(path), "%s/new.db", f->dir);
	raw_exec(path, "PRAGMA user_version = 999");
	assert_int_equal(store_open(path, &s, f->err, sizeof(f->err)), -EPROTO);
	assert_null(s);
	assert_string_equal(f->err,
	                    "store schema version 999 is newer than this jobd (4)");
}

static void test_reopen_keeps_data(void **state)
{
	struct fx *f = *state;
	struct run r;
	char *v = NULL;
	char buf[64];

	insert(f->s, 1, "j", "default", RUN_WAITING);
	assert_int_equal(store_kv_put(f->s, "k", "v"), 0);
	/* Migration 1 would fail ("table jobs already exists") if re-run, and
	 * a marker table it knows nothing of must survive. */
	raw_exec(f->path, "CREATE TABLE marker (x)");
	reopen(f);
	reopen(f);
	raw_text(f->path, "PRAGMA user_version", buf, sizeof(buf));
	assert_string_equal(buf, "4");
	raw_text(f->path, "SELECT count(*) FROM sqlite_master WHERE name='marker'",
	         buf, sizeof(buf));
	assert_string_equal(buf, "1");
	assert_int_equal(store_run_get(f->s, "20240101000000000001", 0, &r), 0);
	assert_string_equal(r.job, "j");
	run_clear(&r);
	assert_int_equal(store_kv_get(f->s, "k", &v), 0);
	assert_string_equal(v, "v");
	free(v);
}

/* ---- runs ------------------------------------------------------------- */

static void test_run_roundtrip(void **state)
{
	struct fx *f = *state;
	struct run in, out;

	full_run(&in);
	assert_int_equal(store_run_insert(f->s, &in), 0);
	assert_true(in.id > 0);

	assert_int_equal(store_run_get(f->s, in.jid, 1, &out), 0);
	assert_runs_equal(&in, &out, 1);
	run_clear(&out);

	assert_int_equal(store_run_get_id(f->s, in.id, 1, &out), 0);
	assert_runs_equal(&in, &out, 1);
	run_clear(&out);

	/* without output: everything else, output left NULL */
	assert_int_equal(store_run_get(f->s, in.jid, 0, &out), 0);
	assert_runs_equal(&in, &out, 0);
	assert_null(out.out);
	assert_null(out.errout);
	assert_int_equal(out.out_len, 0);
	run_clear(&out);

	/* after a reopen too (the blob is on disk, not in a cache) */
	reopen(f);
	assert_int_equal(store_run_get(f->s, in.jid, 1, &out), 0);
	assert_runs_equal(&in, &out, 1);
	run_clear(&out);
	run_clear(&in);
}

static void test_run_nulls(void **state)
{
	struct fx *f = *state;
	struct run in, out;
	char buf[256];

	make_run(&in, 5, NULL, "q", RUN_WAITING);
	assert_int_equal(store_run_insert(f->s, &in), 0);
	raw_text(f->path, "SELECT quote(job) || quote(action) || quote(result) || "
	         "quote(return_code) || quote(sig) || quote(pid) || quote(parent) "
	         "|| quote(stdout) || quote(stderr) || quote(spec) || quote(user) "
	         "|| quote(worker) || ' ' || status || ' ' || \"trigger\" FROM runs",
	         buf, sizeof(buf));
	assert_string_equal(buf, "NULLNULLNULLNULLNULLNULLNULLNULLNULLNULLNULLNULL "
	                    "waiting schedule");
	assert_int_equal(store_run_get(f->s, in.jid, 1, &out), 0);
	assert_runs_equal(&in, &out, 1);
	assert_null(out.out);
	assert_int_equal(out.return_code, -1);
	assert_int_equal(out.result, RESULT_NONE);
	run_clear(&out);

	/* an empty (not absent) output stays empty, not NULL */
	in.out = strdup("");
	in.out_len = 0;
	assert_int_equal(store_run_update(f->s, &in), 0);
	assert_int_equal(store_run_get(f->s, in.jid, 1, &out), 0);
	assert_non_null(out.out);
	assert_int_equal(out.out_len, 0);
	assert_null(out.errout);
	run_clear(&out);
	run_clear(&in);
}

static void test_run_update(void **state)
{
	struct fx *f = *state;
	struct run r, got;
	int64_t id;

	make_run(&r, 1, "job", "default", RUN_WAITING);
	assert_int_equal(store_run_insert(f->s, &r), 0);
	id = r.id;

	r.status = RUN_RUNNING;
	r.time_started = 5555;
	r.pid = 99;
	r.pid_start = 123;
	free(r.user);
	r.user = strdup("root");
	r.worker = strdup("w2");
	assert_int_equal(store_run_update(f->s, &r), 0);
	assert_int_equal(store_run_get_id(f->s, id, 0, &got), 0);
	assert_int_equal(got.status, RUN_RUNNING);
	assert_int_equal(got.pid, 99);
	assert_string_equal(got.user, "root");
	run_clear(&got);

	r.status = RUN_DONE;
	r.result = RESULT_OK;
	r.return_code = 0;
	r.pid = 0;
	r.time_finished = 6666;
	r.out = strdup("hello");
	r.out_len = 5;
	r.err_truncated = 1;
	strcpy(r.sig, "SIGTERM");
	r.attempt = 2;
	strcpy(r.parent, "20240101000000000000");
	free(r.spec);
	r.spec = strdup("{}");
	assert_int_equal(store_run_update(f->s, &r), 0);
	assert_int_equal(store_run_get(f->s, r.jid, 1, &got), 0);
	assert_runs_equal(&r, &got, 1);
	assert_int_equal(got.return_code, 0);   /* 0 is a code, not "none" */
	run_clear(&got);

	r.id = id + 1000;
	assert_int_equal(store_run_update(f->s, &r), -ENOENT);
	assert_non_null(strstr(store_error(f->s), "not found"));
	run_clear(&r);
}

static void test_run_errors(void **state)
{
	struct fx *f = *state;
	struct run r, got;

	assert_int_equal(store_run_get(f->s, "20990101000000000000", 0, &got), -ENOENT);
	assert_int_equal(store_run_get_id(f->s, 12345, 1, &got), -ENOENT);

	make_run(&r, 1, "j", "t", RUN_WAITING);
	assert_int_equal(store_run_insert(f->s, &r), 0);
	assert_int_equal(store_run_insert(f->s, &r), -EEXIST);   /* same jid */
	assert_non_null(strstr(store_error(f->s), "UNIQUE"));

	r.status = RUN_STATUS_COUNT;
	assert_int_equal(store_run_insert(f->s, &r), -EINVAL);
	assert_non_null(strstr(store_error(f->s), "status"));
	r.status = RUN_WAITING;
	r.trigger = 99;
	assert_int_equal(store_run_update(f->s, &r), -EINVAL);
	assert_non_null(strstr(store_error(f->s), "trigger"));
	r.trigger = TRIG_API;
	free(r.target);
	r.target = NULL;
	strcpy(r.jid, "20240101000000000099");
	assert_int_equal(store_run_insert(f->s, &r), -EINVAL);
	assert_non_null(strstr(store_error(f->s), "target"));
	run_clear(&r);
}

static void test_run_max_jid(void **state)
{
	struct fx *f = *state;
	char jid[JID_LEN + 1] = "x";

	assert_int_equal(store_run_max_jid(f->s, jid), 0);
	assert_string_equal(jid, "");
	insert(f->s, 7, "a", "t", RUN_WAITING);
	insert(f->s, 30, "a", "t", RUN_WAITING);
	insert(f->s, 12, "a", "t", RUN_WAITING);
	assert_int_equal(store_run_max_jid(f->s, jid), 0);
	assert_string_equal(jid, "20240101000000000030");
}

/* ---- run_list --------------------------------------------------------- */

struct collect {
	char jids[64][JID_LEN + 1];
	int n;
	int stop_at;          /* return 7 when n reaches it */
	int saw_output;
};

static int collect_cb(void *ctx, struct run *r)
{
	struct collect *c = ctx;

	assert_true(c->n < 64);
	strcpy(c->jids[c->n++], r->jid);
	if (r->out)
		c->saw_output++;
	return c->stop_at && c->n == c->stop_at ? 7 : 0;
}

/* Numbers (last digits of jids) of the runs `q` lists, as "a,b,c". */
static const char *list_ids(struct store *s, struct run_query *q)
{
	static char buf[512];
	struct collect c = { .n = 0 };
	size_t n = 0;

	buf[0] = '\0';
	assert_int_equal(store_run_list(s, q, collect_cb, &c), 0);
	for (int i = 0; i < c.n; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%d", i ? "," : "",
		                      atoi(c.jids[i] + 13));
	return buf;
}

static void seed_list(struct store *s)
{
	static const struct { const char *job, *target; int status; uint32_t uid; }
	rows[] = {
		{ "a", "t1", RUN_WAITING, 1 },  /* 1 */
		{ "a", "t1", RUN_RUNNING, 1 },  /* 2 */
		{ "b", "t2", RUN_DONE, 2 },     /* 3 */
		{ "b", "t1", RUN_MANUAL, 2 },   /* 4 */
		{ NULL, "t2", RUN_ACCEPTED, 1 },/* 5 */
		{ "a", "t2", RUN_IGNORED, 3 },  /* 6 */
		{ "a", "t1", RUN_DONE, 1 },     /* 7 */
	};

	for (int i = 0; i < 7; i++) {
		struct run r;

		make_run(&r, i + 1, rows[i].job, rows[i].target, rows[i].status);
		r.uid = rows[i].uid;
		r.out = strdup("out");
		r.out_len = 3;
		assert_int_equal(store_run_insert(s, &r), 0);
		run_clear(&r);
	}
}

static void test_run_list(void **state)
{
	struct fx *f = *state;
	struct run_query q;
	struct collect c;

	seed_list(f->s);
	memset(&q, 0, sizeof(q));
	q.status = -1;
	assert_string_equal(list_ids(f->s, &q), "1,2,3,4,5,6,7");
	q.newest_first = 1;
	assert_string_equal(list_ids(f->s, &q), "7,6,5,4,3,2,1");
	q.limit = 2;
	assert_string_equal(list_ids(f->s, &q), "7,6");
	q.newest_first = 0;
	assert_string_equal(list_ids(f->s, &q), "1,2");
	q.limit = 0;

	q.job = "a";
	assert_string_equal(list_ids(f->s, &q), "1,2,6,7");
	q.job = NULL;
	q.target = "t2";
	assert_string_equal(list_ids(f->s, &q), "3,5,6");
	q.target = NULL;
	q.status = RUN_DONE;
	assert_string_equal(list_ids(f->s, &q), "3,7");
	q.status = RUN_WAITING;   /* 0 is a status, not "any" */
	assert_string_equal(list_ids(f->s, &q), "1");
	q.status = -1;
	q.active = 1;
	assert_string_equal(list_ids(f->s, &q), "1,2,4,5");
	q.active = 0;
	q.since = 1005;           /* time_created = 1000 + n */
	assert_string_equal(list_ids(f->s, &q), "5,6,7");
	q.since = 0;
	q.by_uid = 1;
	q.uid = 2;
	assert_string_equal(list_ids(f->s, &q), "3,4");
	q.uid = 0;                /* by_uid with uid 0 (root) filters too */
	assert_string_equal(list_ids(f->s, &q), "");
	q.by_uid = 0;

	/* combined */
	q.job = "a";
	q.target = "t1";
	q.active = 1;
	q.by_uid = 1;
	q.uid = 1;
	q.newest_first = 1;
	assert_string_equal(list_ids(f->s, &q), "2,1");

	/* output only when asked */
	memset(&q, 0, sizeof(q));
	q.status = -1;
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_run_list(f->s, &q, collect_cb, &c), 0);
	assert_int_equal(c.n, 7);
	assert_int_equal(c.saw_output, 0);
	q.with_output = 1;
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_run_list(f->s, &q, collect_cb, &c), 0);
	assert_int_equal(c.saw_output, 7);

	/* a nonzero callback return stops and is returned; the statement is
	 * reusable afterwards */
	memset(&c, 0, sizeof(c));
	c.stop_at = 3;
	assert_int_equal(store_run_list(f->s, &q, collect_cb, &c), 7);
	assert_int_equal(c.n, 3);
	assert_string_equal(list_ids(f->s, &q), "1,2,3,4,5,6,7");

	q.status = RUN_STATUS_COUNT;
	assert_int_equal(store_run_list(f->s, &q, collect_cb, &c), -EINVAL);
}

/* run_last_each: the newest run of each job in one query. */
struct last { struct store *s; char ids[8][48]; int n; int nested; };

static int last_cb(void *ctx, struct run *r)
{
	struct last *l = ctx;
	struct collect c = { .n = 0 };

	assert_true(l->n < 8);
	assert_null(r->out);      /* no output */
	snprintf(l->ids[l->n++], sizeof(l->ids[0]), "%s:%d:%s", r->job,
	         atoi(r->jid + 13), run_status_name(r->status));
	if (!l->nested++)         /* the store may be used from the callback */
		assert_int_equal(store_run_last_each(l->s, collect_cb, &c), 0);
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_run_last_each(void **state)
{
	struct fx *f = *state;
	struct last l = { .s = f->s };
	struct collect c = { .n = 0 };
	struct run r;

	assert_int_equal(store_run_last_each(f->s, collect_cb, &c), 0);
	assert_int_equal(c.n, 0);
	seed_list(f->s);          /* a: 1,2,6,7; b: 3,4; no job: 5 */
	make_run(&r, 8, "c", "t1", RUN_WAITING);
	assert_int_equal(store_run_insert(f->s, &r), 0);
	run_clear(&r);
	assert_int_equal(store_run_last_each(f->s, last_cb, &l), 0);
	assert_int_equal(l.n, 3);
	qsort(l.ids, (size_t)l.n, sizeof(l.ids[0]), str_cmp);
	assert_string_equal(l.ids[0], "a:7:done");
	assert_string_equal(l.ids[1], "b:4:manual");
	assert_string_equal(l.ids[2], "c:8:waiting");
	/* a nonzero callback return stops and is returned */
	memset(&c, 0, sizeof(c));
	c.stop_at = 1;
	assert_int_equal(store_run_last_each(f->s, collect_cb, &c), 7);
	assert_int_equal(c.n, 1);
}

struct settle { struct store *s; int n; int nested; int nested_n; };

static int count_cb(void *ctx, struct run *r)
{
	(void)r;
	++*(int *)ctx;
	return 0;
}

/* What recovery does: list active runs and settle each from the callback,
 * listing the same shape again from inside it (store.h: nested reads). */
static int settle_cb(void *ctx, struct run *r)
{
	struct settle *st = ctx;
	struct run_query q = { .status = -1, .active = 1 };
	struct run copy = *r;   /* borrowed strings: r still owns them */

	st->n++;
	st->nested_n = 0;
	st->nested = store_run_list(st->s, &q, count_cb, &st->nested_n);
	copy.status = RUN_DONE;
	copy.result = RESULT_FAIL;
	strcpy(copy.sig, "LOST");
	copy.time_finished = 42;
	return store_run_update(st->s, &copy);
}

static void test_run_list_update_in_callback(void **state)
{
	struct fx *f = *state;
	struct run_query q = { .status = -1, .active = 1 };
	struct settle st = { .s = f->s };

	seed_list(f->s);
	assert_int_equal(store_run_list(f->s, &q, settle_cb, &st), 0);
	assert_int_equal(st.n, 4);              /* 1, 2, 4, 5: each once */
	/* the same shape nests; the last callback saw only its own run active */
	assert_int_equal(st.nested, 0);
	assert_int_equal(st.nested_n, 1);
	assert_string_equal(list_ids(f->s, &q), "");
	q.active = 0;
	q.status = RUN_DONE;
	assert_string_equal(list_ids(f->s, &q), "1,2,3,4,5,7");
}

/* ---- sweep ------------------------------------------------------------ */

static void test_run_sweep(void **state)
{
	struct fx *f = *state;
	struct run_query q = { .status = -1 };
	struct collect c = { .n = 0 };
	int n = 0;

	/* 25 done + 5 ignored finished at 100, 5 done at 500, 5 running */
	for (int i = 1; i <= 40; i++) {
		struct run r;
		int st = i <= 25 ? RUN_DONE : i <= 30 ? RUN_IGNORED
		         : i <= 35 ? RUN_DONE : RUN_RUNNING;

		make_run(&r, i, "j", "t", st);
		r.time_finished = i <= 30 ? 100 : i <= 35 ? 500 : 0;
		assert_int_equal(store_run_insert(f->s, &r), 0);
		run_clear(&r);
	}
	assert_int_equal(store_run_sweep(f->s, 200, 12), 12);
	assert_int_equal(store_run_sweep(f->s, 200, 12), 12);
	assert_int_equal(store_run_sweep(f->s, 200, 12), 6);
	assert_int_equal(store_run_sweep(f->s, 200, 12), 0);
	assert_int_equal(store_run_sweep(f->s, 200, 0), -EINVAL);
	assert_int_equal(store_run_list(f->s, &q, collect_cb, &c), 0);
	assert_int_equal(c.n, 10);
	for (int i = 0; i < c.n; i++)
		n += atoi(c.jids[i] + 13) > 30;
	assert_int_equal(n, 10);
	/* a later cutoff takes the newer finished runs, never running ones */
	assert_int_equal(store_run_sweep(f->s, 1000, 100), 5);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_run_list(f->s, &q, collect_cb, &c), 0);
	assert_string_equal(c.jids[0], "20240101000000000036");
	assert_int_equal(c.n, 5);
}

/* ---- transactions ----------------------------------------------------- */

static void test_transactions(void **state)
{
	struct fx *f = *state;
	struct run r;

	assert_int_equal(store_commit(f->s), -EINVAL);
	assert_non_null(strstr(store_error(f->s), "no transaction"));
	assert_int_equal(store_rollback(f->s), -EINVAL);

	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_begin(f->s), -EINVAL);
	insert(f->s, 1, "j", "t", RUN_WAITING);
	assert_int_equal(store_kv_put(f->s, "k", "1"), 0);
	assert_int_equal(store_rollback(f->s), 0);
	assert_int_equal(store_run_get(f->s, "20240101000000000001", 0, &r), -ENOENT);

	assert_int_equal(store_begin(f->s), 0);
	insert(f->s, 2, "j", "t", RUN_WAITING);
	assert_int_equal(store_commit(f->s), 0);
	reopen(f);
	assert_int_equal(store_run_get(f->s, "20240101000000000002", 0, &r), 0);
	run_clear(&r);
}

/* ---- targets, kv, jobs ------------------------------------------------ */

struct tlist { char buf[256]; size_t n; int stop; };

static int target_cb(void *ctx, const char *name, int conc, int paused)
{
	struct tlist *t = ctx;

	t->n += (size_t)snprintf(t->buf + t->n, sizeof(t->buf) - t->n, "%s=%d%s;",
	                         name, conc, paused ? "p" : "");
	return t->stop;
}

static void test_targets(void **state)
{
	struct fx *f = *state;
	struct tlist t = { .n = 0 };

	assert_int_equal(store_target_each(f->s, target_cb, &t), 0);
	assert_string_equal(t.buf, "");
	assert_int_equal(store_target_put(f->s, "zeta", 2, 0), 0);
	assert_int_equal(store_target_put(f->s, "alpha", 1, 1), 0);
	assert_int_equal(store_target_put(f->s, "zeta", 5, 1), 0);   /* upsert */
	assert_int_equal(store_target_put(f->s, "alpha", 1, 0), 0);
	assert_int_equal(store_target_each(f->s, target_cb, &t), 0);
	assert_string_equal(t.buf, "alpha=1;zeta=5p;");

	memset(&t, 0, sizeof(t));
	t.stop = 3;
	assert_int_equal(store_target_each(f->s, target_cb, &t), 3);
	assert_string_equal(t.buf, "alpha=1;");

	assert_int_equal(store_target_del(f->s, "alpha"), 0);
	assert_int_equal(store_target_del(f->s, "alpha"), -ENOENT);
	assert_non_null(strstr(store_error(f->s), "'alpha'"));
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_target_each(f->s, target_cb, &t), 0);
	assert_string_equal(t.buf, "zeta=5p;");
}

static void test_kv(void **state)
{
	struct fx *f = *state;
	char *v = (char *)0x1;

	assert_int_equal(store_kv_get(f->s, "sched.backup.last", &v), -ENOENT);
	assert_null(v);
	assert_int_equal(store_kv_put(f->s, "sched.backup.last", "100"), 0);
	assert_int_equal(store_kv_get(f->s, "sched.backup.last", &v), 0);
	assert_string_equal(v, "100");
	free(v);
	assert_int_equal(store_kv_put(f->s, "sched.backup.last", "200"), 0);
	assert_int_equal(store_kv_get(f->s, "sched.backup.last", &v), 0);
	assert_string_equal(v, "200");
	free(v);
	assert_int_equal(store_kv_put(f->s, "empty", ""), 0);
	assert_int_equal(store_kv_get(f->s, "empty", &v), 0);
	assert_string_equal(v, "");
	free(v);
	assert_int_equal(store_kv_put(f->s, "k", NULL), -EINVAL);
}

struct jlist { char buf[256]; size_t n; };

static int job_cb(void *ctx, const char *name, const char *def)
{
	struct jlist *j = ctx;

	j->n += (size_t)snprintf(j->buf + j->n, sizeof(j->buf) - j->n, "%s:%s;",
	                         name, def);
	return strcmp(name, "stop") == 0 ? -EINTR : 0;
}

static void test_jobs(void **state)
{
	struct fx *f = *state;
	struct jlist j = { .n = 0 };
	char buf[64];
	long long t1, t2;

	assert_int_equal(store_job_put(f->s, "web", "{\"v\":1}"), 0);
	assert_int_equal(store_job_put(f->s, "db", "{}"), 0);
	raw_text(f->path, "SELECT updated FROM jobs WHERE name='web'", buf, sizeof(buf));
	t1 = atoll(buf);
	usleep(2000);
	assert_int_equal(store_job_put(f->s, "web", "{\"v\":2}"), 0);
	raw_text(f->path, "SELECT updated FROM jobs WHERE name='web'", buf, sizeof(buf));
	t2 = atoll(buf);
	assert_true(t1 > 1600000000LL * 1000000);   /* microseconds of now */
	assert_true(t2 > t1);
	assert_int_equal(store_job_each(f->s, job_cb, &j), 0);
	assert_string_equal(j.buf, "db:{};web:{\"v\":2};");

	assert_int_equal(store_job_put(f->s, "stop", "{}"), 0);
	memset(&j, 0, sizeof(j));
	assert_int_equal(store_job_each(f->s, job_cb, &j), -EINTR);
	assert_string_equal(j.buf, "db:{};stop:{};");

	assert_int_equal(store_job_del(f->s, "db"), 0);
	assert_int_equal(store_job_del(f->s, "db"), -ENOENT);
	memset(&j, 0, sizeof(j));
	assert_int_equal(store_job_each(f->s, job_cb, &j), -EINTR);
	assert_string_equal(j.buf, "stop:{};");
	/* four puts and one delete; the failed delete does not count */
	char *v = NULL;
	assert_int_equal(store_kv_get(f->s, STORE_UPDATE_SEQ, &v), 0);
	assert_string_equal(v, "5");
	free(v);
}

/* ---- durability across kill -9 ---------------------------------------- */

#define KILL_TOTAL 1000
#define KILL_AFTER 300

/* The child: insert runs one committed transaction each, report each index
 * after its commit, and wait to be killed if it gets to the end. */
static void kill_child(const char *path, int wfd)
{
	struct store *s;
	char err[256];

	if (store_open(path, &s, err, sizeof(err)) < 0)
		_exit(2);
	for (int i = 1; i <= KILL_TOTAL; i++) {
		struct run r;

		make_run(&r, i, "dur", "t", RUN_WAITING);
		r.out = strdup("some output");
		r.out_len = 11;
		if (store_begin(s) < 0 || store_run_insert(s, &r) < 0 ||
		    store_commit(s) < 0)
			_exit(3);
		run_clear(&r);
		if (write(wfd, &i, sizeof(i)) != sizeof(i))
			_exit(4);
	}
	for (;;)
		pause();
}

static void test_kill9_durability(void **state)
{
	struct fx *f = *state;
	int fds[2], status, idx, last = 0, seen = 0;
	char buf[64];
	pid_t pid;

	store_close(f->s);   /* the child gets the database to itself */
	f->s = NULL;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		kill_child(f->path, fds[1]);
	}
	close(fds[1]);
	while (read(fds[0], &idx, sizeof(idx)) == sizeof(idx)) {
		assert_int_equal(idx, last + 1);
		last = idx;
		if (++seen == KILL_AFTER)
			kill(pid, SIGKILL);
	}
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	print_message("kill -9 after %d of %d committed runs\n", last, KILL_TOTAL);
	assert_true(last >= KILL_AFTER);

	reopen(f);
	raw_text(f->path, "PRAGMA integrity_check", buf, sizeof(buf));
	assert_string_equal(buf, "ok");
	for (int i = 1; i <= last; i++) {
		struct run r;
		char jid[JID_LEN + 1];

		jid_of(jid, i);
		assert_int_equal(store_run_get(f->s, jid, 1, &r), 0);
		assert_int_equal(r.out_len, 11);
		run_clear(&r);
	}
	/* at most the one commit in flight when killed went unreported */
	raw_text(f->path, "SELECT count(*) FROM runs", buf, sizeof(buf));
	assert_true(atoi(buf) == last || atoi(buf) == last + 1);
}

/* ---- claims and rows inserted by other programs ------------------------ */

/* A row the seed queue's way: no jid, time_created in seconds, the
 * application's own column. */
static int64_t insert_foreign(const char *path, const char *status)
{
	char sql[300], buf[32];

	snprintf(sql, sizeof(sql), "INSERT INTO runs (target, status, "
	         "time_created, app_data) VALUES ('t', '%s', 1700000000, 'mine')",
	         status);
	raw_exec(path, sql);
	raw_text(path, "SELECT max(id) FROM runs", buf, sizeof(buf));
	return atoll(buf);
}

static void test_run_claim(void **state)
{
	struct fx *f = *state;
	struct store *other;
	struct run r;
	char buf[200];
	int64_t w1, w2, m1;

	raw_exec(f->path, "ALTER TABLE runs ADD COLUMN app_data TEXT");
	w1 = insert_foreign(f->path, "waiting");
	w2 = insert_foreign(f->path, "waiting");   /* two NULL jids may coexist */
	m1 = insert_foreign(f->path, "manual");

	/* a row without a jid reads with jid "" */
	assert_int_equal(store_run_get_id(f->s, w1, 0, &r), 0);
	assert_string_equal(r.jid, "");
	assert_int_equal(r.status, RUN_WAITING);
	assert_int_equal(r.time_created, 1700000000);   /* as stored */
	assert_int_equal(r.trigger, TRIG_API);
	assert_null(r.spec);
	run_clear(&r);

	/* the wrong from-status is refused and changes nothing */
	assert_int_equal(store_run_claim(f->s, w1, RUN_MANUAL, "w", "20240101000000000001"),
	                 -EBUSY);
	assert_non_null(strstr(store_error(f->s), "waiting != manual"));
	assert_int_equal(store_run_claim(f->s, m1, RUN_WAITING, "w", "20240101000000000001"),
	                 -EBUSY);
	raw_text(f->path, "SELECT quote(jid) || status FROM runs WHERE id = 1",
	         buf, sizeof(buf));
	assert_string_equal(buf, "NULLwaiting");

	/* claimed: accepted, worker and jid set, other columns untouched */
	assert_int_equal(store_run_claim(f->s, w1, RUN_WAITING, "w1", "20240101000000000001"), 0);
	assert_int_equal(store_run_get_id(f->s, w1, 0, &r), 0);
	assert_string_equal(r.jid, "20240101000000000001");
	assert_int_equal(r.status, RUN_ACCEPTED);
	assert_string_equal(r.worker, "w1");
	run_clear(&r);
	raw_text(f->path, "SELECT app_data FROM runs WHERE id = 1", buf, sizeof(buf));
	assert_string_equal(buf, "mine");
	assert_int_equal(store_run_get(f->s, "20240101000000000001", 0, &r), 0);
	assert_int_equal(r.id, w1);
	run_clear(&r);

	/* only once */
	assert_int_equal(store_run_claim(f->s, w1, RUN_WAITING, "w2", "20240101000000000009"),
	                 -EBUSY);
	assert_non_null(strstr(store_error(f->s), "accepted != waiting"));
	assert_int_equal(store_run_claim(f->s, 9999, RUN_WAITING, "w", "20240101000000000002"),
	                 -ENOENT);

	/* a jid already taken by another row is an error, not a silent reuse */
	assert_int_equal(store_run_claim(f->s, w2, RUN_WAITING, "w", "20240101000000000001"),
	                 -EEXIST);
	raw_text(f->path, "SELECT quote(jid) || status FROM runs WHERE id = 2",
	         buf, sizeof(buf));
	assert_string_equal(buf, "NULLwaiting");

	/* a row that has a jid keeps it */
	insert(f->s, 50, "j", "t", RUN_MANUAL);
	assert_int_equal(store_run_get(f->s, "20240101000000000050", 0, &r), 0);
	assert_int_equal(store_run_claim(f->s, r.id, RUN_MANUAL, "w", "20240101000000000003"), 0);
	run_clear(&r);
	assert_int_equal(store_run_get(f->s, "20240101000000000050", 0, &r), 0);
	assert_int_equal(r.status, RUN_ACCEPTED);
	run_clear(&r);
	assert_int_equal(store_run_get(f->s, "20240101000000000003", 0, &r), -ENOENT);

	/* two connections (two jobds on one file): one claim wins */
	assert_int_equal(store_open(f->path, &other, f->err, sizeof(f->err)), 0);
	assert_int_equal(store_run_claim(other, m1, RUN_MANUAL, "b", "20240101000000000004"), 0);
	assert_int_equal(store_run_claim(f->s, m1, RUN_MANUAL, "a", "20240101000000000005"),
	                 -EBUSY);
	store_close(other);

	/* inside a transaction, and rolled back with it */
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_run_claim(f->s, w2, RUN_WAITING, "w", "20240101000000000006"), 0);
	assert_int_equal(store_rollback(f->s), 0);
	raw_text(f->path, "SELECT quote(jid) || status FROM runs WHERE id = 2",
	         buf, sizeof(buf));
	assert_string_equal(buf, "NULLwaiting");

	/* bad arguments */
	assert_int_equal(store_run_claim(f->s, w2, 99, "w", "20240101000000000007"), -EINVAL);
	assert_int_equal(store_run_claim(f->s, w2, RUN_WAITING, "w", ""), -EINVAL);
}

/* A version-1 database (jid NOT NULL) with runs and a swept high id. */
static void make_v1(const char *path, const char *extra_sql)
{
	char sql[400];

	raw_exec(path, store_migrations[0]);
	raw_exec(path, "PRAGMA user_version = 1");
	raw_exec(path, "INSERT INTO runs (id, target, status, jid, job, "
	         "time_created, stdout) VALUES (3, 't', 'done', "
	         "'20240101000000000003', 'j', 1704067200000000, x'00ff')");
	raw_exec(path, "INSERT INTO runs (id, target, status, jid) VALUES "
	         "(40, 't', 'done', '20240101000000000040')");
	raw_exec(path, "DELETE FROM runs WHERE id = 40");   /* seq stays 40 */
	if (extra_sql) {
		snprintf(sql, sizeof(sql), "%s", extra_sql);
		raw_exec(path, sql);
	}
}

static void test_migration_v1_to_v2(void **state)
{
	struct fx *f = *state;
	struct store *s;
	struct run r;
	char path[200], buf[300];

	snprintf(path, sizeof(path), "%s/v1.db", f->dir);
	make_v1(path, NULL);
	raw_text(path, "SELECT count(*) FROM runs WHERE jid IS NULL", buf, sizeof(buf));
	assert_string_equal(buf, "0");
	assert_int_equal(store_open(path, &s, f->err, sizeof(f->err)), 0);
	raw_text(path, "PRAGMA user_version", buf, sizeof(buf));
	assert_string_equal(buf, "4");

	/* the row survived, output included */
	assert_int_equal(store_run_get(s, "20240101000000000003", 1, &r), 0);
	assert_int_equal(r.id, 3);
	assert_int_equal(r.time_created, 1704067200000000LL);
	assert_int_equal(r.out_len, 2);
	assert_memory_equal(r.out, "\0\xff", 2);
	run_clear(&r);

	/* jid is nullable now but still unique; the indexes are back */
	raw_exec(path, "INSERT INTO runs (target, status) VALUES ('t', 'waiting')");
	raw_text(path, "SELECT id FROM runs WHERE jid IS NULL", buf, sizeof(buf));
	assert_string_equal(buf, "41");   /* the swept id 40 is not reused */
	raw_text(path, "SELECT group_concat(name, ',') FROM (SELECT name FROM "
	         "sqlite_master WHERE type = 'index' AND tbl_name = 'runs' AND "
	         "name NOT LIKE 'sqlite_%' ORDER BY name)", buf, sizeof(buf));
	assert_string_equal(buf, "runs_job,runs_status_target,runs_time_finished,"
	                    "runs_uid");
	make_run(&r, 3, "j", "t", RUN_WAITING);
	assert_int_equal(store_run_insert(s, &r), -EEXIST);
	run_clear(&r);
	raw_text(path, "PRAGMA integrity_check", buf, sizeof(buf));
	assert_string_equal(buf, "ok");
	store_close(s);

	/* opening again does not migrate again */
	assert_int_equal(store_open(path, &s, f->err, sizeof(f->err)), 0);
	store_close(s);
	raw_text(path, "SELECT count(*) FROM runs", buf, sizeof(buf));
	assert_string_equal(buf, "2");
}

static void test_migration_keeps_app_columns(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	char path[200], buf[100];

	/* an application added a column to a version-1 table: the rebuild
	 * would lose it, so the migration fails and changes nothing */
	snprintf(path, sizeof(path), "%s/v1x.db", f->dir);
	make_v1(path, "ALTER TABLE runs ADD COLUMN app_data TEXT");
	assert_true(store_open(path, &s, f->err, sizeof(f->err)) < 0);
	assert_null(s);
	assert_non_null(strstr(f->err, "schema version 2"));
	raw_text(path, "PRAGMA user_version", buf, sizeof(buf));
	assert_string_equal(buf, "1");
	raw_text(path, "SELECT count(*) FROM sqlite_master WHERE name = 'runs_new'",
	         buf, sizeof(buf));
	assert_string_equal(buf, "0");
	raw_text(path, "SELECT jid FROM runs", buf, sizeof(buf));
	assert_string_equal(buf, "20240101000000000003");
}

/* ---- leases (placement = one) ------------------------------------------ */

/* Two daemons, each with its own connection to one file. */
static void test_lease(void **state)
{
	struct fx *f = *state;
	struct store *b;

	assert_int_equal(store_open(f->path, &b, f->err, sizeof(f->err)), 0);
	lease_contract(f->s, b);      /* store_lease_cases.h */
	store_close(b);
}

/* Two processes race for one lease and its fire times: at any instant
 * one holds it, and each fire time is claimed once. */
static void test_lease_race(void **state)
{
	lease_race(((struct fx *)*state)->path, 400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(test_open_fresh),
		T(test_open_uris),
		T(test_open_missing_dir),
		T(test_open_not_a_database),
		T(test_newer_schema_refused),
		T(test_reopen_keeps_data),
		T(test_run_roundtrip),
		T(test_run_nulls),
		T(test_run_update),
		T(test_run_errors),
		T(test_run_max_jid),
		T(test_run_list),
		T(test_run_last_each),
		T(test_run_list_update_in_callback),
		T(test_run_sweep),
		T(test_transactions),
		T(test_targets),
		T(test_kv),
		T(test_jobs),
		T(test_kill9_durability),
		T(test_run_claim),
		T(test_migration_v1_to_v2),
		T(test_migration_keeps_app_columns),
		T(test_lease),
		T(test_lease_race),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
