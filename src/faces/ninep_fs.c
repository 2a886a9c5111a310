/* ninep_fs.c — the 9P face's namespace (docs/9p.md):
 *
 *   /clone  /jobs/<name>/{ctl,cmd,log,schedule,status,runs/}
 *   /jobs/<name>/runs/<jid>/{stdout,stderr,status}  /targets/<t>/ctl
 *
 * A node is its kind and the names on its path; its qid path is a hash
 * of them, so the same file has the same qid in every session.  Jobs are
 * seen as `jobctl list` sees them: root and the daemon's user see all,
 * another user its own.  Directory reads come from a snapshot of the
 * names taken at offset 0 (a run listing is the `runs` op's). */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jid.h"
#include "faces/ninep_int.h"

static const char *const job_files[] = {
	"ctl", "cmd", "log", "schedule", "status", "runs", NULL,
};
static const uint8_t job_kinds[] = {
	NK_CTL, NK_CMD, NK_LOG, NK_SCHEDULE, NK_STATUS, NK_RUNS,
};
static const char *const run_files[] = {"stdout", "stderr", "status", NULL};
static const uint8_t run_kinds[] = {NK_STDOUT, NK_STDERR, NK_RSTATUS};

int nnode_isdir(const struct nnode *n)
{
	switch (n->kind) {
	case NK_ROOT: case NK_JOBS: case NK_JOB: case NK_RUNS: case NK_RUN:
	case NK_TARGETS: case NK_TARGET:
		return 1;
	}
	return 0;
}

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return (h ^ 0xff) * 0x100000001b3ull;
}

void nnode_qid(const struct nnode *n, struct p9_qid *q)
{
	uint64_t h = 0xcbf29ce484222325ull ^ n->kind;
	h = fnv(fnv(fnv(h, n->job), n->jid), n->target);
	q->type = nnode_isdir(n) ? P9_QTDIR : P9_QTFILE;
	q->version = 0;
	q->path = n->kind == NK_ROOT ? 0 : h;
}

const char *nnode_name(const struct nnode *n)
{
	switch (n->kind) {
	case NK_ROOT: return "/";
	case NK_CLONE: return "clone";
	case NK_JOBS: return "jobs";
	case NK_JOB: return n->job;
	case NK_RUN: return n->jid;
	case NK_TARGETS: return "targets";
	case NK_TARGET: return n->target;
	case NK_TCTL: return "ctl";
	}
	for (int i = 0; job_files[i]; i++)
		if (job_kinds[i] == n->kind)
			return job_files[i];
	for (int i = 0; run_files[i]; i++)
		if (run_kinds[i] == n->kind)
			return run_files[i];
	return "?";
}

static struct job *visible_job(struct engine *e, const struct nident *id,
                               const char *name)
{
	struct job *j = engine_job_find(e, name);
	if (j && (id->admin || j->owner_uid == id->uid))
		return j;
	return NULL;
}

static void parent_of(const struct nnode *from, struct nnode *to)
{
	static const uint8_t up[] = {
		[NK_ROOT] = NK_ROOT, [NK_CLONE] = NK_ROOT, [NK_JOBS] = NK_ROOT,
		[NK_JOB] = NK_JOBS, [NK_CTL] = NK_JOB, [NK_CMD] = NK_JOB,
		[NK_LOG] = NK_JOB, [NK_SCHEDULE] = NK_JOB, [NK_STATUS] = NK_JOB,
		[NK_RUNS] = NK_JOB, [NK_RUN] = NK_RUNS, [NK_STDOUT] = NK_RUN,
		[NK_STDERR] = NK_RUN, [NK_RSTATUS] = NK_RUN,
		[NK_TARGETS] = NK_ROOT, [NK_TARGET] = NK_TARGETS,
		[NK_TCTL] = NK_TARGET,
	};
	*to = *from;
	to->kind = up[from->kind];
	if (to->kind == NK_ROOT || to->kind == NK_JOBS || to->kind == NK_TARGETS)
		to->job[0] = to->target[0] = 0;
	if (to->kind != NK_RUN)
		to->jid[0] = 0;
}

static int child(const char *const *names, const uint8_t *kinds,
                 const char *name, struct nnode *to)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], name) == 0) {
			to->kind = kinds[i];
			return 0;
		}
	return -ENOENT;
}

