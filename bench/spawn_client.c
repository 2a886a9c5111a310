/* spawn_client.c — the load of bench/spawn.sh: N `run` requests for job
 * NAME with "wait": true, K in flight, one request outstanding on each of
 * K connections to jobd's socket ($JOBD_SOCKET).  Each request is
 *   [0, {"type": "run", "no": NO, "data": {"name": NAME, "wait": true}}]
 * (EOT-terminated); the reply is the type-1 message with the same "no",
 * after any events.  Every run must end with result "ok".
 * Prints "RUNS_PER_S CLIENT_CPU_MS_PER_RUN".
 *   spawn_client [-n N] [-k K] [NAME]
 * In C, not Python, so that the client's own CPU (which shares the
 * machine's CPUs with jobd and the runs) stays small next to jobd's;
 * the replies are still parsed in full (core/wire.h) and checked. */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
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
#define MAX_CONN 64

struct conn {
	int fd;
	long no;                /* the request outstanding, 0 = none */
	char *buf;
	size_t len, cap;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		fprintf(stderr, "spawn_client: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		fprintf(stderr, "spawn_client: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int conn_send(struct conn *c, const char *name, long no)
{
	json_t *data = json_pack("{s:s,s:b}", "name", name, "wait", 1);
	char *req;
	size_t n;
	int rc = wire_encode_request("run", no, data, NULL, &req, &n);

	json_decref(data);
	if (rc < 0) {
		fprintf(stderr, "spawn_client: cannot encode a request for '%s'\n",
		        name);
		return -1;
	}
	for (size_t off = 0; off < n;) {
		ssize_t w = write(c->fd, req + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			perror("spawn_client: write");
			free(req);
			return -1;
		}
		off += (size_t)w;
	}
	free(req);
	c->no = no;
	return 0;
}

/* One message: 1 = the reply to c->no (run ok), 0 = something else
 * (an event), -1 = an error or a failed run. */
static int check_msg(struct conn *c, const char *m, size_t n)
{
	struct wire_msg msg;
	char err[256];
	int rc = 0;

	if (wire_decode(m, n, &msg, err, sizeof err) < 0) {
		fprintf(stderr, "spawn_client: bad message (%s): %.*s\n", err,
		        (int)n, m);
		return -1;
	}
	if (msg.type == WIRE_RESPONSE && msg.no == c->no) {
		json_t *run = json_object_get(msg.data, "run");
		const char *res = json_string_value(json_object_get(run, "result"));
		if (msg.error || !res || strcmp(res, "ok")) {
			fprintf(stderr, "spawn_client: run failed: %.*s\n", (int)n, m);
			rc = -1;
		} else {
			rc = 1;
		}
	}
	wire_msg_free(&msg);
	return rc;
}

/* Reads what is there; returns 1 when the reply arrived, 0 when not yet,
 * -1 on an error. */
static int conn_read(struct conn *c)
{
	if (c->cap - c->len < 65536) {
		size_t cap = c->cap ? c->cap * 2 : 131072;
		char *b = realloc(c->buf, cap);
		if (!b)
			return -1;
		c->buf = b;
		c->cap = cap;
	}
	ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
	if (r <= 0) {
		if (r < 0 && errno == EINTR)
			return 0;
		fprintf(stderr, "spawn_client: connection closed\n");
		return -1;
	}
	c->len += (size_t)r;
	int done = 0;
	char *eot, *start = c->buf;
	while (!done && (eot = memchr(start, EOT, c->len - (size_t)(start - c->buf)))) {
		done = check_msg(c, start, (size_t)(eot - start));
		if (done < 0)
			return -1;
		start = eot + 1;
	}
	c->len -= (size_t)(start - c->buf);
	memmove(c->buf, start, c->len);
	return done;
}

int main(int argc, char **argv)
{
	long n = 5000, k = 2, sent = 0, done = 0, no = 0;
	const char *sock = getenv("JOBD_SOCKET");
	struct conn conns[MAX_CONN];
	struct pollfd pf[MAX_CONN];
	int c;

	while ((c = getopt(argc, argv, "n:k:")) != -1) {
		switch (c) {
		case 'n': n = strtol(optarg, NULL, 10); break;
		case 'k': k = strtol(optarg, NULL, 10); break;
		default:
			fprintf(stderr, "usage: spawn_client [-n N] [-k K] [NAME]\n");
			return 2;
		}
	}
	const char *name = optind < argc ? argv[optind] : "t";
	if (!sock || n < 1 || k < 1 || k > MAX_CONN) {
		fprintf(stderr, "spawn_client: JOBD_SOCKET must be set, N >= 1, "
		        "1 <= K <= %d\n", MAX_CONN);
		return 2;
	}
	memset(conns, 0, sizeof conns);
	for (int i = 0; i < k; i++)
		if (conn_open(&conns[i], sock) < 0)
			return 1;

	double t0 = now_s();
	for (int i = 0; i < k && sent < n; i++, sent++)
		if (conn_send(&conns[i], name, no = no % WIRE_NO_MAX + 1) < 0)
			return 1;
	while (done < n) {
		int np = 0;
		for (int i = 0; i < k; i++)
			if (conns[i].no) {
				pf[np].fd = conns[i].fd;
				pf[np].events = POLLIN;
				pf[np++].revents = 0;
			}
		if (poll(pf, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("spawn_client: poll");
			return 1;
		}
		for (int i = 0, j = 0; i < k; i++) {
			if (!conns[i].no)
				continue;
			if (!(pf[j++].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			int rc = conn_read(&conns[i]);
			if (rc < 0)
				return 1;
			if (rc == 0)
				continue;
			conns[i].no = 0;
			done++;
			if (sent < n) {
				if (conn_send(&conns[i], name, no = no % WIRE_NO_MAX + 1) < 0)
					return 1;
				sent++;
			}
		}
	}
	double dt = now_s() - t0;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	                (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	printf("%.1f %.3f\n", (double)n / dt, cpu_ms / (double)n);
	for (int i = 0; i < k; i++) {
		close(conns[i].fd);
		free(conns[i].buf);
	}
	return 0;
}
