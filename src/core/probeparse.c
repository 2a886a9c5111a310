/* probeparse.c — host:port, URLs and HTTP status lines for the health
 * checks (engine/health.c).  Pure: no I/O, unit-tested (test_probeparse). */
#include "core/probeparse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int port_parse(const char *s, size_t n, int *port)
{
	int v = 0;

	if (n == 0 || n > 5)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	*port = v;
	return 0;
}

/* host[:port] of length n; port stays as given when absent and !need */
static int authority(const char *s, size_t n, char host[PROBE_HOST_MAX],
                     int *port, int need_port, const char **why)
{
	const char *hs = s, *colon;
	size_t hn;

	if (n && s[0] == '[') {
		const char *end = memchr(s, ']', n);
		if (!end) {
			*why = "unterminated '[' in the host";
			return -EINVAL;
		}
		hs = s + 1;
		hn = (size_t)(end - hs);
		colon = end + 1 < s + n ? end + 1 : NULL;
		if (colon && *colon != ':') {
			*why = "junk after ']' in the host";
			return -EINVAL;
		}
	} else {
		colon = memchr(s, ':', n);
		hn = colon ? (size_t)(colon - s) : n;
		if (colon && memchr(colon + 1, ':', n - hn - 1)) {
			*why = "an IPv6 address needs brackets: [::1]:80";
			return -EINVAL;
		}
	}
	if (hn == 0 || hn >= PROBE_HOST_MAX) {
		*why = hn ? "host name too long" : "no host";
		return -EINVAL;
	}
	for (size_t i = 0; i < hn; i++)
		if ((unsigned char)hs[i] <= ' ' || strchr("/?#@[]", hs[i])) {
			*why = "invalid character in the host";
			return -EINVAL;
		}
	if (!colon && need_port) {
		*why = "no port";
		return -EINVAL;
	}
	if (colon && port_parse(colon + 1, n - (size_t)(colon + 1 - s), port)) {
		*why = "port must be a number from 1 to 65535";
		return -EINVAL;
	}
	memcpy(host, hs, hn);
	host[hn] = '\0';
	return 0;
}

int probe_hostport(const char *s, char host[PROBE_HOST_MAX], int *port,
                   const char **why)
{
	return authority(s, strlen(s), host, port, 1, why);
}

int probe_url(const char *url, struct probe_url *u, const char **why)
{
	const char *p, *end;
	size_t n;

	memset(u, 0, sizeof *u);
	if (strncmp(url, "http://", 7) == 0)
		p = url + 7, u->port = 80;
	else if (strncmp(url, "https://", 8) == 0)
		p = url + 8, u->port = 443, u->https = 1;
	else {
		*why = "must be an http:// or https:// URL";
		return -EINVAL;
	}
	n = strcspn(p, "/?#");
	if (memchr(p, '@', n)) {
		*why = "user info (user@host) is not supported";
		return -EINVAL;
	}
	if (authority(p, n, u->host, &u->port, 0, why) < 0)
		return -EINVAL;
	snprintf(u->hostport, sizeof u->hostport, "%.*s", (int)n, p);
	p += n;
	end = p + strcspn(p, "#");
	if ((size_t)(end - p) + 2 > sizeof u->path) {
		*why = "path too long";
		return -EINVAL;
	}
	for (const char *q = p; q < end; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f) {
			*why = "spaces or control characters in the path (encode "
			       "them: %20)";
			return -EINVAL;
		}
	snprintf(u->path, sizeof u->path, "%s%.*s", *p == '/' ? "" : "/",
	         (int)(end - p), p);
	return 0;
}

int probe_status(const char *buf, size_t n, int *code)
{
	const char *nl = memchr(buf, '\n', n);
	size_t len = nl ? (size_t)(nl - buf) : n;
	int v = 0;

	/* a partial line that already cannot be a status line fails now */
	if (strncmp(buf, "HTTP/", len < 5 ? len : 5) != 0)
		return -EINVAL;
	if (!nl)
		return n > 512 ? -EINVAL : 0;
	/* "HTTP/" DIGIT "." DIGIT SP 3DIGIT (SP reason)? CR? */
	if (len < 12 || buf[5] < '0' || buf[5] > '9' || buf[6] != '.' ||
	    buf[7] < '0' || buf[7] > '9' || buf[8] != ' ')
		return -EINVAL;
	for (int i = 9; i < 12; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -EINVAL;
		v = v * 10 + (buf[i] - '0');
	}
	if (len > 12 && buf[12] != ' ' && buf[12] != '\r')
		return -EINVAL;
	if (v < 100)
		return -EINVAL;
	*code = v;
	return 1;
}
