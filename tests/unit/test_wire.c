/* test_wire.c — message encode/decode: each kind round-trips through
 * frame.h, malformed messages get the error that names what is wrong, bad
 * arguments to the encoders are refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/frame.h"
#include "core/wire.h"

/* Pushes an encoded frame through a framebuf and decodes what pops out:
 * the frame must be exactly one message ending in EOT. */
static void roundtrip(char *buf, size_t len, struct wire_msg *m)
{
	struct framebuf fb;
	char err[256], *msg;
	size_t n;

	assert_true(len > 0);
	assert_int_equal(buf[len - 1], FRAME_EOT);
	assert_null(memchr(buf, FRAME_EOT, len - 1));
	framebuf_init(&fb, 1 << 20);
	assert_int_equal(framebuf_push(&fb, buf, len), 0);
	assert_int_equal(framebuf_pop(&fb, &msg, &n), 1);
	assert_int_equal(n, len - 1);
	assert_int_equal(wire_decode(msg, n, m, err, sizeof err), 0);
	assert_int_equal(framebuf_pop(&fb, &msg, &n), 0);
	framebuf_free(&fb);
	free(buf);
}

static void test_request(void **state)
{
	json_t *data = json_pack("{s:s,s:i}", "name", "backup\x04x", "n", 3);
	struct wire_msg m;
	char *buf;
	size_t len;

	(void)state;
	assert_int_equal(wire_encode_request("show", 4711, data, "s3cret", &buf,
	                                     &len), 0);
	assert_int_equal(data->refcount, 1);   /* borrowed, not stolen */
	roundtrip(buf, len, &m);
	assert_int_equal(m.type, WIRE_REQUEST);
	assert_int_equal(m.no, 4711);
	assert_string_equal(m.name, "show");
	assert_string_equal(m.password, "s3cret");
	assert_true(json_equal(m.data, data));
	wire_msg_free(&m);
	assert_null(m.root);
	wire_msg_free(&m);   /* twice: harmless */

	/* no data: {} (ops read members of it); no password: none */
	assert_int_equal(wire_encode_request("status", 1, NULL, NULL, &buf,
	                                     &len), 0);
	roundtrip(buf, len, &m);
	assert_true(json_is_object(m.data));
	assert_int_equal(json_object_size(m.data), 0);
	assert_null(m.password);
	wire_msg_free(&m);
	json_decref(data);
}

static void test_response(void **state)
{
	json_t *data = json_pack("{s:[i,i]}", "ids", 12, 13);
	struct wire_msg m;
	char *buf;
	size_t len;

	(void)state;
	assert_int_equal(wire_encode_response(999999, data, &buf, &len), 0);
	roundtrip(buf, len, &m);
	assert_int_equal(m.type, WIRE_RESPONSE);
	assert_int_equal(m.no, 999999);
	assert_null(m.error);
	assert_true(json_equal(m.data, data));
	wire_msg_free(&m);
	json_decref(data);

	/* data NULL: "ok", never a bare null (the PHP client refuses it) */
	assert_int_equal(wire_encode_response(0, NULL, &buf, &len), 0);
	roundtrip(buf, len, &m);
	assert_int_equal(m.no, 0);
	assert_string_equal(json_string_value(m.data), "ok");
	wire_msg_free(&m);

	assert_int_equal(wire_encode_error(7, "invalid target 'x'", 4, &buf,
	                                   &len), 0);
	roundtrip(buf, len, &m);
	assert_int_equal(m.type, WIRE_RESPONSE);
	assert_int_equal(m.no, 7);
	assert_string_equal(m.error, "invalid target 'x'");
	assert_int_equal(m.code, 4);
	assert_null(m.data);
	wire_msg_free(&m);

	/* an error quoting a request's bytes that are not UTF-8 (fuzz_wire
	 * found its reply lost): those bytes become '?' */
	char bad[64];
	struct wire_msg req;
	static const char raw[] = "[0,{\"no\":1,\"type\":\"a\\u0\xd0\x9a\xc6\xd3}]";
	assert_int_equal(wire_decode(raw, sizeof raw - 1, &req, bad, sizeof bad),
	                 -EINVAL);
	assert_int_equal(wire_encode_error(0, bad, 2, &buf, &len), 0);
	roundtrip(buf, len, &m);
	assert_non_null(strstr(m.error, "invalid JSON"));
	assert_non_null(strstr(m.error, "\\u0?'"));
	wire_msg_free(&m);
}

