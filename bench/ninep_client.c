/* bench/ninep_client.c — the client of bench/ninep.sh: one process, one
 * thread, one TCP connection, the same for jobd and for diod.
 *   ninep_client HOST:PORT ANAME PATH N WINDOW
 * Tversion 9P2000.L (what both servers speak; diod speaks nothing else),
 * Tattach with ANAME, Twalk to PATH, Tlopen read-only, then N Treads of
 * the whole file at offset 0, WINDOW of them in flight (each with its own
 * tag); every reply must be an Rread of the file's length (the first
 * one's).  Prints "READS_PER_S CLIENT_CPU_US_PER_READ BYTES" (the client's
 * own user+system CPU, so a reader can see the client is not what bounds
 * the figure).  Hand-written, not a library: a few microseconds of CPU a
 * read, so the figure is the server's. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { Rlerror = 7, Tlopen = 12, Tversion = 100, Tattach = 104,
       Rerror = 107, Twalk = 110, Tread = 116, Rread = 117 };
#define MSIZE 8192
#define NOFID 0xffffffffu

static int fd;
static unsigned char in[1 << 20];
static size_t inlen;

static void die(const char *what)
{
	fprintf(stderr, "ninep_client: %s\n", what);
	exit(1);
}

static unsigned char *put4(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
	return p + 4;
}
static unsigned char *put2(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8);
	return p + 2;
}
static unsigned char *puts9(unsigned char *p, const char *s)
{
	size_t n = strlen(s);
	p = put2(p, (uint16_t)n);
	memcpy(p, s, n);
	return p + n;
}
static uint32_t get4(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* frames the message [start+7, end) with its size, type and tag */
static size_t frame(unsigned char *start, unsigned char *end, int type, uint16_t tag)
{
	size_t n = (size_t)(end - start);
	put4(start, (uint32_t)n);
	start[4] = (unsigned char)type;
	put2(start + 5, tag);
	return n;
}

static void send_all(const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) die("write failed");
		p += w; n -= (size_t)w;
	}
}

/* the next reply into out (size, type, tag, body); returns its size */
static size_t recv_msg(unsigned char *out)
{
	for (;;) {
		if (inlen >= 4) {
			uint32_t sz = get4(in);
			if (sz < 7 || sz > sizeof(in)) die("bad reply size");
			if (inlen >= sz) {
				memcpy(out, in, sz);
				memmove(in, in + sz, inlen - sz);
				inlen -= sz;
				return sz;
			}
		}
		ssize_t r = read(fd, in + inlen, sizeof(in) - inlen);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) die("connection closed");
		inlen += (size_t)r;
	}
}

static void rpc(unsigned char *msg, size_t n, int want, unsigned char *reply)
{
	send_all(msg, n);
	recv_msg(reply);
	if (reply[4] == Rerror || reply[4] == Rlerror) {
		fprintf(stderr, "ninep_client: error reply to type %d\n", msg[4]);
		exit(1);
	}
	if (reply[4] != want) die("unexpected reply type");
}

static void connect_to(const char *hostport)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	if (!colon || (size_t)(colon - hostport) >= sizeof(host)) die("HOST:PORT");
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = 0;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0) die("getaddrinfo");
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) die("connect");
	freeaddrinfo(ai);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* sends one Tread of fid 2 at offset 0 with TAG */
static void send_read(uint16_t tag)
{
	unsigned char m[7 + 16], *p = m + 7;
	p = put4(p, 2);
	p = put4(p, 0); p = put4(p, 0);          /* offset 0 */
	p = put4(p, MSIZE - 24);
	send_all(m, frame(m, p, Tread, tag));
}

int main(int argc, char **argv)
{
	if (argc != 6) die("usage: HOST:PORT ANAME PATH N WINDOW");
	long n = atol(argv[4]), w = atol(argv[5]);
	if (n <= 0 || w <= 0 || w > 1000) die("N > 0, 0 < WINDOW <= 1000");
	connect_to(argv[1]);
	unsigned char m[MSIZE], r[sizeof(in)], *p;

	p = put4(m + 7, MSIZE);
	p = puts9(p, "9P2000.L");
	rpc(m, frame(m, p, Tversion, 0xffff), Tversion + 1, r);

	p = put4(m + 7, 1); p = put4(p, NOFID);
	p = puts9(p, "root"); p = puts9(p, argv[2]); p = put4(p, 0);
	rpc(m, frame(m, p, Tattach, 1), Tattach + 1, r);

	/* walk fid 1 -> fid 2 along PATH's names */
	p = put4(m + 7, 1); p = put4(p, 2);
	unsigned char *nw = p; p += 2;
	uint16_t k = 0;
	char path[1024];
	snprintf(path, sizeof(path), "%s", argv[3]);
	for (char *save, *name = strtok_r(path, "/", &save); name; name = strtok_r(NULL, "/", &save), k++)
		p = puts9(p, name);
	put2(nw, k);
	rpc(m, frame(m, p, Twalk, 1), Twalk + 1, r);
	if (r[7] != k) die("walk stopped short");

	p = put4(m + 7, 2); p = put4(p, 0);       /* O_RDONLY */
	rpc(m, frame(m, p, Tlopen, 1), Tlopen + 1, r);

	double c0 = cpu_s(), t0 = now_s();
	long sent = 0, got = 0;
	uint32_t len = 0;
	for (; sent < w && sent < n; sent++)
		send_read((uint16_t)(sent + 1));
	while (got < n) {
		recv_msg(r);
		if (r[4] != Rread) die("a read got no Rread");
		uint32_t c = get4(r + 7);
		if (got == 0) {
			len = c;
			if (len == 0) die("the file is empty");
		} else if (c != len) {
			die("a read returned another length");
		}
		got++;
		if (sent < n) {
			send_read((uint16_t)(r[5] | r[6] << 8));   /* reuse the tag */
			sent++;
		}
	}
	double dt = now_s() - t0, dc = cpu_s() - c0;
	printf("%.0f %.2f %u\n", n / dt, dc * 1e6 / n, len);
	return 0;
}
