/* jobd.c — the daemon's main: options, config, the lock on the state
 * directory, signals (HUP reload, TERM/INT graceful stop), the loop. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>
#include <uv.h>

#include "engine/engine_api.h"
#include "engine/log.h"
#include "engine/proc.h"
#include "engine/runas.h"
#include "engine/statedir.h"
#include "faces/ninep.h"
#include "faces/ops.h"
#include "faces/http.h"
#include "faces/http_metrics.h"
#include "faces/http_assets.h"
#include "faces/master.h"
#include "faces/server.h"
#include "faces/uplink.h"

static struct engine *eng;
static struct server srv;
static struct http *http;
static struct nsrv *ninep;
static uv_signal_t sig_hup, sig_term, sig_int;
static int lock_fd = -1;

static const char usage[] =
	"usage: jobd [-c FILE] [--check] [--version] [--help]\n"
	"\n"
	"The job-control daemon: scheduled jobs, a persistent queue, run\n"
	"tracking.  Runs in the foreground and logs to stderr.\n"
	"\n"
	"  -c, --config FILE  configuration (INI; see docs/jobd.conf.md);\n"
	"                     without it: defaults, state in ./var\n"
	"  -t, --check        read the configuration and job files, report\n"
	"                     what is wrong, and exit (0 = all good)\n"
	"  -V, --version      print the version and exit\n"
	"  -h, --help         this text\n"
	"\n"
	"Signals: HUP re-reads the configuration and job files; TERM and INT\n"
	"stop gracefully (running runs get shutdown_grace, then are killed);\n"
	"a second TERM stops at once.\n"
	"Exit codes: 0 clean stop, 1 runtime failure, 2 bad configuration or\n"
	"usage, 75 another jobd holds the state directory.\n";

static void on_done(struct engine *e)
{
	(void)e;
	log_info("all runs ended; bye");
	uplink_stop();
	master_stop();
	server_close(&srv);
	http_close(http);
	http = NULL;
	ninep_close(ninep);
	ninep = NULL;
	uv_close((uv_handle_t *)&sig_hup, NULL);
	uv_close((uv_handle_t *)&sig_term, NULL);
	uv_close((uv_handle_t *)&sig_int, NULL);
	uv_stop(engine_loop(eng));
}

static void on_term(uv_signal_t *s, int signum)
{
	(void)s;
	if (engine_shutting_down(eng)) {
		log_warn("%s again: terminating running runs now",
		         strsignal(signum));
		engine_shutdown_now(eng, on_done);
		return;
	}
	log_info("%s: shutting down (no new runs)", strsignal(signum));
	sd_notify(0, "STOPPING=1");
	server_stop_listening(&srv);
	ninep_stop_listening(ninep);
	engine_shutdown(eng, on_done);
}

static void hup_refreshed(void *arg, int rc, const char *why)
{
	struct engine_stats st;
	(void)arg;
	engine_stats(eng, &st);
	if (rc < 0)
		log_error("reloaded the job files, but not the store's "
		          "definitions: %s", why);
	else
		log_info("reloaded: %d jobs from the files and the store "
		         "(update_seq %lld)", st.n_jobs,
		         (long long)engine_update_seq(eng));
}

static void on_hup(uv_signal_t *s, int signum)
{
	char err[1024];
	int n_jobs = 0, n_files = 0;
	(void)s;
	(void)signum;
	(void)n_files;
	sd_notify(0, "RELOADING=1");
	if (ops_reload(eng, &n_jobs, &n_files, err, sizeof err) < 0)
		log_error("reload failed, keeping the running configuration: %s",
		          err);
	else
		engine_jobs_refresh(eng, hup_refreshed, NULL);
	sd_notify(0, "READY=1");
}

/* One daemon per state directory: the store and proc files are its own. */
static int lock_state_dir(const char *dir)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/jobd.lock", dir);
	lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock_fd < 0) {      /* e.g. a read-only state dir: not "another" */
		fprintf(stderr, "jobd: cannot open %s: %s\n", path,
		        strerror(errno));
		return -2;
	}
	if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
		fprintf(stderr, "jobd: another jobd uses the state directory %s "
		        "(%s)\n", dir, strerror(errno));
		return -1;
	}
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
	if (ftruncate(lock_fd, 0) < 0 || write(lock_fd, pid, (size_t)n) != n)
		log_warn("cannot write pid to %s", path);
	return 0;
}

static int check_job(void *ctx, json_t *def, const char *file, int line,
                     char *err, size_t errlen)
{
	struct job j;
	int rc = job_from_json(def, ctx, &j, err, errlen);  /* FILE:LINE added */
	(void)file;
	(void)line;
	if (rc == 0) {
		rc = job_check_built(&j, err, errlen);
		job_free(&j);
	}
	return rc;
}

