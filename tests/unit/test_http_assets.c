/* test_http_assets.c — the dashboard's files built into the binary
 * (scripts/embed_assets.py): each is found by its path with its type and
 * bytes, "/" is the index, and nothing else is served. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "faces/http_assets.h"

static int contains(const struct http_asset *a, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i + n <= a->len; i++) {
		if (memcmp(a->data + i, s, n) == 0)
			return 1;
	}
	return 0;
}

static void test_index(void **state)
{
	(void)state;
	const struct http_asset *a = http_asset_lookup("/");
	assert_non_null(a);
	assert_ptr_equal(a, http_asset_lookup("/index.html"));
	assert_string_equal(a->type, "text/html; charset=utf-8");
	assert_true(a->len > 100);
	assert_memory_equal(a->data, "<!doctype html>", 15);
	assert_true(contains(a, "/app.js"));
	assert_true(contains(a, "/app.css"));
}

static void test_script_and_style(void **state)
{
	(void)state;
	const struct http_asset *js = http_asset_lookup("/app.js");
	const struct http_asset *css = http_asset_lookup("/app.css");
	assert_non_null(js);
	assert_non_null(css);
	assert_string_equal(js->type, "text/javascript; charset=utf-8");
	assert_string_equal(css->type, "text/css; charset=utf-8");
	assert_true(contains(js, "text/event-stream"));
	assert_true(contains(js, "sessionStorage"));
	assert_true(contains(css, "@media"));
	/* the etag is a quoted hash of the bytes: different files differ */
	assert_int_equal(js->etag[0], '"');
	assert_int_equal(js->etag[strlen(js->etag) - 1], '"');
	assert_string_not_equal(js->etag, css->etag);
}

static void test_unknown(void **state)
{
	(void)state;
	assert_null(http_asset_lookup(NULL));
	assert_null(http_asset_lookup(""));
	assert_null(http_asset_lookup("/nope.js"));
	assert_null(http_asset_lookup("app.js"));          /* not a path */
	assert_null(http_asset_lookup("/../app.js"));
	assert_null(http_asset_lookup("/app.js/"));
	assert_null(http_asset_lookup("/api/v1/jobs"));
}

/* the http face's hook: the same asset, -ENOENT for anything else */
static void test_hook(void **state)
{
	(void)state;
	const void *data = NULL;
	size_t len = 0;
	const char *type = NULL;
	const struct http_asset *a = http_asset_lookup("/app.css");
	assert_int_equal(http_assets_static("/app.css", &data, &len, &type), 0);
	assert_ptr_equal(data, a->data);
	assert_int_equal(len, a->len);
	assert_string_equal(type, a->type);
	assert_int_equal(http_assets_static("/x", &data, &len, &type), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_script_and_style),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_hook),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
