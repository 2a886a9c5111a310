/* schedule.h — schedule expressions: parse once, then compute fire times
 * arithmetically (field by field, never by stepping second by second).
 * Pure: no I/O except loading time zones through tz.h.
 *
 * Languages, detected by shape (INTERFACES.md "Schedule strings"):
 *   cron      5, 6 (seconds first) or 7 (… year) fields, ? L LW NW NL N#k,
 *             names, @yearly @annually @monthly @weekly @daily @midnight
 *             @hourly, and @reboot (fires once at daemon start)
 *   interval  @every DUR   (next = last run + DUR)
 *   calendar  the task-schedule grammar of reference/tasks.md
 *   never     "" or "@0": manual runs only
 */
#ifndef JOBD_SCHEDULE_H
#define JOBD_SCHEDULE_H
#include <stddef.h>
#include <stdint.h>

enum sched_kind {
	SCHED_NEVER,
	SCHED_CRON,
	SCHED_REBOOT,
	SCHED_EVERY,
	SCHED_CALENDAR,
};

struct sched;

/* Parses `expr` for time zone `tz` (NULL = UTC).  Returns 0 with *out set,
 * or -EINVAL with err naming the field and token, e.g.
 *   syntax error in day-of-month field: '32'
 * or -ENOENT for an unknown time zone. */
int sched_parse(const char *expr, const char *tz, struct sched **out,
                char *err, size_t errlen);
void sched_free(struct sched *s);
int sched_kind(const struct sched *s);
/* The zone the schedule uses (for printing fire times). */
const struct tz *sched_tz(const struct sched *s);

/* The first fire time strictly after `after` (unix microseconds; fire times
 * are whole seconds).  `last` is the persisted time of the last run (0 =
 * never) for @every and calendar intervals.  `seed` makes random placement
 * (`~` windows) stable per job.  Returns -1 when there is none (cron year
 * out of range, never, @reboot). */
int64_t sched_next(const struct sched *s, int64_t after, int64_t last,
                   uint64_t seed);

/* Whether catch-up after downtime is on unless the job says otherwise:
 * once for @every and calendar, none for cron. */
int sched_default_catchup(const struct sched *s);
#endif
