/* wire.c — jobd's messages: decode one into a struct wire_msg with its
 * shape checked for its type, encode the five kinds into EOT frames.
 *
 * Decoding allows \u0000 inside strings (a run's output may hold NUL
 * bytes) but not in the members read as C strings (type, event, password,
 * error): a NUL there would cut the name short unseen. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/frame.h"
#include "core/wire.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* body's member key as a C string: NULL when absent (or null and
 * null_ok), else it must be a string without NUL.  -EINVAL on a bad one. */
static int get_str(json_t *body, const char *key, int null_ok,
                   const char **out)
{
	json_t *v = json_object_get(body, key);
	const char *s;

	*out = NULL;
	if (!v || (null_ok && json_is_null(v)))
		return 0;
	if (!json_is_string(v))
		return -EINVAL;
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return -EINVAL;
	*out = s;
	return 0;
}

/* body's "no": an integer in lo..WIRE_NO_MAX, else -EINVAL. */
static int get_no(json_t *body, int64_t lo, int64_t *no)
{
	json_t *v = json_object_get(body, "no");
	json_int_t n;

	if (!json_is_integer(v))
		return -EINVAL;
	n = json_integer_value(v);
	if (n < lo || n > WIRE_NO_MAX)
		return -EINVAL;
	*no = (int64_t)n;
	return 0;
}

static int decode_request(json_t *body, int flags, struct wire_msg *m,
                          char *err, size_t errlen)
{
	if (get_no(body, 1, &m->no) < 0)
		return fail(err, errlen, "'no' must be an integer 1..%d",
		            WIRE_NO_MAX);
	if (!json_object_get(body, "type"))
		return fail(err, errlen, "missing request 'type'");
	if (get_str(body, "type", 0, &m->name) < 0 || !m->name ||
	    !*m->name)
		return fail(err, errlen, "request 'type' must be a non-empty "
		            "string");
	if (get_str(body, "password", 1, &m->password) < 0 &&
	    !(flags & WIRE_ANY_PASSWORD))
		return fail(err, errlen, "'password' must be a string");
	m->data = json_object_get(body, "data");
	return 0;
}

static int decode_response(json_t *body, struct wire_msg *m, char *err,
                           size_t errlen)
{
	json_t *code = json_object_get(body, "code");

	if (get_no(body, 0, &m->no) < 0)
		return fail(err, errlen, "'no' must be an integer 0..%d",
		            WIRE_NO_MAX);
	if (get_str(body, "error", 1, &m->error) < 0)
		return fail(err, errlen, "response 'error' must be a string");
	if (!m->error) {
		m->data = json_object_get(body, "data");
		return 0;
	}
	m->code = 1;   /* the original's errors have no code: "failed" */
	if (code && !json_is_null(code)) {
		if (!json_is_integer(code) || json_integer_value(code) < 0 ||
		    json_integer_value(code) > 255)
			return fail(err, errlen, "response 'code' must be an "
			            "integer 0..255");
		m->code = (int)json_integer_value(code);
	}
	return 0;
}

static int decode_event(json_t *body, struct wire_msg *m, char *err,
                        size_t errlen)
{
	if (get_no(body, 1, &m->no) < 0)
		return fail(err, errlen, "'no' must be an integer 1..%d",
		            WIRE_NO_MAX);
	if (get_str(body, "event", 0, &m->name) < 0 || !m->name || !*m->name)
		return fail(err, errlen, "event 'event' must be a non-empty "
		            "string");
	m->data = json_object_get(body, "data");
	return 0;
}

/* The body by type; ping and pong carry none (one is ignored). */
static int decode_body(json_t *body, int flags, struct wire_msg *m,
                       char *err, size_t errlen)
{
	static const char *const names[] = { "request", "response",
	                                      "ping", "pong", "event" };

	if (m->type == WIRE_PING || m->type == WIRE_PONG)
		return 0;
	if (!json_is_object(body))
		return fail(err, errlen, "%s must be an object", names[m->type]);
	if (m->type == WIRE_REQUEST)
		return decode_request(body, flags, m, err, errlen);
	if (m->type == WIRE_RESPONSE)
		return decode_response(body, m, err, errlen);
	return decode_event(body, m, err, errlen);
}

int wire_decode(const char *text, size_t len, struct wire_msg *m,
                char *err, size_t errlen)
{
	return wire_decode_flags(text, len, 0, m, err, errlen);
}

int wire_decode_flags(const char *text, size_t len, int flags,
                      struct wire_msg *m, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root, *t;
	json_int_t type;
	int rc;

	memset(m, 0, sizeof *m);
	root = json_loadb(text, len, JSON_DECODE_ANY | (flags & WIRE_NO_NUL ?
	                  0 : JSON_ALLOW_NUL), &je);
	if (!root)
		return fail(err, errlen, "invalid JSON: %s at byte %d", je.text,
		            je.position);
	t = json_array_get(root, 0);
	rc = -EINVAL;
	if (!json_is_array(root) || !json_is_integer(t)) {
		fail(err, errlen, "message must be an array [type, data]");
		goto error;
	}
	if (json_array_size(root) > 2 && !(flags & WIRE_EXTRA_OK)) {
		fail(err, errlen, "message must be an array [type, data], "
		     "not of %zu elements", json_array_size(root));
		goto error;
	}
	type = json_integer_value(t);
	if (type < WIRE_REQUEST || type > WIRE_EVENT) {
		fail(err, errlen, "unknown message type %lld", (long long)type);
		goto error;
	}
	m->type = (enum wire_type)type;
	m->root = root;
	rc = decode_body(json_array_get(root, 1), flags, m, err, errlen);
	if (rc == 0)
		return 0;
error:
	m->root = NULL;   /* keep only no: the error is answered under it */
	m->name = m->password = m->error = NULL;
	m->data = NULL;
	json_decref(root);
	return rc;
}

