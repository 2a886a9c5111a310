/* test_client.c — the libuv client against a tiny protocol server written
 * here (a Unix socket, or TCP on 127.0.0.1), and the blocking wrapper
 * against the same server run in a thread, and against a real jobd when
 * the build has one.
 *
 * The server either keeps the requests for the test to answer (in any
 * order, with events, pings, a hang-up or garbage), or, in auto mode,
 * answers them by their type: "echo" its data, "stream" two events then
 * its data, "fail" an error of code 4, "silent" nothing, "hangup" closes
 * the connection. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <uv.h>

#include "client/client.h"
#include "client/client_sync.h"
#include "core/frame.h"
#include "core/wire.h"

/* ---- the test server ----------------------------------------------------- */

struct srv {
	uv_loop_t *loop;
	union {
		uv_handle_t h;
		uv_stream_t s;
		uv_pipe_t pipe;
		uv_tcp_t tcp;
	} lis, conn;
	int is_tcp, has_conn, accepted, auto_mode;
	int port;
	struct framebuf fb;
	json_t *reqs;        /* the messages received, in order */
	int pongs;
	char dir[64], path[128];
	uv_async_t stop;     /* thread mode: ends the server's loop */
};

static void srv_write(struct srv *s, char *buf, size_t len);

static void srv_auto(struct srv *s, json_t *msg)
{
	json_t *body = json_array_get(msg, 1);
	const char *type = json_string_value(json_object_get(body, "type"));
	int64_t no = json_integer_value(json_object_get(body, "no"));
	json_t *data = json_object_get(body, "data");
	char *buf;
	size_t len;

	if (!type)
		return;
	if (!strcmp(type, "hangup")) {
		uv_close(&s->conn.h, NULL);
		s->has_conn = 0;
		return;
	}
	if (!strcmp(type, "silent"))
		return;
	if (!strcmp(type, "stream")) {
		for (int i = 0; i < 2; i++) {
			json_t *ev = json_integer(i);
			assert_int_equal(wire_encode_event(no, "stdout", ev, &buf,
			                                   &len), 0);
			json_decref(ev);
			srv_write(s, buf, len);
		}
	}
	if (!strcmp(type, "fail"))
		assert_int_equal(wire_encode_error(no, "no such thing", 4, &buf,
		                                   &len), 0);
	else
		assert_int_equal(wire_encode_response(no, data, &buf, &len), 0);
	srv_write(s, buf, len);
}

static void srv_on_write(uv_write_t *req, int status)
{
	(void)status;
	free(req->data);
	free(req);
}

/* Takes buf. */
static void srv_write(struct srv *s, char *buf, size_t len)
{
	uv_write_t *req = malloc(sizeof *req);
	uv_buf_t b = uv_buf_init(buf, (unsigned)len);

	assert_non_null(req);
	req->data = buf;
	assert_true(s->has_conn);
	assert_int_equal(uv_write(req, &s->conn.s, &b, 1, srv_on_write), 0);
}

static void srv_send_text(struct srv *s, const char *text, size_t len)
{
	char *buf = malloc(len);

	assert_non_null(buf);
	memcpy(buf, text, len);
	srv_write(s, buf, len);
}

static void srv_alloc(uv_handle_t *h, size_t n, uv_buf_t *buf)
{
	(void)h;
	buf->base = malloc(n);
	buf->len = buf->base ? n : 0;
}

static void srv_on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct srv *s = st->data;
	char *msg;
	size_t len;

	if (n < 0 && s->has_conn) {
		uv_close(&s->conn.h, NULL);
		s->has_conn = 0;
	}
	if (n > 0)
		assert_int_equal(framebuf_push(&s->fb, buf->base, (size_t)n), 0);
	free(buf->base);
	while (s->has_conn && framebuf_pop(&s->fb, &msg, &len) == 1) {
		json_t *m = json_loadb(msg, len, 0, NULL);
		assert_non_null(m);
		if (json_integer_value(json_array_get(m, 0)) == WIRE_PONG)
			s->pongs++;
		else
			json_array_append(s->reqs, m);
		if (s->auto_mode)
			srv_auto(s, m);
		json_decref(m);
	}
}

static void srv_on_conn(uv_stream_t *lis, int status)
{
	struct srv *s = lis->data;

	assert_int_equal(status, 0);
	assert_false(s->has_conn);   /* one client at a time */
	if (s->is_tcp)
		uv_tcp_init(s->loop, &s->conn.tcp);
	else
		uv_pipe_init(s->loop, &s->conn.pipe, 0);
	s->conn.h.data = s;
	assert_int_equal(uv_accept(lis, &s->conn.s), 0);
	s->has_conn = 1;
	s->accepted++;
	framebuf_free(&s->fb);
	uv_read_start(&s->conn.s, srv_alloc, srv_on_read);
}

