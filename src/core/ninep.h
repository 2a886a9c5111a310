/* ninep.h — a 9P2000 / 9P2000.u / 9P2000.L message codec: pure, no I/O.
 *
 * Written by hand: Debian packages no 9P server library (diod's libnpfs is
 * not shipped as a library, and the others are kernel or Go code).  The
 * decoder reads one whole message (its size field first) into struct
 * p9_msg, whose strings and data point into the caller's buffer; every
 * field is bounds-checked against the message's size, and a message that
 * is short, long, or of an unknown type is an error naming what is wrong.
 * The encoder builds replies into a fixed buffer of msize bytes; a reply
 * that does not fit is an error (-EMSGSIZE), never a write past it.
 * docs/9p.md describes the dialects jobd speaks. */
#ifndef JOBD_NINEP_H
#define JOBD_NINEP_H

#include <stddef.h>
#include <stdint.h>

#define P9_NOTAG 0xFFFFu
#define P9_NOFID 0xFFFFFFFFu
#define P9_NONUNAME 0xFFFFFFFFu
#define P9_MAXWELEM 16
#define P9_HDR 7                 /* size[4] type[1] tag[2] */
#define P9_IOHDR 24              /* room an Rread/Twrite needs besides data */
#define P9_MSIZE_MIN 256

enum p9_dialect { P9_2000 = 0, P9_2000U, P9_2000L };

enum p9_type {
	P9_TLERROR = 6, P9_RLERROR,
	P9_TSTATFS = 8, P9_RSTATFS,
	P9_TLOPEN = 12, P9_RLOPEN,
	P9_TLCREATE = 14, P9_RLCREATE,
	P9_TSYMLINK = 16, P9_RSYMLINK,
	P9_TMKNOD = 18, P9_RMKNOD,
	P9_TRENAME = 20, P9_RRENAME,
	P9_TREADLINK = 22, P9_RREADLINK,
	P9_TGETATTR = 24, P9_RGETATTR,
	P9_TSETATTR = 26, P9_RSETATTR,
	P9_TXATTRWALK = 30, P9_RXATTRWALK,
	P9_TXATTRCREATE = 32, P9_RXATTRCREATE,
	P9_TREADDIR = 40, P9_RREADDIR,
	P9_TFSYNC = 50, P9_RFSYNC,
	P9_TLOCK = 52, P9_RLOCK,
	P9_TGETLOCK = 54, P9_RGETLOCK,
	P9_TLINK = 70, P9_RLINK,
	P9_TMKDIR = 72, P9_RMKDIR,
	P9_TRENAMEAT = 74, P9_RRENAMEAT,
	P9_TUNLINKAT = 76, P9_RUNLINKAT,
	P9_TVERSION = 100, P9_RVERSION,
	P9_TAUTH = 102, P9_RAUTH,
	P9_TATTACH = 104, P9_RATTACH,
	P9_TERROR = 106, P9_RERROR,
	P9_TFLUSH = 108, P9_RFLUSH,
	P9_TWALK = 110, P9_RWALK,
	P9_TOPEN = 112, P9_ROPEN,
	P9_TCREATE = 114, P9_RCREATE,
	P9_TREAD = 116, P9_RREAD,
	P9_TWRITE = 118, P9_RWRITE,
	P9_TCLUNK = 120, P9_RCLUNK,
	P9_TREMOVE = 122, P9_RREMOVE,
	P9_TSTAT = 124, P9_RSTAT,
	P9_TWSTAT = 126, P9_RWSTAT,
};

/* qid types and mode bits */
#define P9_QTDIR 0x80
#define P9_QTFILE 0x00
#define P9_DMDIR 0x80000000u

/* Topen modes */
#define P9_OREAD 0
#define P9_OWRITE 1
#define P9_ORDWR 2
#define P9_OEXEC 3
#define P9_OTRUNC 0x10

/* Tgetattr / Rgetattr mask */
#define P9_GETATTR_BASIC 0x7ffull

/* Tsetattr valid bits */
#define P9_SETATTR_SIZE 0x8u

struct p9_qid {
	uint8_t type;
	uint32_t version;
	uint64_t path;
};

/* A string in the message: not NUL-terminated, s points into the buffer. */
struct p9_str {
	const char *s;
	uint16_t len;
};

