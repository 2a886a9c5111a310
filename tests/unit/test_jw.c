/* test_jw.c — the JSON writer: its text is what jansson would write for
 * the same values (escapes, UTF-8, numbers, nesting, commas), and bytes
 * that are not UTF-8 become '?' without breaking the message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "core/jw.h"

static char *take(struct jw *w)
{
	size_t len;
	char *t = jw_take(w, &len);
	assert_non_null(t);
	assert_int_equal(strlen(t), len);
	return t;
}

/* s as a string: jw's text equals jansson's, and parses back to s */
static void same_as_jansson(const char *s, size_t n)
{
	struct jw w;
	jw_init(&w);
	jw_bytes(&w, s, n);
	char *mine = take(&w);
	json_t *v = json_stringn(s, n);
	assert_non_null(v);
	char *theirs = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	assert_string_equal(mine, theirs);
	free(theirs);
	json_decref(v);
	free(mine);
}

static void test_strings(void **state)
{
	(void)state;
	static const char *const cases[] = {
		"", "plain", "quote \" and backslash \\", "slash / stays",
		"tab\tnew\nline\rcr\bbs\fff", "\x01\x1f\x7f", "caf\xc3\xa9",
		"\xe2\x82\xac euro", "\xf0\x9f\x98\x80 emoji", "\xe2\x80\xa8",
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		same_as_jansson(cases[i], strlen(cases[i]));
	same_as_jansson("nul\0inside", 10);
}

static void test_not_utf8(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"\xff", "caf\xe9", "\xc3", "\xe2\x82", "\xc0\x80" /* overlong */,
		"\xed\xa0\x80" /* surrogate */, "\xf4\x90\x80\x80" /* > 10FFFF */,
		"ok \xc3\xa9 then \xff",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct jw w;
		jw_init(&w);
		jw_str(&w, bad[i]);
		char *t = take(&w);
		json_t *v = json_loads(t, JSON_DECODE_ANY, NULL);
		assert_non_null(v);                      /* still readable */
		const char *back = json_string_value(v);
		assert_int_equal(strlen(back), strlen(bad[i]));
		for (size_t k = 0; back[k]; k++)
			assert_true((unsigned char)bad[i][k] < 0x80
			            ? back[k] == bad[i][k] : back[k] == '?');
		json_decref(v);
		free(t);
	}
}

static void test_numbers_and_nesting(void **state)
{
	(void)state;
	struct jw w;
	jw_init(&w);
	jw_open(&w, '{');
	jw_key(&w, "a");
	jw_int(&w, 0);
	jw_key(&w, "min");
	jw_int(&w, INT64_MIN);
	jw_key(&w, "max");
	jw_int(&w, INT64_MAX);
	jw_key(&w, "list");
	jw_open(&w, '[');
	jw_int(&w, -42);
	jw_null(&w);
	jw_bool(&w, 1);
	jw_bool(&w, 0);
	jw_open(&w, '{');
	jw_close(&w, '}');
	jw_open(&w, '[');
	jw_close(&w, ']');
	jw_raw(&w, "{\"x\":1}", 7);
	jw_close(&w, ']');
	jw_key(&w, "s");
	jw_str(&w, NULL);
	jw_close(&w, '}');
	char *t = take(&w);
	assert_string_equal(t, "{\"a\":0,\"min\":-9223372036854775808,"
	                    "\"max\":9223372036854775807,\"list\":[-42,null,"
	                    "true,false,{},[],{\"x\":1}],\"s\":null}");
	free(t);
}

static void test_big(void **state)
{
	(void)state;
	/* grows past its first buffer many times */
	size_t n = 1 << 20;
	char *s = malloc(n);
	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)('a' + i % 26);
	same_as_jansson(s, n);
	free(s);
}

/* an object of 300 keys and an array of 600 items: a comma before every
 * one but the first (a per-level counter of 8 bits once wrapped at 256) */
static void test_many_members(void **state)
{
	struct jw w;
	char key[16];
	(void)state;
	jw_init(&w);
	jw_open(&w, '{');
	for (int i = 0; i < 300; i++) {
		snprintf(key, sizeof key, "K%d", i);
		jw_kstr(&w, key, "v");
	}
	jw_key(&w, "list");
	jw_open(&w, '[');
	for (int i = 0; i < 600; i++)
		jw_int(&w, i);
	jw_close(&w, ']');
	jw_close(&w, '}');
	char *t = take(&w);
	json_error_t e;
	json_t *v = json_loads(t, 0, &e);
	assert_non_null(v);
	assert_int_equal(json_object_size(v), 301);
	assert_int_equal(json_array_size(json_object_get(v, "list")), 600);
	json_decref(v);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_not_utf8),
		cmocka_unit_test(test_numbers_and_nesting),
		cmocka_unit_test(test_big),
		cmocka_unit_test(test_many_members),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
