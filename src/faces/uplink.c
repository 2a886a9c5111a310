/* uplink.c — a worker's link to its master (master_host/master_port;
 * docs/cluster.md).  The worker connects out with the libuv client
 * (client/client.h), registers {name, labels, targets}, and serves the
 * master's requests over that connection through the ops table, as any
 * face does.  What the master may ask is the worker protocol of the wire
 * port (ROLE_WIRE_QUEUE): the master proves nothing to the worker (the
 * password goes the other way), so whoever answers at master_host can
 * pause targets and run rows already in the table, never create a job or
 * start a command of its own (docs/security.md).
 *
 * The link comes back by itself: a lost or refused connection is retried
 * after 1 s, doubling up to master_reconnect_timeout.  Targets added or
 * removed at runtime are told to the master (the original did not): the
 * link registers again when the set changes (checked each second). */
#include "faces/uplink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "core/list.h"
#include "engine/log.h"
#include "faces/ops.h"

struct ucall {
	struct call c;
	struct link link;        /* u.calls */
};

static struct uplink {
	struct engine *e;
	struct client *cl;
	uv_timer_t retry, check;
	int on;
	int up;                  /* registered with the master */
	int64_t backoff_ms;
	char address[300];
	char *sig;               /* the targets last registered: "a,b," */
	struct link calls;       /* the master's requests being served */
} u;

static void uplink_connect(void);

/* The targets as one string, to see when they change. */
static char *targets_sig(json_t **arr)
{
	size_t len = 1, n = 0;
	char *s;
	const struct target *t;
	for (int i = 0; (t = engine_target_at(u.e, i)); i++)
		len += strlen(t->name) + 1;
	if (!(s = malloc(len)))
		return NULL;
	*s = 0;
	if (arr)
		*arr = json_array();
	for (int i = 0; (t = engine_target_at(u.e, i)); i++) {
		n += (size_t)snprintf(s + n, len - n, "%s,", t->name);
		if (arr)
			json_array_append_new(*arr, json_string(t->name));
	}
	return s;
}

/* ---- serving the master's requests ---- */

static void ucall_respond(struct call *c, json_t *data, int err,
                          const char *msg)
{
	struct ucall *uc = (struct ucall *)c;
	if (u.cl)
		client_respond(u.cl, c->no, data, err ? msg : NULL,
		               err ? err_exit_code(err) : 0);
	json_decref(data);
	link_remove(&uc->link);
	free(uc);
}

static void on_request(struct client *cl, int64_t no, const char *name,
                       json_t *data, void *arg)
{
	struct ucall *uc = calloc(1, sizeof *uc);
	(void)arg;
	if (!uc) {
		client_respond(cl, no, NULL, "out of memory", 1);
		return;
	}
	uc->c.e = u.e;
	uc->c.no = no;
	uc->c.uid = engine_uid(u.e);
	uc->c.admin = 1;
	uc->c.role = ROLE_MASTER_LINK;
	uc->c.face = &u;
	uc->c.respond = ucall_respond;
	uc->c.commit_wait = 1;
	link_insert_before(&u.calls, &uc->link);
	ops_dispatch(&uc->c, name, data);
}

static void abandon_calls(void)
{
	for (struct link *l; (l = link_pop(&u.calls));) {
		struct ucall *uc = link_entry(l, struct ucall, link);
		call_abandon(&uc->c);
		free(uc);
	}
}

/* ---- the connection ---- */

static void retry_later(void)
{
	const struct config *cfg = engine_config(u.e);
	int64_t max = cfg->master_reconnect_timeout / 1000;
	if (!u.on)
		return;
	u.backoff_ms = u.backoff_ms ? u.backoff_ms * 2 : 1000;
	if (u.backoff_ms > max)
		u.backoff_ms = max > 0 ? max : 1000;
	uv_timer_start(&u.retry, (uv_timer_cb)uplink_connect,
	               (uint64_t)u.backoff_ms, 0);
}

