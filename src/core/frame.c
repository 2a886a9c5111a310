/* frame.c — the queue wire framing: messages ended by one EOT (0x04) byte.
 * Hand-written: a few dozen lines of byte handling, no library frames so.
 *
 * Layout of buf: [0, off) consumed, [off, len) unconsumed.  Two cursors keep
 * the work O(n) however the bytes are cut into pushes:
 *  - push scans only the new bytes, checking each message against max
 *    (msg_start = where the still-unfinished message began);
 *  - pop resumes its EOT search at `scanned`, never rescanning.
 * Consumed bytes are dropped lazily: push compacts only when the consumed
 * prefix is at least as large as what remains, or room is needed, so each
 * byte is moved O(1) times on average. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/frame.h"

void framebuf_init(struct framebuf *fb, size_t max)
{
	memset(fb, 0, sizeof(*fb));
	fb->max = max;
}

void framebuf_free(struct framebuf *fb)
{
	free(fb->buf);
	framebuf_init(fb, fb->max);
}

static void compact(struct framebuf *fb)
{
	size_t keep = fb->len - fb->off;

	if (fb->off == 0)
		return;
	memmove(fb->buf, fb->buf + fb->off, keep);
	fb->len = keep;
	fb->scanned -= fb->off;
	fb->msg_start -= fb->off;
	fb->off = 0;
}

static int reserve(struct framebuf *fb, size_t n)
{
	size_t ncap;
	char *nb;

	if (fb->off && (fb->off >= fb->len - fb->off || fb->cap - fb->len < n))
		compact(fb);
	if (fb->cap - fb->len >= n)
		return 0;
	if (n > SIZE_MAX / 2 - fb->len)
		return -ENOMEM;
	ncap = fb->cap ? fb->cap : 4096;
	while (ncap - fb->len < n)
		ncap *= 2;
	nb = realloc(fb->buf, ncap);
	if (!nb)
		return -ENOMEM;
	fb->buf = nb;
	fb->cap = ncap;
	return 0;
}

/* Checks every message that ends in, or is still open after, the new bytes
 * (which will land at offset fb->len).  Returns where the unfinished message
 * will start, or SIZE_MAX if some message exceeds max. */
static size_t check_sizes(const struct framebuf *fb, const char *data, size_t n)
{
	size_t start = fb->msg_start, base = fb->len, i = 0;
	const char *e;

	while (i < n && (e = memchr(data + i, FRAME_EOT, n - i))) {
		size_t at = base + (size_t)(e - data);
		if (at - start > fb->max)
			return SIZE_MAX;
		start = at + 1;
		i = (size_t)(e - data) + 1;
	}
	return base + n - start > fb->max ? SIZE_MAX : start;
}

int framebuf_push(struct framebuf *fb, const char *data, size_t n)
{
	size_t start = check_sizes(fb, data, n);
	size_t shift;
	int rc;

	if (start == SIZE_MAX)
		return -EMSGSIZE;
	shift = fb->off;
	rc = reserve(fb, n);
	if (rc < 0)
		return rc;
	shift -= fb->off;   /* how far compaction moved everything down */
	if (n)
		memcpy(fb->buf + fb->len, data, n);
	fb->len += n;
	fb->msg_start = start - shift;
	return 0;
}

int framebuf_pop(struct framebuf *fb, char **msg, size_t *len)
{
	size_t from = fb->scanned > fb->off ? fb->scanned : fb->off;
	char *e;

	if (from >= fb->len) {
		fb->scanned = fb->len;
		return 0;
	}
	e = memchr(fb->buf + from, FRAME_EOT, fb->len - from);
	if (!e) {
		fb->scanned = fb->len;
		return 0;
	}
	*e = '\0';   /* the EOT becomes the terminator: no copy */
	*msg = fb->buf + fb->off;
	*len = (size_t)(e - *msg);
	fb->off = (size_t)(e - fb->buf) + 1;
	fb->scanned = fb->off;
	return 1;
}
