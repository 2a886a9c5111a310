#!/usr/bin/env python3
"""bench/gen_jobs.py DIR N [SECOND_JOBS MINUTE_JOBS] — writes N cron jobs
running /bin/true into DIR/*.conf (1,000 jobs a file) for bench/schedule.sh.

SECOND_JOBS (default 50) of them fire every second (`* * * * * *`) and
MINUTE_JOBS (default 500) every minute (`* * * * *`), spread evenly over
the files; the rest fire rarely (daily or less often), with mixed 5-, 6-
and 7-field expressions: lists, ranges, steps, L, LW, NW, N#k, NL, names,
macros; every 7th job has a `timezone`.  Deterministic (seeded)."""
import os
import random
import sys

out = sys.argv[1]
n = int(sys.argv[2])
n_sec = int(sys.argv[3]) if len(sys.argv) > 3 else 50
n_min = int(sys.argv[4]) if len(sys.argv) > 4 else 500
per_file = 1000
rnd = random.Random(42)
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo",
         "Australia/Sydney", "UTC", "America/Sao_Paulo", "Asia/Kolkata"]
DOW = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
MON = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
       "nov", "dec"]


def r(a, b):
    return rnd.randint(a, b)


def rare():
    """A schedule that fires at most a few times a day."""
    m, h, s = r(0, 59), r(0, 23), r(0, 59)
    k = rnd.randrange(16)
    if k == 0:
        return "%d %d * * *" % (m, h)
    if k == 1:
        return "%d %d %d * *" % (m, h, r(1, 28))
    if k == 2:
        return "%d %d %d ? * %s-%s" % (s, m, h, DOW[r(1, 3)], DOW[r(4, 5)])
    if k == 3:
        return "%d %d %d L * ?" % (s, m, h)
    if k == 4:
        return "%d %d LW * *" % (m, h)
    if k == 5:
        return "%d %d %dW %s,%s,%s *" % (m, h, r(1, 28), MON[0], MON[3],
                                          MON[r(6, 9)])
    if k == 6:
        return "%d %d * * %dL" % (m, h, r(0, 6))
    if k == 7:
        return "%d %d * * %d#%d" % (m, h, r(0, 6), r(1, 5))
    if k == 8:
        return "%d %d %d ? * %s#%d %d-%d/2" % (s, m, h, DOW[r(0, 6)],
                                                r(1, 4), r(2030, 2040),
                                                r(2050, 2099))
    if k == 9:
        return "%d %d-%d/%d * * %s-%s" % (m, r(0, 8), r(12, 23), r(2, 6),
                                          DOW[1], DOW[5])
    if k == 10:
        return "%d,%d %d * %s-%s *" % (m, (m + 30) % 60, h,
                                       MON[r(0, 4)], MON[r(5, 11)])
    if k == 11:
        return rnd.choice(["@daily", "@weekly", "@monthly", "@yearly",
                           "@midnight", "@annually"])
    if k == 12:
        return "%d %d %d %d %d ? *" % (s, m, h, r(1, 28), r(1, 12))
    if k == 13:
        return "%d %d %d,%d %d-%d *" % (m, h, r(1, 14), r(15, 28),
                                         r(1, 6), r(7, 12))
    if k == 14:
        return "%d %d/%d %d * * %d" % (s, m, r(20, 40), h, r(0, 7))
    return "%d %d 29 2 *" % (m, h)


# indexes of the frequent jobs, spread over the whole range
sec_at = set(range(0, n, max(1, n // n_sec))[:n_sec]) if n_sec else set()
min_at = set(range(n // n_min // 2, n, max(1, n // n_min))[:n_min]) \
    if n_min else set()
min_at -= sec_at
os.makedirs(out, exist_ok=True)
f = None
counts = {"second": 0, "minute": 0, "rare": 0}
for i in range(n):
    if i % per_file == 0:
        if f:
            f.close()
        f = open(os.path.join(out, "jobs%04d.conf" % (i // per_file)), "w")
    if i in sec_at:
        sched, kind = "* * * * * *", "second"
    elif i in min_at:
        sched, kind = "* * * * *", "minute"
    else:
        sched, kind = rare(), "rare"
    counts[kind] += 1
    f.write("[job j%06d]\ncommand = /bin/true\nschedule = %s\n"
            "overlap = allow\n" % (i, sched))
    if i % 7 == 3:
        f.write("timezone = %s\n" % ZONES[i // 7 % len(ZONES)])
if f:
    f.close()
print("%d %d %d" % (counts["second"], counts["minute"], counts["rare"]))
