/* test_frame.c — EOT framing: splits at every byte, batches, empty
 * messages, the size cap, NUL-termination, big messages in pieces. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/frame.h"

static const char stream[] = "{\"type\":\"ping\"}\x04\x04" "hello world\x04"
			     "{\"a\":[1,2]}\x04" "tail";
static const char *const msgs[] = { "{\"type\":\"ping\"}", "", "hello world",
				    "{\"a\":[1,2]}" };
#define N_MSGS 4
#define STREAM_LEN (sizeof(stream) - 1)

/* Pops everything available, checking it against msgs[*k...]. */
static void pop_all(struct framebuf *fb, int *k)
{
	char *m;
	size_t len;

	while (framebuf_pop(fb, &m, &len) == 1) {
		assert_true(*k < N_MSGS);
		assert_int_equal(len, strlen(msgs[*k]));
		assert_memory_equal(m, msgs[*k], len);
		assert_int_equal(m[len], '\0');
		(*k)++;
	}
}

static void test_every_split(void **state)
{
	(void)state;
	/* Three pieces cut at every pair of points: covers every single cut
	 * (i == j) and EOTs landing at piece edges. */
	for (size_t i = 0; i <= STREAM_LEN; i++)
		for (size_t j = i; j <= STREAM_LEN; j++) {
			struct framebuf fb;
			int k = 0;

			framebuf_init(&fb, 64);
			assert_int_equal(framebuf_push(&fb, stream, i), 0);
			pop_all(&fb, &k);
			assert_int_equal(framebuf_push(&fb, stream + i, j - i), 0);
			pop_all(&fb, &k);
			assert_int_equal(framebuf_push(&fb, stream + j, STREAM_LEN - j), 0);
			pop_all(&fb, &k);
			assert_int_equal(k, N_MSGS);
			framebuf_free(&fb);
		}
}

static void test_byte_at_a_time(void **state)
{
	struct framebuf fb;
	int k = 0;

	(void)state;
	framebuf_init(&fb, 64);
	for (size_t i = 0; i < STREAM_LEN; i++) {
		assert_int_equal(framebuf_push(&fb, stream + i, 1), 0);
		pop_all(&fb, &k);
	}
	assert_int_equal(k, N_MSGS);
	/* The unfinished "tail" completes later. */
	{
		char *m;
		size_t len;
		assert_int_equal(framebuf_pop(&fb, &m, &len), 0);
		assert_int_equal(framebuf_push(&fb, "\x04", 1), 0);
		assert_int_equal(framebuf_pop(&fb, &m, &len), 1);
		assert_string_equal(m, "tail");
		assert_int_equal(len, 4);
	}
	framebuf_free(&fb);
}

static void test_many_in_one_push(void **state)
{
	struct framebuf fb;
	char *data = malloc(20 * 1000), *p = data, *m, want[16];
	size_t len;

	(void)state;
	for (int i = 0; i < 1000; i++)
		p += sprintf(p, "msg%d", i) + 1, p[-1] = '\x04';
	framebuf_init(&fb, 16);
	assert_int_equal(framebuf_push(&fb, data, (size_t)(p - data)), 0);
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(framebuf_pop(&fb, &m, &len), 1);
		snprintf(want, sizeof(want), "msg%d", i);
		assert_string_equal(m, want);
		assert_int_equal(len, strlen(want));
	}
	assert_int_equal(framebuf_pop(&fb, &m, &len), 0);
	framebuf_free(&fb);
	free(data);
}

static void test_empty(void **state)
{
	struct framebuf fb;
	char *m = NULL;
	size_t len = 99;

	(void)state;
	framebuf_init(&fb, 8);
	assert_int_equal(framebuf_pop(&fb, &m, &len), 0);   /* nothing yet */
	assert_int_equal(framebuf_push(&fb, "", 0), 0);
	assert_int_equal(framebuf_pop(&fb, &m, &len), 0);
	assert_int_equal(framebuf_push(&fb, "\x04\x04", 2), 0);
	assert_int_equal(framebuf_pop(&fb, &m, &len), 1);
	assert_int_equal(len, 0);
	assert_string_equal(m, "");
	assert_int_equal(framebuf_pop(&fb, &m, &len), 1);
	assert_int_equal(len, 0);
	assert_int_equal(framebuf_pop(&fb, &m, &len), 0);
	framebuf_free(&fb);
}

