/* schedule.c — the schedule dispatcher: detects the language of a schedule
 * string by its shape (see internal.h), parses it once and answers "when
 * next?" in microseconds for the engine.  Cron and calendar do the work in
 * cron.c and calendar.c; @every and never are handled here.
 * Hand-written: the languages are jobd's own. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/schedule.h"
#include "core/schedule/internal.h"

#define US 1000000LL
/* @every accepts up to ~100 years; beyond that it is a typo. */
#define EVERY_MAX (100LL * 366 * 86400 * US)

struct sched {
	int kind;
	const struct tz *z;
	union {                 /* by kind */
		struct cron *cron;
		struct cal *cal;
		int64_t every;  /* microseconds */
	};
};

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int count_fields(const char *s)
{
	int n = 0;

	while (*s) {
		while (blank(*s))
			s++;
		if (!*s)
			break;
		n++;
		while (*s && !blank(*s))
			s++;
	}
	return n;
}

/* The duration of "@every DUR": numbers with units w d h m s ms us, summed
 * ("1h30m"), or a bare number of seconds.  Parsed here rather than with
 * timefmt's dur_parse so the pure schedule code links on its own; the
 * grammar is the same. */
static int every_parse(const char *s, int64_t *us, char *err, size_t errlen)
{
	static const struct { const char *unit; int64_t us; } units[] = {
		{ "ms", 1000 }, { "us", 1 }, { "w", 7 * 86400 * US }, { "d", 86400 * US },
		{ "h", 3600 * US }, { "m", 60 * US }, { "s", US },
	};
	const char *start = s;
	int64_t total = 0;

	if (!*s)
		goto error;
	while (*s) {
		int64_t n = 0, mul = 0;
		int digits = 0;

		for (; *s >= '0' && *s <= '9'; s++, digits++) {
			if (n > EVERY_MAX / 10)
				goto range;
			n = n * 10 + (*s - '0');
		}
		if (!digits)
			goto error;
		if (!*s && s - start == digits)
			mul = US;   /* a bare number: seconds */
		for (size_t i = 0; !mul && i < sizeof(units) / sizeof(units[0]); i++) {
			size_t len = strlen(units[i].unit);

			if (strncmp(s, units[i].unit, len) == 0) {
				mul = units[i].us;
				s += len;
			}
		}
		if (!mul)
			goto error;
		if (n > (EVERY_MAX - total) / mul)
			goto range;
		total += n * mul;
	}
	if (total < US) {
		snprintf(err, errlen, "@every interval must be at least 1s: '%s'", start);
		return -EINVAL;
	}
	*us = total;
	return 0;
range:
	snprintf(err, errlen, "@every interval too long: '%s'", start);
	return -EINVAL;
error:
	snprintf(err, errlen, "syntax error in @every duration: '%s'", start);
	return -EINVAL;
}

/* The language of a trimmed expression, by shape (internal.h). */
static int detect(const char *s)
{
	const char *f = s;

	if (!*s || strcmp(s, "@0") == 0)
		return SCHED_NEVER;
	if (strcasecmp(s, "@reboot") == 0)
		return SCHED_REBOOT;
	if (strncasecmp(s, "@every", 6) == 0 && (!s[6] || blank(s[6])))
		return SCHED_EVERY;
	if (s[0] == '@')
		return s[1] >= '0' && s[1] <= '9' ? SCHED_CALENDAR : SCHED_CRON;
	if (s[0] == '[')
		return SCHED_CALENDAR;
	if (*f == '!')
		f++;
	return count_fields(f) <= 4 ? SCHED_CALENDAR : SCHED_CRON;
}

static int parse_body(struct sched *s, const char *expr, char *err, size_t errlen)
{
	const char *d;

	switch (s->kind) {
	case SCHED_EVERY:
		for (d = expr + 6; blank(*d); d++)
			;
		return every_parse(d, &s->every, err, errlen);
	case SCHED_CRON:
		return cron_parse(expr, &s->cron, err, errlen);
	case SCHED_CALENDAR:
		return cal_parse(expr, &s->cal, err, errlen);
	default:
		return 0;
	}
}

int sched_parse(const char *expr, const char *tz, struct sched **out,
                char *err, size_t errlen)
{
	struct sched *s = NULL;
	char dummy[1], *text = NULL;
	size_t len;
	int rc;

	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	*out = NULL;
	if (!expr)
		expr = "";
	while (blank(*expr))
		expr++;
	len = strlen(expr);
	while (len > 0 && blank(expr[len - 1]))
		len--;
	text = strndup(expr, len);
	s = calloc(1, sizeof(*s));
	if (!text || !s) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto error;
	}
	if ((rc = tz_get(tz, &s->z, err, errlen)) < 0)
		goto error;
	s->kind = detect(text);
	if ((rc = parse_body(s, text, err, errlen)) < 0)
		goto error;
	free(text);
	*out = s;
	return 0;
error:
	free(text);
	sched_free(s);
	return rc;
}

void sched_free(struct sched *s)
{
	if (!s)
		return;
	if (s->kind == SCHED_CRON && s->cron)
		cron_free(s->cron);
	if (s->kind == SCHED_CALENDAR && s->cal)
		cal_free(s->cal);
	free(s);
}

int sched_kind(const struct sched *s)
{
	return s->kind;
}

const struct tz *sched_tz(const struct sched *s)
{
	return s->z;
}

static int64_t floor_sec(int64_t us)
{
	return us / US - (us % US < 0);
}

/* @every: the first whole second after `after`, but not before last + DUR
 * (rounded up to a whole second).  A job never run (last == 0) fires at
 * the first whole second after `after`, i.e. as soon as it is armed. */
static int64_t every_next(const struct sched *s, int64_t after, int64_t last)
{
	int64_t soon, due;

	if (after >= INT64_MAX - 2 * US)
		return -1;
	soon = (floor_sec(after) + 1) * US;
	if (last == 0 || last > INT64_MAX - s->every - US)
		return soon;
	due = last + s->every;
	due = -floor_sec(-due) * US;    /* round up */
	return due > soon ? due : soon;
}

int64_t sched_next(const struct sched *s, int64_t after, int64_t last,
                   uint64_t seed)
{
	int64_t t;

	switch (s->kind) {
	case SCHED_EVERY:
		return every_next(s, after, last);
	case SCHED_CRON:
		/* A fire strictly after `after` (us) is strictly after its
		 * whole second, since fire times are whole seconds. */
		t = cron_next(s->cron, s->z, floor_sec(after));
		return t < 0 ? -1 : t * US;
	case SCHED_CALENDAR:
		t = cal_next(s->cal, s->z, floor_sec(after), floor_sec(last), seed);
		return t < 0 ? -1 : t * US;
	default:
		return -1;  /* never; @reboot fires only at daemon start */
	}
}

int sched_default_catchup(const struct sched *s)
{
	return s->kind == SCHED_EVERY || s->kind == SCHED_CALENDAR;
}
