/* jobctl_cmd_jobs.c — jobctl's commands on job definitions (create,
 * delete, list, show, enable, disable) and those that run something (run,
 * start/stop/restart/status NAME, reload, submit). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jobd.h"
#include "cmd/jobctl.h"
#include "core/jid.h"
#include "core/schedule.h"
#include "core/tz.h"

/* ---- commands: definitions ------------------------------------------- */

static int job_schedule_check(const struct args *a)
{
	const char *s = opt_get(a, "schedule"), *zone = opt_get(a, "timezone");
	const struct tz *z;
	struct sched *sc;
	char err[ERRLEN];

	if (zone && tz_get(zone, &z, err, sizeof(err)) < 0)
		return bad("--timezone: %s", err);
	if (!s)
		return 0;
	if (sched_parse(s, zone, &sc, err, sizeof(err)) < 0)
		return bad("--schedule: %s", err);
	sched_free(sc);
	return 0;
}

static int job_enums(const struct args *a, json_t *job)
{
	const char *o = opt_get(a, "overlap"), *cu = opt_get(a, "catchup");
	const char *pl = opt_get(a, "placement");

	if (o && overlap_parse(o) < 0)
		return bad("--overlap: '%s' is not one of skip, queue, replace, "
			   "allow", o);
	if (cu && strcmp(cu, "none") && strcmp(cu, "once"))
		return bad("--catchup: '%s' is not one of none, once", cu);
	if (pl && strcmp(pl, "any") && strcmp(pl, "one"))
		return bad("--placement: '%s' is not one of any, one", pl);
	put_str(a, "placement", job);
	put_str(a, "overlap", job);
	put_str(a, "catchup", job);
	if (opt_has(a, "confirm"))
		json_object_set_new(job, "confirm", json_true());
	if (opt_has(a, "disabled"))
		json_object_set_new(job, "enabled", json_false());
	if (opt_has(a, "kill-leftovers"))
		json_object_set_new(job, "kill_leftovers", json_true());
	return 0;
}

/* Every option of `create` into the job object. */
static int job_build(const struct ctl *c, const struct args *a, json_t *job)
{
	/* requires as one string: jobd splits it, not inside "db(up,ok)" */
	static const char *const strs[] = { "schedule", "target", "user",
		"group", "timezone", "requires" };
	static const char *const durs[] = { "timeout", "kill-grace", "backoff",
		"jitter", "lease-timeout" };
	static const char *const lists[] = { "tags", "selectors", "after" };
	int rc = 0;

	if (!opt_has(a, "generate-name"))
		json_object_set_new(job, "name", json_string(a->pos[0]));
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		put_str(a, strs[i], job);
	for (size_t i = 0; !rc && i < sizeof(durs) / sizeof(durs[0]); i++)
		rc = put_dur(a, durs[i], job);
	for (size_t i = 0; !rc && i < sizeof(lists) / sizeof(lists[0]); i++)
		rc = put_list(a, lists[i], job);
	if (!rc)
		rc = put_long(a, "retries", 0, 1000000, job);
	if (!rc)
		rc = put_long(a, "priority", -1000000, 1000000, job);
	if (!rc)
		rc = put_long(a, "overlap-queue-max", 0, 1000, job);
	if (!rc)
		rc = put_long(a, "max-parallel-workers", 0, 1000, job);
	if (!rc)
		rc = job_enums(a, job);
	if (!rc)
		rc = put_cwd(c, a, job);
	if (!rc)
		rc = put_pairs(a, "env", "env", job);
	if (!rc)
		rc = put_pairs(a, "action", "actions", job);
	if (!rc)
		rc = job_schedule_check(a);
	return rc ? rc : put_command(a, !opt_has(a, "generate-name"), job);
}

int cmd_create(struct ctl *c, struct args *a)
{
	json_t *job = json_object(), *reply;
	int gen = opt_has(a, "generate-name");
	int rc = gen ? 0 : check_name("job", a->pos[0]);

	if (!rc && !gen && strchr(a->pos[0], '#'))
		rc = bad("invalid job name '%s': NAME.task#N names the tasks of "
			 "service files (docs/tasks.md)", a->pos[0]);
	if (!rc)
		rc = job_build(c, a, job);
	if (rc) {
		json_decref(job);
		return rc;
	}
	rc = ctl_call(c, "create", json_pack("{s:o,s:b,s:b}", "job", job,
		      "replace", opt_has(a, "replace"), "generate_name", gen),
		      NULL, &reply);
	if (rc)
		return rc;
	if (c->json)
		out_json(reply);
	else
		printf("%s job %s\n", opt_has(a, "replace") ? "saved" : "created",
		       json_string_value(json_object_get(json_object_get(reply,
		       "job"), "name")));
	json_decref(reply);
	return 0;
}