static void srv_start(struct srv *s, uv_loop_t *loop, int tcp)
{
	memset(s, 0, sizeof *s);
	s->loop = loop;
	s->is_tcp = tcp;
	s->reqs = json_array();
	framebuf_init(&s->fb, 1 << 20);
	if (tcp) {
		struct sockaddr_in sa;
		struct sockaddr_storage got;
		int n = sizeof got;
		uv_ip4_addr("127.0.0.1", 0, &sa);
		uv_tcp_init(loop, &s->lis.tcp);
		assert_int_equal(uv_tcp_bind(&s->lis.tcp,
		                             (struct sockaddr *)&sa, 0), 0);
		uv_tcp_getsockname(&s->lis.tcp, (struct sockaddr *)&got, &n);
		s->port = ntohs(((struct sockaddr_in *)&got)->sin_port);
	} else {
		strcpy(s->dir, "/tmp/test_client.XXXXXX");
		assert_non_null(mkdtemp(s->dir));
		snprintf(s->path, sizeof s->path, "%s/s.sock", s->dir);
		uv_pipe_init(loop, &s->lis.pipe, 0);
		assert_int_equal(uv_pipe_bind(&s->lis.pipe, s->path), 0);
	}
	s->lis.h.data = s;
	assert_int_equal(uv_listen(&s->lis.s, 8, srv_on_conn), 0);
}

static void srv_stop(struct srv *s)
{
	if (s->has_conn)
		uv_close(&s->conn.h, NULL);
	s->has_conn = 0;
	uv_close(&s->lis.h, NULL);
	framebuf_free(&s->fb);
	json_decref(s->reqs);
	if (!s->is_tcp) {
		unlink(s->path);
		rmdir(s->dir);
	}
}

/* The body of the i-th message the server got. */
static json_t *srv_req(struct srv *s, size_t i)
{
	return json_array_get(json_array_get(s->reqs, i), 1);
}

static int64_t srv_no(struct srv *s, size_t i)
{
	return json_integer_value(json_object_get(srv_req(s, i), "no"));
}

/* ---- what the client saw ------------------------------------------------- */

struct result {
	int replies;          /* on_reply calls: must end at exactly 1 */
	int status, code;
	json_t *data;
	char error[320];
	int order;            /* when it came, among all results */
	json_t *events;       /* [[kind, data], ...] */
	struct client *close_me;   /* closes this client from on_reply */
};

static int order_counter;

static void on_reply(void *arg, int status, json_t *data, const char *error,
                     int code)
{
	struct result *r = arg;

	r->replies++;
	r->status = status;
	r->code = code;
	r->data = json_incref(data);
	snprintf(r->error, sizeof r->error, "%s", error ? error : "");
	r->order = ++order_counter;
	if (r->close_me)
		client_close(r->close_me);
}

static void on_event(void *arg, const char *kind, json_t *data)
{
	struct result *r = arg;

	if (!r->events)
		r->events = json_array();
	json_array_append_new(r->events, json_pack("[sO]", kind, data));
}

static void result_free(struct result *r)
{
	json_decref(r->data);
	json_decref(r->events);
	memset(r, 0, sizeof *r);
}

struct conn_state {
	int connects, connect_status, losts, lost_status;
	char error[320];
};

static void on_connect(struct client *cl, int status, const char *error,
                       void *arg)
{
	struct conn_state *cs = arg;

	(void)cl;
	cs->connects++;
	cs->connect_status = status;
	snprintf(cs->error, sizeof cs->error, "%s", error ? error : "");
}

static void on_lost(struct client *cl, int status, const char *error,
                    void *arg)
{
	struct conn_state *cs = arg;

	(void)cl;
	cs->losts++;
	cs->lost_status = status;
	snprintf(cs->error, sizeof cs->error, "%s", error);
}

/* ---- driving the loop ---------------------------------------------------- */

static void on_deadline(uv_timer_t *t)
{
	*(int *)t->data = 1;
}

/* Runs the loop until cond is true; a generous deadline ends a hang. */
#define RUN_UNTIL(loop, cond) do { \
	uv_timer_t t_; \
	int expired_ = 0; \
	uv_timer_init((loop), &t_); \
	t_.data = &expired_; \
	uv_timer_start(&t_, on_deadline, 20000, 0); \
	while (!(cond) && !expired_) \
		uv_run((loop), UV_RUN_ONCE); \
	uv_close((uv_handle_t *)&t_, NULL); \
	uv_run((loop), UV_RUN_NOWAIT); \
	if (expired_) \
		fail_msg("timed out waiting for: %s", #cond); \
} while (0)

/* Closes everything and runs the loop empty: ASan then sees any leak. */
static void loop_finish(uv_loop_t *loop)
{
	uv_run(loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(loop), 0);
}

struct fixture {
	uv_loop_t loop;
	struct srv srv;
	struct client *cl;
	struct conn_state cs;
};

static void fixture_open(struct fixture *f, int tcp, size_t max_frame,
                         const char *password)
{
	struct client_opts o = { .password = password, .max_frame = max_frame,
	                         .on_connect = on_connect, .on_lost = on_lost,
	                         .arg = &f->cs };
	char addr[160], err[256];

	memset(f, 0, sizeof *f);
	uv_loop_init(&f->loop);
	srv_start(&f->srv, &f->loop, tcp);
	if (tcp)
		snprintf(addr, sizeof addr, "localhost:%d", f->srv.port);
	else
		snprintf(addr, sizeof addr, "%s", f->srv.path);
	assert_int_equal(client_open(&f->loop, addr, &o, &f->cl, err,
	                             sizeof err), 0);
}