int nnode_walk(struct engine *e, const struct nident *id,
               const struct nnode *from, const char *name, struct nnode *to)
{
	static const char *const root_names[] = {"clone", "jobs", "targets",
	                                         NULL};
	static const uint8_t root_kinds[] = {NK_CLONE, NK_JOBS, NK_TARGETS};
	static const char *const tctl[] = {"ctl", NULL};
	static const uint8_t tctl_kind[] = {NK_TCTL};

	if (strcmp(name, "..") == 0) {
		parent_of(from, to);
		return 0;
	}
	*to = *from;
	switch (from->kind) {
	case NK_ROOT:
		return child(root_names, root_kinds, name, to);
	case NK_JOBS:
		if (strlen(name) > NAME_MAX_LEN || !visible_job(e, id, name))
			return -ENOENT;
		snprintf(to->job, sizeof to->job, "%s", name);
		to->kind = NK_JOB;
		return 0;
	case NK_JOB:
		return child(job_files, job_kinds, name, to);
	case NK_RUNS:
		if (!jid_valid(name))
			return -ENOENT;
		snprintf(to->jid, sizeof to->jid, "%s", name);
		to->kind = NK_RUN;
		return 0;
	case NK_RUN:
		return child(run_files, run_kinds, name, to);
	case NK_TARGETS:
		if (strlen(name) > NAME_MAX_LEN || !queue_target(e, name))
			return -ENOENT;
		snprintf(to->target, sizeof to->target, "%s", name);
		to->kind = NK_TARGET;
		return 0;
	case NK_TARGET:
		return child(tctl, tctl_kind, name, to);
	}
	return -ENOENT;
}

int nnode_check(struct engine *e, const struct nident *id,
                const struct nnode *n)
{
	if (n->job[0] && !visible_job(e, id, n->job))
		return -ENOENT;
	if (n->target[0] && !queue_target(e, n->target))
		return -ENOENT;
	return 0;
}

/* ---- snapshots ---- */

void nfid_drop_snap(struct nfid *f)
{
	free(f->snap);
	f->snap = NULL;
	f->snap_len = 0;
	f->have_snap = 0;
	f->n_names = 0;
	f->dir_index = 0;
	f->name_pos = 0;
	f->dir_off = 0;
}

void nfid_set_names(struct nfid *f, char *names, size_t len, int n)
{
	nfid_drop_snap(f);
	f->snap = names;
	f->snap_len = len;
	f->n_names = n;
	f->have_snap = 1;
}

struct names {
	char *buf;
	size_t len, cap;
	int n, failed;
};

static void names_add(struct names *ns, const char *name)
{
	size_t l = strlen(name) + 1;
	if (ns->len + l > ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 256;
		while (cap < ns->len + l)
			cap *= 2;
		char *p = realloc(ns->buf, cap);
		if (!p) {
			ns->failed = 1;
			return;
		}
		ns->buf = p;
		ns->cap = cap;
	}
	memcpy(ns->buf + ns->len, name, l);
	ns->len += l;
	ns->n++;
}

static int names_done(struct names *ns, struct nfid *f)
{
	if (ns->failed) {
		free(ns->buf);
		return -ENOMEM;
	}
	nfid_set_names(f, ns->buf, ns->len, ns->n);
	return 0;
}

int nnode_list(struct engine *e, const struct nident *id, struct nfid *f)
{
	struct names ns = {0};
	const struct nnode *n = &f->n;
	struct job *j;
	struct target *t;

	switch (n->kind) {
	case NK_ROOT:
		names_add(&ns, "clone");
		names_add(&ns, "jobs");
		names_add(&ns, "targets");
		break;
	case NK_JOBS:
		for (int i = 0; (j = engine_job_at(e, i)); i++)
			if (id->admin || j->owner_uid == id->uid)
				names_add(&ns, j->name);
		break;
	case NK_JOB:
		for (int i = 0; job_files[i]; i++)
			names_add(&ns, job_files[i]);
		break;
	case NK_RUN:
		for (int i = 0; run_files[i]; i++)
			names_add(&ns, run_files[i]);
		break;
	case NK_TARGETS:
		for (int i = 0; (t = engine_target_at(e, i)); i++)
			names_add(&ns, t->name);
		break;
	case NK_TARGET:
		names_add(&ns, "ctl");
		break;
	}
	return names_done(&ns, f);
}

/* ---- attributes ---- */

static uint32_t node_mode(const struct nnode *n)
{
	switch (n->kind) {
	case NK_JOBS: case NK_JOB:
		return P9_DMDIR | 0755;     /* rmdir /jobs/NAME deletes it */
	case NK_CLONE: case NK_CTL: case NK_TCTL:
		return 0666;
	case NK_CMD: case NK_SCHEDULE:
		return 0644;
	}
	return nnode_isdir(n) ? P9_DMDIR | 0555 : 0444;
}

void nnode_stat(struct engine *e, const struct nnode *n, struct p9_stat *st)
{
	static char uname[64], gname[64];
	struct engine_stats es;
	struct job *j = n->job[0] ? engine_job_find(e, n->job) : NULL;
	uint32_t uid = j ? j->owner_uid : engine_uid(e);
	struct passwd *pw = getpwuid(uid);

	engine_stats(e, &es);
	memset(st, 0, sizeof *st);
	nnode_qid(n, &st->qid);
	st->mode = node_mode(n);
	st->mtime = (uint32_t)(es.started / 1000000);
	if (j && j->last_run > 0 && (n->kind == NK_LOG || n->kind == NK_STATUS ||
	                             n->kind == NK_RUNS))
		st->mtime = (uint32_t)(j->last_run / 1000000);
	st->atime = st->mtime;
	st->length = 0;             /* made when read: as /proc, size 0 */
	st->name = nnode_name(n);
	snprintf(uname, sizeof uname, "%s", pw ? pw->pw_name : "");
	if (!pw)
		snprintf(uname, sizeof uname, "%u", uid);
	snprintf(gname, sizeof gname, "%s", uname);
	st->uid = uname;
	st->gid = gname;
	st->muid = uname;
	st->n_uid = uid;
	st->n_gid = pw ? pw->pw_gid : uid;
}