/* delete, enable, disable: {"name"} -> "ok" ("deleted job NAME"). */
int cmd_name(struct ctl *c, struct args *a)
{
	char done[NAME_MAX_LEN + 32];
	int rc = check_name("job", a->pos[0]);

	if (rc)
		return rc;
	snprintf(done, sizeof(done), "%sd job %s", c->cmd->name, a->pos[0]);
	return call_message(c, c->cmd->name,
			    json_pack("{s:s}", "name", a->pos[0]), done);
}

/* set NAME KEY=VALUE: the request is jobctl_edit.c's. */
int cmd_set(struct ctl *c, struct args *a)
{
	char err[ERRLEN], done[NAME_MAX_LEN + 64];
	json_t *data;
	int rc = check_name("job", a->pos[0]);

	if (rc)
		return rc;
	if (set_request(a->pos[0], a->pos[1], &data, err, sizeof(err)) < 0)
		return bad("set: %s", err);
	snprintf(done, sizeof(done), "changed job %s", a->pos[0]);
	return call_message(c, "set-job", data, done);
}

int cmd_list(struct ctl *c, struct args *a)
{
	(void)a;
	return call_show(c, "list", NULL, out_jobs, NULL);
}

int cmd_show(struct ctl *c, struct args *a)
{
	int rc = check_name("job", a->pos[0]);

	return rc ? rc : call_show(c, "show",
		json_pack("{s:s}", "name", a->pos[0]), out_job, NULL);
}

/* ---- commands: running ------------------------------------------------ */

static int run_request(const struct args *a, json_t *req)
{
	int rc = put_list(a, "allocations", req);

	if (!rc)
		rc = put_list(a, "tags", req);
	if (!rc)
		rc = put_str(a, "rid", req);
	if (opt_has(a, "yes") || opt_has(a, "confirm"))
		json_object_set_new(req, "yes", json_true());
	if (opt_has(a, "health-check"))
		json_object_set_new(req, "health_check", json_true());
	return rc;
}

/* Runs selected by tags: the daemon starts them and gives their jids. */
static int run_tags(struct ctl *c, json_t *req)
{
	json_t *reply, *list, *v;
	size_t i;
	int rc;

	json_object_set_new(req, "wait", json_false());
	json_object_set_new(req, "follow", json_false());
	if ((rc = ctl_call(c, "run", req, NULL, &reply)) != 0)
		return rc;
	list = json_object_get(reply, "jids");
	if (!list)
		list = json_object_get(reply, "runs");
	if (c->json)
		out_json(reply);
	else if (!json_is_array(list))
		out_message(json_object_get(reply, "jid"), NULL);
	json_array_foreach(c->json ? NULL : list, i, v)
		out_message(json_is_object(v) ? json_object_get(v, "jid") : v,
			    NULL);
	json_decref(reply);
	return 0;
}

/* status SERVICE: each task's status from its last exit code; exits 0
 * when up or warn, 3 (not running) when down or unknown. */
int show_task_status(struct ctl *c, json_t *reply)
{
	const char *all = json_string_value(json_object_get(reply, "status"));
	json_t *t;
	size_t i;

	if (c->json)
		out_json(reply);
	json_array_foreach(c->json ? NULL : json_object_get(reply, "tasks"),
			   i, t) {
		json_t *code = json_object_get(t, "code");
		printf("%-20s %-5s", json_string_value(json_object_get(t, "name")),
		       json_string_value(json_object_get(t, "status")));
		if (json_is_integer(code))
			printf(" (last exit %lld)", (long long)json_integer_value(code));
		else
			printf(" (no finished run)");
		printf("\n");
	}
	return all && (!strcmp(all, "up") || !strcmp(all, "warn")) ? 0 :
	       EXIT_NOT_RUNNING;
}

