/* proc.c — one child process of a run (see proc.h).
 *
 * Spawning: posix_spawn (vfork-like: no copy of the daemon's page tables)
 * with POSIX_SPAWN_SETSID, pipes opened as uv_pipe_t, and the exit
 * watched through a pidfd polled by libuv and reaped with waitid.  Runs
 * that switch user need setuid/setgid in the child, which posix_spawn
 * cannot do: those go through libuv's uv_spawn (a fork) instead.  This
 * file ties the parts together: it reports the exit
 * once both pipes are drained (or 1 s after the exit when a grandchild
 * keeps them open), signals the whole process group, escalates SIGTERM to
 * SIGKILL after a grace period, and reads a pid's identity (starttime)
 * from /proc.  The signal-name table is hand-written because glibc has no
 * name -> number lookup (only sigabbrev_np for number -> name, glibc 2.32+).
 *
 * Ownership: a struct proc owns five libuv handles (process, two pipes,
 * the drain timer and the grace timer).  Memory is freed only when every
 * handle's close callback has run, so proc_free may be called anywhere
 * (also from inside on_exit) without use-after-free. */
#include "engine/proc.h"
#include "engine/runas.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define PROC_DRAIN_MS 1000      /* wait for pipe EOF after the exit */
#define PROC_READ_BUF 65536     /* one pipe's default capacity */

struct proc {
	uv_loop_t *loop;
	uv_process_t process;    /* uv_spawn path (set_ids) */
	uv_poll_t pidfd_poll;    /* posix_spawn path */
	int pidfd;
	uv_pipe_t pipes[2];      /* [0] stdout, [1] stderr */
	uv_timer_t drain_timer;
	uv_timer_t kill_timer;
	struct proc_cbs cbs;
	void *ud;
	int pid;
	int pgid;                /* kept after the leader exits */
	int64_t start_time;
	int open_handles;        /* handles whose close callback is pending */
	int pipe_open[2];        /* still being read */
	int exited;
	int exit_status;
	int term_signal;
	int reported;            /* on_exit called */
	int terminating;         /* proc_terminate called */
	int freed;               /* proc_free called: no more callbacks */
	struct proc **lprev, *lnext;   /* in `lingering` */
};

/* Freed procs whose group outlived the leader (a run's leftovers):
 * SIGTERM sent, SIGKILL due when their kill timer fires. */
static struct proc *lingering;

static void on_handle_closed(uv_handle_t *h)
{
	struct proc *p = h->data;

	if (--p->open_handles == 0) {
		if (p->pidfd > 0)
			close(p->pidfd);
		free(p);
	}
}

/* Handles get .data = p right after their init (the struct starts zeroed),
 * so a handle whose init never ran is recognised and skipped. */
static void close_handle(struct proc *p, uv_handle_t *h)
{
	if (h->data == p && !uv_is_closing(h))
		uv_close(h, on_handle_closed);
}

static void close_pipe(struct proc *p, int i)
{
	if (!p->pipe_open[i])
		return;
	p->pipe_open[i] = 0;
	close_handle(p, (uv_handle_t *)&p->pipes[i]);
}

/* Reports the exit once the process is reaped and both pipes are done. */
static void maybe_report(struct proc *p)
{
	int code;

	if (p->reported || p->freed || !p->exited || p->pipe_open[0] ||
	    p->pipe_open[1])
		return;
	p->reported = 1;
	uv_timer_stop(&p->drain_timer);
	code = p->term_signal == 0 ? p->exit_status : -1;
	if (p->cbs.on_exit)
		p->cbs.on_exit(p, code, p->term_signal, p->ud);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)h;
	(void)hint;
	/* one loop thread reads one pipe at a time: one buffer for all, and no
	 * 64 KiB allocation per run */
	static char slab[PROC_READ_BUF];
	*buf = uv_buf_init(slab, sizeof slab);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct proc *p = s->data;
	int i = (uv_pipe_t *)s == &p->pipes[0] ? 0 : 1;

	if (n > 0) {
		if (p->cbs.on_output && !p->freed)
			p->cbs.on_output(p, i + 1, buf->base, (size_t)n, p->ud);
		return;
	}
	if (n == 0)             /* EAGAIN: nothing this time */
		return;
	/* EOF or a read error: either way this stream is finished. */
	close_pipe(p, i);
	maybe_report(p);
}

