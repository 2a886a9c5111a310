/* test_config.c — the daemon config: every key with good and bad values,
 * defaults, [targets], errors naming file and line, the INI reader's
 * handling of comments, continuations and long lines. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "jobd.h"
#include "engine/config.h"
#include "engine/log.h"

static char dir[PATH_MAX];    /* realpath of a fresh temporary directory */
static char path[PATH_MAX + 16];   /* dir/jobd.conf */
static char err[PATH_MAX + 1024];

static int setup(void **state)
{
	char tmpl[] = "/tmp/test_config.XXXXXX";

	(void)state;
	if (!mkdtemp(tmpl) || !realpath(tmpl, dir))
		return -1;
	snprintf(path, sizeof(path), "%s/jobd.conf", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Loads `text`; returns the rc, the config in *c when 0. */
static int load(const char *text, struct config *c)
{
	write_file(text);
	err[0] = '\0';
	return config_load(path, c, err, sizeof(err));
}

/* Asserts that `text` fails with "PATH:<msg>". */
static void load_fails(const char *text, const char *msg)
{
	struct config c;
	char want[sizeof(err)];

	assert_int_equal(load(text, &c), -EINVAL);
	snprintf(want, sizeof(want), "%s:%s", path, msg);
	assert_string_equal(err, want);
}

static void test_defaults_from_file(void **state)
{
	struct config c;
	char want[sizeof(path)], host[256] = "";

	(void)state;
	assert_int_equal(load("; nothing but comments\n# here\n\n", &c), 0);
	assert_string_equal(c.path, path);
	assert_string_equal(c.state_dir, "var");
	assert_string_equal(c.socket, "var/jobd.sock");
	assert_null(c.socket_group);
	assert_string_equal(c.store, "sqlite:var/jobd.db");
	snprintf(want, sizeof(want), "%s/jobs.d", dir);
	assert_string_equal(c.jobs_dir, want);
	assert_string_equal(c.timezone, "UTC");
	assert_int_equal(c.log_level, LOG_INFO);
	assert_int_equal(c.output_cap, 1048576);
	assert_int_equal(c.keep_runs, 24 * 3600 * US_PER_S);
	assert_int_equal(c.shutdown_grace, 30 * US_PER_S);
	assert_int_equal(c.orphans_adopt, 0);
	assert_int_equal(c.port, 0);
	assert_int_equal(c.always_allow_localhost, 0);
	assert_string_equal(c.role, "worker");
	gethostname(host, sizeof(host) - 1);
	assert_string_equal(c.name, host);
	assert_int_equal(c.ping_interval, 30 * US_PER_S);
	assert_int_equal(c.poke_throttle_interval, US_PER_S / 2);
	assert_int_equal(c.master_reconnect_timeout, 10 * US_PER_S);
	assert_int_equal(c.mysql_fetch_limit, 100);
	assert_int_equal(c.n_targets, 0);
	assert_int_equal(c.n_launcher_env, 0);
	assert_null(c.master_host);
	config_free(&c);
	assert_null(c.state_dir);
}

static void test_defaults_no_file(void **state)
{
	struct config c;

	(void)state;
	config_defaults(&c);
	assert_null(c.path);
	assert_null(c.jobs_dir);
	assert_string_equal(c.state_dir, "var");
	assert_string_equal(c.socket, "var/jobd.sock");
	assert_string_equal(c.store, "sqlite:var/jobd.db");
	assert_string_equal(c.timezone, "UTC");
	assert_int_equal(c.output_cap, 1 << 20);
	config_free(&c);
}

static void test_derived_from_state_dir(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load("state_dir = /srv/jobd\n", &c), 0);
	assert_string_equal(c.socket, "/srv/jobd/jobd.sock");
	assert_string_equal(c.store, "sqlite:/srv/jobd/jobd.db");
	config_free(&c);
}

static const char all_keys[] =
	"state_dir = /st\n"
	"socket = /run/jobd.sock\n"
	"socket_group = ops\n"
	"log_level = debug\n"
	"store = sqlite:/db/x.db\n"
	"jobs_dir = /etc/jobd/jobs.d\n"
	"timezone = Europe/Berlin\n"
	"output_cap = 512k\n"
	"keep_runs = 7d\n"
	"shutdown_grace = 5s\n"
	"orphans = adopt\n"
	"host = 0.0.0.0\n"
	"port = 7080\n"
	"password = secret\n"
	"always_allow_localhost = yes\n"
	"name = w1\n"
	"labels = ssd,big\n"
	"launcher = /usr/bin/launch\n"
	"launcher.cwd = /tmp\n"
	"launcher.env.PATH = /bin:/usr/bin\n"
	"launcher.env.lower_case = x = y\n"
	"mysql_host = db\n"
	"mysql_port = 3307\n"
	"mysql_user = u\n"
	"mysql_password = p\n"
	"mysql_database = q\n"
	"mysql_table = jobs\n"
	"mysql_fetch_limit = 50\n"
	"max_output_buffer = 1MiB\n"
	"log_file = /var/log/queue.log\n"
	"log_level_file = debug\n"
	"\n[targets]\n"
	"default = 2\n"
	"heavy.io = 10000\n";

/* Keys of faces not built yet are refused, naming the key and the face
 * (their values still parse, so a bad one is reported as such). */
static void test_planned_keys(void **state)
{
	static const char *const lines[] = {
		"role = master\n", "master_host = m.example\n",
		"master_port = 7181\n", "ping_interval = 15\n",
		"poke_throttle_interval = 250ms\n",
		"master_reconnect_timeout = 1m\n",
		"http_listen = 127.0.0.1:8080\n", "http_token = tokh\n",
	};
	struct config c;

	(void)state;
	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
		char key[64];
		assert_int_equal(load(lines[i], &c), -ENOTSUP);
		snprintf(key, sizeof key, "%.*s", (int)strcspn(lines[i], " "),
		         lines[i]);
		assert_non_null(strstr(err, key));
		assert_non_null(strstr(err, "not built yet"));
	}
	load_fails("role = boss\n", "1: invalid value for role: 'boss' (worker or master)");
}

