/* heap.h — a min-heap of (key, item) with O(log n) insert, remove and
 * update; each item remembers its slot so it can be moved or removed. */
#ifndef JOBD_HEAP_H
#define JOBD_HEAP_H
#include <stddef.h>
#include <stdint.h>

struct heap_node {
	int64_t key;
	size_t slot;      /* index in the heap, managed by heap.c */
};

/* a slot: the node's key beside it, so that finding a smaller child
 * reads the array only (heap.c) */
struct heap_ent {
	int64_t key;
	struct heap_node *n;
};

struct heap {
	struct heap_ent *v;
	size_t len, cap;
};

void heap_init(struct heap *h);
void heap_free(struct heap *h);          /* frees the array, not the nodes */
int heap_push(struct heap *h, struct heap_node *n);   /* 0 or -ENOMEM */
struct heap_node *heap_peek(const struct heap *h);
struct heap_node *heap_pop(struct heap *h);
void heap_remove(struct heap *h, struct heap_node *n);
void heap_update(struct heap *h, struct heap_node *n, int64_t key);
int heap_contains(const struct heap *h, const struct heap_node *n);
#endif
