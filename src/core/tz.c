/* tz.c — IANA time zones read from TZif files (RFC 8536, versions 1-4) and
 * the POSIX TZ rule in their footer, which governs times after the last
 * listed transition.
 * Hand-written: glibc only offers the process-wide TZ (setenv + tzset +
 * localtime), which a daemon running jobs in many zones cannot switch per
 * call, and Debian ships no C library that reads TZif files per zone. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/tz.h"

#define TZ_MAX_FILE (1 << 20)   /* real TZif files are a few KiB */
#define TZ_MAX_NAME 255
/* Any real UTC offset is within +-26 h (RFC 8536 bounds it just under);
 * tz_from_local looks this far either side of a wall time. */
#define TZ_MAX_OFF (26 * 3600)
#define TZ_WINDOW (30 * 3600)
#define ABBR_LEN 16
#define TZ_FAR (1LL << 50)      /* ~35 million years: beyond any real use */

struct ttype {
	int32_t off;        /* seconds east of UTC */
	uint8_t isdst;
	uint8_t abbr;       /* index into chars */
};

/* One end of a POSIX DST rule: Jn, n or Mm.w.d, at `time` local seconds. */
struct rule_date {
	char kind;          /* 'J' (1-365, no Feb 29), 'D' (0-365), 'M' */
	int n, m, w, d;
	int32_t time;
};

struct posix_tz {
	bool has_dst;
	int32_t std_off, dst_off;   /* seconds east of UTC */
	struct rule_date start, end;
	char std_abbr[ABBR_LEN], dst_abbr[ABBR_LEN];
};

struct tz {
	struct tz *next;            /* cache list */
	char *name;
	int64_t *trans;             /* transition instants, ascending */
	uint8_t *idx;               /* type in effect from trans[i] */
	size_t ntrans;
	struct ttype *types;        /* types[0] applies before trans[0] */
	size_t ntypes;
	char *chars;                /* NUL-terminated abbreviations */
	size_t nchars;
	bool has_rule;
	struct posix_tz rule;
};

/* What holds around an instant: bounds, offset, flags, name. */
struct period {
	int64_t start, end;
	int32_t off;
	int isdst;
	const char *abbr;
};

static struct tz tz_utc = {
	.name = "UTC",
	.types = &(struct ttype){ 0, 0, 0 },
	.ntypes = 1,
	.chars = "UTC",
	.nchars = 4,
};
static struct tz *tz_cache;

/* ---- calendar arithmetic (H. Hinnant's days_from_civil) ---- */

