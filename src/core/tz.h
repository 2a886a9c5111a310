/* tz.h — IANA time zones read straight from TZif files (no process-wide TZ).
 * Hand-written: glibc offers only the process-global TZ/localtime, which a
 * daemon serving jobs in many zones cannot switch per call. */
#ifndef JOBD_TZ_H
#define JOBD_TZ_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct tz;

/* Loads (and caches: the same name gives the same pointer, never freed
 * before tz_cache_clear) the zone `name`: "UTC", "Europe/Berlin", ...
 * looked up under $TZDIR or /usr/share/zoneinfo.  NULL or "" = UTC.
 * Returns 0, -ENOENT (unknown zone) or -EINVAL (bad file, bad name such as
 * "../x"); err names the zone. */
int tz_get(const char *name, const struct tz **out, char *err, size_t errlen);
const char *tz_name(const struct tz *z);
void tz_cache_clear(void);

/* UTC seconds -> local broken-down time (tm_gmtoff/tm_isdst set) and offset. */
void tz_to_local(const struct tz *z, int64_t t, struct tm *out, int *offset_s);
/* Local wall time -> UTC seconds.  Returns how many instants have that wall
 * time: 1 normally, 2 in a repeated (fall-back) hour (t[0] < t[1]), 0 in a
 * skipped (spring-forward) hour, where t[0] is set to the instant of the
 * jump (the first valid local time after the gap). */
int tz_from_local(const struct tz *z, const struct tm *local, int64_t t[2]);
/* The UTC offset (seconds east) in effect at t.  *start and *end (either may
 * be NULL) get the bounds of the period around t in which that offset holds:
 * start = the latest change <= t (INT64_MIN if none), end = the first change
 * after t (INT64_MAX if none).  A change that keeps the offset (only the
 * name or the DST flag changes) may also bound a period. */
int tz_period(const struct tz *z, int64_t t, int64_t *start, int64_t *end);

/* Proleptic Gregorian calendar arithmetic, no zone (m 1-12, d 1-31):
 * days since 1970-01-01, and back. */
int64_t tz_days_from_civil(int64_t y, int m, int d);
void tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
/* Days in month m (1..12) of year y, proleptic Gregorian. */
int tz_month_days(int64_t y, int m);
/* Division rounding toward minus infinity (seconds -> days before 1970). */
int64_t tz_floor_div(int64_t a, int64_t b);
#endif
