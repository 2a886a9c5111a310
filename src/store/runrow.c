/* runrow.c — the run row shared by the SQL engines (runrow.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/runrow.h"

/* A column copied with a NUL after it, NULL for SQL NULL. */
static int col_dup(const struct runrow_acc *a, void *row, int i, int bin,
                   char **out, size_t *len)
{
	const char *v;
	size_t n = 0;

	*out = NULL;
	if (len)
		*len = 0;
	if (a->is_null(row, i))
		return 0;
	v = bin ? a->blob(row, i, &n) : a->text(row, i, &n);
	if (!v)
		return -ENOMEM;
	*out = malloc(n + 1);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, v, n);
	(*out)[n] = '\0';
	if (len)
		*len = n;
	return 0;
}

/* A column into a fixed buffer ("" for NULL), truncated to fit. */
static void col_fixed(const struct runrow_acc *a, void *row, int i, char *buf,
                      size_t size)
{
	size_t n = 0;
	const char *v = a->is_null(row, i) ? NULL : a->text(row, i, &n);

	snprintf(buf, size, "%s", v ? v : "");
}

/* An enum column's text, NULL for SQL NULL. */
static const char *col_name(const struct runrow_acc *a, void *row, int i)
{
	size_t n;

	return a->is_null(row, i) ? NULL : a->text(row, i, &n);
}

static void decode_enums(const struct runrow_acc *a, void *row, struct run *r)
{
	const char *v;

	v = col_name(a, row, C_STATUS);
	r->status = v ? run_status_parse(v) : -1;
	if (r->status < 0)
		r->status = RUN_WAITING;
	v = col_name(a, row, C_RESULT);
	r->result = v ? run_result_parse(v) : RESULT_NONE;
	if (r->result < 0)
		r->result = RESULT_NONE;
	v = col_name(a, row, C_TRIGGER);
	r->trigger = v ? run_trigger_parse(v) : -1;
	if (r->trigger < 0)
		r->trigger = TRIG_API;
	r->attempt = a->is_null(row, C_ATTEMPT) ? 1 : (int)a->get_int(row, C_ATTEMPT);
	r->return_code = a->is_null(row, C_RETURN_CODE)
	                 ? -1 : (int)a->get_int(row, C_RETURN_CODE);
}

int runrow_decode(const struct runrow_acc *a, void *row, struct run *r)
{
	int ret = 0;

	memset(r, 0, sizeof(*r));
	r->id = a->get_int(row, C_ID);
	col_fixed(a, row, C_JID, r->jid, sizeof(r->jid));
	col_fixed(a, row, C_PARENT, r->parent, sizeof(r->parent));
	col_fixed(a, row, C_SIG, r->sig, sizeof(r->sig));
	decode_enums(a, row, r);
	r->priority = (int)a->get_int(row, C_PRIORITY);
	r->time_created = a->get_int(row, C_TIME_CREATED);
	r->time_not_before = a->get_int(row, C_TIME_NOT_BEFORE);
	r->time_started = a->get_int(row, C_TIME_STARTED);
	r->time_finished = a->get_int(row, C_TIME_FINISHED);
	r->uid = (uint32_t)a->get_int(row, C_UID);
	r->pid = (int)a->get_int(row, C_PID);
	r->pid_start = a->get_int(row, C_PID_START);
	r->out_truncated = (int)a->get_int(row, C_OUT_TRUNC);
	r->err_truncated = (int)a->get_int(row, C_ERR_TRUNC);
	if (ret == 0) ret = col_dup(a, row, C_JOB, 0, &r->job, NULL);
	if (ret == 0) ret = col_dup(a, row, C_ACTION, 0, &r->action, NULL);
	if (ret == 0) ret = col_dup(a, row, C_TARGET, 0, &r->target, NULL);
	if (ret == 0) ret = col_dup(a, row, C_SPEC, 0, &r->spec, NULL);
	if (ret == 0) ret = col_dup(a, row, C_USER, 0, &r->user, NULL);
	if (ret == 0) ret = col_dup(a, row, C_WORKER, 0, &r->worker, NULL);
	if (ret == 0) ret = col_dup(a, row, C_STDOUT, 1, &r->out, &r->out_len);
	if (ret == 0) ret = col_dup(a, row, C_STDERR, 1, &r->errout, &r->err_len);
	if (ret < 0)
		run_clear(r);
	return ret;
}

unsigned runrow_list_shape(const struct run_query *q)
{
	return (q->job ? Q_JOB : 0) | (q->target ? Q_TARGET : 0) |
	       (q->status >= 0 ? Q_STATUS : 0) | (q->active ? Q_ACTIVE : 0) |
	       (q->since ? Q_SINCE : 0) | (q->by_uid ? Q_UID : 0) |
	       (q->newest_first ? Q_DESC : 0) | (q->with_output ? Q_OUTPUT : 0) |
	       (q->limit > 0 ? Q_LIMIT : 0);
}

int runrow_list_sql(const struct runrow_dialect *d, const char *table,
                    unsigned shape, char *buf, size_t size)
{
	size_t n = 0;
	const char *and = " WHERE ";

#define ADD(...) (n += (size_t)snprintf(buf + n, n < size ? size - n : 0, __VA_ARGS__))
#define COND(bit, ...) \
	if (shape & (bit)) { ADD("%s", and); ADD(__VA_ARGS__); and = " AND "; }
	ADD("SELECT %s FROM `%s`", shape & Q_OUTPUT ? d->cols_out : d->cols, table);
	COND(Q_JOB, "job = ?");
	COND(Q_TARGET, "target = ?");
	COND(Q_STATUS, "status = ?");
	COND(Q_ACTIVE, "status IN ('waiting', 'manual', 'accepted', 'running')");
	COND(Q_SINCE, "%s >= ?", d->created);
	COND(Q_UID, "uid = ?");
	ADD(" ORDER BY id %s", shape & Q_DESC ? "DESC" : "ASC");
	if (shape & Q_LIMIT)
		ADD(" LIMIT ?");
#undef COND
#undef ADD
	return n < size ? 0 : -ENAMETOOLONG;
}

static int arg_text(struct runrow_arg *a, const char *s)
{
	*a = (struct runrow_arg){ .s = s, .is_text = 1 };
	return 1;
}

static int arg_int(struct runrow_arg *a, int64_t i)
{
	*a = (struct runrow_arg){ .i = i };
	return 1;
}

int runrow_list_args(const struct run_query *q,
                     struct runrow_arg out[RUNROW_MAX_ARGS])
{
	int n = 0;

	if (q->job) n += arg_text(&out[n], q->job);
	if (q->target) n += arg_text(&out[n], q->target);
	if (q->status >= 0) n += arg_text(&out[n], run_status_name(q->status));
	if (q->since) n += arg_int(&out[n], q->since);
	if (q->by_uid) n += arg_int(&out[n], q->uid);
	if (q->limit > 0) n += arg_int(&out[n], q->limit);
	return n;
}

int runrow_query_check(const struct run_query *q, char *msg, size_t n)
{
	if (q->status < RUN_STATUS_COUNT && q->status >= -1)
		return 0;
	snprintf(msg, n, "run_list: status %d is invalid", q->status);
	return -EINVAL;
}
