/* list.h — an intrusive doubly linked list (libuv's QUEUE, spelled out):
 * a struct link in each element, a struct link as the head.  Header-only:
 * every function is a few pointer moves. */
#ifndef JOBD_LIST_H
#define JOBD_LIST_H

#include <stddef.h>

struct link {
	struct link *prev, *next;
};

#define link_entry(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

static inline void link_init(struct link *l) { l->prev = l->next = l; }
static inline int link_empty(const struct link *l) { return l->next == l; }

static inline void link_insert_before(struct link *at, struct link *l)
{
	l->next = at;
	l->prev = at->prev;
	at->prev->next = l;
	at->prev = l;
}

static inline void link_remove(struct link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	link_init(l);
}

/* Unlinks and returns the first element of head's list, NULL when empty:
 * emptying loops that free each element, written so that clang's analyzer
 * sees the list shrink. */
static inline struct link *link_pop(struct link *head)
{
	struct link *l = head->next;

	if (l == head)
		return NULL;
	head->next = l->next;   /* link_remove through head: l->prev is head */
	l->next->prev = head;
	link_init(l);
	return l;
}
#endif
