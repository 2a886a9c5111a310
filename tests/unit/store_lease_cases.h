/* store_lease_cases.h — the lease verbs' contract (store.h), the same for
 * every engine: test_store.c (SQLite) and test_store_mysql.c (MariaDB)
 * include it and run these cases on their own stores.  A header of static
 * functions, as the cases need cmocka's macros of the including file. */
#ifndef JOBD_STORE_LEASE_CASES_H
#define JOBD_STORE_LEASE_CASES_H
#include <sys/wait.h>
#include <unistd.h>

#define LEASE_S  ((int64_t)1000000)
#define LEASE_T0 ((int64_t)1700000000 * LEASE_S)

/* a and b: two connections to one store (two daemons). */
static void lease_contract(struct store *a, struct store *b)
{
	const int64_t S = LEASE_S, T0 = LEASE_T0;
	struct store_lease l;

	assert_int_equal(store_lease_get(a, "tick", &l), -ENOENT);
	/* w1 takes a fresh lease; w2 cannot while it is w1's */
	assert_int_equal(store_lease_take(a, "tick", "w1", T0, 3 * S, &l), 0);
	assert_string_equal(l.holder, "");
	assert_int_equal(store_lease_take(b, "tick", "w2", T0 + S, 3 * S, &l),
	                 -EBUSY);
	assert_string_equal(l.holder, "w1");
	assert_int_equal(l.expires, T0 + 3 * S);
	/* a renewal with the same values still counts (matched rows) */
	assert_int_equal(store_lease_take(a, "tick", "w1", T0, 3 * S, NULL), 0);
	/* w1 renews; claims fire times: each once, in order, while held */
	assert_int_equal(store_lease_take(a, "tick", "w1", T0 + 2 * S, 3 * S,
	                                  NULL), 0);
	assert_int_equal(store_lease_fire(a, "tick", "w1", T0 + 2 * S, T0 + 2 * S), 0);
	assert_int_equal(store_lease_fire(a, "tick", "w1", T0 + 2 * S, T0 + 2 * S),
	                 -EBUSY);             /* that time ran already */
	assert_int_equal(store_lease_fire(b, "tick", "w2", T0 + 2 * S, T0 + 4 * S),
	                 -EBUSY);             /* not the holder */
	/* expired (w1 died): w2 takes it, learns the last fire and from whom */
	assert_int_equal(store_lease_take(b, "tick", "w2", T0 + 6 * S, 3 * S, &l), 0);
	assert_string_equal(l.holder, "w1");
	assert_int_equal(l.last_fire, T0 + 2 * S);
	/* w1, back, can neither claim (not its lease) nor take it */
	assert_int_equal(store_lease_fire(a, "tick", "w1", T0 + 6 * S, T0 + 6 * S),
	                 -EBUSY);
	assert_int_equal(store_lease_take(a, "tick", "w1", T0 + 7 * S, 3 * S,
	                                  NULL), -EBUSY);
	/* an expired holder's claim fails too */
	assert_int_equal(store_lease_fire(b, "tick", "w2", T0 + 10 * S, T0 + 10 * S),
	                 -EBUSY);
	assert_int_equal(store_lease_take(b, "tick", "w2", T0 + 10 * S, 3 * S,
	                                  NULL), 0);
	assert_int_equal(store_lease_fire(b, "tick", "w2", T0 + 10 * S, T0 + 10 * S), 0);
	/* release: anyone takes it at once; a release by a non-holder is a
	 * no-op */
	assert_int_equal(store_lease_release(a, "tick", "w1"), 0);
	assert_int_equal(store_lease_take(a, "tick", "w1", T0 + 11 * S, 3 * S,
	                                  NULL), -EBUSY);
	assert_int_equal(store_lease_release(b, "tick", "w2"), 0);
	assert_int_equal(store_lease_take(a, "tick", "w1", T0 + 11 * S, 3 * S,
	                                  &l), 0);
	assert_string_equal(l.holder, "w2");
	assert_int_equal(l.expires, 0);
	assert_int_equal(store_lease_get(b, "tick", &l), 0);
	assert_string_equal(l.holder, "w1");
	assert_int_equal(l.last_fire, T0 + 10 * S);
	/* inside a transaction, as the store thread runs it */
	assert_int_equal(store_begin(b), 0);
	assert_int_equal(store_lease_take(b, "tick", "w2", T0 + 20 * S, 3 * S,
	                                  &l), 0);
	assert_int_equal(store_lease_fire(b, "tick", "w2", T0 + 20 * S, T0 + 20 * S), 0);
	assert_int_equal(store_commit(b), 0);
	/* other jobs are other leases; bad arguments are errors */
	assert_int_equal(store_lease_take(b, "other", "w2", T0 + 21 * S, 3 * S,
	                                  NULL), 0);
	assert_int_equal(store_lease_take(b, "x", NULL, T0, S, NULL), -EINVAL);
}

/* One worker of the race: `steps` times, take a short lease and claim
 * that instant, in one transaction; each instant won is written to fd. */
static void lease_racer(const char *uri, int w, int steps, int go, int fd)
{
	const int64_t S = LEASE_S, T0 = LEASE_T0;
	struct store *s;
	char err[256], me[4] = {'w', (char)('1' + w), 0, 0}, c;

	if (store_open(uri, &s, err, sizeof err) < 0)
		_exit(2);
	if (read(go, &c, 1) < 0)    /* both start together */
		_exit(5);
	for (int i = 0; i < steps; i++) {
		int64_t now = T0 + i * S;
		int won = 0;
		if (store_begin(s) < 0)
			_exit(3);
		if (store_lease_take(s, "job", me, now, S / 2, NULL) == 0 &&
		    store_lease_fire(s, "job", me, now, now) == 0)
			won = 1;
		if (store_commit(s) < 0) {
			store_rollback(s);   /* a deadlock: lost */
			won = 0;
		}
		if (won && write(fd, &i, sizeof i) != sizeof i)
			_exit(4);
	}
	store_close(s);
	_exit(0);
}

/* Two processes (two daemons) race for one lease and its fire times:
 * no instant is claimed twice. */
static void lease_race(const char *uri, int steps)
{
	int fds[2][2], go[2], status, got[2] = {0, 0};
	static int owner[1000];
	pid_t pid[2];

	assert_true(steps <= 1000);
	memset(owner, 0, sizeof owner);
	assert_int_equal(pipe(go), 0);
	for (int w = 0; w < 2; w++) {
		assert_int_equal(pipe(fds[w]), 0);
		pid[w] = fork();
		assert_true(pid[w] >= 0);
		if (pid[w] == 0) {
			close(fds[w][0]);
			close(go[1]);
			lease_racer(uri, w, steps, go[0], fds[w][1]);
		}
		close(fds[w][1]);
	}
	usleep(200000);
	close(go[1]);
	close(go[0]);
	for (int w = 0; w < 2; w++) {
		int i;
		while (read(fds[w][0], &i, sizeof i) == sizeof i) {
			assert_int_equal(owner[i], 0);   /* never twice */
			owner[i] = w + 1;
			got[w]++;
		}
		close(fds[w][0]);
		assert_int_equal(waitpid(pid[w], &status, 0), pid[w]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	print_message("lease race: %d + %d fire times\n", got[0], got[1]);
	assert_true(got[0] + got[1] > 0);
}
#endif
