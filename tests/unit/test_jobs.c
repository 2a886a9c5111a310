/* test_jobs.c — job definitions: job_from_json on every field and error,
 * job_to_json and the round trip, and job files (jobfiles_load) with
 * [job], [action], [health_check] and [task#N] sections. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "jobd.h"
#include "core/schedule.h"
#include "engine/jobs.h"

static char err[2048];

/* Parses `text` as a job; returns the rc and the job in *j when 0. */
static int parse(const char *text, struct job *j)
{
	json_error_t je;
	json_t *def = json_loads(text, 0, &je);
	int rc;

	if (!def)
		fail_msg("bad test JSON: %s: %s", text, je.text);
	err[0] = '\0';
	rc = job_from_json(def, "UTC", j, err, sizeof(err));
	json_decref(def);
	return rc;
}

static void parse_fails(const char *text, const char *want)
{
	struct job j;

	if (parse(text, &j) != -EINVAL)
		fail_msg("%s: accepted", text);
	if (strcmp(err, want) != 0)
		fail_msg("%s: got '%s', want '%s'", text, err, want);
}

/* A prefix is enough where the tail comes from another module. */
static void parse_fails_prefix(const char *text, const char *want)
{
	struct job j;

	if (parse(text, &j) != -EINVAL)
		fail_msg("%s: accepted", text);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("%s: got '%s', want prefix '%s'", text, err, want);
}

static void test_minimal_defaults(void **state)
{
	struct job j;

	(void)state;
	assert_int_equal(parse("{\"name\": \"a\", \"command\": \"echo hi\"}", &j), 0);
	assert_string_equal(j.name, "a");
	assert_string_equal(j.command, "echo hi");
	assert_int_equal(j.shell, 0);
	assert_null(j.schedule);
	assert_null(j.sched);
	assert_null(j.timezone);
	assert_string_equal(j.target, "default");
	assert_null(j.user);
	assert_null(j.cwd);
	assert_null(j.env);
	assert_int_equal(j.timeout, 0);
	assert_int_equal(j.kill_grace, 10 * US_PER_S);
	assert_int_equal(j.backoff, 10 * US_PER_S);
	assert_int_equal(j.jitter, 0);
	assert_int_equal(j.retries, 0);
	assert_int_equal(j.overlap, OVERLAP_SKIP);
	assert_int_equal(j.catchup, CATCHUP_DEFAULT);
	assert_int_equal(j.enabled, 1);
	assert_int_equal(j.confirm, 0);
	assert_null(j.tags);
	assert_int_equal(j.n_actions, 0);
	assert_int_equal(j.n_checks, 0);
	assert_null(j.source);
	assert_int_equal(j.next_fire, -1);
	job_free(&j);
	assert_null(j.name);
}

static const char full_job[] =
	"{\"name\": \"backup\", \"command\": \"tar czf /b.tgz /srv\","
	" \"shell\": false, \"schedule\": \"0 3 * * *\","
	" \"timezone\": \"Europe/Berlin\", \"target\": \"io\", \"user\": \"root\","
	" \"group\": \"wheel\", \"cwd\": \"/srv\", \"env\": {\"K\": \"V\", \"P\": \"a=b\"},"
	" \"timeout\": \"1h\", \"kill_grace\": 5, \"retries\": 3, \"backoff\": \"1m\","
	" \"overlap\": \"queue\", \"catchup\": \"once\", \"jitter\": \"30s\","
	" \"tags\": [\"nightly\", \"db\"], \"confirm\": true,"
	" \"requires\": [\"fs#1(up,stdby up)\"], \"selectors\": \"ssd, big\","
	" \"enabled\": false, \"actions\": {\"migrate\": \"./migrate.sh --all\","
	" \"stop\": \"kill 1\"}, \"priority\": -5,"
	" \"health_checks\": [{\"name\": \"port\", \"tcp\": \"localhost:80\","
	" \"attempts\": 5, \"interval\": \"3s\", \"timeout\": 2},"
	" {\"name\": \"web\", \"http\": \"http://localhost/health\"}],"
	" \"source\": \"/etc/jobd/jobs.d/backup.conf\", \"owner_uid\": 1000}";

