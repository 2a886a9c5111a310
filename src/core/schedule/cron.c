/* cron.c — cron and Quartz expressions (5, 6 or 7 fields, ? L LW NW NL N#k,
 * names, macros).  An expression is parsed once into bitsets; the next fire
 * time is found field by field (year, month, day, hour, minute, second) with
 * bit scans over local wall time, then mapped to UTC by the DST rule of
 * INTERFACES.md.  No loop steps through time unit by unit, and every loop is
 * bounded by the year limit 2099.
 * Hand-written: Debian ships no C cron-expression library (cronie and Vixie
 * cron embed a minute-stepping matcher in their daemons, without seconds,
 * years, L, W or #). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/schedule/internal.h"

enum field { F_SEC, F_MIN, F_HOUR, F_DOM, F_MON, F_DOW, F_YEAR, NFIELDS };

#define YEAR_MIN 1970
#define YEAR_MAX 2099
#define TOKEN_MAX 64
/* 2100-01-03T00:00:00Z: past any wall time of 2099 in any zone. */
#define CRON_END 4102617600LL
/* Walls before 1970 never match, so earlier starts behave alike; clamping
 * keeps the arithmetic small. */
#define CRON_START (-4 * 86400LL)
#define MAX_OFF (26 * 3600LL)   /* bound on any zone's UTC offset */

struct field_def {
	const char *name;
	int min, max;   /* values accepted */
	int top;        /* the largest value '*' stands for (Sunday is 0) */
};

static const struct field_def defs[NFIELDS] = {
	{ "second", 0, 59, 59 },
	{ "minute", 0, 59, 59 },
	{ "hour", 0, 23, 23 },
	{ "day-of-month", 1, 31, 31 },
	{ "month", 1, 12, 12 },
	{ "day-of-week", 0, 7, 6 },
	{ "year", YEAR_MIN, YEAR_MAX, YEAR_MAX },
};

static const char *const month_names[12] = {
	"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december",
};
static const char *const day_names[7] = {
	"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
};

/* Kept small: a daemon may hold 100,000 of them. */
struct cron {
	uint64_t sec, min;      /* bit v */
	uint64_t year[3];       /* bit y - 1970 */
	uint32_t hour;          /* bits 0-23 */
	uint32_t dom;           /* bits 1-31 */
	uint32_t dom_w;         /* NW: bit N */
	uint16_t mon;           /* bits 1-12 */
	uint8_t dow;            /* bits 0-6, Sunday = 0 */
	uint8_t dow_last;       /* NL: the last weekday N of the month */
	uint8_t dow_nth[7];     /* N#k: bit k-1 for weekday N */
	bool dom_star, dow_star;    /* the field is exactly '*' or '?' */
	bool dom_last, dom_lastw;   /* L, LW */
	/* cronie's MIN_STAR|HR_STAR: the minute or the hour field begins with
	 * a star (every minute, every 15th, ...): real time across DST */
	bool min_star, hour_star;
	bool wild;
};

struct parse {
	struct cron *c;
	uint64_t bits[NFIELDS][3];
	char *err;
	size_t errlen;
};

