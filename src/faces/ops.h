/* ops.h — the operations table: every operation of jobd exists once, here,
 * with one validation path and one error vocabulary.  A face decodes its
 * wire format into (type, data) and a struct call, calls ops_dispatch, and
 * encodes what comes back through the call's callbacks. */
#ifndef JOBD_OPS_H
#define JOBD_OPS_H

#include <jansson.h>
#include <stdint.h>

#include "engine/engine_api.h"

/* What a caller proved, beyond uid/admin (docs/security.md).  The ops
 * check it in ops_dispatch (ops_role_allows), not the faces. */
enum call_role {
	ROLE_LOCAL = 0,          /* the Unix socket: uid and admin decide */
	ROLE_WIRE_ROWS,          /* TCP, loopback, no password, root daemon:
	                            poll, run-manual and status on the rows */
	ROLE_WIRE_QUEUE,         /* TCP, loopback, no password, non-root
	                            daemon: the original worker protocol */
	ROLE_WIRE_PASSWORD,      /* TCP with the password: the worker
	                            protocol, jobd's reads and run control */
	ROLE_HTTP_READ,          /* HTTP GET from loopback without the token
	                            (always_allow_localhost): the overview */
	ROLE_NINEP_READ,         /* 9P from loopback without ninep_token:
	                            reads, start/stop/run of existing jobs,
	                            target pause/continue/concurrency */
	ROLE_MASTER_LINK,        /* a worker serving its master (uplink.c):
	                            the worker protocol, and lifecycle
	                            actions and health of existing jobs */
};

/* One request in flight.  The face owns it; an op may keep it (wait,
 * follow) by linking it into a run's watchers, and must then finish it
 * with call_reply/call_fail.  When the face's connection goes away it
 * calls call_abandon, which unlinks it from whatever holds it. */
struct call {
	struct engine *e;
	int64_t no;
	uint32_t uid;            /* the requester's uid */
	int admin;               /* root or the daemon's user */
	int role;                /* enum call_role */
	void *face;              /* the face's connection */
	/* Sends the one response; data is stolen.  err != 0: data is NULL and
	 * msg says what is wrong; err is a negative errno whose class gives
	 * the exit code. */
	void (*respond)(struct call *c, json_t *data, int err, const char *msg);
	/* Sends a success whose data is JSON text already (taken: malloc'd,
	 * len bytes); NULL when the face has no such path, and then
	 * call_reply_run parses the text for respond. */
	void (*respond_text)(struct call *c, char *data, size_t len);
	/* Streams an event (Unix socket only; NULL elsewhere). */
	void (*event)(struct call *c, const char *kind, json_t *data);
	struct run_watcher watch;   /* on a run while waiting (call_watch) */
	int follow;              /* send output events while watching */
	void (*on_done)(struct call *c);   /* face: the call has replied */
	/* An op that keeps state of its own for the call (run-manual's
	 * sub-calls) frees it here when the call is abandoned; it clears the
	 * hook before replying. */
	void (*cancel)(struct call *c);
	void *op_state;          /* the op's own state, for cancel */
	/* Reply-after-commit, kept by the call (a face sets commit_wait):
	 * a reply that may acknowledge a write (one made after dispatch
	 * returned, or while the store's writes grew during it) reaches
	 * respond only once those writes are committed (persist_flush); a
	 * success whose commit failed becomes -EIO "not stored: WHY".  Replies
	 * of a dispatch that wrote nothing go at once.  call_abandon drops a
	 * reply still waiting: after it, respond is never called.  The socket
	 * face leaves it 0: it batches its connections' barriers itself
	 * (server_io.c). */
	int commit_wait;
	uint64_t writes_at;      /* ops: persist_writes at dispatch */
	struct held_reply *held; /* ops: the reply waiting for its commit */
};

int ops_dispatch(struct call *c, const char *type, json_t *data);

/* The route hook: where a cluster master sends an op to a worker instead
 * of the local engine.  ops_dispatch offers it every call whose op is
 * known, whose data is an object and whose caller's role allows the op
 * (so routing never widens what a caller may do), before the op runs
 * here.  It returns 0 to decline (the op runs on the local engine) or 1
 * to take the call: it then answers it itself, at once or later, with
 * call_reply / call_fail (the call's respond), exactly once.  A hook
 * that answers later keeps data with json_incref and sets c->cancel (and
 * c->op_state), which call_abandon calls when the caller goes away.  One
 * hook per process; NULL removes it. */
typedef int (*ops_route_fn)(void *arg, struct call *c, const char *op,
                            json_t *data);
void ops_set_route(ops_route_fn fn, void *arg);
/* Re-reads the config file and job files (jobctl reload, SIGHUP). */
int ops_reload(struct engine *e, int *n_jobs, int *n_files, char *err,
               size_t errlen);
void call_reply(struct call *c, json_t *data);
/* Replies {"run": ...} with its output: a's (live) when given, else r's. */
void call_reply_run(struct call *c, const struct arun *a,
                    const struct run *r);
void call_fail(struct call *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void call_abandon(struct call *c);

/* Waits for a's end and replies with the run then (follow: with its
 * events before); call_abandon unlinks it. */
void call_watch(struct call *c, struct arun *a);
#endif