/* The 9P keys are built: they load, and a bad address is named. */
static void test_ninep_keys(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load("ninep_listen = 127.0.0.1:5640\n"
	                      "ninep_token = tok9\n"
	                      "ninep_socket = /run/jobd.9p\n", &c), 0);
	assert_string_equal(c.ninep_listen, "127.0.0.1:5640");
	assert_string_equal(c.ninep_token, "tok9");
	assert_string_equal(c.ninep_socket, "/run/jobd.9p");
	config_free(&c);
	assert_int_equal(load("ninep_listen = 5640\n", &c), -EINVAL);
	assert_non_null(strstr(err, "ninep_listen: want HOST:PORT"));
	assert_int_equal(load("ninep_listen = [::1]:99999\n", &c), -EINVAL);
	assert_non_null(strstr(err, "ninep_listen: want HOST:PORT"));
}

static void test_every_key(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load(all_keys, &c), 0);
	assert_string_equal(c.state_dir, "/st");
	assert_string_equal(c.socket, "/run/jobd.sock");
	assert_string_equal(c.socket_group, "ops");
	assert_int_equal(c.log_level, LOG_DEBUG);
	assert_string_equal(c.store, "sqlite:/db/x.db");
	assert_string_equal(c.jobs_dir, "/etc/jobd/jobs.d");
	assert_string_equal(c.timezone, "Europe/Berlin");
	assert_int_equal(c.output_cap, 512 * 1024);
	assert_int_equal(c.keep_runs, 7 * 86400 * US_PER_S);
	assert_int_equal(c.shutdown_grace, 5 * US_PER_S);
	assert_int_equal(c.orphans_adopt, 1);
	assert_string_equal(c.host, "0.0.0.0");
	assert_int_equal(c.port, 7080);
	assert_string_equal(c.password, "secret");
	assert_int_equal(c.always_allow_localhost, 1);
	assert_string_equal(c.name, "w1");
	assert_string_equal(c.labels, "ssd,big");
	assert_string_equal(c.role, "worker");
	assert_string_equal(c.launcher, "/usr/bin/launch");
	assert_string_equal(c.launcher_cwd, "/tmp");
	assert_int_equal(c.n_launcher_env, 2);
	assert_string_equal(c.launcher_env[0].name, "PATH");
	assert_string_equal(c.launcher_env[0].value, "/bin:/usr/bin");
	assert_string_equal(c.launcher_env[1].name, "lower_case");
	assert_string_equal(c.launcher_env[1].value, "x = y");
	assert_string_equal(c.mysql_host, "db");
	assert_int_equal(c.mysql_port, 3307);
	assert_string_equal(c.mysql_user, "u");
	assert_string_equal(c.mysql_password, "p");
	assert_string_equal(c.mysql_database, "q");
	assert_string_equal(c.mysql_table, "jobs");
	assert_int_equal(c.mysql_fetch_limit, 50);
	assert_int_equal(c.max_output_buffer, 1 << 20);
	assert_int_equal(c.n_targets, 2);
	assert_string_equal(c.targets[0].name, "default");
	assert_int_equal(c.targets[0].concurrency, 2);
	assert_string_equal(c.targets[1].name, "heavy.io");
	assert_int_equal(c.targets[1].concurrency, 10000);
	config_free(&c);
}