static void test_size_cap(void **state)
{
	struct framebuf fb;
	char *m;
	size_t len;

	(void)state;
	framebuf_init(&fb, 10);
	/* Exactly max is fine, open or complete. */
	assert_int_equal(framebuf_push(&fb, "0123456789", 10), 0);
	assert_int_equal(framebuf_push(&fb, "x", 1), -EMSGSIZE);
	assert_int_equal(framebuf_push(&fb, "\x04" "abcdefghij", 11), 0);
	assert_int_equal(framebuf_pop(&fb, &m, &len), 1);
	assert_string_equal(m, "0123456789");
	/* The cap counts only the unfinished message, not the history. */
	assert_int_equal(framebuf_push(&fb, "k", 1), -EMSGSIZE);
	assert_int_equal(framebuf_push(&fb, "\x04", 1), 0);
	assert_int_equal(framebuf_pop(&fb, &m, &len), 1);
	assert_string_equal(m, "abcdefghij");
	framebuf_free(&fb);

	/* A complete over-long message inside one push is refused too,
	 * even with short ones around it. */
	framebuf_init(&fb, 10);
	assert_int_equal(framebuf_push(&fb, "a\x04" "0123456789X\x04" "b\x04", 16),
			 -EMSGSIZE);
	framebuf_free(&fb);
	framebuf_init(&fb, 10);
	assert_int_equal(framebuf_push(&fb, "01234", 5), 0);
	assert_int_equal(framebuf_push(&fb, "56789X\x04", 7), -EMSGSIZE);
	assert_int_equal(framebuf_push(&fb, "56789\x04", 6), 0);   /* unchanged */
	assert_int_equal(framebuf_pop(&fb, &m, &len), 1);
	assert_string_equal(m, "0123456789");
	framebuf_free(&fb);
}

static void test_pointer_stability(void **state)
{
	struct framebuf fb;
	char *m1, *m2;
	size_t l1, l2;

	(void)state;
	framebuf_init(&fb, 64);
	assert_int_equal(framebuf_push(&fb, "first\x04second\x04", 13), 0);
	assert_int_equal(framebuf_pop(&fb, &m1, &l1), 1);
	assert_int_equal(framebuf_pop(&fb, &m2, &l2), 1);
	/* Popping does not move bytes: the first message is still intact. */
	assert_string_equal(m1, "first");
	assert_string_equal(m2, "second");
	framebuf_free(&fb);
}

static void test_big_in_pieces(void **state)
{
	const size_t big = 16u << 20, piece = 64u << 10;
	struct framebuf fb;
	char *data = malloc(big + 1), *m;
	size_t len;

	(void)state;
	for (size_t i = 0; i < big; i++)
		data[i] = (char)('a' + i % 26);
	data[big] = '\x04';
	framebuf_init(&fb, big);
	for (size_t off = 0; off < big; off += piece) {
		assert_int_equal(framebuf_push(&fb, data + off, piece), 0);
		assert_int_equal(framebuf_pop(&fb, &m, &len), 0);
		/* Everything pushed so far has been searched once already. */
		assert_int_equal(fb.scanned, fb.len);
	}
	assert_int_equal(framebuf_push(&fb, data + big, 1), 0);
	assert_int_equal(framebuf_pop(&fb, &m, &len), 1);
	assert_int_equal(len, big);
	assert_memory_equal(m, data, big);
	assert_int_equal(m[big], '\0');
	/* One byte more than max is refused. */
	framebuf_free(&fb);
	framebuf_init(&fb, big - 1);
	for (size_t off = 0; off + piece < big; off += piece)
		assert_int_equal(framebuf_push(&fb, data + off, piece), 0);
	assert_int_equal(framebuf_push(&fb, data + big - piece, piece), -EMSGSIZE);
	framebuf_free(&fb);
	free(data);
}

static void test_random_pieces(void **state)
{
	/* Random messages cut into random pieces, with pops in between. */
	unsigned seed = 7;
	struct framebuf fb;
	char data[4096], *m;
	size_t lens[600], starts[600], n = 0, nmsg = 0, popped = 0, pos = 0, len;

	(void)state;
	while (n < sizeof(data) - 40 && nmsg < 600) {
		size_t l = (size_t)rand_r(&seed) % 30;
		starts[nmsg] = n;
		for (size_t i = 0; i < l; i++)
			data[n++] = (char)('A' + rand_r(&seed) % 26);
		data[n++] = '\x04';
		lens[nmsg++] = l;
	}
	framebuf_init(&fb, 32);
	while (pos < n) {
		size_t cut = 1 + (size_t)rand_r(&seed) % 50;
		if (cut > n - pos)
			cut = n - pos;
		assert_int_equal(framebuf_push(&fb, data + pos, cut), 0);
		pos += cut;
		while (rand_r(&seed) % 3 && framebuf_pop(&fb, &m, &len) == 1) {
			assert_int_equal(len, lens[popped]);
			assert_memory_equal(m, data + starts[popped], len);
			assert_int_equal(m[len], '\0');
			popped++;
		}
	}
	while (framebuf_pop(&fb, &m, &len) == 1)
		assert_int_equal(len, lens[popped++]);
	assert_int_equal(popped, nmsg);
	framebuf_free(&fb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_many_in_one_push),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_pointer_stability),
		cmocka_unit_test(test_big_in_pieces),
		cmocka_unit_test(test_random_pieces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
