/* ninep_msg.c — the 9P face's messages: the session (version, auth,
 * attach and who it acts as, flush, walk, clunk, remove) and those on an
 * existing fid (open, read, write, stat, getattr, setattr, statfs,
 * unlinkat ...), each answered here or handed to ninep_fs.c (directories)
 * and ninep_file.c (files' contents, through the ops table). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/log.h"
#include "faces/ninep_int.h"
#include "faces/peer.h"

/* ---- session messages ---- */

static void reply_empty(struct nreq *r, uint8_t type)
{
	struct p9_buf b;
	uint8_t *msg = nreq_buf(r, &b, 16);
	if (msg)
		p9_begin(&b, type, r->tag);
	nreq_reply(r, msg, msg ? p9_end(&b) : -ENOMEM);
}

static void reply_qid(struct nreq *r, uint8_t type, const struct nnode *n,
                      int iounit)
{
	struct p9_buf b;
	struct p9_qid q;
	uint8_t *msg = nreq_buf(r, &b, 64);
	nnode_qid(n, &q);
	if (msg) {
		p9_begin(&b, type, r->tag);
		p9_putqid(&b, &q);
		if (iounit)
			p9_put32(&b, r->cn->msize - P9_IOHDR);
	}
	nreq_reply(r, msg, msg ? p9_end(&b) : -ENOMEM);
}

static void do_version(struct nreq *r, const struct p9_msg *m)
{
	struct nconn *cn = r->cn;
	int d = p9_dialect_of(&m->version);
	uint32_t msize = m->msize < NINEP_MSIZE ? m->msize : NINEP_MSIZE;
	struct p9_buf b;

	if (msize < P9_MSIZE_MIN) {
		nreq_fail(r, EINVAL, "msize too small (at least 256)");
		return;
	}
	ninep_drop_all(cn, r);           /* a new session: the old one ends */
	cn->msize = msize;
	cn->dialect = d < 0 ? P9_2000 : d;
	cn->versioned = d >= 0;
	uint8_t *msg = nreq_buf(r, &b, 64);
	if (msg) {
		p9_begin(&b, P9_RVERSION, r->tag);
		p9_put32(&b, msize);
		p9_putstr(&b, d < 0 ? "unknown" : p9_dialect_name(d));
	}
	nreq_reply(r, msg, msg ? p9_end(&b) : -ENOMEM);
}

/* Who an attach acts as; 0, or -EACCES with why.  From loopback any
 * other name (diod's tools send "ctl" unless told) gets the read role. */
static int attach_ident(struct nconn *cn, const struct p9_msg *m,
                        struct nident *id, const char **why)
{
	struct engine *e = cn->srv->e;
	const char *tok = engine_config(e)->ninep_token;

	if (cn->listener == 2) {
		*id = cn->unix_id;
		return 0;
	}
	uint64_t now = uv_now(engine_loop(e));
	if (tok && *tok && m->aname.len &&
	    peer_fails_blocked(&cn->srv->fails, &cn->addr, now)) {
		*why = "attach refused: too many wrong attach names from this "
		       "address; try again later";
		return -EACCES;
	}
	if (tok && *tok && peer_secret_equal(m->aname.s, m->aname.len, tok)) {
		id->uid = engine_uid(e);
		id->admin = 1;
		id->role = ROLE_LOCAL;
		return 0;
	}
	/* a name that is not the token: counted where it could be a guess
	 * (diod's default "ctl" and "" from loopback are not) */
	if (tok && *tok && cn->listener == 1 && m->aname.len)
		peer_fails_add(&cn->srv->fails, &cn->addr, now);
	if (cn->listener == 0) {
		id->uid = engine_uid(e);
		id->admin = 1;
		id->role = ROLE_NINEP_READ;
		return 0;
	}
	log_warn("9P client %s: attach refused (%s)", cn->peer,
	         m->aname.len ? "wrong attach name" : "no attach name");
	*why = tok && *tok ? "attach refused: clients not on loopback must "
	       "attach with ninep_token as the name (mount -o aname=TOKEN)"
	       : "attach refused: clients not on loopback need ninep_token, "
	       "and none is configured";
	return -EACCES;
}

static void do_attach(struct nreq *r, const struct p9_msg *m)
{
	struct nconn *cn = r->cn;
	struct nident id;
	const char *why = NULL;
	if (nfid_get(cn, m->fid)) {
		nreq_fail(r, EBADF, "fid already in use");
		return;
	}
	if (attach_ident(cn, m, &id, &why) < 0) {
		nreq_fail(r, EACCES, why);
		return;
	}
	struct nfid *f = nfid_new(cn, m->fid);
	if (!f) {
		nreq_fail(r, ENOMEM, "out of memory");
		return;
	}
	f->id = id;
	f->n.kind = NK_ROOT;
	reply_qid(r, P9_RATTACH, &f->n, 0);
}

