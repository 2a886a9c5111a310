/* statedir.h — the state directory's modes: run output, environments
 * and the store are nobody else's business (docs/security.md). */
#ifndef JOBD_STATEDIR_H
#define JOBD_STATEDIR_H

#include <sys/types.h>

#include "engine/config.h"

/* The modes: directories 0700 and files 0600; with socket_group, 02750
 * and 0640 (the set-group-id directory gives new files that group, so the
 * socket's group may read runs as it may ask for them). */
struct statedir_modes {
	mode_t dir, file;
	gid_t gid;               /* (gid_t)-1: no socket_group */
};
int statedir_modes(const struct config *cfg, struct statedir_modes *m,
                   char *err, size_t errlen);

/* Creates the state directory and its proc/ with those modes, and fixes
 * what an older jobd left (the directories, proc files, the SQLite files,
 * the lock file), logging each change.  A directory jobd does not own or
 * that is shared (sticky, as /tmp) is refused, never chmod'ed. */
int statedir_prepare(const struct config *cfg, char *err, size_t errlen);
#endif
