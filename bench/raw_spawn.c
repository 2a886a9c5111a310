/* raw_spawn.c — the peer for bench/spawn.sh: posix_spawn of a program
 * (default /bin/true) N times with K in flight, as fast as the kernel
 * allows; prints "runs/s" and the CPU time (ms) per run, its own and its
 * children's.  Its stdout and stderr are
 * /dev/null, like a child with nothing to say.
 *
 * With -d DB -s SCHEMA it also keeps the record the foundation issue asks
 * of any run, and nothing else: SCHEMA (SQL: jobd's own schema, dumped by
 * the bench) is applied to a fresh SQLite file DB in WAL with
 * synchronous=NORMAL, as jobd's; each run's row is INSERTed `running` and
 * committed before the spawn, and UPDATEd `done` with its code and
 * committed after the exit.  That is the floor of a spawner that records
 * its runs durably: jobd does this and more (pipes, proc files, a socket).
 *   raw_spawn [-n N] [-k K] [-d DB -s SCHEMA] [PROGRAM] */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static sqlite3 *db;
static sqlite3_stmt *st_ins, *st_upd;

static void die_db(const char *what)
{
	fprintf(stderr, "raw_spawn: %s: %s\n", what, db ? sqlite3_errmsg(db)
	                                                : "no database");
	exit(1);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, len = 0, n;
	if (!f)
		return NULL;
	do {
		if (len + 4096 + 1 > cap && !(buf = realloc(buf, cap = cap * 2 + 8192)))
			break;
		n = fread(buf + len, 1, 4096, f);
		len += n;
	} while (n > 0);
	fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

static void db_open(const char *path, const char *schema_path)
{
	char *schema = slurp(schema_path);
	if (!schema) {
		perror(schema_path);
		exit(1);
	}
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = "
	                 "NORMAL", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK)
		die_db(path);
	free(schema);
	if (sqlite3_prepare_v2(db, "INSERT INTO runs (jid, job, target, status, "
	                       "time_created, time_started, spec, uid, user) "
	                       "VALUES (?1, 't', 'default', 'running', ?2, ?2, "
	                       "'{\"command\":\"/bin/true\"}', 0, 'root')",
	                       -1, &st_ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "UPDATE runs SET status = 'done', result = "
	                       "?2, return_code = ?3, time_finished = ?4, stdout "
	                       "= x'', stderr = x'' WHERE jid = ?1", -1, &st_upd,
	                       NULL) != SQLITE_OK)
		die_db("prepare");
}

static void db_step(sqlite3_stmt *st)
{
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		die_db("write");
	sqlite3_reset(st);
}

/* before the spawn: the run's row, running, committed */
static void db_started(long no)
{
	sqlite3_bind_int64(st_ins, 1, no);
	sqlite3_bind_int64(st_ins, 2, (sqlite3_int64)time(NULL) * 1000000);
	db_step(st_ins);
}

/* after the exit: its end, committed */
static void db_finished(long no, int code)
{
	sqlite3_bind_int64(st_upd, 1, no);
	sqlite3_bind_text(st_upd, 2, code ? "fail" : "ok", -1, SQLITE_STATIC);
	sqlite3_bind_int(st_upd, 3, code);
	sqlite3_bind_int64(st_upd, 4, (sqlite3_int64)time(NULL) * 1000000);
	db_step(st_upd);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long n = 5000, k = 2;
	const char *dbpath = NULL, *schema = NULL;
	int c;
	while ((c = getopt(argc, argv, "n:k:d:s:")) != -1) {
		switch (c) {
		case 'n': n = strtol(optarg, NULL, 10); break;
		case 'k': k = strtol(optarg, NULL, 10); break;
		case 'd': dbpath = optarg; break;
		case 's': schema = optarg; break;
		default:
			fprintf(stderr, "usage: raw_spawn [-n N] [-k K] "
			        "[-d DB -s SCHEMA] [PROGRAM]\n");
			return 2;
		}
	}
	if (!dbpath != !schema) {
		fprintf(stderr, "raw_spawn: -d and -s go together\n");
		return 2;
	}
	if (dbpath)
		db_open(dbpath, schema);
	char *prog = optind < argc ? argv[optind] : "/bin/true";
	char *args[] = { prog, NULL };
	if (n < 1 || k < 1) {
		fprintf(stderr, "raw_spawn: N and K must be positive\n");
		return 2;
	}

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);

	long started = 0, done = 0, inflight = 0;
	struct { pid_t pid; long no; } *fly = calloc((size_t)k, sizeof *fly);
	if (!fly)
		return 1;
	double t0 = now_s();
	while (done < n) {
		while (inflight < k && started < n) {
			pid_t pid;
			if (db)
				db_started(started + 1);
			int rc = posix_spawn(&pid, prog, &fa, NULL, args, environ);
			if (rc != 0) {
				fprintf(stderr, "raw_spawn: %s: %s\n", prog, strerror(rc));
				return 1;
			}
			for (long i = 0; i < k; i++)
				if (!fly[i].pid) {
					fly[i].pid = pid;
					fly[i].no = ++started;
					break;
				}
			inflight++;
		}
		int st;
		pid_t p = waitpid(-1, &st, 0);
		if (p < 0) {
			if (errno == EINTR)
				continue;
			perror("raw_spawn: waitpid");
			return 1;
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "raw_spawn: child %d failed\n", (int)p);
			return 1;
		}
		for (long i = 0; i < k; i++)
			if (fly[i].pid == p) {
				if (db)
					db_finished(fly[i].no, 0);
				fly[i].pid = 0;
			}
		inflight--;
		done++;
	}
	free(fly);
	if (db)
		sqlite3_close(db);
	double dt = now_s() - t0;
	posix_spawn_file_actions_destroy(&fa);
	struct rusage me, kids;
	getrusage(RUSAGE_SELF, &me);
	getrusage(RUSAGE_CHILDREN, &kids);
	double cpu = tv_s(me.ru_utime) + tv_s(me.ru_stime) +
	             tv_s(kids.ru_utime) + tv_s(kids.ru_stime);
	printf("%.1f %.3f\n", (double)n / dt, cpu * 1000.0 / (double)n);
	return 0;
}
