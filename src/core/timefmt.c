/* timefmt.c — durations ("1h30m") and times (RFC 3339, "now+15m", "@unix")
 * as users write and read them, plus the clocks.
 *
 * Hand-written: strptime() has no RFC 3339 offsets or fractions, and Debian
 * has no small C library for Go-style durations.  Everything is UTC through
 * timegm/gmtime_r; the TZ environment is never consulted (zones are tz.c's).
 *
 * dur_format writes exact integer components, largest first, days being the
 * largest unit ("1d2h", "1h30m", "1s500ms", "250us", "0s"), never decimals,
 * so dur_parse(dur_format(x)) == x for every x >= 0. */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/timefmt.h"

#define US 1000000LL

static int64_t clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * US + ts.tv_nsec / 1000;
}

/* Tests set the wall clock (now_us_fake); 0, the daemon's case, is the
 * real one.  One relaxed load: nothing measurable on the hot paths. */
static _Atomic int64_t fake_now;

int64_t now_us(void)
{
	int64_t fake = atomic_load_explicit(&fake_now, memory_order_relaxed);
	return fake ? fake : clock_us(CLOCK_REALTIME);
}

void now_us_fake(int64_t us)
{
	atomic_store_explicit(&fake_now, us, memory_order_relaxed);
}

int64_t mono_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

/* ---- durations ---------------------------------------------------------- */

struct unit {
	const char *name;
	int64_t us;
};

/* Largest first: dur_format walks it in order (weeks are parsed only). */
static const struct unit units[] = {
	{ "w", 7 * 86400 * US }, { "d", 86400 * US }, { "h", 3600 * US },
	{ "m", 60 * US },        { "s", US },         { "ms", 1000 },
	{ "us", 1 },
};
#define N_UNITS (sizeof(units) / sizeof(units[0]))

static const struct unit *unit_find(const char *s, size_t n)
{
	for (size_t i = 0; i < N_UNITS; i++)
		if (strlen(units[i].name) == n && memcmp(units[i].name, s, n) == 0)
			return &units[i];
	return NULL;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Reads digits at *p into *v; -ERANGE on overflow, -EINVAL if none. */
static int read_uint(const char **p, int64_t *v)
{
	int64_t x = 0;

	if (!is_digit(**p))
		return -EINVAL;
	for (; is_digit(**p); (*p)++) {
		if (x > (INT64_MAX - (**p - '0')) / 10)
			return -ERANGE;
		x = x * 10 + (**p - '0');
	}
	*v = x;
	return 0;
}

#define DUR_ERR(...) do { \
	if (err && errlen) { \
		int k_ = snprintf(err, errlen, "invalid duration '%s': ", s); \
		if (k_ >= 0 && (size_t)k_ < errlen) \
			snprintf(err + k_, errlen - (size_t)k_, __VA_ARGS__); \
	} \
	return -EINVAL; \
} while (0)

/* One "<number><unit>" part at *p, added to *total. */
static int dur_part(const char *s, const char **p, int64_t *total,
		    char *err, size_t errlen)
{
	const char *num = *p, *u;
	const struct unit *un;
	int64_t v;
	int rc = read_uint(p, &v);

	if (rc == -ERANGE)
		DUR_ERR("too large");
	if (rc < 0)
		DUR_ERR("expected a number at '%s'", num);
	for (u = *p; is_alpha(**p); (*p)++)
		;
	if (*p == u && **p)
		DUR_ERR("unexpected '%c' after '%.*s'", **p, (int)(u - num), num);
	if (*p == u)
		DUR_ERR("missing unit after '%.*s'", (int)(u - num), num);
	un = unit_find(u, (size_t)(*p - u));
	if (!un)
		DUR_ERR("unknown unit '%.*s' (use w, d, h, m, s, ms, us)",
			(int)(*p - u), u);
	if (v > (INT64_MAX - *total) / un->us)
		DUR_ERR("too large");
	*total += v * un->us;
	return 0;
}