void wire_msg_free(struct wire_msg *m)
{
	if (!m)
		return;
	json_decref(m->root);
	memset(m, 0, sizeof *m);
}

/* msg (stolen) as a frame: compact JSON, then EOT in the NUL's place. */
static int frame(json_t *msg, char **out, size_t *len)
{
	char *s;
	size_t n;

	*out = NULL;
	*len = 0;
	if (!msg)
		return -EINVAL;   /* json_pack: a string not UTF-8, or no memory */
	s = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (!s)
		return -EINVAL;   /* out of memory, or a cycle in the data */
	n = strlen(s);
	s[n++] = FRAME_EOT;
	*out = s;
	*len = n;
	return 0;
}

/* A reference of its own to borrowed data (or dflt when NULL), for the
 * message to steal. */
static json_t *own(json_t *data, json_t *dflt)
{
	if (!data)
		return dflt;
	json_decref(dflt);
	return json_incref(data);
}

static int no_ok(int64_t no, int64_t lo)
{
	return no >= lo && no <= WIRE_NO_MAX;
}

int wire_encode_request(const char *name, int64_t no, json_t *data,
                        const char *password, char **out, size_t *len)
{
	json_t *msg, *d;

	*out = NULL;
	if (!name || !*name || !no_ok(no, 1))
		return -EINVAL;
	if (!(d = own(data, json_object())))
		return -ENOMEM;
	msg = json_pack("[i{s:s,s:I,s:o}]", WIRE_REQUEST, "type", name,
	                "no", (json_int_t)no, "data", d);
	if (msg && password &&
	    json_object_set_new(json_array_get(msg, 1), "password",
	                        json_string(password)) < 0) {
		json_decref(msg);
		return -EINVAL;   /* not UTF-8 */
	}
	return frame(msg, out, len);
}

int wire_encode_response(int64_t no, json_t *data, char **out,
                         size_t *len)
{
	json_t *d;

	*out = NULL;
	if (!no_ok(no, 0))
		return -EINVAL;
	if (!(d = own(data, json_string("ok"))))
		return -ENOMEM;
	return frame(json_pack("[i{s:I,s:o}]", WIRE_RESPONSE, "no",
	                       (json_int_t)no, "data", d), out, len);
}

int wire_encode_response_text(int64_t no, const char *data, size_t dlen,
                              char **out, size_t *len)
{
	char head[48];
	int n;

	*out = NULL;
	*len = 0;
	if (!no_ok(no, 0) || !data || !dlen)
		return -EINVAL;
	n = snprintf(head, sizeof head, "[%d,{\"no\":%lld,\"data\":",
	             WIRE_RESPONSE, (long long)no);
	if (!(*out = malloc((size_t)n + dlen + 3)))
		return -ENOMEM;
	memcpy(*out, head, (size_t)n);
	memcpy(*out + n, data, dlen);
	memcpy(*out + n + dlen, "}]", 2);
	(*out)[n + dlen + 2] = FRAME_EOT;
	*len = (size_t)n + dlen + 3;
	return 0;
}

/* An error text that is not UTF-8 (it may quote a bad request's bytes:
 * "invalid JSON: invalid escape near '\u0<bytes>'") has its non-ASCII
 * bytes made '?', as jw_bytes does: its reply is never lost for that. */
static json_t *error_string(const char *error)
{
	json_t *s = json_string(error);
	char *c;

	if (s || !(c = strdup(error)))
		return s;
	for (char *p = c; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	s = json_string(c);
	free(c);
	return s;
}

int wire_encode_error(int64_t no, const char *error, int code, char **out,
                      size_t *len)
{
	*out = NULL;
	if (!no_ok(no, 0) || !error)
		return -EINVAL;
	return frame(json_pack("[i{s:I,s:o,s:i}]", WIRE_RESPONSE, "no",
	                       (json_int_t)no, "error", error_string(error),
	                       "code", code),
	             out, len);
}

int wire_encode_event(int64_t no, const char *kind, json_t *data,
                      char **out, size_t *len)
{
	json_t *d;

	*out = NULL;
	if (!no_ok(no, 1) || !kind || !*kind)
		return -EINVAL;
	if (!(d = own(data, json_null())))
		return -ENOMEM;
	return frame(json_pack("[i{s:I,s:s,s:o}]", WIRE_EVENT, "no",
	                       (json_int_t)no, "event", kind, "data", d),
	             out, len);
}

int wire_encode_bare(enum wire_type type, char **out, size_t *len)
{
	*out = NULL;
	if (type != WIRE_PING && type != WIRE_PONG)
		return -EINVAL;
	return frame(json_pack("[i]", type), out, len);
}
