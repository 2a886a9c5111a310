/* statedir.c — the state directory's modes (statedir.h).  Old installs
 * made it 0755 with 0644 files: every local user could read every run's
 * output and environment.  Fixed at each start, with a log line. */
#include "engine/statedir.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/log.h"

int statedir_modes(const struct config *cfg, struct statedir_modes *m,
                   char *err, size_t errlen)
{
	*m = (struct statedir_modes){.dir = 0700, .file = 0600,
	                             .gid = (gid_t)-1};
	if (!cfg->socket_group)
		return 0;
	struct group *gr = getgrnam(cfg->socket_group);
	if (!gr) {
		snprintf(err, errlen, "socket_group: no such group '%s'",
		         cfg->socket_group);
		return -EINVAL;
	}
	*m = (struct statedir_modes){.dir = 02750, .file = 0640,
	                             .gid = gr->gr_gid};
	return 0;
}

/* Gives path mode (and the group), logging what it was; a missing file is
 * fine (not made yet). */
static int fix(const char *path, mode_t mode, gid_t gid, int is_dir,
               char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		goto fail;
	}
	if (S_ISLNK(st.st_mode) || (!is_dir && !S_ISREG(st.st_mode)))
		return 0;                       /* not ours to change */
	if (is_dir && (st.st_uid != geteuid() || (st.st_mode & S_ISVTX))) {
		snprintf(err, errlen, "state directory %s is %s: give jobd a "
		         "directory of its own", path, st.st_uid != geteuid()
		         ? "not owned by jobd's user" : "shared (sticky, as /tmp)");
		return -EPERM;
	}
	if (gid != (gid_t)-1 && st.st_gid != gid) {
		if (chown(path, (uid_t)-1, gid) < 0)
			goto fail;
		log_info("state: %s given to group %u", path, (unsigned)gid);
	}
	if ((st.st_mode & 07777) != mode) {
		if (chmod(path, mode) < 0)
			goto fail;
		log_info("state: %s was mode %04o, now %04o", path,
		         (unsigned)(st.st_mode & 07777), (unsigned)mode);
	}
	return 0;
fail:
	snprintf(err, errlen, "cannot secure %s: %s", path, strerror(errno));
	return -errno;
}

static int fix_files(const char *dir, const struct statedir_modes *m,
                     char *err, size_t errlen)
{
	char path[4400];
	struct dirent *d;
	DIR *dp = opendir(dir);
	int rc = 0;

	if (!dp) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot read %s: %s", dir, strerror(errno));
		return -errno;
	}
	while (rc == 0 && (d = readdir(dp))) {
		if (d->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, d->d_name) >=
		    sizeof path)
			continue;                   /* not a name jobd makes */
		rc = fix(path, m->file, m->gid, 0, err, errlen);
	}
	closedir(dp);
	return rc;
}

int statedir_prepare(const struct config *cfg, char *err, size_t errlen)
{
	static const char *const sqlite_suffix[] = {"", "-wal", "-shm",
	                                            "-journal"};
	struct statedir_modes m;
	char path[4400];
	int rc = statedir_modes(cfg, &m, err, errlen);

	if (rc < 0)
		return rc;
	snprintf(path, sizeof path, "%s/proc", cfg->state_dir);
	const char *dirs[2] = {cfg->state_dir, path};
	for (int i = 0; i < 2; i++) {
		if (mkdir(dirs[i], m.dir & 0777) < 0 && errno != EEXIST) {
			rc = -errno;
			snprintf(err, errlen, "cannot create state directory %s: %s",
			         dirs[i], strerror(errno));
			return rc;
		}
		if ((rc = fix(dirs[i], m.dir, m.gid, 1, err, errlen)) < 0)
			return rc;
	}
	if ((rc = fix_files(path, &m, err, errlen)) < 0)
		return rc;
	snprintf(path, sizeof path, "%s/jobd.lock", cfg->state_dir);
	if ((rc = fix(path, m.file, m.gid, 0, err, errlen)) < 0)
		return rc;
	const char *db = cfg->store;
	if (strncmp(db, "mysql:", 6) == 0)
		return 0;
	if (strncmp(db, "sqlite:", 7) == 0)
		db += 7;
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof path, "%s%s", db, sqlite_suffix[i]);
		if ((rc = fix(path, m.file, m.gid, 0, err, errlen)) < 0)
			return rc;
	}
	return 0;
}