static void test_every_field(void **state)
{
	struct job j;

	(void)state;
	if (parse(full_job, &j) != 0)
		fail_msg("%s", err);
	assert_string_equal(j.name, "backup");
	assert_string_equal(j.command, "tar czf /b.tgz /srv");
	assert_string_equal(j.schedule, "0 3 * * *");
	assert_non_null(j.sched);
	assert_int_equal(sched_kind(j.sched), SCHED_CRON);
	assert_string_equal(j.timezone, "Europe/Berlin");
	assert_string_equal(j.target, "io");
	assert_string_equal(j.user, "root");
	assert_string_equal(j.group, "wheel");
	assert_string_equal(j.cwd, "/srv");
	assert_string_equal(j.env[0], "K=V");
	assert_string_equal(j.env[1], "P=a=b");
	assert_null(j.env[2]);
	assert_int_equal(j.timeout, 3600 * US_PER_S);
	assert_int_equal(j.kill_grace, 5 * US_PER_S);
	assert_int_equal(j.retries, 3);
	assert_int_equal(j.backoff, 60 * US_PER_S);
	assert_int_equal(j.overlap, OVERLAP_QUEUE);
	assert_int_equal(j.catchup, CATCHUP_ONCE);
	assert_int_equal(j.jitter, 30 * US_PER_S);
	assert_string_equal(j.tags[0], "nightly");
	assert_string_equal(j.tags[1], "db");
	assert_null(j.tags[2]);
	assert_int_equal(j.confirm, 1);
	assert_string_equal(j.requires[0], "fs#1(up,stdby up)");
	assert_null(j.requires[1]);
	assert_string_equal(j.selectors[0], "ssd");
	assert_string_equal(j.selectors[1], "big");
	assert_int_equal(j.enabled, 0);
	assert_int_equal(j.n_actions, 2);
	assert_string_equal(job_action_find(&j, "migrate")->command, "./migrate.sh --all");
	assert_string_equal(job_action_find(&j, "stop")->command, "kill 1");
	assert_null(job_action_find(&j, "start"));
	assert_int_equal(j.priority, -5);
	assert_int_equal(j.n_checks, 2);
	assert_string_equal(j.checks[0].name, "port");
	assert_string_equal(j.checks[0].tcp, "localhost:80");
	assert_int_equal(j.checks[0].attempts, 5);
	assert_int_equal(j.checks[0].interval, 3 * US_PER_S);
	assert_int_equal(j.checks[0].timeout, 2 * US_PER_S);
	assert_string_equal(j.checks[1].http, "http://localhost/health");
	assert_int_equal(j.checks[1].expect_status, 200);
	assert_null(j.checks[1].tcp);
	assert_int_equal(j.checks[1].attempts, 3);
	assert_int_equal(j.checks[1].interval, 10 * US_PER_S);
	assert_int_equal(j.checks[1].timeout, 5 * US_PER_S);
	assert_string_equal(j.source, "/etc/jobd/jobs.d/backup.conf");
	assert_int_equal(j.owner_uid, 1000);
	job_free(&j);
}

static void test_string_forms(void **state)
{
	struct job j;

	(void)state;
	/* What job files give: every value a string. */
	assert_int_equal(parse("{\"name\": \"s\", \"command\": \"x\", \"retries\": \"7\","
	                       " \"confirm\": \"yes\", \"enabled\": \"off\", \"shell\": \"0\","
	                       " \"timeout\": \"90\", \"priority\": \"12\","
	                       " \"env\": [\"A=1\", \"B=\"], \"tags\": \"a, b c,,d\","
	                       " \"requires\": \"fs#1(up,stdby up) ip#1\","
	                       " \"schedule\": \"\", \"user\": \"\"}", &j), 0);
	assert_int_equal(j.retries, 7);
	assert_int_equal(j.confirm, 1);
	assert_int_equal(j.enabled, 0);
	assert_int_equal(j.timeout, 90 * US_PER_S);
	assert_int_equal(j.priority, 12);
	assert_string_equal(j.env[0], "A=1");
	assert_string_equal(j.env[1], "B=");
	assert_string_equal(j.tags[0], "a");
	assert_string_equal(j.tags[1], "b");
	assert_string_equal(j.tags[2], "c");
	assert_string_equal(j.tags[3], "d");
	assert_null(j.tags[4]);
	assert_string_equal(j.requires[0], "fs#1(up,stdby up)");
	assert_string_equal(j.requires[1], "ip#1");
	assert_null(j.schedule);   /* "" = manual only */
	assert_null(j.user);
	job_free(&j);
	/* Reals are seconds too; 0.5 s. */
	assert_int_equal(parse("{\"name\": \"s\", \"command\": \"x\", \"jitter\": 0.5}", &j), 0);
	assert_int_equal(j.jitter, 500000);
	job_free(&j);
}

static void test_argv(void **state)
{
	struct job j;

	(void)state;
	assert_int_equal(parse("{\"name\": \"a\", \"argv\": [\"echo\", \"a b\", \"it's\"]}", &j), 0);
	assert_string_equal(j.command, "echo 'a b' 'it'\\''s'");
	job_free(&j);
	parse_fails("{\"name\": \"a\", \"argv\": [\"x\"], \"command\": \"x\"}",
	            "command: give command or argv, not both");
	parse_fails("{\"name\": \"a\", \"argv\": []}", "argv: empty");
	parse_fails("{\"name\": \"a\", \"argv\": [\"x\", 1]}", "argv: item 2 is not a string");
	parse_fails("{\"name\": \"a\", \"argv\": \"x\"}", "argv: must be a list of strings");
}

