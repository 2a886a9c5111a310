/* calendar.c — the calendar-window schedule language of reference/tasks.md
 * ("Schedule grammar"): allowed time windows with a minimum interval,
 * filtered by day of week / day of month, ISO week and month, with `!`
 * veto expressions and JSON lists of expressions.
 *
 *   expr      := [!]timeranges [days [weeks [months]]]   | ["expr", ...]
 *   timerange := [~](HH:MM[:SS][-HH:MM[:SS]] | *)[@interval]
 *
 * The grammar's parser is calendar_parse.c; this file finds the next fire.
 * Hand-written: no Debian library speaks this grammar (it comes from the
 * OpenSVC agent's scheduler).
 *
 * Semantics (cal_next): the answer is the earliest second t with
 *   t > after, inside an occurrence [S, E) of an allowed window, not inside
 *   any veto window, and
 *     with an interval I:   last == 0 or t >= last + I
 *     once per window:      last == 0 or last < S (no run yet in it)
 * An occurrence belongs to the local day it starts on (22:00-02:00 runs into
 * the next day).  In steady state (after == last == previous fire) this gives
 * S, S+I, S+2I ... < E; a run missed while down (after == now inside a
 * window, last old) is made at once, outside a window at the next start.
 * `~` moves the start of each occurrence by a stable pseudo-random offset
 * (hash of seed and S) inside the window, or inside the first interval.
 *
 * Windows are local wall time converted with tz_from_local: a time in a
 * skipped hour maps to the jump instant, one in a repeated hour to its first
 * pass.  Days are scanned one by one with integer calendar arithmetic (no
 * zone calls for days that do not match), at most CAL_SCAN_DAYS of them. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/schedule/calendar.h"
#include "core/schedule/internal.h"

/* A local calendar date and what the filters look at. */
struct cal_date {
	int64_t day; /* days since 1970-01-01 */
	int y, m, d, dow, mdays, week;
};

/* ---- calendar arithmetic (days since epoch: tz.c's, and ISO weeks) ----- */

/* ISO weekday, mon = 1 .. sun = 7 (1970-01-01 was a Thursday). */
static int iso_dow(int64_t day)
{
	return (int)((day % 7 + 7 + 3) % 7) + 1;
}

/* ISO 8601: 53 weeks when the year starts on a Thursday, or on a
 * Wednesday in a leap year. */
static int iso_weeks_in_year(int y)
{
	int jan1 = iso_dow(tz_days_from_civil(y, 1, 1));

	return (jan1 == 4 || (jan1 == 3 && tz_month_days(y, 2) == 29)) ? 53 : 52;
}

static int iso_week(int64_t day, int y, int dow)
{
	int64_t ordinal = day - tz_days_from_civil(y, 1, 1) + 1;
	int w = (int)((ordinal - dow + 10) / 7);

	if (w < 1)
		return iso_weeks_in_year(y - 1);
	if (w > iso_weeks_in_year(y))
		return 1;
	return w;
}

static void date_fill(struct cal_date *dt, int64_t day)
{
	int64_t y;

	dt->day = day;
	tz_civil_from_days(day, &y, &dt->m, &dt->d);
	dt->y = (int)y;
	dt->dow = iso_dow(day);
	dt->mdays = tz_month_days(dt->y, dt->m);
	dt->week = iso_week(day, dt->y, dt->dow);
}

/* ---- local time <-> UTC (z == NULL: plain UTC, used by the unit test) -- */

static int64_t local_day(const struct tz *z, int64_t t)
{
	struct tm tm;
	int off = 0;

	if (!z)
		return tz_floor_div(t, DAY);
	tz_to_local(z, t, &tm, &off);
	return tz_days_from_civil((int64_t)tm.tm_year + 1900, tm.tm_mon + 1,
			       tm.tm_mday);
}

/* The instant of local wall time `sod` seconds after midnight of `day`
 * (sod may reach into the next day). */
static int64_t local_to_utc(const struct tz *z, int64_t day, int32_t sod)
{
	struct tm tm;
	int64_t t[2] = { 0, 0 }, y;
	int m, d;

	day += sod / DAY;
	sod %= DAY;
	if (!z)
		return day * DAY + sod;
	tz_civil_from_days(day, &y, &m, &d);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)(y - 1900);
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = sod / 3600;
	tm.tm_min = sod / 60 % 60;
	tm.tm_sec = sod % 60;
	tm.tm_isdst = -1;
	/* 1: the instant; 2: t[0] is the first pass; 0: t[0] is the jump. */
	tz_from_local(z, &tm, t);
	return t[0];
}

/* ---- matching ------------------------------------------------------------ */

