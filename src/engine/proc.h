/* proc.h — one child process of a run: spawned through libuv (uv_spawn,
 * which posix_spawns/forks+execs without running code of ours in the
 * child), in its own session and process group, stdout and stderr read
 * through pipes.  Signals always go to the whole group. */
#ifndef JOBD_PROC_H
#define JOBD_PROC_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

struct proc;

struct proc_spec {
	char **argv;          /* argv[0] is looked up in PATH when it has no '/' */
	char **env;           /* full environment, NULL-terminated */
	const char *cwd;      /* NULL = inherit */
	int set_ids;          /* run as uid/gid (needs root) */
	uid_t uid;
	gid_t gid;
};

/* jobd's own executable, re-run as `jobd --run-as UID GID CWD -- ARGV`
 * (runas.c) for runs that switch user: spawned with posix_spawn, it
 * switches groups, gid and uid and only then enters cwd.  Unset (unit
 * tests), such runs take libuv's uv_spawn, which enters cwd as root. */
void proc_set_trampoline(const char *path);

struct proc_cbs {
	/* A chunk of output: stream 1 = stdout, 2 = stderr. */
	void (*on_output)(struct proc *p, int stream, const char *buf, size_t n,
	                  void *ud);
	/* The process has exited and its pipes are drained (EOF, or 1 s after
	 * exit when a grandchild keeps them open).  exit_code is -1 when it
	 * was killed by term_signal.  The proc stays valid until proc_free. */
	void (*on_exit)(struct proc *p, int exit_code, int term_signal, void *ud);
};

/* Starts the process.  On success *out is set and pid/start time are
 * known at once (before the loop runs again).  On failure (exec failed:
 * no such file, permission) returns a negative errno and err says what,
 * e.g. "cannot run 'nope': no such file or directory". */
int proc_start(uv_loop_t *loop, const struct proc_spec *spec,
               const struct proc_cbs *cbs, void *ud, struct proc **out,
               char *err, size_t errlen);
int proc_pid(const struct proc *p);
int64_t proc_start_time(const struct proc *p);   /* /proc starttime ticks */
int proc_exited(const struct proc *p);   /* 1 once reaped (pipes may still be open) */
/* Sends sig to the whole process group; -ESRCH when it is gone. */
int proc_signal(struct proc *p, int sig);
/* SIGTERM to the group now, SIGKILL to the group after grace_us unless
 * the group is gone (checked with kill(-pgid, 0)).  Also applies after the
 * leader exited: grandchildren in the group are killed too. */
void proc_terminate(struct proc *p, int64_t grace_us);
/* Frees after on_exit: closes the handles (also a pending grace timer);
 * the memory goes with the last close callback, so the loop must run once
 * more.  Safe to call from inside on_exit.  Freeing before on_exit stops
 * libuv from reaping the child (it stays a zombie): don't. */
void proc_free(struct proc *p);
/* proc_free for a run that has ended: processes still in its group (a
 * background child the run left behind) get SIGTERM now and SIGKILL after
 * grace_us, as systemd treats a unit's leftovers; until then p lingers
 * (its kill timer only).  1 when something was left, else 0. */
int proc_release(struct proc *p, int64_t grace_us);
/* SIGKILL to every lingering group now, and their procs freed (the
 * daemon is exiting: the loop must run once more for the close). */
void proc_linger_stop(void);

/* Identity of any pid: the starttime field (22) of /proc/<pid>/stat.
 * Returns 0, or -ESRCH when no such process. */
int proc_identity(int pid, int64_t *starttime);
/* Signal number from "TERM", "SIGTERM", "15", "term"; -1 if unknown. */
int signal_parse(const char *s);
/* "SIGTERM" for 15; "SIG<n>" for unknown numbers. */
const char *signal_name(int sig);
#endif