static int fail(struct parse *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int syntax(struct parse *p, int f, const char *tok)
{
	return fail(p, "syntax error in %s field: '%s'", defs[f].name, tok);
}

static void set_bit(uint64_t *w, unsigned bit)
{
	w[bit / 64] |= 1ULL << (bit % 64);
}

/* ---- parsing ---- */

static const char *match_name(const char *s, const char *const *names, int n, int *v)
{
	for (int i = 0; i < n; i++) {
		size_t len = strlen(names[i]);

		if (strncasecmp(s, names[i], len) == 0) {
			*v = i;
			return s + len;
		}
	}
	for (int i = 0; i < n; i++) {
		if (strncasecmp(s, names[i], 3) == 0) {
			*v = i;
			return s + 3;
		}
	}
	return NULL;
}

/* A number (at most 4 digits) or, in the month and day-of-week fields, a
 * name.  Range checks are the caller's. */
static const char *parse_value(int f, const char *s, int *v)
{
	int n = 0;

	if (*s >= '0' && *s <= '9') {
		for (*v = 0; *s >= '0' && *s <= '9'; s++) {
			if (++n > 4)
				return NULL;
			*v = *v * 10 + (*s - '0');
		}
		return s;
	}
	if (f == F_MON && (s = match_name(s, month_names, 12, v)))
		++*v;
	else if (f == F_DOW)
		s = match_name(s, day_names, 7, v);
	else
		s = NULL;
	return s;
}

static int parse_step(struct parse *p, int f, const char *s, const char *tok, int *step)
{
	const struct field_def *d = &defs[f];
	int n = 0;

	for (*step = 0; *s >= '0' && *s <= '9'; s++) {
		if (++n > 4)
			return syntax(p, f, tok);
		*step = *step * 10 + (*s - '0');
	}
	if (n == 0 || *s)
		return syntax(p, f, tok);
	if (*step == 0)
		return fail(p, "step 0 in %s field: '%s'", d->name, tok);
	if (*step > d->top - d->min)
		return fail(p, "step %d beyond the range of the %s field (%d-%d): '%s'",
			    *step, d->name, d->min, d->top, tok);
	return 0;
}

static int misplaced(struct parse *p, int f, char what, const char *tok)
{
	return fail(p, "'%c' means nothing in the %s field: '%s'", what, defs[f].name, tok);
}

/* The day suffixes: 15W (dom), 5L and 6#3 (dow). */
static int parse_suffix(struct parse *p, int f, int v, const char *s, const char *tok)
{
	struct cron *c = p->c;
	int k;

	if (*s == 'W' || *s == 'w') {
		if (f != F_DOM)
			return f == F_DOW ? syntax(p, f, tok) : misplaced(p, f, 'W', tok);
		if (s[1] || v < 1 || v > 31)
			return syntax(p, f, tok);
		c->dom_w |= 1u << v;
		return 0;
	}
	if (*s == 'L' || *s == 'l') {
		if (f != F_DOW)
			return f == F_DOM ? syntax(p, f, tok) : misplaced(p, f, 'L', tok);
		if (s[1] || v > 7)
			return syntax(p, f, tok);
		c->dow_last |= 1u << (v % 7);
		return 0;
	}
	if (f != F_DOW)
		return misplaced(p, f, '#', tok);
	if (v > 7 || s[1] < '0' || s[1] > '9' || s[2])
		return syntax(p, f, tok);
	k = s[1] - '0';
	if (k < 1 || k > 5)
		return fail(p, "occurrence %d out of range 1-5 in %s field: '%s'",
			    k, defs[f].name, tok);
	c->dow_nth[v % 7] |= 1u << (k - 1);
	return 0;
}

static int parse_item(struct parse *p, int f, const char *tok)
{
	const struct field_def *d = &defs[f];
	const char *s = tok;
	int lo, hi, step = 1, rc;

	if (strcasecmp(tok, "L") == 0 || strcasecmp(tok, "LW") == 0) {
		if (f == F_DOW && !tok[1])
			return fail(p, "'L' alone means nothing in the day-of-week field "
				    "(5L is the last Friday): '%s'", tok);
		if (f != F_DOM)
			return misplaced(p, f, 'L', tok);
		if (tok[1])
			p->c->dom_lastw = true;
		else
			p->c->dom_last = true;
		return 0;
	}
	if (*s == '*') {
		lo = d->min;
		hi = d->top;
		s++;
		if (*s && *s != '/')
			return syntax(p, f, tok);
	} else {
		if (!(s = parse_value(f, s, &lo)))
			return syntax(p, f, tok);
		hi = lo;
		if (*s && strchr("WwLl#", *s))
			return parse_suffix(p, f, lo, s, tok);
		if (*s == '-') {
			if (!(s = parse_value(f, s + 1, &hi)))
				return syntax(p, f, tok);
		} else if (*s == '/') {
			hi = lo > d->top ? lo : d->top;   /* 5/15: to the end */
		}
	}
	if (*s == '/' && (rc = parse_step(p, f, s + 1, tok, &step)) < 0)
		return rc;
	if (*s && *s != '/')
		return syntax(p, f, tok);
	if (lo < d->min || lo > d->max || hi < d->min || hi > d->max)
		return syntax(p, f, tok);
	if (lo > hi)
		return fail(p, "reversed range in %s field (cron ranges do not wrap): '%s'",
			    d->name, tok);
	for (int v = lo; v <= hi; v += step)
		set_bit(p->bits[f], f == F_YEAR ? v - YEAR_MIN : f == F_DOW ? v % 7 : v);
	return 0;
}

static int parse_field(struct parse *p, int f, const char *text)
{
	char tok[TOKEN_MAX];
	const char *s = text, *e;
	int rc;

	if (f == F_MIN && text[0] == '*')
		p->c->min_star = true;
	if (f == F_HOUR && text[0] == '*')
		p->c->hour_star = true;
	if (strcmp(text, "?") == 0 || strcmp(text, "*") == 0) {
		if (*text == '?' && f != F_DOM && f != F_DOW)
			return misplaced(p, f, '?', text);
		if (f == F_DOM)
			p->c->dom_star = true;
		if (f == F_DOW)
			p->c->dow_star = true;
		return parse_item(p, f, "*");
	}
	for (;;) {
		e = strchr(s, ',');
		if (!e)
			e = s + strlen(s);
		if (e == s || (size_t)(e - s) >= sizeof(tok))
			return syntax(p, f, e == s ? text : s);
		memcpy(tok, s, (size_t)(e - s));
		tok[e - s] = '\0';
		if ((rc = parse_item(p, f, tok)) < 0)
			return rc;
		if (!*e)
			return 0;
		s = e + 1;
	}
}

static const char *macro(const char *expr)
{
	static const char *const m[][2] = {
		{ "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" },
		{ "@monthly", "0 0 1 * *" }, { "@weekly", "0 0 * * 0" },
		{ "@daily", "0 0 * * *" }, { "@midnight", "0 0 * * *" },
		{ "@hourly", "0 * * * *" },
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		if (strcasecmp(expr, m[i][0]) == 0)
			return m[i][1];
	}
	return NULL;
}

/* Splits on blanks in place; returns the field count (up to max kept). */
static int split(char *s, char **fields, int max)
{
	int n = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' ||
		       *s == '\f' || *s == '\v')
			*s++ = '\0';
		if (!*s)
			return n;
		if (n < max)
			fields[n] = s;
		n++;
		while (*s && !strchr(" \t\n\r\f\v", *s))
			s++;
	}
}