static void do_auth(struct nreq *r)
{
	nreq_fail(r, ENOENT, "no authentication required");
}

static void do_flush(struct nreq *r, const struct p9_msg *m)
{
	struct nconn *cn = r->cn;
	for (struct link *l = cn->reqs.next; l != &cn->reqs; l = l->next) {
		struct nreq *o = link_entry(l, struct nreq, link);
		if (o != r && o->tag == m->oldtag && !o->flushed) {
			nreq_drop(o);
			break;
		}
	}
	reply_empty(r, P9_RFLUSH);
}

static void do_walk(struct nreq *r, const struct p9_msg *m)
{
	struct nconn *cn = r->cn;
	struct engine *e = cn->srv->e;
	struct nfid *f = nfid_get(cn, m->fid);
	struct nnode n, next;
	struct p9_qid qids[P9_MAXWELEM];
	char name[NAME_MAX_LEN + 2];
	int i;

	if (!f) {
		nreq_fail(r, EBADF, "walk: unknown fid");
		return;
	}
	if (m->newfid != m->fid && nfid_get(cn, m->newfid)) {
		nreq_fail(r, EBADF, "walk: newfid already in use");
		return;
	}
	if (nnode_check(e, &f->id, &f->n) < 0) {
		nreq_fail(r, ENOENT, "file not found (removed)");
		return;
	}
	n = f->n;
	for (i = 0; i < m->nwname; i++) {
		const struct p9_str *w = &m->wname[i];
		if (w->len >= sizeof name || memchr(w->s, 0, w->len) ||
		    (snprintf(name, sizeof name, "%.*s", w->len, w->s),
		     nnode_walk(e, &f->id, &n, name, &next) < 0))
			break;
		n = next;
		nnode_qid(&n, &qids[i]);
	}
	if (i == 0 && m->nwname > 0) {
		nreq_fail(r, ENOENT, "file not found");
		return;
	}
	if (i == m->nwname) {
		struct nfid *nf = m->newfid == m->fid ? f : nfid_new(cn, m->newfid);
		if (!nf) {
			nreq_fail(r, ENOMEM, "out of memory");
			return;
		}
		nf->id = f->id;
		nf->n = n;
	}
	struct p9_buf b;
	uint8_t *msg = nreq_buf(r, &b, 16 + 13 * (size_t)i);
	if (msg) {
		p9_begin(&b, P9_RWALK, r->tag);
		p9_put16(&b, (uint16_t)i);
		for (int k = 0; k < i; k++)
			p9_putqid(&b, &qids[k]);
	}
	nreq_reply(r, msg, msg ? p9_end(&b) : -ENOMEM);
}

/* Drops the requests of fid f still in flight: it is going away. */
static void fid_quiesce(struct nconn *cn, struct nfid *f, struct nreq *self)
{
	for (struct link *l = cn->reqs.next, *next; l != &cn->reqs; l = next) {
		next = l->next;
		struct nreq *o = link_entry(l, struct nreq, link);
		if (o == self || o->f != f)
			continue;
		f->busy--;
		o->f = NULL;
		ninep_unwait(o);
		call_abandon(&o->c);
		nreq_fail(o, EBADF, "fid clunked while in use");
	}
}

static void do_clunk(struct nreq *r, const struct p9_msg *m, int remove)
{
	struct nconn *cn = r->cn;
	struct nfid *f = nfid_get(cn, m->fid);
	if (!f) {
		nreq_fail(r, EBADF, "unknown fid");
		return;
	}
	struct nnode n = f->n;
	struct nident id = f->id;
	fid_quiesce(cn, f, r);
	if (r->f == f) {
		r->f = NULL;
		f->busy--;
	}
	nfid_free(cn, f);
	if (!remove) {
		reply_empty(r, P9_RCLUNK);
		return;
	}
	r->id = id;             /* the removal acts as the fid did */
	ninep_remove(r, &n);
}

/* ---- files: open, stat ---- */

static int open_mode(const struct p9_msg *m)
{
	if (m->type == P9_TLOPEN)
		return (int)(m->flags & 3);
	return (m->mode & 3) == P9_OEXEC ? 0 : m->mode & 3;
}

