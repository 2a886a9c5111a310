/* fuzz_shlex.c — libFuzzer target for core/shlex.c: arbitrary bytes must
 * split without crashing, and whatever splits must survive a
 * join -> split round trip unchanged.
 *   clang -g -O1 -fsanitize=fuzzer,address -Isrc fuzz/fuzz_shlex.c \
 *         src/core/shlex.c -o /tmp/fz && /tmp/fz fuzz/corpus/shlex */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/shlex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), **argv, **again, *joined;
	int argc, argc2;
	char err[128];

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';   /* an embedded NUL just ends the string early */
	if (shlex_split(s, &argv, &argc, err, sizeof(err)) != 0) {
		if (!err[0])
			abort();   /* every error must explain itself */
		free(s);
		return 0;
	}
	joined = shlex_join(argv);
	if (!joined || shlex_split(joined, &again, &argc2, err, sizeof(err)) != 0)
		abort();
	if (argc2 != argc)
		abort();
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], again[i]) != 0)
			abort();
	shlex_free(again);
	shlex_free(argv);
	free(joined);
	free(s);
	return 0;
}
