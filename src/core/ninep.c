/* ninep.c — the 9P2000 / .u / .L codec (ninep.h).  Hand-written: Debian
 * has no 9P server library.  Little-endian fields, strings as len[2] +
 * bytes; every read is checked against the message's own size. */
#include "core/ninep.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- decoding ---- */

struct rd {
	const uint8_t *p;
	size_t len, off;
	int short_by;            /* a field ran past the end */
	const char *field;       /* ... this one */
};

static int need(struct rd *r, size_t n, const char *field)
{
	if (r->short_by)
		return 0;
	if (r->len - r->off < n) {
		r->short_by = 1;
		r->field = field;
		return 0;
	}
	return 1;
}

static uint8_t get8(struct rd *r, const char *f)
{
	if (!need(r, 1, f))
		return 0;
	return r->p[r->off++];
}

static uint16_t get16(struct rd *r, const char *f)
{
	if (!need(r, 2, f))
		return 0;
	uint16_t v = (uint16_t)(r->p[r->off] | r->p[r->off + 1] << 8);
	r->off += 2;
	return v;
}

static uint32_t get32(struct rd *r, const char *f)
{
	if (!need(r, 4, f))
		return 0;
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = v << 8 | r->p[r->off + (size_t)i];
	r->off += 4;
	return v;
}

static uint64_t get64(struct rd *r, const char *f)
{
	uint64_t lo = get32(r, f);
	uint64_t hi = get32(r, f);
	return hi << 32 | lo;
}

static void getstr(struct rd *r, struct p9_str *s, const char *f)
{
	uint16_t n = get16(r, f);
	s->s = "";
	s->len = 0;
	if (!need(r, n, f))
		return;
	s->s = (const char *)r->p + r->off;
	s->len = n;
	r->off += n;
}

static const char *type_name(uint8_t t)
{
	static const struct { uint8_t t; const char *n; } names[] = {
		{P9_TSTATFS, "Tstatfs"}, {P9_TLOPEN, "Tlopen"},
		{P9_TLCREATE, "Tlcreate"}, {P9_TSYMLINK, "Tsymlink"},
		{P9_TMKNOD, "Tmknod"}, {P9_TRENAME, "Trename"},
		{P9_TREADLINK, "Treadlink"}, {P9_TGETATTR, "Tgetattr"},
		{P9_TSETATTR, "Tsetattr"}, {P9_TXATTRWALK, "Txattrwalk"},
		{P9_TXATTRCREATE, "Txattrcreate"}, {P9_TREADDIR, "Treaddir"},
		{P9_TFSYNC, "Tfsync"}, {P9_TLOCK, "Tlock"},
		{P9_TGETLOCK, "Tgetlock"}, {P9_TLINK, "Tlink"},
		{P9_TMKDIR, "Tmkdir"}, {P9_TRENAMEAT, "Trenameat"},
		{P9_TUNLINKAT, "Tunlinkat"}, {P9_TVERSION, "Tversion"},
		{P9_TAUTH, "Tauth"}, {P9_TATTACH, "Tattach"},
		{P9_TFLUSH, "Tflush"}, {P9_TWALK, "Twalk"}, {P9_TOPEN, "Topen"},
		{P9_TCREATE, "Tcreate"}, {P9_TREAD, "Tread"},
		{P9_TWRITE, "Twrite"}, {P9_TCLUNK, "Tclunk"},
		{P9_TREMOVE, "Tremove"}, {P9_TSTAT, "Tstat"},
		{P9_TWSTAT, "Twstat"},
	};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (names[i].t == t)
			return names[i].n;
	return NULL;
}

