/* test_store_mysql.c — the MariaDB/MySQL store (src/store/mysql.c) against a
 * real server: the URL in JOBD_TEST_MYSQL (scripts/mariadb.sh start prints
 * one: mysql://USER:PASS@HOST:PORT/DB).  Without it every test is skipped.
 *
 * Each test process works in a database of its own, DB_<pid> (created and
 * dropped here; scripts/mariadb.sh grants that), and each test in a run
 * table of its own, so parallel runs (plain and sanitizer builds) and the
 * shared jobd_* tables do not collide.  The scenarios follow test_store.c
 * where they apply, plus what only a shared server has: the original queue
 * daemon's table, rows INSERTed by other programs, two claimers, lost
 * connections. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <mysql.h>

#include "store/store.h"
#include "store_lease_cases.h"

/* The server, from JOBD_TEST_MYSQL, and this process's database. */
static struct {
	char user[64], pass[64], host[128], db[64];
	int port;
	char mydb[96];
	int ok;
} srv;

struct fx {
	char table[64];
	char uri[512];
	struct store *s;
	char err[512];
};

static int table_seq;

static MYSQL *raw_connect(const char *db)
{
	MYSQL *c = mysql_init(NULL);
	unsigned proto = MYSQL_PROTOCOL_TCP;

	assert_non_null(c);
	mysql_options(c, MYSQL_OPT_PROTOCOL, &proto);
	mysql_options(c, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (!mysql_real_connect(c, srv.host, srv.user, srv.pass, db, (unsigned)srv.port,
	                        NULL, 0)) {
		print_error("cannot connect to %s:%d: %s\n", srv.host, srv.port,
		            mysql_error(c));
		mysql_close(c);
		return NULL;
	}
	return c;
}

/* Runs SQL in this process's database through a separate connection. */
static void raw_exec(const char *sql)
{
	MYSQL *c = raw_connect(srv.mydb);

	assert_non_null(c);
	if (mysql_query(c, sql) != 0)
		print_error("%s: %s\n", sql, mysql_error(c));
	assert_int_equal(mysql_errno(c), 0);
	mysql_close(c);
}

/* The first column of the first row of `sql` ("NULL" for NULL, "" for no
 * row), with its length. */
static size_t raw_text(const char *sql, char *out, size_t n)
{
	MYSQL *c = raw_connect(srv.mydb);
	MYSQL_RES *res;
	MYSQL_ROW row;
	size_t len = 0;

	assert_non_null(c);
	if (mysql_query(c, sql) != 0)
		print_error("%s: %s\n", sql, mysql_error(c));
	assert_int_equal(mysql_errno(c), 0);
	res = mysql_store_result(c);
	assert_non_null(res);
	row = mysql_fetch_row(res);
	out[0] = '\0';
	if (row) {
		unsigned long *lens = mysql_fetch_lengths(res);
		len = row[0] ? lens[0] : 4;
		if (len >= n)
			len = n - 1;
		memcpy(out, row[0] ? row[0] : "NULL", len);
		out[len] = '\0';
	}
	mysql_free_result(res);
	mysql_close(c);
	return len;
}

__attribute__((format(printf, 3, 4)))
static void raw_textf(char *out, size_t n, const char *fmt, ...)
{
	char sql[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	raw_text(sql, out, n);
}

__attribute__((format(printf, 1, 2)))
static void raw_execf(const char *fmt, ...)
{
	char sql[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	raw_exec(sql);
}

static void make_uri(char *out, size_t n, const char *table)
{
	snprintf(out, n, "mysql://%s:%s@%s:%d/%s?table=%s", srv.user, srv.pass,
	         srv.host, srv.port, srv.mydb, table);
}

/* Group setup: parses JOBD_TEST_MYSQL and creates this process's database. */
static int group_setup(void **state)
{
	const char *url = getenv("JOBD_TEST_MYSQL");
	MYSQL *c;
	char sql[200];

	(void)state;
	if (!url || !*url) {
		print_message("JOBD_TEST_MYSQL is not set: skipping the MariaDB store "
		              "tests (scripts/mariadb.sh start prints a URL)\n");
		return 0;
	}
	if (sscanf(url, "mysql://%63[^:]:%63[^@]@%127[^:]:%d/%63[^?]", srv.user,
	           srv.pass, srv.host, &srv.port, srv.db) != 5) {
		print_error("JOBD_TEST_MYSQL '%s' is not mysql://USER:PASS@HOST:PORT/DB\n",
		            url);
		return -1;
	}
	snprintf(srv.mydb, sizeof(srv.mydb), "%s_%d", srv.db, (int)getpid());
	c = raw_connect(NULL);
	if (!c)
		return -1;
	snprintf(sql, sizeof(sql), "CREATE DATABASE IF NOT EXISTS `%s`", srv.mydb);
	if (mysql_query(c, sql) != 0) {
		print_error("%s: %s\n", sql, mysql_error(c));
		mysql_close(c);
		return -1;
	}
	mysql_close(c);
	srv.ok = 1;
	return 0;
}

static int group_teardown(void **state)
{
	MYSQL *c;
	char sql[200];

	(void)state;
	if (!srv.ok)
		return 0;
	c = raw_connect(NULL);
	if (!c)
		return -1;
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS `%s`", srv.mydb);
	mysql_query(c, sql);
	mysql_close(c);
	mysql_library_end();
	return 0;
}

static int fx_setup(void **state)
{
	struct fx *f;

	if (!srv.ok) {
		*state = NULL;
		return 0;
	}
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->table, sizeof(f->table), "t%d", ++table_seq);
	make_uri(f->uri, sizeof(f->uri), f->table);
	/* the shared tables start empty for each test */
	raw_exec("DROP TABLE IF EXISTS jobd_jobs, jobd_targets, jobd_kv, "
	         "jobd_leases");
	*state = f;
	return 0;
}

/* The fixture with a store opened on a fresh table. */
static int fx_setup_open(void **state)
{
	struct fx *f;

	fx_setup(state);
	f = *state;
	if (f && store_open(f->uri, &f->s, f->err, sizeof(f->err)) != 0) {
		print_error("store_open %s: %s\n", f->uri, f->err);
		return -1;
	}
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	if (!f)
		return 0;
	store_close(f->s);
	raw_execf("DROP TABLE IF EXISTS `%s`", f->table);
	free(f);
	return 0;
}

/* Every test starts with this: skips (counted as skipped) without a server. */
#define NEED_SERVER(f) do { \
		if (!(f)) { skip(); return; } \
	} while (0)

static void reopen(struct fx *f)
{
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(f->uri, &f->s, f->err, sizeof(f->err)), 0);
}

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

