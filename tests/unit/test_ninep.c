/* test_ninep.c — the 9P codec (core/ninep.c): decoding each message of
 * the three dialects, bounds (truncated, oversized, trailing bytes, too
 * many walk names, unknown types), and the encoder's replies. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/ninep.h"

static uint8_t mem[8192];
static char err[256];

/* A request built with the encoder (requests and replies share the
 * layout): begin, fields, end. */
static struct p9_buf b;

static void begin(uint8_t type, uint16_t tag)
{
	p9_buf_init(&b, mem, sizeof mem);
	p9_begin(&b, type, tag);
}

static int decode(int dialect, struct p9_msg *m)
{
	long n = p9_end(&b);
	assert_true(n > 0);
	return p9_decode(mem, (size_t)n, dialect, m, err, sizeof err);
}

static void test_version(void **state)
{
	struct p9_msg m;
	(void)state;
	begin(P9_TVERSION, P9_NOTAG);
	p9_put32(&b, 65536);
	p9_putstr(&b, "9P2000.L");
	assert_int_equal(decode(P9_2000, &m), 0);
	assert_int_equal(m.type, P9_TVERSION);
	assert_int_equal(m.tag, P9_NOTAG);
	assert_int_equal(m.msize, 65536);
	assert_int_equal(p9_dialect_of(&m.version), P9_2000L);

	struct p9_str s = {"9P2000", 6};
	assert_int_equal(p9_dialect_of(&s), P9_2000);
	s = (struct p9_str){"9P2000.u", 8};
	assert_int_equal(p9_dialect_of(&s), P9_2000U);
	s = (struct p9_str){"9P2000.x", 8};     /* unknown suffix: 9P2000 */
	assert_int_equal(p9_dialect_of(&s), P9_2000);
	s = (struct p9_str){"9P1", 3};
	assert_int_equal(p9_dialect_of(&s), -1);
}

static void test_attach_dialects(void **state)
{
	struct p9_msg m;
	(void)state;
	/* 9P2000: no n_uname */
	begin(P9_TATTACH, 1);
	p9_put32(&b, 7);
	p9_put32(&b, P9_NOFID);
	p9_putstr(&b, "glenda");
	p9_putstr(&b, "tok");
	assert_int_equal(decode(P9_2000, &m), 0);
	assert_int_equal(m.fid, 7);
	assert_int_equal(m.afid, P9_NOFID);
	assert_int_equal(m.aname.len, 3);
	assert_memory_equal(m.aname.s, "tok", 3);
	assert_int_equal(m.n_uname, P9_NONUNAME);
	/* the same bytes are short in .L, which wants n_uname */
	assert_int_equal(decode(P9_2000L, &m), -EBADMSG);
	assert_non_null(strstr(err, "n_uname"));
	/* .L: Linux sends "nobody" and ~0 */
	begin(P9_TATTACH, 1);
	p9_put32(&b, 7);
	p9_put32(&b, P9_NOFID);
	p9_putstr(&b, "nobody");
	p9_putstr(&b, "");
	p9_put32(&b, 0xFFFFFFFFu);
	assert_int_equal(decode(P9_2000L, &m), 0);
	assert_int_equal(m.n_uname, 0xFFFFFFFFu);
	/* and the .L bytes have 4 bytes too many for 9P2000 */
	assert_int_equal(decode(P9_2000, &m), -EBADMSG);
	assert_non_null(strstr(err, "4 bytes left"));
}

static void test_walk(void **state)
{
	struct p9_msg m;
	(void)state;
	begin(P9_TWALK, 3);
	p9_put32(&b, 1);
	p9_put32(&b, 2);
	p9_put16(&b, 2);
	p9_putstr(&b, "jobs");
	p9_putstr(&b, "hello");
	assert_int_equal(decode(P9_2000L, &m), 0);
	assert_int_equal(m.nwname, 2);
	assert_memory_equal(m.wname[1].s, "hello", 5);

	/* 17 names: refused (at most 16) */
	begin(P9_TWALK, 3);
	p9_put32(&b, 1);
	p9_put32(&b, 2);
	p9_put16(&b, 17);
	for (int i = 0; i < 17; i++)
		p9_putstr(&b, "a");
	assert_int_equal(decode(P9_2000L, &m), -EPROTO);
	assert_non_null(strstr(err, "at most 16"));
	assert_int_equal(m.tag, 3);     /* answered under its tag */

	/* names announced but missing */
	begin(P9_TWALK, 3);
	p9_put32(&b, 1);
	p9_put32(&b, 2);
	p9_put16(&b, 3);
	p9_putstr(&b, "a");
	assert_int_equal(decode(P9_2000, &m), -EBADMSG);
	assert_non_null(strstr(err, "truncated in field 'wname'"));
}

