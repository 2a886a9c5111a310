/* ninep_int.h — what the files of the 9P face share (private to it).
 * ninep.c: listeners, connections, who the peer is, fids, requests,
 * reading and writing messages; ninep_msg.c: the messages (version,
 * auth, attach, flush, walk, clunk, open, stat ...); ninep_fs.c: the
 * namespace (nodes, qids, stat, directory entries); ninep_file.c: open,
 * read, write and remove of the files, through the ops table. */
#ifndef JOBD_NINEP_INT_H
#define JOBD_NINEP_INT_H

#include <stdint.h>
#include <uv.h>

#include "core/list.h"
#include "core/ninep.h"
#include "faces/ops.h"
#include "faces/peer.h"
#include "jobd.h"

#define NINEP_MSIZE (128u * 1024u)   /* the largest msize we agree to */
#define NINEP_MAX_REQS 64            /* requests in flight per connection,
                                        not counting log reads that wait */
#define NINEP_MAX_WAITING 256        /* log reads waiting per connection */
#define NINEP_FID_BUCKETS 64

enum nkind {
	NK_ROOT, NK_CLONE, NK_JOBS, NK_JOB, NK_CTL, NK_CMD, NK_LOG,
	NK_SCHEDULE, NK_STATUS, NK_RUNS, NK_RUN, NK_STDOUT, NK_STDERR,
	NK_RSTATUS, NK_TARGETS, NK_TARGET, NK_TCTL,
};

/* A node of the namespace: its kind and the names on its path. */
struct nnode {
	uint8_t kind;
	char job[NAME_MAX_LEN + 1];
	char jid[JID_LEN + 1];
	char target[NAME_MAX_LEN + 1];
};

/* Who a fid's requests act as (set at attach, inherited by walks). */
struct nident {
	uint32_t uid;
	int admin;
	int role;                /* enum call_role */
};

struct nfid {
	uint32_t no;
	struct nfid *next;       /* in its hash bucket */
	struct nnode n;
	struct nident id;
	int open;                /* opened: 1 + O_ACCMODE (0 = not open) */
	int busy;                /* requests of it in flight */
	/* a read's snapshot: the file's text, or a directory's names
	 * (NUL-separated, n_names of them) */
	char *snap;
	size_t snap_len;
	int have_snap;
	int n_names;
	int dir_index;           /* directory reads: the next entry */
	size_t name_pos;         /* ... its name in snap */
	uint64_t dir_off;        /* 9P2000: ... at this offset */
	int eof_seen;            /* log: one EOF given; the next read waits */
	char *created;           /* clone: the name made by the last write */
};

struct nsrv;

struct nconn {
	struct nsrv *srv;
	union {
		uv_stream_t stream;
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} h;
	struct link link;        /* srv->conns */
	char peer[80];
	struct in6_addr addr;    /* TCP: the peer's address (IPv4 mapped) */
	int listener;            /* 0 TCP loopback, 1 TCP other, 2 Unix */
	struct nident unix_id;   /* a Unix peer's credentials */
	int dialect;
	uint32_t msize;
	int versioned;
	uint8_t *in;             /* input, up to msize + what is buffered */
	size_t in_len, in_cap;
	int reading, closing, closed;
	int processing;          /* in conn_process */
	int close_after_write;   /* a frame error was answered: then close */
	int refs;                /* writes in flight */
	struct link reqs;        /* struct nreq.link: in flight */
	int n_reqs;
	int n_waiting;           /* ... of them log reads that wait */
	struct nfid *fids[NINEP_FID_BUCKETS];
	int n_fids;
};

struct nsrv {
	struct engine *e;
	struct peer_fails fails;          /* wrong attach names per address */
	uv_tcp_t tcp;
	uv_pipe_t unix_l;
	int tcp_on, unix_on;
	struct link conns;
	int n_conns;
};

struct nreq;
typedef void (*nreq_fn)(struct nreq *r, json_t *data, int err,
                        const char *msg);

