/* fleet.c — see fleet.h. */
#include "core/fleet.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int has(const char *const *list, const char *s)
{
	for (; list && *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

int fleet_allocated(const char *const *selectors, const char *job,
                    const char *const *labels)
{
	if (!selectors || !*selectors)
		return has(labels, job);
	for (; *selectors; selectors++)
		if (!has(labels, *selectors))
			return 0;
	return 1;
}

static long node_at(const struct fleet_node *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* Names the cycle that node i is on (it is on one: its wave never
 * settled), following the first unsettled predecessor each time. */
static void name_cycle(const struct fleet_node *v, size_t n, size_t i,
                       char *err, size_t errlen)
{
	size_t len = (size_t)snprintf(err, errlen, "after: %s", v[i].name);
	size_t at = i;
	for (size_t step = 0; step <= n && len < errlen; step++) {
		long next = -1;
		for (const char *const *a = v[at].after; a && *a && next < 0; a++) {
			long k = node_at(v, n, *a);
			if (k >= 0 && v[k].wave < 0)
				next = k;
		}
		if (next < 0)
			break;
		len += (size_t)snprintf(err + len, errlen - len, " -> %s",
		                        v[next].name);
		if ((size_t)next == i)
			break;
		at = (size_t)next;
	}
}

int fleet_waves(struct fleet_node *v, size_t n, char *err, size_t errlen)
{
	size_t settled = 0;
	int waves = 0;

	for (size_t i = 0; i < n; i++)
		v[i].wave = -1;
	/* each pass settles every node whose predecessors are settled; a
	 * pass that settles nothing leaves a cycle (n is small: a command's
	 * jobs) */
	while (settled < n) {
		size_t before = settled;
		for (size_t i = 0; i < n; i++) {
			if (v[i].wave >= 0)
				continue;
			int w = 0, ready = 1;
			for (const char *const *a = v[i].after; a && *a; a++) {
				long k = node_at(v, n, *a);
				if (k < 0 || (size_t)k == i)
					continue;
				if (v[k].wave < 0) {
					ready = 0;
					break;
				}
				if (v[k].wave + 1 > w)
					w = v[k].wave + 1;
			}
			if (!ready)
				continue;
			v[i].wave = w;
			if (w + 1 > waves)
				waves = w + 1;
			settled++;
		}
		if (settled == before) {
			for (size_t i = 0; i < n; i++)
				if (v[i].wave < 0) {
					name_cycle(v, n, i, err, errlen);
					break;
				}
			return -ELOOP;
		}
	}
	return waves;
}

static const char *const builtins[] = {
	"start", "stop", "restart", "reload", "status", NULL,
};

int fleet_builtin(const char *action)
{
	return has(builtins, action);
}

int fleet_action_name(const char *in, char *out, size_t n)
{
	size_t len = in ? strlen(in) : 0;

	if (len == 0 || len > 64 || len >= n)
		return -EINVAL;
	for (const char *const *b = builtins; *b; b++)
		if (strcasecmp(in, *b) == 0) {
			snprintf(out, n, "%s", *b);
			return 0;
		}
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		            (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return -EINVAL;
	}
	memcpy(out, in, len + 1);
	return 0;
}

size_t fleet_batch(const char *action, int max_parallel_workers, size_t n)
{
	size_t b;

	if (strcmp(action, "status") == 0 || n == 0)
		return n ? n : 1;
	if (max_parallel_workers > 0)
		b = (size_t)max_parallel_workers;
	else if (strcmp(action, "restart") == 0 || strcmp(action, "reload") == 0)
		b = 1;
	else
		b = n;
	return b < n ? b : n;
}