static void finish(struct cron *c, uint64_t bits[NFIELDS][3], bool has_year)
{
	c->sec = bits[F_SEC][0];
	c->min = bits[F_MIN][0];
	c->hour = (uint32_t)bits[F_HOUR][0];
	c->dom = (uint32_t)bits[F_DOM][0];
	c->mon = (uint16_t)bits[F_MON][0];
	c->dow = (uint8_t)bits[F_DOW][0];
	if (has_year)
		memcpy(c->year, bits[F_YEAR], sizeof(c->year));
	else
		for (int y = 0; y <= YEAR_MAX - YEAR_MIN; y++)
			set_bit(c->year, y);
	c->wild = c->min_star || c->hour_star;
}

static int parse_fields(struct parse *p, char *text)
{
	static const int order[3][NFIELDS] = {
		{ F_MIN, F_HOUR, F_DOM, F_MON, F_DOW },
		{ F_SEC, F_MIN, F_HOUR, F_DOM, F_MON, F_DOW },
		{ F_SEC, F_MIN, F_HOUR, F_DOM, F_MON, F_DOW, F_YEAR },
	};
	char *fields[NFIELDS], mbuf[16];
	const char *m;
	int n = split(text, fields, NFIELDS), rc;

	if (n == 1 && fields[0][0] == '@') {
		if (!(m = macro(fields[0])))
			return fail(p, "unknown macro: '%s'", fields[0]);
		snprintf(mbuf, sizeof(mbuf), "%s", m);
		n = split(mbuf, fields, NFIELDS);
	}
	if (n < 5 || n > 7)
		return fail(p, "expected 5, 6 or 7 fields, got %d", n);
	if (n == 5)
		set_bit(p->bits[F_SEC], 0);
	for (int i = 0; i < n; i++) {
		if ((rc = parse_field(p, order[n - 5][i], fields[i])) < 0)
			return rc;
	}
	finish(p->c, p->bits, n == 7);
	return 0;
}

int cron_parse(const char *expr, struct cron **out, char *err, size_t errlen)
{
	struct parse p = { 0 };
	char dummy[1], *text = NULL;
	int rc;

	p.err = err && errlen ? err : dummy;
	p.errlen = err && errlen ? errlen : sizeof(dummy);
	*out = NULL;
	text = strdup(expr);
	p.c = calloc(1, sizeof(*p.c));
	if (!text || !p.c) {
		rc = -ENOMEM;
		fail(&p, "out of memory");
		goto error;
	}
	if ((rc = parse_fields(&p, text)) < 0)
		goto error;
	free(text);
	*out = p.c;
	return 0;
error:
	free(text);
	free(p.c);
	return rc;
}

