/* prom.c — the Prometheus text exposition format 0.0.4 (prom.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/prom.h"

void prom_init(struct prom *p)
{
	memset(p, 0, sizeof *p);
}

void prom_free(struct prom *p)
{
	free(p->buf);
	prom_init(p);
}

char *prom_take(struct prom *p, size_t *len)
{
	char *s = p->oom ? NULL : p->buf;
	if (s && len)
		*len = p->len;
	if (!s)
		free(p->buf);
	prom_init(p);
	return s;
}

static int grow(struct prom *p, size_t more)
{
	if (p->oom)
		return -1;
	if (p->len + more + 1 <= p->cap)
		return 0;
	size_t cap = p->cap ? p->cap : 4096;
	while (cap < p->len + more + 1)
		cap *= 2;
	char *b = realloc(p->buf, cap);
	if (!b) {
		p->oom = 1;
		return -1;
	}
	p->buf = b;
	p->cap = cap;
	return 0;
}

static void put(struct prom *p, const char *s, size_t n)
{
	if (grow(p, n) < 0)
		return;
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = '\0';
}

static void puts_(struct prom *p, const char *s)
{
	put(p, s, strlen(s));
}

/* The length of the UTF-8 sequence at s (n bytes left), 0 if invalid:
 * the format is UTF-8, and one bad byte must not make the page
 * unreadable. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t k = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 :
	           (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	if (!k || k > n || (k == 2 && s[0] < 0xc2))
		return 0;
	for (size_t i = 1; i < k; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return k;
}

/* quote: label values escape '"' too; HELP text does not */
static void escaped(struct prom *p, const char *s, int quote)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		size_t k = utf8_len(u + i, n - i);
		if (!k) {
			put(p, "?", 1);
			i++;
		} else if (u[i] == '\\') {
			put(p, "\\\\", 2);
			i++;
		} else if (u[i] == '\n') {
			put(p, "\\n", 2);
			i++;
		} else if (u[i] == '"' && quote) {
			put(p, "\\\"", 2);
			i++;
		} else {
			put(p, s + i, k);
			i += k;
		}
	}
}

void prom_double(char *buf, size_t size, double v)
{
	if (isnan(v)) {
		snprintf(buf, size, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	/* whole numbers whole: 86400, not 8.64e+04 (an le value is a label:
	 * "1e+01" and "10" would be two series) */
	if (fabs(v) < 9007199254740992.0 && v == (double)(int64_t)v) {
		snprintf(buf, size, "%lld", (long long)v);
		return;
	}
	/* else the shortest precision that reads back as v: 0.1, not
	 * 0.10000000000000001 */
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

void prom_family(struct prom *p, const char *name, const char *type,
                 const char *help)
{
	puts_(p, "# HELP ");
	puts_(p, name);
	put(p, " ", 1);
	escaped(p, help, 0);
	puts_(p, "\n# TYPE ");
	puts_(p, name);
	put(p, " ", 1);
	puts_(p, type);
	put(p, "\n", 1);
}

/* {a="x",b="y",le="..."}: le NULL for none; nothing when there is no
 * label at all */
static void labels_put(struct prom *p, const struct prom_label *l, int n,
                       const char *le)
{
	if (!n && !le)
		return;
	put(p, "{", 1);
	for (int i = 0; i < n; i++) {
		if (i)
			put(p, ",", 1);
		puts_(p, l[i].name);
		put(p, "=\"", 2);
		escaped(p, l[i].value ? l[i].value : "", 1);
		put(p, "\"", 1);
	}
	if (le) {
		puts_(p, n ? ",le=\"" : "le=\"");
		puts_(p, le);
		put(p, "\"", 1);
	}
	put(p, "}", 1);
}

static void line(struct prom *p, const char *name, const char *suffix,
                 const struct prom_label *l, int n, const char *le,
                 double v)
{
	char num[40];
	puts_(p, name);
	puts_(p, suffix);
	labels_put(p, l, n, le);
	prom_double(num, sizeof num, v);
	put(p, " ", 1);
	puts_(p, num);
	put(p, "\n", 1);
}

void prom_sample(struct prom *p, const char *name,
                 const struct prom_label *labels, int n, double value)
{
	line(p, name, "", labels, n, NULL, value);
}

void prom_histogram(struct prom *p, const char *name,
                    const struct prom_label *labels, int n,
                    const struct prom_hist *h)
{
	char le[40];
	uint64_t acc = 0;
	for (int i = 0; i < h->n; i++) {
		acc += h->counts[i];
		prom_double(le, sizeof le, h->bounds[i]);
		line(p, name, "_bucket", labels, n, le, (double)acc);
	}
	/* +Inf is the count: the same number, by construction */
	line(p, name, "_bucket", labels, n, "+Inf", (double)h->count);
	line(p, name, "_sum", labels, n, NULL, h->sum);
	line(p, name, "_count", labels, n, NULL, (double)h->count);
}

void prom_hist_init(struct prom_hist *h, const double *bounds, int n)
{
	memset(h, 0, sizeof *h);
	h->bounds = bounds;
	h->n = n > PROM_MAX_BUCKETS ? PROM_MAX_BUCKETS : n;
}

void prom_hist_observe(struct prom_hist *h, double v)
{
	int i = 0;
	if (isnan(v))
		return;
	while (i < h->n && v > h->bounds[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += v;
}

int prom_name_valid(const char *s, int label)
{
	if (!s || !*s || (label && s[0] == '_' && s[1] == '_'))
		return 0;
	for (const char *c = s; *c; c++) {
		int alpha = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		            *c == '_' || (!label && *c == ':');
		int digit = *c >= '0' && *c <= '9';
		if (!alpha && !(digit && c != s))
			return 0;
	}
	return 1;
}