/* Every field set; output with NUL bytes and multi-byte UTF-8. */
static void full_run(struct run *r)
{
	static const char out[] = "line1\n\0binary\0 caf\xc3\xa9 \xe2\x82\xac end";
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
	r->uid = 4000000000u;
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

/* ---- opening ------------------------------------------------------------ */

static void test_open_fresh(void **state)
{
	struct fx *f = *state;
	char buf[512], want[600];

	NEED_SERVER(f);
	snprintf(want, sizeof(want), "mysql://%s@%s:%d/%s?table=%s", srv.user,
	         srv.host, srv.port, srv.mydb, f->table);
	assert_string_equal(store_describe(f->s), want);
	raw_textf(buf, sizeof(buf), "SELECT v FROM jobd_meta WHERE k = 'schema/%s'",
	          f->table);
	assert_string_equal(buf, "2");
	raw_text("SELECT GROUP_CONCAT(TABLE_NAME ORDER BY TABLE_NAME) FROM "
	         "information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND "
	         "TABLE_NAME LIKE 'jobd%'", buf, sizeof(buf));
	assert_string_equal(buf, "jobd_jobs,jobd_kv,jobd_leases,jobd_meta,"
	                    "jobd_targets");
	raw_textf(buf, sizeof(buf), "SELECT COUNT(*) FROM information_schema.COLUMNS "
	          "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '%s'", f->table);
	assert_string_equal(buf, "31");   /* 12 original + 19 of jobd */
	raw_textf(buf, sizeof(buf), "SELECT GROUP_CONCAT(DISTINCT INDEX_NAME ORDER "
	          "BY INDEX_NAME) FROM information_schema.STATISTICS WHERE "
	          "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '%s'", f->table);
	assert_string_equal(buf, "jobd_jid,jobd_job,jobd_time_finished,jobd_uid,"
	                    "PRIMARY,status_target_idx");
}

static void test_open_uris(void **state)
{
	struct fx *f = *state;
	struct store *s = (struct store *)0x1;
	char uri[1024];

	NEED_SERVER(f);
	/* ?table= is validated: it is spliced into SQL */
	snprintf(uri, sizeof(uri), "mysql://%s:%s@%s:%d/%s?table=a;drop", srv.user,
	         srv.pass, srv.host, srv.port, srv.mydb);
	assert_int_equal(store_open(uri, &s, f->err, sizeof(f->err)), -EINVAL);
	assert_null(s);
	assert_non_null(strstr(f->err, "table 'a;drop' is invalid"));
	snprintf(uri, sizeof(uri), "mysql://u@h:1/d?table=x&bogus=1");
	assert_int_equal(store_open(uri, &s, f->err, sizeof(f->err)), -EINVAL);
	assert_non_null(strstr(f->err, "'bogus=1'"));
	assert_int_equal(store_open("mysql://u:p@host:99999/d", &s, f->err,
	                            sizeof(f->err)), -EINVAL);
	assert_non_null(strstr(f->err, "port"));
	assert_int_equal(store_open("mysql://u:p@host:3306", &s, f->err,
	                            sizeof(f->err)), -EINVAL);
	assert_non_null(strstr(f->err, "no database"));
	assert_int_equal(store_open("mysql://u:p@:3306/d", &s, f->err,
	                            sizeof(f->err)), -EINVAL);
	assert_non_null(strstr(f->err, "no host"));

	/* a wrong password: -EIO, and the message names server and cause */
	snprintf(uri, sizeof(uri), "mysql://%s:wrong@%s:%d/%s", srv.user, srv.host,
	         srv.port, srv.mydb);
	assert_int_equal(store_open(uri, &s, f->err, sizeof(f->err)), -EIO);
	assert_null(s);
	assert_non_null(strstr(f->err, "cannot connect to MariaDB"));
	assert_non_null(strstr(f->err, "Access denied"));

	/* the port counts even for "localhost" (no silent default socket), and
	 * percent-encoded credentials and the mariadb: scheme work */
	snprintf(uri, sizeof(uri), "mariadb://%%%02x%s:%s@localhost:%d/%s?table=%s",
	         srv.user[0], srv.user + 1, srv.pass, srv.port, srv.mydb, f->table);
	assert_int_equal(store_open(uri, &s, f->err, sizeof(f->err)), 0);
	assert_non_null(strstr(store_describe(s), "@localhost:"));
	store_close(s);
	snprintf(uri, sizeof(uri), "mysql://%s:%s@localhost:1/%s", srv.user,
	         srv.pass, srv.mydb);
	assert_int_equal(store_open(uri, &s, f->err, sizeof(f->err)), -EIO);
	assert_non_null(strstr(f->err, "localhost:1"));
	/* a unix socket that does not exist is reported as such */
	snprintf(uri, sizeof(uri), "mysql://%s:%s@/%s?socket=/nonexistent/sock",
	         srv.user, srv.pass, srv.mydb);
	assert_int_equal(store_open(uri, &s, f->err, sizeof(f->err)), -EIO);
	assert_non_null(strstr(f->err, "socket=/nonexistent/sock"));
}

static void test_newer_schema_refused(void **state)
{
	struct fx *f = *state;
	struct store *s;

	NEED_SERVER(f);
	raw_execf("UPDATE jobd_meta SET v = '999' WHERE k = 'schema/%s'", f->table);
	assert_int_equal(store_open(f->uri, &s, f->err, sizeof(f->err)), -EPROTO);
	assert_null(s);
	assert_non_null(strstr(f->err, "schema version 999 of table"));
	raw_execf("UPDATE jobd_meta SET v = '2' WHERE k = 'schema/%s'", f->table);
}

static void test_reopen_keeps_data(void **state)
{
	struct fx *f = *state;
	struct run r;
	char *v = NULL;

	NEED_SERVER(f);
	insert(f->s, 1, "j", "default", RUN_WAITING);
	assert_int_equal(store_kv_put(f->s, "k", "v"), 0);
	reopen(f);
	reopen(f);
	assert_int_equal(store_run_get(f->s, "20240101000000000001", 0, &r), 0);
	assert_string_equal(r.job, "j");
	run_clear(&r);
	assert_int_equal(store_kv_get(f->s, "k", &v), 0);
	assert_string_equal(v, "v");
	free(v);
}

/* ---- runs --------------------------------------------------------------- */

static void test_run_roundtrip(void **state)
{
	struct fx *f = *state;
	struct run in, out;
	char buf[64];

	NEED_SERVER(f);
	full_run(&in);
	assert_int_equal(store_run_insert(f->s, &in), 0);
	assert_true(in.id > 0);
	assert_int_equal(store_run_get(f->s, in.jid, 1, &out), 0);
	assert_runs_equal(&in, &out, 1);
	run_clear(&out);
	assert_int_equal(store_run_get_id(f->s, in.id, 1, &out), 0);
	assert_runs_equal(&in, &out, 1);
	run_clear(&out);
	assert_int_equal(store_run_get(f->s, in.jid, 0, &out), 0);
	assert_runs_equal(&in, &out, 0);
	assert_null(out.out);
	assert_null(out.errout);
	run_clear(&out);

	/* the original's columns hold what its readers expect: seconds */
	raw_textf(buf, sizeof(buf), "SELECT CONCAT(time_created, ',', time_started, "
	          "',', time_finished, ',', return_code, ',', sig, ',', status, ',', "
	          "result) FROM `%s`", f->table);
	assert_string_equal(buf, "1704164645,1704164646,1704164650,137,SIGKILL,"
	                    "done,fail");
	reopen(f);
	assert_int_equal(store_run_get(f->s, in.jid, 1, &out), 0);
	assert_runs_equal(&in, &out, 1);
	run_clear(&out);

	/* big output (grows the fetch buffer) */
	free(in.out);
	in.out_len = 3u << 20;
	in.out = malloc(in.out_len);
	for (size_t i = 0; i < in.out_len; i++)
		in.out[i] = (char)('a' + i % 26);
	assert_int_equal(store_run_update(f->s, &in), 0);
	assert_int_equal(store_run_get(f->s, in.jid, 1, &out), 0);
	assert_runs_equal(&in, &out, 1);
	run_clear(&out);
	run_clear(&in);
}

static void test_run_output_utf8(void **state)
{
	struct fx *f = *state;
	struct run r, got;
	static const char bad[] = "ok\xff\xfe x \xc3 \xf0\x9f\x98\x80!";
	static const char fixed[] = "ok\xef\xbf\xbd\xef\xbf\xbd x \xef\xbf\xbd "
	                            "\xf0\x9f\x98\x80!";

	NEED_SERVER(f);
	make_run(&r, 1, "j", "t", RUN_DONE);
	r.out = malloc(sizeof(bad) - 1);
	memcpy(r.out, bad, sizeof(bad) - 1);
	r.out_len = sizeof(bad) - 1;
	assert_int_equal(store_run_insert(f->s, &r), 0);
	assert_int_equal(store_run_get(f->s, r.jid, 1, &got), 0);
	/* invalid bytes become U+FFFD; valid 4-byte UTF-8 stays (utf8mb4) */
	assert_int_equal(got.out_len, sizeof(fixed) - 1);
	assert_memory_equal(got.out, fixed, sizeof(fixed) - 1);
	run_clear(&got);
	run_clear(&r);
}

static void test_run_nulls(void **state)
{
	struct fx *f = *state;
	struct run in, out;
	char buf[256];

	NEED_SERVER(f);
	make_run(&in, 5, NULL, "q", RUN_WAITING);
	assert_int_equal(store_run_insert(f->s, &in), 0);
	raw_textf(buf, sizeof(buf), "SELECT CONCAT_WS(',', ISNULL(job), "
	          "ISNULL(action), ISNULL(result), ISNULL(return_code), ISNULL(sig), "
	          "ISNULL(pid), ISNULL(parent), ISNULL(stdout), ISNULL(stderr), "
	          "ISNULL(spec), ISNULL(`user`), ISNULL(worker), status, `trigger`) "
	          "FROM `%s`", f->table);
	assert_string_equal(buf, "1,1,1,1,1,1,1,1,1,1,1,1,waiting,schedule");
	assert_int_equal(store_run_get(f->s, in.jid, 1, &out), 0);
	assert_runs_equal(&in, &out, 1);
	assert_int_equal(out.return_code, -1);
	run_clear(&out);

	in.out = strdup("");
	in.out_len = 0;
	in.return_code = 300;   /* does not fit tinyint unsigned: none */
	assert_int_equal(store_run_update(f->s, &in), 0);
	assert_int_equal(store_run_get(f->s, in.jid, 1, &out), 0);
	assert_non_null(out.out);
	assert_int_equal(out.out_len, 0);
	assert_null(out.errout);
	assert_int_equal(out.return_code, -1);
	run_clear(&out);
	run_clear(&in);
}

static void test_run_update(void **state)
{
	struct fx *f = *state;
	struct run r, got;
	int64_t id;

	NEED_SERVER(f);
	make_run(&r, 1, "job", "default", RUN_WAITING);
	assert_int_equal(store_run_insert(f->s, &r), 0);
	id = r.id;
	r.status = RUN_RUNNING;
	r.time_started = 5555;
	r.pid = 99;
	r.pid_start = 123;
	r.user = strdup("root");
	r.worker = strdup("w2");
	assert_int_equal(store_run_update(f->s, &r), 0);
	/* an update that changes nothing still finds its row */
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
	r.spec = strdup("{}");
	assert_int_equal(store_run_update(f->s, &r), 0);
	assert_int_equal(store_run_get(f->s, r.jid, 1, &got), 0);
	assert_runs_equal(&r, &got, 1);
	assert_int_equal(got.return_code, 0);
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

	NEED_SERVER(f);
	assert_int_equal(store_run_get(f->s, "20990101000000000000", 0, &got), -ENOENT);
	assert_int_equal(store_run_get_id(f->s, 12345, 1, &got), -ENOENT);
	make_run(&r, 1, "j", "t", RUN_WAITING);
	assert_int_equal(store_run_insert(f->s, &r), 0);
	assert_int_equal(store_run_insert(f->s, &r), -EEXIST);
	assert_non_null(strstr(store_error(f->s), "Duplicate"));
	r.status = RUN_STATUS_COUNT;
	assert_int_equal(store_run_insert(f->s, &r), -EINVAL);
	assert_non_null(strstr(store_error(f->s), "status"));
	r.status = RUN_WAITING;
	r.trigger = 99;
	assert_int_equal(store_run_update(f->s, &r), -EINVAL);
	r.trigger = TRIG_API;
	free(r.target);
	r.target = NULL;
	strcpy(r.jid, "20240101000000000099");
	assert_int_equal(store_run_insert(f->s, &r), -EINVAL);
	assert_non_null(strstr(store_error(f->s), "target"));
	/* too long for the column: refused (strict mode), not cut */
	r.target = malloc(100);
	memset(r.target, 'x', 99);
	r.target[99] = '\0';
	assert_int_equal(store_run_insert(f->s, &r), -EINVAL);
	assert_non_null(strstr(store_error(f->s), "too long"));
	run_clear(&r);
}

static void test_run_max_jid(void **state)
{
	struct fx *f = *state;
	char jid[JID_LEN + 1] = "x";

	NEED_SERVER(f);
	assert_int_equal(store_run_max_jid(f->s, jid), 0);
	assert_string_equal(jid, "");
	insert(f->s, 7, "a", "t", RUN_WAITING);
	insert(f->s, 30, "a", "t", RUN_WAITING);
	insert(f->s, 12, "a", "t", RUN_WAITING);
	raw_execf("INSERT INTO `%s` (target, time_created) VALUES ('t', 1)", f->table);
	assert_int_equal(store_run_max_jid(f->s, jid), 0);
	assert_string_equal(jid, "20240101000000000030");
}

/* ---- run_list ----------------------------------------------------------- */

struct collect {
	char jids[64][JID_LEN + 1];
	int n;
	int stop_at;
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
		{ "a", "t1", RUN_WAITING, 1 },
		{ "a", "t1", RUN_RUNNING, 1 },
		{ "b", "t2", RUN_DONE, 2 },
		{ "b", "t1", RUN_MANUAL, 2 },
		{ NULL, "t2", RUN_ACCEPTED, 1 },
		{ "a", "t2", RUN_IGNORED, 3 },
		{ "a", "t1", RUN_DONE, 1 },
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

	NEED_SERVER(f);
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
	q.job = "A";              /* names are case-sensitive */
	assert_string_equal(list_ids(f->s, &q), "");
	q.job = NULL;
	q.target = "t2";
	assert_string_equal(list_ids(f->s, &q), "3,5,6");
	q.target = NULL;
	q.status = RUN_DONE;
	assert_string_equal(list_ids(f->s, &q), "3,7");
	q.status = RUN_WAITING;
	assert_string_equal(list_ids(f->s, &q), "1");
	q.status = -1;
	q.active = 1;
	assert_string_equal(list_ids(f->s, &q), "1,2,4,5");
	q.active = 0;
	q.since = 1005;
	assert_string_equal(list_ids(f->s, &q), "5,6,7");
	q.since = 0;
	q.by_uid = 1;
	q.uid = 2;
	assert_string_equal(list_ids(f->s, &q), "3,4");
	q.uid = 0;
	assert_string_equal(list_ids(f->s, &q), "");
	q.by_uid = 0;
	q.job = "a";
	q.target = "t1";
	q.active = 1;
	q.by_uid = 1;
	q.uid = 1;
	q.newest_first = 1;
	assert_string_equal(list_ids(f->s, &q), "2,1");

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
	struct last l;
	struct collect c = { .n = 0 };
	struct run r;

	NEED_SERVER(f);
	l = (struct last){ .s = f->s };
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

static int settle_cb(void *ctx, struct run *r)
{
	struct settle *st = ctx;
	struct run_query q = { .status = -1, .active = 1 };
	struct collect c = { .n = 0 };
	struct run copy = *r;

	st->n++;
	st->nested = store_run_list(st->s, &q, collect_cb, &c);
	st->nested_n = c.n;
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
	struct settle st = { .n = 0 };

	NEED_SERVER(f);
	st.s = f->s;
	seed_list(f->s);
	assert_int_equal(store_run_list(f->s, &q, settle_cb, &st), 0);
	assert_int_equal(st.n, 4);
	/* store.h: the same shape nests; the last callback saw only its own
	 * run still active */
	assert_int_equal(st.nested, 0);
	assert_int_equal(st.nested_n, 1);
	assert_string_equal(list_ids(f->s, &q), "");
	q.active = 0;
	q.status = RUN_DONE;
	assert_string_equal(list_ids(f->s, &q), "1,2,3,4,5,7");
}

static void test_run_sweep(void **state)
{
	struct fx *f = *state;
	struct run_query q = { .status = -1 };
	struct collect c = { .n = 0 };
	int n = 0;

	NEED_SERVER(f);
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
	assert_int_equal(store_run_sweep(f->s, 1000, 100), 5);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_run_list(f->s, &q, collect_cb, &c), 0);
	assert_string_equal(c.jids[0], "20240101000000000036");
	assert_int_equal(c.n, 5);

	/* a row finished the original way (seconds): swept by its seconds */
	raw_execf("INSERT INTO `%s` (target, time_created, time_finished, status) "
	          "VALUES ('t', 1700000000, 1700000100, 'done')", f->table);
	assert_int_equal(store_run_sweep(f->s, 1700000100LL * US_PER_S, 10), 0);
	assert_int_equal(store_run_sweep(f->s, 1700000100LL * US_PER_S + 1, 10), 1);
}

static void test_transactions(void **state)
{
	struct fx *f = *state;
	struct run r;

	NEED_SERVER(f);
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

/* ---- targets, kv, jobs -------------------------------------------------- */

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

	NEED_SERVER(f);
	assert_int_equal(store_target_each(f->s, target_cb, &t), 0);
	assert_string_equal(t.buf, "");
	assert_int_equal(store_target_put(f->s, "zeta", 2, 0), 0);
	assert_int_equal(store_target_put(f->s, "alpha", 1, 1), 0);
	assert_int_equal(store_target_put(f->s, "zeta", 5, 1), 0);
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

	NEED_SERVER(f);
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

	NEED_SERVER(f);
	char *v = NULL;
	long long seq0 = store_kv_get(f->s, STORE_UPDATE_SEQ, &v) == 0 ?
	                 atoll(v) : 0;
	free(v);
	assert_int_equal(store_job_put(f->s, "web", "{\"v\":1}"), 0);
	assert_int_equal(store_job_put(f->s, "db", "{}"), 0);
	assert_int_equal(store_job_put(f->s, "Web", "{}"), 0);   /* not "web" */
	raw_text("SELECT updated FROM jobd_jobs WHERE name='web'", buf, sizeof(buf));
	t1 = atoll(buf);
	usleep(2000);
	assert_int_equal(store_job_put(f->s, "web", "{\"v\":2}"), 0);
	raw_text("SELECT updated FROM jobd_jobs WHERE name='web'", buf, sizeof(buf));
	t2 = atoll(buf);
	assert_true(t1 > 1600000000LL * 1000000);
	assert_true(t2 > t1);
	assert_int_equal(store_job_del(f->s, "Web"), 0);
	assert_int_equal(store_job_each(f->s, job_cb, &j), 0);
	assert_string_equal(j.buf, "db:{};web:{\"v\":2};");
	assert_int_equal(store_job_put(f->s, "stop", "{}"), 0);
	memset(&j, 0, sizeof(j));
	assert_int_equal(store_job_each(f->s, job_cb, &j), -EINTR);
	assert_string_equal(j.buf, "db:{};stop:{};");
	assert_int_equal(store_job_del(f->s, "db"), 0);
	assert_int_equal(store_job_del(f->s, "db"), -ENOENT);
	/* five puts and two deletes; the failed delete does not count */
	assert_int_equal(store_kv_get(f->s, STORE_UPDATE_SEQ, &v), 0);
	assert_int_equal(atoll(v), seq0 + 7);
	free(v);
}

/* ---- the original's table and its rows --------------------------------- */

/* The seed's CREATE TABLE, with an application column. */
#define ORIGINAL_TABLE \
	"CREATE TABLE `%s` (" \
	"`id` int(10) UNSIGNED NOT NULL AUTO_INCREMENT," \
	"`target` char(16) NOT NULL," \
	"`slot` char(16) DEFAULT NULL," \
	"`time_created` int(10) UNSIGNED NOT NULL," \
	"`time_started` int(10) UNSIGNED NOT NULL DEFAULT 0," \
	"`time_finished` int(10) UNSIGNED NOT NULL DEFAULT 0," \
	"`status` enum('waiting','manual','accepted','running','done','ignored') " \
	"NOT NULL DEFAULT 'waiting'," \
	"`result` enum('ok','fail') DEFAULT NULL," \
	"`return_code` tinyint(3) UNSIGNED DEFAULT NULL," \
	"`sig` char(10) DEFAULT NULL," \
	"`stdout` mediumtext DEFAULT NULL," \
	"`stderr` mediumtext DEFAULT NULL," \
	"`job_name` varchar(64) DEFAULT NULL," \
	"PRIMARY KEY (`id`)," \
	"KEY `status_target_idx` (`status`, `target`, `id`)" \
	") ENGINE=InnoDB DEFAULT CHARSET=utf8"

/* The definitions of the original's columns and the app's, one string. */
static void column_defs(const char *table, char *out, size_t n)
{
	raw_textf(out, n, "SELECT GROUP_CONCAT(CONCAT_WS(' ', COLUMN_NAME, "
	          "COLUMN_TYPE, IS_NULLABLE, IFNULL(COLUMN_DEFAULT, '-'), "
	          "IFNULL(CHARACTER_SET_NAME, '-'), EXTRA) ORDER BY ORDINAL_POSITION "
	          "SEPARATOR '|') FROM information_schema.COLUMNS WHERE "
	          "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '%s' AND ORDINAL_POSITION "
	          "<= 13", table);
}

static void test_original_table_migrated(void **state)
{
	struct fx *f = *state;
	char before[4096], after[4096], buf[256];
	struct run r;

	NEED_SERVER(f);
	raw_execf(ORIGINAL_TABLE, f->table);
	raw_execf("INSERT INTO `%s` (target, time_created, status, result, "
	          "return_code, stdout, job_name) VALUES ('default', 1700000000, "
	          "'done', 'ok', 0, 'old output', 'send_mail')", f->table);
	column_defs(f->table, before, sizeof(before));
	assert_non_null(strstr(before, "job_name varchar(64) YES"));
	assert_non_null(strstr(before, "target char(16) NO"));
	assert_int_equal(store_open(f->uri, &f->s, f->err, sizeof(f->err)), 0);
	column_defs(f->table, after, sizeof(after));
	assert_string_equal(before, after);
	raw_textf(buf, sizeof(buf), "SELECT CONCAT_WS(',', job_name, time_created, "
	          "stdout, return_code) FROM `%s`", f->table);
	assert_string_equal(buf, "send_mail,1700000000,old output,0");
	/* a jobd run fits in it and reads back; output on a utf8 (3-byte)
	 * column loses 4-byte characters to U+FFFD instead of failing */
	make_run(&r, 1, "j", "default", RUN_DONE);
	r.out = strdup("smile \xf0\x9f\x98\x80.");
	r.out_len = strlen(r.out);
	assert_int_equal(store_run_insert(f->s, &r), 0);
	run_clear(&r);
	assert_int_equal(store_run_get(f->s, "20240101000000000001", 1, &r), 0);
	assert_string_equal(r.out, "smile \xef\xbf\xbd.");
	assert_string_equal(r.target, "default");
	run_clear(&r);
	/* opening again migrates nothing */
	reopen(f);
	column_defs(f->table, after, sizeof(after));
	assert_string_equal(before, after);
	raw_textf(buf, sizeof(buf), "SELECT COUNT(*) FROM `%s`", f->table);
	assert_string_equal(buf, "2");
	/* a target the char(16) cannot hold is refused, not cut */
	make_run(&r, 2, "j", "a_target_name_of_20", RUN_WAITING);
	assert_int_equal(store_run_insert(f->s, &r), -EINVAL);
	run_clear(&r);
}

/* A row the original way: status waiting, seconds, no jid. */
static int64_t insert_foreign(const char *table, const char *status)
{
	char buf[32];

	raw_execf("INSERT INTO `%s` (target, status, time_created) VALUES "
	          "('t', '%s', 1700000000)", table, status);
	raw_textf(buf, sizeof(buf), "SELECT MAX(id) FROM `%s`", table);
	return atoll(buf);
}

static void test_foreign_row_claim(void **state)
{
	struct fx *f = *state;
	struct store *other;
	struct run r;
	char buf[200];
	int64_t w1, w2, m1;

	NEED_SERVER(f);
	raw_execf(ORIGINAL_TABLE, f->table);
	assert_int_equal(store_open(f->uri, &f->s, f->err, sizeof(f->err)), 0);
	w1 = insert_foreign(f->table, "waiting");
	w2 = insert_foreign(f->table, "waiting");
	m1 = insert_foreign(f->table, "manual");

	assert_int_equal(store_run_get_id(f->s, w1, 1, &r), 0);
	assert_string_equal(r.jid, "");
	assert_int_equal(r.status, RUN_WAITING);
	assert_int_equal(r.time_created, 1700000000LL * US_PER_S);
	assert_int_equal(r.time_started, 0);
	assert_int_equal(r.trigger, TRIG_API);
	assert_int_equal(r.attempt, 1);
	assert_int_equal(r.return_code, -1);
	assert_int_equal(r.result, RESULT_NONE);
	assert_string_equal(r.target, "t");
	assert_null(r.spec);
	assert_null(r.out);
	run_clear(&r);

	assert_int_equal(store_run_claim(f->s, w1, RUN_MANUAL, "w", "20240101000000000001"),
	                 -EBUSY);
	assert_non_null(strstr(store_error(f->s), "waiting != manual"));
	assert_int_equal(store_run_claim(f->s, m1, RUN_WAITING, "w", "20240101000000000001"),
	                 -EBUSY);
	raw_textf(buf, sizeof(buf), "SELECT CONCAT(IFNULL(jid, 'NULL'), status) FROM "
	          "`%s` WHERE id = %lld", f->table, (long long)w1);
	assert_string_equal(buf, "NULLwaiting");

	assert_int_equal(store_run_claim(f->s, w1, RUN_WAITING, "w1", "20240101000000000001"), 0);
	assert_int_equal(store_run_get(f->s, "20240101000000000001", 0, &r), 0);
	assert_int_equal(r.id, w1);
	assert_int_equal(r.status, RUN_ACCEPTED);
	assert_string_equal(r.worker, "w1");
	/* the engine then runs it: running, done, written with seconds too */
	r.status = RUN_RUNNING;
	r.time_started = 1700000005250000LL;
	assert_int_equal(store_run_update(f->s, &r), 0);
	r.status = RUN_DONE;
	r.result = RESULT_OK;
	r.return_code = 0;
	r.time_finished = 1700000006750000LL;
	assert_int_equal(store_run_update(f->s, &r), 0);
	run_clear(&r);
	raw_textf(buf, sizeof(buf), "SELECT CONCAT_WS(',', status, result, "
	          "return_code, time_created, time_started, time_finished) FROM `%s` "
	          "WHERE id = %lld", f->table, (long long)w1);
	assert_string_equal(buf, "done,ok,0,1700000000,1700000005,1700000006");
	assert_int_equal(store_run_get_id(f->s, w1, 0, &r), 0);
	assert_int_equal(r.time_started, 1700000005250000LL);   /* us kept */
	run_clear(&r);
	/* another program changes a seconds column: its value wins */
	raw_execf("UPDATE `%s` SET time_started = 1700000009 WHERE id = %lld",
	          f->table, (long long)w1);
	assert_int_equal(store_run_get_id(f->s, w1, 0, &r), 0);
	assert_int_equal(r.time_started, 1700000009LL * US_PER_S);
	run_clear(&r);

	assert_int_equal(store_run_claim(f->s, w1, RUN_WAITING, "w2", "20240101000000000009"),
	                 -EBUSY);
	assert_int_equal(store_run_claim(f->s, 9999, RUN_WAITING, "w", "20240101000000000002"),
	                 -ENOENT);
	assert_int_equal(store_run_claim(f->s, w2, RUN_WAITING, "w", "20240101000000000001"),
	                 -EEXIST);

	/* two connections: one claim wins */
	assert_int_equal(store_open(f->uri, &other, f->err, sizeof(f->err)), 0);
	assert_int_equal(store_run_claim(other, m1, RUN_MANUAL, "b", "20240101000000000004"), 0);
	assert_int_equal(store_run_claim(f->s, m1, RUN_MANUAL, "a", "20240101000000000005"),
	                 -EBUSY);
	/* inside a transaction the row stays locked until commit; the loser
	 * then sees it taken */
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_run_claim(f->s, w2, RUN_WAITING, "a", "20240101000000000006"), 0);
	assert_int_equal(store_rollback(f->s), 0);
	assert_int_equal(store_run_claim(other, w2, RUN_WAITING, "b", "20240101000000000007"), 0);
	assert_int_equal(store_run_claim(f->s, w2, RUN_WAITING, "a", "20240101000000000008"),
	                 -EBUSY);
	store_close(other);
	assert_int_equal(store_run_claim(f->s, w2, 99, "w", "20240101000000000007"), -EINVAL);
	assert_int_equal(store_run_claim(f->s, w2, RUN_WAITING, "w", ""), -EINVAL);
}

