/* bench/queue_client.c — the clients of bench/queue.sh: one process, one
 * thread, pipelining the same way for jobd and for its peer.
 *   queue_client builtin SOCKET N WINDOW
 *       N submits of {"builtin": "true", "wait": true} on one connection to
 *       jobd, WINDOW of them in flight; each reply comes when its run is
 *       finished (and must say done/ok).
 *   queue_client e2e SOCKET N WINDOW
 *       N submits of argv ["/bin/true"] (no wait) pipelined on one
 *       connection, then N `wait` requests pipelined; every run must end ok.
 *   queue_client beanstalk PORT N WINDOW
 *       beanstalkd on 127.0.0.1: a producer connection pipelining `put`s
 *       (WINDOW not yet answered) and a consumer connection pipelining
 *       `reserve`s (WINDOW outstanding), each RESERVED answered with
 *       `delete`; done when N jobs are DELETED.
 * Prints "JOBS_PER_S CLIENT_CPU_MS_PER_JOB" (the client's own user+system
 * CPU, so a reader can see the client is not what bounds the figure).
 *
 * Hand-written rather than a library client: the Python client it replaces
 * spent 20-30 us of CPU per job talking to jobd, which on a 2-CPU machine
 * is time taken from the server whenever anything else runs; this one
 * spends ~5 us (jobd, a Unix socket) and ~12 us (beanstalkd, almost all
 * of it the kernel's loopback TCP, three commands per job).  jobd's
 * replies are not parsed in full (jansson alone cost 12 us per reply) but
 * every one is checked: a response, not an error, whose run ended done/ok
 * (see frame_find for why a key search is exact enough here).  The
 * message types and the EOT are core/wire.h's and core/frame.h's; the
 * requests are printed by hand, byte for byte what wire_encode_request
 * writes (test_wire checks that shape), without jansson's cost. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* memmem */
#endif
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/frame.h"
#include "core/wire.h"

#define EOT FRAME_EOT
#define JID_MAX 64

/* a growable byte buffer: bytes read and not yet parsed, or to be sent */
struct buf {
	char *p;
	size_t len, cap;
};

static int buf_reserve(struct buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 1 << 16;
	while (cap < b->len + more)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

static int buf_printf(struct buf *b, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		size_t room = b->cap - b->len;
		int n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -EINVAL;
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return 0;
		}
		int ret = buf_reserve(b, (size_t)n + 1);
		if (ret < 0)
			return ret;
	}
}

