/* jw.h — a JSON writer: values appended as text to a growing buffer.
 *
 * Hand-written because jansson (used everywhere else) has no streaming
 * encoder: it builds a tree, then dumps it.  For the replies sent
 * thousands of times a second (a run: some thirty fields) the tree, its
 * dump and its free were most of the loop's time in bench/queue; writing
 * the text directly costs a fraction of that.
 *
 * Commas are placed by the writer; a value after jw_key belongs to that
 * key.  Strings are escaped as jansson escapes them; bytes that are not
 * UTF-8 make the string's non-ASCII bytes '?' (jw_bytes) so one bad byte
 * of a run's output never makes a message unreadable.  Out of memory is
 * sticky: jw_take then gives NULL. */
#ifndef JOBD_JW_H
#define JOBD_JW_H
#include <stddef.h>
#include <stdint.h>

#define JW_MAX_DEPTH 32

struct jw {
	char *buf;
	size_t len, cap;
	int oom;
	int depth;
	int after_key;           /* the next value is a key's: no comma */
	unsigned char n[JW_MAX_DEPTH];   /* per level: anything written yet */
};

void jw_init(struct jw *w);
/* The text (NUL-terminated, malloc'd; *len its length when len is given),
 * or NULL when memory ran out.  w is empty afterwards. */
char *jw_take(struct jw *w, size_t *len);
void jw_free(struct jw *w);
/* Empties w for new text, keeping its buffer. */
void jw_reset(struct jw *w);

void jw_open(struct jw *w, char bracket);   /* '{' or '[' */
void jw_close(struct jw *w, char bracket);  /* '}' or ']' */
/* key: a name in the program's text (ASCII, nothing to escape) */
void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *s);   /* NULL: null */
void jw_bytes(struct jw *w, const char *p, size_t n);
void jw_int(struct jw *w, int64_t v);
void jw_bool(struct jw *w, int v);
void jw_null(struct jw *w);
/* A value that is JSON text already. */
void jw_raw(struct jw *w, const char *text, size_t n);
/* A key and its value in one call. */
void jw_kstr(struct jw *w, const char *key, const char *s);  /* NULL: null */
void jw_kint(struct jw *w, const char *key, int64_t v);
void jw_kbool(struct jw *w, const char *key, int v);
#endif
