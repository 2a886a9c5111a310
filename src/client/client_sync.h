/* client_sync.h — a blocking wrapper of client.h for programs without a
 * loop of their own (jobctl): connect, call (events passed on while the
 * call waits), close.  Each client_sync runs a private uv_loop_t, so it
 * owns no global state; one thread at a time per client_sync.
 *
 * The caller should ignore SIGPIPE (jobctl and jobd do): writing to a
 * daemon that went away is then an error, not the end of the process.
 *
 * Errors: negative errno, with a sentence in err.  -EREMOTEIO means jobd
 * answered with an error: err is its text and *code its code (1 failed, 2
 * invalid input, 3 not running, 4 not found, 77 permission denied). */
#ifndef JOBD_CLIENT_SYNC_H
#define JOBD_CLIENT_SYNC_H
#include <stddef.h>

#include <jansson.h>

#include "client/client.h"

struct client_sync;

/* Connects to address (as client_open: a socket path or HOST:PORT),
 * waiting at most timeout_ms (0: no limit; then also for each call).
 * password goes with the first request (NULL: none).  Returns 0 with *out,
 * or the error of connecting ("cannot reach jobd at ...": -ENOENT,
 * -ECONNREFUSED, -EACCES, -ETIMEDOUT, ...). */
int client_sync_open(const char *address, const char *password,
                     int timeout_ms, struct client_sync **out, char *err,
                     size_t errlen);

/* Sends request `type` with data (borrowed; NULL sends {}) and waits for
 * its reply; its events go to on_event(arg, ...) meanwhile (may be NULL).
 * Returns 0 with the reply's data in *reply (the caller decrefs), or an
 * error with *reply NULL: -EREMOTEIO (see above), -ETIMEDOUT when jobd
 * sent nothing for the call within the timeout (the connection is then
 * closed: later calls get -EPIPE), -ECONNRESET and others when the
 * connection was lost, -EPIPE when it was lost before.  code may be NULL. */
int client_sync_call(struct client_sync *cs, const char *type, json_t *data,
                     client_event_cb *on_event, void *arg, json_t **reply,
                     int *code, char *err, size_t errlen);

/* Closes the connection and frees cs.  NULL-safe. */
void client_sync_close(struct client_sync *cs);
#endif
