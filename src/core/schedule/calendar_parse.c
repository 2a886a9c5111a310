/* calendar_parse.c — the parser of the calendar-window schedule language
 * (calendar.c has the grammar and its meaning): expressions, and JSON lists
 * of them, into a struct cal.
 *
 * Hand-written: no Debian library speaks this grammar, and core_lib links
 * no JSON library, so the JSON list (a list of plain strings) is parsed
 * here too. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/schedule/calendar.h"
#include "core/schedule/internal.h"

/* A token of the expression being parsed: [p, p + n). */
struct tok {
	const char *p;
	size_t n;
};

static int fail(char *err, size_t errlen, const char *what, struct tok t)
{
	if (err && errlen)
		snprintf(err, errlen, "calendar: invalid %s '%.*s'", what,
			 (int)(t.n > 64 ? 64 : t.n), t.p);
	return -EINVAL;
}

static int failmsg(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "calendar: %s", msg);
	return -EINVAL;
}

/* Splits t at the first `sep`: head in *a, rest (after sep) in *b.
 * Returns whether sep was found. */
static bool tok_split(struct tok t, char sep, struct tok *a, struct tok *b)
{
	const char *q = memchr(t.p, sep, t.n);

	if (!q) {
		*a = t;
		b->p = t.p + t.n;
		b->n = 0;
		return false;
	}
	a->p = t.p;
	a->n = (size_t)(q - t.p);
	b->p = q + 1;
	b->n = t.n - a->n - 1;
	return true;
}

static bool tok_is(struct tok t, const char *s)
{
	return t.n == strlen(s) && strncasecmp(t.p, s, t.n) == 0;
}

/* A decimal number with no sign, at most 9 digits; -1 if not one. */
static int64_t tok_num(struct tok t)
{
	int64_t v = 0;

	if (t.n == 0 || t.n > 9)
		return -1;
	for (size_t i = 0; i < t.n; i++) {
		if (t.p[i] < '0' || t.p[i] > '9')
			return -1;
		v = v * 10 + (t.p[i] - '0');
	}
	return v;
}

/* HH:MM[:SS] -> seconds; 24:00[:00] only when allow24 (a range end). */
static int parse_clock(struct tok t, bool allow24, int32_t *out)
{
	struct tok h, rest, m, s;
	int64_t hv, mv, sv = 0;

	if (!tok_split(t, ':', &h, &rest))
		return -1;
	bool has_s = tok_split(rest, ':', &m, &s);

	hv = h.n <= 2 ? tok_num(h) : -1;
	mv = m.n == 2 ? tok_num(m) : -1;
	if (has_s)
		sv = s.n == 2 ? tok_num(s) : -1;
	if (hv < 0 || mv < 0 || mv > 59 || sv < 0 || sv > 59)
		return -1;
	if (hv > 24 || (hv == 24 && (!allow24 || mv || sv)))
		return -1;
	*out = (int32_t)(hv * 3600 + mv * 60 + sv);
	return 0;
}

/* `*` (or nothing) = the whole day; HH:MM = a single moment; an end before
 * the begin crosses midnight. */
static int parse_span(struct tok t, struct cal_range *r, bool *whole)
{
	struct tok a, b;
	int32_t begin, end;

	*whole = t.n == 0 || tok_is(t, "*");
	if (*whole) {
		r->begin = 0;
		r->end = DAY;
		return 0;
	}
	if (!tok_split(t, '-', &a, &b)) {
		if (parse_clock(t, false, &begin) < 0)
			return -1;
		r->begin = begin;
		r->end = begin + 1;
		return 0;
	}
	if (parse_clock(a, false, &begin) < 0 || parse_clock(b, true, &end) < 0)
		return -1;
	if (end == begin)
		end = begin + 1;
	else if (end < begin)
		end += DAY;
	r->begin = begin;
	r->end = end;
	return 0;
}

/* Minutes ("121"), `*` (a day), or number+unit groups ("10s", "1h30m"). */
static int64_t parse_interval(struct tok t)
{
	int64_t total = 0, v;
	size_t i = 0;

	if (tok_is(t, "*"))
		return DAY;
	if ((v = tok_num(t)) >= 0)
		return v * 60;
	if (t.n == 0)
		return -1;
	while (i < t.n) {
		size_t j = i;
		int64_t mult;

		while (j < t.n && t.p[j] >= '0' && t.p[j] <= '9')
			j++;
		v = tok_num((struct tok){ t.p + i, j - i });
		if (v < 0 || j == t.n)
			return -1;
		switch (t.p[j]) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = DAY; break;
		default: return -1;
		}
		total += v * mult;
		if (total > 3660LL * DAY)
			return -1;
		i = j + 1;
	}
	return total;
}

