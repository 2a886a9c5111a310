/* client_sync.c — client.h made blocking: a private loop run until the
 * one operation in progress (connect or call) is done or its timer fires.
 *
 * The timeout counts from the last sign of life of the operation (for a
 * call: each event restarts it), so a `wait` or a followed run may last
 * for hours while jobd keeps sending, yet a silent daemon is noticed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "client/client.h"
#include "client/client_sync.h"

struct client_sync {
	uv_loop_t loop;
	uv_timer_t timer;
	struct client *cl;
	int timeout_ms;
	char lost[320];      /* why the connection ended, for later calls */
	/* the operation in progress */
	int done, status, code;
	json_t *reply;
	char err[512];
	client_event_cb *on_event;
	void *arg;
};

static void op_done(struct client_sync *cs, int status, const char *error)
{
	if (cs->done)
		return;
	cs->done = 1;
	cs->status = status;
	snprintf(cs->err, sizeof cs->err, "%s", error ? error : "");
}

static void on_timeout(uv_timer_t *t)
{
	struct client_sync *cs = t->data;

	snprintf(cs->lost, sizeof cs->lost, "no answer from jobd within "
	         "%d ms: connection closed", cs->timeout_ms);
	op_done(cs, -ETIMEDOUT, cs->lost);
	client_close(cs->cl);   /* its reply, if any, can no longer be told */
	cs->cl = NULL;
}

static void timer_restart(struct client_sync *cs)
{
	if (cs->timeout_ms > 0)
		uv_timer_start(&cs->timer, on_timeout, (uint64_t)cs->timeout_ms,
		               0);
}

/* Runs the loop until the operation is done.  A loop with nothing left to
 * wait for cannot finish it: that would be a bug of ours, not a hang. */
static void op_wait(struct client_sync *cs)
{
	timer_restart(cs);
	while (!cs->done)
		if (uv_run(&cs->loop, UV_RUN_ONCE) == 0 && !cs->done)
			op_done(cs, -EIO, "nothing left to wait for on the "
			        "connection to jobd");
	uv_timer_stop(&cs->timer);
}

static void on_connect(struct client *cl, int status, const char *error,
                       void *arg)
{
	(void)cl;
	op_done(arg, status, error);
}

static void on_lost(struct client *cl, int status, const char *error,
                    void *arg)
{
	struct client_sync *cs = arg;

	(void)cl;
	(void)status;
	snprintf(cs->lost, sizeof cs->lost, "%s", error);
}

static void on_event(void *arg, const char *kind, json_t *data)
{
	struct client_sync *cs = arg;

	timer_restart(cs);
	if (cs->on_event)
		cs->on_event(cs->arg, kind, data);
}

static void on_reply(void *arg, int status, json_t *data, const char *error,
                     int code)
{
	struct client_sync *cs = arg;

	if (cs->done)
		return;   /* timed out already */
	if (status == 0 && error) {
		cs->code = code;
		status = -EREMOTEIO;
	} else if (status == 0) {
		cs->reply = json_incref(data);
	}
	op_done(cs, status, error);
}

/* Closes the client and the timer, runs the loop until libuv let go of
 * both, then frees cs. */
void client_sync_close(struct client_sync *cs)
{
	if (!cs)
		return;
	client_close(cs->cl);
	uv_close((uv_handle_t *)&cs->timer, NULL);
	uv_run(&cs->loop, UV_RUN_DEFAULT);
	uv_loop_close(&cs->loop);
	free(cs);
}

int client_sync_open(const char *address, const char *password,
                     int timeout_ms, struct client_sync **out, char *err,
                     size_t errlen)
{
	struct client_opts o = { .password = password, .on_connect = on_connect,
	                         .on_lost = on_lost };
	struct client_sync *cs = calloc(1, sizeof *cs);
	int rc;

	*out = NULL;
	if (!cs) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if ((rc = uv_loop_init(&cs->loop)) < 0) {
		snprintf(err, errlen, "cannot start a loop: %s", uv_strerror(rc));
		free(cs);
		return rc;
	}
	uv_timer_init(&cs->loop, &cs->timer);
	cs->timer.data = cs;
	cs->timeout_ms = timeout_ms;
	o.arg = cs;
	rc = client_open(&cs->loop, address, &o, &cs->cl, err, errlen);
	if (rc == 0) {
		op_wait(cs);
		rc = cs->status;
		if (rc < 0)
			snprintf(err, errlen, "%s", rc == -ETIMEDOUT ? "cannot "
			         "reach jobd: no connection within the timeout"
			         : cs->err);
	}
	if (rc < 0) {
		client_sync_close(cs);
		return rc;
	}
	*out = cs;
	return 0;
}

int client_sync_call(struct client_sync *cs, const char *type, json_t *data,
                     client_event_cb *on_event_cb, void *arg, json_t **reply,
                     int *code, char *err, size_t errlen)
{
	int rc;

	*reply = NULL;
	if (code)
		*code = 0;
	cs->done = cs->status = cs->code = 0;
	cs->reply = NULL;
	cs->on_event = on_event_cb;
	cs->arg = arg;
	rc = cs->cl ? client_call(cs->cl, type, data, on_event, on_reply, cs)
	            : -EPIPE;
	if (rc < 0) {
		snprintf(err, errlen, "%s", rc != -EPIPE ? strerror(-rc) :
		         *cs->lost ? cs->lost : "not connected to jobd");
		return rc;
	}
	op_wait(cs);
	if (code)
		*code = cs->code;
	*reply = cs->reply;
	if (cs->status < 0)
		snprintf(err, errlen, "%s", cs->err);
	return cs->status;
}