static void do_open(struct nreq *r, const struct p9_msg *m, struct nfid *f)
{
	int acc = open_mode(m);
	if (f->open) {
		nreq_fail(r, EBADF, "fid already open");
		return;
	}
	if (nnode_check(r->cn->srv->e, &f->id, &f->n) < 0) {
		nreq_fail(r, ENOENT, "file not found (removed)");
		return;
	}
	if (acc != 0 && nnode_isdir(&f->n)) {
		nreq_fail(r, EISDIR, "is a directory");
		return;
	}
	if (acc != 0 && !nnode_writable(&f->n)) {
		nreq_fail(r, EACCES, "permission denied: the file is read-only");
		return;
	}
	if (acc == 0 && f->n.kind == NK_CLONE) {
		/* readable only for the name the last write made (docs/9p.md) */
		acc = 0;
	}
	f->open = 1 + acc;
	nfid_drop_snap(f);
	f->eof_seen = 0;
	reply_qid(r, m->type == P9_TLOPEN ? P9_RLOPEN : P9_ROPEN, &f->n, 1);
}

static void stat_sized(struct nreq *r, uint64_t len)
{
	struct nconn *cn = r->cn;
	struct p9_stat st;
	struct p9_buf b;
	if (!r->f)
		return nreq_fail(r, EBADF, "fid clunked");
	nnode_stat(cn->srv->e, &r->f->n, &st);
	st.length = len;
	size_t n = p9_stat_len(cn->dialect, &st);
	uint8_t *msg = nreq_buf(r, &b, n + 16);
	if (msg) {
		p9_begin(&b, P9_RSTAT, r->tag);
		p9_put16(&b, (uint16_t)n);
		p9_putstat(&b, cn->dialect, &st);
	}
	nreq_reply(r, msg, msg ? p9_end(&b) : -ENOMEM);
}

static void getattr_sized(struct nreq *r, uint64_t len)
{
	struct p9_stat st;
	struct p9_buf b;
	if (!r->f)
		return nreq_fail(r, EBADF, "fid clunked");
	nnode_stat(r->cn->srv->e, &r->f->n, &st);
	st.length = len;
	int dir = nnode_isdir(&r->f->n);
	uint8_t *msg = nreq_buf(r, &b, 200);
	if (msg) {
		p9_begin(&b, P9_RGETATTR, r->tag);
		p9_put64(&b, P9_GETATTR_BASIC);
		p9_putqid(&b, &st.qid);
		p9_put32(&b, (st.mode & 0777) | (dir ? S_IFDIR : S_IFREG));
		p9_put32(&b, st.n_uid);
		p9_put32(&b, st.n_gid);
		p9_put64(&b, dir ? 2 : 1);        /* nlink */
		p9_put64(&b, 0);                  /* rdev */
		p9_put64(&b, st.length);
		p9_put64(&b, 4096);               /* blksize */
		p9_put64(&b, (st.length + 511) / 512);
		p9_put64(&b, st.atime);
		p9_put64(&b, 0);
		p9_put64(&b, st.mtime);
		p9_put64(&b, 0);
		p9_put64(&b, st.mtime);           /* ctime */
		p9_put64(&b, 0);
		for (int i = 0; i < 4; i++)       /* btime, gen, data_version */
			p9_put64(&b, 0);
	}
	nreq_reply(r, msg, msg ? p9_end(&b) : -ENOMEM);
}

/* The log's size is its text's (tail -f polls the size); the other
 * files', made when read, are 0. */
static void do_stat(struct nreq *r, struct nfid *f, int linux)
{
	r->sized = linux ? getattr_sized : stat_sized;
	if (f->n.kind == NK_LOG)
		return ninep_size(r, f);
	r->sized(r, 0);
}

static void do_statfs(struct nreq *r)
{
	struct p9_buf b;
	uint8_t *msg = nreq_buf(r, &b, 80);
	if (msg) {
		p9_begin(&b, P9_RSTATFS, r->tag);
		p9_put32(&b, 0x01021997);         /* V9FS_MAGIC */
		p9_put32(&b, 4096);
		for (int i = 0; i < 6; i++)       /* blocks .. fsid */
			p9_put64(&b, 0);
		p9_put32(&b, NAME_MAX_LEN);
	}
	nreq_reply(r, msg, msg ? p9_end(&b) : -ENOMEM);
}

