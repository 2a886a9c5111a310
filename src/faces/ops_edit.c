/* ops_edit.c — set-job (one field of a job: schedule, command, enabled;
 * 9P's writes to schedule and cmd, jobctl set) and create's generated
 * names (9P's clone).  The engine does the work (engine/jobedit.c); here
 * are the request's shape and the permissions. */
#include "faces/ops_edit.h"

#include <errno.h>
#include <string.h>

#include "engine/jobedit.h"
#include "engine/log.h"
#include "faces/ops.h"

static const char *const set_fields[] = {
	"schedule", "command", "argv", "enabled", NULL,
};

/* The one field to set; fails c unless exactly one is given. */
static const char *set_field(struct call *c, json_t *data)
{
	const char *field = NULL;
	for (const char *const *f = set_fields; *f; f++) {
		if (!json_object_get(data, *f))
			continue;
		if (field) {
			call_fail(c, -EINVAL, "give one field to set, not both '%s' "
			          "and '%s'", field, *f);
			return NULL;
		}
		field = *f;
	}
	if (!field)
		call_fail(c, -EINVAL, "missing the field to set: schedule, "
		          "command, argv or enabled");
	return field;
}

/* Definition changes are the owner's and root's or the daemon's user's;
 * a job file's text only root's or the daemon's user's (as editing it and
 * reloading is). */
static int may_set(struct call *c, const struct job *j, const char *field)
{
	if (j->source && !c->admin && strcmp(field, "enabled") != 0) {
		call_fail(c, -EPERM, "permission denied: job '%s' is defined in "
		          "%s; only root or the daemon's user may change it",
		          j->name, j->source);
		return 0;
	}
	if (c->admin || j->owner_uid == c->uid)
		return 1;
	call_fail(c, -EPERM, "permission denied: job '%s' belongs to uid %u",
	          j->name, j->owner_uid);
	return 0;
}

void op_set_job(struct call *c, json_t *data)
{
	const char *name = json_string_value(json_object_get(data, "name"));
	const char *field;
	struct job *j;
	char err[1024];

	if (!name || !*name)
		return call_fail(c, -EINVAL, "missing field 'name'");
	if (!(j = engine_job_find(c->e, name)))
		return call_fail(c, -ENOENT, "job '%s' not found", name);
	if (!(field = set_field(c, data)) || !may_set(c, j, field))
		return;
	int rc = engine_job_set(c->e, name, field, json_object_get(data, field),
	                        &j, err, sizeof err);
	if (rc < 0)
		return call_fail(c, rc, "%s", err);
	log_info("job %s: %s set by uid %u%s%s", name, field, c->uid,
	         j->source ? " in " : "", j->source ? j->source : "");
	call_reply(c, json_pack("{s:o}", "job", job_to_json(j)));
}

int ops_create_name(struct call *c, json_t *data, json_t *def)
{
	char name[NAME_MAX_LEN + 1];
	json_t *g = json_object_get(data, "generate_name");
	if (!json_is_true(g))
		return 0;
	if (json_object_get(def, "name")) {
		call_fail(c, -EINVAL, "give a name or generate_name, not both");
		return -1;
	}
	if (engine_job_name_new(c->e, name, sizeof name) < 0) {
		call_fail(c, -ENOMEM, "cannot make a job name");
		return -1;
	}
	json_object_set_new(def, "name", json_string(name));
	return 0;
}
