/* fake_store.h — an in-memory store (store/store.h's vtable) for the
 * engine's unit tests: every handle opened on "fake://..." shares one set
 * of rows, jobs, targets and key/values, so the engine's write and read
 * threads see the same data, as with one database.  It records the calls,
 * and can be told to fail a call or to hold it (block the store thread)
 * until released, to test the engine's error paths and its waiting. */
#ifndef FAKE_STORE_H
#define FAKE_STORE_H

#include <stdint.h>

#include "jobd.h"
#include "store/store.h"

enum fake_op {
	FS_BEGIN, FS_COMMIT, FS_ROLLBACK, FS_JOB_PUT, FS_JOB_DEL, FS_JOB_EACH,
	FS_RUN_INSERT, FS_RUN_UPDATE, FS_RUN_GET, FS_RUN_GET_ID, FS_RUN_LIST,
	FS_RUN_LAST_EACH, FS_RUN_MAX_JID, FS_RUN_CLAIM, FS_RUN_SWEEP, FS_TARGET_PUT,
	FS_TARGET_DEL, FS_TARGET_EACH, FS_KV_GET, FS_KV_PUT, FS_LEASE_TAKE,
	FS_LEASE_FIRE, FS_LEASE_GET, FS_LEASE_RELEASE, FS_OP_COUNT
};

/* One recorded call: for run writes and claims the row as written. */
struct fake_call {
	int op;                  /* enum fake_op */
	int rc;                  /* what the call returned */
	char jid[JID_LEN + 1];
	int64_t id;
	int status, result, return_code;
};

/* Installs the opener (store_fake_open) and empties the shared state. */
void fake_store_reset(void);
/* Frees the shared state (after engine_close). */
void fake_store_free(void);

/* Calls of op so far (successful or not). */
int fake_store_count(int op);
/* The recorded calls (valid until the next call into the store). */
int fake_store_calls(struct fake_call *out, int max);
/* Writes of op (FS_RUN_INSERT, FS_RUN_UPDATE) of run jid whose row had
 * status `status` (-1: any), successful ones only. */
int fake_store_writes(int op, const char *jid, int status);

/* The next `times` calls of op (after `skip` more calls) return rc
 * (store_error: "fake failure"). */
void fake_store_fail(int op, int skip, int times, int rc);
/* Calls of op block in the store until fake_store_release. */
void fake_store_hold(int op);
void fake_store_release(void);
/* 1 once a call of a held op is blocked. */
int fake_store_holding(void);

/* A copy of run jid's row (run_clear it); -ENOENT if none. */
int fake_store_row(const char *jid, struct run *out);
/* Rows stored so far. */
int fake_store_rows(void);
/* The jid of the i-th row inserted ("" past the end). */
const char *fake_store_row_jid(int i, char buf[JID_LEN + 1]);
/* Sets job's lease (placement = one) as another daemon would. */
void fake_store_put_lease(const char *job, const char *holder,
                          int64_t expires, int64_t last_fire);
/* Seeds, before engine_open. */
int fake_store_put_job(const char *name, const char *def_json);
int fake_store_put_kv(const char *key, const char *val);
/* A row as another program (or an earlier jobd) left it; sets r->id. */
int fake_store_put_run(struct run *r);
/* The value of key (malloc'd) or NULL. */
char *fake_store_kv(const char *key);

#endif