/* A grandchild holds the pipes open: stop waiting for EOF. */
static void on_drain_timeout(uv_timer_t *t)
{
	struct proc *p = t->data;

	close_pipe(p, 0);
	close_pipe(p, 1);
	maybe_report(p);
}

static void proc_exit(struct proc *p, int status, int sig)
{
	p->exited = 1;
	p->exit_status = (int)status;
	p->term_signal = sig;
	if (p->pipe_open[0] || p->pipe_open[1])
		uv_timer_start(&p->drain_timer, on_drain_timeout, PROC_DRAIN_MS,
		               0);
	maybe_report(p);
}

static void on_process_exit(uv_process_t *h, int64_t status, int sig)
{
	proc_exit(h->data, (int)status, sig);
}

static void on_pidfd(uv_poll_t *h, int status, int events)
{
	struct proc *p = h->data;
	siginfo_t si;

	(void)status;
	(void)events;
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG) < 0 ||
	    si.si_pid == 0)
		return;
	close_handle(p, (uv_handle_t *)&p->pidfd_poll);
	if (si.si_code == CLD_EXITED)
		proc_exit(p, si.si_status, 0);
	else
		proc_exit(p, 0, si.si_status);
}

static void on_grace_over(uv_timer_t *t)
{
	struct proc *p = t->data;

	if (p->pgid > 0 && kill(-p->pgid, 0) == 0)
		kill(-p->pgid, SIGKILL);
}

static struct proc *proc_alloc(uv_loop_t *loop, const struct proc_cbs *cbs,
                               void *ud)
{
	struct proc *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->loop = loop;
	p->cbs = *cbs;
	p->ud = ud;
	return p;
}

/* Initialises the four handles other than the process (which uv_spawn
 * initialises itself, even when it fails). */
static int proc_init_handles(struct proc *p)
{
	int rc;

	for (int i = 0; i < 2; i++) {
		rc = uv_pipe_init(p->loop, &p->pipes[i], 0);
		if (rc < 0)
			return rc;
		p->pipes[i].data = p;
		p->pipe_open[i] = 1;
		p->open_handles++;
	}
	uv_timer_init(p->loop, &p->drain_timer);
	p->drain_timer.data = p;
	p->open_handles++;
	uv_timer_init(p->loop, &p->kill_timer);
	p->kill_timer.data = p;
	p->open_handles++;
	return 0;
}

/* Closes every handle; memory goes with the last close callback. */
static void proc_close_all(struct proc *p, int keep_kill_timer)
{
	close_pipe(p, 0);
	close_pipe(p, 1);
	close_handle(p, (uv_handle_t *)&p->drain_timer);
	if (!keep_kill_timer)
		close_handle(p, (uv_handle_t *)&p->kill_timer);
	close_handle(p, (uv_handle_t *)&p->process);
	close_handle(p, (uv_handle_t *)&p->pidfd_poll);
}

/* pidfds exist since Linux 5.3; without them every run takes uv_spawn. */
static int pidfd_supported(void)
{
	static int known = -1;
	if (known < 0) {
		int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
		known = fd >= 0;
		if (fd >= 0)
			close(fd);
	}
	return known;
}

/* Handlers are reset in a child anyway, but ignored signals are inherited
 * through exec: SIGPIPE (jobd ignores it) and whatever jobd's own parent
 * ignored (a shell's background job ignores SIGINT and SIGQUIT).  Runs
 * start with every signal at its default.  Looked up once: only those get
 * a sigaction in the child, not all 64. */