/* Two processes race to claim the same 200 rows: each row goes to exactly
 * one of them. */
#define RACE_ROWS 200

static void race_child(const char *uri, int who, int wfd, int go)
{
	struct store *s;
	char err[256], jid[JID_LEN + 1], w[8], c;

	if (store_open(uri, &s, err, sizeof(err)) < 0)
		_exit(2);
	if (read(go, &c, 1) < 0)     /* both start together: EOF */
		_exit(5);
	snprintf(w, sizeof(w), "w%d", who);
	/* one from each end: they meet, and then fight, in the middle */
	for (int k = 1; k <= RACE_ROWS; k++) {
		int id = who == 1 ? k : RACE_ROWS + 1 - k;

		jid_of(jid, who * 1000 + id);
		int rc = store_run_claim(s, id, RUN_WAITING, w, jid);
		if (rc == 0 && write(wfd, &id, sizeof(id)) != sizeof(id))
			_exit(4);
		if (rc < 0 && rc != -EBUSY)
			_exit(3);
	}
	store_close(s);
	_exit(0);
}

static void test_claim_race(void **state)
{
	struct fx *f = *state;
	int fds[2][2], go[2], status, id, got[2] = {0, 0};
	static int owner[RACE_ROWS + 1];
	char buf[64];
	pid_t pid[2];

	NEED_SERVER(f);
	for (int i = 0; i < RACE_ROWS; i += 50) {
		char sql[8192];
		size_t n = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO `%s` "
		                            "(target, time_created) VALUES ", f->table);
		for (int k = 0; k < 50; k++)
			n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s('t', %d)",
			                      k ? "," : "", 1700000000 + i + k);
		raw_exec(sql);
	}
	memset(owner, 0, sizeof(owner));
	assert_int_equal(pipe(go), 0);
	for (int w = 0; w < 2; w++) {
		assert_int_equal(pipe(fds[w]), 0);
		pid[w] = fork();
		assert_true(pid[w] >= 0);
		if (pid[w] == 0) {
			close(fds[w][0]);
			close(go[1]);
			race_child(f->uri, w + 1, fds[w][1], go[0]);
		}
		close(fds[w][1]);
	}
	usleep(200000);    /* both connected */
	close(go[1]);
	close(go[0]);
	for (int w = 0; w < 2; w++) {
		while (read(fds[w][0], &id, sizeof(id)) == sizeof(id)) {
			assert_true(id >= 1 && id <= RACE_ROWS);
			assert_int_equal(owner[id], 0);   /* never claimed twice */
			owner[id] = w + 1;
			got[w]++;
		}
		close(fds[w][0]);
		assert_int_equal(waitpid(pid[w], &status, 0), pid[w]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	print_message("claim race: %d + %d of %d rows\n", got[0], got[1], RACE_ROWS);
	assert_int_equal(got[0] + got[1], RACE_ROWS);
	raw_textf(buf, sizeof(buf), "SELECT CONCAT(COUNT(*), ',', COUNT(DISTINCT "
	          "jid)) FROM `%s` WHERE status = 'accepted'", f->table);
	assert_string_equal(buf, "200,200");
}

/* ---- lost connections ---------------------------------------------------- */

/* Kills the server connections using database `db` but the killer's. */
static void kill_store_connections_of(const char *db)
{
	char buf[64];

	raw_textf(buf, sizeof(buf), "SELECT GROUP_CONCAT(ID) FROM "
	          "information_schema.PROCESSLIST WHERE DB = '%s' AND ID <> "
	          "CONNECTION_ID()", db);
	assert_true(buf[0] != '\0' && strcmp(buf, "NULL") != 0);
	MYSQL *c = raw_connect(srv.mydb);
	assert_non_null(c);
	for (char *p = strtok(buf, ","); p; p = strtok(NULL, ",")) {
		char sql[64];
		snprintf(sql, sizeof sql, "KILL %s", p);
		/* a connection that closed since the listing is fine (1094) */
		if (mysql_query(c, sql) != 0 && mysql_errno(c) != 1094)
			fail_msg("%s: %s", sql, mysql_error(c));
	}
	mysql_close(c);
}

/* Kills the store's server connection(s) from another connection. */
static void kill_store_connections(void)
{
	kill_store_connections_of(srv.mydb);
}

static void test_reconnect(void **state)
{
	struct fx *f = *state;
	struct run r;
	char *v = NULL;

	NEED_SERVER(f);
	insert(f->s, 1, "j", "t", RUN_WAITING);
	/* between statements: reconnects, re-prepares, retries */
	kill_store_connections();
	assert_int_equal(store_run_get(f->s, "20240101000000000001", 0, &r), 0);
	run_clear(&r);
	kill_store_connections();
	insert(f->s, 2, "j", "t", RUN_WAITING);   /* a write retried */
	kill_store_connections();
	assert_int_equal(store_kv_put(f->s, "k", "v"), 0);

	/* in a transaction: the server rolled it back, so the call fails, the
	 * commit fails, the rollback succeeds and the store works again */
	assert_int_equal(store_begin(f->s), 0);
	insert(f->s, 3, "j", "t", RUN_WAITING);
	kill_store_connections();
	make_run(&r, 4, "j", "t", RUN_WAITING);
	assert_int_equal(store_run_insert(f->s, &r), -EIO);
	assert_non_null(strstr(store_error(f->s), "rolled it back"));
	assert_int_equal(store_kv_put(f->s, "k", "w"), -EIO);
	assert_int_equal(store_commit(f->s), -EIO);
	assert_int_equal(store_rollback(f->s), 0);
	assert_int_equal(store_run_get(f->s, "20240101000000000003", 0, &r), -ENOENT);
	assert_int_equal(store_kv_get(f->s, "k", &v), 0);
	assert_string_equal(v, "v");
	free(v);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_run_insert(f->s, &r), 0);
	assert_int_equal(store_commit(f->s), 0);
	run_clear(&r);
}

