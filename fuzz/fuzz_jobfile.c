/* fuzz_jobfile.c — libFuzzer target for job files (engine/jobfile.c: the INI
 * sections [job NAME], [action NAME], [health_check NAME], [task#N] turned
 * into JSON objects, then job_from_json, the one validation path).  The
 * input is the one file "svc.conf" of a temp jobs_dir.  Every job the
 * file yields goes through job_from_json; one that is accepted must come
 * back from job_to_json as a definition job_from_json accepts again, with
 * the same name, command, schedule and target (what `jobctl show` prints
 * and `jobctl create` reads back).  Leaks are findings.
 *   see scripts/fuzz.sh for the build line */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "engine/jobs.h"
#include "engine/log.h"
#include "engine/engine_api.h"

/* requires.c and tasks.c look jobs up in a running engine, which the
 * loader never has: a stub keeps the engine out of this target. */
struct job *engine_job_find(struct engine *e, const char *name)
{
	(void)e;
	(void)name;
	return NULL;
}

static char dir[64], file[96];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof dir, "/tmp/jobd-fuzz-jobs.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(file, sizeof file, "%s/svc.conf", dir);
	log_min_level = LOG_ERROR + 1;
	if (!getenv("TZDIR"))
		setenv("TZDIR", "/usr/share/zoneinfo", 1);
	return 0;
}

__attribute__((destructor)) static void cleanup(void)
{
	if (file[0])
		unlink(file);
	if (dir[0])
		rmdir(dir);
}

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int each_job(void *ctx, json_t *def, const char *path, int line,
                    char *err, size_t errlen)
{
	struct job j, k;
	char e[1024];
	json_t *back;

	(void)ctx;
	(void)err;
	(void)errlen;
	if (!json_is_object(def) || strcmp(path, file) != 0 || line < 1)
		abort();
	e[0] = '\0';
	if (job_from_json(def, "UTC", &j, e, sizeof e) < 0) {
		if (!e[0])
			abort();              /* an error always says what */
		return 0;                     /* next job of the file */
	}
	back = job_to_json(&j);
	if (!back)
		abort();
	if (job_from_json(back, "UTC", &k, e, sizeof e) < 0) {
		char *a = json_dumps(def, JSON_SORT_KEYS);
		char *b = json_dumps(back, JSON_SORT_KEYS);
		fprintf(stderr, "round trip refused: %s\n  def:  %s\n  back: %s\n",
		        e, a, b);
		abort();
	}
	if (!same(j.name, k.name) || !same(j.command, k.command) ||
	    !same(j.schedule, k.schedule) || !same(j.target, k.target) ||
	    j.shell != k.shell || j.enabled != k.enabled ||
	    j.n_actions != k.n_actions || j.n_checks != k.n_checks) {
		char *b = json_dumps(back, JSON_SORT_KEYS);
		fprintf(stderr, "round trip changed the job: %s\n", b);
		abort();
	}
	job_free(&k);
	job_free(&j);
	json_decref(back);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fopen(file, "w");
	char err[1024];

	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	err[0] = '\0';
	int rc = jobfiles_load(dir, each_job, NULL, err, sizeof err);
	if (rc < 0 ? !err[0] : rc != 1)
		abort();
	return 0;
}
