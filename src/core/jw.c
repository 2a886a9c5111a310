/* jw.c — the JSON writer (jw.h says why it exists). */
#include "core/jw.h"

#include <stdlib.h>
#include <string.h>

void jw_init(struct jw *w)
{
	memset(w, 0, sizeof *w);
}

void jw_free(struct jw *w)
{
	free(w->buf);
	jw_init(w);
}

void jw_reset(struct jw *w)
{
	char *buf = w->buf;
	size_t cap = w->cap;
	jw_init(w);
	w->buf = buf;
	w->cap = cap;
	if (buf)
		buf[0] = '\0';
}

char *jw_take(struct jw *w, size_t *len)
{
	char *p = w->oom ? NULL : w->buf;
	if (!p)
		free(w->buf);
	else if (len)
		*len = w->len;
	jw_init(w);
	return p;
}

/* Room for n more bytes and the NUL; 0, or -1 (and w->oom) */
static int grow(struct jw *w, size_t n)
{
	if (w->oom)
		return -1;
	if (w->len + n + 1 <= w->cap)
		return 0;
	size_t cap = w->cap ? w->cap : 256;
	while (cap < w->len + n + 1)
		cap *= 2;
	char *p = realloc(w->buf, cap);
	if (!p) {
		w->oom = 1;
		return -1;
	}
	w->buf = p;
	w->cap = cap;
	return 0;
}

static void put(struct jw *w, const char *p, size_t n)
{
	if (grow(w, n) < 0)
		return;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

/* Before any value or key: the comma that separates it from the last. */
static void sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->depth > 0 && w->depth <= JW_MAX_DEPTH) {
		if (w->n[w->depth - 1])   /* a flag, not a count: no wrap */
			put(w, ",", 1);
		w->n[w->depth - 1] = 1;
	}
}

void jw_open(struct jw *w, char bracket)
{
	sep(w);
	put(w, &bracket, 1);
	if (w->depth < JW_MAX_DEPTH)
		w->n[w->depth] = 0;
	w->depth++;
}

void jw_close(struct jw *w, char bracket)
{
	w->depth--;
	put(w, &bracket, 1);
}

/* The escaped body of a string: runs of plain bytes are copied whole. */
static void escaped(struct jw *w, const unsigned char *p, size_t n, int ascii)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && p[j] >= 0x20 && p[j] != '"' && p[j] != '\\' &&
		       (!ascii || p[j] < 0x80))
			j++;
		put(w, (const char *)p + i, j - i);
		if (j == n)
			break;
		char e[6] = {'\\', 0, '0', '0', 0, 0};
		size_t len = 2;
		switch (p[j]) {
		case '"': e[1] = '"'; break;
		case '\\': e[1] = '\\'; break;
		case '\b': e[1] = 'b'; break;
		case '\f': e[1] = 'f'; break;
		case '\n': e[1] = 'n'; break;
		case '\r': e[1] = 'r'; break;
		case '\t': e[1] = 't'; break;
		default:
			if (p[j] >= 0x80) {      /* ascii mode: not UTF-8 */
				e[0] = '?';
				len = 1;
				break;
			}
			e[1] = 'u';
			e[4] = hex[p[j] >> 4];
			e[5] = hex[p[j] & 15];
			len = 6;
		}
		put(w, e, len);
		i = j + 1;
	}
}

/* 1 when p[0..n) is well-formed UTF-8 (no overlongs, surrogates or code
 * points past U+10FFFF: what jansson accepts). */
static int utf8_valid(const unsigned char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = p[i];
		size_t k;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, cp = c & 0x07;
		else
			return 0;
		if (n - i <= k)
			return 0;
		for (size_t m = 1; m <= k; m++) {
			if ((p[i + m] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + m] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

void jw_bytes(struct jw *w, const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)(p ? p : "");
	if (!p)
		n = 0;
	sep(w);
	put(w, "\"", 1);
	escaped(w, u, n, !utf8_valid(u, n));
	put(w, "\"", 1);
}

void jw_str(struct jw *w, const char *s)
{
	if (!s)
		return jw_null(w);
	jw_bytes(w, s, strlen(s));
}

void jw_key(struct jw *w, const char *key)
{
	sep(w);
	put(w, "\"", 1);          /* a literal: nothing to escape */
	put(w, key, strlen(key));
	put(w, "\":", 2);
	w->after_key = 1;
}

void jw_int(struct jw *w, int64_t v)
{
	char b[24], *e = b + sizeof b, *p = e;
	/* by hand: snprintf's format parsing showed in profiles */
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	sep(w);
	put(w, p, (size_t)(e - p));
}

void jw_bool(struct jw *w, int v)
{
	sep(w);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void jw_null(struct jw *w)
{
	sep(w);
	put(w, "null", 4);
}

void jw_raw(struct jw *w, const char *text, size_t n)
{
	sep(w);
	put(w, text, n);
}

void jw_kstr(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_str(w, s);
}

void jw_kint(struct jw *w, const char *key, int64_t v)
{
	jw_key(w, key);
	jw_int(w, v);
}

void jw_kbool(struct jw *w, const char *key, int v)
{
	jw_key(w, key);
	jw_bool(w, v);
}
