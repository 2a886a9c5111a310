/* jobedit.c — one field of a job changed in place, for API jobs (the
 * store) and file jobs (their file, rewritten line by line), and names for
 * new jobs.  See jobedit.h. */
#include "engine/engine.h"
#include "engine/jobedit.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/log.h"

/* The longest line a job file may have (config.c: inih's 200-byte line
 * buffer less the newline and the NUL). */
#define INI_LINE_MAX 198
#define CONT_INDENT "    "

/* ---- reading job file lines ---- */

static const char *skip_ws(const char *s, const char *end)
{
	while (s < end && isspace((unsigned char)*s))
		s++;
	return s;
}

static const char *trim_end(const char *s, const char *end)
{
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	return end;
}

/* Whether the line [s, end) is a section header; *name, *len: the job's
 * name of a "[job NAME]" header (len 0 for other sections). */
static int line_header(const char *s, const char *end, const char **name,
                       size_t *len)
{
	const char *close;

	*name = s;
	*len = 0;
	s = skip_ws(s, end);
	if (s == end || *s != '[')
		return 0;
	if (!(close = memchr(s, ']', (size_t)(end - s))))
		return 0;
	s = skip_ws(s + 1, close);
	if (close - s > 4 && strncmp(s, "job", 3) == 0 &&
	    isspace((unsigned char)s[3])) {
		*name = skip_ws(s + 3, close);
		*len = (size_t)(trim_end(*name, close) - *name);
	}
	return 1;
}

static int line_is_job(const char *s, const char *end, const char *job)
{
	const char *name;
	size_t len;
	return line_header(s, end, &name, &len) && len == strlen(job) &&
	       memcmp(name, job, len) == 0;
}

/* blank or a comment: neither ends nor belongs to a value */
static int line_is_blank(const char *s, const char *end)
{
	s = skip_ws(s, end);
	return s == end || *s == ';' || *s == '#';
}

static int line_is_key(const char *s, const char *end, const char *key)
{
	size_t n = strlen(key);
	s = skip_ws(s, end);
	if ((size_t)(end - s) <= n || strncmp(s, key, n) != 0)
		return 0;
	s = skip_ws(s + n, end);
	return s < end && (*s == '=' || *s == ':');
}

/* ---- writing a value ---- */

struct text {
	char *p;
	size_t n, cap;
	int oom;
};

