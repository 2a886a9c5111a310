/* jobctl_cmd_health.c — `jobctl health NAME [--wait]`: the job's health
 * checks, run by the daemon (op `health`); one line per check, exit 0
 * when all pass, 3 (not running / unhealthy) otherwise. */
#include <stdio.h>
#include <string.h>

#include "jobd.h"
#include "cmd/jobctl.h"

static int width(json_t *checks, const char *key)
{
	size_t i, w = 0;
	json_t *o;

	json_array_foreach(checks, i, o) {
		const char *s = json_string_value(json_object_get(o, key));
		if (s && strlen(s) > w)
			w = strlen(s);
	}
	return (int)w;
}

static void show_checks(json_t *checks)
{
	int wn = width(checks, "name"), wk = width(checks, "kind");
	int wt = width(checks, "target");
	size_t i;
	json_t *o;

	json_array_foreach(checks, i, o) {
		const char *msg = json_string_value(json_object_get(o, "message"));
		printf("%-*s  %-*s  %-*s  %-6s  %s (attempts %lld)\n", wn,
		       json_string_value(json_object_get(o, "name")), wk,
		       json_string_value(json_object_get(o, "kind")), wt,
		       json_string_value(json_object_get(o, "target")),
		       json_is_true(json_object_get(o, "ok")) ? "ok" : "FAILED",
		       msg ? msg : "",
		       (long long)json_integer_value(json_object_get(o, "attempts")));
	}
}

int cmd_health(struct ctl *c, struct args *a)
{
	json_t *reply, *checks;
	int rc = check_name("job", a->pos[0]), ok;

	if (rc)
		return rc;
	rc = ctl_call(c, "health", json_pack("{s:s, s:b}", "name", a->pos[0],
	              "wait", opt_has(a, "wait")), NULL, &reply);
	if (rc)
		return rc;
	ok = json_is_true(json_object_get(reply, "ok"));
	checks = json_object_get(reply, "checks");
	if (c->json)
		out_json(reply);
	else if (!json_array_size(checks))
		printf("%s has no health checks\n", a->pos[0]);
	else
		show_checks(checks);
	json_decref(reply);
	return ok ? 0 : EXIT_NOT_RUNNING;
}