static void fixture_close(struct fixture *f)
{
	client_close(f->cl);
	srv_stop(&f->srv);
	loop_finish(&f->loop);
}

/* ---- tests: the async client --------------------------------------------- */

static void reply(struct srv *s, int64_t no, const char *json)
{
	json_t *d = json_loads(json, JSON_DECODE_ANY, NULL);
	char *buf;
	size_t len;

	assert_non_null(d);
	assert_int_equal(wire_encode_response(no, d, &buf, &len), 0);
	json_decref(d);
	srv_write(s, buf, len);
}

/* Three calls made before the connection is up go out in order, the
 * password with the first only; answered 3, 1 (an error), 2, each reply
 * reaches its own call. */
static void test_out_of_order(void **state)
{
	struct fixture f;
	struct result r[3] = { 0 };
	char *buf;
	size_t len;

	(void)state;
	fixture_open(&f, 0, 0, "s3cret");
	for (int i = 0; i < 3; i++) {
		json_t *d = json_pack("{s:i}", "i", i);
		assert_int_equal(client_call(f.cl, "echo", d, NULL, on_reply,
		                             &r[i]), 0);
		json_decref(d);
	}
	assert_int_equal(client_outstanding(f.cl), 3);
	RUN_UNTIL(&f.loop, json_array_size(f.srv.reqs) >= 3);
	assert_int_equal(f.cs.connects, 1);
	assert_int_equal(f.cs.connect_status, 0);
	assert_string_equal(json_string_value(json_object_get(srv_req(&f.srv, 0),
	                    "password")), "s3cret");
	assert_null(json_object_get(srv_req(&f.srv, 1), "password"));
	assert_null(json_object_get(srv_req(&f.srv, 2), "password"));
	for (int i = 0; i < 3; i++) {
		json_t *d = json_object_get(srv_req(&f.srv, (size_t)i), "data");
		assert_int_equal(json_integer_value(json_object_get(d, "i")), i);
	}
	reply(&f.srv, srv_no(&f.srv, 2), "{\"x\": 2}");
	assert_int_equal(wire_encode_error(srv_no(&f.srv, 0), "invalid target "
	                 "'nope'", 4, &buf, &len), 0);
	srv_write(&f.srv, buf, len);
	reply(&f.srv, srv_no(&f.srv, 1), "\"ok\"");
	RUN_UNTIL(&f.loop, client_outstanding(f.cl) == 0);

	assert_int_equal(r[2].order, 1);
	assert_int_equal(r[0].order, 2);
	assert_int_equal(r[1].order, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r[i].replies, 1);
		assert_int_equal(r[i].status, 0);
	}
	assert_int_equal(json_integer_value(json_object_get(r[2].data, "x")), 2);
	assert_string_equal(r[0].error, "invalid target 'nope'");
	assert_int_equal(r[0].code, 4);
	assert_null(r[0].data);
	assert_string_equal(json_string_value(r[1].data), "ok");
	assert_string_equal(r[1].error, "");
	for (int i = 0; i < 3; i++)
		result_free(&r[i]);
	fixture_close(&f);
}

/* Events reach the call of their `no` only, in order, before its reply;
 * an event of no call is dropped; the reply ends the call. */
static void test_events(void **state)
{
	struct fixture f;
	struct result a = { 0 }, b = { 0 };
	char *buf;
	size_t len;
	json_t *hi = json_string("hi\n");

	(void)state;
	fixture_open(&f, 0, 0, NULL);
	assert_int_equal(client_call(f.cl, "logs", NULL, on_event, on_reply,
	                             &a), 0);
	assert_int_equal(client_call(f.cl, "wait", NULL, on_event, on_reply,
	                             &b), 0);
	RUN_UNTIL(&f.loop, json_array_size(f.srv.reqs) >= 2);
	int64_t na = srv_no(&f.srv, 0), nb = srv_no(&f.srv, 1);
	assert_int_not_equal(na, nb);
	assert_int_equal(wire_encode_event(na, "start", NULL, &buf, &len), 0);
	srv_write(&f.srv, buf, len);
	assert_int_equal(wire_encode_event(nb + 1000, "stdout", hi, &buf,
	                                   &len), 0);
	srv_write(&f.srv, buf, len);
	assert_int_equal(wire_encode_event(na, "stdout", hi, &buf, &len), 0);
	srv_write(&f.srv, buf, len);
	reply(&f.srv, na, "{\"run\": {}}");
	/* after the reply, a late event of na goes nowhere */
	assert_int_equal(wire_encode_event(na, "stdout", hi, &buf, &len), 0);
	srv_write(&f.srv, buf, len);
	reply(&f.srv, nb, "\"done\"");
	RUN_UNTIL(&f.loop, client_outstanding(f.cl) == 0);

	assert_int_equal(json_array_size(a.events), 2);
	assert_string_equal(json_string_value(json_array_get(json_array_get(
	                    a.events, 0), 0)), "start");
	assert_true(json_is_null(json_array_get(json_array_get(a.events, 0),
	                                        1)));
	assert_string_equal(json_string_value(json_array_get(json_array_get(
	                    a.events, 1), 1)), "hi\n");
	assert_null(b.events);
	assert_int_equal(a.replies, 1);
	assert_int_equal(b.replies, 1);
	assert_string_equal(json_string_value(b.data), "done");
	assert_int_equal(f.cs.losts, 0);
	json_decref(hi);
	result_free(&a);
	result_free(&b);
	fixture_close(&f);
}