static void do_unlinkat(struct nreq *r, const struct p9_msg *m,
                        struct nfid *f)
{
	char name[NAME_MAX_LEN + 2];
	struct nnode n;
	if (m->name.len >= sizeof name || memchr(m->name.s, 0, m->name.len)) {
		nreq_fail(r, ENOENT, "file not found");
		return;
	}
	snprintf(name, sizeof name, "%.*s", m->name.len, m->name.s);
	if (nnode_walk(r->cn->srv->e, &f->id, &f->n, name, &n) < 0) {
		nreq_fail(r, ENOENT, "file not found");
		return;
	}
	ninep_remove(r, &n);
}

/* The messages that act on an existing fid. */
static void handle_fid(struct nreq *r, const struct p9_msg *m)
{
	struct nfid *f = nfid_get(r->cn, m->fid);
	if (!f) {
		nreq_fail(r, EBADF, "unknown fid (not attached, or clunked)");
		return;
	}
	r->f = f;
	r->id = f->id;
	f->busy++;
	r->offset = m->offset;
	r->count = m->count;
	int rd = f->open == 1 || f->open == 3, wr = f->open == 2 || f->open == 3;
	switch (m->type) {
	case P9_TOPEN:
	case P9_TLOPEN:
		return do_open(r, m, f);
	case P9_TREAD:
		if (!rd)
			return nreq_fail(r, EBADF, "fid not open for reading");
		return nnode_isdir(&f->n) ? ninep_read_dir(r, f)
		                          : ninep_read(r, f);
	case P9_TREADDIR:
		if (!rd || !nnode_isdir(&f->n))
			return nreq_fail(r, EBADF, "fid not an open directory");
		return ninep_readdir(r, f);
	case P9_TWRITE:
		if (!wr)
			return nreq_fail(r, EBADF, "fid not open for writing");
		r->wdata = malloc((size_t)m->count + 1);
		if (!r->wdata)
			return nreq_fail(r, ENOMEM, "out of memory");
		memcpy(r->wdata, m->data, m->count);
		r->wdata[m->count] = 0;
		r->wlen = m->count;
		return ninep_write(r, f);
	case P9_TSTAT:
		return do_stat(r, f, 0);
	case P9_TGETATTR:
		return do_stat(r, f, 1);
	case P9_TSTATFS:
		return do_statfs(r);
	case P9_TWSTAT:          /* truncation and the like: nothing to do */
		return reply_empty(r, P9_RWSTAT);
	case P9_TSETATTR:
		return reply_empty(r, P9_RSETATTR);
	case P9_TFSYNC:
		return reply_empty(r, P9_RFSYNC);
	case P9_TUNLINKAT:
		return do_unlinkat(r, m, f);
	case P9_TXATTRWALK:
		return nreq_fail(r, EOPNOTSUPP, "no extended attributes");
	case P9_TCREATE:
	case P9_TLCREATE:
	case P9_TMKDIR:
		return nreq_fail(r, EPERM, "files cannot be created here; write "
		                 "a job definition to /clone");
	}
	nreq_fail(r, EOPNOTSUPP, "operation not supported");
}

void ninep_handle(struct nconn *cn, const struct p9_msg *m)
{
	struct nreq *r = calloc(1, sizeof *r);
	if (!r) {
		ninep_conn_close(cn);
		return;
	}
	r->cn = cn;
	r->type = m->type;
	r->tag = m->tag;
	r->fidno = m->fid;
	link_insert_before(&cn->reqs, &r->link);
	cn->n_reqs++;
	if (m->type == P9_TVERSION)
		return do_version(r, m);
	if (!cn->versioned)
		return nreq_fail(r, EPROTO, "Tversion must come first");
	switch (m->type) {
	case P9_TAUTH: return do_auth(r);
	case P9_TATTACH: return do_attach(r, m);
	case P9_TFLUSH: return do_flush(r, m);
	case P9_TWALK: return do_walk(r, m);
	case P9_TCLUNK: return do_clunk(r, m, 0);
	case P9_TREMOVE: return do_clunk(r, m, 1);
	}
	handle_fid(r, m);
}

/* A message that could not be decoded is answered under its tag: its
 * framing was sound, so the connection goes on. */
void ninep_bad_message(struct nconn *cn, const struct p9_msg *m, int rc,
                       const char *err)
{
	struct nreq *r = calloc(1, sizeof *r);
	if (!r)
		return ninep_conn_close(cn);
	r->cn = cn;
	r->tag = m->tag;
	link_insert_before(&cn->reqs, &r->link);
	cn->n_reqs++;
	nreq_fail(r, rc == -EOPNOTSUPP ? EOPNOTSUPP : EPROTO, err);
}