void cron_free(struct cron *c)
{
	free(c);
}

/* ---- next fire time ---- */

/* Calendar arithmetic is tz.c's (tz_month_days, tz_floor_div). */


/* The first set bit >= from, or -1. */
static int next_bit(uint64_t set, int from)
{
	if (from >= 64)
		return -1;
	set &= ~0ULL << (from < 0 ? 0 : from);
	return set ? __builtin_ctzll(set) : -1;
}

static int next_year(const struct cron *c, int64_t y)
{
	int from = (int)(y - YEAR_MIN), v;

	for (int i = from / 64; i < 3; i++) {
		v = next_bit(c->year[i], i == from / 64 ? from % 64 : 0);
		if (v >= 0)
			return YEAR_MIN + i * 64 + v;
	}
	return -1;
}

/* The weekday-nearest day for NW, never leaving the month. */
static int nearest_weekday(int day, int wd, int nd)
{
	if (wd == 6)
		return day == 1 ? 3 : day - 1;
	if (wd == 0)
		return day == nd ? day - 2 : day + 1;
	return day;
}

static uint32_t dom_mask(const struct cron *c, int nd, int w1)
{
	uint32_t m = (uint32_t)c->dom;
	int wl = (w1 + nd - 1) % 7;

	if (c->dom_last)
		m |= 1u << nd;
	if (c->dom_lastw)
		m |= 1u << (wl == 6 ? nd - 1 : wl == 0 ? nd - 2 : nd);
	for (uint32_t w = c->dom_w; w; w &= w - 1) {
		int day = __builtin_ctz(w);

		if (day <= nd)   /* 31W does not fire in 30-day months */
			m |= 1u << nearest_weekday(day, (w1 + day - 1) % 7, nd);
	}
	return m;
}

/* The days of the dow field in a month whose 1st is weekday w1. */
static uint32_t week_mask(const struct cron *c, int w1)
{
	/* bit k: weekday (w1 + k) % 7, i.e. day k + 1 */
	uint64_t p = ((uint64_t)c->dow >> w1 | (uint64_t)c->dow << (7 - w1)) & 0x7f;

	p |= p << 7;
	p |= p << 14;
	p |= p << 28;
	return (uint32_t)(p << 1);
}

static uint32_t dow_mask(const struct cron *c, int nd, int w1)
{
	uint32_t m = week_mask(c, w1);

	for (int wd = 0; wd < 7; wd++) {
		int first = 1 + (wd - w1 + 7) % 7;

		if (c->dow_last >> wd & 1)
			m |= 1u << (first + (nd - first) / 7 * 7);
		for (int k = 0; k < 5; k++) {
			if ((c->dow_nth[wd] >> k & 1) && first + 7 * k <= nd)
				m |= 1u << (first + 7 * k);
		}
	}
	return m;
}

/* Days 1-31 of month m of year y on which the expression fires. */
static uint32_t day_mask(const struct cron *c, int64_t y, int m)
{
	int nd = tz_month_days(y, m);
	int w1 = (int)((tz_days_from_civil(y, m, 1) % 7 + 11) % 7);
	uint32_t valid = ((1u << nd) - 1) << 1, mask;

	if (c->dom_star && c->dow_star)
		mask = valid;
	else if (c->dow_star)
		mask = dom_mask(c, nd, w1);
	else if (c->dom_star)
		mask = dow_mask(c, nd, w1);
	else    /* both restricted: either is enough */
		mask = dom_mask(c, nd, w1) | dow_mask(c, nd, w1);
	return mask & valid;
}

/* The first wall time >= w (seconds, as if UTC) the fields match, or -1
 * past 2099.  Each step jumps straight to the next candidate of one field
 * and resets the smaller ones. */
