/* runas.c — the exec trampoline of runs that switch user.
 *
 * `jobd --run-as UID GID CWD -- ARGV...`, posix_spawn'ed by proc.c as
 * /proc/self/exe: sets the user's supplementary groups (initgroups), the
 * gid and the uid, and only then enters CWD and execs ARGV.  So a run's
 * directory is entered with the run's rights (a directory only root may
 * enter is refused as it would be to that user, and no error tells the
 * user more than it may know), and the daemon never forks: posix_spawn
 * cannot switch ids itself, and libuv's uv_spawn forks and enters the
 * directory as root before its setuid.
 *
 * Exit codes, as env(1) and the shells use them: 125 the switch or the
 * directory failed, 126 the program cannot be run, 127 it was not found;
 * the reason is on stderr, the run's output. */
#include "engine/runas.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(int code, const char *what, const char *arg)
{
	fprintf(stderr, "jobd: %s%s%s%s: %s\n", what, arg ? " '" : "",
	        arg ? arg : "", arg ? "'" : "", strerror(errno));
	return code;
}

int runas_main(int argc, char **argv)
{
	if (argc < 6 || strcmp(argv[1], RUNAS_FLAG) != 0 ||
	    strcmp(argv[5], "--") != 0 || argc < 7) {
		fprintf(stderr, "usage: jobd %s UID GID CWD -- COMMAND...\n",
		        RUNAS_FLAG);
		return 125;
	}
	uid_t uid = (uid_t)strtoul(argv[2], NULL, 10);
	gid_t gid = (gid_t)strtoul(argv[3], NULL, 10);
	const char *cwd = argv[4];
	struct passwd *pw = getpwuid(uid);

	/* the user's own groups, never the daemon's */
	if ((pw ? initgroups(pw->pw_name, gid) : setgroups(0, NULL)) < 0)
		return fail(125, "cannot set the groups of user", pw ? pw->pw_name
		                                                     : argv[2]);
	if (setgid(gid) < 0)
		return fail(125, "cannot set group id", argv[3]);
	if (setuid(uid) < 0)
		return fail(125, "cannot set user id", argv[2]);
	if (cwd[0] && chdir(cwd) < 0)
		return fail(125, "cannot change to directory", cwd);
	execvp(argv[6], argv + 6);
	return fail(errno == ENOENT ? 127 : 126, "cannot run", argv[6]);
}