/* ---- directory reads ---- */

/* The name of entry i of f's snapshot (NULL past the end). */
static const char *entry_at(struct nfid *f, int i)
{
	if (i < 0 || i >= f->n_names)
		return NULL;
	if (i != f->dir_index) {
		f->name_pos = 0;
		for (int k = 0; k < i; k++)
			f->name_pos += strlen(f->snap + f->name_pos) + 1;
		f->dir_index = i;
	}
	return f->snap + f->name_pos;
}

static void entry_next(struct nfid *f)
{
	f->name_pos += strlen(f->snap + f->name_pos) + 1;
	f->dir_index++;
}

static void serve_dir(struct nreq *r, struct nfid *f);

static void runs_listed(struct nreq *r, json_t *data, int err,
                        const char *msg)
{
	struct names ns = {0};
	json_t *runs = json_object_get(data, "runs"), *v;
	size_t i;
	if (err)
		return nreq_fail(r, err, msg);
	if (!r->f)
		return nreq_fail(r, EBADF, "fid clunked");
	/* oldest first, as ls sorts them anyway */
	for (i = json_array_size(runs); i-- > 0;)
		if ((v = json_object_get(json_array_get(runs, i), "jid")) &&
		    json_is_string(v))
			names_add(&ns, json_string_value(v));
	if (names_done(&ns, r->f) < 0)
		return nreq_fail(r, ENOMEM, "out of memory");
	serve_dir(r, r->f);
}

/* Takes the snapshot at offset 0 (a run listing asks the ops). */
static int dir_snapshot(struct nreq *r, struct nfid *f)
{
	if (r->offset != 0 && f->have_snap)
		return 0;
	if (f->n.kind == NK_RUNS) {
		r->done = runs_listed;
		nreq_dispatch(r, "runs", json_pack("{s:s, s:i}", "job", f->n.job,
		                                   "limit", 100));
		return 1;
	}
	if (nnode_list(r->cn->srv->e, &f->id, f) < 0) {
		nreq_fail(r, ENOMEM, "out of memory");
		return 1;
	}
	return 0;
}

static void entry_node(const struct nfid *f, const char *name,
                       struct nnode *c, struct engine *e)
{
	if (nnode_walk(e, &f->id, &f->n, name, c) < 0) {
		*c = f->n;          /* gone meanwhile: still listed, as read */
		c->kind = NK_RUN;
	}
}

static void serve_dir(struct nreq *r, struct nfid *f)
{
	struct engine *e = r->cn->srv->e;
	int dialect = r->cn->dialect;
	struct p9_buf b;
	uint32_t count = r->count;
	if (count > r->cn->msize - P9_IOHDR)
		count = r->cn->msize - P9_IOHDR;
	uint8_t *msg = nreq_buf(r, &b, count + P9_IOHDR);
	if (!msg)
		return nreq_fail(r, ENOMEM, "out of memory");
	int linux = r->type == P9_TREADDIR;
	int i;
	if (linux)
		i = r->offset > (uint64_t)f->n_names ? f->n_names : (int)r->offset;
	else if (r->offset == 0)
		i = 0;
	else if (r->offset == f->dir_off)
		i = f->dir_index;
	else {
		free(msg);
		return nreq_fail(r, EINVAL, "directory read at an offset it did "
		                 "not give");
	}
	p9_begin(&b, linux ? P9_RREADDIR : P9_RREAD, r->tag);
	p9_put32(&b, 0);
	size_t start = b.len, used = 0;
	const char *name;
	for (; (name = entry_at(f, i)); i++, entry_next(f)) {
		struct nnode c;
		struct p9_qid q;
		entry_node(f, name, &c, e);
		if (linux) {
			if (used + p9_dirent_len(name) > count)
				break;
			nnode_qid(&c, &q);
			p9_putdirent(&b, &q, (uint64_t)i + 1, name);
			used += p9_dirent_len(name);
		} else {
			struct p9_stat st;
			nnode_stat(e, &c, &st);
			st.name = name;
			if (used + p9_stat_len(dialect, &st) > count)
				break;
			p9_putstat(&b, dialect, &st);
			used += p9_stat_len(dialect, &st);
		}
	}
	if (!linux)
		f->dir_off = r->offset + used;
	uint32_t n = (uint32_t)(b.len - start);
	for (int k = 0; k < 4; k++)
		b.p[start - 4 + (size_t)k] = (uint8_t)(n >> (8 * k));
	nreq_reply(r, msg, p9_end(&b));
}

void ninep_read_dir(struct nreq *r, struct nfid *f)
{
	if (!dir_snapshot(r, f))
		serve_dir(r, f);
}

void ninep_readdir(struct nreq *r, struct nfid *f)
{
	if (!dir_snapshot(r, f))
		serve_dir(r, f);
}
