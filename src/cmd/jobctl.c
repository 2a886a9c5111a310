/* jobctl.c — the command-line client of jobd: main, the table of commands
 * (each with its options and usage) and the usage texts.  One blocking
 * request / reply exchange per command over the daemon's Unix socket (or
 * TCP with --connect) through the blocking client of src/client
 * (jobctl_call.c); the options are parsed by hand (jobctl_args.c), the
 * commands are jobctl_cmd_*.c, the output jobctl_out.c. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jobd.h"
#include "client/client_sync.h"
#include "cmd/jobctl.h"
#include "core/tz.h"

static const struct command commands[];
static void usage_all(FILE *f);
static void usage_cmd(FILE *f, const struct command *cmd);
static const struct command *command_find(const char *name);

static int cmd_help(struct ctl *c, struct args *a)
{
	const struct command *cmd;

	(void)c;
	if (!a->npos) {
		usage_all(stdout);
		return 0;
	}
	if (!(cmd = command_find(a->pos[0])))
		return bad("help: unknown command '%s'", a->pos[0]);
	usage_cmd(stdout, cmd);
	return 0;
}

static int cmd_version(struct ctl *c, struct args *a)
{
	(void)a;
	if (c->json)
		printf("{\n  \"version\": \"%s\"\n}\n", JOBD_VERSION);
	else
		printf("jobctl %s\n", JOBD_VERSION);
	return 0;
}

/* ---- the command table ----------------------------------------------- */

static const struct optdef create_opts[] = {
	{ "schedule", 0, O_ARG }, { "target", 0, O_ARG }, { "user", 0, O_ARG },
	{ "group", 0, O_ARG },    { "cwd", 0, O_ARG },    { "env", 'e', O_ARG },
	{ "timeout", 0, O_ARG },  { "kill-grace", 0, O_ARG },
	{ "retries", 0, O_ARG },  { "backoff", 0, O_ARG }, { "tags", 0, O_ARG },
	{ "confirm", 0, 0 },      { "overlap", 0, O_ARG },
	{ "overlap-queue-max", 0, O_ARG },
	{ "catchup", 0, O_ARG },  { "jitter", 0, O_ARG },
	{ "timezone", 0, O_ARG }, { "selectors", 0, O_ARG },
	{ "requires", 0, O_ARG }, { "priority", 0, O_ARG }, { "shell", 0, 0 },
	{ "action", 0, O_ARG },   { "disabled", 0, 0 },
	{ "kill-leftovers", 0, 0 },   { "replace", 0, 0 },
	{ "generate-name", 0, 0 }, { "after", 0, O_ARG },
	{ "max-parallel-workers", 0, O_ARG },
	{ "generate-name", 0, 0 },
	{ "placement", 0, O_ARG }, { "lease-timeout", 0, O_ARG },
	{ NULL, 0, 0 },
};
static const struct optdef run_opts[] = {
	{ "action", 'a', O_ARG }, { "yes", 'y', 0 }, { "no-wait", 0, 0 },
	{ "confirm", 0, 0 }, { "allocations", 0, O_ARG }, { "health-check", 0, 0 },
	{ "tags", 0, O_ARG }, { "rid", 0, O_ARG }, { NULL, 0, 0 },
};
static const struct optdef action_opts[] = {
	{ "yes", 'y', 0 }, { "allocations", 0, O_ARG },
	{ "health-check", 0, 0 }, { "confirm", 0, 0 }, { NULL, 0, 0 },
};
static const struct optdef submit_opts[] = {
	{ "target", 0, O_ARG }, { "priority", 0, O_ARG },
	{ "retries", 0, O_ARG }, { "at", 0, O_ARG }, { "cwd", 0, O_ARG },
	{ "env", 'e', O_ARG }, { "timeout", 0, O_ARG }, { "user", 0, O_ARG },
	{ "group", 0, O_ARG },
	{ "shell", 0, 0 }, { "wait", 'w', 0 }, { "kill-leftovers", 0, 0 },
	{ NULL, 0, 0 },
};
static const struct optdef runs_opts[] = {
	{ "status", 0, O_ARG }, { "since", 0, O_ARG }, { "limit", 0, O_ARG },
	{ NULL, 0, 0 },
};
static const struct optdef health_opts[] = {
	{ "wait", 'w', 0 }, { NULL, 0, 0 },
};
static const struct optdef logs_opts[] = {
	{ "follow", 'f', 0 }, { NULL, 0, 0 },
};
static const struct optdef next_opts[] = {
	{ "count", 'n', O_ARG }, { "from", 0, O_ARG }, { "tz", 0, O_ARG },
	{ NULL, 0, 0 },
};