static int64_t wall_next(const struct cron *c, int64_t w)
{
	int64_t days = tz_floor_div(w, 86400), y;
	int secs = (int)(w - days * 86400), mo, d, h, mi, s, v, mask_m = 0;
	uint32_t mask = 0;

	tz_civil_from_days(days, &y, &mo, &d);
	h = secs / 3600;
	mi = secs / 60 % 60;
	s = secs % 60;
	if (y < YEAR_MIN) {
		y = YEAR_MIN;
		mo = d = 1;
		h = mi = s = 0;
	}
	/* At most ~130 years x 12 months of iterations (an impossible day). */
	for (int guard = 0; guard < 20000; guard++) {
		if (y > YEAR_MAX || (v = next_year(c, y)) < 0)
			return -1;
		if (v != y) {
			y = v;
			mo = d = 1;
			h = mi = s = 0;
		}
		if ((v = next_bit(c->mon, mo)) < 0) {
			y++;
			mo = d = 1;
			h = mi = s = 0;
			continue;
		}
		if (v != mo) {
			mo = v;
			d = 1;
			h = mi = s = 0;
		}
		if (mask_m != mo + 100 * (int)(y - YEAR_MIN)) {
			mask_m = mo + 100 * (int)(y - YEAR_MIN);
			mask = day_mask(c, y, mo);
		}
		if ((v = next_bit(mask, d)) < 0) {
			if (++mo > 12) {
				mo = 1;
				y++;
			}
			d = 1;
			h = mi = s = 0;
			continue;
		}
		if (v != d) {
			d = v;
			h = mi = s = 0;
		}
		if ((v = next_bit(c->hour, h)) < 0) {
			d++;
			h = mi = s = 0;
			continue;
		}
		if (v != h) {
			h = v;
			mi = s = 0;
		}
		if ((v = next_bit(c->min, mi)) < 0) {
			h++;
			mi = s = 0;
			continue;
		}
		if (v != mi) {
			mi = v;
			s = 0;
		}
		if ((v = next_bit(c->sec, s)) < 0) {
			mi++;
			s = 0;
			continue;
		}
		return tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + v;
	}
	return -1;
}

static void wall_tm(int64_t w, struct tm *tm)
{
	int64_t days = tz_floor_div(w, 86400), y;
	int secs = (int)(w - days * 86400), m, d;

	tz_civil_from_days(days, &y, &m, &d);
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = (int)(y - 1900);
	tm->tm_mon = m - 1;
	tm->tm_mday = d;
	tm->tm_hour = secs / 3600;
	tm->tm_min = secs / 60 % 60;
	tm->tm_sec = secs % 60;
}

/* Wildcard jobs follow real time: the first instant after `after`
 * whose local wall time matches.  Skipped wall times never occur; repeated
 * ones occur twice.  Walks the periods of constant UTC offset. */
static int64_t next_real(const struct cron *c, const struct tz *z, int64_t after)
{
	int64_t t = after + 1, start, end, w;

	for (int i = 0; i < 1000; i++) {
		int off = tz_period(z, t, &start, &end);

		if ((w = wall_next(c, t + off)) < 0)
			return -1;
		if (w - off < end)
			return w - off;
		/* No match before `end`.  Once 52 h past t, wall times can no
		 * longer fall back below t's, so jump to just before the
		 * candidate's wall time can occur. */
		if (end - t >= 2 * MAX_OFF && w - MAX_OFF - 1 > end)
			t = w - MAX_OFF - 1;
		else
			t = end;
	}
	return -1;
}

/* Fixed-time jobs work in wall time: a match in a skipped hour fires at
 * the jump, one in a repeated hour on the first pass only. */
static int64_t next_wall(const struct cron *c, const struct tz *z, int64_t after)
{
	int64_t start, end, w, u[2];
	int off = tz_period(z, after, &start, &end), prev;
	struct tm tm;

	w = after + off + 1;
	if (start != INT64_MIN) {
		/* In the second pass of a repeated hour, the repeated walls
		 * already fired (on the first pass): resume after them. */
		prev = tz_period(z, start - 1, NULL, NULL);
		if (prev > off && after + off < start + prev)
			w = start + prev;
	}
	for (int i = 0; i < 64; i++) {
		if ((w = wall_next(c, w)) < 0)
			return -1;
		wall_tm(w, &tm);
		tz_from_local(z, &tm, u);
		if (u[0] > after)
			return u[0];
		w++;
	}
	return -1;
}

int64_t cron_next(const struct cron *c, const struct tz *z, int64_t after)
{
	if (after >= CRON_END)
		return -1;
	if (after < CRON_START)
		after = CRON_START;
	return c->wild ? next_real(c, z, after) : next_wall(c, z, after);
}
