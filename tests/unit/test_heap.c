/* test_heap.c — the min-heap against a plain reference under 10,000 random
 * operations (fixed seed), with the heap property and slots checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/heap.h"

#define NODES 500

static struct heap_node nodes[NODES];
static int in_ref[NODES];   /* the reference: which nodes are in */

static void check_invariants(const struct heap *h)
{
	size_t count = 0;

	for (size_t i = 0; i < h->len; i++) {
		assert_int_equal(h->v[i].n->slot, i);
		assert_int_equal(h->v[i].key, h->v[i].n->key);  /* kept beside */
		if (i > 0)     /* 4-ary (heap.c) */
			assert_true(h->v[(i - 1) / 4].key <= h->v[i].key);
	}
	for (int k = 0; k < NODES; k++) {
		assert_int_equal(heap_contains(h, &nodes[k]), in_ref[k]);
		count += (size_t)in_ref[k];
	}
	assert_int_equal(h->len, count);
}

static int64_t ref_min(int *found)
{
	int64_t m = INT64_MAX;

	*found = 0;
	for (int k = 0; k < NODES; k++)
		if (in_ref[k] && (!*found || nodes[k].key < m)) {
			m = nodes[k].key;
			*found = 1;
		}
	return m;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void test_random_ops(void **state)
{
	unsigned seed = 20261123;
	struct heap h;
	int64_t sorted[NODES], prev;
	size_t ns = 0;
	int found;

	(void)state;
	heap_init(&h);
	for (int k = 0; k < NODES; k++)
		nodes[k].slot = SIZE_MAX;
	for (int op = 0; op < 10000; op++) {
		int k = rand_r(&seed) % NODES, what = rand_r(&seed) % 5;
		/* Small key range so equal keys are common. */
		int64_t key = rand_r(&seed) % 1000 - 500;

		if (what <= 1 && !in_ref[k]) {
			nodes[k].key = key;
			assert_int_equal(heap_push(&h, &nodes[k]), 0);
			in_ref[k] = 1;
		} else if (what == 2) {
			int64_t m = ref_min(&found);
			struct heap_node *n = heap_pop(&h);
			if (!found) {
				assert_null(n);
			} else {
				assert_non_null(n);
				assert_int_equal(n->key, m);
				assert_int_equal(n->slot, SIZE_MAX);
				in_ref[n - nodes] = 0;
			}
		} else if (what == 3) {
			heap_remove(&h, &nodes[k]);   /* harmless if not in */
			in_ref[k] = 0;
			assert_int_equal(nodes[k].slot, SIZE_MAX);
		} else {
			heap_update(&h, &nodes[k], key);
			assert_int_equal(nodes[k].key, key);
		}
		{
			int64_t m = ref_min(&found);
			struct heap_node *top = heap_peek(&h);
			if (found)
				assert_int_equal(top->key, m);
			else
				assert_null(top);
		}
		if (op % 100 == 0)
			check_invariants(&h);
	}
	check_invariants(&h);

	/* Draining gives the reference keys in sorted order. */
	for (int k = 0; k < NODES; k++)
		if (in_ref[k])
			sorted[ns++] = nodes[k].key;
	qsort(sorted, ns, sizeof(sorted[0]), cmp64);
	assert_true(ns > 0);
	prev = INT64_MIN;
	for (size_t i = 0; i < ns; i++) {
		struct heap_node *n = heap_pop(&h);
		assert_non_null(n);
		assert_int_equal(n->key, sorted[i]);
		assert_true(n->key >= prev);
		prev = n->key;
		in_ref[n - nodes] = 0;
	}
	assert_null(heap_pop(&h));
	assert_int_equal(h.len, 0);
	heap_free(&h);
}

static void test_basics(void **state)
{
	struct heap h;
	struct heap_node a = { .key = 5 }, b = { .key = 3 }, c = { .key = 9 };
	struct heap_node d = { .key = 1, .slot = SIZE_MAX };

	(void)state;
	heap_init(&h);
	assert_null(heap_peek(&h));
	assert_null(heap_pop(&h));
	assert_false(heap_contains(&h, &d));
	/* A zeroed node (slot 0) is not mistaken for a member. */
	assert_false(heap_contains(&h, &a));
	assert_int_equal(heap_push(&h, &a), 0);
	assert_int_equal(heap_push(&h, &b), 0);
	assert_int_equal(heap_push(&h, &c), 0);
	assert_ptr_equal(heap_peek(&h), &b);
	assert_true(heap_contains(&h, &a));
	assert_false(heap_contains(&h, &d));

	heap_update(&h, &c, 0);                 /* up */
	assert_ptr_equal(heap_peek(&h), &c);
	heap_update(&h, &c, 100);               /* down */
	assert_ptr_equal(heap_peek(&h), &b);
	heap_remove(&h, &b);
	assert_false(heap_contains(&h, &b));
	assert_int_equal(b.slot, SIZE_MAX);
	heap_remove(&h, &b);                    /* twice: no-op */
	assert_int_equal(h.len, 2);
	assert_ptr_equal(heap_pop(&h), &a);
	assert_ptr_equal(heap_pop(&h), &c);
	assert_null(heap_pop(&h));

	/* heap_free leaves the nodes marked out. */
	assert_int_equal(heap_push(&h, &a), 0);
	heap_free(&h);
	assert_int_equal(a.slot, SIZE_MAX);
	assert_null(h.v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basics),
		cmocka_unit_test(test_random_ops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
