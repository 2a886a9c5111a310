/* jobd.h — the types every part of jobd shares (one header, as in
 * beanstalkd's dat.h). Pure data: no I/O, no libuv.
 *
 * Conventions (libuv style): functions return 0 or a negative errno;
 * errors that a user must read also fill a `char *err, size_t errlen`
 * buffer with a sentence that names what is wrong.  The errno class decides
 * the jobctl exit code (see err_exit_code()).
 */
#ifndef JOBD_H
#define JOBD_H

#include <stddef.h>
#include <stdint.h>

#define JOBD_VERSION "0.1.0"

#define JID_LEN 20            /* YYYYMMDDhhmmssffffff */
#define NAME_MAX_LEN 64       /* job and target names: [A-Za-z0-9_.-]{1,64} */
#define MSG_MAX (16u << 20)   /* largest protocol message: 16 MiB */
#define US_PER_S 1000000LL

/* jobctl exit codes (INTERFACES.md) */
enum exit_code {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_NOT_RUNNING = 3,
	EXIT_NOT_FOUND = 4,
	EXIT_UNREACHABLE = 69,
	EXIT_PERM = 77,
};

/* Run states of the seed queue table, in its enum order. */
enum run_status {
	RUN_WAITING,
	RUN_MANUAL,
	RUN_ACCEPTED,
	RUN_RUNNING,
	RUN_DONE,
	RUN_IGNORED,
	RUN_STATUS_COUNT
};

enum run_result { RESULT_NONE, RESULT_OK, RESULT_FAIL };

enum run_trigger {
	TRIG_SCHEDULE,
	TRIG_MANUAL,
	TRIG_API,
	TRIG_RETRY,
	TRIG_CATCHUP,
	TRIG_COUNT
};

enum overlap { OVERLAP_SKIP, OVERLAP_QUEUE, OVERLAP_REPLACE, OVERLAP_ALLOW };
enum catchup { CATCHUP_DEFAULT = -1, CATCHUP_NONE = 0, CATCHUP_ONCE = 1 };

/* One execution.  Persistent fields only: the engine keeps process handles
 * and buffers beside it (engine/runs.c).  Strings are owned (malloc). */
struct run {
	int64_t id;                 /* store row id (the queue's integer id) */
	char jid[JID_LEN + 1];
	char *job;                  /* NULL for ad-hoc submits */
	char *action;               /* NULL = the job's command */
	char *target;
	int trigger;                /* enum run_trigger */
	int attempt;                /* 1, 2, ... */
	char parent[JID_LEN + 1];   /* jid of attempt 1, "" for attempt 1 */
	int priority;               /* higher first */
	int status;                 /* enum run_status */
	int result;                 /* enum run_result */
	int return_code;            /* -1 when none */
	char sig[16];               /* "SIGTERM", "LOST", "" */
	int64_t time_created;       /* unix microseconds, 0 = not yet */
	int64_t time_not_before;    /* --at / retry backoff; 0 = now */
	int64_t time_started;
	int64_t time_finished;
	char *spec;                 /* JSON: what to execute (see engine/spec.c) */
	char *user;                 /* user the process runs as */
	uint32_t uid;               /* the requester: who may see and control it */
	int pid;                    /* 0 when none */
	int64_t pid_start;          /* /proc/<pid>/stat starttime, identity */
	char *worker;
	char *out;                  /* stdout (may be NULL) */
	size_t out_len;
	char *errout;               /* stderr */
	size_t err_len;
	int out_truncated;
	int err_truncated;
};

/* Names of the enums above, as stored and as shown (core/names.c). */
const char *run_status_name(int status);
int run_status_parse(const char *s);        /* -1 if unknown */
const char *run_result_name(int result);    /* NULL for RESULT_NONE */
int run_result_parse(const char *s);
const char *run_trigger_name(int trig);
int run_trigger_parse(const char *s);
const char *overlap_name(int o);
int overlap_parse(const char *s);

void run_clear(struct run *r);              /* frees strings, zeroes */
int run_copy(struct run *dst, const struct run *src);   /* deep; -ENOMEM */

/* Maps a negative errno to a jobctl exit code. */
int err_exit_code(int neg_errno);

/* A name is [A-Za-z0-9_.-]{1,64}. */
int name_valid(const char *s);
/* A job's name: name_valid(), or "<valid>.task#<digits>" (a task of a
 * service file; 64 characters at most). */
int job_name_valid(const char *s);

/* An environment variable's name: [A-Za-z_][A-Za-z0-9_]*, n bytes of s,
 * at most ENV_NAME_MAX of them (longer ones are refused, never cut). */
#define ENV_NAME_MAX 255
int env_name_valid(const char *s, size_t n);

#endif
