/* runstate.c — the run state machine as one static table (state x event ->
 * next state, -1 = refused), so every transition jobd allows is visible in
 * one place.  Hand-written: it is jobd's own lifecycle (DESIGN.md). */
#include "jobd.h"
#include "core/runstate.h"

#define NO (-1)

/* The terminal rows below list every event: keep them in step. */
_Static_assert(EV_COUNT == 8, "update the run state table");

/* Rows: enum run_status; columns: enum run_event. */
static const signed char table[RUN_STATUS_COUNT][EV_COUNT] = {
	[RUN_WAITING] = {
		[EV_CLAIM] = RUN_ACCEPTED, [EV_RUN_MANUAL] = NO,
		[EV_START] = NO, [EV_EXIT] = NO, [EV_CANCEL] = RUN_IGNORED,
		[EV_REQUEUE] = NO, [EV_LOST] = NO, [EV_SPAWN_FAIL] = NO,
	},
	[RUN_MANUAL] = {
		[EV_CLAIM] = NO, [EV_RUN_MANUAL] = RUN_ACCEPTED,
		[EV_START] = NO, [EV_EXIT] = NO, [EV_CANCEL] = RUN_IGNORED,
		[EV_REQUEUE] = NO, [EV_LOST] = NO, [EV_SPAWN_FAIL] = NO,
	},
	[RUN_ACCEPTED] = {
		[EV_CLAIM] = NO, [EV_RUN_MANUAL] = NO,
		[EV_START] = RUN_RUNNING, [EV_EXIT] = NO,
		[EV_CANCEL] = RUN_IGNORED, [EV_REQUEUE] = RUN_WAITING,
		[EV_LOST] = RUN_DONE, [EV_SPAWN_FAIL] = RUN_DONE,
	},
	[RUN_RUNNING] = {
		[EV_CLAIM] = NO, [EV_RUN_MANUAL] = NO,
		[EV_START] = NO, [EV_EXIT] = RUN_DONE, [EV_CANCEL] = NO,
		[EV_REQUEUE] = NO, [EV_LOST] = RUN_DONE, [EV_SPAWN_FAIL] = NO,
	},
	/* Terminal states: nothing leaves them. */
	[RUN_DONE] = { NO, NO, NO, NO, NO, NO, NO, NO },
	[RUN_IGNORED] = { NO, NO, NO, NO, NO, NO, NO, NO },
};

static const char *const event_names[EV_COUNT] = {
	[EV_CLAIM] = "claim",       [EV_RUN_MANUAL] = "run_manual",
	[EV_START] = "start",       [EV_EXIT] = "exit",
	[EV_CANCEL] = "cancel",     [EV_REQUEUE] = "requeue",
	[EV_LOST] = "lost",         [EV_SPAWN_FAIL] = "spawn_fail",
};

int runstate_next(int status, int ev)
{
	if (status < 0 || status >= RUN_STATUS_COUNT || ev < 0 || ev >= EV_COUNT)
		return NO;
	return table[status][ev];
}

const char *run_event_name(int ev)
{
	return ev >= 0 && ev < EV_COUNT ? event_names[ev] : NULL;
}

int runstate_terminal(int status)
{
	return status == RUN_DONE || status == RUN_IGNORED;
}