static const sigset_t *ignored_signals(void)
{
	static sigset_t set;
	static int known;
	struct sigaction sa;
	if (known)
		return &set;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	for (int sig = 1; sig < NSIG; sig++)
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
			sigaddset(&set, sig);
	known = 1;
	return &set;
}

static const char *trampoline;

void proc_set_trampoline(const char *path)
{
	trampoline = path;
}

/* The trampoline's argv for a run as another user: the ids and the
 * directory go to it, the run's argv after "--".  NULL: out of memory. */
static char **runas_argv(const struct proc_spec *spec, char ids[2][16])
{
	size_t n = 0;
	while (spec->argv[n])
		n++;
	char **v = calloc(n + 7, sizeof *v);
	if (!v)
		return NULL;
	snprintf(ids[0], 16, "%u", (unsigned)spec->uid);
	snprintf(ids[1], 16, "%u", (unsigned)spec->gid);
	v[0] = (char *)trampoline;
	v[1] = (char *)RUNAS_FLAG;
	v[2] = ids[0];
	v[3] = ids[1];
	v[4] = (char *)(spec->cwd ? spec->cwd : "");
	v[5] = (char *)"--";
	memcpy(v + 6, spec->argv, n * sizeof *v);
	return v;
}

static int spawn_posix(const struct proc_spec *spec, int out, int err,
                       pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, err, 2);
	if (spec->cwd)
		posix_spawn_file_actions_addchdir_np(&fa, spec->cwd);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, ignored_signals());
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
	                              POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawnp(pid, spec->argv[0], &fa, &at, spec->argv, spec->env);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return -rc;
}

/* CLOCK_BOOTTIME in the clock ticks of /proc/<pid>/stat's starttime
 * (the kernel's nsec_to_clock_t of the task's start_boottime). */
static int64_t boot_ticks(void)
{
	static int64_t ns_per_tick;
	struct timespec ts;

	if (!ns_per_tick) {
		long hz = sysconf(_SC_CLK_TCK);
		ns_per_tick = hz > 0 ? 1000000000 / hz : 10000000;
	}
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec) / ns_per_tick;
}

/* The start time of a child spawned between the boot-tick readings t0
 * and t1: the kernel stamps start_boottime while forking, so when both
 * readings fall in one tick, that tick is the starttime /proc would show,
 * and reading /proc/<pid>/stat (a few microseconds of kernel work per
 * run) is not needed.  Otherwise, or until a reading of /proc has
 * confirmed that this kernel keeps starttime in boot time (every such
 * kernel since 3.17 does; pidfds, which this path needs, came in 5.3),
 * and on every 256th run as a check, /proc is read. */
static int start_time_of(int pid, int64_t t0, int64_t t1, int64_t *out)
{
	static int confirmed;   /* 1 yes, -1 no (never again), 0 not yet */
	static unsigned n;

	if (t0 == t1 && confirmed > 0 && (++n & 255) != 0) {
		*out = t0;
		return 0;
	}
	int rc = proc_identity(pid, out);
	if (rc == 0 && t0 == t1 && confirmed >= 0)
		confirmed = *out == t0 ? 1 : -1;
	return rc;
}

/* The posix_spawn path: pipes made here (close-on-exec; the child's copies
 * are dup2'd onto 1 and 2), the exit watched through a pidfd. */
