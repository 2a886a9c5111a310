/* ops_health.c — the `health` op: a job's health checks, run here
 * (engine/health.h).  {"name": JOB, "wait": bool} -> {"worker", "job",
 * "ok", "checks": [...]}; an unhealthy job is a reply too, not an error. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