#define ACTION_HELP \
	"  -y, --yes, --confirm   answer yes ahead for a job marked --confirm\n" \
	"                         (else asked on the terminal; 30 s)\n" \
	"      --allocations W,W  only on these workers (cluster master)\n" \
	"      --health-check     wait for the job's health checks afterwards\n"
#define LIFECYCLE_HELP \
	"\nThe job's own [action NAME] command wins over the built-in (it runs\n" \
	"and is waited for).  On a cluster master: on every worker the job is\n" \
	"allocated to (or --allocations), several NAMEs in `after` order, after\n" \
	"the sync check (docs/cluster.md).  One line per worker: WORKER JOB\n" \
	"ACTION: ok|FAILED — MESSAGE; exit 1 if any failed.  docs/lifecycle.md.\n\n" \
	ACTION_HELP

static const struct command commands[] = {
	{ "create", cmd_create, create_opts, 1, -1, 1,
	  "NAME [OPTIONS] -- COMMAND [ARG...]",
	  "Define job NAME (or, with --replace, redefine it).\n\n"
	  "      --schedule S       cron, @every DUR, calendar or @reboot\n"
	  "      --timezone ZONE    IANA zone of the schedule (default UTC)\n"
	  "      --target T         queue target (concurrency limit)\n"
	  "      --user U, --group G  run as this user / group\n"
	  "      --cwd DIR          working directory\n"
	  "  -e, --env K=V          environment variable (repeatable)\n"
	  "      --timeout DUR      kill the run after DUR\n"
	  "      --kill-grace DUR   SIGTERM to SIGKILL delay (default 10s)\n"
	  "      --kill-leftovers   at the run's end, SIGTERM what is left in its group\n"
	  "      --retries N        retry a failed run N times\n"
	  "      --backoff DUR      delay before a retry\n"
	  "      --tags a,b         tags for `run --tags`\n"
	  "      --confirm          manual runs need --yes\n"
	  "      --overlap MODE     skip, queue, replace or allow\n"
	  "      --overlap-queue-max N  with --overlap queue: runs that may wait (1)\n"
	  "      --catchup MODE     none or once (runs missed while down)\n"
	  "      --jitter DUR       random delay up to DUR\n"
	  "      --selectors s1,s2  workers that may run it\n"
	  "      --after a,b        lifecycle actions: start after these jobs\n"
	  "      --max-parallel-workers N  workers per batch of an action\n"
	  "      --placement MODE   any, or one: on one worker at a time (a lease)\n"
	  "      --lease-timeout DUR  placement one: failover after DUR (15s)\n"
	  "      --requires 'J(up),K(ok)'  states of other jobs a run needs\n"
	  "      --priority N       higher runs first\n"
	  "      --shell            COMMAND is one /bin/sh command line\n"
	  "      --action NAME=COMMAND  a lifecycle action (repeatable)\n"
	  "      --disabled         define it with the schedule disarmed\n"
	  "      --replace          replace an existing job NAME\n"
	  "      --generate-name    no NAME: jobd names it job-N (printed)\n" },
	{ "set", cmd_set, NULL, 2, 2, -1, "NAME KEY=VALUE",
	  "Change one field of job NAME (a job file's line too): schedule=S,\n"
	  "command=CMD (cmd=CMD), enabled=true|false.\n" },
	{ "delete", cmd_name, NULL, 1, 1, -1, "NAME", "Delete job NAME.\n" },
	{ "list", cmd_list, NULL, 0, 0, -1, "",
	  "Jobs: name, state, schedule, next run, last run, last result.\n" },
	{ "show", cmd_show, NULL, 1, 1, -1, "NAME",
	  "Job NAME's definition, next runs, last run and running jids.\n" },
	{ "health", cmd_health, health_opts, 1, 1, -1, "NAME [--wait]",
	  "Run job NAME's health checks on this jobd, all at once; one line\n"
	  "per check: NAME KIND TARGET ok|FAILED message (attempts N).\n"
	  "Exit 0 when all pass, 3 when one fails.\n\n"
	  "  -w, --wait             retry each failing check up to its attempts,\n"
	  "                         its interval apart (else one attempt each)\n" },
	{ "enable", cmd_name, NULL, 1, 1, -1, "NAME", "Arm NAME's schedule.\n" },
	{ "disable", cmd_name, NULL, 1, 1, -1, "NAME",
	  "Disarm NAME's schedule.\n" },
	{ "reload", cmd_reload, action_opts, 0, -1, -1, "[NAME...]",
	  "Without NAME: re-read the config and job files.\n"
	  "With NAME: SIGHUP to the process groups of NAME's running runs\n"
	  "(fails when none runs).\n" LIFECYCLE_HELP },
	{ "run", cmd_run, run_opts, 0, 1, -1,
	  "NAME [--action A] [OPTIONS] | --tags TAG[,TAG]",
	  "Run job NAME now, stream its output and exit with its exit code\n"
	  "(128+N when killed by signal N).\n\n"
	  "  -a, --action A         run action A instead of the command\n"
	  "      --no-wait          print the jid and return at once\n"
	  ACTION_HELP
	  "      --tags T,T         run every job carrying one of the tags\n"
	  "      --rid task#N       one task of a service file\n" },
	{ "start", cmd_action, action_opts, 1, -1, -1, "NAME... [OPTIONS]",
	  "Start NAME's command as a supervised service: jobd starts it again\n"
	  "when it ends on its own (1 s backoff, doubling up to 60 s); returns\n"
	  "once it runs.  Already running: ok.\n" LIFECYCLE_HELP },
	{ "stop", cmd_action, action_opts, 1, -1, -1, "NAME... [OPTIONS]",
	  "End NAME's supervision, SIGTERM the process group of each of its\n"
	  "running runs (SIGKILL after its kill_grace); returns once they have\n"
	  "ended.  Not running: ok.\n" LIFECYCLE_HELP },
	{ "restart", cmd_action, action_opts, 1, -1, -1, "NAME... [OPTIONS]",
	  "stop, then start (the new run's jid in the message).\n"
	  LIFECYCLE_HELP },
	{ "status", cmd_status, action_opts, 0, -1, -1, "[NAME... [OPTIONS]]",
	  "Without NAME: the daemon's version, uptime, store, counts, targets.\n"
	  "With NAME: running or not (its [action status] command's exit code\n"
	  "decides when it has one); exit 3 if not running, 1 if it failed.\n"
	  "With a service file's NAME: its tasks' checks.\n\n" ACTION_HELP },
	{ "submit", cmd_submit, submit_opts, 1, -1, 0,
	  "[OPTIONS] -- COMMAND [ARG...]",
	  "Queue an ad-hoc command; print its jid.\n\n"
	  "      --target T         queue target\n"
	  "      --priority N       higher runs first\n"
	  "      --retries N        retry a failed run N times\n"
	  "      --at TIME          not before TIME (RFC 3339 or now+DUR)\n"
	  "      --cwd DIR          working directory\n"
	  "  -e, --env K=V          environment variable (repeatable)\n"
	  "      --timeout DUR      kill the run after DUR\n"
	  "      --user U           run as this user\n"
	  "      --group G          run with this group\n"
	  "      --shell            COMMAND is one /bin/sh command line\n"
	  "      --kill-leftovers   at its end, SIGTERM what is left in its group\n"
	  "  -w, --wait             wait, stream output, exit with its code\n" },
	{ "targets", cmd_targets, NULL, 0, 0, -1, "",
	  "Queue targets: concurrency, running, waiting, paused.\n" },
	{ "target", cmd_target, NULL, 2, 3, -1, "add T N | rm T | set T N",
	  "Add target T with concurrency N, remove it, or set its "
	  "concurrency.\n" },
	{ "pause", cmd_queue, NULL, 0, -1, -1, "[T...]",
	  "Stop starting queued runs (of targets T, or all).\n" },
	{ "continue", cmd_queue, NULL, 0, -1, -1, "[T...]",
	  "Start queued runs again (of targets T, or all).\n" },
	{ "poll", cmd_queue, NULL, 0, -1, -1, "[T...]",
	  "Look for runnable queued runs now.\n" },
	{ "poke", cmd_queue, NULL, 1, -1, -1, "T...",
	  "Ask a master to have the workers serving targets T poll now\n"
	  "(docs/cluster.md).\n" },
	{ "active", cmd_active, NULL, 0, 0, -1, "", "Running runs.\n" },
	{ "runs", cmd_runs, runs_opts, 0, 1, -1,
	  "[NAME] [--status S] [--since TIME] [--limit N]",
	  "Runs, newest first (of job NAME, or all).\n\n"
	  "      --status S         waiting, manual, accepted, running, done,\n"
	  "                         ignored\n"
	  "      --since TIME       created at or after TIME\n"
	  "      --limit N          at most N runs (default 50)\n" },
	{ "lookup", cmd_lookup, NULL, 1, 1, -1, "JID",
	  "Every field of run JID, then its stdout and stderr.\n" },
	{ "logs", cmd_logs, logs_opts, 1, 1, -1, "JID|NAME [-f]",
	  "The output of run JID, or of job NAME's latest run.\n\n"
	  "  -f, --follow           stream new output until the run ends\n" },
	{ "wait", cmd_wait, NULL, 1, 1, -1, "JID",
	  "Wait for run JID; exit with its exit code.\n" },
	{ "signal", cmd_signal, NULL, 2, 2, -1, "JID SIG",
	  "Send signal SIG (TERM, SIGTERM or 15) to run JID.\n" },
	{ "term", cmd_signal, NULL, 1, 1, -1, "JID", "Send SIGTERM to run JID.\n" },
	{ "kill", cmd_signal, NULL, 1, 1, -1, "JID", "Send SIGKILL to run JID.\n" },
	{ "cancel", cmd_cancel, NULL, 1, 1, -1, "JID",
	  "Cancel run JID if it has not started.\n" },
	{ "workers", cmd_workers, NULL, 0, 0, -1, "", "Cluster workers.\n" },
	{ "metrics", cmd_metrics, NULL, 0, 0, -1, "",
	  "The daemon's metrics in the Prometheus text format.\n" },
	{ "next", cmd_next, next_opts, 1, 1, -1,
	  "EXPR|NAME [-n N] [--from TIME] [--tz ZONE]",
	  "The next fire times of a schedule expression (computed here) or of\n"
	  "job NAME (asked of jobd), one per line, in ZONE (default UTC).\n\n"
	  "  -n, --count N          how many (default 5)\n"
	  "      --from TIME        after TIME (default now)\n"
	  "      --tz ZONE          IANA time zone\n" },
	{ "help", cmd_help, NULL, 0, 1, -1, "[COMMAND]", "Show usage.\n" },
	{ "version", cmd_version, NULL, 0, 0, -1, "", "Show jobctl's version.\n" },
	{ NULL, NULL, NULL, 0, 0, 0, NULL, NULL },
};