static void test_unreachable_reconnect(void **state)
{
	struct fx *f = *state;
	struct store *s;
	char uri[1024], db[128], *v = NULL;
	MYSQL *c;

	NEED_SERVER(f);
	/* open needs the server; the error names where it looked */
	snprintf(uri, sizeof(uri), "mysql://%s:%s@127.0.0.1:1/%s", srv.user,
	         srv.pass, srv.mydb);
	assert_int_equal(store_open(uri, &s, f->err, sizeof(f->err)), -EIO);
	assert_non_null(strstr(f->err, "127.0.0.1:1"));

	/* a store whose database vanishes: each call tries to reconnect (the
	 * back-off is the store thread's, engine/storeq.c) */
	snprintf(db, sizeof(db), "%s_b", srv.mydb);
	c = raw_connect(NULL);
	assert_non_null(c);
	snprintf(uri, sizeof(uri), "CREATE DATABASE `%s`", db);
	assert_int_equal(mysql_query(c, uri), 0);
	snprintf(uri, sizeof(uri), "mysql://%s:%s@%s:%d/%s", srv.user, srv.pass,
	         srv.host, srv.port, db);
	assert_int_equal(store_open(uri, &s, f->err, sizeof(f->err)), 0);
	assert_int_equal(store_kv_put(s, "k", "v"), 0);
	snprintf(uri, sizeof(uri), "DROP DATABASE `%s`", db);
	assert_int_equal(mysql_query(c, uri), 0);
	kill_store_connections_of(db);
	assert_int_equal(store_kv_get(s, "k", &v), -EIO);
	assert_non_null(strstr(store_error(s), "Unknown database"));
	assert_int_equal(store_kv_get(s, "k", &v), -EIO);     /* tried again */
	assert_non_null(strstr(store_error(s), "Unknown database"));
	assert_int_equal(store_unavailable(s), 1);
	snprintf(uri, sizeof(uri), "CREATE DATABASE `%s`", db);
	assert_int_equal(mysql_query(c, uri), 0);
	/* the next call connects again, with no window to wait out: now it
	 * is the table that is missing */
	assert_int_equal(store_kv_get(s, "k", &v), -EIO);
	assert_non_null(strstr(store_error(s), "doesn't exist"));
	store_close(s);
	snprintf(uri, sizeof(uri), "DROP DATABASE `%s`", db);
	assert_int_equal(mysql_query(c, uri), 0);
	mysql_close(c);
}