/* A ping is answered with a pong, while a call waits; a pong from the
 * server is taken silently. */
static void test_ping(void **state)
{
	struct fixture f;
	struct result r = { 0 };

	(void)state;
	fixture_open(&f, 0, 0, NULL);
	assert_int_equal(client_call(f.cl, "status", NULL, NULL, on_reply,
	                             &r), 0);
	RUN_UNTIL(&f.loop, json_array_size(f.srv.reqs) >= 1);
	srv_send_text(&f.srv, "[2]\x04[3]\x04[2]\x04", 12);
	RUN_UNTIL(&f.loop, f.srv.pongs >= 2);
	reply(&f.srv, srv_no(&f.srv, 0), "{}");
	RUN_UNTIL(&f.loop, r.replies == 1);
	assert_int_equal(r.status, 0);
	assert_int_equal(f.srv.pongs, 2);
	assert_int_equal(json_array_size(f.srv.reqs), 1);   /* nothing else */
	assert_int_equal(f.cs.losts, 0);
	result_free(&r);
	fixture_close(&f);
}

/* The server hangs up with two calls out: both fail with -ECONNRESET,
 * on_lost is told once, and a later call is refused. */
static void test_server_closes(void **state)
{
	struct fixture f;
	struct result r[2] = { 0 }, late = { 0 };

	(void)state;
	fixture_open(&f, 0, 0, NULL);
	for (int i = 0; i < 2; i++)
		assert_int_equal(client_call(f.cl, "wait", NULL, NULL, on_reply,
		                             &r[i]), 0);
	RUN_UNTIL(&f.loop, json_array_size(f.srv.reqs) >= 2);
	uv_close(&f.srv.conn.h, NULL);
	f.srv.has_conn = 0;
	RUN_UNTIL(&f.loop, f.cs.losts == 1);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(r[i].replies, 1);
		assert_int_equal(r[i].status, -ECONNRESET);
		assert_non_null(strstr(r[i].error, "closed the connection"));
		assert_null(r[i].data);
	}
	assert_int_equal(f.cs.lost_status, -ECONNRESET);
	assert_int_equal(client_outstanding(f.cl), 0);
	assert_int_equal(client_call(f.cl, "status", NULL, NULL, on_reply,
	                             &late), -EPIPE);
	uv_run(&f.loop, UV_RUN_NOWAIT);
	assert_int_equal(late.replies, 0);
	assert_int_equal(f.cs.losts, 1);
	for (int i = 0; i < 2; i++)
		result_free(&r[i]);
	fixture_close(&f);
}

/* A message over max_frame ends the connection with -EMSGSIZE, even when
 * it arrives in pieces without an EOT yet. */
static void test_oversized(void **state)
{
	struct fixture f;
	struct result r = { 0 };
	char big[300];

	(void)state;
	fixture_open(&f, 0, 256, NULL);
	assert_int_equal(client_call(f.cl, "lookup", NULL, NULL, on_reply,
	                             &r), 0);
	RUN_UNTIL(&f.loop, json_array_size(f.srv.reqs) >= 1);
	snprintf(big, sizeof big, "[1,{\"no\":%lld,\"data\":\"",
	         (long long)srv_no(&f.srv, 0));
	memset(big + strlen(big), 'x', sizeof big - strlen(big));
	srv_send_text(&f.srv, big, 150);   /* fits so far */
	srv_send_text(&f.srv, big + 150, 150);
	RUN_UNTIL(&f.loop, r.replies == 1);
	assert_int_equal(r.status, -EMSGSIZE);
	assert_non_null(strstr(r.error, "longer than 256 bytes"));
	assert_int_equal(f.cs.losts, 1);
	assert_int_equal(f.cs.lost_status, -EMSGSIZE);
	result_free(&r);
	fixture_close(&f);
}

/* Garbage, a request from the server, or a `no` 0 error with two calls
 * out (whose is it?) end the connection with -EPROTO; a `no` 0 error with
 * one call out is that call's. */
