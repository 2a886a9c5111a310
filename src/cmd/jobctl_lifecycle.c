/* jobctl_lifecycle.c — start, stop, restart, reload NAME and status NAME:
 * the job-action request (docs/lifecycle.md).  One line per result,
 * "<worker> <job> <action>: ok|FAILED — <message>" (status: "<worker>
 * <job>: running|not running — <message>"); a cluster master sends each
 * worker's result as a `result` event as soon as it has it, and the
 * final reply's results not already shown are shown then. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobd.h"
#include "cmd/jobctl.h"

/* The results shown so far (by worker, job, action) and the exit code's
 * inputs. */
struct shown {
	struct ctl *c;
	json_t *keys;            /* "worker\njob\naction" -> true */
	int not_running;         /* a status result said so */
};

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "-";
}

static void result_key(json_t *r, char *key, size_t n)
{
	snprintf(key, n, "%s\n%s\n%s", str(r, "worker"), str(r, "job"),
	         str(r, "action"));
}

static void show_result(struct shown *s, json_t *r)
{
	char key[512];
	int ok = json_is_true(json_object_get(r, "ok"));
	json_t *running = json_object_get(r, "running");
	int status = !strcmp(str(r, "action"), "status");

	result_key(r, key, sizeof key);
	if (json_object_get(s->keys, key))
		return;
	json_object_set_new(s->keys, key, json_true());
	if (status && (json_integer_value(json_object_get(r, "code")) ==
	               EXIT_NOT_RUNNING || json_is_false(running)))
		s->not_running = 1;
	if (s->c->json)
		return;
	if (status)
		printf("%s %s: %s — %s\n", str(r, "worker"), str(r, "job"),
		       (json_is_boolean(running) ? json_is_true(running) : ok) ?
		       "running" : "not running", str(r, "message"));
	else
		printf("%s %s %s: %s — %s\n", str(r, "worker"), str(r, "job"),
		       str(r, "action"), ok ? "ok" : "FAILED", str(r, "message"));
	fflush(stdout);
}

/* Live events of a master: `begin` when a worker starts the action,
 * `result` when it has finished it. */
static void on_event(void *arg, const char *ev, json_t *data)
{
	struct shown *s = arg;

	if (!ev || !json_is_object(data))
		return;
	if (!strcmp(ev, "result")) {
		show_result(s, data);
	} else if (!strcmp(ev, "begin") && !s->c->json) {
		printf("%s %s %s: …\n", str(data, "worker"), str(data, "job"),
		       str(data, "action"));
		fflush(stdout);
	}
}

/* The call's events reach on_event with the ctl as their arg: the state
 * is found through it. */
static struct shown *current;

static void on_event_ctl(void *arg, const char *ev, json_t *data)
{
	(void)arg;
	on_event(current, ev, data);
}

static int lifecycle(struct ctl *c, struct args *a, const char *action)
{
	struct shown s = {.c = c, .keys = json_object()};
	json_t *req = json_pack("{s:s, s:s}", "name", a->pos[0], "action",
	                        action), *reply, *r;
	int rc = check_name("job", a->pos[0]);
	size_t i;

	if (!rc)
		rc = put_list(a, "allocations", req);
	if (opt_has(a, "yes") || opt_has(a, "confirm"))
		json_object_set_new(req, "yes", json_true());
	if (opt_has(a, "health-check"))
		json_object_set_new(req, "health_check", json_true());
	if (!rc && strcmp(action, "status") != 0)
		rc = run_confirm(c, a->pos[0], req);
	if (rc) {
		json_decref(req);
		json_decref(s.keys);
		return rc;
	}
	current = &s;
	rc = ctl_call(c, "job-action", req, on_event_ctl, &reply);
	current = NULL;
	if (rc) {
		json_decref(s.keys);
		return rc;
	}
	if (json_object_get(reply, "tasks")) {   /* status SERVICE */
		rc = show_task_status(c, reply);
		json_decref(reply);
		json_decref(s.keys);
		return rc;
	}
	json_array_foreach(json_object_get(reply, "results"), i, r)
		show_result(&s, r);
	if (c->json)
		out_json(reply);
	rc = json_is_true(json_object_get(reply, "ok")) ? 0 :
	     !strcmp(action, "status") && s.not_running ? EXIT_NOT_RUNNING :
	     EXIT_FAILED;
	json_decref(reply);
	json_decref(s.keys);
	return rc;
}

/* start, stop, restart, status NAME (reload NAME: cmd_reload). */
int cmd_action(struct ctl *c, struct args *a)
{
	return lifecycle(c, a, c->cmd->name);
}
