/* jobfield.h — the field readers of job_from_json, shared by jobdef.c
 * (the field table) and jobfield.c (the readers): each turns one JSON
 * value into one field of a struct job, or fails with a message naming
 * the key.  Internal to those two files. */
#ifndef JOBD_JOBFIELD_H
#define JOBD_JOBFIELD_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/jobs.h"

struct jctx {
	char *err;
	size_t errlen;
	const char *tz_default;
};

/* x->err = the message; returns -EINVAL. */
int jf_ferr(struct jctx *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int jf_oom(struct jctx *x);   /* "out of memory"; -ENOMEM */

int jf_get_str(struct jctx *x, const char *key, json_t *v, char **out);
int jf_get_istr(struct jctx *x, const char *key, json_t *v, char **out);
int jf_get_bool(struct jctx *x, const char *key, json_t *v, int *out);
int jf_get_int(struct jctx *x, const char *key, json_t *v, long long lo,
            long long hi, long long *out);
int jf_get_dur(struct jctx *x, const char *key, json_t *v, int64_t *out);
int jf_check_command(struct jctx *x, const char *key, const char *cmd,
                  int shell);

void jf_strv_free(char **v);
int jf_strv_push(char ***v, const char *s, size_t n);
int jf_get_list(struct jctx *x, const char *key, json_t *v, char ***out);
int jf_get_env(struct jctx *x, json_t *v, char ***env);

int jf_get_actions(struct jctx *x, struct job *j, json_t *v);
int jf_get_checks(struct jctx *x, struct job *j, json_t *v);
#endif
