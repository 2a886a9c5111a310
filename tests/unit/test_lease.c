/* test_lease.c — placement = one (engine/lease.c) through a real engine
 * over the fake store and the fake clock: a job fires only while this
 * daemon holds its lease; taken over, it goes on from the cluster's last
 * fire; a fire time claimed elsewhere is not run (its run is dropped,
 * no row); manual runs are refused off the holder. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/timefmt.h"
#include "fake_engine.h"

#define MINUTE (60 * US_PER_S)

static int job_rows(const char *name)
{
	char jid[JID_LEN + 1];
	int n = 0;
	for (int i = 0; fake_store_row_jid(i, jid)[0]; i++) {
		struct run r;
		assert_int_equal(fake_store_row(jid, &r), 0);
		n += r.job && strcmp(r.job, name) == 0;
		run_clear(&r);
	}
	return n;
}

static int here(struct fx *f, const char *name)
{
	struct engine_lease l;
	struct job *j = engine_job_find(&f->e, name);
	return j && engine_lease(&f->e, j, &l) == 0 && l.here;
}

/* Sets the fake clock and waits for a lease attempt made at that time
 * (the lease timer runs on real time: every lease_timeout / 3). */
static void at(struct fx *f, int64_t now)
{
	now_us_fake(now);
	int n = fake_store_count(FS_LEASE_TAKE);
	FX_UNTIL(f, fake_store_count(FS_LEASE_TAKE) >= n + 2);
	fx_settle(f, 0);
}

static void test_fires_only_when_held(void **state)
{
	struct fx f;
	const char *me;
	char err[256];
	(void)state;

	fake_store_reset();
	fake_store_put_lease("c", "other", FX_EPOCH + 60 * MINUTE, 0);
	fx_open(&f, FX_EPOCH + MINUTE);
	me = engine_config(&f.e)->name;
	struct job *j = fx_job(&f, "{\"name\": \"c\", \"command\": \"/bin/true\","
	                           " \"schedule\": \"*/5 * * * *\","
	                           " \"placement\": \"one\", \"lease_timeout\": 1}");
	/* another daemon holds it: its times pass here without a run */
	at(&f, FX_EPOCH + 5 * MINUTE);
	assert_false(here(&f, "c"));
	scheduler_tick(&f.e);
	fx_settle(&f, 50);
	assert_int_equal(job_rows("c"), 0);
	/* not even tried: the scheduler holds back, the claim is the
	 * store's second guard */
	assert_int_equal(fake_store_count(FS_LEASE_FIRE), 0);
	assert_int_equal(engine_lease_refuse(&f.e, j, err, sizeof err), -ECANCELED);
	assert_string_equal(err, "job 'c' has placement = one and runs on other "
	                    "(the lease holder)");
	/* it released the lease after its fire at 5 min: taken here */
	fake_store_put_lease("c", "other", 0, FX_EPOCH + 5 * MINUTE);
	at(&f, FX_EPOCH + 10 * MINUTE - US_PER_S / 2);
	FX_UNTIL(&f, here(&f, "c"));
	j = engine_job_find(&f.e, "c");
	assert_int_equal(engine_lease_refuse(&f.e, j, err, sizeof err), 0);
	assert_int_equal(j->last_run, FX_EPOCH + 5 * MINUTE);
	at(&f, FX_EPOCH + 10 * MINUTE);
	scheduler_tick(&f.e);
	FX_UNTIL(&f, job_rows("c") == 1);
	struct store_lease l;
	/* the fire time is claimed in the lease */
	struct store *s = NULL;
	char e2[128];
	assert_int_equal(store_open("fake://unit", &s, e2, sizeof e2), 0);
	assert_int_equal(store_lease_get(s, "c", &l), 0);
	assert_string_equal(l.holder, me);
	assert_int_equal(l.last_fire, FX_EPOCH + 10 * MINUTE);
	/* a time already claimed (by a daemon that held it before): not
	 * run again, the run is dropped and leaves no row */
	at(&f, FX_EPOCH + 15 * MINUTE - US_PER_S / 2);
	fake_store_put_lease("c", me, FX_EPOCH + 60 * MINUTE,
	                     FX_EPOCH + 15 * MINUTE);
	at(&f, FX_EPOCH + 15 * MINUTE);
	scheduler_tick(&f.e);
	fx_settle(&f, 100);
	assert_int_equal(job_rows("c"), 1);
	assert_int_equal(fx_count(&f, "c", -1), 0);
	store_close(s);
	fx_close(&f);
}

/* An @every job taken over goes on from the cluster's last fire, not
 * sooner, whatever this daemon passed over meanwhile. */
static void test_every_from_last_fire(void **state)
{
	struct fx f;
	(void)state;

	fake_store_reset();
	fake_store_put_lease("e", "other", FX_EPOCH + 60 * MINUTE, 0);
	fx_open(&f, FX_EPOCH);
	fx_job(&f, "{\"name\": \"e\", \"command\": \"/bin/true\","
	           " \"schedule\": \"@every 10m\", \"placement\": \"one\","
	           " \"lease_timeout\": 1}");
	at(&f, FX_EPOCH + 10 * MINUTE);
	scheduler_tick(&f.e);
	at(&f, FX_EPOCH + 15 * MINUTE);
	assert_int_equal(job_rows("e"), 0);
	/* the other daemon ran it at 12 min, then died */
	fake_store_put_lease("e", "other", FX_EPOCH + 15 * MINUTE - 1,
	                     FX_EPOCH + 12 * MINUTE);
	at(&f, FX_EPOCH + 16 * MINUTE);
	FX_UNTIL(&f, here(&f, "e"));
	struct job *j = engine_job_find(&f.e, "e");
	assert_int_equal(j->next_fire, FX_EPOCH + 22 * MINUTE);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fires_only_when_held),
		cmocka_unit_test(test_every_from_last_fire),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
