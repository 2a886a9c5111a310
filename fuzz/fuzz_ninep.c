/* fuzz_ninep.c — libFuzzer target for core/ninep.c, the 9P decoder.
 * Byte 0 picks the dialect (mod 3) and the msize; the rest is a stream of
 * messages cut as the server cuts them (p9_frame_len, then p9_decode).
 * Checks: every string and data pointer lies inside its message; a
 * message that decodes is encoded again from its fields to the same bytes
 * (for the types re-encoded here), and error replies always fit.
 *   clang -g -O1 -fsanitize=fuzzer,address -D_GNU_SOURCE -Isrc \
 *         fuzz/fuzz_ninep.c src/core/ninep.c -o /tmp/fz && \
 *         /tmp/fz fuzz/corpus/ninep */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ninep.h"

static void inside(const uint8_t *msg, size_t len, const void *p, size_t n)
{
	const uint8_t *q = p;
	if (n && (q < msg || q + n > msg + len))
		abort();
}

static void str(struct p9_buf *b, const struct p9_str *s)
{
	p9_putstrn(b, s->s, s->len);
}

/* Re-encodes m; 0 when its type is not re-encoded here. */
static int encode(struct p9_buf *b, int d, const struct p9_msg *m)
{
	int ext = d != P9_2000;
	p9_begin(b, m->type, m->tag);
	switch (m->type) {
	case P9_TVERSION:
		p9_put32(b, m->msize);
		str(b, &m->version);
		return 1;
	case P9_TATTACH:
		p9_put32(b, m->fid);
		p9_put32(b, m->afid);
		str(b, &m->uname);
		str(b, &m->aname);
		if (ext)
			p9_put32(b, m->n_uname);
		return 1;
	case P9_TWALK:
		p9_put32(b, m->fid);
		p9_put32(b, m->newfid);
		p9_put16(b, m->nwname);
		for (int i = 0; i < m->nwname; i++)
			str(b, &m->wname[i]);
		return 1;
	case P9_TREAD:
	case P9_TREADDIR:
		if (m->type == P9_TREADDIR && d != P9_2000L)
			return 0;
		p9_put32(b, m->fid);
		p9_put64(b, m->offset);
		p9_put32(b, m->count);
		return 1;
	case P9_TWRITE:
		p9_put32(b, m->fid);
		p9_put64(b, m->offset);
		p9_put32(b, m->count);
		p9_putdata(b, m->data, m->count);
		return 1;
	case P9_TCLUNK:
	case P9_TREMOVE:
	case P9_TSTAT:
		p9_put32(b, m->fid);
		return 1;
	case P9_TFLUSH:
		p9_put16(b, m->oldtag);
		return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[P9_MSIZE_MIN * 256 + 64];
	struct p9_buf b;
	struct p9_msg m;
	char err[256];

	if (size < 1)
		return 0;
	int dialect = data[0] % 3;
	uint32_t msize = P9_MSIZE_MIN << (data[0] >> 2 & 7);
	size_t off = 1;
	while (off < size) {
		long len = p9_frame_len(data + off, size - off, msize, err,
		                        sizeof err);
		if (len < 0 && len != -EMSGSIZE)
			abort();
		if (len <= 0 || (size_t)len > size - off)
			break;
		const uint8_t *msg = data + off;
		off += (size_t)len;
		int rc = p9_decode(msg, (size_t)len, dialect, &m, err, sizeof err);
		/* whatever it was, an error reply under its tag fits */
		p9_buf_init(&b, out, P9_MSIZE_MIN);
		if (p9_error(&b, dialect, m.tag, EPROTO, err) < 0)
			abort();
		if (rc < 0) {
			if (rc != -EBADMSG && rc != -EPROTO && rc != -EOPNOTSUPP)
				abort();
			continue;
		}
		inside(msg, (size_t)len, m.version.s, m.version.len);
		inside(msg, (size_t)len, m.uname.s, m.uname.len);
		inside(msg, (size_t)len, m.aname.s, m.aname.len);
		inside(msg, (size_t)len, m.name.s, m.name.len);
		if (m.type == P9_TWRITE)
			inside(msg, (size_t)len, m.data, m.count);
		if (m.nwname > P9_MAXWELEM)
			abort();
		for (int i = 0; i < m.nwname; i++)
			inside(msg, (size_t)len, m.wname[i].s, m.wname[i].len);
		p9_buf_init(&b, out, sizeof out);
		if (encode(&b, dialect, &m)) {
			long n = p9_end(&b);
			if (n != len || memcmp(out, msg, (size_t)n) != 0)
				abort();
		}
	}
	return 0;
}