static bool day_item_match(const struct cal_day *it, const struct cal_date *dt)
{
	if (!(it->dows & (1u << dt->dow)))
		return false;
	switch (it->kind) {
	case DOM_EXACT:
		if (it->a > 0)
			return dt->d == it->a;
		return dt->d == dt->mdays + it->a + 1;
	case DOM_MOD:
		return (dt->d + it->b) % it->a == 0;
	default:
		return true;
	}
}

static bool date_match(const struct cal_expr *e, const struct cal_date *dt)
{
	if (!(e->months & (1u << dt->m)) || !(e->weeks & (1ull << dt->week)))
		return false;
	if (e->ndays == 0)
		return true;
	for (int i = 0; i < e->ndays; i++)
		if (day_item_match(&e->days[i], dt))
			return true;
	return false;
}

/* The occurrence of range r starting on local day `day`. */
static void occurrence(const struct tz *z, const struct cal_range *r,
		       int64_t day, int64_t *s, int64_t *e)
{
	*s = local_to_utc(z, day, r->begin);
	*e = local_to_utc(z, day, r->end);
	if (*e <= *s) /* single time, or both ends in one DST gap */
		*e = *s + 1;
}

/* If t lies in a veto window, the end of that window, else t. */
static int64_t veto_skip(const struct cal *c, const struct tz *z, int64_t t)
{
	int64_t day = local_day(z, t);

	for (int64_t d = day - 1; d <= day; d++) {
		struct cal_date dt;

		date_fill(&dt, d);
		for (int i = 0; i < c->n; i++) {
			const struct cal_expr *v = &c->e[i];

			if (!v->veto || !date_match(v, &dt))
				continue;
			for (int k = 0; k < v->nranges; k++) {
				int64_t s, e;

				occurrence(z, &v->ranges[k], d, &s, &e);
				if (s <= t && t < e)
					return e;
			}
		}
	}
	return t;
}

/* Earliest t >= lo, t < end, outside every veto window; -1 if none. */
static int64_t unvetoed(const struct cal *c, const struct tz *z, int64_t lo,
			int64_t end)
{
	if (!c->has_veto)
		return lo;
	for (int hop = 0; hop < CAL_VETO_HOPS && lo < end; hop++) {
		int64_t next = veto_skip(c, z, lo);

		if (next == lo)
			return lo;
		lo = next;
	}
	return -1;
}

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The earliest fire in the occurrence of r on `day`, or -1. */
static int64_t range_next(const struct cal *c, const struct tz *z,
			  const struct cal_range *r, int64_t day, int64_t after,
			  int64_t last, uint64_t seed)
{
	int64_t s, e, lo;

	occurrence(z, r, day, &s, &e);
	if (e <= after + 1)
		return -1;
	lo = s;
	if (r->rnd) {
		int64_t span = e - s;

		if (r->interval > 0 && r->interval < span)
			span = r->interval;
		lo += (int64_t)(mix64(seed ^ mix64((uint64_t)s)) %
				(uint64_t)span);
	}
	if (lo < after + 1)
		lo = after + 1;
	if (last != 0) {
		if (r->interval == 0 && last >= s)
			return -1; /* already ran in this occurrence */
		if (r->interval > 0 && lo < last + r->interval)
			lo = last + r->interval;
	}
	if (lo >= e)
		return -1;
	return unvetoed(c, z, lo, e);
}

int64_t cal_next(const struct cal *c, const struct tz *z, int64_t after,
		 int64_t last, uint64_t seed)
{
	int64_t best = -1, first;

	if (!c)
		return -1;
	/* An occurrence from the day before may still be open at `after`. */
	first = local_day(z, after) - 1;
	for (int64_t day = first; day <= first + CAL_SCAN_DAYS; day++) {
		struct cal_date dt;

		/* Occurrences of `day` start at or after its local midnight,
		 * which is later than day*DAY - 14h (the largest UTC offset);
		 * one more day of margin covers DST and odd offsets. */
		if (best >= 0 && (day - 1) * DAY - 14 * 3600 > best)
			break;
		date_fill(&dt, day);
		if (!(c->months & (1u << dt.m))) {
			/* Skip the month (the loop adds the last day). */
			day += dt.mdays - dt.d;
			continue;
		}
		for (int i = 0; i < c->n; i++) {
			const struct cal_expr *x = &c->e[i];

			if (x->veto || !date_match(x, &dt))
				continue;
			for (int k = 0; k < x->nranges; k++) {
				int64_t t = range_next(c, z, &x->ranges[k], day,
						       after, last, seed);

				if (t >= 0 && (best < 0 || t < best))
					best = t;
			}
		}
	}
	return best;
}

void cal_free(struct cal *c)
{
	free(c);
}