int dur_parse(const char *s, int64_t *us, char *err, size_t errlen)
{
	const char *p = s;
	int64_t total = 0;

	if (!s || !*s) {
		s = "";
		DUR_ERR("empty");
	}
	if (*s == '-')
		DUR_ERR("negative");
	if (strspn(s, "0123456789") == strlen(s)) {
		/* A bare number is seconds, as in cron's and sleep's usage. */
		if (read_uint(&p, &total) < 0 || total > INT64_MAX / US)
			DUR_ERR("too large");
		*us = total * US;
		return 0;
	}
	while (*p)
		if (dur_part(s, &p, &total, err, errlen) < 0)
			return -EINVAL;
	*us = total;
	return 0;
}

void dur_format(char *out, size_t n, int64_t us)
{
	/* uint64 so that INT64_MIN negates without overflow. */
	uint64_t v = us < 0 ? -(uint64_t)us : (uint64_t)us;
	size_t used = 0;

	if (n == 0)
		return;
	out[0] = '\0';
	if (v == 0) {
		snprintf(out, n, "0s");
		return;
	}
	if (us < 0)
		used += (size_t)snprintf(out, n, "-");
	for (size_t i = 1; i < N_UNITS && used < n; i++) {   /* from days */
		uint64_t q = v / (uint64_t)units[i].us;
		if (q == 0)
			continue;
		v -= q * (uint64_t)units[i].us;
		used += (size_t)snprintf(out + used, n - used, "%" PRIu64 "%s",
					 q, units[i].name);
	}
}

/* ---- times -------------------------------------------------------------- */

#define TIME_ERR(...) do { \
	if (err && errlen) { \
		int k_ = snprintf(err, errlen, "invalid time '%s': ", s); \
		if (k_ >= 0 && (size_t)k_ < errlen) \
			snprintf(err + k_, errlen - (size_t)k_, __VA_ARGS__); \
	} \
	return -EINVAL; \
} while (0)

/* Exactly n digits at *p. */
static int fixed(const char **p, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (!is_digit(**p))
			return -EINVAL;
		x = x * 10 + (**p - '0');
	}
	*v = x;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : d[m - 1];
}

/* Optional ".ffffff..." at *p: microseconds, digits past 6 truncated. */
static int fraction(const char **p, int64_t *frac)
{
	int64_t f = 0;
	int nd = 0;

	*frac = 0;
	if (**p != '.' && **p != ',')
		return 0;
	(*p)++;
	if (!is_digit(**p))
		return -EINVAL;
	for (; is_digit(**p); (*p)++, nd++)
		if (nd < 6)
			f = f * 10 + (**p - '0');
	for (; nd < 6; nd++)
		f *= 10;
	*frac = f;
	return 0;
}

/* "Z", "±hh:mm" or (only when `zone_optional`) nothing: offset in seconds. */
static int zone(const char **p, int zone_optional, int *off)
{
	int sign, hh, mm;

	*off = 0;
	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		return 0;
	}
	if (**p != '+' && **p != '-')
		return zone_optional && !**p ? 0 : -EINVAL;
	sign = *(*p)++ == '-' ? -1 : 1;
	if (fixed(p, 2, &hh) < 0 || *(*p)++ != ':' || fixed(p, 2, &mm) < 0 ||
	    hh > 23 || mm > 59)
		return -EINVAL;
	*off = sign * (hh * 3600 + mm * 60);
	return 0;
}

static int rfc3339(const char *s, int64_t *us, char *err, size_t errlen)
{
	const char *p = s;
	int y, mo, d, h, mi, se, off, space;
	int64_t frac;
	struct tm tm = { 0 };

	if (fixed(&p, 4, &y) < 0 || *p++ != '-' || fixed(&p, 2, &mo) < 0 ||
	    *p++ != '-' || fixed(&p, 2, &d) < 0)
		TIME_ERR("expected RFC 3339 (2026-11-23T10:00:00Z), now, now+DUR, "
			 "now-DUR or @UNIXSECONDS");
	space = *p == ' ';
	if ((*p != 'T' && *p != 't' && !space) || (p++, fixed(&p, 2, &h) < 0) ||
	    *p++ != ':' || fixed(&p, 2, &mi) < 0 || *p++ != ':' ||
	    fixed(&p, 2, &se) < 0)
		TIME_ERR("expected 'THH:MM:SS' after the date");
	if (fraction(&p, &frac) < 0)
		TIME_ERR("expected digits after the decimal point");
	if (zone(&p, space, &off) < 0)
		TIME_ERR("expected a zone 'Z' or '+hh:mm' after the time");
	if (*p)
		TIME_ERR("unexpected '%s' at the end", p);
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		TIME_ERR("no such date");
	if (h > 23 || mi > 59 || se > 60)   /* 60: RFC 3339 leap second */
		TIME_ERR("no such time of day");
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*us = ((int64_t)timegm(&tm) - off) * US + frac;
	return 0;
}