static int proc_spawn_posix(struct proc *p, const struct proc_spec *spec)
{
	int out[2] = {-1, -1}, err[2] = {-1, -1}, rc;
	int64_t t0, t1;
	pid_t pid;

	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		rc = -errno;
		goto done;
	}
	t0 = boot_ticks();
	rc = spawn_posix(spec, out[1], err[1], &pid);
	if (rc < 0)
		goto done;
	t1 = boot_ticks();
	/* the child has exec'd (posix_spawn waits for that) and cannot have
	 * been reaped yet (that happens on the loop): /proc/<pid> exists */
	if (start_time_of(pid, t0, t1, &p->start_time) < 0)
		p->start_time = 0;
	p->process.pid = pid;
	p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (p->pidfd < 0 ||
	    (rc = uv_poll_init(p->loop, &p->pidfd_poll, p->pidfd)) < 0) {
		rc = p->pidfd < 0 ? -errno : rc;
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto done;
	}
	p->pidfd_poll.data = p;
	p->open_handles++;
	uv_poll_start(&p->pidfd_poll, UV_READABLE, on_pidfd);
	if ((rc = uv_pipe_open(&p->pipes[0], out[0])) == 0)
		out[0] = -1;
	if (rc == 0 && (rc = uv_pipe_open(&p->pipes[1], err[0])) == 0)
		err[0] = -1;
	if (rc < 0) {           /* it must not run unwatched */
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
done:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return rc;
}