static void test_bad_messages(void **state)
{
	static const char *const bad[] = {
		"garbage\x04", "[1,{\"no\":\"x\"}]\x04",
		"[0,{\"type\":\"x\",\"no\":1}]\x04",
		"[1,{\"no\":0,\"error\":\"invalid JSON\",\"code\":2}]\x04",
	};
	static const char *const why[] = {
		"bad message from jobd: invalid JSON",
		"bad message from jobd: 'no' must be an integer",
		"bad message from jobd: a request",
		"jobd could not read a request: invalid JSON",
	};

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		struct fixture f;
		struct result r[2] = { 0 };

		fixture_open(&f, 0, 0, NULL);
		for (int k = 0; k < 2; k++)
			assert_int_equal(client_call(f.cl, "x", NULL, NULL, on_reply,
			                             &r[k]), 0);
		RUN_UNTIL(&f.loop, json_array_size(f.srv.reqs) >= 2);
		srv_send_text(&f.srv, bad[i], strlen(bad[i]));
		RUN_UNTIL(&f.loop, f.cs.losts == 1);
		for (int k = 0; k < 2; k++) {
			assert_int_equal(r[k].status, -EPROTO);
			if (!strstr(r[k].error, why[i]))
				fail_msg("%s: got '%s'", bad[i], r[k].error);
			result_free(&r[k]);
		}
		fixture_close(&f);
	}

	struct fixture f;
	struct result r = { 0 };
	fixture_open(&f, 0, 0, NULL);
	assert_int_equal(client_call(f.cl, "x", NULL, NULL, on_reply, &r), 0);
	RUN_UNTIL(&f.loop, json_array_size(f.srv.reqs) >= 1);
	srv_send_text(&f.srv, bad[3], strlen(bad[3]));
	RUN_UNTIL(&f.loop, r.replies == 1);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.error, "invalid JSON");
	assert_int_equal(r.code, 2);
	assert_int_equal(f.cs.losts, 0);
	result_free(&r);
	fixture_close(&f);
}

/* client_close fails what is outstanding with -ECANCELED before it
 * returns, also from inside a reply callback; on_lost is not called. */
static void test_close(void **state)
{
	struct fixture f;
	struct result r[3] = { 0 };

	(void)state;
	fixture_open(&f, 0, 0, NULL);
	for (int i = 0; i < 3; i++)
		assert_int_equal(client_call(f.cl, "wait", NULL, NULL, on_reply,
		                             &r[i]), 0);
	RUN_UNTIL(&f.loop, json_array_size(f.srv.reqs) >= 3);
	r[1].close_me = f.cl;   /* its reply closes the client */
	reply(&f.srv, srv_no(&f.srv, 1), "1");
	reply(&f.srv, srv_no(&f.srv, 2), "2");   /* comes too late */
	RUN_UNTIL(&f.loop, r[1].replies == 1);
	assert_int_equal(r[1].status, 0);
	for (int i = 0; i < 3; i += 2) {
		assert_int_equal(r[i].replies, 1);
		assert_int_equal(r[i].status, -ECANCELED);
	}
	assert_int_equal(f.cs.losts, 0);
	for (int i = 0; i < 3; i++)
		result_free(&r[i]);
	f.cl = NULL;   /* closed already */
	fixture_close(&f);
}

/* Closing while still connecting (and before the loop ran at all). */
static void test_close_early(void **state)
{
	struct fixture f;
	struct result r = { 0 };

	(void)state;
	for (int tcp = 0; tcp < 2; tcp++) {
		fixture_open(&f, tcp, 0, NULL);
		assert_int_equal(client_call(f.cl, "x", NULL, NULL, on_reply, &r),
		                 0);
		client_close(f.cl);
		assert_int_equal(r.replies, 1);
		assert_int_equal(r.status, -ECANCELED);
		assert_int_equal(f.cs.connects, 0);
		result_free(&r);
		f.cl = NULL;
		fixture_close(&f);
	}
}

/* No server: the pending calls and on_connect get the error of
 * connecting; bad addresses are refused at once. */
static void test_connect_fails(void **state)
{
	uv_loop_t loop;
	struct conn_state cs = { 0 };
	struct client_opts o = { .on_connect = on_connect, .on_lost = on_lost,
	                         .arg = &cs };
	struct result r = { 0 };
	struct client *cl;
	char err[256], longpath[200];

	(void)state;
	uv_loop_init(&loop);
	assert_int_equal(client_open(&loop, "/nonexistent/jobd.sock", &o, &cl,
	                             err, sizeof err), 0);
	assert_int_equal(client_call(cl, "status", NULL, NULL, on_reply, &r), 0);
	while (!cs.connects)
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(cs.connect_status, -ENOENT);
	assert_non_null(strstr(cs.error, "cannot reach jobd at "
	                       "/nonexistent/jobd.sock"));
	assert_int_equal(r.replies, 1);
	assert_int_equal(r.status, -ENOENT);
	assert_int_equal(cs.losts, 0);
	client_close(cl);
	result_free(&r);

	memset(longpath, 'a', sizeof longpath);
	longpath[0] = '/';
	longpath[sizeof longpath - 1] = '\0';
	assert_int_equal(client_open(&loop, longpath, &o, &cl, err, sizeof err),
	                 -EINVAL);
	assert_null(cl);
	assert_non_null(strstr(err, "socket path too long"));
	assert_int_equal(client_open(&loop, "", &o, &cl, err, sizeof err),
	                 -EINVAL);
	assert_int_equal(client_open(&loop, "host:", &o, &cl, err, sizeof err),
	                 -EINVAL);
	assert_non_null(strstr(err, "expected HOST:PORT"));
	assert_int_equal(client_open(&loop, ":7080", &o, &cl, err, sizeof err),
	                 -EINVAL);
	assert_int_equal(client_open(&loop, "[]:7080", &o, &cl, err,
	                             sizeof err), -EINVAL);

	/* TCP: a port nobody listens on (bound, not listening) */
	uv_tcp_t t;
	struct sockaddr_in sa;
	struct sockaddr_storage got;
	int n = sizeof got;
	char addr[64];
	uv_ip4_addr("127.0.0.1", 0, &sa);
	uv_tcp_init(&loop, &t);
	assert_int_equal(uv_tcp_bind(&t, (struct sockaddr *)&sa, 0), 0);
	uv_tcp_getsockname(&t, (struct sockaddr *)&got, &n);
	snprintf(addr, sizeof addr, "127.0.0.1:%d",
	         ntohs(((struct sockaddr_in *)&got)->sin_port));
	memset(&cs, 0, sizeof cs);
	assert_int_equal(client_open(&loop, addr, &o, &cl, err, sizeof err), 0);
	while (!cs.connects)
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(cs.connect_status, -ECONNREFUSED);
	assert_int_equal(client_call(cl, "x", NULL, NULL, on_reply, &r), -EPIPE);
	client_close(cl);
	uv_close((uv_handle_t *)&t, NULL);
	loop_finish(&loop);
}