static void test_shell(void **state)
{
	struct job j;

	(void)state;
	/* With shell = true the text goes to sh -c: no shell-word check. */
	assert_int_equal(parse("{\"name\": \"a\", \"shell\": true,"
	                       " \"command\": \"echo \\\"$HOME\", \"actions\": {\"x\": \"a 'b\"}}", &j), 0);
	assert_int_equal(j.shell, 1);
	job_free(&j);
	parse_fails("{\"name\": \"a\", \"shell\": true, \"command\": \"  \"}", "command: empty");
}

static void test_task_names(void **state)
{
	struct job j;

	(void)state;
	assert_int_equal(parse("{\"name\": \"svc.task#12\", \"command\": \"x\"}", &j), 0);
	assert_string_equal(j.name, "svc.task#12");
	job_free(&j);
	parse_fails_prefix("{\"name\": \"svc.task#\", \"command\": \"x\"}", "name: invalid name 'svc.task#'");
	parse_fails_prefix("{\"name\": \"svc.task#1a\", \"command\": \"x\"}", "name: invalid name");
	parse_fails_prefix("{\"name\": \"a b.task#1\", \"command\": \"x\"}", "name: invalid name");
	parse_fails_prefix("{\"name\": \"x#1\", \"command\": \"x\"}", "name: invalid name");
	parse_fails_prefix("{\"name\": \".task#1\", \"command\": \"x\"}", "name: invalid name");
}

static void test_errors(void **state)
{
	(void)state;
	parse_fails("[1]", "job: must be a JSON object");
	parse_fails("{\"command\": \"x\"}", "name: missing");
	parse_fails("{\"name\": \"a b\", \"command\": \"x\"}",
	            "name: invalid name 'a b' ([A-Za-z0-9_.-], 1 to 64 characters)");
	parse_fails("{\"name\": 5, \"command\": \"x\"}", "name: must be a string");
	parse_fails("{\"name\": \"a\"}", "command: missing (give command or argv)");
	parse_fails("{\"name\": \"a\", \"command\": \"\"}", "command: empty");
	parse_fails("{\"name\": \"a\", \"command\": \"   \"}", "command: empty");
	parse_fails("{\"name\": \"a\", \"command\": \"echo \\\"hi\"}",
	            "command: unterminated double quote at position 6");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"foo\": 1}", "unknown key 'foo'");
	parse_fails_prefix("{\"name\": \"a\", \"command\": \"x\", \"schedule\": \"61 * * * *\"}",
	                   "schedule: ");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"schedule\": 5}", "schedule: must be a string");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"timezone\": \"Mars/Olympus\"}",
	            "timezone: unknown time zone 'Mars/Olympus'");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"target\": \"a/b\"}",
	            "target: invalid name 'a/b'");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"cwd\": \"tmp\"}",
	            "cwd: must be an absolute path: 'tmp'");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"user\": 0}", "user: must be a string");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"env\": {\"1X\": \"v\"}}",
	            "env: invalid variable name '1X'");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"env\": {\"X\": 1}}",
	            "env: value of 'X' is not a string");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"env\": [\"X=1\", \"X=2\"]}",
	            "env: 'X' given twice");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"env\": [\"novalue\"]}",
	            "env: item 1 is not a \"K=V\" string");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"env\": \"X=1\"}",
	            "env: must be an object {\"K\": \"V\"} or a list [\"K=V\"]");
	parse_fails_prefix("{\"name\": \"a\", \"command\": \"x\", \"timeout\": \"soon\"}",
	                   "timeout: invalid duration 'soon'");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"kill_grace\": -1}",
	            "kill_grace: must be a duration ('90s', '15m', '1h30m') or seconds");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"retries\": 101}",
	            "retries: must be an integer from 0 to 100");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"retries\": \"2x\"}",
	            "retries: must be an integer from 0 to 100");
	parse_fails_prefix("{\"name\": \"a\", \"command\": \"x\", \"priority\": true}",
	                   "priority: must be an integer");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"overlap\": \"never\"}",
	            "overlap: must be skip, queue, replace or allow");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"catchup\": \"all\"}",
	            "catchup: must be none or once");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"tags\": 3}",
	            "tags: must be a list of strings or a comma-separated string");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"tags\": [\"a b\"]}",
	            "tags: invalid item 'a b'");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"selectors\": [1]}",
	            "selectors: item 1 is not a string");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"requires\": \"fs(up\"}",
	            "requires: invalid item 'fs(up'");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"confirm\": \"maybe\"}",
	            "confirm: must be true or false");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"enabled\": 2}",
	            "enabled: must be true or false");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"shell\": null, \"owner_uid\": -1}",
	            "owner_uid: must be an integer from 0 to 4294967295");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"source\": []}", "source: must be a string");
}