static void test_read_write(void **state)
{
	struct p9_msg m;
	(void)state;
	begin(P9_TWRITE, 9);
	p9_put32(&b, 4);
	p9_put64(&b, 0x0102030405060708ull);
	p9_put32(&b, 6);
	p9_putdata(&b, "start\n", 6);
	assert_int_equal(decode(P9_2000L, &m), 0);
	assert_int_equal(m.fid, 4);
	assert_true(m.offset == 0x0102030405060708ull);
	assert_int_equal(m.count, 6);
	assert_memory_equal(m.data, "start\n", 6);

	/* count larger than the data: truncated, not read past the end */
	begin(P9_TWRITE, 9);
	p9_put32(&b, 4);
	p9_put64(&b, 0);
	p9_put32(&b, 1000);
	p9_putdata(&b, "x", 1);
	assert_int_equal(decode(P9_2000L, &m), -EBADMSG);
	assert_non_null(strstr(err, "'data'"));

	begin(P9_TREAD, 10);
	p9_put32(&b, 4);
	p9_put64(&b, 100);
	p9_put32(&b, 8192);
	assert_int_equal(decode(P9_2000, &m), 0);
	assert_int_equal(m.count, 8192);
}

static void test_linux_messages(void **state)
{
	struct p9_msg m;
	(void)state;
	begin(P9_TGETATTR, 1);
	p9_put32(&b, 5);
	p9_put64(&b, P9_GETATTR_BASIC);
	assert_int_equal(decode(P9_2000L, &m), 0);
	assert_true(m.mask == P9_GETATTR_BASIC);
	/* not a message of 9P2000 */
	assert_int_equal(decode(P9_2000, &m), -EOPNOTSUPP);
	assert_non_null(strstr(err, "Tgetattr"));

	begin(P9_TREADDIR, 2);
	p9_put32(&b, 5);
	p9_put64(&b, 3);
	p9_put32(&b, 4000);
	assert_int_equal(decode(P9_2000L, &m), 0);
	assert_true(m.offset == 3);

	begin(P9_TLOPEN, 2);
	p9_put32(&b, 5);
	p9_put32(&b, 01001);        /* O_WRONLY|O_TRUNC */
	assert_int_equal(decode(P9_2000L, &m), 0);
	assert_int_equal(m.flags & 3, 1);

	begin(P9_TSETATTR, 2);
	p9_put32(&b, 5);
	p9_put32(&b, P9_SETATTR_SIZE);
	p9_put32(&b, 0);
	p9_put32(&b, 0);
	p9_put32(&b, 0);
	p9_put64(&b, 0);
	for (int i = 0; i < 4; i++)
		p9_put64(&b, 0);
	assert_int_equal(decode(P9_2000L, &m), 0);
	assert_int_equal(m.valid, P9_SETATTR_SIZE);

	/* Tfsync with and without datasync */
	begin(P9_TFSYNC, 2);
	p9_put32(&b, 5);
	assert_int_equal(decode(P9_2000L, &m), 0);
	begin(P9_TFSYNC, 2);
	p9_put32(&b, 5);
	p9_put32(&b, 0);
	assert_int_equal(decode(P9_2000L, &m), 0);

	begin(P9_TUNLINKAT, 2);
	p9_put32(&b, 5);
	p9_putstr(&b, "hello");
	p9_put32(&b, 0x200);
	assert_int_equal(decode(P9_2000L, &m), 0);
	assert_memory_equal(m.name.s, "hello", 5);
}

static void test_bad_frames(void **state)
{
	struct p9_msg m;
	uint8_t small[7] = {3, 0, 0, 0, P9_TCLUNK, 1, 0};
	uint8_t big[4] = {0xff, 0xff, 0xff, 0x7f};
	(void)state;
	assert_int_equal(p9_frame_len(small, 3, 8192, err, sizeof err), 0);
	assert_int_equal(p9_frame_len(small, 7, 8192, err, sizeof err),
	                 -EMSGSIZE);
	assert_non_null(strstr(err, "below the 7-byte header"));
	assert_int_equal(p9_frame_len(big, 4, 8192, err, sizeof err), -EMSGSIZE);
	assert_non_null(strstr(err, "over msize 8192"));

	/* a size field that does not match */
	begin(P9_TCLUNK, 4);
	p9_put32(&b, 1);
	long n = p9_end(&b);
	assert_int_equal(p9_decode(mem, (size_t)n - 1, P9_2000, &m, err,
	                           sizeof err), -EBADMSG);
	assert_non_null(strstr(err, "does not match"));
	assert_int_equal(p9_decode(mem, 5, P9_2000, &m, err, sizeof err),
	                 -EBADMSG);
	assert_non_null(strstr(err, "shorter than the 7-byte header"));

	/* unknown type: the tag is still read, so it can be answered */
	begin(99, 42);
	assert_int_equal(decode(P9_2000L, &m), -EOPNOTSUPP);
	assert_int_equal(m.tag, 42);
	assert_non_null(strstr(err, "unknown message type 99"));
	/* an R-message from a client is unknown as a request */
	begin(P9_RREAD, 43);
	assert_int_equal(decode(P9_2000L, &m), -EOPNOTSUPP);
}