static int proc_spawn(struct proc *p, const struct proc_spec *spec)
{
	uv_process_options_t opt;
	uv_stdio_container_t stdio[3];
	int rc;

	memset(&opt, 0, sizeof(opt));
	stdio[0].flags = UV_IGNORE;                  /* /dev/null */
	for (int i = 0; i < 2; i++) {
		stdio[i + 1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
		stdio[i + 1].data.stream = (uv_stream_t *)&p->pipes[i];
	}
	opt.exit_cb = on_process_exit;
	opt.file = spec->argv[0];
	opt.args = spec->argv;
	opt.env = spec->env;
	opt.cwd = spec->cwd;
	opt.stdio = stdio;
	opt.stdio_count = 3;
	/* DETACHED = setsid() in the child: own session and process group. */
	opt.flags = UV_PROCESS_DETACHED;
	if (spec->set_ids) {
		opt.flags |= UV_PROCESS_SETUID | UV_PROCESS_SETGID;
		opt.uid = spec->uid;
		opt.gid = spec->gid;
	}
	rc = uv_spawn(p->loop, &p->process, &opt);
	/* The process handle is initialised even when uv_spawn fails. */
	p->process.data = p;
	p->open_handles++;
	return rc;
}

static int proc_start_reading(struct proc *p)
{
	int rc;

	for (int i = 0; i < 2; i++) {
		rc = uv_read_start((uv_stream_t *)&p->pipes[i], on_alloc,
		                   on_read);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int proc_start(uv_loop_t *loop, const struct proc_spec *spec,
               const struct proc_cbs *cbs, void *ud, struct proc **out,
               char *err, size_t errlen)
{
	const char *prog = spec && spec->argv && spec->argv[0] ?
	                   spec->argv[0] : "";
	struct proc *p;
	int rc;

	*out = NULL;
	if (!prog[0]) {
		snprintf(err, errlen, "cannot run '': empty command");
		return -EINVAL;
	}
	p = proc_alloc(loop, cbs, ud);
	if (!p) {
		snprintf(err, errlen, "cannot run '%s': out of memory", prog);
		return -ENOMEM;
	}
	rc = proc_init_handles(p);
	if (rc < 0)
		goto error;
	int via_uv = !pidfd_supported() || (spec->set_ids && !trampoline);
	if (via_uv) {
		rc = proc_spawn(p, spec);
	} else if (spec->set_ids) {     /* the ids and cwd: in the child */
		char ids[2][16], **argv = runas_argv(spec, ids);
		struct proc_spec ts = {.argv = argv, .env = spec->env};
		rc = argv ? proc_spawn_posix(p, &ts) : UV_ENOMEM;
		free(argv);
	} else {
		rc = proc_spawn_posix(p, spec);
	}
	if (rc < 0)
		goto error;
	p->pid = p->process.pid;
	p->pgid = p->pid;
	/* The child has exec'd (uv_spawn waits for that) and cannot have been
	 * reaped yet (reaping happens on the loop), so /proc/<pid> exists. */
	if (via_uv) {
		if (proc_identity(p->pid, &p->start_time) < 0)
			p->start_time = 0;
	}
	rc = proc_start_reading(p);
	if (rc < 0) {
		kill(-p->pgid, SIGKILL);
		goto error;
	}
	*out = p;
	return 0;

error:
	snprintf(err, errlen, "cannot run '%s': %s", prog, uv_strerror(rc));
	p->freed = 1;
	if (p->open_handles == 0)
		free(p);
	else
		proc_close_all(p, 0);
	return rc;
}

int proc_pid(const struct proc *p)
{
	return p->pid;
}

int64_t proc_start_time(const struct proc *p)
{
	return p->start_time;
}

int proc_exited(const struct proc *p)
{
	return p->exited;
}

int proc_signal(struct proc *p, int sig)
{
	if (p->pgid <= 0)
		return -ESRCH;
	if (kill(-p->pgid, sig) < 0)
		return -errno;
	return 0;
}

void proc_terminate(struct proc *p, int64_t grace_us)
{
	uint64_t ms;

	if (p->terminating || p->freed)
		return;
	p->terminating = 1;
	if (proc_signal(p, SIGTERM) == -ESRCH)
		return;                 /* nothing left to escalate against */
	ms = grace_us <= 0 ? 0 : (uint64_t)(grace_us + 999) / 1000;
	uv_timer_start(&p->kill_timer, on_grace_over, ms, 0);
}

static void linger_end(struct proc *p)
{
	if (p->pgid > 0 && kill(-p->pgid, 0) == 0)
		kill(-p->pgid, SIGKILL);
	if ((*p->lprev = p->lnext))
		p->lnext->lprev = p->lprev;
	close_handle(p, (uv_handle_t *)&p->kill_timer);
}

static void on_linger_over(uv_timer_t *t)
{
	linger_end(t->data);
}

int proc_release(struct proc *p, int64_t grace_us)
{
	if (!p || p->freed)
		return 0;
	if (!p->exited || p->pgid <= 0 || kill(-p->pgid, SIGTERM) < 0) {
		proc_free(p);
		return 0;
	}
	p->freed = 1;
	proc_close_all(p, 1);   /* the kill timer stays, for the SIGKILL */
	/* the daemon's exit does not wait for it: proc_linger_stop */
	uv_timer_start(&p->kill_timer, on_linger_over,
	               grace_us <= 0 ? 0 : (uint64_t)(grace_us + 999) / 1000, 0);
	uv_unref((uv_handle_t *)&p->kill_timer);
	if ((p->lnext = lingering))
		lingering->lprev = &p->lnext;
	p->lprev = &lingering;
	lingering = p;
	return 1;
}

void proc_linger_stop(void)
{
	while (lingering)
		linger_end(lingering);
}

void proc_free(struct proc *p)
{
	if (!p || p->freed)
		return;
	p->freed = 1;
	/* Closing the process handle before the exit leaves a zombie (libuv
	 * stops watching it); the contract is to free only after on_exit. */
	proc_close_all(p, 0);
}

/* Parses field 22 (starttime) of /proc/<pid>/stat.  Field 2 (comm) is in
 * parentheses and may itself contain spaces and ')', so counting starts
 * after the last ')': field 3 is the first one after it. */
static int parse_starttime(const char *s, int64_t *out)
{
	const char *q = strrchr(s, ')');
	char *end;
	int field = 2;

	if (!q)
		return -EINVAL;
	q++;
	while (field < 22) {
		while (*q == ' ')
			q++;
		if (!*q)
			return -EINVAL;
		field++;
		if (field == 22)
			break;
		while (*q && *q != ' ')
			q++;
	}
	errno = 0;
	long long v = strtoll(q, &end, 10);
	if (end == q || errno || v < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

int proc_identity(int pid, int64_t *starttime)
{
	char path[64], buf[1024];
	ssize_t n;
	int fd, rc;

	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc < 0)
		return rc;
	buf[n] = '\0';
	if (parse_starttime(buf, starttime) < 0)
		return -ESRCH;          /* vanished mid-read or unreadable */
	return 0;
}

struct sig_entry {
	const char *name;       /* without "SIG" */
	int num;
};

/* Linux signals; aliases after the canonical names so that signal_name
 * finds the canonical one first. */
static const struct sig_entry sig_table[] = {
	{"HUP", SIGHUP},       {"INT", SIGINT},       {"QUIT", SIGQUIT},
	{"ILL", SIGILL},       {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},
	{"BUS", SIGBUS},       {"FPE", SIGFPE},       {"KILL", SIGKILL},
	{"USR1", SIGUSR1},     {"SEGV", SIGSEGV},     {"USR2", SIGUSR2},
	{"PIPE", SIGPIPE},     {"ALRM", SIGALRM},     {"TERM", SIGTERM},
#ifdef SIGSTKFLT
	{"STKFLT", SIGSTKFLT},
#endif
	{"CHLD", SIGCHLD},     {"CONT", SIGCONT},     {"STOP", SIGSTOP},
	{"TSTP", SIGTSTP},     {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},
	{"URG", SIGURG},       {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ},
	{"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},     {"WINCH", SIGWINCH},
	{"IO", SIGIO},
#ifdef SIGPWR
	{"PWR", SIGPWR},
#endif
	{"SYS", SIGSYS},
	/* aliases */
	{"IOT", SIGABRT},      {"CLD", SIGCHLD},      {"POLL", SIGIO},
};

#define SIG_MAX 64

static int parse_signum(const char *s)
{
	int v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > SIG_MAX)
			return -1;
	}
	return v >= 1 ? v : -1;
}

int signal_parse(const char *s)
{
	if (!s)
		return -1;
	if (*s >= '0' && *s <= '9')
		return parse_signum(s);
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof(sig_table) / sizeof(sig_table[0]); i++)
		if (strcasecmp(s, sig_table[i].name) == 0)
			return sig_table[i].num;
	return -1;
}

const char *signal_name(int sig)
{
	/* Full names so that static strings can be returned directly. */
	static const char *const names[] = {
		[SIGHUP] = "SIGHUP",     [SIGINT] = "SIGINT",
		[SIGQUIT] = "SIGQUIT",   [SIGILL] = "SIGILL",
		[SIGTRAP] = "SIGTRAP",   [SIGABRT] = "SIGABRT",
		[SIGBUS] = "SIGBUS",     [SIGFPE] = "SIGFPE",
		[SIGKILL] = "SIGKILL",   [SIGUSR1] = "SIGUSR1",
		[SIGSEGV] = "SIGSEGV",   [SIGUSR2] = "SIGUSR2",
		[SIGPIPE] = "SIGPIPE",   [SIGALRM] = "SIGALRM",
		[SIGTERM] = "SIGTERM",
#ifdef SIGSTKFLT
		[SIGSTKFLT] = "SIGSTKFLT",
#endif
		[SIGCHLD] = "SIGCHLD",   [SIGCONT] = "SIGCONT",
		[SIGSTOP] = "SIGSTOP",   [SIGTSTP] = "SIGTSTP",
		[SIGTTIN] = "SIGTTIN",   [SIGTTOU] = "SIGTTOU",
		[SIGURG] = "SIGURG",     [SIGXCPU] = "SIGXCPU",
		[SIGXFSZ] = "SIGXFSZ",   [SIGVTALRM] = "SIGVTALRM",
		[SIGPROF] = "SIGPROF",   [SIGWINCH] = "SIGWINCH",
		[SIGIO] = "SIGIO",
#ifdef SIGPWR
		[SIGPWR] = "SIGPWR",
#endif
		[SIGSYS] = "SIGSYS",
	};
	static _Thread_local char other[24];

	if (sig > 0 && (size_t)sig < sizeof(names) / sizeof(names[0]) &&
	    names[sig])
		return names[sig];
	snprintf(other, sizeof(other), "SIG%d", sig);
	return other;
}