static const struct command *command_find(const char *name)
{
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static const char global_help[] =
	"Global options (before or after COMMAND):\n"
	"      --socket PATH      jobd's Unix socket (env JOBD_SOCKET)\n"
	"      --connect HOST:PORT  jobd over TCP\n"
	"      --password X       password for --connect (env JOBD_PASSWORD)\n"
	"      --json             print the reply as one JSON document\n"
	"  -h, --help             show usage\n";

static void usage_all(FILE *f)
{
	fprintf(f, "usage: jobctl [GLOBAL OPTIONS] COMMAND [ARGS]\n\n"
		"Commands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(f, "  %s%s%s\n", c->name, *c->synopsis ? " " : "",
			c->synopsis);
	fprintf(f, "\n%s      --version          show the version\n\n"
		"`jobctl help COMMAND` or `jobctl COMMAND --help` describes one.\n"
		"Exit codes: 0 ok, 1 failed, 2 usage, 3 not running, 4 not found,\n"
		"69 jobd unreachable, 77 permission denied; run/wait: the run's.\n",
		global_help);
}

static void usage_cmd(FILE *f, const struct command *cmd)
{
	fprintf(f, "usage: jobctl %s%s%s\n\n%s\n%s", cmd->name,
		*cmd->synopsis ? " " : "", cmd->synopsis, cmd->help, global_help);
}

/* ---- main -------------------------------------------------------------- */

/* Common options (from either side of the command name) into ctl. */
static void apply_common(struct ctl *c, const struct args *a)
{
	const char *v;

	if (opt_has(a, "json"))
		c->json = 1;
	if ((v = opt_get(a, "socket")))
		c->socket = v;
	if ((v = opt_get(a, "connect")))
		c->connect = v;
	if ((v = opt_get(a, "password")))
		c->password = v;
}

static int check_positionals(const struct command *cmd, const struct args *a)
{
	if (a->npos < cmd->min_pos)
		return bad("%s: missing argument (usage: jobctl %s %s)", cmd->name,
			   cmd->name, cmd->synopsis);
	if (cmd->max_pos >= 0 && a->npos > cmd->max_pos)
		return bad("%s: unexpected argument '%s'", cmd->name,
			   a->pos[cmd->max_pos]);
	return 0;
}

/* Global options before the command: the "jobctl" pseudo-command's. */
static const struct optdef global_opts[] = {
	{ "version", 'V', 0 }, { NULL, 0, 0 },
};
static const struct command global_cmd = {
	"jobctl", NULL, global_opts, 0, -1, 0, "", "",
};

static int run_command(struct ctl *c, int argc, char **argv)
{
	struct args g = { 0 }, a = { 0 };
	int rc = parse_args(&global_cmd, argc, argv, &g);

	if (rc)
		goto out;
	apply_common(c, &g);
	if (opt_has(&g, "version") || opt_has(&g, "help") || !g.npos) {
		if (opt_has(&g, "version")) {
			rc = cmd_version(c, &g);
		} else {
			usage_all(g.npos || opt_has(&g, "help") ? stdout : stderr);
			rc = opt_has(&g, "help") ? 0 : EXIT_USAGE;
		}
		goto out;
	}
	/* g.pos[0] is argv[k]: the command; its arguments follow it. */
	c->cmd = command_find(g.pos[0]);
	if (!c->cmd) {
		rc = bad("unknown command '%s' (see jobctl help)", g.pos[0]);
		goto out;
	}
	for (rc = 0; argv[rc] != g.pos[0]; rc++)
		;
	rc = parse_args(c->cmd, argc - rc - 1, argv + rc + 1, &a);
	if (rc)
		goto out;
	apply_common(c, &a);
	if (opt_has(&a, "help"))
		usage_cmd(stdout, c->cmd);
	else if ((rc = check_positionals(c->cmd, &a)) == 0)
		rc = c->cmd->fn(c, &a);
out:
	args_free(&g);
	args_free(&a);
	return rc;
}

int main(int argc, char **argv)
{
	struct ctl c = { 0 };
	int rc;

	signal(SIGPIPE, SIG_IGN);   /* a dead daemon is an error, not a kill */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			json_errors = 1;
	rc = run_command(&c, argc - 1, argv + 1);
	client_sync_close(c.cs);
	if (fflush(stdout) != 0 && !rc)
		rc = EXIT_FAILED;
	tz_cache_clear();
	return rc;
}