/* run NAME, and the lifecycle actions (start, stop, ... = action). */
static int run_job(struct ctl *c, struct args *a, const char *action)
{
	json_t *req = json_object(), *reply;
	int rc, wait = !opt_has(a, "no-wait");

	if (a->npos)
		json_object_set_new(req, "name", json_string(a->pos[0]));
	if (action)
		json_object_set_new(req, "action", json_string(action));
	if ((a->npos && (rc = check_name("job", a->pos[0]))) ||
	    (rc = run_request(a, req)) != 0) {
		json_decref(req);
		return rc;
	}
	/* --tags alone: every job with the tag; NAME --tags: the tasks of
	 * service NAME with it, waited for as any run */
	if ((json_object_get(req, "tags") && !a->npos) || (a->npos && !wait))
		return run_tags(c, req);
	if (!a->npos) {
		json_decref(req);
		return bad("run: missing NAME (or --tags)");
	}
	if ((rc = run_confirm(c, a->pos[0], req)) != 0) {
		json_decref(req);
		return rc;
	}
	json_object_set_new(req, "follow", json_boolean(wait));
	json_object_set_new(req, "wait", json_boolean(wait));
	/* on a master, run NAME --action A is the action on its workers:
	 * their results come as for start|stop|... */
	lifecycle_begin(c);
	if ((rc = ctl_call(c, "run", req, on_output, &reply)) != 0) {
		lifecycle_end(NULL, action);
		return rc;
	}
	if (json_object_get(reply, "results"))
		rc = lifecycle_end(reply, action);
	else if (lifecycle_end(NULL, action), json_object_get(reply, "tasks"))
		rc = show_task_status(c, reply);
	else
		rc = finish_run(c, reply, 1);
	json_decref(reply);
	return rc;
}

int cmd_run(struct ctl *c, struct args *a)
{
	if (opt_has(a, "allocations") || opt_has(a, "health-check"))
		return cmd_run_action(c, a);
	return run_job(c, a, opt_get(a, "action"));
}

/* reload: the daemon's config and job files; reload NAME: the action. */
int cmd_reload(struct ctl *c, struct args *a)
{
	json_t *reply;
	int rc;

	if (a->npos)
		return cmd_action(c, a);     /* the job's (jobctl_lifecycle.c) */
	if ((rc = ctl_call(c, "reload", NULL, NULL, &reply)) != 0)
		return rc;
	if (c->json)
		out_json(reply);
	else
		printf("reloaded %lld jobs from %lld files\n",
		       (long long)json_integer_value(json_object_get(reply, "jobs")),
		       (long long)json_integer_value(json_object_get(reply, "files")));
	json_decref(reply);
	return 0;
}

/* Waits for run `jid`, streaming its output; exits with its code. */
int wait_jid(struct ctl *c, const char *jid)
{
	json_t *reply;
	int rc = ctl_call(c, "wait", json_pack("{s:s}", "jid", jid), on_output,
			  &reply);

	if (rc)
		return rc;
	rc = finish_run(c, reply, 1);
	json_decref(reply);
	return rc;
}

static int submit_build(const struct ctl *c, const struct args *a,
			json_t *req)
{
	int rc = put_long(a, "priority", -1000000, 1000000, req);

	put_str(a, "target", req);
	put_str(a, "user", req);
	put_str(a, "group", req);
	if (!rc)
		rc = put_long(a, "retries", 0, 1000000, req);
	if (!rc)
		rc = put_time(a, "at", req);
	if (!rc)
		rc = put_dur(a, "timeout", req);
	if (!rc)
		rc = put_cwd(c, a, req);
	if (!rc)
		rc = put_pairs(a, "env", "env", req);
	if (opt_has(a, "kill-leftovers"))
		json_object_set_new(req, "kill_leftovers", json_true());
	return rc ? rc : put_command(a, 0, req);
}

int cmd_submit(struct ctl *c, struct args *a)
{
	json_t *req = json_object(), *reply;
	const char *target = opt_get(a, "target");
	char jid[JID_LEN + 1];
	int rc = target ? check_name("target", target) : 0;

	if (rc || (rc = submit_build(c, a, req)) != 0) {
		json_decref(req);
		return rc;
	}
	if ((rc = ctl_call(c, "submit", req, NULL, &reply)) != 0)
		return rc;
	snprintf(jid, sizeof(jid), "%s", json_is_string(json_object_get(reply,
		 "jid")) ? json_string_value(json_object_get(reply, "jid")) : "");
	if (!opt_has(a, "wait") && c->json)
		out_json(reply);
	else if (!opt_has(a, "wait"))
		printf("%s\n", jid);
	json_decref(reply);
	if (!opt_has(a, "wait"))
		return 0;
	if (!jid[0])
		return bad("submit: jobd's reply has no jid to wait for");
	return wait_jid(c, jid);
}

