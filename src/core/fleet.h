/* fleet.h — the pure rules of lifecycle actions across workers
 * (docs/cluster.md "Lifecycle actions"): which workers a job is
 * allocated to, the waves `after =` orders jobs in, the batch size of a
 * rolling action.  No I/O: faces/fleet.c does the talking. */
#ifndef JOBD_CORE_FLEET_H
#define JOBD_CORE_FLEET_H
#include <stddef.h>

/* Whether a job is allocated to a worker with these labels: every one of
 * its selectors is among them; a job without selectors (NULL or empty)
 * has its own name as its one selector (the original's rule). */
int fleet_allocated(const char *const *selectors, const char *job,
                    const char *const *labels);

/* A job of one command, and the jobs it comes after (NULL-terminated,
 * may be NULL; names outside the command are not waited for). */
struct fleet_node {
	const char *name;
	const char *const *after;
	int wave;                /* out: 0 for none of the others first */
};
/* Sets each node's wave: one more than the highest wave of the nodes it
 * comes after.  Returns the number of waves, or -ELOOP naming the jobs
 * of a cycle in err ("after: web -> db -> web"). */
int fleet_waves(struct fleet_node *v, size_t n, char *err, size_t errlen);

/* The built-in action names (any case) in lower case into out; another
 * name must be safe ([A-Za-z0-9][A-Za-z0-9_.-]*, 64 at most) and is
 * copied.  0 or -EINVAL. */
int fleet_action_name(const char *in, char *out, size_t n);
/* Whether action is one of start, stop, restart, reload, status. */
int fleet_builtin(const char *action);

/* How many of n workers one batch takes: the job's max_parallel_workers
 * (0 = the default: 1 for restart and reload, a rolling action; all for
 * the others); status always asks all at once. */
size_t fleet_batch(const char *action, int max_parallel_workers, size_t n);
#endif