/* Over TCP by name (getaddrinfo, each address tried): a call, a ping. */
static void test_tcp(void **state)
{
	struct fixture f;
	struct result r = { 0 };

	(void)state;
	fixture_open(&f, 1, 0, "pw");
	f.srv.auto_mode = 1;
	json_t *d = json_pack("{s:s}", "k", "v");
	assert_int_equal(client_call(f.cl, "stream", d, on_event, on_reply,
	                             &r), 0);
	json_decref(d);
	RUN_UNTIL(&f.loop, r.replies == 1);
	assert_int_equal(r.status, 0);
	assert_string_equal(json_string_value(json_object_get(r.data, "k")),
	                    "v");
	assert_int_equal(json_array_size(r.events), 2);
	assert_int_equal(f.cs.connect_status, 0);
	assert_int_equal(f.srv.accepted, 1);
	result_free(&r);
	fixture_close(&f);
}

/* Many calls outstanding at once (more than the hash has buckets). */
static void test_many(void **state)
{
	enum { N = 2000 };
	struct fixture f;
	struct result *r = calloc(N, sizeof *r);

	(void)state;
	fixture_open(&f, 0, 0, NULL);
	for (int i = 0; i < N; i++) {
		json_t *d = json_integer(i);
		assert_int_equal(client_call(f.cl, "echo", d, NULL, on_reply,
		                             &r[i]), 0);
		json_decref(d);
	}
	RUN_UNTIL(&f.loop, json_array_size(f.srv.reqs) >= N);
	for (int i = N - 1; i >= 0; i--) {   /* newest first */
		json_t *req = srv_req(&f.srv, (size_t)i);
		char *buf;
		size_t len;
		assert_int_equal(wire_encode_response(srv_no(&f.srv, (size_t)i),
		                 json_object_get(req, "data"), &buf, &len), 0);
		srv_write(&f.srv, buf, len);
	}
	RUN_UNTIL(&f.loop, client_outstanding(f.cl) == 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(r[i].replies, 1);
		assert_int_equal(json_integer_value(r[i].data), i);
		result_free(&r[i]);
	}
	free(r);
	fixture_close(&f);
}

/* ---- tests: the blocking wrapper ----------------------------------------- */

/* The server in a thread of its own, in auto mode. */
struct thread_srv {
	uv_loop_t loop;
	struct srv srv;
	pthread_t th;
};

static void on_stop(uv_async_t *a)
{
	struct srv *s = a->data;

	srv_stop(s);
	uv_close((uv_handle_t *)a, NULL);
}

static void *srv_thread(void *arg)
{
	struct thread_srv *t = arg;

	uv_run(&t->loop, UV_RUN_DEFAULT);
	return NULL;
}

static void thread_srv_start(struct thread_srv *t)
{
	uv_loop_init(&t->loop);
	srv_start(&t->srv, &t->loop, 0);
	t->srv.auto_mode = 1;
	uv_async_init(&t->loop, &t->srv.stop, on_stop);
	t->srv.stop.data = &t->srv;
	assert_int_equal(pthread_create(&t->th, NULL, srv_thread, t), 0);
}

static void thread_srv_stop(struct thread_srv *t)
{
	uv_async_send(&t->srv.stop);
	pthread_join(t->th, NULL);
	assert_int_equal(uv_loop_close(&t->loop), 0);
}

static void sync_event(void *arg, const char *kind, json_t *data)
{
	json_array_append_new(arg, json_pack("[sO]", kind, data));
}