/* One request in flight: a call into the ops table and what to answer. */
struct nreq {
	struct call c;           /* the ops call */
	struct nconn *cn;
	struct link link;        /* cn->reqs */
	uint8_t type;
	uint16_t tag;
	uint32_t fidno;
	struct nfid *f;          /* busy while this request runs */
	struct nident id;        /* who it acts as (its fid's) */
	uint64_t offset;
	uint32_t count;
	char *wdata;             /* Twrite: its data, NUL-terminated */
	size_t wlen;
	nreq_fn done;            /* the op answered */
	void (*sized)(struct nreq *r, uint64_t len);   /* ninep_size's */
	int flushed;             /* Tflush came: no reply */
	/* log: waiting for new lines */
	uv_timer_t *timer;
	struct run_watcher watch;
	int waiting;
};

/* ---- ninep.c ---- */
/* Sends a reply to r (b: its message, from p9_end) and frees r. */
void nreq_reply(struct nreq *r, uint8_t *msg, long len);
/* Answers r with the dialect's error and frees r. */
void nreq_fail(struct nreq *r, int err, const char *text);
/* A buffer for r's reply, cap bytes (at most msize). */
uint8_t *nreq_buf(struct nreq *r, struct p9_buf *b, size_t cap);
/* Dispatches op with data (taken) for r; r->done gets the answer. */
void nreq_dispatch(struct nreq *r, const char *op, json_t *data);
struct nfid *nfid_get(struct nconn *cn, uint32_t no);
struct nfid *nfid_new(struct nconn *cn, uint32_t no);
void nfid_free(struct nconn *cn, struct nfid *f);
/* Drops r without an answer (flushed; its connection went). */
void nreq_drop(struct nreq *r);
/* Drops every request in flight but self, and every fid. */
void ninep_drop_all(struct nconn *cn, struct nreq *self);
void ninep_conn_close(struct nconn *cn);

/* ---- ninep_msg.c ---- */
/* One decoded message of cn. */
void ninep_handle(struct nconn *cn, const struct p9_msg *m);
/* One that could not be decoded: an error under its tag. */
void ninep_bad_message(struct nconn *cn, const struct p9_msg *m, int rc,
                       const char *err);

/* ---- ninep_fs.c ---- */
int nnode_isdir(const struct nnode *n);
void nnode_qid(const struct nnode *n, struct p9_qid *q);
/* The child `name` of `from` as id sees it: 0, or -ENOENT. */
int nnode_walk(struct engine *e, const struct nident *id,
               const struct nnode *from, const char *name, struct nnode *to);
/* Whether the node still exists (a job deleted meanwhile: -ENOENT). */
int nnode_check(struct engine *e, const struct nident *id,
                const struct nnode *n);
/* A directory's names (not NK_RUNS: ninep_file.c asks the ops) into
 * f's snapshot; 0 or -ENOMEM. */
int nnode_list(struct engine *e, const struct nident *id, struct nfid *f);
/* The node's attributes (names point to static storage: use at once). */
void nnode_stat(struct engine *e, const struct nnode *n, struct p9_stat *st);
/* The name of the node (its last path element). */
const char *nnode_name(const struct nnode *n);
/* Sets f's snapshot to names (NUL-separated, taken). */
void nfid_set_names(struct nfid *f, char *names, size_t len, int n);
void nfid_drop_snap(struct nfid *f);
/* Directory reads from f's snapshot (9P2000 stat entries; .L dirents). */
void ninep_read_dir(struct nreq *r, struct nfid *f);
void ninep_readdir(struct nreq *r, struct nfid *f);

/* ---- ninep_file.c ---- */
/* Whether a node may be opened for writing. */
int nnode_writable(const struct nnode *n);
void ninep_read(struct nreq *r, struct nfid *f);
/* Makes f's text (as a read would) and calls r->sized with its length. */
void ninep_size(struct nreq *r, struct nfid *f);
void ninep_write(struct nreq *r, struct nfid *f);
/* Removes node n (only /jobs/NAME can be) with r->id. */
void ninep_remove(struct nreq *r, const struct nnode *n);
/* Stops r's wait for log lines (flush, close). */
void ninep_unwait(struct nreq *r);
#endif