/* drops the first n bytes (parsed ones) */
static void buf_consume(struct buf *b, size_t n)
{
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

/* one read(2) into b; the peer closing is an error here */
static int buf_read(struct buf *b, int fd)
{
	int ret = buf_reserve(b, 1 << 16);
	if (ret < 0)
		return ret;
	ssize_t n;
	do
		n = read(fd, b->p + b->len, b->cap - b->len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;
	b->len += (size_t)n;
	return 0;
}

static int fd_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* ---- jobd ---- */

struct jobd {
	int fd;
	struct buf in, out;
	char (*jids)[JID_MAX];  /* e2e: the jid of submit i */
	size_t njids;
};

typedef int (*req_fn)(struct jobd *c, size_t i, unsigned no);
typedef int (*reply_fn)(struct jobd *c, const char *frame, size_t len);

static int jobd_connect(struct jobd *c, const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof a.sun_path) {
		fprintf(stderr, "bench client: socket path too long: %s\n", path);
		return -ENAMETOOLONG;
	}
	strcpy(a.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0) {
		int ret = -errno;
		fprintf(stderr, "bench client: connect %s: %s\n", path, strerror(errno));
		return ret;
	}
	return 0;
}

/* finds the literal key (with its quotes and colon) in a frame; jobd writes
 * compact JSON whose strings escape every quote, so a quoted key followed
 * by a colon is a key, never text inside a value */
static const char *frame_find(const char *p, size_t len, const char *key)
{
	return memmem(p, len, key, strlen(key));
}

/* one frame: events and pongs are skipped (0), an error response ends the
 * bench (<0), a response's data goes to on_reply (1) */
static int jobd_frame(struct jobd *c, const char *p, size_t len, reply_fn on_reply)
{
	char head[8];
	int hl = snprintf(head, sizeof head, "[%d,", WIRE_RESPONSE);
	if (len < (size_t)hl || memcmp(p, head, (size_t)hl))
		return 0;
	if (!frame_find(p, len, "\"data\":")) {
		fprintf(stderr, "bench client: jobd: %.*s\n", (int)len, p);
		return -EPROTO;
	}
	int ret = on_reply(c, p, len);
	return ret < 0 ? ret : 1;
}

/* reads at least once; hands every complete response to on_reply and
 * returns how many there were */
static int jobd_replies(struct jobd *c, reply_fn on_reply)
{
	int ret = buf_read(&c->in, c->fd);
	if (ret < 0) {
		fprintf(stderr, "bench client: reading jobd: %s\n", strerror(-ret));
		return ret;
	}
	int count = 0;
	size_t start = 0;
	char *eot;
	while ((eot = memchr(c->in.p + start, EOT, c->in.len - start))) {
		size_t end = (size_t)(eot - c->in.p);
		ret = jobd_frame(c, c->in.p + start, end - start, on_reply);
		if (ret < 0)
			return ret;
		count += ret;
		start = end + 1;
	}
	buf_consume(&c->in, start);
	return count;
}

/* n requests made by make_req, at most window unanswered */
static int jobd_pipeline(struct jobd *c, size_t n, size_t window, req_fn make_req,
                         reply_fn on_reply)
{
	size_t sent = 0, done = 0;
	while (done < n) {
		size_t k = n - sent;
		if (k > window - (sent - done))
			k = window - (sent - done);
		c->out.len = 0;
		for (size_t i = 0; i < k; i++) {
			int ret = make_req(c, sent + i, (unsigned)((sent + i) % WIRE_NO_MAX + 1));
			if (ret < 0)
				return ret;
		}
		int ret = fd_write_all(c->fd, c->out.p, c->out.len);
		if (ret < 0) {
			fprintf(stderr, "bench client: writing jobd: %s\n", strerror(-ret));
			return ret;
		}
		sent += k;
		ret = jobd_replies(c, on_reply);
		if (ret < 0)
			return ret;
		done += (size_t)ret;
	}
	return 0;
}

static int req_builtin(struct jobd *c, size_t i, unsigned no)
{
	(void)i;
	return buf_printf(&c->out, "[%d,{\"type\":\"submit\",\"no\":%u,\"data\":"
	                  "{\"builtin\":\"true\",\"wait\":true}}]%c", WIRE_REQUEST,
	                  no, EOT);
}

static int req_submit_true(struct jobd *c, size_t i, unsigned no)
{
	(void)i;
	return buf_printf(&c->out, "[%d,{\"type\":\"submit\",\"no\":%u,\"data\":"
	                  "{\"argv\":[\"/bin/true\"]}}]%c", WIRE_REQUEST, no, EOT);
}

static int req_wait(struct jobd *c, size_t i, unsigned no)
{
	return buf_printf(&c->out, "[%d,{\"type\":\"wait\",\"no\":%u,\"data\":"
	                  "{\"jid\":\"%s\"}}]%c", WIRE_REQUEST, no, c->jids[i], EOT);
}

/* a finished run's reply: it must have ended ok */
static int check_run(struct jobd *c, const char *p, size_t len)
{
	(void)c;
	if (frame_find(p, len, "\"status\":\"done\"") &&
	    frame_find(p, len, "\"result\":\"ok\""))
		return 0;
	fprintf(stderr, "bench client: run not done/ok: %.*s\n", (int)len, p);
	return -EPROTO;
}

/* a submit's reply: keeps the run's jid for its wait */
static int keep_jid(struct jobd *c, const char *p, size_t len)
{
	const char *jid = frame_find(p, len, "\"jid\":\"");
	const char *end = jid ? memchr(jid + 7, '"', len - (size_t)(jid + 7 - p)) : NULL;
	if (!end || end - (jid + 7) >= JID_MAX) {
		fprintf(stderr, "bench client: submit reply without a jid: %.*s\n", (int)len, p);
		return -EPROTO;
	}
	memcpy(c->jids[c->njids], jid + 7, (size_t)(end - (jid + 7)));
	c->jids[c->njids++][end - (jid + 7)] = '\0';
	return 0;
}

static int bench_jobd(int e2e, const char *path, size_t n, size_t window)
{
	struct jobd c = { .fd = -1 };
	int ret = jobd_connect(&c, path);
	if (ret < 0)
		goto done;
	if (!e2e) {
		ret = jobd_pipeline(&c, n, window, req_builtin, check_run);
		goto done;
	}
	ret = -ENOMEM;
	c.jids = calloc(n, sizeof *c.jids);
	if (!c.jids)
		goto done;
	ret = jobd_pipeline(&c, n, window, req_submit_true, keep_jid);
	if (ret == 0)
		ret = jobd_pipeline(&c, n, window, req_wait, check_run);
done:
	if (c.fd >= 0)
		close(c.fd);
	free(c.in.p);
	free(c.out.p);
	free(c.jids);
	return ret;
}

/* ---- beanstalkd ---- */

struct bs {
	int prod, cons;
	struct buf pin, cin, out;
	size_t n, window, puts, inserted, reserves, got, deleted;
};

static const char BS_PUT[] = "put 0 0 60 4\r\nnoop\r\n";
static const char BS_RESERVE[] = "reserve\r\n";

static int bs_connect(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
		int ret = -errno;
		fprintf(stderr, "bench client: connect 127.0.0.1:%d: %s\n", port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	return fd;
}

/* sends k copies of cmd on fd in one write */
static int bs_send_n(struct bs *b, int fd, const char *cmd, size_t k)
{
	b->out.len = 0;
	for (size_t i = 0; i < k; i++) {
		int ret = buf_printf(&b->out, "%s", cmd);
		if (ret < 0)
			return ret;
	}
	return fd_write_all(fd, b->out.p, b->out.len);
}

static int bs_more(struct bs *b)
{
	size_t k = b->n - b->puts;
	if (k > b->window - (b->puts - b->inserted))
		k = b->window - (b->puts - b->inserted);
	int ret = bs_send_n(b, b->prod, BS_PUT, k);
	b->puts += k;
	k = b->n - b->reserves;
	if (k > b->window - (b->reserves - b->got))
		k = b->window - (b->reserves - b->got);
	if (ret == 0)
		ret = bs_send_n(b, b->cons, BS_RESERVE, k);
	b->reserves += k;
	return ret;
}

/* the producer's lines: INSERTED id */
static int bs_producer(struct bs *b)
{
	int ret = buf_read(&b->pin, b->prod);
	if (ret < 0)
		return ret;
	size_t start = 0;
	char *nl;
	while ((nl = memchr(b->pin.p + start, '\n', b->pin.len - start))) {
		if (strncmp(b->pin.p + start, "INSERTED ", 9)) {
			fprintf(stderr, "bench client: put: %.*s\n",
			        (int)(nl - b->pin.p - (ptrdiff_t)start), b->pin.p + start);
			return -EPROTO;
		}
		b->inserted++;
		start = (size_t)(nl - b->pin.p) + 1;
	}
	buf_consume(&b->pin, start);
	return 0;
}

/* one consumer reply at p (len bytes buffered): its length, 0 when not all
 * here yet, <0 when it is not one we expect; a RESERVED adds a delete */
static long bs_reply(struct bs *b, const char *p, size_t len)
{
	const char *nl = memchr(p, '\n', len);
	if (!nl)
		return 0;
	size_t line = (size_t)(nl - p) + 1;
	if (!strncmp(p, "DELETED\r\n", 9)) {
		b->deleted++;
		return (long)line;
	}
	unsigned long long id;
	size_t size;
	if (sscanf(p, "RESERVED %llu %zu", &id, &size) != 2) {
		fprintf(stderr, "bench client: consumer: %.*s\n", (int)line, p);
		return -EPROTO;
	}
	if (len < line + size + 2)
		return 0;                       /* the body is not all here yet */
	b->got++;
	int ret = buf_printf(&b->out, "delete %llu\r\n", id);
	return ret < 0 ? ret : (long)(line + size + 2);
}

static int bs_consumer(struct bs *b)
{
	int ret = buf_read(&b->cin, b->cons);
	if (ret < 0)
		return ret;
	b->out.len = 0;
	size_t start = 0;
	long used;
	while ((used = bs_reply(b, b->cin.p + start, b->cin.len - start)) > 0)
		start += (size_t)used;
	if (used < 0)
		return (int)used;
	buf_consume(&b->cin, start);
	return b->out.len ? fd_write_all(b->cons, b->out.p, b->out.len) : 0;
}

static int bs_loop(struct bs *b)
{
	int ret = bs_more(b);
	while (ret == 0 && b->deleted < b->n) {
		struct pollfd fds[2] = { { .fd = b->prod, .events = POLLIN },
		                         { .fd = b->cons, .events = POLLIN } };
		if (poll(fds, 2, -1) < 0) {
			ret = errno == EINTR ? 0 : -errno;
			continue;
		}
		if (fds[0].revents)
			ret = bs_producer(b);
		if (ret == 0 && fds[1].revents)
			ret = bs_consumer(b);
		if (ret == 0)
			ret = bs_more(b);
	}
	return ret;
}

static int bench_beanstalk(int port, size_t n, size_t window)
{
	struct bs b = { .prod = -1, .cons = -1, .n = n, .window = window };
	int ret = b.prod = bs_connect(port);
	if (ret >= 0)
		ret = b.cons = bs_connect(port);
	if (ret < 0)
		goto done;              /* bs_connect said what */
	ret = bs_loop(&b);
	if (ret < 0 && ret != -EPROTO)
		fprintf(stderr, "bench client: beanstalkd: %s\n", strerror(-ret));
done:
	if (b.prod >= 0)
		close(b.prod);
	if (b.cons >= 0)
		close(b.cons);
	free(b.pin.p);
	free(b.cin.p);
	free(b.out.p);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc != 5 || atol(argv[3]) <= 0 || atol(argv[4]) <= 0) {
		fprintf(stderr, "usage: queue_client builtin|e2e SOCKET N WINDOW\n"
		                "       queue_client beanstalk PORT N WINDOW\n");
		return 2;
	}
	size_t n = (size_t)atol(argv[3]), window = (size_t)atol(argv[4]);
	double t0 = now_s(), c0 = cpu_s();
	int ret;
	if (!strcmp(argv[1], "builtin") || !strcmp(argv[1], "e2e"))
		ret = bench_jobd(!strcmp(argv[1], "e2e"), argv[2], n, window);
	else if (!strcmp(argv[1], "beanstalk"))
		ret = bench_beanstalk(atoi(argv[2]), n, window);
	else {
		fprintf(stderr, "bench client: unknown mode %s\n", argv[1]);
		return 2;
	}
	if (ret < 0)
		return 1;
	printf("%.0f %.4f\n", (double)n / (now_s() - t0), (cpu_s() - c0) * 1e3 / (double)n);
	return 0;
}
