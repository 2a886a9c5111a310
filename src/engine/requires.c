/* requires.c — evaluating `requires` items (requires.h).  The parsing and
 * the evaluation are pure (facts come through a lookup callback, so the
 * unit test feeds its own); job_requires_met at the end gives them the
 * engine's jobs. */
#include "engine/requires.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/jobs.h"

static const struct { const char *name; unsigned bit; } states[] = {
	{ "up", REQ_UP }, { "down", REQ_DOWN }, { "ok", REQ_OK },
};

static int state_bit(const char *s, size_t n, unsigned *bit)
{
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		if (strlen(states[i].name) == n && strncmp(states[i].name, s, n) == 0) {
			*bit = states[i].bit;
			return 0;
		}
	return -EINVAL;
}

static int parse_states(const char *item, const char *p, unsigned *mask,
                        char *err, size_t errlen)
{
	/* p is after '(' ; the item ends with ')' */
	const char *end = item + strlen(item) - 1;
	while (p <= end) {
		size_t n = strcspn(p, ", )");
		unsigned bit;
		if (n == 0 && *p != ')') {
			p++;            /* separators */
			continue;
		}
		if (n == 0)
			break;
		if (state_bit(p, n, &bit) < 0) {
			snprintf(err, errlen, "requires: unknown state '%.*s' in '%s' "
			         "(known: up, down, ok)", (int)n, p, item);
			return -EINVAL;
		}
		*mask |= bit;
		p += n;
	}
	if (!*mask) {
		snprintf(err, errlen, "requires: no state in '%s'", item);
		return -EINVAL;
	}
	return 0;
}

int requires_parse(const char *item, char *name, size_t namelen,
                   unsigned *mask, char *err, size_t errlen)
{
	size_t n = strcspn(item, "(");
	size_t len = strlen(item);

	*mask = 0;
	if (n == 0 || n >= namelen || (item[n] && item[len - 1] != ')')) {
		snprintf(err, errlen, "requires: invalid item '%s' (use "
		         "JOB or JOB(STATE,...))", item);
		return -EINVAL;
	}
	memcpy(name, item, n);
	name[n] = '\0';
	if (!job_name_valid(name)) {
		snprintf(err, errlen, "requires: invalid job name '%s' in '%s'",
		         name, item);
		return -EINVAL;
	}
	if (!item[n]) {
		*mask = REQ_UP;          /* the reference's default state */
		return 0;
	}
	return parse_states(item, item + n + 1, mask, err, errlen);
}

int requires_validate(char *const *items, const char *self, char *err,
                      size_t errlen)
{
	char name[128];
	unsigned mask;

	for (; items && *items; items++) {
		int rc = requires_parse(*items, name, sizeof name, &mask, err,
		                        errlen);
		if (rc < 0)
			return rc;
		if (self && strcmp(name, self) == 0) {
			snprintf(err, errlen, "requires: job '%s' cannot require "
			         "itself", self);
			return -EINVAL;
		}
	}
	return 0;
}

static unsigned facts_mask(const struct req_facts *f)
{
	int up = f->running > 0 || f->status_up == 1;
	return (up ? REQ_UP : REQ_DOWN) | (f->last_ok == 1 ? REQ_OK : 0);
}

static const char *facts_word(const struct req_facts *f, unsigned want)
{
	if (want & REQ_OK && !(want & (REQ_UP | REQ_DOWN)))
		return f->last_ok < 0 ? "has never run" : "did not end ok";
	return facts_mask(f) & REQ_UP ? "is up" : "is down";
}

int requires_eval(char *const *items, req_lookup fn, void *ctx, char *err,
                  size_t errlen)
{
	char name[128];
	unsigned want;
	struct req_facts f;

	for (; items && *items; items++) {
		int rc = requires_parse(*items, name, sizeof name, &want, err,
		                        errlen);
		if (rc < 0)
			return rc;
		if (fn(ctx, name, &f) < 0) {
			snprintf(err, errlen, "requires %s: no job '%s'", *items, name);
			return -EAGAIN;
		}
		if (!(facts_mask(&f) & want)) {
			snprintf(err, errlen, "requires %s: job '%s' %s", *items, name,
			         facts_word(&f, want));
			return -EAGAIN;
		}
	}
	return 0;
}

/* ---- the engine's jobs ---------------------------------------------- */

static int engine_facts(void *ctx, const char *name, struct req_facts *out)
{
	const struct job *j = engine_job_find(ctx, name);

	if (!j)
		return -ENOENT;
	/* the job keeps 1 / -1 / 0 (none yet: a zeroed job) */
	out->running = j->running;
	out->status_up = j->status_up ? j->status_up > 0 : -1;
	out->last_ok = j->last_ok ? j->last_ok > 0 : -1;
	return 0;
}

int job_requires_met(struct engine *e, const struct job *j, char *err,
                     size_t errlen)
{
	if (!j->requires || !j->requires[0])
		return 0;
	return requires_eval(j->requires, engine_facts, e, err, errlen);
}
