/* prom.h — the Prometheus text exposition format (version 0.0.4): a pure
 * writer of metric families into a growing buffer, and the histogram
 * that the engine keeps (observed on the loop, rendered here).
 *
 * A family is "# HELP" and "# TYPE" then its samples; every sample of a
 * family must follow its header (the format forbids a family in two
 * places).  Label values and HELP text are escaped as the format asks
 * (\\, \" and \n in label values; \\ and \n in HELP).  Names are the
 * program's own (checked by prom_name_valid in the tests, not at run
 * time).  Out of memory is sticky: prom_take then gives NULL. */
#ifndef JOBD_PROM_H
#define JOBD_PROM_H
#include <stddef.h>
#include <stdint.h>

struct prom {
	char *buf;
	size_t len, cap;
	int oom;
};

/* A histogram with fixed upper bounds (ascending, finite; +Inf is
 * implicit): counts[i] counts the observations in (bounds[i-1],
 * bounds[i]], counts[n] those above the last bound.  Not cumulative: the
 * writer sums them. */
#define PROM_MAX_BUCKETS 24
struct prom_hist {
	const double *bounds;
	int n;                   /* bounds in use, <= PROM_MAX_BUCKETS */
	uint64_t counts[PROM_MAX_BUCKETS + 1];
	uint64_t count;
	double sum;
};

/* A label: name (the program's) = value (any bytes, escaped). */
struct prom_label {
	const char *name, *value;
};

void prom_init(struct prom *p);
/* The text (NUL-terminated, malloc'd; *len its length when given) or NULL
 * when memory ran out.  p is empty afterwards. */
char *prom_take(struct prom *p, size_t *len);
void prom_free(struct prom *p);

/* "# HELP name help\n# TYPE name type\n"; type is counter, gauge,
 * histogram or untyped. */
void prom_family(struct prom *p, const char *name, const char *type,
                 const char *help);
/* name{labels} value: n labels (0: no braces). */
void prom_sample(struct prom *p, const char *name,
                 const struct prom_label *labels, int n, double value);
/* name_bucket{labels,le="..."} (cumulative, ending with le="+Inf"),
 * name_sum{labels} and name_count{labels}. */
void prom_histogram(struct prom *p, const char *name,
                    const struct prom_label *labels, int n,
                    const struct prom_hist *h);

/* h with these bounds (ascending, at most PROM_MAX_BUCKETS), zeroed. */
void prom_hist_init(struct prom_hist *h, const double *bounds, int n);
void prom_hist_observe(struct prom_hist *h, double v);

/* Whether s is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or, with
 * label = 1, a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not "__..."). */
int prom_name_valid(const char *s, int label);
/* A float as the format writes it: the shortest text that reads back as
 * v; "+Inf", "-Inf", "NaN".  buf of 32 bytes at least. */
void prom_double(char *buf, size_t size, double v);
#endif