static int unix_time(const char *s, int64_t *us, char *err, size_t errlen)
{
	const char *p = s + 1;
	int64_t sec, frac;

	if (read_uint(&p, &sec) < 0 || sec > INT64_MAX / US - 1)
		TIME_ERR("expected unix seconds after '@'");
	if (fraction(&p, &frac) < 0 || *p)
		TIME_ERR("expected only digits after '@'");
	*us = sec * US + frac;
	return 0;
}

int time_parse(const char *s, int64_t now, int64_t *us, char *err, size_t errlen)
{
	int64_t d;
	char derr[160];

	if (!s || !*s) {
		s = "";
		TIME_ERR("empty");
	}
	if (strcmp(s, "now") == 0) {
		*us = now;
		return 0;
	}
	if (strncmp(s, "now", 3) == 0 && (s[3] == '+' || s[3] == '-')) {
		if (dur_parse(s + 4, &d, derr, sizeof(derr)) < 0)
			TIME_ERR("%s", derr);
		if ((s[3] == '+' && now > INT64_MAX - d) ||
		    (s[3] == '-' && now < INT64_MIN + d))
			TIME_ERR("out of range");
		*us = s[3] == '+' ? now + d : now - d;
		return 0;
	}
	if (s[0] == '@')
		return unix_time(s, us, err, errlen);
	return rfc3339(s, us, err, errlen);
}

/* Splits unix µs into broken-down UTC (floor) and the microsecond part. */
static void split_us(int64_t us, struct tm *tm, int *frac)
{
	int64_t sec = us / US, f = us % US;
	time_t t;

	if (f < 0) {
		f += US;
		sec--;
	}
	t = (time_t)sec;
	if (!gmtime_r(&t, tm))
		memset(tm, 0, sizeof(*tm));
	*frac = (int)f;
}

static char *put_digits(char *p, int v, int width, char after)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	p[width] = after;
	return p + width + 1;
}

/* Every run in every reply has four of these: written digit by digit, not
 * through printf's format parser. */
void time_format_utc(char *out, size_t n, int64_t us)
{
	struct tm tm;
	int frac, year;

	split_us(us, &tm, &frac);
	year = tm.tm_year + 1900;
	if (n < 28 || year < 0 || year > 9999) {
		snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", year,
		         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		         tm.tm_sec, frac);
		return;
	}
	char *p = put_digits(out, year, 4, '-');
	p = put_digits(p, tm.tm_mon + 1, 2, '-');
	p = put_digits(p, tm.tm_mday, 2, 'T');
	p = put_digits(p, tm.tm_hour, 2, ':');
	p = put_digits(p, tm.tm_min, 2, ':');
	p = put_digits(p, tm.tm_sec, 2, '.');
	p = put_digits(p, frac, 6, 'Z');
	*p = '\0';
}

void time_format_offset(char *out, size_t n, int64_t us, int offset_s)
{
	struct tm tm;
	int frac, a = offset_s < 0 ? -offset_s : offset_s;

	split_us(us + (int64_t)offset_s * US, &tm, &frac);
	snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, offset_s < 0 ? '-' : '+',
		 a / 3600, a / 60 % 60);
}

void time_format_relative(char *out, size_t n, int64_t us, int64_t now)
{
	int64_t d = us - now;
	uint64_t a = d < 0 ? -(uint64_t)d : (uint64_t)d, v;
	char u;

	if (a < (uint64_t)US) {
		snprintf(out, n, "just now");
		return;
	}
	a /= US;
	if (a < 60) {
		v = a;
		u = 's';
	} else if (a < 3600) {
		v = a / 60;
		u = 'm';
	} else if (a < 86400) {
		v = a / 3600;
		u = 'h';
	} else {
		v = a / 86400;
		u = 'd';
	}
	if (d < 0)
		snprintf(out, n, "%" PRIu64 "%c ago", v, u);
	else
		snprintf(out, n, "in %" PRIu64 "%c", v, u);
}