/* ---- throughput ---------------------------------------------------------- */

static double secs(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* insert + update (running) + update (done) per run: autocommit, and in
 * transactions of 100 runs (what the engine's group commit does). */
static void test_throughput(void **state)
{
	struct fx *f = *state;
	struct timespec t0, t1;
	int n = 300;

	NEED_SERVER(f);
	for (int batch = 0; batch < 2; batch++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int i = 0; i < n; i++) {
			struct run r;

			if (batch && i % 100 == 0)
				assert_int_equal(store_begin(f->s), 0);
			make_run(&r, batch * 100000 + i, "bench", "t", RUN_WAITING);
			assert_int_equal(store_run_insert(f->s, &r), 0);
			r.status = RUN_RUNNING;
			r.pid = 100 + i;
			r.time_started = 2000 + i;
			assert_int_equal(store_run_update(f->s, &r), 0);
			r.status = RUN_DONE;
			r.result = RESULT_OK;
			r.return_code = 0;
			r.out = strdup("output line\n");
			r.out_len = 12;
			r.time_finished = 3000 + i;
			assert_int_equal(store_run_update(f->s, &r), 0);
			run_clear(&r);
			if (batch && i % 100 == 99)
				assert_int_equal(store_commit(f->s), 0);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		print_message("mysql store, %s: %d runs x 3 statements in %.3f s = "
		              "%.0f statements/s\n",
		              batch ? "transactions of 100 runs" : "autocommit", n,
		              secs(&t0, &t1), 3 * n / secs(&t0, &t1));
	}
}

/* ---- leases (placement = one) ------------------------------------------ */

/* Two daemons, each with its own connection. */
static void test_lease(void **state)
{
	struct fx *f = *state;
	struct store *b;

	NEED_SERVER(f);
	assert_int_equal(store_open(f->uri, &b, f->err, sizeof(f->err)), 0);
	lease_contract(f->s, b);      /* store_lease_cases.h */
	store_close(b);
}

/* Two processes race for one lease and its fire times, each step in a
 * transaction as the store thread does: every fire time once. */
static void test_lease_race(void **state)
{
	struct fx *f = *state;

	NEED_SERVER(f);
	lease_race(f->uri, 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup_open, fx_teardown)
#define TC(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
		T(test_open_fresh),
		T(test_open_uris),
		T(test_newer_schema_refused),
		T(test_reopen_keeps_data),
		T(test_run_roundtrip),
		T(test_run_output_utf8),
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
		TC(test_original_table_migrated),
		TC(test_foreign_row_claim),
		T(test_claim_race),
		T(test_lease),
		T(test_lease_race),
		T(test_reconnect),
		T(test_unreachable_reconnect),
		T(test_throughput),
#undef T
#undef TC
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
