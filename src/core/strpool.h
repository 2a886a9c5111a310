/* strpool.h — interned strings: each distinct value kept once, with a
 * count of the holders.  Jobs share a few values many times over (their
 * job file's path, their target, their time zone); 100,000 jobs then hold
 * a handful of copies.  The pool is process-wide and not locked: it
 * belongs to one thread (jobd's loop thread, which loads jobs). */
#ifndef JOBD_STRPOOL_H
#define JOBD_STRPOOL_H
#include <stdint.h>

/* FNV-1a of s: the pool's hash, for other tables of names too. */
uint32_t strpool_hash(const char *s);
/* A counted reference to the one copy of s; NULL when out of memory.
 * Never free() it: give it back with strpool_release. */
char *strpool_intern(const char *s);
/* Drops one reference to s (from strpool_intern; NULL is ignored); the
 * copy is freed with the last, and the table with the last copy. */
void strpool_release(char *s);
#endif
