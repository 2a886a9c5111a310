/* heap.c — a min-heap of nodes that know their slot, so any node can be
 * removed or re-keyed in O(log n) (the scheduler's next-fire queue).
 * Hand-written: libuv's heap-inl.h is private and Debian ships no C heap
 * with intrusive slot tracking.
 *
 * 4-ary, each slot holding its node's key: the scheduler's heap holds
 * 100,000 jobs, and a binary heap of bare node pointers read two random
 * job structs per level (34 cache misses a pop; 10 us on a VM, most of a
 * burst's fire time).  Here the four children of a slot sit in one cache
 * line and the depth is halved: a pop reads some nine lines of the array
 * and only writes to the nodes it moves (their slot). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/heap.h"

#define D 4                     /* children per slot */

void heap_init(struct heap *h)
{
	h->v = NULL;
	h->len = h->cap = 0;
}

void heap_free(struct heap *h)
{
	/* Nodes stay owned by the caller; mark them out of the heap. */
	for (size_t i = 0; i < h->len; i++)
		h->v[i].n->slot = SIZE_MAX;
	free(h->v);
	heap_init(h);
}

static void place(struct heap *h, size_t i, struct heap_ent e)
{
	h->v[i] = e;
	e.n->slot = i;
}

static void sift_up(struct heap *h, size_t i)
{
	struct heap_ent e = h->v[i];
	while (i > 0) {
		size_t p = (i - 1) / D;
		if (h->v[p].key <= e.key)
			break;
		place(h, i, h->v[p]);
		i = p;
	}
	place(h, i, e);
}

static void sift_down(struct heap *h, size_t i)
{
	struct heap_ent e = h->v[i];
	for (;;) {
		size_t c = D * i + 1, end = c + D, m = c;
		if (c >= h->len)
			break;
		if (end > h->len)
			end = h->len;
		for (size_t k = c + 1; k < end; k++)
			if (h->v[k].key < h->v[m].key)
				m = k;
		if (e.key <= h->v[m].key)
			break;
		place(h, i, h->v[m]);
		i = m;
	}
	place(h, i, e);
}

int heap_push(struct heap *h, struct heap_node *n)
{
	if (h->len == h->cap) {
		size_t ncap = h->cap ? h->cap * 2 : 16;
		struct heap_ent *nv = realloc(h->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		h->v = nv;
		h->cap = ncap;
	}
	place(h, h->len++, (struct heap_ent){n->key, n});
	sift_up(h, h->len - 1);
	return 0;
}

struct heap_node *heap_peek(const struct heap *h)
{
	return h->len ? h->v[0].n : NULL;
}

int heap_contains(const struct heap *h, const struct heap_node *n)
{
	/* Checking the array too makes a stale or uninitialised slot safe. */
	return n->slot != SIZE_MAX && n->slot < h->len && h->v[n->slot].n == n;
}

void heap_remove(struct heap *h, struct heap_node *n)
{
	size_t i = n->slot;
	struct heap_ent last;

	if (!heap_contains(h, n))
		return;
	last = h->v[--h->len];
	n->slot = SIZE_MAX;
	if (last.n == n)
		return;
	place(h, i, last);
	/* The moved node may belong above or below its new slot. */
	if (i > 0 && h->v[(i - 1) / D].key > last.key)
		sift_up(h, i);
	else
		sift_down(h, i);
}

struct heap_node *heap_pop(struct heap *h)
{
	struct heap_node *n = heap_peek(h);
	if (n)
		heap_remove(h, n);
	return n;
}

void heap_update(struct heap *h, struct heap_node *n, int64_t key)
{
	int64_t old = n->key;
	n->key = key;
	if (!heap_contains(h, n))
		return;
	h->v[n->slot].key = key;
	if (key < old)
		sift_up(h, n->slot);
	else
		sift_down(h, n->slot);
}
