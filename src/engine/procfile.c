/* procfile.c — the proc files of running runs: <state_dir>/proc/<jid>,
 * JSON (jid, job, pid, pgid, pid_start, user, uid, started, command,
 * target), which exist exactly while the run's process does and give
 * recovery the pid when the store's pid update was not committed before
 * a crash.
 *
 * A proc file must never be seen half-written: it is written under a
 * hidden name and only then given the jid's name.  Creating and deleting
 * an inode per run is a large part of a run's cost on ext4, so up to
 * PROC_SPARES inodes are kept, each under a hidden name (.spare.N) and
 * with an open descriptor: a run's file is one pwrite to a free one, a
 * linkat giving it the jid's name as a second link, and at the end an
 * unlinkat of that name (no open, close, path walk or rename: a link and
 * an unlink are half the directory work of two renames).  A kept file is
 * never truncated to zero (ext4 flushes a file truncated to zero at
 * close): the new text overwrites the old from offset 0 and, when
 * shorter, is padded with spaces (JSON allows trailing white space) up to
 * a small slack, else cut with ftruncate.  Past PROC_SPARES running runs,
 * a run's file is a new inode whose hidden name is dropped once it has
 * the jid's.
 *
 * The text is written by core/jw (no jansson tree); the spec's "command"
 * is rendered once per spec text and cached (the same job's runs share
 * one spec). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/jid.h"
#include "core/jw.h"
#include "core/timefmt.h"
#include "engine/engine.h"
#include "engine/log.h"

#define PROC_SPARES 64          /* inodes kept, each with its descriptor */
#define PF_PAD_MAX 256          /* pad a shorter text by up to this much */
#define PF_CMD_CACHE 8          /* specs whose rendered command is kept */

struct pf_inode {
	int fd;
	int id;                 /* its hidden name: .spare.<id> */
	long len;               /* bytes in it */
	char jid[JID_LEN + 1];  /* while live: its second name */
};

struct procfiles {
	int dirfd;
	mode_t mode;            /* of new files: 0600, 0640 (statedir.h) */
	struct pf_inode spares[PROC_SPARES];  /* kept, free */
	int n_spares;
	struct pf_inode live[PROC_SPARES];    /* kept, named by a jid */
	int n_live;             /* n_spares + n_live <= PROC_SPARES */
	int next_id;
	struct jw w;            /* the text being rendered */
	struct {
		char *spec, *cmd;
	} cmd_cache[PF_CMD_CACHE];
	int cmd_next;
};

static struct procfiles *pf_get(struct engine *e)
{
	if (e->procfiles)
		return e->procfiles;
	struct procfiles *pf = calloc(1, sizeof *pf);
	if (!pf)
		return NULL;
	pf->dirfd = open(e->proc_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pf->dirfd < 0) {
		log_warn("cannot open the proc file directory %s: %s",
		         e->proc_dir, strerror(errno));
		free(pf);
		return NULL;
	}
	pf->mode = e->file_mode ? e->file_mode : 0600;
	e->procfiles = pf;
	return pf;
}

void procfile_close(struct engine *e)
{
	struct procfiles *pf = e->procfiles;
	if (!pf)
		return;
	for (int i = 0; i < pf->n_spares; i++)
		close(pf->spares[i].fd);
	for (int i = 0; i < pf->n_live; i++)
		close(pf->live[i].fd);
	for (int i = 0; i < PF_CMD_CACHE; i++) {
		free(pf->cmd_cache[i].spec);
		free(pf->cmd_cache[i].cmd);
	}
	jw_free(&pf->w);
	close(pf->dirfd);
	free(pf);
	e->procfiles = NULL;
}

/* ---- rendering ---- */