/* placement = one and its lease_timeout (docs/cluster.md) */
static void test_placement(void **state)
{
	struct job j;

	(void)state;
	assert_int_equal(parse("{\"name\": \"a\", \"command\": \"x\", "
	                       "\"placement\": \"one\", \"lease_timeout\": \"3s\"}",
	                       &j), 0);
	assert_int_equal(j.placement, PLACEMENT_ONE);
	assert_int_equal(j.lease_timeout, 3000000);
	job_free(&j);
	assert_int_equal(parse("{\"name\": \"a\", \"command\": \"x\", "
	                       "\"lease_timeout\": 2}", &j), 0);
	assert_int_equal(j.placement, PLACEMENT_ANY);
	assert_int_equal(j.lease_timeout, 2000000);
	job_free(&j);
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"placement\": \"two\"}",
	            "placement: must be any or one");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", "
	            "\"lease_timeout\": \"500ms\"}",
	            "lease_timeout: must be at least 1s");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", "
	            "\"lease_timeout\": \"2d\"}",
	            "lease_timeout: must be at most 24h");
}

static void test_action_errors(void **state)
{
	(void)state;
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"actions\": [\"x\"]}",
	            "actions: must be an object {\"name\": \"command\"}");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"actions\": {\"-x\": \"y\"}}",
	            "actions: invalid action name '-x'");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"actions\": {\"a b\": \"y\"}}",
	            "actions: invalid action name 'a b'");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"actions\": {\"go\": 1}}",
	            "actions: go: must be a command string");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"actions\": {\"go\": \"a 'b\"}}",
	            "actions: go: unterminated single quote at position 3");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"actions\": {\"go\": \"\"}}",
	            "actions: go: empty");
}

static void test_check_errors(void **state)
{
	(void)state;
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"health_checks\": {}}",
	            "health_checks: must be a list of objects");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"health_checks\": [1]}",
	            "health_checks: item 1 is not an object");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"health_checks\": [{\"tcp\": \"h:1\"}]}",
	            "health_checks: item 1 needs a name ([A-Za-z0-9][A-Za-z0-9_.-]*)");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"health_checks\": [{\"name\": \"c\"}]}",
	            "health_checks: c: give exactly one of tcp, http and command");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"health_checks\":"
	            " [{\"name\": \"c\", \"tcp\": \"h:1\", \"http\": \"http://h\"}]}",
	            "health_checks: c: give exactly one of tcp, http and command");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"health_checks\":"
	            " [{\"name\": \"c\", \"tcp\": \"h:99999\"}]}",
	            "health_checks: c: tcp must be host:port: 'h:99999' (port "
	            "must be a number from 1 to 65535)");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"health_checks\":"
	            " [{\"name\": \"web\", \"http\": \"https://h/x\"}]}",
	            "health_checks: web: https is not supported; use a command "
	            "check, e.g. curl -fsS https://h/x");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"health_checks\":"
	            " [{\"name\": \"c\", \"http\": \"http://h/\", \"expect_status\": 600}]}",
	            "health_checks: c: expect_status: must be an integer from 100 to 599");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"health_checks\":"
	            " [{\"name\": \"c\", \"tcp\": \"h:1\", \"expect_status\": 200}]}",
	            "health_checks: c: expect_status needs an http check");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"health_checks\":"
	            " [{\"name\": \"c\", \"tcp\": \"h:1\", \"timeout\": 0}]}",
	            "health_checks: c: timeout: must be more than 0");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"health_checks\":"
	            " [{\"name\": \"c\", \"http\": \"ftp://h\"}]}",
	            "health_checks: c: http must be an http:// or https:// URL: 'ftp://h'");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"health_checks\":"
	            " [{\"name\": \"c\", \"command\": \"x 'y\"}]}",
	            "health_checks: c: command: unterminated single quote at position 3");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"health_checks\":"
	            " [{\"name\": \"c\", \"command\": \"x\", \"attempts\": 0}]}",
	            "health_checks: c: attempts: must be an integer from 1 to 100");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"health_checks\":"
	            " [{\"name\": \"c\", \"command\": \"x\", \"port\": 1}]}",
	            "health_checks: c: unknown key 'port'");
	parse_fails("{\"name\": \"a\", \"command\": \"x\", \"health_checks\":"
	            " [{\"name\": \"c\", \"command\": \"x\"}, {\"name\": \"c\", \"command\": \"y\"}]}",
	            "health_checks: duplicate name 'c'");
	parse_fails_prefix("{\"name\": \"a\", \"command\": \"x\", \"health_checks\":"
	                   " [{\"name\": \"c\", \"command\": \"x\", \"interval\": \"x\"}]}",
	                   "health_checks: c: interval: invalid duration");
}