static void test_compat_keys(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load("log_level_console = error\nlog_file = x\n"
	                      "log_level_file = nonsense\n", &c), 0);
	assert_int_equal(c.log_level, LOG_ERROR);
	config_free(&c);
	/* max_output_buffer caps output unless output_cap says otherwise. */
	assert_int_equal(load("max_output_buffer = 64k\n", &c), 0);
	assert_int_equal(c.output_cap, 65536);
	config_free(&c);
	assert_int_equal(load("max_output_buffer = 64k\noutput_cap = 2M\n", &c), 0);
	assert_int_equal(c.output_cap, 2 << 20);
	config_free(&c);
}

static void test_mysql_store(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load("mysql_host = db\nmysql_port = 3307\nmysql_user = u\n"
	                      "mysql_password = p@ss:w/d\nmysql_database = q\n"
	                      "mysql_table = queue\n", &c), 0);
	assert_string_equal(c.store, "mysql://u:p%40ss%3Aw%2Fd@db:3307/q?table=queue");
	config_free(&c);
	/* An explicit store wins over the mysql_* keys. */
	assert_int_equal(load("store = sqlite:/x.db\nmysql_host = db\n", &c), 0);
	assert_string_equal(c.store, "sqlite:/x.db");
	config_free(&c);
}

static void test_role_ports(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load("role = worker\n", &c), 0);
	assert_int_equal(c.port, 0);
	config_free(&c);
}

static void test_bools(void **state)
{
	static const char *const t[] = { "true", "YES", "on", "1", "True" };
	static const char *const f[] = { "false", "no", "OFF", "0" };
	char text[128];
	struct config c;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(text, sizeof(text), "always_allow_localhost = %s\n", t[i]);
		assert_int_equal(load(text, &c), 0);
		assert_int_equal(c.always_allow_localhost, 1);
		config_free(&c);
	}
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		snprintf(text, sizeof(text), "always_allow_localhost = %s\n", f[i]);
		assert_int_equal(load(text, &c), 0);
		assert_int_equal(c.always_allow_localhost, 0);
		config_free(&c);
	}
	assert_int_equal(config_bool_parse("2"), -1);
	assert_int_equal(config_bool_parse(""), -1);
}

