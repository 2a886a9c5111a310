/* schedule/calendar.h — the compiled form of a calendar-window schedule,
 * shared by its parser (calendar_parse.c) and its evaluation (calendar.c).
 * Not for use outside src/core/schedule/. */
#ifndef JOBD_SCHEDULE_CALENDAR_H
#define JOBD_SCHEDULE_CALENDAR_H
#include <stdbool.h>
#include <stdint.h>

#define CAL_MAX_RANGES 32
#define CAL_MAX_DAYS 32
#define CAL_MAX_EXPRS 64
#define CAL_SCAN_DAYS 3700 /* ~10 years: week 53 and Feb 29 recur within */
#define CAL_VETO_HOPS 64
#define DAY 86400

struct cal_range {
	int32_t begin;    /* seconds after local midnight */
	int32_t end;      /* exclusive, begin < end <= begin + DAY */
	int64_t interval; /* seconds; 0 = once per window */
	bool rnd;         /* `~`: random start inside the window */
};

enum { DOM_ANY, DOM_EXACT, DOM_MOD };

/* One `dow[-dow][:dom]` item: weekday in `dows` AND day-of-month test. */
struct cal_day {
	uint8_t dows; /* bit 1..7, mon = 1 */
	uint8_t kind; /* DOM_* */
	int16_t a;    /* EXACT: 1..31 or -31..-1 (from the end); MOD: modulo */
	int16_t b;    /* MOD: shift */
};

struct cal_expr {
	bool veto;
	int nranges, ndays; /* ndays == 0: every day */
	struct cal_range ranges[CAL_MAX_RANGES];
	struct cal_day days[CAL_MAX_DAYS];
	uint64_t weeks;  /* bit 1..53 */
	uint16_t months; /* bit 1..12 */
};

struct cal {
	int n, cap; /* cap: the allocated e[] */
	bool has_veto;
	uint16_t months; /* union of the include expressions' months */
	struct cal_expr e[];
};

#endif