static void test_to_json_keys(void **state)
{
	static const char *const keys[] = {
		"name", "command", "shell", "schedule", "timezone", "target", "user",
		"group", "cwd", "env", "timeout", "kill_grace", "kill_leftovers",
		"log_output",
		"retries", "backoff",
		"overlap", "overlap_queue_max", "max_parallel", "retcodes",
		"catchup", "jitter", "tags", "confirm", "requires",
		"selectors", "nodes", "after", "max_parallel_workers", "enabled",
		"actions", "health_checks", "priority",
		"source", "owner_uid", "placement", "lease_timeout",
	};
	struct job j;
	json_t *o;

	(void)state;
	assert_int_equal(parse("{\"name\": \"a\", \"command\": \"x\"}", &j), 0);
	o = job_to_json(&j);
	assert_int_equal(json_object_size(o), sizeof(keys) / sizeof(keys[0]));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!json_object_get(o, keys[i]))
			fail_msg("key %s missing", keys[i]);
	assert_true(json_is_null(json_object_get(o, "schedule")));
	assert_true(json_is_null(json_object_get(o, "user")));
	assert_true(json_is_null(json_object_get(o, "catchup")));
	assert_string_equal(json_string_value(json_object_get(o, "target")), "default");
	assert_string_equal(json_string_value(json_object_get(o, "kill_grace")), "10s");
	assert_string_equal(json_string_value(json_object_get(o, "timeout")), "0s");
	assert_string_equal(json_string_value(json_object_get(o, "overlap")), "skip");
	assert_string_equal(json_string_value(json_object_get(o, "placement")), "any");
	assert_string_equal(json_string_value(json_object_get(o, "lease_timeout")), "15s");
	assert_true(json_is_true(json_object_get(o, "enabled")));
	assert_int_equal(json_array_size(json_object_get(o, "tags")), 0);
	assert_int_equal(json_object_size(json_object_get(o, "env")), 0);
	json_decref(o);
	job_free(&j);
}

static void test_round_trip(void **state)
{
	struct job j, k;
	json_t *a, *b;

	(void)state;
	assert_int_equal(parse(full_job, &j), 0);
	a = job_to_json(&j);
	assert_string_equal(json_string_value(json_object_get(a, "timeout")), "1h");
	assert_string_equal(json_string_value(json_object_get(a, "catchup")), "once");
	assert_string_equal(json_string_value(
		json_object_get(json_object_get(a, "env"), "P")), "a=b");
	assert_int_equal(job_from_json(a, "UTC", &k, err, sizeof(err)), 0);
	b = job_to_json(&k);
	if (!json_equal(a, b)) {
		char *sa = json_dumps(a, JSON_SORT_KEYS), *sb = json_dumps(b, JSON_SORT_KEYS);

		fail_msg("round trip differs:\n%s\n%s", sa, sb);
	}
	json_decref(a);
	json_decref(b);
	job_free(&j);
	job_free(&k);
}

/* ---- job files ----------------------------------------------------------- */

static char dir[PATH_MAX];

struct got {
	json_t *defs;           /* every def received, in order */
	json_t *where;          /* "file:line" of each */
	int fail_on;            /* index to fail at, -1 = never */
	char fail_msg[100];
};

static int collect(void *ctx, json_t *def, const char *file, int line,
                   char *e, size_t elen)
{
	struct got *g = ctx;
	char buf[PATH_MAX + 32];

	if ((int)json_array_size(g->defs) == g->fail_on) {
		snprintf(e, elen, "%s", g->fail_msg);
		return -EINVAL;
	}
	json_array_append(g->defs, def);
	snprintf(buf, sizeof(buf), "%s:%d", strrchr(file, '/') + 1, line);
	json_array_append_new(g->where, json_string(buf));
	return 0;
}