static void test_sync(void **state)
{
	struct thread_srv t;
	struct client_sync *cs;
	json_t *reply, *events = json_array(), *d = json_pack("{s:i}", "n", 7);
	char err[512];
	int code;

	(void)state;
	thread_srv_start(&t);
	assert_int_equal(client_sync_open(t.srv.path, "pw", 0, &cs, err,
	                                  sizeof err), 0);
	assert_int_equal(client_sync_call(cs, "echo", d, NULL, NULL, &reply,
	                                  &code, err, sizeof err), 0);
	assert_true(json_equal(reply, d));
	json_decref(reply);
	assert_int_equal(client_sync_call(cs, "stream", d, sync_event, events,
	                                  &reply, &code, err, sizeof err), 0);
	assert_int_equal(json_array_size(events), 2);
	assert_string_equal(json_string_value(json_array_get(json_array_get(
	                    events, 1), 0)), "stdout");
	json_decref(reply);
	assert_int_equal(client_sync_call(cs, "fail", NULL, NULL, NULL, &reply,
	                                  &code, err, sizeof err), -EREMOTEIO);
	assert_null(reply);
	assert_int_equal(code, 4);
	assert_string_equal(err, "no such thing");
	/* the connection stays usable after an error reply */
	assert_int_equal(client_sync_call(cs, "echo", NULL, NULL, NULL, &reply,
	                                  NULL, err, sizeof err), 0);
	json_decref(reply);
	assert_int_equal(client_sync_call(cs, "hangup", NULL, NULL, NULL,
	                                  &reply, &code, err, sizeof err),
	                 -ECONNRESET);
	assert_non_null(strstr(err, "closed the connection"));
	assert_int_equal(client_sync_call(cs, "echo", NULL, NULL, NULL, &reply,
	                                  &code, err, sizeof err), -EPIPE);
	assert_non_null(strstr(err, "closed the connection"));
	client_sync_close(cs);
	thread_srv_stop(&t);
	json_decref(events);
	json_decref(d);
}

/* A silent server: the call times out, the connection is closed, later
 * calls are refused; no server at all: the error of connecting. */
static void test_sync_timeout(void **state)
{
	struct thread_srv t;
	struct client_sync *cs;
	json_t *reply;
	char err[512];
	int code;

	(void)state;
	thread_srv_start(&t);
	assert_int_equal(client_sync_open(t.srv.path, NULL, 300, &cs, err,
	                                  sizeof err), 0);
	assert_int_equal(client_sync_call(cs, "silent", NULL, NULL, NULL,
	                                  &reply, &code, err, sizeof err),
	                 -ETIMEDOUT);
	assert_non_null(strstr(err, "no answer from jobd within 300 ms"));
	assert_int_equal(client_sync_call(cs, "echo", NULL, NULL, NULL, &reply,
	                                  &code, err, sizeof err), -EPIPE);
	assert_non_null(strstr(err, "within 300 ms"));
	client_sync_close(cs);
	thread_srv_stop(&t);

	assert_int_equal(client_sync_open("/nonexistent/x.sock", NULL, 0, &cs,
	                                  err, sizeof err), -ENOENT);
	assert_null(cs);
	assert_non_null(strstr(err, "cannot reach jobd at /nonexistent/x.sock"));
	assert_int_equal(client_sync_open("nohost.invalid:1", NULL, 0, &cs, err,
	                                  sizeof err) < 0, 1);
	assert_non_null(strstr(err, "cannot reach jobd at nohost.invalid:1"));
}

/* ---- the blocking wrapper against a real jobd ------------------------------ */

/* build/jobd beside build/tests/unit/test_client (JOBD_BIN overrides). */
static int jobd_path(char *out, size_t n)
{
	char exe[4096];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	const char *env = getenv("JOBD_BIN");

	if (env && *env) {
		snprintf(out, n, "%s", env);
		return access(out, X_OK);
	}
	if (len <= 0)
		return -1;
	exe[len] = '\0';
	for (int i = 0; i < 3; i++)
		*strrchr(exe, '/') = '\0';
	snprintf(out, n, "%s/jobd", exe);
	return access(out, X_OK);
}

/* A TCP port free just now (bound, read, released). */
static int free_port(void)
{
	uv_loop_t loop;
	uv_tcp_t t;
	struct sockaddr_in sa;
	struct sockaddr_storage got;
	int n = sizeof got, port;

	uv_loop_init(&loop);
	uv_ip4_addr("127.0.0.1", 0, &sa);
	uv_tcp_init(&loop, &t);
	assert_int_equal(uv_tcp_bind(&t, (struct sockaddr *)&sa, 0), 0);
	uv_tcp_getsockname(&t, (struct sockaddr *)&got, &n);
	port = ntohs(((struct sockaddr_in *)&got)->sin_port);
	uv_close((uv_handle_t *)&t, NULL);
	loop_finish(&loop);
	return port;
}

struct jobd {
	pid_t pid;
	char dir[64], sock[128], tcp[64];
};