static int parse_timerange(struct tok t, struct cal_range *r, char *err,
			   size_t errlen)
{
	struct tok span, iv;
	bool whole, has_iv;

	memset(r, 0, sizeof(*r));
	if (t.n && t.p[0] == '~') {
		r->rnd = true;
		t.p++;
		t.n--;
	}
	has_iv = tok_split(t, '@', &span, &iv);
	if (parse_span(span, r, &whole) < 0)
		return fail(err, errlen, "time range", span);
	if (!has_iv) {
		r->interval = whole ? DAY : 0;
		return 0;
	}
	r->interval = parse_interval(iv);
	if (r->interval <= 0 || memchr(iv.p, '@', iv.n))
		return fail(err, errlen, "interval", iv);
	return 0;
}

static int parse_timeranges(struct tok t, struct cal_expr *x, char *err,
			    size_t errlen)
{
	struct tok item, rest = t;
	bool more = true;

	while (more) {
		more = tok_split(rest, ',', &item, &rest);
		if (x->nranges == CAL_MAX_RANGES)
			return failmsg(err, errlen, "too many time ranges");
		if (item.n == 0)
			return fail(err, errlen, "time range", t);
		int rc = parse_timerange(item, &x->ranges[x->nranges], err,
					 errlen);
		if (rc < 0)
			return rc;
		x->nranges++;
	}
	return 0;
}

static const char *const dow_names[] = { "mon", "tue", "wed", "thu",
					 "fri", "sat", "sun" };
static const char *const dow_long[] = { "monday", "tuesday", "wednesday",
					"thursday", "friday", "saturday",
					"sunday" };
static const char *const month_names[] = { "jan", "feb", "mar", "apr",
					   "may", "jun", "jul", "aug",
					   "sep", "oct", "nov", "dec" };
static const char *const month_long[] = { "january", "february", "march",
					  "april", "may", "june", "july",
					  "august", "september", "october",
					  "november", "december" };

/* A number in [1, max] or one of the names (index + 1); -1 if neither. */
static int parse_name(struct tok t, int max, const char *const *shrt,
		      const char *const *lng)
{
	int64_t v = tok_num(t);

	if (v >= 1 && v <= max)
		return (int)v;
	if (v >= 0 || !shrt)
		return -1;
	for (int i = 0; i < max; i++)
		if (tok_is(t, shrt[i]) || tok_is(t, lng[i]))
			return i + 1;
	return -1;
}

/* `a` or `a-b` (wrapping: sun-tue, nov-feb, 50-3) as a bit set; on error
 * *bad is the offending token. */
static int parse_set(struct tok t, int max, const char *const *shrt,
		     const char *const *lng, uint64_t *bits, struct tok *bad)
{
	struct tok a, b;
	int lo, hi;

	if (tok_is(t, "*")) {
		for (int i = 1; i <= max; i++)
			*bits |= 1ull << i;
		return 0;
	}
	bool range = tok_split(t, '-', &a, &b);

	*bad = a;
	if ((lo = parse_name(a, max, shrt, lng)) < 0)
		return -1;
	hi = lo;
	*bad = b;
	if (range && (hi = parse_name(b, max, shrt, lng)) < 0)
		return -1;
	for (int i = lo;; i = i % max + 1) {
		*bits |= 1ull << i;
		if (i == hi)
			break;
	}
	return 0;
}

/* %mod[+shift]: keeps the members v with (v + shift) % mod == 0 (as the
 * OpenSVC agent does: *%2 = even months, *%2+1 = odd months). */
static int parse_mod(struct tok t, int16_t *mod, int16_t *shift)
{
	struct tok m, s;
	int64_t mv, sv = 0;

	if (tok_split(t, '+', &m, &s))
		sv = tok_num(s);
	mv = tok_num(m);
	if (mv < 1 || mv > 999 || sv < 0 || sv > 999)
		return -1;
	*mod = (int16_t)mv;
	*shift = (int16_t)sv;
	return 0;
}

/* Weeks or months: comma-separated sets, each with an optional %mod[+sh]
 * (a bare %mod applies to all). */