static void put(const char *name, const char *text)
{
	char p[PATH_MAX + 64];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int dir_setup(void **state)
{
	char tmpl[] = "/tmp/test_jobs.XXXXXX";

	(void)state;
	if (!mkdtemp(tmpl))
		return -1;
	snprintf(dir, sizeof(dir), "%s", tmpl);
	return 0;
}

static int dir_teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int load_dir(struct got *g)
{
	g->defs = json_array();
	g->where = json_array();
	err[0] = '\0';
	return jobfiles_load(dir, collect, g, err, sizeof(err));
}

static void got_free(struct got *g)
{
	json_decref(g->defs);
	json_decref(g->where);
}

static const char *where(struct got *g, size_t i)
{
	return json_string_value(json_array_get(g->where, i));
}

static json_t *def_of(struct got *g, size_t i)
{
	return json_array_get(g->defs, i);
}

static const char *field(struct got *g, size_t i, const char *k)
{
	return json_string_value(json_object_get(def_of(g, i), k));
}

static void check_valid(json_t *def)
{
	struct job j;

	if (job_from_json(def, "UTC", &j, err, sizeof(err)) != 0)
		fail_msg("def rejected: %s", err);
	job_free(&j);
}

static void test_files_jobs(void **state)
{
	struct got g = { .fail_on = -1 };
	char src[PATH_MAX + 16];
	json_t *d, *acts, *checks;

	(void)state;
	put("b.conf",
	    "; second file\n"
	    "[job zeta]\n"
	    "command = /bin/true\n");
	put("a.conf",
	    "# first file\n"
	    "\n"
	    "[job backup]\n"
	    "command = tar czf /b.tgz\n"
	    "    /srv /etc ; continued\n"
	    "schedule = 0 3 * * *\n"
	    "env = A=1\n"
	    "env = B=two words\n"
	    "tags = nightly,db\n"
	    "tags = big\n"
	    "timeout = 1h\n"
	    "retries = 2\n"
	    "confirm = yes\n"
	    "action.migrate = ./migrate.sh\n"
	    "[action stop]\n"
	    "command = pkill -f backup\n"
	    "[health_check port]\n"
	    "tcp = localhost:5432\n"
	    "attempts = 4\n"
	    "interval = 2s\n"
	    "[health_check script]\n"
	    "command = test -f /ok\n"
	    "\n"
	    "[job  second]\n"
	    "command: echo a;b # no comment\n");
	put("c.txt", "[job ignored]\ncommand = x\n");
	put(".hidden.conf", "[job hidden]\ncommand = x\n");
	assert_int_equal(load_dir(&g), 2);
	assert_int_equal(json_array_size(g.defs), 3);
	assert_string_equal(where(&g, 0), "a.conf:3");
	assert_string_equal(where(&g, 1), "a.conf:24");
	assert_string_equal(where(&g, 2), "b.conf:2");
	assert_string_equal(field(&g, 0, "name"), "backup");
	assert_string_equal(field(&g, 1, "name"), "second");
	assert_string_equal(field(&g, 2, "name"), "zeta");
	snprintf(src, sizeof(src), "%s/a.conf", dir);
	assert_string_equal(field(&g, 0, "source"), src);
	assert_string_equal(field(&g, 0, "command"), "tar czf /b.tgz /srv /etc");
	assert_string_equal(field(&g, 1, "command"), "echo a;b # no comment");
	d = def_of(&g, 0);
	assert_string_equal(json_string_value(json_array_get(json_object_get(d, "env"), 1)),
	                    "B=two words");
	assert_string_equal(field(&g, 0, "tags"), "nightly,db,big");
	acts = json_object_get(d, "actions");
	assert_int_equal(json_object_size(acts), 2);
	assert_string_equal(json_string_value(json_object_get(acts, "migrate")), "./migrate.sh");
	assert_string_equal(json_string_value(json_object_get(acts, "stop")), "pkill -f backup");
	checks = json_object_get(d, "health_checks");
	assert_int_equal(json_array_size(checks), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(checks, 0), "tcp")),
	                    "localhost:5432");
	assert_string_equal(json_string_value(json_object_get(json_array_get(checks, 1), "command")),
	                    "test -f /ok");
	for (size_t i = 0; i < 3; i++)
		check_valid(def_of(&g, i));
	got_free(&g);
}