/* The spec's "command", rendered once per spec text. */
static const char *command_text(struct procfiles *pf, const char *spec)
{
	if (!spec)
		return "null";
	for (int i = 0; i < PF_CMD_CACHE; i++)
		if (pf->cmd_cache[i].spec && strcmp(pf->cmd_cache[i].spec, spec) == 0)
			return pf->cmd_cache[i].cmd;
	json_t *o = json_loads(spec, 0, NULL);
	json_t *cmd = json_object_get(o, "command");
	char *text = cmd ? json_dumps(cmd, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	char *key = text ? strdup(spec) : NULL;
	json_decref(o);
	if (!key) {
		free(text);
		return NULL;    /* not cacheable: the caller writes null */
	}
	int i = pf->cmd_next;
	pf->cmd_next = (i + 1) % PF_CMD_CACHE;
	free(pf->cmd_cache[i].spec);
	free(pf->cmd_cache[i].cmd);
	pf->cmd_cache[i].spec = key;
	pf->cmd_cache[i].cmd = text;
	return text;
}

static int render(struct procfiles *pf, const struct arun *a)
{
	const struct run *r = &a->r;
	struct jw *w = &pf->w;
	char ts[40];
	const char *cmd = command_text(pf, r->spec);

	time_format_utc(ts, sizeof ts, r->time_started);
	jw_reset(w);            /* its buffer is kept from run to run */
	jw_open(w, '{');
	jw_kstr(w, "jid", r->jid);
	jw_kstr(w, "job", r->job);
	jw_kint(w, "pid", r->pid);
	jw_kint(w, "pgid", r->pid);
	jw_kint(w, "pid_start", r->pid_start);
	jw_kstr(w, "user", r->user ? r->user : "");
	jw_kint(w, "uid", r->uid);
	jw_kstr(w, "started", ts);
	jw_key(w, "command");
	if (!cmd)
		cmd = "null";
	jw_raw(w, cmd, strlen(cmd));
	jw_kstr(w, "target", r->target);
	jw_close(w, '}');
	return w->oom ? -ENOMEM : 0;
}

/* ---- inodes ---- */

static void spare_name(char *out, size_t n, int id)
{
	snprintf(out, n, ".spare.%d", id);
}

/* An inode to write to, under its hidden name: a free kept one, else a new
 * one (kept when there is room: *kept says which). */
static int inode_take(struct procfiles *pf, struct pf_inode *f, int *kept)
{
	char name[32];

	*kept = 1;
	if (pf->n_spares > 0) {
		*f = pf->spares[--pf->n_spares];
		return 0;
	}
	*kept = pf->n_live < PROC_SPARES;
	*f = (struct pf_inode){.fd = -1, .id = pf->next_id++, .len = 0};
	spare_name(name, sizeof name, f->id);
	/* the name may be a leftover of an earlier jobd: empty it */
	f->fd = openat(pf->dirfd, name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
	               pf->mode);
	return f->fd < 0 ? -errno : 0;
}

/* Forgets an inode: its hidden name and its descriptor. */
static void inode_drop(struct procfiles *pf, struct pf_inode *f)
{
	char name[32];

	spare_name(name, sizeof name, f->id);
	unlinkat(pf->dirfd, name, 0);
	close(f->fd);
	f->fd = -1;
}

/* Writes the rendered text (plus a newline) over the inode's old one. */
static int inode_fill(struct procfiles *pf, struct pf_inode *f)
{
	static char pad[PF_PAD_MAX + 1];     /* spaces, then the newline */
	if (!pad[0]) {
		memset(pad, ' ', PF_PAD_MAX);
		pad[PF_PAD_MAX] = '\n';
	}
	size_t text = pf->w.len, fill = 0;
	if (f->len > (long)text && f->len - (long)text <= PF_PAD_MAX)
		fill = (size_t)f->len - text - 1;
	struct iovec v[2] = {{pf->w.buf, text},
	                     {(char *)pad + PF_PAD_MAX - fill, fill + 1}};
	size_t len = text + fill + 1;
	errno = 0;
	if (pwritev(f->fd, v, 2, 0) != (ssize_t)len)
		return errno ? -errno : -EIO;
	if (f->len > (long)len && ftruncate(f->fd, (off_t)len) < 0)
		return -errno;
	f->len = (long)len;
	return 0;
}

/* Gives the inode the jid's name.  A file of that name may exist already
 * (an adopted run's, from before a restart): replaced atomically, and the
 * hidden name made again. */
static int inode_publish(struct procfiles *pf, struct pf_inode *f,
                         const char *jid)
{
	char name[32];

	spare_name(name, sizeof name, f->id);
	if (linkat(pf->dirfd, name, pf->dirfd, jid, 0) == 0)
		return 0;
	if (errno != EEXIST || renameat(pf->dirfd, name, pf->dirfd, jid) < 0)
		return -errno;
	return linkat(pf->dirfd, jid, pf->dirfd, name, 0) < 0 ? -errno : 0;
}

int procfile_write(struct engine *e, const struct arun *a)
{
	struct procfiles *pf = pf_get(e);
	struct pf_inode f = {.fd = -1};
	int rc, kept = 0;

	if (!pf)
		return -EIO;
	if ((rc = render(pf, a)) < 0)
		return rc;
	if ((rc = inode_take(pf, &f, &kept)) < 0 ||
	    (rc = inode_fill(pf, &f)) < 0 ||
	    (rc = inode_publish(pf, &f, a->r.jid)) < 0)
		goto error;
	if (!kept) {            /* more runs than kept inodes */
		inode_drop(pf, &f);
		return 0;
	}
	snprintf(f.jid, sizeof f.jid, "%s", a->r.jid);
	pf->live[pf->n_live++] = f;
	return 0;
error:
	log_warn("cannot write proc file %s/%s: %s", e->proc_dir, a->r.jid,
	         strerror(-rc));
	if (f.fd >= 0)
		inode_drop(pf, &f);
	return rc;
}

int procfile_read(struct engine *e, const char *jid, int *pid,
                  int64_t *pid_start)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", e->proc_dir, jid);
	json_t *o = json_load_file(path, 0, NULL);
	if (!o)
		return -ENOENT;
	*pid = (int)json_integer_value(json_object_get(o, "pid"));
	*pid_start = json_integer_value(json_object_get(o, "pid_start"));
	json_decref(o);
	return *pid > 0 ? 0 : -ENOENT;
}

void procfile_remove(struct engine *e, const char *jid)
{
	struct procfiles *pf = pf_get(e);

	int gone = 1;

	if (!pf)
		return;
	if (unlinkat(pf->dirfd, jid, 0) < 0 && errno != ENOENT) {
		log_warn("cannot remove proc file %s/%s: %s", e->proc_dir, jid,
		         strerror(errno));
		gone = 0;
	}
	for (int i = pf->n_live - 1; i >= 0; i--)
		if (strcmp(pf->live[i].jid, jid) == 0) {
			struct pf_inode f = pf->live[i];
			pf->live[i] = pf->live[--pf->n_live];
			if (gone)       /* free again */
				pf->spares[pf->n_spares++] = f;
			else            /* still named by the jid: not reused */
				inode_drop(pf, &f);
			return;
		}
}