static int parse_filter(struct tok t, int max, const char *const *shrt,
			const char *const *lng, uint64_t *out, const char *what,
			char *err, size_t errlen)
{
	struct tok item, rest = t, set, mod, bad;
	bool more = true;

	*out = 0;
	while (more) {
		uint64_t bits = 0;
		int16_t mv = 1, sv = 0;

		more = tok_split(rest, ',', &item, &rest);
		if (tok_split(item, '%', &set, &mod)) {
			if (parse_mod(mod, &mv, &sv) < 0)
				return fail(err, errlen, what, item);
			if (set.n == 0)
				set = (struct tok){ "*", 1 };
		}
		if (set.n == 0)
			return fail(err, errlen, what, t);
		if (parse_set(set, max, shrt, lng, &bits, &bad) < 0)
			return fail(err, errlen, what, bad.n ? bad : item);
		for (int v = 1; v <= max; v++)
			if ((bits >> v & 1) && (v + sv) % mv == 0)
				*out |= 1ull << v;
	}
	return 0;
}

static int parse_dom(struct tok t, struct cal_day *it)
{
	static const char *const words[] = { "first", "second", "third",
					     "fourth", "fifth" };
	static const char *const nth[] = { "1st", "2nd", "3rd", "4th", "5th" };
	bool neg = t.n && t.p[0] == '-';
	int64_t v;

	if (t.n && t.p[0] == '%') {
		it->kind = DOM_MOD;
		return parse_mod((struct tok){ t.p + 1, t.n - 1 }, &it->a,
				 &it->b);
	}
	it->kind = DOM_EXACT;
	if (tok_is(t, "last")) {
		it->a = -1;
		return 0;
	}
	for (int i = 0; i < 5; i++) {
		if (tok_is(t, words[i]) || tok_is(t, nth[i])) {
			it->a = (int16_t)(i + 1);
			return 0;
		}
	}
	if (neg || (t.n && t.p[0] == '+')) {
		t.p++;
		t.n--;
	}
	v = tok_num(t);
	if (v < 1 || v > 31)
		return -1;
	it->a = (int16_t)(neg ? -v : v);
	return 0;
}

