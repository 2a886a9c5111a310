/* fuzz_config.c — libFuzzer target for the daemon configuration reader
 * (engine/config.c: our line reader in front of inih, the key table, the
 * value parsers, the defaults).  config_ini_read reads a path, so the input
 * goes to one temp file that is rewritten per input.  A successful load
 * must give the invariants jobd relies on: state_dir, socket, store,
 * timezone, role and name set; port in 0..65535; targets named and with a
 * concurrency of 1..10000.  Then config_free (leaks are findings).
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     fuzz/fuzz_config.c src/engine/config.c src/engine/log.c \
 *     src/core/{names,timefmt,tz}.c -linih -lm -o /tmp/fz && \
 *     /tmp/fz fuzz/corpus/config */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/config.h"
#include "engine/log.h"

static char path[64];
static int fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(path, sizeof path, "/tmp/jobd-fuzz-config.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	log_min_level = LOG_ERROR + 1;     /* quiet */
	if (!getenv("TZDIR"))
		setenv("TZDIR", "/usr/share/zoneinfo", 1);
	return 0;
}

__attribute__((destructor)) static void cleanup(void)
{
	if (fd >= 0)
		unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	char err[1024];

	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	err[0] = '\0';
	int rc = config_load(path, &c, err, sizeof err);
	if (rc < 0) {
		if (!err[0] || !memchr(err, '\0', sizeof err))
			abort();              /* an error always says what */
		return 0;
	}
	if (!c.path || !c.state_dir || !c.socket || !c.store || !c.timezone ||
	    !c.role || !c.name || c.port < 0 || c.port > 65535 ||
	    c.n_targets < 0 || (c.n_targets && !c.targets))
		abort();
	for (int i = 0; i < c.n_targets; i++)
		if (!c.targets[i].name || c.targets[i].concurrency < 1 ||
		    c.targets[i].concurrency > 10000)
			abort();
	for (int i = 0; i < c.n_launcher_env; i++)
		if (!c.launcher_env[i].name || !c.launcher_env[i].value)
			abort();
	config_free(&c);
	return 0;
}
