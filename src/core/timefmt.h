/* timefmt.h — durations and times as users write and read them. */
#ifndef JOBD_TIMEFMT_H
#define JOBD_TIMEFMT_H
#include <stddef.h>
#include <stdint.h>

int64_t now_us(void);            /* CLOCK_REALTIME in microseconds */
/* Tests only: now_us() returns `us` from now on; 0 = the real clock again. */
void now_us_fake(int64_t us);
int64_t mono_us(void);           /* CLOCK_MONOTONIC in microseconds */

/* DUR: "90s", "15m", "1h30m", "2d", "500ms", "1w", a bare number = seconds.
 * Returns 0 or -EINVAL (err names the bad part). */
int dur_parse(const char *s, int64_t *us, char *err, size_t errlen);
/* "1h30m", "45s", "250ms", "0s" */
void dur_format(char *out, size_t n, int64_t us);

/* TIME: RFC 3339 ("2026-11-23T10:00:00Z", "+01:00" offsets, fractions),
 * "now", "now+DUR", "now-DUR", or a unix time "@1700000000". */
int time_parse(const char *s, int64_t now, int64_t *us, char *err, size_t errlen);
/* RFC 3339 in UTC with microseconds: 2026-11-23T10:00:00.123456Z */
void time_format_utc(char *out, size_t n, int64_t us);
/* RFC 3339 with a numeric offset: 2026-11-23T11:00:00+01:00 (seconds only) */
void time_format_offset(char *out, size_t n, int64_t us, int offset_s);
/* Relative to now, for humans: "3m ago", "in 2h", "just now". */
void time_format_relative(char *out, size_t n, int64_t us, int64_t now);
#endif
