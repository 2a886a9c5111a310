/* wire.h — jobd's messages (docs/protocol.md) as C: the message type
 * numbers, and pure encode / decode of one message on top of core/frame.h
 * (UTF-8 JSON, each message ended by one 0x04 byte).  No sockets.
 *
 * A message is a JSON array [type] or [type, body]:
 *   [0, {"type": NAME, "no": N, "data": X, "password": "..."}]  request
 *   [1, {"no": N, "data": X}] or [1, {"no": N, "error": T, "code": C}]
 *   [2] ping, [3] pong (either side)
 *   [4, {"no": N, "event": KIND, "data": X}]                       event
 * `no` is 1..WIRE_NO_MAX, chosen by the client; a response carries its
 * request's (0 when the request could not be read at all). */
#ifndef JOBD_WIRE_H
#define JOBD_WIRE_H
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum wire_type {
	WIRE_REQUEST = 0,
	WIRE_RESPONSE = 1,
	WIRE_PING = 2,
	WIRE_PONG = 3,
	WIRE_EVENT = 4,
};

#define WIRE_NO_MAX 999999

/* One decoded message.  root owns everything: the pointers below borrow
 * from it and live until wire_msg_free (json_incref what must outlive). */
struct wire_msg {
	enum wire_type type;
	json_t *root;
	int64_t no;            /* request, response, event; 0 otherwise */
	const char *name;      /* request: its "type"; event: its "event" */
	const char *password;  /* request: its "password", or NULL */
	json_t *data;          /* "data", or NULL when absent */
	const char *error;     /* response: the error text; NULL on success */
	int code;              /* response with error: "code" (1 if absent) */
};

/* Parses one message (text without its EOT, len bytes) into *m and checks
 * its shape for its type.  Returns 0, or -EINVAL with a sentence in err
 * naming what is wrong ("invalid JSON: ...", "message must be an array
 * [type, data]", "request must be an object", "'no' must be an integer
 * 1..999999", ...); then m->no is still the request's no if it was valid
 * (a server answers the error under it) and m holds nothing to free.
 * -ENOMEM. */
int wire_decode(const char *text, size_t len, struct wire_msg *m,
                char *err, size_t errlen);
/* wire_decode with flags (0: as wire_decode):
 *   WIRE_EXTRA_OK  elements after [type, body] are ignored (jobd's server
 *                  has always taken them: the original's clients may send
 *                  them)
 *   WIRE_NO_NUL    \u0000 anywhere is invalid JSON (a server's requests
 *                  reach argv, paths and names as C strings)
 *   WIRE_ANY_PASSWORD  a request's "password" that is not a string is
 *                  taken as none (m->password NULL), not as an error: the
 *                  original served such a request where it asked for no
 *                  password, and a server that asks for one refuses it as
 *                  a missing password */
enum { WIRE_EXTRA_OK = 1, WIRE_NO_NUL = 2, WIRE_ANY_PASSWORD = 4 };
int wire_decode_flags(const char *text, size_t len, int flags,
                      struct wire_msg *m, char *err, size_t errlen);
/* Releases what wire_decode kept; m is empty afterwards.  NULL-safe. */
void wire_msg_free(struct wire_msg *m);

/* Encoders: *out is a malloc'd frame, the JSON then one EOT byte (no NUL),
 * *len its length; ready to write as it is.  data is borrowed, not stolen.
 * Return 0, -EINVAL (bad argument: no out of range, empty name, data that
 * cannot be encoded), -ENOMEM. */

/* A request; data NULL sends {}; password NULL sends none. */
int wire_encode_request(const char *name, int64_t no, json_t *data,
                        const char *password, char **out, size_t *len);
/* A success response (no 0..WIRE_NO_MAX); data NULL sends "ok". */
int wire_encode_response(int64_t no, json_t *data, char **out,
                         size_t *len);
/* A success response whose data is JSON text already (data, dlen bytes,
 * borrowed and not checked: the caller made it with jansson). */
int wire_encode_response_text(int64_t no, const char *data, size_t dlen,
                              char **out, size_t *len);
/* An error response: text and code (docs/protocol.md: 1, 2, 3, 4, 77). */
int wire_encode_error(int64_t no, const char *error, int code, char **out,
                      size_t *len);
/* An event of request no; data NULL sends null. */
int wire_encode_event(int64_t no, const char *kind, json_t *data,
                      char **out, size_t *len);
/* [2] or [3]: WIRE_PING or WIRE_PONG only. */
int wire_encode_bare(enum wire_type type, char **out, size_t *len);
#endif