int64_t tz_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int tz_month_days(int64_t y, int m)
{
	static const int n[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : n[m - 1];
}

int64_t tz_floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Saturating add: instants near INT64_MIN/MAX must not overflow. */
static int64_t sat_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

/* ---- POSIX TZ strings: "CET-1CEST,M3.5.0,M10.5.0/3" ---- */

static const char *posix_abbr(const char *s, char *out)
{
	size_t n = 0;

	if (*s == '<') {
		for (s++; *s && *s != '>'; s++) {
			if (n + 1 >= ABBR_LEN)
				return NULL;
			out[n++] = *s;
		}
		if (*s++ != '>')
			return NULL;
	} else {
		for (; (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'); s++) {
			if (n + 1 >= ABBR_LEN)
				return NULL;
			out[n++] = *s;
		}
	}
	out[n] = '\0';
	return n >= 3 ? s : NULL;
}

static const char *posix_num(const char *s, int max, int *v)
{
	int n = 0;

	if (*s < '0' || *s > '9')
		return NULL;
	for (*v = 0; *s >= '0' && *s <= '9' && n < 3; s++, n++)
		*v = *v * 10 + (*s - '0');
	return *v <= max ? s : NULL;
}

/* [+-]hh[:mm[:ss]]; hours up to maxh (24 for offsets, 167 for rule times
 * since RFC 8536 allows -167..167 there). */
static const char *posix_hms(const char *s, int maxh, int32_t *sec)
{
	int sign = 1, h, m = 0, x = 0;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (!(s = posix_num(s, maxh, &h)))
		return NULL;
	if (*s == ':' && !(s = posix_num(s + 1, 59, &m)))
		return NULL;
	if (*s == ':' && !(s = posix_num(s + 1, 59, &x)))
		return NULL;
	*sec = sign * (h * 3600 + m * 60 + x);
	return s;
}

static const char *posix_date(const char *s, struct rule_date *d)
{
	d->time = 2 * 3600;
	if (*s == 'J') {
		d->kind = 'J';
		if (!(s = posix_num(s + 1, 365, &d->n)) || d->n < 1)
			return NULL;
	} else if (*s == 'M') {
		d->kind = 'M';
		if (!(s = posix_num(s + 1, 12, &d->m)) || d->m < 1 || *s != '.')
			return NULL;
		if (!(s = posix_num(s + 1, 5, &d->w)) || d->w < 1 || *s != '.')
			return NULL;
		if (!(s = posix_num(s + 1, 6, &d->d)))
			return NULL;
	} else {
		d->kind = 'D';
		if (!(s = posix_num(s, 365, &d->n)))
			return NULL;
	}
	if (*s == '/')
		s = posix_hms(s + 1, 167, &d->time);
	return s;
}

/* Not posix_parse: clang-tidy's bugprone-posix-return takes posix_* for
 * the POSIX calls that return positive error numbers. */
static int rule_parse(const char *s, struct posix_tz *r)
{
	int32_t o;

	memset(r, 0, sizeof(*r));
	if (!(s = posix_abbr(s, r->std_abbr)) || !(s = posix_hms(s, 24, &o)))
		return -EINVAL;
	r->std_off = r->dst_off = -o;   /* POSIX counts west as positive */
	if (!*s)
		return 0;
	if (!(s = posix_abbr(s, r->dst_abbr)))
		return -EINVAL;
	r->has_dst = true;
	r->dst_off = r->std_off + 3600;
	if (*s && *s != ',') {
		if (!(s = posix_hms(s, 24, &o)))
			return -EINVAL;
		r->dst_off = -o;
	}
	if (!*s)
		s = ",M3.2.0,M11.1.0";  /* the US rule, as glibc assumes */
	if (*s != ',' || !(s = posix_date(s + 1, &r->start)))
		return -EINVAL;
	if (*s != ',' || !(s = posix_date(s + 1, &r->end)))
		return -EINVAL;
	return *s ? -EINVAL : 0;
}

/* Day (since the epoch) on which a rule date falls in year y. */
static int64_t rule_day(const struct rule_date *d, int64_t y)
{
	int64_t first;
	int wd, day, nd;

	switch (d->kind) {
	case 'J':  /* 1-365, Feb 29 never counted */
		return tz_days_from_civil(y, 1, 1) + d->n - 1 +
		       (is_leap(y) && d->n >= 60);
	case 'D':  /* 0-365, Feb 29 counted */
		return tz_days_from_civil(y, 1, 1) + d->n;
	default:
		first = tz_days_from_civil(y, d->m, 1);
		wd = (int)((first % 7 + 11) % 7);   /* 1970-01-01 was a Thursday */
		nd = tz_month_days(y, d->m);
		day = 1 + (d->d - wd + 7) % 7 + 7 * (d->w - 1);
		while (day > nd)
			day -= 7;
		return first + day - 1;
	}
}

struct rule_event {
	int64_t t;
	bool dst;
};

static void rule_events(const struct posix_tz *r, int64_t y, struct rule_event *ev)
{
	/* The start is given in standard time, the end in daylight time. */
	ev[0].t = rule_day(&r->start, y) * 86400 + r->start.time - r->std_off;
	ev[0].dst = true;
	ev[1].t = rule_day(&r->end, y) * 86400 + r->end.time - r->dst_off;
	ev[1].dst = false;
}

static void rule_period(const struct tz *z, int64_t t, struct period *p)
{
	const struct posix_tz *r = &z->rule;
	struct rule_event ev[10], tmp;
	int64_t y;
	int n = 0, i, j, m, d, far = 0;
	bool dst;

	p->start = INT64_MIN;
	p->end = INT64_MAX;
	if (!r->has_dst) {
		p->off = r->std_off;
		p->isdst = 0;
		p->abbr = r->std_abbr;
		return;
	}
	/* Absurd instants get the state at +-TZ_FAR, held for ever, so the
	 * year arithmetic cannot overflow. */
	if (t > TZ_FAR || t < -TZ_FAR) {
		far = t > 0 ? 1 : -1;
		t = far * TZ_FAR;
	}
	tz_civil_from_days(tz_floor_div(t, 86400), &y, &m, &d);
	/* Two years either side: rule times may reach +-167 h past the date. */
	for (int k = -2; k <= 2; k++, n += 2)
		rule_events(r, y + k, ev + n);
	/* Insertion sort; at equal instants the end sorts first, so a rule
	 * that ends and restarts DST at the same instant stays in DST. */
	for (i = 1; i < n; i++) {
		for (j = i, tmp = ev[i]; j > 0 && (ev[j - 1].t > tmp.t ||
		     (ev[j - 1].t == tmp.t && ev[j - 1].dst && !tmp.dst)); j--)
			ev[j] = ev[j - 1];
		ev[j] = tmp;
	}
	for (i = 0; i < n && ev[i].t <= t; i++)
		;
	/* ev[0] is two years back, so i > 0 for any representable year. */
	dst = i > 0 ? ev[i - 1].dst : !ev[0].dst;
	if (i > 0)
		p->start = ev[i - 1].t;
	if (i < n)
		p->end = ev[i].t;
	if (far > 0) {
		p->start = TZ_FAR;
		p->end = INT64_MAX;
	} else if (far < 0) {
		p->start = INT64_MIN;
		p->end = -TZ_FAR;
	}
	p->off = dst ? r->dst_off : r->std_off;
	p->isdst = dst;
	p->abbr = dst ? r->dst_abbr : r->std_abbr;
}

/* ---- lookup ---- */

static void type_period(const struct tz *z, size_t type, struct period *p)
{
	p->off = z->types[type].off;
	p->isdst = z->types[type].isdst;
	p->abbr = z->chars + z->types[type].abbr;
}

static void lookup(const struct tz *z, int64_t t, struct period *p)
{
	size_t lo = 0, hi = z->ntrans, i;

	/* lo = the number of transitions at or before t */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (z->trans[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == z->ntrans && z->has_rule) {
		rule_period(z, t, p);
		if (lo > 0 && p->start < z->trans[lo - 1])
			p->start = z->trans[lo - 1];
		return;
	}
	if (lo == 0) {
		type_period(z, 0, p);
		p->start = INT64_MIN;
	} else {
		i = lo - 1;
		type_period(z, z->idx[i], p);
		p->start = z->trans[i];
	}
	p->end = lo < z->ntrans ? z->trans[lo] : INT64_MAX;
}

int tz_period(const struct tz *z, int64_t t, int64_t *start, int64_t *end)
{
	struct period p;

	lookup(z ? z : &tz_utc, t, &p);
	if (start)
		*start = p.start;
	if (end)
		*end = p.end;
	return p.off;
}

void tz_to_local(const struct tz *z, int64_t t, struct tm *out, int *offset_s)
{
	struct period p;
	int64_t w, days, secs, y;
	int m, d;

	lookup(z ? z : &tz_utc, t, &p);
	w = sat_add(t, p.off);
	days = tz_floor_div(w, 86400);
	secs = w - days * 86400;
	tz_civil_from_days(days, &y, &m, &d);
	memset(out, 0, sizeof(*out));
	out->tm_year = (int)(y - 1900);
	out->tm_mon = m - 1;
	out->tm_mday = d;
	out->tm_hour = (int)(secs / 3600);
	out->tm_min = (int)(secs / 60 % 60);
	out->tm_sec = (int)(secs % 60);
	out->tm_wday = (int)((days % 7 + 11) % 7);
	out->tm_yday = (int)(days - tz_days_from_civil(y, 1, 1));
	out->tm_isdst = p.isdst;
	out->tm_gmtoff = p.off;
	out->tm_zone = p.abbr;
	if (offset_s)
		*offset_s = p.off;
}

int tz_from_local(const struct tz *z, const struct tm *local, int64_t t[2])
{
	struct period p;
	int64_t y, L, hi, cur, gap = INT64_MIN;
	int n = 0, mon, have_prev = 0;
	int32_t prev_off = 0;

	if (!z)
		z = &tz_utc;
	/* Wall time as if it were UTC; out-of-range fields carry over. */
	y = (int64_t)local->tm_year + 1900 + tz_floor_div(local->tm_mon, 12);
	mon = (int)(local->tm_mon - tz_floor_div(local->tm_mon, 12) * 12);
	L = (tz_days_from_civil(y, mon + 1, 1) + local->tm_mday - 1) * 86400 +
	    (int64_t)local->tm_hour * 3600 + (int64_t)local->tm_min * 60 +
	    local->tm_sec;
	cur = sat_add(L, -TZ_WINDOW);
	hi = sat_add(L, TZ_WINDOW);
	/* Walk the periods around L: an instant u has wall time L when
	 * u + off(u) == L, so test L - off against each period. */
	for (int k = 0; k < 64 && cur <= hi && n < 2; k++, cur = p.end) {
		int64_t u;

		lookup(z, cur, &p);
		u = sat_add(L, -(int64_t)p.off);
		if (u >= p.start && u < p.end && (n == 0 || u != t[0]))
			t[n++] = u;
		/* A forward jump at p.start skips walls [start+prev, start+off). */
		if (have_prev && prev_off < p.off && sat_add(p.start, prev_off) <= L &&
		    L < sat_add(p.start, p.off))
			gap = p.start;
		have_prev = 1;
		prev_off = p.off;
		if (p.end == INT64_MAX || p.end <= cur)
			break;
	}
	if (n == 2 && t[0] > t[1]) {
		int64_t x = t[0];

		t[0] = t[1];
		t[1] = x;
	}
	if (n == 0)
		t[0] = gap != INT64_MIN ? gap : sat_add(L, -(int64_t)tz_period(z, L, NULL, NULL));
	return n;
}

/* ---- TZif files ---- */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_hdr {
	char version;
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static int tzif_header(const uint8_t *p, size_t n, struct tzif_hdr *h)
{
	if (n < 44 || memcmp(p, "TZif", 4) != 0)
		return -EINVAL;
	h->version = (char)p[4];
	h->isutcnt = be32(p + 20);
	h->isstdcnt = be32(p + 24);
	h->leapcnt = be32(p + 28);
	h->timecnt = be32(p + 32);
	h->typecnt = be32(p + 36);
	h->charcnt = be32(p + 40);
	return 0;
}

/* Bytes of the data block after a header, for 4- or 8-byte times. */
static uint64_t tzif_block(const struct tzif_hdr *h, int tsize)
{
	return (uint64_t)h->timecnt * tsize + h->timecnt + (uint64_t)h->typecnt * 6 +
	       h->charcnt + (uint64_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

static int tzif_data(struct tz *z, const struct tzif_hdr *h, const uint8_t *p,
		     int tsize, const char **why)
{
	if (h->leapcnt) {
		*why = "leap-second zones are not supported";
		return -EINVAL;
	}
	if (h->typecnt < 1 || h->typecnt > 256 || h->charcnt < 1 || h->timecnt > 1000000) {
		*why = "bad counts";
		return -EINVAL;
	}
	z->ntrans = h->timecnt;
	z->ntypes = h->typecnt;
	z->nchars = h->charcnt + 1;
	z->trans = calloc(z->ntrans + 1, sizeof(*z->trans));
	z->idx = calloc(z->ntrans + 1, 1);
	z->types = calloc(z->ntypes, sizeof(*z->types));
	z->chars = calloc(z->nchars, 1);
	if (!z->trans || !z->idx || !z->types || !z->chars)
		return -ENOMEM;
	for (size_t i = 0; i < z->ntrans; i++, p += tsize) {
		z->trans[i] = tsize == 8 ? be64(p) : (int32_t)be32(p);
		if (i > 0 && z->trans[i] <= z->trans[i - 1]) {
			*why = "transitions out of order";
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < z->ntrans; i++, p++) {
		z->idx[i] = *p;
		if (*p >= z->ntypes) {
			*why = "bad type index";
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < z->ntypes; i++, p += 6) {
		int32_t off = (int32_t)be32(p);

		if (off < -TZ_MAX_OFF || off > TZ_MAX_OFF || p[4] > 1 || p[5] >= h->charcnt) {
			*why = "bad local time type";
			return -EINVAL;
		}
		z->types[i] = (struct ttype){ off, p[4], p[5] };
	}
	memcpy(z->chars, p, h->charcnt);   /* the extra byte stays NUL */
	return 0;
}

static int tzif_footer(struct tz *z, const uint8_t *p, size_t n, const char **why)
{
	const uint8_t *nl;
	char buf[128];
	size_t len;

	if (n == 0 || p[0] != '\n' || !(nl = memchr(p + 1, '\n', n - 1))) {
		*why = "missing footer";
		return -EINVAL;
	}
	len = (size_t)(nl - p - 1);
	if (len == 0)
		return 0;   /* no rule: the last transition holds forever */
	if (len >= sizeof(buf)) {
		*why = "footer too long";
		return -EINVAL;
	}
	memcpy(buf, p + 1, len);
	buf[len] = '\0';
	if (rule_parse(buf, &z->rule) < 0) {
		*why = "bad POSIX TZ string in footer";
		return -EINVAL;
	}
	z->has_rule = true;
	return 0;
}

static int tzif_parse(struct tz *z, const uint8_t *p, size_t n, const char **why)
{
	struct tzif_hdr h;
	uint64_t len;
	int tsize = 4;

	*why = "not a TZif file";
	if (tzif_header(p, n, &h) < 0)
		return -EINVAL;
	len = 44 + tzif_block(&h, 4);
	if (h.version != '\0') {
		/* v2+: skip the 32-bit block, use the 64-bit one and footer. */
		if (len > n || tzif_header(p + len, n - len, &h) < 0)
			return -EINVAL;
		p += len;
		n -= len;
		tsize = 8;
		len = 44 + tzif_block(&h, 8);
	}
	*why = "truncated file";
	if (len > n)
		return -EINVAL;
	if (tzif_data(z, &h, p + 44, tsize, why) < 0)
		return -EINVAL;
	return tsize == 8 ? tzif_footer(z, p + len, n - len, why) : 0;
}

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	ssize_t r;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > TZ_MAX_FILE) {
		rc = -ENOENT;
		goto out;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		rc = -ENOMEM;
		goto out;
	}
	for (*len = 0; *len < (size_t)st.st_size; *len += (size_t)r) {
		r = read(fd, *buf + *len, (size_t)st.st_size - *len);
		if (r < 0 && errno == EINTR) {
			r = 0;
			continue;
		}
		if (r <= 0)
			break;
	}
out:
	close(fd);
	return rc;
}

static void tz_free(struct tz *z)
{
	free(z->name);
	free(z->trans);
	free(z->idx);
	free(z->types);
	free(z->chars);
	free(z);
}

static bool name_valid(const char *name)
{
	if (strlen(name) > TZ_MAX_NAME || name[0] == '/' || strstr(name, ".."))
		return false;
	for (const char *s = name; *s; s++) {
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || strchr("_+/-", *s)))
			return false;
	}
	return true;
}

static int tz_load(const char *name, struct tz **out, char *err, size_t errlen)
{
	const char *dir = getenv("TZDIR"), *why = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	char path[4096];
	struct tz *z;
	int rc;

	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	z = calloc(1, sizeof(*z));
	if (!z || !(z->name = strdup(name))) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory loading time zone '%s'", name);
		goto error;
	}
	rc = read_file(path, &buf, &len);
	if (rc < 0) {
		snprintf(err, errlen, "unknown time zone '%s'", name);
		rc = rc == -ENOMEM ? rc : -ENOENT;
		goto error;
	}
	rc = tzif_parse(z, buf, len, &why);
	if (rc < 0) {
		snprintf(err, errlen, "bad time zone file for '%s': %s", name, why);
		goto error;
	}
	free(buf);
	*out = z;
	return 0;
error:
	free(buf);
	if (z)
		tz_free(z);
	return rc;
}

int tz_get(const char *name, const struct tz **out, char *err, size_t errlen)
{
	struct tz *z;
	char dummy[1];
	int rc;

	if (!err || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if (!name || !*name || strcmp(name, "UTC") == 0) {
		*out = &tz_utc;
		return 0;
	}
	if (!name_valid(name)) {
		snprintf(err, errlen, "invalid time zone name '%s'", name);
		return -EINVAL;
	}
	for (z = tz_cache; z; z = z->next) {
		if (strcmp(z->name, name) == 0) {
			*out = z;
			return 0;
		}
	}
	rc = tz_load(name, &z, err, errlen);
	if (rc < 0)
		return rc;
	z->next = tz_cache;
	tz_cache = z;
	*out = z;
	return 0;
}

const char *tz_name(const struct tz *z)
{
	return z ? z->name : "UTC";
}

void tz_cache_clear(void)
{
	while (tz_cache) {
		struct tz *z = tz_cache;

		tz_cache = z->next;
		tz_free(z);
	}
}