static void test_event_ping_pong(void **state)
{
	json_t *data = json_string("line\n\x01");
	struct wire_msg m;
	char *buf;
	size_t len;

	(void)state;
	assert_int_equal(wire_encode_event(3, "stdout", data, &buf, &len), 0);
	roundtrip(buf, len, &m);
	assert_int_equal(m.type, WIRE_EVENT);
	assert_int_equal(m.no, 3);
	assert_string_equal(m.name, "stdout");
	assert_string_equal(json_string_value(m.data), "line\n\x01");
	wire_msg_free(&m);
	json_decref(data);

	assert_int_equal(wire_encode_bare(WIRE_PING, &buf, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(buf, "[2]\x04", 4);
	roundtrip(buf, len, &m);
	assert_int_equal(m.type, WIRE_PING);
	wire_msg_free(&m);
	assert_int_equal(wire_encode_bare(WIRE_PONG, &buf, &len), 0);
	assert_memory_equal(buf, "[3]\x04", 4);
	roundtrip(buf, len, &m);
	assert_int_equal(m.type, WIRE_PONG);
	wire_msg_free(&m);
}

/* The shapes jobd and the original's PHP client write, as text. */
static void test_decode_known_text(void **state)
{
	static const char req[] = "[0,{\"type\":\"status\",\"no\":4711,"
	                          "\"password\":\"s3cret\"}]";
	static const char err[] = "[1,{\"no\":4714,\"error\":\"nope\"}]";
	static const char ev[] = "[4,{\"no\":2,\"event\":\"start\",\"data\":"
	                         "{\"jid\":\"x\",\"pid\":5}}]";
	static const char nul[] = "[1,{\"no\":1,\"data\":\"a\\u0000b\"}]";
	struct wire_msg m;
	char e[256];

	(void)state;
	assert_int_equal(wire_decode(req, strlen(req), &m, e, sizeof e), 0);
	assert_null(m.data);   /* "data may be absent" */
	assert_string_equal(m.name, "status");
	wire_msg_free(&m);
	/* the original's errors have no code: failed */
	assert_int_equal(wire_decode(err, strlen(err), &m, e, sizeof e), 0);
	assert_int_equal(m.code, 1);
	wire_msg_free(&m);
	assert_int_equal(wire_decode(ev, strlen(ev), &m, e, sizeof e), 0);
	assert_int_equal(json_integer_value(json_object_get(m.data, "pid")), 5);
	wire_msg_free(&m);
	/* a NUL byte in a run's output is data, not an error */
	assert_int_equal(wire_decode(nul, strlen(nul), &m, e, sizeof e), 0);
	assert_int_equal(json_string_length(m.data), 3);
	wire_msg_free(&m);
	/* a ping may carry a body; it is ignored */
	assert_int_equal(wire_decode("[2,{}]", 6, &m, e, sizeof e), 0);
	assert_int_equal(m.type, WIRE_PING);
	wire_msg_free(&m);
}

struct bad {
	const char *text;
	const char *error;   /* a part of the error text */
	int64_t no;          /* the no an error reply goes under */
};

static const struct bad bads[] = {
	{ "", "invalid JSON", 0 },
	{ "[0,{\"type\":", "invalid JSON", 0 },
	{ "\xff\xfe", "invalid JSON", 0 },
	{ "5", "message must be an array [type, data]", 0 },
	{ "{\"type\":0}", "message must be an array [type, data]", 0 },
	{ "[]", "message must be an array [type, data]", 0 },
	{ "[\"0\",{}]", "message must be an array [type, data]", 0 },
	{ "[1.5]", "message must be an array [type, data]", 0 },
	{ "[0,{},3]", "not of 3 elements", 0 },
	{ "[5]", "unknown message type 5", 0 },
	{ "[-1]", "unknown message type -1", 0 },
	{ "[0]", "request must be an object", 0 },
	{ "[0,[1]]", "request must be an object", 0 },
	{ "[0,{\"type\":\"x\"}]", "'no' must be an integer 1..999999", 0 },
	{ "[0,{\"type\":\"x\",\"no\":0}]", "'no' must be an integer 1..999999", 0 },
	{ "[0,{\"type\":\"x\",\"no\":1000000}]", "'no' must be an integer", 0 },
	{ "[0,{\"type\":\"x\",\"no\":\"5\"}]", "'no' must be an integer", 0 },
	{ "[0,{\"type\":\"x\",\"no\":5.0}]", "'no' must be an integer", 0 },
	{ "[0,{\"no\":5}]", "missing request 'type'", 5 },
	{ "[0,{\"no\":5,\"type\":7}]", "request 'type' must be a non-empty", 5 },
	{ "[0,{\"no\":5,\"type\":\"\"}]", "request 'type' must be a non-empty", 5 },
	{ "[0,{\"no\":5,\"type\":\"st\\u0000atus\"}]", "request 'type' must", 5 },
	{ "[0,{\"no\":5,\"type\":\"s\",\"password\":1}]", "'password' must be a "
	  "string", 5 },
	{ "[1,\"ok\"]", "response must be an object", 0 },
	{ "[1,{\"data\":1}]", "'no' must be an integer 0..999999", 0 },
	{ "[1,{\"no\":-1,\"data\":1}]", "'no' must be an integer 0..999999", 0 },
	{ "[1,{\"no\":2,\"error\":{}}]", "response 'error' must be a string", 2 },
	{ "[1,{\"no\":2,\"error\":\"x\",\"code\":\"4\"}]", "'code' must be an "
	  "integer 0..255", 2 },
	{ "[1,{\"no\":2,\"error\":\"x\",\"code\":256}]", "'code' must be", 2 },
	{ "[4]", "event must be an object", 0 },
	{ "[4,{\"no\":0,\"event\":\"start\"}]", "'no' must be an integer 1..", 0 },
	{ "[4,{\"no\":3}]", "event 'event' must be a non-empty string", 3 },
	{ "[4,{\"no\":3,\"event\":null}]", "event 'event' must be", 3 },
};

static void test_decode_bad(void **state)
{
	struct wire_msg m;
	char e[256];

	(void)state;
	for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
		e[0] = '\0';
		int rc = wire_decode(bads[i].text, strlen(bads[i].text), &m, e,
		                     sizeof e);
		if (rc != -EINVAL || !strstr(e, bads[i].error) ||
		    m.no != bads[i].no)
			fail_msg("%s: rc %d, no %lld, error '%s', want '%s' no %lld",
			         bads[i].text, rc, (long long)m.no, e, bads[i].error,
			         (long long)bads[i].no);
		assert_null(m.root);   /* nothing to free after an error */
		assert_null(m.name);
		assert_null(m.data);
	}
}

/* The server's decoding: extra elements ignored, NUL bytes refused. */
static void test_decode_flags(void **state)
{
	static const char extra[] = "[0,{\"type\":\"status\",\"no\":13},\"x\"]";
	static const char nul[] = "[0,{\"type\":\"submit\",\"no\":3,"
	                          "\"data\":{\"argv\":[\"a\\u0000b\"]}}]";
	static const char badpw[] = "[0,{\"type\":\"status\",\"no\":4,"
	                            "\"password\":123}]";
	struct wire_msg m;
	char e[256];

	(void)state;
	assert_int_equal(wire_decode(extra, strlen(extra), &m, e, sizeof e),
	                 -EINVAL);
	assert_int_equal(wire_decode_flags(extra, strlen(extra), WIRE_EXTRA_OK,
	                                   &m, e, sizeof e), 0);
	assert_int_equal(m.no, 13);
	assert_string_equal(m.name, "status");
	wire_msg_free(&m);
	assert_int_equal(wire_decode(nul, strlen(nul), &m, e, sizeof e), 0);
	wire_msg_free(&m);
	assert_int_equal(wire_decode_flags(nul, strlen(nul), WIRE_NO_NUL, &m, e,
	                                   sizeof e), -EINVAL);
	assert_non_null(strstr(e, "invalid JSON"));
	assert_null(m.root);
	/* a password that is not a string: none, for the server */
	assert_int_equal(wire_decode_flags(badpw, strlen(badpw),
	                                   WIRE_ANY_PASSWORD, &m, e, sizeof e), 0);
	assert_null(m.password);
	assert_string_equal(m.name, "status");
	wire_msg_free(&m);
}

/* Data that is JSON text already, in the response envelope. */
static void test_encode_response_text(void **state)
{
	static const char want[] = "[1,{\"no\":42,\"data\":{\"a\":[1,2]}}]\x04";
	struct wire_msg m;
	char *buf, e[256];
	size_t len;

	(void)state;
	assert_int_equal(wire_encode_response_text(42, "{\"a\":[1,2]}", 11,
	                                           &buf, &len), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(buf, want, len);
	assert_int_equal(wire_decode(buf, len - 1, &m, e, sizeof e), 0);
	assert_int_equal(m.no, 42);
	wire_msg_free(&m);
	free(buf);
	assert_int_equal(wire_encode_response_text(-1, "1", 1, &buf, &len),
	                 -EINVAL);
	assert_null(buf);
	assert_int_equal(wire_encode_response_text(1, "", 0, &buf, &len),
	                 -EINVAL);
}

/* A tiny err buffer is cut, not overrun; NULL err is allowed. */
static void test_decode_small_err(void **state)
{
	struct wire_msg m;
	char e[8];

	(void)state;
	memset(e, 'x', sizeof e);
	assert_int_equal(wire_decode("[9]", 3, &m, e, 5), -EINVAL);
	assert_string_equal(e, "unkn");
	assert_int_equal(e[5], 'x');
	assert_int_equal(wire_decode("[9]", 3, &m, NULL, 0), -EINVAL);
}

static void test_encode_bad(void **state)
{
	json_t *cyc = json_object(), *inner = json_object();
	char *buf = (char *)1;
	size_t len;

	(void)state;
	assert_int_equal(wire_encode_request("x", 0, NULL, NULL, &buf, &len),
	                 -EINVAL);
	assert_null(buf);
	assert_int_equal(wire_encode_request("x", 1000000, NULL, NULL, &buf,
	                                     &len), -EINVAL);
	assert_int_equal(wire_encode_request("", 1, NULL, NULL, &buf, &len),
	                 -EINVAL);
	assert_int_equal(wire_encode_request(NULL, 1, NULL, NULL, &buf, &len),
	                 -EINVAL);
	assert_int_equal(wire_encode_request("x\xff", 1, NULL, NULL, &buf,
	                                     &len), -EINVAL);
	assert_int_equal(wire_encode_request("x", 1, NULL, "pw\xff", &buf,
	                                     &len), -EINVAL);
	assert_int_equal(wire_encode_response(-1, NULL, &buf, &len), -EINVAL);
	assert_int_equal(wire_encode_error(1, NULL, 1, &buf, &len), -EINVAL);
	assert_int_equal(wire_encode_event(0, "start", NULL, &buf, &len),
	                 -EINVAL);
	assert_int_equal(wire_encode_event(1, "", NULL, &buf, &len), -EINVAL);
	assert_int_equal(wire_encode_bare(WIRE_REQUEST, &buf, &len), -EINVAL);
	/* data jansson cannot dump: an error, and data survives */
	json_object_set(cyc, "in", inner);
	json_object_set(inner, "out", cyc);
	assert_int_equal(wire_encode_request("x", 1, cyc, NULL, &buf, &len),
	                 -EINVAL);
	assert_null(buf);
	json_object_del(inner, "out");
	assert_int_equal(cyc->refcount, 1);
	json_decref(cyc);
	json_decref(inner);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_event_ping_pong),
		cmocka_unit_test(test_decode_known_text),
		cmocka_unit_test(test_decode_bad),
		cmocka_unit_test(test_decode_small_err),
		cmocka_unit_test(test_decode_flags),
		cmocka_unit_test(test_encode_response_text),
		cmocka_unit_test(test_encode_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