static void test_bytes(void **state)
{
	static const struct { const char *s; int64_t v; } ok[] = {
		{ "1048576", 1048576 }, { "1M", 1 << 20 }, { "512k", 512 << 10 },
		{ "1MiB", 1 << 20 }, { "2 GB", 2LL << 30 }, { "0", 0 },
		{ "10b", 10 }, { "3KiB", 3072 },
	};
	static const char *const bad[] = {
		"", "x", "1X", "-1", "1.5M", "k", "99999999999999999999",
		"9000000000G",
	};
	int64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(config_bytes_parse(ok[i].s, &v), 0);
		assert_int_equal(v, ok[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(config_bytes_parse(bad[i], &v), -EINVAL);
}

static void test_exact_errors(void **state)
{
	(void)state;
	load_fails("state_dir = var\n\nfoo = 1\n", "3: unknown key 'foo'");
	load_fails("output_cap = x\n",
	           "1: invalid value for output_cap: 'x' (bytes: 1048576, 512k, 1M, 1MiB)");
	load_fails("port = 0\n", "1: invalid value for port: '0' (1 to 65535)");
	load_fails("port = 65536\n", "1: invalid value for port: '65536' (1 to 65535)");
	load_fails("log_level = loud\n",
	           "1: invalid value for log_level: 'loud' (debug, info, warn or error)");
	load_fails("orphans = keep\n", "1: invalid value for orphans: 'keep' (adopt or kill)");
	load_fails("role = boss\n", "1: invalid value for role: 'boss' (worker or master)");
	load_fails("timezone = Mars/Olympus\n",
	           "1: invalid value for timezone: 'Mars/Olympus' (unknown time zone)");
	load_fails("always_allow_localhost = maybe\n",
	           "1: invalid value for always_allow_localhost: 'maybe' (true or false)");
	load_fails("mysql_fetch_limit = 0\n",
	           "1: invalid value for mysql_fetch_limit: '0' (1 to 1000000)");
	load_fails("port = 1\nport = 2\n", "2: duplicate key 'port'");
	load_fails("\n[jobs]\na = 1\n", "2: unknown section [jobs] (only [targets])");
}

static void test_bad_values_each_kind(void **state)
{
	static const char *const bad[] = {
		"keep_runs = forever", "shutdown_grace = -5s", "ping_interval = 1x",
		"poke_throttle_interval = ", "master_reconnect_timeout = soon",
		"max_output_buffer = lots", "master_port = -1", "mysql_port = 3306x",
		"log_level_console = chatty", "timezone = ../etc/passwd",
	};
	struct config c;
	char text[128], want[sizeof(err)];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *eq = strchr(bad[i], '=');

		snprintf(text, sizeof(text), "# line 1\n%s\n", bad[i]);
		assert_int_equal(load(text, &c), -EINVAL);
		snprintf(want, sizeof(want), "%s:2: invalid value for %.*s: '%s'",
		         path, (int)(eq - bad[i] - 1), bad[i], eq + 2);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("'%s' gave '%s', want prefix '%s'", bad[i], err, want);
	}
}

static void test_targets(void **state)
{
	(void)state;
	load_fails("[targets]\nbad name = 1\n",
	           "2: invalid target name 'bad name' ([A-Za-z0-9_.-], 1 to 64 characters)");
	load_fails("[targets]\na = 0\n",
	           "2: invalid concurrency for target 'a': '0' (1 to 10000)");
	load_fails("[targets]\na = 10001\n",
	           "2: invalid concurrency for target 'a': '10001' (1 to 10000)");
	load_fails("[targets]\na = two\n",
	           "2: invalid concurrency for target 'a': 'two' (1 to 10000)");
	load_fails("[targets]\na = 1\na = 2\n", "3: duplicate target 'a'");
}

static void test_syntax_errors(void **state)
{
	(void)state;
	load_fails("port = 1\n[targets\n",
	           "2: syntax error (expected '[section]' or 'key = value')");
	load_fails("port = 1\njust words\n",
	           "2: syntax error (expected '[section]' or 'key = value')");
	/* The first error wins, whichever kind it is. */
	load_fails("junk\nfoo = 1\n",
	           "1: syntax error (expected '[section]' or 'key = value')");
	load_fails("foo = 1\njunk\n", "1: unknown key 'foo'");
}

static void test_missing_file(void **state)
{
	struct config c;
	char want[sizeof(err)];

	(void)state;
	unlink(path);
	assert_int_equal(config_load(path, &c, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "cannot read config '%s': No such file or "
	         "directory", path);
	assert_string_equal(err, want);
	assert_int_equal(config_load(dir, &c, err, sizeof(err)), -EISDIR);
	snprintf(want, sizeof(want), "cannot read config '%s': Is a directory", dir);
	assert_string_equal(err, want);
}

static void test_comments(void **state)
{
	struct config c;

	(void)state;
	/* ';' after white space starts a comment; '#' only at line start. */
	assert_int_equal(load("  # indented comment\n"
	                      "state_dir = /a ; the state\n"
	                      "socket = /b;c\n"
	                      "password = pw # not a comment\n"
	                      "name: colon-form\n", &c), 0);
	assert_string_equal(c.state_dir, "/a");
	assert_string_equal(c.socket, "/b;c");
	assert_string_equal(c.password, "pw # not a comment");
	assert_string_equal(c.name, "colon-form");
	config_free(&c);
}

static void test_empty_value_is_default(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load("state_dir =\npassword =\n", &c), 0);
	assert_string_equal(c.state_dir, "var");
	assert_null(c.password);
	config_free(&c);
}

static void test_long_line_and_continuation(void **state)
{
	char text[600];
	struct config c;

	(void)state;
	memset(text, 0, sizeof(text));
	strcpy(text, "port = 1\nlabels = ");
	memset(text + strlen(text), 'x', 300);
	strcat(text, "\n");
	assert_int_equal(load(text, &c), -EINVAL);
	assert_non_null(strstr(err, ":2: line too long (309 characters, at most 198"));
	/* 198 characters fit. */
	memset(text, 0, sizeof(text));
	strcpy(text, "labels = ");
	memset(text + strlen(text), 'y', 198 - strlen(text));
	strcat(text, "\n");
	assert_int_equal(load(text, &c), 0);
	assert_int_equal(strlen(c.labels), 198 - 9);
	config_free(&c);
	load_fails("labels = a\n  b\n", "2: continuation line for 'labels' "
	           "(values of the daemon config fit on one line)");
}

static void test_launcher_env_errors(void **state)
{
	(void)state;
	load_fails("launcher.env. = x\n", "1: unknown key 'launcher.env.'");
	load_fails("launcher.env.A = 1\nlauncher.env.A = 2\n",
	           "2: duplicate key 'launcher.env.A'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults_from_file, setup, teardown),
		cmocka_unit_test(test_defaults_no_file),
		cmocka_unit_test_setup_teardown(test_derived_from_state_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compat_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mysql_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_role_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bools, setup, teardown),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test_setup_teardown(test_exact_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_values_each_kind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_targets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_comments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_value_is_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line_and_continuation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_launcher_env_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_planned_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ninep_keys, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