long p9_frame_len(const uint8_t *buf, size_t avail, uint32_t msize,
                  char *err, size_t errlen)
{
	if (avail < 4)
		return 0;
	uint32_t size = (uint32_t)buf[0] | (uint32_t)buf[1] << 8 |
	                (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 24;
	if (size < P9_HDR) {
		snprintf(err, errlen, "message size %u is below the 7-byte "
		         "header", size);
		return -EMSGSIZE;
	}
	if (size > msize) {
		snprintf(err, errlen, "message size %u is over msize %u", size,
		         msize);
		return -EMSGSIZE;
	}
	return (long)size;
}

/* The fields of the messages both families share (9P2000 and .u, and
 * those .L keeps); 1 if t is one of them. */
static int decode_classic(struct rd *r, int dialect, struct p9_msg *m)
{
	int ext = dialect != P9_2000;

	switch (m->type) {
	case P9_TVERSION:
		m->msize = get32(r, "msize");
		getstr(r, &m->version, "version");
		return 1;
	case P9_TAUTH:
		m->afid = get32(r, "afid");
		getstr(r, &m->uname, "uname");
		getstr(r, &m->aname, "aname");
		m->n_uname = ext ? get32(r, "n_uname") : P9_NONUNAME;
		return 1;
	case P9_TATTACH:
		m->fid = get32(r, "fid");
		m->afid = get32(r, "afid");
		getstr(r, &m->uname, "uname");
		getstr(r, &m->aname, "aname");
		m->n_uname = ext ? get32(r, "n_uname") : P9_NONUNAME;
		return 1;
	case P9_TFLUSH:
		m->oldtag = get16(r, "oldtag");
		return 1;
	case P9_TWALK:
		m->fid = get32(r, "fid");
		m->newfid = get32(r, "newfid");
		m->nwname = get16(r, "nwname");
		for (int i = 0; i < m->nwname && i < P9_MAXWELEM; i++)
			getstr(r, &m->wname[i], "wname");
		return 1;
	case P9_TOPEN:
		m->fid = get32(r, "fid");
		m->mode = get8(r, "mode");
		return 1;
	case P9_TCREATE:
		m->fid = get32(r, "fid");
		getstr(r, &m->name, "name");
		m->perm = get32(r, "perm");
		m->mode = get8(r, "mode");
		if (dialect == P9_2000U)
			getstr(r, &m->ext, "extension");
		return 1;
	case P9_TREAD:
		m->fid = get32(r, "fid");
		m->offset = get64(r, "offset");
		m->count = get32(r, "count");
		return 1;
	case P9_TWRITE:
		m->fid = get32(r, "fid");
		m->offset = get64(r, "offset");
		m->count = get32(r, "count");
		if (need(r, m->count, "data")) {
			m->data = r->p + r->off;
			r->off += m->count;
		}
		return 1;
	case P9_TCLUNK:
	case P9_TREMOVE:
	case P9_TSTAT:
		m->fid = get32(r, "fid");
		return 1;
	case P9_TWSTAT: {
		m->fid = get32(r, "fid");
		uint16_t n = get16(r, "stat size");
		if (need(r, n, "stat")) {
			m->data = r->p + r->off;
			m->count = n;
			r->off += n;
		}
		return 1;
	}
	}
	return 0;
}

/* 9P2000.L's own messages; 1 if t is one jobd reads. */
static int decode_linux(struct rd *r, struct p9_msg *m)
{
	switch (m->type) {
	case P9_TSTATFS:
	case P9_TREADLINK:
		m->fid = get32(r, "fid");
		return 1;
	case P9_TFSYNC:
		m->fid = get32(r, "fid");
		if (r->len - r->off >= 4)      /* datasync[4], newer kernels */
			(void)get32(r, "datasync");
		return 1;
	case P9_TLOPEN:
		m->fid = get32(r, "fid");
		m->flags = get32(r, "flags");
		return 1;
	case P9_TLCREATE:
		m->fid = get32(r, "fid");
		getstr(r, &m->name, "name");
		m->flags = get32(r, "flags");
		m->perm = get32(r, "mode");
		m->gid = get32(r, "gid");
		return 1;
	case P9_TMKDIR:
		m->fid = get32(r, "dfid");
		getstr(r, &m->name, "name");
		m->perm = get32(r, "mode");
		m->gid = get32(r, "gid");
		return 1;
	case P9_TGETATTR:
		m->fid = get32(r, "fid");
		m->mask = get64(r, "request_mask");
		return 1;
	case P9_TSETATTR:
		m->fid = get32(r, "fid");
		m->valid = get32(r, "valid");
		m->perm = get32(r, "mode");
		(void)get32(r, "uid");
		m->gid = get32(r, "gid");
		m->size = get64(r, "size");
		for (int i = 0; i < 4; i++)
			(void)get64(r, "times");
		return 1;
	case P9_TXATTRWALK:
		m->fid = get32(r, "fid");
		m->newfid = get32(r, "newfid");
		getstr(r, &m->name, "name");
		return 1;
	case P9_TREADDIR:
		m->fid = get32(r, "fid");
		m->offset = get64(r, "offset");
		m->count = get32(r, "count");
		return 1;
	case P9_TUNLINKAT:
		m->fid = get32(r, "dirfd");
		getstr(r, &m->name, "name");
		m->flags = get32(r, "flags");
		return 1;
	}
	return 0;
}

int p9_decode(const uint8_t *buf, size_t len, int dialect, struct p9_msg *m,
              char *err, size_t errlen)
{
	struct rd r = {.p = buf, .len = len};

	memset(m, 0, sizeof *m);
	m->tag = P9_NOTAG;
	if (len < P9_HDR) {
		snprintf(err, errlen, "message of %zu bytes is shorter than the "
		         "7-byte header", len);
		return -EBADMSG;
	}
	uint32_t size = get32(&r, "size");
	m->type = get8(&r, "type");
	m->tag = get16(&r, "tag");
	if (size != len) {
		snprintf(err, errlen, "size field %u does not match the message's "
		         "%zu bytes", size, len);
		return -EBADMSG;
	}
	const char *tn = type_name(m->type);
	int known = decode_classic(&r, dialect, m) ||
	            (dialect == P9_2000L && decode_linux(&r, m));
	if (!known) {
		if (tn)
			snprintf(err, errlen, "%s (type %u) is not served in %s", tn,
			         m->type, p9_dialect_name(dialect));
		else
			snprintf(err, errlen, "unknown message type %u", m->type);
		return -EOPNOTSUPP;
	}
	if (r.short_by) {
		snprintf(err, errlen, "%s: message truncated in field '%s'", tn,
		         r.field);
		return -EBADMSG;
	}
	if (m->type == P9_TWALK && m->nwname > P9_MAXWELEM) {
		snprintf(err, errlen, "Twalk: %u names, at most %d allowed",
		         m->nwname, P9_MAXWELEM);
		return -EPROTO;
	}
	if (r.off != len) {
		snprintf(err, errlen, "%s: %zu bytes left after the last field",
		         tn, len - r.off);
		return -EBADMSG;
	}
	return 0;
}

int p9_dialect_of(const struct p9_str *v)
{
	static const char *const names[] = {"9P2000", "9P2000.u", "9P2000.L"};
	for (int d = P9_2000L; d >= P9_2000; d--)
		if (v->len == strlen(names[d]) &&
		    memcmp(v->s, names[d], v->len) == 0)
			return d;
	/* "9P2000.x": a dialect we do not know, answered as 9P2000 */
	if (v->len > 7 && memcmp(v->s, "9P2000.", 7) == 0)
		return P9_2000;
	return -1;
}

const char *p9_dialect_name(int dialect)
{
	switch (dialect) {
	case P9_2000U: return "9P2000.u";
	case P9_2000L: return "9P2000.L";
	default: return "9P2000";
	}
}

/* ---- encoding ---- */

void p9_buf_init(struct p9_buf *b, uint8_t *mem, size_t cap)
{
	b->p = mem;
	b->len = 0;
	b->cap = cap;
	b->overflow = 0;
}

static uint8_t *room(struct p9_buf *b, size_t n)
{
	if (b->overflow || b->cap - b->len < n) {
		b->overflow = 1;
		return NULL;
	}
	uint8_t *p = b->p + b->len;
	b->len += n;
	return p;
}

static void put_le(struct p9_buf *b, uint64_t v, int n)
{
	uint8_t *p = room(b, (size_t)n);
	for (int i = 0; p && i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void p9_put8(struct p9_buf *b, uint8_t v) { put_le(b, v, 1); }
void p9_put16(struct p9_buf *b, uint16_t v) { put_le(b, v, 2); }
void p9_put32(struct p9_buf *b, uint32_t v) { put_le(b, v, 4); }
void p9_put64(struct p9_buf *b, uint64_t v) { put_le(b, v, 8); }

void p9_putstrn(struct p9_buf *b, const char *s, size_t n)
{
	if (n > 0xFFFF) {
		b->overflow = 1;
		return;
	}
	p9_put16(b, (uint16_t)n);
	p9_putdata(b, s, n);
}

void p9_putstr(struct p9_buf *b, const char *s)
{
	p9_putstrn(b, s ? s : "", s ? strlen(s) : 0);
}

void p9_putqid(struct p9_buf *b, const struct p9_qid *q)
{
	p9_put8(b, q->type);
	p9_put32(b, q->version);
	p9_put64(b, q->path);
}

void p9_putdata(struct p9_buf *b, const void *d, size_t n)
{
	uint8_t *p = room(b, n);
	if (p && n)
		memcpy(p, d, n);
}

size_t p9_room(const struct p9_buf *b)
{
	return b->overflow ? 0 : b->cap - b->len;
}

void p9_begin(struct p9_buf *b, uint8_t type, uint16_t tag)
{
	b->len = 0;
	b->overflow = 0;
	p9_put32(b, 0);
	p9_put8(b, type);
	p9_put16(b, tag);
}

long p9_end(struct p9_buf *b)
{
	if (b->overflow || b->len > 0xFFFFFFFFu)
		return -EMSGSIZE;
	uint32_t n = (uint32_t)b->len;
	for (int i = 0; i < 4; i++)
		b->p[i] = (uint8_t)(n >> (8 * i));
	return (long)n;
}

long p9_error(struct p9_buf *b, int dialect, uint16_t tag, int err,
              const char *text)
{
	char t[512];
	if (dialect == P9_2000L) {
		p9_begin(b, P9_RLERROR, tag);
		p9_put32(b, (uint32_t)err);
		return p9_end(b);
	}
	/* a text that would not fit is cut, never the reply lost */
	snprintf(t, sizeof t, "%s", text ? text : "error");
	p9_begin(b, P9_RERROR, tag);
	p9_putstr(b, t);
	if (dialect == P9_2000U)
		p9_put32(b, (uint32_t)err);
	return p9_end(b);
}

static size_t slen(const char *s) { return s ? strlen(s) : 0; }

size_t p9_stat_len(int dialect, const struct p9_stat *st)
{
	/* size type dev qid mode atime mtime length, 4 strings */
	size_t n = 2 + 2 + 4 + 13 + 4 + 4 + 4 + 8 + 8 +
	           slen(st->name) + slen(st->uid) + slen(st->gid) +
	           slen(st->muid);
	if (dialect == P9_2000U)
		n += 2 + 4 + 4 + 4;    /* extension "", n_uid n_gid n_muid */
	return n;
}

long p9_putstat(struct p9_buf *b, int dialect, const struct p9_stat *st)
{
	size_t n = p9_stat_len(dialect, st);
	if (n - 2 > 0xFFFF || p9_room(b) < n) {
		b->overflow = 1;
		return -EMSGSIZE;
	}
	p9_put16(b, (uint16_t)(n - 2));
	p9_put16(b, 0);                /* type */
	p9_put32(b, 0);                /* dev */
	p9_putqid(b, &st->qid);
	p9_put32(b, st->mode);
	p9_put32(b, st->atime);
	p9_put32(b, st->mtime);
	p9_put64(b, st->length);
	p9_putstr(b, st->name);
	p9_putstr(b, st->uid);
	p9_putstr(b, st->gid);
	p9_putstr(b, st->muid);
	if (dialect == P9_2000U) {
		p9_putstr(b, "");
		p9_put32(b, st->n_uid);
		p9_put32(b, st->n_gid);
		p9_put32(b, P9_NONUNAME);
	}
	return (long)n;
}

size_t p9_dirent_len(const char *name)
{
	return 13 + 8 + 1 + 2 + slen(name);
}

void p9_putdirent(struct p9_buf *b, const struct p9_qid *q, uint64_t off,
                  const char *name)
{
	p9_putqid(b, q);
	p9_put64(b, off);
	p9_put8(b, q->type == P9_QTDIR ? 4 : 8);   /* DT_DIR, DT_REG */
	p9_putstr(b, name);
}
