/* schedule/internal.h — what schedule.c (the dispatcher) needs from each
 * language.  Not for use outside src/core/schedule/.
 *
 * Detection by shape (schedule.c):
 *   "" or "@0"                 never
 *   "@reboot"                  reboot
 *   "@every DUR"               interval
 *   other "@word" macros       cron (@yearly ... @hourly); "@10" is calendar
 *   starts with '['            calendar (JSON list)
 *   <= 4 fields (a leading
 *     "!" not counted)         calendar
 *   5, 6 or 7 fields           cron
 */
#ifndef JOBD_SCHEDULE_INTERNAL_H
#define JOBD_SCHEDULE_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include "../tz.h"

struct cron;
int cron_parse(const char *expr, struct cron **out, char *err, size_t errlen);
/* next fire strictly after `after` (unix seconds) in zone z; -1 if none. */
int64_t cron_next(const struct cron *c, const struct tz *z, int64_t after);
void cron_free(struct cron *c);

struct cal;
int cal_parse(const char *expr, struct cal **out, char *err, size_t errlen);
/* next fire strictly after `after` and >= last + interval (anacron rule),
 * unix seconds, in zone z; -1 if none.  seed: stable random placement for
 * '~' windows. */
int64_t cal_next(const struct cal *c, const struct tz *z, int64_t after,
                 int64_t last, uint64_t seed);
void cal_free(struct cal *c);
#endif
