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
static void on_event(struct shown *s, const char *ev, json_t *data)
{
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

/* One lifecycle call at a time: its events reach it through here. */
static struct shown current;

void lifecycle_begin(struct ctl *c)
{
	json_decref(current.keys);
	current = (struct shown){.c = c, .keys = json_object()};
}

void lifecycle_event(void *arg, const char *ev, json_t *data)
{
	(void)arg;
	if (current.c)
		on_event(&current, ev, data);
}

int lifecycle_end(json_t *reply, const char *action)
{
	struct ctl *c = current.c;
	json_t *r;
	size_t i;
	int rc = 0;

	json_array_foreach(reply ? json_object_get(reply, "results") : NULL,
	                   i, r)
		show_result(&current, r);
	if (reply && c->json)
		out_json(reply);
	if (reply)
		rc = json_is_true(json_object_get(reply, "ok")) ? 0 :
		     !strcmp(action, "status") && current.not_running ?
		     EXIT_NOT_RUNNING : EXIT_FAILED;
	json_decref(current.keys);
	current = (struct shown){0};
	return rc;
}

static int lifecycle(struct ctl *c, struct args *a, const char *action)
{
	json_t *req = json_pack("{s:s}", "action", action), *names = json_array();
	json_t *reply;
	int rc = 0;

	for (int i = 0; i < a->npos && !rc; i++) {
		rc = check_name("job", a->pos[i]);
		json_array_append_new(names, json_string(a->pos[i]));
	}
	if (a->npos == 1)
		json_object_set(req, "name", json_array_get(names, 0));
	else
		json_object_set(req, "names", names);
	json_decref(names);
	if (!rc)
		rc = put_list(a, "allocations", req);
	if (opt_has(a, "yes") || opt_has(a, "confirm"))
		json_object_set_new(req, "yes", json_true());
	if (opt_has(a, "health-check"))
		json_object_set_new(req, "health_check", json_true());
	for (int i = 0; !rc && strcmp(action, "status") != 0 && i < a->npos; i++)
		rc = run_confirm(c, a->pos[i], req);
	if (rc) {
		json_decref(req);
		return rc;
	}
	lifecycle_begin(c);
	if ((rc = ctl_call(c, "job-action", req, lifecycle_event, &reply))) {
		lifecycle_end(NULL, action);
		return rc;
	}
	if (json_object_get(reply, "tasks")) {   /* status SERVICE */
		lifecycle_end(NULL, action);
		rc = show_task_status(c, reply);
	} else {
		rc = lifecycle_end(reply, action);
	}
	json_decref(reply);
	return rc;
}

/* start, stop, restart, status NAME... (reload NAME: cmd_reload). */
int cmd_action(struct ctl *c, struct args *a)
{
	return lifecycle(c, a, c->cmd->name);
}

/* run NAME --action A with --allocations or --health-check: the action
 * on workers (a master's), as start|stop|... are. */
int cmd_run_action(struct ctl *c, struct args *a)
{
	const char *action = opt_get(a, "action");
	if (!action || !a->npos)
		return bad("run: --allocations and --health-check go with NAME "
		           "--action A");
	return lifecycle(c, a, action);
}