static void text_add(struct text *t, const char *s, size_t n)
{
	if (t->oom)
		return;
	if (t->n + n + 1 > t->cap) {
		size_t cap = (t->n + n + 1) * 2;
		char *p = realloc(t->p, cap);
		if (!p) {
			t->oom = 1;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->n, s, n);
	t->n += n;
	t->p[t->n] = '\0';
}

/* What the INI reader would not give back as it is. */
static int value_check(const char *v, char *err, size_t errlen)
{
	size_t n = strlen(v);

	if (strpbrk(v, "\r\n")) {
		snprintf(err, errlen, "the value has a line break, which a job "
		         "file cannot hold");
		return -EINVAL;
	}
	if (n && (isspace((unsigned char)v[0]) ||
	          isspace((unsigned char)v[n - 1]))) {
		snprintf(err, errlen, "the value begins or ends with white space, "
		         "which a job file drops");
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if (v[i] == ';' && (i == 0 || isspace((unsigned char)v[i - 1]))) {
			snprintf(err, errlen, "a ';' after white space starts a "
			         "comment in a job file (write it without the space "
			         "before it, or use shell = true and quote it)");
			return -EINVAL;
		}
	return 0;
}

/* `key = value`, on indented continuation lines where it is longer than a
 * line: each is joined to the value with one space (docs/jobfiles.md), so
 * it is cut at single spaces only, never before a word that would read as
 * a comment or a section. */
static int value_lines(struct text *t, const char *key, const char *v,
                       char *err, size_t errlen)
{
	size_t pre = strlen(key) + 3, p = 0, n = strlen(v);

	text_add(t, key, strlen(key));
	text_add(t, " = ", 3);
	while (n - p > INI_LINE_MAX - pre) {
		size_t k = 0;
		for (size_t i = p + INI_LINE_MAX - pre; i > p + 1 && !k; i--)
			if (v[i] == ' ' && v[i - 1] != ' ' && v[i + 1] != ' ' &&
			    !strchr(";#[", v[i + 1]))
				k = i;
		if (!k) {
			snprintf(err, errlen, "the value has a word longer than a job "
			         "file line (%d characters)", INI_LINE_MAX);
			return -EINVAL;
		}
		text_add(t, v + p, k - p);
		text_add(t, "\n" CONT_INDENT, 1 + strlen(CONT_INDENT));
		p = k + 1;
		pre = strlen(CONT_INDENT);
	}
	text_add(t, v + p, n - p);
	text_add(t, "\n", 1);
	return 0;
}

/* ---- rewriting a file ---- */

static int read_all(const char *path, struct text *t, char *err,
                    size_t errlen)
{
	char buf[8192];
	size_t n;
	FILE *f = fopen(path, "re");

	if (!f) {
		snprintf(err, errlen, "cannot read job file %s: %s", path,
		         strerror(errno));
		return -EIO;
	}
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		text_add(t, buf, n);
	int bad = ferror(f);
	fclose(f);
	if (bad || t->oom) {
		snprintf(err, errlen, "cannot read job file %s: %s", path,
		         bad ? "read error" : "out of memory");
		return bad ? -EIO : -ENOMEM;
	}
	text_add(t, "", 0);      /* a NUL even when empty */
	return 0;
}

/* The new text: `in` with [job JOB]'s key line (and its continuation
 * lines) replaced by `lines`, or `lines` added after the header. */
static int text_splice(const struct text *in, const char *job, const char *key,
                  const struct text *lines, struct text *out)
{
	const char *s = in->p, *end = in->p + in->n;
	int state = 0;           /* 0 before the section, 1 in it, 2 done */
	int cont = 0;            /* in the replaced key's continuation */

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end, *next = nl ? nl + 1 : end;
		const char *name;
		size_t len;

		if (state == 1 && line_header(s, le, &name, &len)) {
			text_add(out, lines->p, lines->n);   /* key absent: at the end */
			state = 2;
		}
		if (cont && !line_is_blank(s, le) &&
		    isspace((unsigned char)*s)) {
			s = next;        /* a continuation of the old value */
			continue;
		}
		if (cont && !line_is_blank(s, le))
			cont = 0;
		if (state == 1 && line_is_key(s, le, key)) {
			text_add(out, lines->p, lines->n);
			state = 2;
			cont = 1;
			s = next;
			continue;
		}
		text_add(out, s, (size_t)(next - s));
		if (!nl && next == end && state != 2)
			text_add(out, "\n", 1);
		if (state == 0 && line_is_job(s, le, job))
			state = 1;
		s = next;
	}
	if (state == 1)
		text_add(out, lines->p, lines->n);
	return state ? 0 : -ENOENT;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

/* Writes data over `path` atomically: a temporary file in its directory
 * (hidden: the loader skips names starting with '.'), its mode and owner
 * set to the file's, fsync'd, renamed over it. */
static int file_replace(const char *path, const struct text *data,
                        char *err, size_t errlen)
{
	char real[PATH_MAX], tmp[PATH_MAX + 32], dir[PATH_MAX];
	struct stat st;
	const char *why = NULL;
	int fd = -1, e = 0, made = 0;

	if (!realpath(path, real) || stat(real, &st) < 0) {
		e = errno;
		why = "cannot find it";
		goto error;
	}
	snprintf(dir, sizeof dir, "%s", real);
	char *slash = strrchr(dir, '/');
	*slash = '\0';
	snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir[0] ? dir : "/",
	         slash + 1);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		e = errno;
		why = "cannot create a temporary file beside it";
		goto error;
	}
	made = 1;
	if (fchown(fd, st.st_uid, st.st_gid) < 0) {
		e = errno;
		why = "cannot keep its owner";
		goto error;
	}
	if (fchmod(fd, st.st_mode & 07777) < 0) {
		e = errno;
		why = "cannot keep its mode";
		goto error;
	}
	for (size_t off = 0; off < data->n; ) {
		ssize_t w = write(fd, data->p + off, data->n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			e = errno;
			why = "write failed";
			goto error;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		e = errno;
		fd = -1;
		why = "write failed";
		goto error;
	}
	fd = -1;
	if (rename(tmp, real) < 0) {
		e = errno;
		why = "cannot rename the new file over it";
		goto error;
	}
	sync_dir(dir[0] ? dir : "/");
	return 0;
error:
	if (fd >= 0)
		close(fd);
	if (made)
		unlink(tmp);
	snprintf(err, errlen, "cannot rewrite job file %s: %s: %s", path, why,
	         strerror(e));
	return -EIO;
}

int jobfile_set_key(const char *path, const char *job, const char *key,
                    const char *value, char *err, size_t errlen)
{
	struct text in = {0}, lines = {0}, out = {0};
	int rc = value_check(value, err, errlen);

	if (rc == 0)
		rc = value_lines(&lines, key, value, err, errlen);
	if (rc == 0)
		rc = read_all(path, &in, err, errlen);
	if (rc == 0 && (rc = text_splice(&in, job, key, &lines, &out)) == -ENOENT) {
		snprintf(err, errlen, "job file %s has no [job %s] section any "
		         "more: reload first", path, job);
		rc = -EINVAL;
	}
	if (rc == 0 && (lines.oom || out.oom)) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
	}
	if (rc == 0)
		rc = file_replace(path, &out, err, errlen);
	free(in.p);
	free(lines.p);
	free(out.p);
	return rc;
}

