/* fuzz_schedule.c — libFuzzer target for the schedule parsers: any input
 * (NUL-terminated) goes through sched_parse, and a parsed schedule answers
 * a few sched_next calls, chained and from fixed instants, in UTC and in a
 * DST zone.  Checks that next() is strictly increasing and on whole seconds.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     fuzz/fuzz_schedule.c src/core/tz.c src/core/schedule/[a-z]*.c \
 *     src/core/timefmt.c -lm -o /tmp/fzs
 *   TZDIR=/usr/share/zoneinfo /tmp/fzs fuzz/corpus/schedule */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/schedule.h"

#define US 1000000LL

static const int64_t starts[] = {
	0,
	1363000000LL * US,      /* 2013-03-11 */
	1616893200LL * US,      /* 2021-03-28 01:00Z, Berlin DST start */
	1635642000LL * US,      /* 2021-10-31 01:00Z, Berlin DST end */
	4102444000LL * US,      /* 2099-12-31 */
	-5 * US,
};

static void run(const char *expr, const char *zone)
{
	struct sched *s;
	char err[256];
	int64_t t, prev;

	if (sched_parse(expr, zone, &s, err, sizeof(err)) != 0)
		return;
	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		prev = starts[i];
		for (int k = 0; k < 4; k++) {
			t = sched_next(s, prev, prev, 42);
			if (t < 0)
				break;
			if (t <= prev || t % US != 0)
				abort();
			prev = t;
		}
	}
	sched_kind(s);
	sched_default_catchup(s);
	sched_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *expr = malloc(size + 1);

	if (!expr)
		return 0;
	memcpy(expr, data, size);
	expr[size] = '\0';
	run(expr, NULL);
	run(expr, "Europe/Berlin");
	run(expr, "Australia/Lord_Howe");
	free(expr);
	return 0;
}
