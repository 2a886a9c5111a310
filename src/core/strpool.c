/* strpool.c — interned strings (strpool.h): a chained hash table of
 * counted copies, doubled as it fills, freed when it empties. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/strpool.h"

/* Jobs share a few values many times over: their job file's path, their
 * target, their time zone.  Each distinct value is kept once, with a count
 * of the fields holding it; strpool_release frees it when the last goes.
 * The pool belongs to the thread that loads jobs (the loop thread). */
struct istr {
	struct istr *next;      /* in its bucket */
	uint32_t hash;
	uint32_t refs;
	char s[];
};

static struct istr **ipool;     /* buckets, NULL while empty */
static size_t ipool_size, ipool_count;

uint32_t strpool_hash(const char *s)
{
	uint32_t h = 2166136261u;       /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static int ipool_grow(void)
{
	size_t n = ipool_size ? ipool_size * 2 : 64;
	struct istr **b = calloc(n, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < ipool_size; i++) {
		for (struct istr *e = ipool[i], *next; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(ipool);
	ipool = b;
	ipool_size = n;
	return 0;
}

/* A counted reference to the one copy of s; NULL when out of memory. */
char *strpool_intern(const char *s)
{
	uint32_t h = strpool_hash(s);
	size_t len = strlen(s);
	struct istr *e;

	if (ipool_count >= ipool_size && ipool_grow() < 0 && !ipool)
		return NULL;
	for (e = ipool[h & (ipool_size - 1)]; e; e = e->next) {
		if (e->hash == h && strcmp(e->s, s) == 0) {
			e->refs++;
			return e->s;
		}
	}
	if (!(e = malloc(sizeof(*e) + len + 1)))
		return NULL;
	e->hash = h;
	e->refs = 1;
	memcpy(e->s, s, len + 1);
	e->next = ipool[h & (ipool_size - 1)];
	ipool[h & (ipool_size - 1)] = e;
	ipool_count++;
	return e->s;
}

void strpool_release(char *s)
{
	struct istr *e, **at;

	if (!s)
		return;
	e = (struct istr *)(s - offsetof(struct istr, s));
	if (--e->refs)
		return;
	/* e is in the pool, so ipool_count > 0 and ipool is allocated: the
	 * analyzer cannot tie the count to the table across calls. */
	for (at = &ipool[e->hash & (ipool_size - 1)]; *at != e; at = &(*at)->next) // NOLINT(clang-analyzer-core.NullDereference)
		;
	*at = e->next;
	free(e);
	if (--ipool_count == 0) {
		free(ipool);
		ipool = NULL;
		ipool_size = 0;
	}
}