static int parse_days(struct tok t, struct cal_expr *x, char *err,
		      size_t errlen)
{
	struct tok item, rest = t, dow, dom, bad;
	bool more = true;

	if (tok_is(t, "*"))
		return 0;
	while (more) {
		struct cal_day *it = &x->days[x->ndays];
		uint64_t bits = 0;

		more = tok_split(rest, ',', &item, &rest);
		if (x->ndays == CAL_MAX_DAYS)
			return failmsg(err, errlen, "too many days");
		memset(it, 0, sizeof(*it));
		if (tok_split(item, ':', &dow, &dom) &&
		    parse_dom(dom, it) < 0)
			return fail(err, errlen, "day of month", dom);
		if (dow.n == 0)
			return fail(err, errlen, "day", item);
		if (parse_set(dow, 7, dow_names, dow_long, &bits, &bad) < 0)
			return fail(err, errlen, "day", bad.n ? bad : item);
		it->dows = (uint8_t)bits;
		x->ndays++;
	}
	return 0;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Splits s into at most `max` whitespace-separated fields; returns the
 * count, or max + 1 when there are more. */
static int split_fields(struct tok s, struct tok *f, int max)
{
	int n = 0;
	size_t i = 0;

	while (i < s.n) {
		while (i < s.n && is_space(s.p[i]))
			i++;
		if (i == s.n)
			break;
		if (n == max)
			return max + 1;
		f[n].p = s.p + i;
		while (i < s.n && !is_space(s.p[i]))
			i++;
		f[n].n = (size_t)(s.p + i - f[n].p);
		n++;
	}
	return n;
}

static int parse_expr(struct tok s, struct cal_expr *x, char *err,
		      size_t errlen)
{
	struct tok f[4];
	uint64_t months;
	int n, rc;

	memset(x, 0, sizeof(*x));
	while (s.n && is_space(*s.p)) {
		s.p++;
		s.n--;
	}
	if (s.n && *s.p == '!') {
		x->veto = true;
		s.p++;
		s.n--;
	}
	n = split_fields(s, f, 4);
	if (n == 0)
		return failmsg(err, errlen, "empty expression");
	if (n > 4) {
		if (err && errlen)
			snprintf(err, errlen,
				 "calendar: too many fields in '%.*s' (at most "
				 "4: timeranges days weeks months)",
				 (int)(s.n > 64 ? 64 : s.n), s.p);
		return -EINVAL;
	}
	x->weeks = ~0ull;
	x->months = 0xffff;
	if ((rc = parse_timeranges(f[0], x, err, errlen)) < 0)
		return rc;
	if (n > 1 && (rc = parse_days(f[1], x, err, errlen)) < 0)
		return rc;
	if (n > 2 && (rc = parse_filter(f[2], 53, NULL, NULL, &x->weeks,
					"week", err, errlen)) < 0)
		return rc;
	if (n > 3) {
		rc = parse_filter(f[3], 12, month_names, month_long, &months,
				  "month", err, errlen);
		if (rc < 0)
			return rc;
		x->months = (uint16_t)months;
	}
	return 0;
}

/* ---- the JSON list: ["expr", "expr", ...] of plain strings -------------- */

struct json {
	const char *p;
	char *err;
	size_t errlen;
};

static int json_fail(struct json *j, const char *what)
{
	if (j->err && j->errlen)
		snprintf(j->err, j->errlen,
			 "calendar: invalid JSON list: %s at '%.16s'", what,
			 j->p);
	return -EINVAL;
}

static void json_ws(struct json *j)
{
	while (is_space(*j->p))
		j->p++;
}

/* A double-quoted string into a malloc'ed *out (escapes \" \\ \/ \t \n). */
static int json_string(struct json *j, char **out)
{
	size_t n = 0;
	const char *q;
	char *s;

	if (*j->p != '"')
		return json_fail(j, "expected a string");
	for (q = j->p + 1; *q && *q != '"'; q++)
		if (*q == '\\' && q[1])
			q++;
	if (*q != '"')
		return json_fail(j, "unterminated string");
	s = malloc((size_t)(q - j->p));
	if (!s)
		return -ENOMEM;
	for (q = j->p + 1; *q != '"'; q++) {
		if (*q == '\\') {
			q++;
			switch (*q) {
			case '"': case '\\': case '/': s[n++] = *q; break;
			case 't': s[n++] = '\t'; break;
			case 'n': s[n++] = '\n'; break;
			default:
				free(s);
				j->p = q - 1;
				return json_fail(j, "unsupported escape");
			}
		} else {
			s[n++] = *q;
		}
	}
	s[n] = '\0';
	j->p = q + 1;
	*out = s;
	return 0;
}

/* Parses the next list item into *x; item is its 1-based number. */
static int json_item(struct json *j, struct cal_expr *x, int item)
{
	char *s = NULL;
	int rc = json_string(j, &s);

	if (rc < 0)
		return rc;
	rc = parse_expr((struct tok){ s, strlen(s) }, x, j->err, j->errlen);
	if (rc < 0 && j->err && j->errlen) {
		size_t used = strlen(j->err);

		snprintf(j->err + used, j->errlen - used, " (list item %d)",
			 item);
	}
	free(s);
	return rc;
}

static int parse_list(const char *s, struct cal *c, char *err, size_t errlen)
{
	struct json j = { s + 1, err, errlen };
	int rc;

	json_ws(&j);
	if (*j.p == ']')
		goto end;
	for (;;) {
		if (c->n == c->cap)
			return failmsg(err, errlen, "too many expressions");
		json_ws(&j);
		if ((rc = json_item(&j, &c->e[c->n], c->n + 1)) < 0)
			return rc;
		c->n++;
		json_ws(&j);
		if (*j.p == ']')
			break;
		if (*j.p != ',')
			return json_fail(&j, "expected ',' or ']'");
		j.p++;
	}
end:
	j.p++;
	json_ws(&j);
	if (*j.p)
		return json_fail(&j, "trailing characters");
	return 0;
}

/* The number of list items, an upper bound counted from the commas
 * outside strings (for the allocation). */
static int count_items(const char *s)
{
	int n = 1;
	bool in = false;

	for (; *s; s++) {
		if (in && *s == '\\' && s[1])
			s++;
		else if (*s == '"')
			in = !in;
		else if (!in && *s == ',')
			n++;
	}
	return n > CAL_MAX_EXPRS ? CAL_MAX_EXPRS : n;
}

int cal_parse(const char *expr, struct cal **out, char *err, size_t errlen)
{
	struct cal *c;
	const char *s = expr;
	int n, rc;

	*out = NULL;
	if (!expr)
		return failmsg(err, errlen, "empty expression");
	while (is_space(*s))
		s++;
	n = *s == '[' ? count_items(s) : 1;
	c = calloc(1, sizeof(*c) + (size_t)n * sizeof(c->e[0]));
	if (!c)
		return -ENOMEM;
	c->cap = n;
	if (*s == '[') {
		rc = parse_list(s, c, err, errlen);
	} else {
		rc = parse_expr((struct tok){ s, strlen(s) }, &c->e[0], err,
				errlen);
		c->n = rc < 0 ? 0 : 1;
	}
	if (rc < 0)
		goto error;
	for (int i = 0; i < c->n; i++) {
		c->has_veto |= c->e[i].veto;
		if (!c->e[i].veto)
			c->months |= c->e[i].months;
	}
	*out = c;
	return 0;
error:
	free(c);
	return rc;
}