/* Starts jobd in a temp dir; polls its socket until it answers. */
static int jobd_start(struct jobd *j, const char *bin)
{
	char conf[128], log[128], err[512];
	struct client_sync *cs = NULL;
	FILE *f;

	strcpy(j->dir, "/tmp/test_client_jobd.XXXXXX");
	assert_non_null(mkdtemp(j->dir));
	snprintf(conf, sizeof conf, "%s/jobd.conf", j->dir);
	snprintf(log, sizeof log, "%s/jobd.log", j->dir);
	snprintf(j->sock, sizeof j->sock, "%s/state/jobd.sock", j->dir);
	snprintf(j->tcp, sizeof j->tcp, "127.0.0.1:%d", free_port());
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "state_dir = %s/state\njobs_dir = %s/jobs.d\n"
	        "port = %s\npassword = s3cret\n", j->dir, j->dir,
	        strchr(j->tcp, ':') + 1);
	fclose(f);
	snprintf(err, sizeof err, "mkdir -p %s/state %s/jobs.d", j->dir, j->dir);
	assert_int_equal(system(err), 0);
	j->pid = fork();
	assert_true(j->pid >= 0);
	if (j->pid == 0) {
		if (!freopen(log, "a", stdout) || !freopen(log, "a", stderr))
			_exit(127);
		execl(bin, bin, "-c", conf, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 400 && !cs; i++) {   /* up to 20 s: a busy box */
		if (client_sync_open(j->sock, NULL, 0, &cs, err, sizeof err) < 0)
			usleep(50000);
		if (waitpid(j->pid, NULL, WNOHANG) == j->pid) {
			j->pid = 0;
			break;
		}
	}
	client_sync_close(cs);
	return cs ? 0 : -1;
}

static void jobd_stop(struct jobd *j)
{
	char cmd[128];
	int st = 0;

	if (j->pid > 0) {
		kill(j->pid, SIGTERM);
		waitpid(j->pid, &st, 0);
	}
	snprintf(cmd, sizeof cmd, "rm -rf %s", j->dir);
	assert_int_equal(system(cmd), 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_real_jobd(void **state)
{
	struct jobd j = { 0 };
	struct client_sync *cs;
	json_t *reply, *events = json_array(), *run;
	char bin[4200], err[512];
	int code;

	(void)state;
	if (jobd_path(bin, sizeof bin) != 0) {
		print_message("no jobd binary beside the test: skipped\n");
		skip();
	}
	assert_int_equal(jobd_start(&j, bin), 0);
	assert_int_equal(client_sync_open(j.sock, NULL, 0, &cs, err,
	                                  sizeof err), 0);
	assert_int_equal(client_sync_call(cs, "status", NULL, NULL, NULL,
	                                  &reply, &code, err, sizeof err), 0);
	assert_non_null(json_object_get(reply, "version"));
	json_decref(reply);
	assert_int_equal(client_sync_call(cs, "nope", NULL, NULL, NULL, &reply,
	                                  &code, err, sizeof err), -EREMOTEIO);
	assert_string_equal(err, "unknown request type: 'nope'");
	assert_int_equal(code, 2);

	/* a followed run: its start and output arrive as events */
	json_t *job = json_pack("{s:{s:s,s:s}}", "job", "name", "hello",
	                        "command", "/bin/echo hello-from-jobd");
	assert_int_equal(client_sync_call(cs, "create", job, NULL, NULL, &reply,
	                                  &code, err, sizeof err), 0);
	json_decref(reply);
	json_decref(job);
	json_t *req = json_pack("{s:s,s:b,s:b}", "name", "hello", "wait", 1,
	                        "follow", 1);
	assert_int_equal(client_sync_call(cs, "run", req, sync_event, events,
	                                  &reply, &code, err, sizeof err), 0);
	json_decref(req);
	run = json_object_get(reply, "run");
	assert_string_equal(json_string_value(json_object_get(run, "result")),
	                    "ok");
	assert_string_equal(json_string_value(json_array_get(json_array_get(
	                    events, 0), 0)), "start");
	char *all = json_dumps(events, JSON_COMPACT);
	assert_non_null(strstr(all, "[\"stdout\",\"hello-from-jobd\\n\"]"));
	free(all);
	json_decref(reply);
	client_sync_close(cs);

	/* TCP: the password opens status; a wrong one is refused */
	assert_int_equal(client_sync_open(j.tcp, "s3cret", 10000, &cs, err,
	                                  sizeof err), 0);
	assert_int_equal(client_sync_call(cs, "status", NULL, NULL, NULL,
	                                  &reply, &code, err, sizeof err), 0);
	assert_non_null(json_object_get(reply, "targets"));
	json_decref(reply);
	client_sync_close(cs);
	assert_int_equal(client_sync_open(j.tcp, "wrong", 10000, &cs, err,
	                                  sizeof err), 0);
	assert_int_equal(client_sync_call(cs, "status", NULL, NULL, NULL,
	                                  &reply, &code, err, sizeof err),
	                 -EREMOTEIO);
	assert_string_equal(err, "invalid password");
	client_sync_close(cs);

	json_decref(events);
	jobd_stop(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_ping),
		cmocka_unit_test(test_server_closes),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_bad_messages),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_close_early),
		cmocka_unit_test(test_connect_fails),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_sync),
		cmocka_unit_test(test_sync_timeout),
		cmocka_unit_test(test_real_jobd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
