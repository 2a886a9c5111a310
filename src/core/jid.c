/* jid.c — Salt-style job ids: 20 digits YYYYMMDDhhmmssffffff in UTC.
 * Hand-written: a fixed-width date format, a few lines over gmtime_r/timegm. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "core/jid.h"

#define US 1000000LL

void jid_format(char out[21], int64_t us)
{
	/* Floor division so times before 1970 still format sanely. */
	int64_t sec = us / US, frac = us % US;
	struct tm tm;
	time_t t;

	if (frac < 0) {
		frac += US;
		sec--;
	}
	t = (time_t)sec;
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
		/* Out of the 4-digit year range: never a valid jid. */
		memset(out, '0', 20);
		out[20] = '\0';
		return;
	}
	/* digit by digit, not through printf: a burst of scheduled runs
	 * makes hundreds of these in one loop turn */
	const int64_t parts[] = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	                         tm.tm_hour, tm.tm_min, tm.tm_sec, frac};
	static const int widths[] = {4, 2, 2, 2, 2, 2, 6};
	char *p = out;
	for (int k = 0; k < 7; k++) {
		int64_t v = parts[k];
		for (int i = widths[k] - 1; i >= 0; i--, v /= 10)
			p[i] = (char)('0' + v % 10);
		p += widths[k];
	}
	*p = '\0';
}

void jid_next(char out[21], int64_t now_us, int64_t *last_us)
{
	/* Strictly increasing even if two runs land in the same microsecond
	 * or the wall clock steps back (NTP). */
	int64_t us = now_us > *last_us ? now_us : *last_us + 1;

	*last_us = us;
	jid_format(out, us);
}

static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int days_in_month(int y, int m)
{
	static const int d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : d[m - 1];
}

int jid_parse(const char *s, int64_t *us)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, se;
	time_t t;

	if (!s || strlen(s) != 20 || strspn(s, "0123456789") != 20)
		return -EINVAL;
	y = digits(s, 4);
	mo = digits(s + 4, 2);
	d = digits(s + 6, 2);
	h = digits(s + 8, 2);
	mi = digits(s + 10, 2);
	se = digits(s + 12, 2);
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || se > 59)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	*us = (int64_t)t * US + digits(s + 14, 6);
	return 0;
}

int jid_valid(const char *s)
{
	int64_t us;

	return jid_parse(s, &us) == 0;
}
