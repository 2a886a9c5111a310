/* fuzz_frame.c — libFuzzer target for core/frame.c.  Byte 0 picks the size
 * cap, byte 1 seeds the piece sizes; the rest is the stream.  Every pushed
 * piece is checked against a naive model: the same messages come out, in
 * order, NUL-terminated, and -EMSGSIZE exactly when a message exceeds max.
 *   clang -g -O1 -fsanitize=fuzzer,address -Isrc fuzz/fuzz_frame.c \
 *         src/core/frame.c -o /tmp/fz && /tmp/fz fuzz/corpus/frame */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/frame.h"

/* Would pushing p[0..n) overflow, given `open` bytes already pending?
 * Updates *open to what stays pending afterwards. */
static int model_push(const uint8_t *p, size_t n, size_t max, size_t *open)
{
	size_t cur = *open;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == FRAME_EOT) {
			if (cur > max)
				return 1;
			cur = 0;
		} else {
			cur++;
		}
	}
	if (cur > max)
		return 1;
	*open = cur;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct framebuf fb;
	size_t max, pos = 2, open = 0, next = 2;   /* next: start of model msg */
	unsigned seed;

	if (size < 2)
		return 0;
	max = data[0] % 64;
	seed = data[1];
	framebuf_init(&fb, max);
	while (pos < size) {
		size_t cut = 1 + (seed = seed * 1103515245u + 12345u) % 17;
		int overflow, rc;
		char *m;
		size_t len;

		if (cut > size - pos)
			cut = size - pos;
		overflow = model_push(data + pos, cut, max, &open);
		rc = framebuf_push(&fb, (const char *)data + pos, cut);
		if (overflow != (rc == -EMSGSIZE) || (!overflow && rc != 0))
			abort();
		if (overflow)
			break;
		pos += cut;
		while (framebuf_pop(&fb, &m, &len) == 1) {
			const uint8_t *e = memchr(data + next, FRAME_EOT, pos - next);
			if (!e || len != (size_t)(e - (data + next)) ||
			    memcmp(m, data + next, len) != 0 || m[len] != '\0')
				abort();
			next = (size_t)(e - data) + 1;
		}
		/* Nothing complete may be left behind. */
		if (memchr(data + next, FRAME_EOT, pos - next))
			abort();
	}
	framebuf_free(&fb);
	return 0;
}