/* One decoded request.  Only the fields of its type are set. */
struct p9_msg {
	uint8_t type;
	uint16_t tag;
	uint32_t fid, newfid, afid;
	uint32_t msize;              /* Tversion */
	struct p9_str version;       /* Tversion */
	struct p9_str uname, aname;  /* Tauth, Tattach */
	uint32_t n_uname;            /* .u and .L Tauth / Tattach */
	uint16_t oldtag;             /* Tflush */
	uint16_t nwname;             /* Twalk */
	struct p9_str wname[P9_MAXWELEM];
	uint8_t mode;                /* Topen, Tcreate */
	uint32_t flags;              /* Tlopen, Tlcreate, Tunlinkat */
	uint32_t perm;               /* Tcreate; Tlcreate, Tmkdir: mode */
	uint32_t gid;                /* Tlcreate, Tmkdir */
	struct p9_str name;          /* Tcreate, Tlcreate, Tmkdir, Tunlinkat,
	                                Txattrwalk */
	struct p9_str ext;           /* .u Tcreate */
	uint64_t offset;             /* Tread, Twrite, Treaddir */
	uint32_t count;              /* Tread, Twrite, Treaddir */
	const uint8_t *data;         /* Twrite: count bytes */
	uint64_t mask;               /* Tgetattr request_mask */
	uint32_t valid;              /* Tsetattr */
	uint64_t size;               /* Tsetattr */
};

/* The length of the message at the start of buf (avail bytes so far):
 * 0 when its size field is not complete yet, else its size; -EMSGSIZE
 * (err says why) when the size is below the header's or above msize. */
long p9_frame_len(const uint8_t *buf, size_t avail, uint32_t msize,
                  char *err, size_t errlen);

/* Decodes the whole message buf[0..len) (len = its size field) in the
 * given dialect.  0, or -EPROTO / -EBADMSG / -EOPNOTSUPP with err saying
 * what is wrong; m->type and m->tag are set whenever the header could be
 * read (so the error can be answered under the request's tag). */
int p9_decode(const uint8_t *buf, size_t len, int dialect, struct p9_msg *m,
              char *err, size_t errlen);

/* The dialect a Tversion string names: P9_2000, P9_2000U, P9_2000L, or -1
 * for an unknown one ("unknown" in Rversion).  Only the part up to a '.'
 * suffix that is not ours matters ("9P2000.x" is 9P2000). */
int p9_dialect_of(const struct p9_str *v);
const char *p9_dialect_name(int dialect);

/* ---- encoding ---- */

struct p9_buf {
	uint8_t *p;
	size_t len, cap;
	int overflow;                /* something did not fit */
};

void p9_buf_init(struct p9_buf *b, uint8_t *mem, size_t cap);
/* Starts a message of type and tag (its size is written by p9_end). */
void p9_begin(struct p9_buf *b, uint8_t type, uint16_t tag);
void p9_put8(struct p9_buf *b, uint8_t v);
void p9_put16(struct p9_buf *b, uint16_t v);
void p9_put32(struct p9_buf *b, uint32_t v);
void p9_put64(struct p9_buf *b, uint64_t v);
void p9_putstr(struct p9_buf *b, const char *s);   /* NULL as "" */
void p9_putstrn(struct p9_buf *b, const char *s, size_t n);
void p9_putqid(struct p9_buf *b, const struct p9_qid *q);
void p9_putdata(struct p9_buf *b, const void *d, size_t n);
/* Room left after the fields so far (0 once overflowed). */
size_t p9_room(const struct p9_buf *b);
/* Writes the size field; the message's length, or -EMSGSIZE. */
long p9_end(struct p9_buf *b);

/* The error reply of a dialect: Rlerror(errno) in .L; Rerror(text) in
 * 9P2000; Rerror(text, errno) in .u.  err is a positive errno. */
long p9_error(struct p9_buf *b, int dialect, uint16_t tag, int err,
              const char *text);

/* A directory entry, for stat (9P2000/.u) and readdir (.L). */
struct p9_stat {
	struct p9_qid qid;
	uint32_t mode;               /* permission bits | P9_DMDIR */
	uint32_t atime, mtime;       /* unix seconds */
	uint64_t length;
	const char *name, *uid, *gid, *muid;
	uint32_t n_uid, n_gid;
};
/* One stat structure (as in Rstat's stat[n] and a 9P2000 directory
 * read), with its own size[2] first; its length, or -EMSGSIZE. */
long p9_putstat(struct p9_buf *b, int dialect, const struct p9_stat *st);
/* The length p9_putstat would write. */
size_t p9_stat_len(int dialect, const struct p9_stat *st);
/* One Rreaddir entry: qid[13] offset[8] type[1] name[s]. */
size_t p9_dirent_len(const char *name);
void p9_putdirent(struct p9_buf *b, const struct p9_qid *q, uint64_t off,
                  const char *name);
#endif
