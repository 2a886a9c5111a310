/* ops_health.c — the `health` op: a job's health checks, run here
 * (engine/health.h).  {"name": JOB, "wait": bool} -> {"worker", "job",
 * "ok", "checks": [...]}; an unhealthy job is a reply too, not an error. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/health.h"
#include "faces/ops_int.h"

struct hop {
	struct health_run *h;
	char *job;
};

static void hop_cancel(struct call *c)
{
	struct hop *o = c->op_state;

	c->op_state = NULL;
	health_cancel(o->h);
	free(o->job);
	free(o);
}

static void hop_done(void *arg, json_t *report)
{
	struct call *c = arg;
	struct hop *o = c->op_state;
	const char *worker = engine_config(c->e)->name;
	json_t *r = json_pack("{s:s, s:s}", "worker", worker ? worker : "",
	                      "job", o->job);

	c->cancel = NULL;
	c->op_state = NULL;
	free(o->job);
	free(o);
	if (!r || json_object_update(r, report) < 0) {
		json_decref(r);
		json_decref(report);
		return call_fail(c, -ENOMEM, "out of memory");
	}
	json_decref(report);
	call_reply(c, r);
}

void op_health(struct call *c, json_t *data)
{
	const char *name;
	json_t *wait = json_object_get(data, "wait");
	struct job *j;
	struct hop *o;
	int rc;

	if (need_str(c, data, "name", &name) < 0 || !(j = find_job(c, name)) ||
	    !may_job(c, j))
		return;
	if (wait && !json_is_boolean(wait))
		return call_fail(c, -EINVAL, "wait: must be true or false");
	if (!(o = calloc(1, sizeof *o)) || !(o->job = strdup(j->name))) {
		free(o);
		return call_fail(c, -ENOMEM, "out of memory");
	}
	c->op_state = o;
	c->cancel = hop_cancel;
	rc = health_run(c->e, j, json_is_true(wait), hop_done, c, &o->h);
	if (rc < 0) {
		c->cancel = NULL;
		c->op_state = NULL;
		free(o->job);
		free(o);
		if (rc == -ESHUTDOWN)
			return call_fail(c, rc, "jobd is shutting down");
		call_fail(c, rc, "cannot run the health checks of '%s': out of "
		          "memory", name);
	}
}

/* ---- health after an action (job-action's health_check) ---- */

void ops_health_merge(json_t *result, json_t *report, const char *error)
{
	json_t *checks = json_object_get(report, "checks"), *ch;
	const char *why = error;
	char msg[600];
	size_t i;

	if (checks)
		json_object_set(result, "checks", checks);
	if (!error && json_is_true(json_object_get(report, "ok")))
		return;
	json_array_foreach(why ? NULL : checks, i, ch)
		if (!why && !json_is_true(json_object_get(ch, "ok")))
			why = json_string_value(json_object_get(ch, "message"));
	snprintf(msg, sizeof msg, "%s; unhealthy: %s",
	         json_string_value(json_object_get(result, "message")),
	         why ? why : "a check failed");
	json_object_set_new(result, "message", json_string(msg));
	json_object_set_new(result, "ok", json_false());
	json_object_set_new(result, "code", json_integer(strcmp(
		json_string_value(json_object_get(result, "action")), "status")
		== 0 ? 3 : 1));
}

/* The action runs as a call of its own (inner); its reply waits for the
 * job's health checks before it reaches the caller (outer). */
struct hcall {
	struct call inner;
	struct call *outer;      /* NULL once the caller went away */
	struct health_run *h;
	json_t *reply;           /* the action's, while the checks run */
	int wait, busy;          /* busy: inner has not replied yet */
};

static void hcall_end(struct hcall *hc)
{
	struct call *c = hc->outer;
	if (c) {
		c->cancel = NULL;
		c->op_state = NULL;
		call_reply(c, hc->reply);
	} else {
		json_decref(hc->reply);
	}
	free(hc);
}

static void hcall_checked(void *arg, json_t *report)
{
	struct hcall *hc = arg;
	json_t *r = json_array_get(json_object_get(hc->reply, "results"), 0);
	ops_health_merge(r, report, NULL);
	json_object_set_new(hc->reply, "ok", json_boolean(
		json_is_true(json_object_get(r, "ok"))));
	json_decref(report);
	hcall_end(hc);
}

static void hcall_respond(struct call *ic, json_t *data, int err,
                          const char *msg)
{
	struct hcall *hc = (struct hcall *)ic;
	json_t *r = json_array_get(json_object_get(data, "results"), 0);
	const char *action = json_string_value(json_object_get(r, "action"));
	struct job *j = r ? engine_job_find(ic->e, json_string_value(
		json_object_get(r, "job"))) : NULL;

	hc->busy = 0;
	hc->reply = data;
	if (err || !hc->outer) {
		if (hc->outer && err) {
			hc->outer->cancel = NULL;
			hc->outer->op_state = NULL;
			call_fail(hc->outer, err, "%s", msg);
			hc->outer = NULL;
		}
		return hcall_end(hc);
	}
	/* a status says "not running" by itself; other actions are checked
	 * only once they did what they were asked */
	if (!j || j->n_checks == 0 || !action || !strcmp(action, "stop") ||
	    (strcmp(action, "status") && !json_is_true(json_object_get(r, "ok"))) ||
	    health_run(ic->e, j, hc->wait, hcall_checked, hc, &hc->h) < 0)
		hcall_end(hc);
}

static void hcall_cancel(struct call *c)
{
	struct hcall *hc = c->op_state;
	hc->outer = NULL;
	if (hc->busy) {
		call_abandon(&hc->inner);
		free(hc);
	} else if (hc->h) {
		health_cancel(hc->h);
		json_decref(hc->reply);
		free(hc);
	}
}

int ops_health_after(struct call *c, json_t *data,
                     void (*op)(struct call *, json_t *))
{
	json_t *hc_flag = json_object_get(data, "health_check");
	const char *action = json_string_value(json_object_get(data, "action"));
	int status = action && strcasecmp(action, "status") == 0;
	struct hcall *hc;

	if (c->respond == hcall_respond || (!json_is_true(hc_flag) && !status))
		return 0;
	if (!(hc = calloc(1, sizeof *hc))) {
		call_fail(c, -ENOMEM, "out of memory");
		return 1;
	}
	hc->outer = c;
	hc->wait = !status;
	hc->busy = 1;
	hc->inner.e = c->e;
	hc->inner.uid = c->uid;
	hc->inner.admin = c->admin;
	hc->inner.role = c->role;
	hc->inner.respond = hcall_respond;
	c->op_state = hc;
	c->cancel = hcall_cancel;
	json_t *d = json_deep_copy(data);
	json_object_del(d, "health_check");
	op(&hc->inner, d);
	json_decref(d);
	return 1;
}