static void test_encode(void **state)
{
	struct p9_qid q = {P9_QTDIR, 0, 0x1122334455667788ull};
	uint8_t small[20];
	(void)state;
	begin(P9_RATTACH, 5);
	p9_putqid(&b, &q);
	assert_int_equal(p9_end(&b), 7 + 13);
	assert_int_equal(mem[0], 20);
	assert_int_equal(mem[4], P9_RATTACH);
	assert_int_equal(mem[5], 5);
	assert_int_equal(mem[7], P9_QTDIR);
	assert_int_equal(mem[12], 0x88);

	/* a reply that does not fit is an error, never an overrun */
	p9_buf_init(&b, small, sizeof small);
	p9_begin(&b, P9_RREAD, 1);
	p9_put32(&b, 100);
	p9_putdata(&b, mem, 100);
	assert_int_equal(p9_end(&b), -EMSGSIZE);
	assert_int_equal(p9_room(&b), 0);

	/* errors per dialect */
	p9_buf_init(&b, mem, sizeof mem);
	assert_int_equal(p9_error(&b, P9_2000L, 3, ENOENT, "x"), 11);
	assert_int_equal(mem[4], P9_RLERROR);
	assert_int_equal(mem[7], ENOENT);
	long n = p9_error(&b, P9_2000, 3, ENOENT, "file not found");
	assert_int_equal(n, 7 + 2 + 14);
	assert_int_equal(mem[4], P9_RERROR);
	assert_memory_equal(mem + 9, "file not found", 14);
	assert_int_equal(p9_error(&b, P9_2000U, 3, ENOENT, "file not found"),
	                 7 + 2 + 14 + 4);
}

static void test_stat(void **state)
{
	struct p9_stat st = {
		.qid = {P9_QTFILE, 0, 9}, .mode = 0644, .mtime = 1000,
		.name = "cmd", .uid = "root", .gid = "root", .muid = "root",
	};
	(void)state;
	p9_buf_init(&b, mem, sizeof mem);
	long n = p9_putstat(&b, P9_2000, &st);
	assert_int_equal(n, (long)p9_stat_len(P9_2000, &st));
	assert_int_equal(mem[0] | mem[1] << 8, n - 2);
	assert_int_equal(p9_stat_len(P9_2000U, &st),
	                 p9_stat_len(P9_2000, &st) + 14);
	/* the .L directory entry */
	p9_buf_init(&b, mem, sizeof mem);
	p9_putdirent(&b, &st.qid, 4, "cmd");
	assert_int_equal(b.len, p9_dirent_len("cmd"));
	assert_int_equal(mem[21], 8);           /* DT_REG */
}

/* Every prefix and every one-byte corruption of a valid message decodes
 * or fails cleanly (the sanitizer build checks the reads). */
static void test_mutations(void **state)
{
	struct p9_msg m;
	uint8_t copy[64];
	(void)state;
	begin(P9_TWALK, 3);
	p9_put32(&b, 1);
	p9_put32(&b, 2);
	p9_put16(&b, 2);
	p9_putstr(&b, "jobs");
	p9_putstr(&b, "x");
	long n = p9_end(&b);
	for (long len = 0; len <= n; len++) {
		memcpy(copy, mem, (size_t)n);
		copy[0] = (uint8_t)len;
		(void)p9_decode(copy, (size_t)len, P9_2000L, &m, err, sizeof err);
	}
	for (long i = 4; i < n; i++)
		for (int v = 0; v < 256; v += 17) {
			memcpy(copy, mem, (size_t)n);
			copy[i] = (uint8_t)v;
			(void)p9_decode(copy, (size_t)n, P9_2000L, &m, err, sizeof err);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_attach_dialects),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_read_write),
		cmocka_unit_test(test_linux_messages),
		cmocka_unit_test(test_bad_frames),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_stat),
		cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