static void drop(void)
{
	abandon_calls();
	if (u.cl)
		client_close(u.cl);
	u.cl = NULL;
	u.up = 0;
	free(u.sig);
	u.sig = NULL;
}

static void on_registered(void *arg, int status, json_t *data,
                          const char *error, int code)
{
	(void)arg;
	(void)data;
	(void)code;
	if (status < 0)
		return;              /* lost: on_lost retries */
	if (error) {
		log_error("master at %s refused to register this worker: %s; "
		          "retrying", u.address, error);
		drop();
		retry_later();
		return;
	}
	if (!u.up)
		log_info("registered with the master at %s", u.address);
	u.up = 1;
	u.backoff_ms = 0;
}

static void register_now(void)
{
	const struct config *cfg = engine_config(u.e);
	json_t *targets = NULL;
	free(u.sig);
	u.sig = targets_sig(&targets);
	json_t *d = json_pack("{s:s, s:o, s:s?, s:I}", "name", cfg->name,
	                      "targets", targets ? targets : json_array(),
	                      "labels", cfg->labels, "update_seq",
	                      (json_int_t)engine_update_seq(u.e));
	if (!d || client_call(u.cl, "register-worker", d, NULL, on_registered,
	                      NULL) < 0)
		log_error("cannot register with the master at %s", u.address);
	json_decref(d);
}

static void on_connect(struct client *cl, int status, const char *error,
                       void *arg)
{
	(void)cl;
	(void)arg;
	if (status < 0) {
		log_warn("%s; retrying", error);
		drop();
		retry_later();
		return;
	}
	register_now();
}

static void on_lost(struct client *cl, int status, const char *error,
                    void *arg)
{
	(void)cl;
	(void)status;
	(void)arg;
	log_warn("link to the master at %s lost: %s; reconnecting", u.address,
	         error);
	drop();
	retry_later();
}

static void uplink_connect(void)
{
	const struct config *cfg = engine_config(u.e);
	struct client_opts o = {
		.password = cfg->password && *cfg->password ? cfg->password : NULL,
		.on_connect = on_connect,
		.on_lost = on_lost,
		.on_request = on_request,
	};
	char err[320];
	if (client_open(engine_loop(u.e), u.address, &o, &u.cl, err,
	                sizeof err) < 0) {
		log_error("master %s: %s", u.address, err);
		u.cl = NULL;
		retry_later();
	}
}

/* Each second: targets changed since they were registered → again. */
static void on_check(uv_timer_t *t)
{
	(void)t;
	if (!u.up)
		return;
	char *now = targets_sig(NULL);
	if (now && u.sig && strcmp(now, u.sig) != 0) {
		log_info("targets changed; registering them with the master");
		register_now();
	}
	free(now);
}

int uplink_start(struct engine *e, char *err, size_t errlen)
{
	const struct config *cfg = engine_config(e);
	if (!cfg->master_host || !*cfg->master_host)
		return 0;
	if (strcmp(cfg->role, "master") == 0) {
		snprintf(err, errlen, "master_host: a master registers with no "
		         "master (remove master_host or set role = worker)");
		return -EINVAL;
	}
	u.e = e;
	link_init(&u.calls);
	snprintf(u.address, sizeof u.address, strchr(cfg->master_host, ':')
	         ? "[%s]:%d" : "%s:%d", cfg->master_host, cfg->master_port);
	uv_timer_init(engine_loop(e), &u.retry);
	uv_timer_init(engine_loop(e), &u.check);
	uv_timer_start(&u.check, on_check, 1000, 1000);
	u.on = 1;
	uplink_connect();
	return 0;
}

void uplink_stop(void)
{
	if (!u.on)
		return;
	u.on = 0;
	drop();
	uv_close((uv_handle_t *)&u.retry, NULL);
	uv_close((uv_handle_t *)&u.check, NULL);
}