static int parse_args(int argc, char **argv, const char **cfg_path, int *check)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, 't'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "c:tVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': *cfg_path = optarg; break;
		case 't': *check = 1; break;
		case 'V': printf("jobd %s\n", JOBD_VERSION); exit(0);
		case 'h': fputs(usage, stdout); exit(0);
		default: fputs(usage, stderr); return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "jobd: unexpected argument '%s'\n%s", argv[optind],
		        usage);
		return -1;
	}
	return 0;
}

/* One fd per client: with the usual soft limit of 1024 (systemd's
 * default) clients past about 1,000 would be accepted and closed at once
 * (libuv's EMFILE handling).  Raised to the hard limit, at most 65536;
 * the runs' processes inherit it. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	rlim_t want = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
	if (rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warn("cannot raise the open-files limit: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	const char *cfg_path = NULL;
	struct config cfg;
	char err[1024];
	int check = 0;

	if (argc > 1 && strcmp(argv[1], RUNAS_FLAG) == 0)
		return runas_main(argc, argv);   /* a run's child (runas.c) */
	proc_set_trampoline("/proc/self/exe");
	if (parse_args(argc, argv, &cfg_path, &check) < 0)
		return 2;
	if (cfg_path) {
		if (config_load(cfg_path, &cfg, err, sizeof err) < 0) {
			fprintf(stderr, "jobd: %s\n", err);
			return 2;
		}
	} else {
		config_defaults(&cfg);
	}
	log_min_level = cfg.log_level;
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();

	uv_loop_t *loop = uv_default_loop();
	/* jobd -t validates the job files by loading them into a throwaway
	 * list: a bad one is an error (exit 2); a starting jobd skips a bad
	 * file with an ERROR and loads the others (engine_jobs_load) */
	int rc = check ? jobfiles_load(cfg.jobs_dir, check_job, cfg.timezone,
	                               err, sizeof err) : 0;
	if (rc < 0 || check) {
		config_free(&cfg);
		if (rc < 0) {
			fprintf(stderr, "jobd: %s\n", err);
			return 2;
		}
		printf("jobd: configuration OK (%d job files)\n", rc);
		return 0;
	}
	if (statedir_prepare(&cfg, err, sizeof err) < 0) {
		fprintf(stderr, "jobd: %s\n", err);
		config_free(&cfg);
		return 2;
	}
	if ((rc = lock_state_dir(cfg.state_dir)) < 0) {
		config_free(&cfg);
		return rc == -2 ? 1 : 75;
	}
	if (!(eng = engine_new())) {
		fprintf(stderr, "jobd: out of memory\n");
		return 1;
	}
	if (engine_open(eng, loop, &cfg, err, sizeof err) < 0) {
		fprintf(stderr, "jobd: %s\n", err);
		return 1;
	}
	if (server_start(&srv, eng, err, sizeof err) < 0) {
		fprintf(stderr, "jobd: %s\n", err);
		return 1;
	}
	http_set_metrics(http_metrics_serve);
	http_set_static(http_assets_static);     /* the dashboard at / */
	if (http_start(&http, eng, err, sizeof err) < 0) {
		fprintf(stderr, "jobd: %s\n", err);
		return 1;
	}
	if ((strcmp(engine_config(eng)->role, "master") == 0 &&
	     master_start(eng, err, sizeof err) < 0) ||
	    uplink_start(eng, err, sizeof err) < 0) {
		fprintf(stderr, "jobd: %s\n", err);
		return 1;
	}
	if (ninep_start(&ninep, eng, err, sizeof err) < 0) {
		fprintf(stderr, "jobd: %s\n", err);
		return 1;
	}
	uv_signal_init(loop, &sig_hup);
	uv_signal_init(loop, &sig_term);
	uv_signal_init(loop, &sig_int);
	uv_signal_start(&sig_hup, on_hup, SIGHUP);
	uv_signal_start(&sig_term, on_term, SIGTERM);
	uv_signal_start(&sig_int, on_term, SIGINT);
	struct engine_stats st;
	engine_stats(eng, &st);
	log_info("jobd %s ready: socket %s, store %s, %d jobs, %d targets",
	         JOBD_VERSION, engine_config(eng)->socket, st.store, st.n_jobs,
	         st.n_targets);
	/* systemd's Type=notify (jobd.service): listening, recovered, ready */
	sd_notify(0, "READY=1");

	uv_run(loop, UV_RUN_DEFAULT);
	engine_close(eng);
	uv_run(loop, UV_RUN_NOWAIT);      /* let the close callbacks run */
	engine_free(eng);                 /* ... which still use it */
	uv_loop_close(loop);
	close(lock_fd);
	return 0;
}