/* ---- one field of a job ---- */

static int set_enabled(struct engine *e, struct job *j, json_t *value,
                       struct job **out, char *err, size_t errlen)
{
	if (!json_is_boolean(value)) {
		snprintf(err, errlen, "enabled: must be true or false");
		return -EINVAL;
	}
	*out = j;
	if (engine_job_set_enabled(e, j, json_is_true(value)) < 0) {
		snprintf(err, errlen, "cannot save job '%s': out of memory",
		         j->name);
		return -ENOMEM;
	}
	return 0;
}

/* The job as it would be with the field set: create's validation. */
static int job_with(struct engine *e, struct job *j, const char *field,
                    json_t *value, struct job **out, char *err, size_t errlen)
{
	json_t *def = job_to_json(j);
	struct job *nj = calloc(1, sizeof *nj);
	int rc = -ENOMEM;

	if (!def || !nj)
		goto error;
	if (strcmp(field, "argv") == 0)
		json_object_del(def, "command");
	if (json_object_set(def, field, value ? value : json_null()) < 0)
		goto error;
	rc = job_from_json(def, e->cfg.timezone, nj, err, errlen);
	if (rc == 0 && (rc = job_check_built(nj, err, errlen)) < 0)
		job_free(nj);
	if (rc < 0)
		goto error;
	json_decref(def);
	*out = nj;
	return 0;
error:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	free(nj);
	json_decref(def);
	return rc;
}

int engine_job_set(struct engine *e, const char *name, const char *field,
                   json_t *value, struct job **out, char *err, size_t errlen)
{
	struct job *j = engine_job_find(e, name), *nj;
	int command = strcmp(field, "command") == 0 ||
	              strcmp(field, "argv") == 0;
	int rc;

	if (!j) {
		snprintf(err, errlen, "job '%s' not found", name);
		return -ENOENT;
	}
	if (strcmp(field, "enabled") == 0)
		return set_enabled(e, j, value, out, err, errlen);
	if (!command && strcmp(field, "schedule") != 0) {
		snprintf(err, errlen, "unknown field '%s' (schedule, command, "
		         "argv, enabled)", field);
		return -EINVAL;
	}
	if (j->source && strstr(j->name, ".task#")) {
		snprintf(err, errlen, "job '%s' is a task of the service file %s: "
		         "edit that file and reload", j->name, j->source);
		return -EINVAL;
	}
	if ((rc = job_with(e, j, field, value, &nj, err, errlen)) < 0)
		return rc;
	if (j->source)
		rc = jobfile_set_key(j->source, j->name,
		                     command ? "command" : "schedule",
		                     command ? nj->command
		                     : nj->schedule ? nj->schedule : "",
		                     err, errlen);
	else if ((rc = engine_job_save(e, nj)) < 0)
		snprintf(err, errlen, "cannot save job '%s': out of memory", name);
	if (rc < 0) {
		job_free(nj);
		free(nj);
		return rc;
	}
	/* def_hash 0: the next reload takes the file's reading of it */
	engine_job_replace(e, nj);
	*out = nj;
	return 0;
}

/* ---- names for new jobs ---- */

static unsigned long names_given;  /* the highest N given out */

static void name_see(const char *s, size_t len, unsigned long *max)
{
	unsigned long n = 0;
	if (len < 5 || len > 13 || strncmp(s, "job-", 4) != 0)
		return;
	for (size_t i = 4; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return;
		n = n * 10 + (unsigned long)(s[i] - '0');
	}
	if (n > *max)
		*max = n;
}

/* Every [job job-N] header of the *.conf files of dir, loaded or not. */
static void names_in_files(const char *dir, unsigned long *max)
{
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;
	char *line = NULL, path[PATH_MAX];
	size_t cap = 0;

	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (de->d_name[0] == '.' || n < 6 ||
		    strcmp(de->d_name + n - 5, ".conf") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		FILE *f = fopen(path, "re");
		ssize_t len;
		while (f && (len = getline(&line, &cap, f)) >= 0) {
			const char *name;
			size_t nlen;
			if (line_header(line, line + len, &name, &nlen))
				name_see(name, nlen, max);
		}
		if (f)
			fclose(f);
	}
	free(line);
	if (d)
		closedir(d);
}

int engine_job_name_new(struct engine *e, char *out, size_t n)
{
	unsigned long max = names_given;
	for (int i = 0; i < e->n_jobs; i++)
		name_see(e->jobs[i]->name, strlen(e->jobs[i]->name), &max);
	names_in_files(e->cfg.jobs_dir, &max);
	names_given = max + 1;
	return snprintf(out, n, "job-%lu", names_given) < (int)n ? 0
	                                                         : -ENAMETOOLONG;
}
