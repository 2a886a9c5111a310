/* runstate.h — the run state machine as a table (state x event -> state).
 * Pure: the engine asks before it acts and refuses what the table refuses. */
#ifndef JOBD_RUNSTATE_H
#define JOBD_RUNSTATE_H

enum run_event {
	EV_CLAIM,      /* waiting -> accepted (a worker takes it) */
	EV_RUN_MANUAL, /* manual -> accepted (run-manual / jobctl run) */
	EV_START,      /* accepted -> running (child spawned) */
	EV_EXIT,       /* running -> done (child exited, result recorded) */
	EV_CANCEL,     /* waiting|manual|accepted -> ignored */
	EV_REQUEUE,    /* accepted -> waiting (recovery after a crash) */
	EV_LOST,       /* running|accepted -> done (sig=LOST, recovery) */
	EV_SPAWN_FAIL, /* accepted -> done (exec failed, result fail) */
	EV_COUNT
};

/* The state after `ev` in `status`, or -1 when the event is not allowed. */
int runstate_next(int status, int ev);
const char *run_event_name(int ev);
int runstate_terminal(int status);   /* done, ignored */
#endif
