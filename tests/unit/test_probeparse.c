/* test_probeparse.c — the pure parts of the health checks: host:port,
 * http URLs and HTTP status lines (core/probeparse.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "core/probeparse.h"

static void test_hostport(void **state)
{
	char host[PROBE_HOST_MAX];
	const char *why = NULL;
	int port = 0;

	(void)state;
	assert_int_equal(probe_hostport("localhost:8080", host, &port, &why), 0);
	assert_string_equal(host, "localhost");
	assert_int_equal(port, 8080);
	assert_int_equal(probe_hostport("[::1]:22", host, &port, &why), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 22);
	assert_int_equal(probe_hostport("127.0.0.1:65535", host, &port, &why), 0);
	assert_int_equal(probe_hostport("h:0", host, &port, &why), -EINVAL);
	assert_string_equal(why, "port must be a number from 1 to 65535");
	assert_int_equal(probe_hostport("h:99999", host, &port, &why), -EINVAL);
	assert_int_equal(probe_hostport("h:8x", host, &port, &why), -EINVAL);
	assert_int_equal(probe_hostport("h", host, &port, &why), -EINVAL);
	assert_string_equal(why, "no port");
	assert_int_equal(probe_hostport(":80", host, &port, &why), -EINVAL);
	assert_string_equal(why, "no host");
	assert_int_equal(probe_hostport("::1:80", host, &port, &why), -EINVAL);
	assert_string_equal(why, "an IPv6 address needs brackets: [::1]:80");
	assert_int_equal(probe_hostport("[::1:80", host, &port, &why), -EINVAL);
	assert_int_equal(probe_hostport("a b:80", host, &port, &why), -EINVAL);
}

static void test_url(void **state)
{
	struct probe_url u;
	const char *why = NULL;

	(void)state;
	assert_int_equal(probe_url("http://localhost:8080/health?x=1#f", &u,
	                           &why), 0);
	assert_false(u.https);
	assert_string_equal(u.host, "localhost");
	assert_int_equal(u.port, 8080);
	assert_string_equal(u.hostport, "localhost:8080");
	assert_string_equal(u.path, "/health?x=1");
	assert_int_equal(probe_url("http://example.org", &u, &why), 0);
	assert_int_equal(u.port, 80);
	assert_string_equal(u.path, "/");
	assert_string_equal(u.hostport, "example.org");
	assert_int_equal(probe_url("http://h?q", &u, &why), 0);
	assert_string_equal(u.path, "/?q");
	assert_int_equal(probe_url("https://h/x", &u, &why), 0);
	assert_true(u.https);
	assert_int_equal(u.port, 443);
	assert_int_equal(probe_url("http://[::1]:81/", &u, &why), 0);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.hostport, "[::1]:81");
	assert_int_equal(probe_url("ftp://h/", &u, &why), -EINVAL);
	assert_string_equal(why, "must be an http:// or https:// URL");
	assert_int_equal(probe_url("http:///x", &u, &why), -EINVAL);
	assert_string_equal(why, "no host");
	assert_int_equal(probe_url("http://u@h/", &u, &why), -EINVAL);
	assert_int_equal(probe_url("http://h:0/", &u, &why), -EINVAL);
	assert_int_equal(probe_url("http://h/a b", &u, &why), -EINVAL);
	assert_int_equal(probe_url("http://h/a\r\nX: y", &u, &why), -EINVAL);
}

static void status_is(const char *s, int rc, int want)
{
	int code = -1;

	assert_int_equal(probe_status(s, strlen(s), &code), rc);
	if (rc == 1)
		assert_int_equal(code, want);
}

static void test_status(void **state)
{
	(void)state;
	status_is("HTTP/1.1 200 OK\r\n", 1, 200);
	status_is("HTTP/1.0 503 Service Unavailable\r\nServer: x\r\n", 1, 503);
	status_is("HTTP/1.1 204\r\n", 1, 204);
	status_is("HTTP/1.1 404\n", 1, 404);
	status_is("HTTP/1.1 200 OK", 0, 0);      /* not complete yet */
	status_is("HTT", 0, 0);
	status_is("", 0, 0);
	status_is("SSH-2.0-OpenSSH\r\n", -EINVAL, 0);
	status_is("HTTX", -EINVAL, 0);           /* fails before the line ends */
	status_is("HTTP/1.1 20 OK\r\n", -EINVAL, 0);
	status_is("HTTP/1.1 2000 OK\r\n", -EINVAL, 0);
	status_is("HTTP/1.1 099 x\r\n", -EINVAL, 0);
	status_is("HTTP/1.1 abc\r\n", -EINVAL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
