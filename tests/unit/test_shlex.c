/* test_shlex.c — shell-word splitting, its errors, and quote/join round trips. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/shlex.h"

#define MAXW 8

struct split_case {
	const char *in;
	int n;
	const char *w[MAXW];
};

static const struct split_case cases[] = {
	{ "", 0, { NULL } },
	{ "   \t\n ", 0, { NULL } },
	{ "echo hello", 2, { "echo", "hello" } },
	{ "  a   b\tc\nd  ", 4, { "a", "b", "c", "d" } },
	{ "'a b' c", 2, { "a b", "c" } },
	{ "'$HOME \\n \"x\"'", 1, { "$HOME \\n \"x\"" } },
	{ "\"a b\" c", 2, { "a b", "c" } },
	{ "\"\\\\ \\\" \\$ \\`\"", 1, { "\\ \" $ `" } },
	{ "\"\\a\\n\\'\"", 1, { "\\a\\n\\'" } },       /* other \ kept */
	{ "\"a\\\nb\"", 1, { "ab" } },                    /* \newline in "" */
	{ "a\\ b", 1, { "a b" } },
	{ "\\'x\\'", 1, { "'x'" } },
	{ "\\\\", 1, { "\\" } },
	{ "a\\\nb c", 2, { "ab", "c" } },                 /* continuation */
	{ "a \\\n b", 2, { "a", "b" } },
	{ "''", 1, { "" } },
	{ "\"\"", 1, { "" } },
	{ "'' \"\" x", 3, { "", "", "x" } },
	{ "a''b", 1, { "ab" } },
	{ "a'b'\"c\"d", 1, { "abcd" } },
	{ "'it'\\''s'", 1, { "it's" } },
	{ "#not a comment", 3, { "#not", "a", "comment" } },
	{ "$HOME *.c ~ `x`", 4, { "$HOME", "*.c", "~", "`x`" } },
	{ "'multi\nline'", 1, { "multi\nline" } },
};

static void test_split_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char **argv = (char **)1;
		int argc = -1;
		char err[128] = "";
		int rc = shlex_split(cases[i].in, &argv, &argc, err, sizeof(err));

		if (rc != 0)
			fail_msg("case %zu <%s>: rc %d: %s", i, cases[i].in, rc, err);
		if (argc != cases[i].n)
			fail_msg("case %zu <%s>: %d words, want %d", i, cases[i].in,
				 argc, cases[i].n);
		for (int k = 0; k < argc; k++)
			assert_string_equal(argv[k], cases[i].w[k]);
		assert_null(argv[argc]);
		shlex_free(argv);
	}
}

static void expect_error(const char *in, const char *msg)
{
	char **argv = (char **)1;
	int argc = -1;
	char err[128] = "";

	assert_int_equal(shlex_split(in, &argv, &argc, err, sizeof(err)), -EINVAL);
	assert_null(argv);
	assert_int_equal(argc, 0);
	if (!strstr(err, msg))
		fail_msg("<%s>: error '%s' lacks '%s'", in, err, msg);
}

static void test_split_errors(void **state)
{
	(void)state;
	expect_error("'abc", "unterminated single quote at position 1");
	expect_error("ab 'c", "unterminated single quote at position 4");
	expect_error("a \"b", "unterminated double quote at position 3");
	expect_error("\"a\\\"", "unterminated double quote at position 1");
	expect_error("x \"it's\" 'y", "unterminated single quote at position 10");
	expect_error("abc\\", "trailing backslash");
	expect_error("\\", "trailing backslash");
	/* Words split before the error are freed (ASan checks). */
	expect_error("one two three 'four", "single quote");
	/* A NULL err buffer is allowed. */
	{
		char **argv;
		int argc;
		assert_int_equal(shlex_split("'", &argv, &argc, NULL, 0), -EINVAL);
	}
}

static void roundtrip(char *const *words, int n)
{
	char *joined = shlex_join(words);
	char **argv;
	int argc;
	char err[128];

	assert_non_null(joined);
	if (shlex_split(joined, &argv, &argc, err, sizeof(err)) != 0)
		fail_msg("join gave <%s>, split failed: %s", joined, err);
	assert_int_equal(argc, n);
	for (int k = 0; k < n; k++)
		assert_string_equal(argv[k], words[k]);
	shlex_free(argv);
	free(joined);

	for (int k = 0; k < n; k++) {
		char *q = shlex_quote(words[k]);
		assert_non_null(q);
		assert_int_equal(shlex_split(q, &argv, &argc, err, sizeof(err)), 0);
		assert_int_equal(argc, 1);
		assert_string_equal(argv[0], words[k]);
		shlex_free(argv);
		free(q);
	}
}

static void test_quote(void **state)
{
	char *q;

	(void)state;
	q = shlex_quote("plain-word_1.txt");
	assert_string_equal(q, "plain-word_1.txt");   /* safe: unquoted */
	free(q);
	q = shlex_quote("");
	assert_string_equal(q, "''");
	free(q);
	q = shlex_quote("a b");
	assert_string_equal(q, "'a b'");
	free(q);
	q = shlex_quote("it's");
	assert_string_equal(q, "'it'\\''s'");
	free(q);
	q = shlex_quote("#x");
	assert_string_equal(q, "'#x'");
	free(q);
	q = shlex_quote("~");
	assert_string_equal(q, "'~'");
	free(q);
}

static void test_join_fixed(void **state)
{
	char *words[] = { "echo", "", "a b", "it's", "\"q\"", "\\", "$HOME",
			  "tab\there", "new\nline", "'", "''", "*", NULL };
	char *none[] = { NULL };
	char *j;

	(void)state;
	roundtrip(words, 12);
	j = shlex_join(none);
	assert_string_equal(j, "");
	free(j);
	j = shlex_join((char *[]){ "ls", "-l", "my dir", NULL });
	assert_string_equal(j, "ls -l 'my dir'");
	free(j);
}

static void test_join_random(void **state)
{
	unsigned seed = 12345;
	(void)state;
	for (int round = 0; round < 2000; round++) {
		char buf[6][16];
		char *words[7];
		int n = rand_r(&seed) % 7;

		for (int k = 0; k < n; k++) {
			int len = rand_r(&seed) % 15;
			for (int c = 0; c < len; c++) {
				/* Bias towards the characters that matter. */
				static const char tricky[] = " \t\n'\"\\$`#*~a";
				buf[k][c] = rand_r(&seed) % 2
					? tricky[rand_r(&seed) % (sizeof(tricky) - 1)]
					: (char)(1 + rand_r(&seed) % 255);
			}
			buf[k][len] = '\0';
			words[k] = buf[k];
		}
		words[n] = NULL;
		roundtrip(words, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_cases),
		cmocka_unit_test(test_split_errors),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_join_fixed),
		cmocka_unit_test(test_join_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