static void test_files_tasks(void **state)
{
	struct got g = { .fail_on = -1 };
	struct job j;

	(void)state;
	put("svc.conf",
	    "[task#0]\n"
	    "command = /usr/bin/backup --full\n"
	    "schedule = 00:00-02:00@121 mon-fri\n"
	    "confirmation = true\n"
	    "tags = backup\n"
	    "run_requires = fs#1(up,stdby up) ip#1\n"
	    "environment = A=1 \"B=x y\"\n"
	    "max_parallel = 2\n"
	    "user = nobody\n"
	    "cwd = /tmp\n"
	    "timeout = 10m\n"
	    "\n"
	    "[task#1]\n"
	    "command = echo one\n"
	    "disable = yes\n"
	    "max_parallel = 1\n");
	assert_int_equal(load_dir(&g), 1);
	assert_int_equal(json_array_size(g.defs), 2);
	assert_string_equal(field(&g, 0, "name"), "svc.task#0");
	assert_string_equal(where(&g, 1), "svc.conf:13");
	if (job_from_json(def_of(&g, 0), "UTC", &j, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(j.name, "svc.task#0");
	assert_int_equal(j.confirm, 1);
	assert_string_equal(j.tags[0], "backup");
	assert_string_equal(j.requires[0], "fs#1(up,stdby up)");
	assert_string_equal(j.requires[1], "ip#1");
	assert_string_equal(j.env[0], "A=1");
	assert_string_equal(j.env[1], "B=x y");
	assert_int_equal(j.overlap, OVERLAP_ALLOW);
	assert_int_equal(j.max_parallel, 2);
	assert_string_equal(j.user, "nobody");
	assert_int_equal(j.timeout, 600 * US_PER_S);
	assert_int_equal(sched_kind(j.sched), SCHED_CALENDAR);
	job_free(&j);
	assert_int_equal(job_from_json(def_of(&g, 1), "UTC", &j, err, sizeof(err)), 0);
	assert_int_equal(j.enabled, 0);
	assert_int_equal(j.overlap, OVERLAP_SKIP);
	job_free(&j);
	got_free(&g);
}

static void files_fail(const char *name, const char *text, const char *want)
{
	struct got g = { .fail_on = -1 };
	char full[PATH_MAX + 600];
	int rc;

	put(name, text);
	rc = load_dir(&g);
	snprintf(full, sizeof(full), "%s/%s", dir, want);
	if (rc != -EINVAL || strcmp(err, full) != 0)
		fail_msg("rc %d, got '%s', want '%s'", rc, err, full);
	got_free(&g);
	snprintf(full, sizeof(full), "%s/%s", dir, name);
	unlink(full);
}

static void test_files_errors(void **state)
{
	(void)state;
	files_fail("x.conf", "[job a]\ncommand = x\n[job b\n",
	           "x.conf:3: syntax error (expected '[section]' or 'key = value')");
	files_fail("x.conf", "[job a]\ncommand = x\nfoo = 1\n",
	           "x.conf:3: unknown key 'foo' in [job a]");
	files_fail("x.conf", "[job a]\ncommand = x\nname = b\n",
	           "x.conf:3: unknown key 'name' in [job a]");
	files_fail("x.conf", "[job a]\ncommand = x\ncommand = y\n",
	           "x.conf:3: duplicate key 'command' in [job a]");
	files_fail("x.conf", "command = x\n",
	           "x.conf:1: key 'command' outside a section (start one with [job NAME])");
	files_fail("x.conf", "[jobs a]\n",
	           "x.conf:1: unknown section [jobs a] (expected [job NAME], "
	           "[action NAME], [health_check NAME], [task#N] or [DEFAULT])");
	files_fail("x.conf", "[job a b]\n",
	           "x.conf:1: invalid job name 'a b' ([A-Za-z0-9_.-], 1 to 64 characters)");
	files_fail("x.conf", "[action go]\ncommand = x\n",
	           "x.conf:1: [action go] before any [job NAME] section");
	files_fail("x.conf", "[job a]\ncommand = x\n[action go]\n\n[job b]\ncommand = y\n",
	           "x.conf:3: [action go] has no command");
	files_fail("x.conf", "[job a]\ncommand = x\n[action go]\n",
	           "x.conf:3: [action go] has no command");
	files_fail("x.conf", "[job a]\ncommand = x\naction.go = y\n[action go]\ncommand = z\n",
	           "x.conf:4: duplicate action 'go' in [job a]");
	files_fail("x.conf", "[job a]\ncommand = x\n[action go]\nuser = root\n",
	           "x.conf:4: unknown key 'user' in [action go] (only command)");
	files_fail("x.conf", "[job a]\ncommand = x\n[health_check h]\nport = 1\n",
	           "x.conf:4: unknown key 'port' in [health_check h]");
	files_fail("x.conf", "[job a]\ncommand = x\n[health_check h]\ntcp = a:1\n[health_check h]\n",
	           "x.conf:5: duplicate health check 'h' in [job a]");
	files_fail("x.conf", "[job a]\ncommand = x\nenv = 1=2\n",
	           "x.conf:3: invalid value for env: '1=2' (K=V)");
	files_fail("x.conf", "[job a]\nenv = A=1\n  B=2\n",
	           "x.conf:3: continuation line for 'env' (give each variable its own 'env =' line)");
	files_fail("x.conf", "[job a]\ncommand = x\n  [job b]\n",
	           "x.conf:3: indented section header (a continuation line may "
	           "not start with '[')");
	files_fail("x.conf", "[task#0]\ncommand = x\nlimit_cpu = 1\n",
	           "x.conf:3: task keyword 'limit_cpu' in [task#0]: not built yet; remove it");
	files_fail("x.conf", "[task#0]\ncommand = x\nlog = perhaps\n",
	           "x.conf:3: invalid value for log: 'perhaps' (true or false)");
	files_fail("x.conf", "[task#0]\ncommand = x\numask = 8\n",
	           "x.conf:3: umask: '8' is not an octal mask (022)");
	files_fail("x.conf", "[task#0]\ncommand = x\nlimit_nofile = 10\n",
	           "x.conf:3: task keyword 'limit_nofile' in [task#0]: not built yet; remove it");
	files_fail("x.conf", "[task#0]\ndisable = perhaps\n",
	           "x.conf:2: invalid value for disable: 'perhaps' (true or false)");
	files_fail("x.conf", "[task#0]\nmax_parallel = 0\n",
	           "x.conf:2: invalid value for max_parallel: '0' (1 or more)");
	files_fail("x.conf", "[task#0]\nenvironment = A=1 'B\n",
	           "x.conf:2: invalid value for environment: unterminated single quote at position 5");
	files_fail("x.conf", "[task#x]\n",
	           "x.conf:1: invalid section [task#x] (task#N, N a number)");
	files_fail("bad name.conf", "[task#0]\ncommand = x\n",
	           "bad name.conf:1: file name 'bad name' cannot name task jobs "
	           "('bad name.task#0' is not a valid job name)");
}

static void test_files_duplicate(void **state)
{
	struct got g = { .fail_on = -1 };
	char want[PATH_MAX * 2 + 100];

	(void)state;
	put("a.conf", "[job one]\ncommand = x\n\n[job two]\ncommand = y\n");
	put("b.conf", "\n[job two]\ncommand = z\n");
	assert_int_equal(load_dir(&g), -EINVAL);
	snprintf(want, sizeof(want), "%s/b.conf:2: duplicate job 'two' (also "
	         "defined at %s/a.conf:4)", dir, dir);
	assert_string_equal(err, want);
	got_free(&g);
	/* Within one file too. */
	put("b.conf", "[job three]\ncommand = z\n[job three]\ncommand = z\n");
	assert_int_equal(load_dir(&g), -EINVAL);
	snprintf(want, sizeof(want), "%s/b.conf:3: duplicate job 'three' (also "
	         "defined at %s/b.conf:1)", dir, dir);
	assert_string_equal(err, want);
	got_free(&g);
}

static void test_files_callback_error(void **state)
{
	struct got g = { .fail_on = 1 };
	char want[PATH_MAX + 100];

	(void)state;
	snprintf(g.fail_msg, sizeof(g.fail_msg), "schedule: bad");
	put("a.conf", "[job one]\ncommand = x\n\n[job two]\ncommand = y\n");
	assert_int_equal(load_dir(&g), -EINVAL);
	snprintf(want, sizeof(want), "%s/a.conf:4: schedule: bad", dir);
	assert_string_equal(err, want);
	assert_int_equal(json_array_size(g.defs), 1);
	got_free(&g);
}

static void test_files_long_line(void **state)
{
	struct got g = { .fail_on = -1 };
	char text[400] = "[job a]\ncommand = echo ";

	(void)state;
	memset(text + strlen(text), 'x', 250);
	strcat(text, "\n");
	put("a.conf", text);
	assert_int_equal(load_dir(&g), -EINVAL);
	assert_non_null(strstr(err, "/a.conf:2: line too long (265 characters"));
	got_free(&g);
}

static void test_files_missing_dir(void **state)
{
	struct got g = { .fail_on = -1 };

	(void)state;
	g.defs = json_array();
	g.where = json_array();
	assert_int_equal(jobfiles_load("/nonexistent/jobs.d", collect, &g, err,
	                               sizeof(err)), 0);
	assert_int_equal(jobfiles_load(NULL, collect, &g, err, sizeof(err)), 0);
	assert_int_equal(json_array_size(g.defs), 0);
	assert_int_equal(jobfiles_load("/etc/passwd", collect, &g, err, sizeof(err)),
	                 -ENOTDIR);
	assert_string_equal(err, "cannot read jobs_dir '/etc/passwd': Not a directory");
	got_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_defaults),
		cmocka_unit_test(test_every_field),
		cmocka_unit_test(test_string_forms),
		cmocka_unit_test(test_argv),
		cmocka_unit_test(test_shell),
		cmocka_unit_test(test_task_names),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_action_errors),
		cmocka_unit_test(test_check_errors),
		cmocka_unit_test(test_to_json_keys),
		cmocka_unit_test(test_placement),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test_setup_teardown(test_files_jobs, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_files_tasks, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_files_errors, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_files_duplicate, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_files_callback_error, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_files_long_line, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_files_missing_dir, dir_setup, dir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
