/* probeparse.h — the pure parts of health-check probes (engine/health.c):
 * a "host:port", an http:// URL, and an HTTP response's status line. */
#ifndef JOBD_PROBEPARSE_H
#define JOBD_PROBEPARSE_H
#include <stddef.h>

#define PROBE_HOST_MAX 256
#define PROBE_PATH_MAX 2048

/* "host:port", "[v6]:port": host without brackets; port 1..65535.
 * Returns 0, or -EINVAL with *why saying what is wrong. */
int probe_hostport(const char *s, char host[PROBE_HOST_MAX], int *port,
                   const char **why);

struct probe_url {
	int https;                   /* the scheme was https:// */
	char host[PROBE_HOST_MAX];   /* without brackets */
	int port;                    /* given, else 80 / 443 */
	char hostport[PROBE_HOST_MAX + 8];   /* the Host header's value */
	char path[PROBE_PATH_MAX];   /* with the query; "/" when none */
};

/* Splits an http:// or https:// URL (no user info, no fragment kept).
 * Returns 0, or -EINVAL with *why saying what is wrong. */
int probe_url(const char *url, struct probe_url *u, const char **why);

/* The status code of a response's first line "HTTP/1.x NNN ...":
 * 1 and *code once the line is complete, 0 while it is not (give more
 * bytes), -EINVAL when it is no HTTP status line. */
int probe_status(const char *buf, size_t n, int *code);
#endif
