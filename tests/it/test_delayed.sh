#!/usr/bin/env bash
# Delayed starts (`submit --at`; jitter and retry backoff wait the same way):
# a run starts at its instant, not at the scheduler's next wake, and its
# time_started is when its process was spawned — also when the store held
# up the start (its running row must be committed before the spawn).
. "$(dirname "$0")/lib.sh"
jobd_start

# unix seconds (fractional) of an RFC 3339 UTC time
secs() { python3 -c 'import sys, datetime
print(datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00")).timestamp())' "$1"; }
done_run() { [ "$(jobctl --json runs --limit 5 | jq -r --arg j "$1" \
	'.runs[] | select(.jid == $j) | .status')" = done ]; }
field() { jobctl --json runs --limit 5 | jq -r --arg j "$1" \
	".runs[] | select(.jid == \$j) | .$2"; }
# within LO HI X: LO <= X < HI
within() { awk -v lo="$1" -v hi="$2" -v x="$3" 'BEGIN { exit !(x >= lo && x < hi) }'; }

# --- a run --at 2.3 s from now starts at that instant -------------------------
at=$(python3 -c 'import time, datetime
print(datetime.datetime.fromtimestamp(time.time() + 2.3, datetime.timezone.utc)
      .strftime("%Y-%m-%dT%H:%M:%S.%fZ"))')
jid=$(jobctl submit --at "$at" -- sh -c "date +%s.%N >$T/child1")
retry_until 15 done_run "$jid" || fail "the --at run ends" "$(jobctl runs)"
nb=$(secs "$(field "$jid" not_before)")
st=$(secs "$(field "$jid" time_started)")
late=$(awk -v a="$st" -v b="$nb" 'BEGIN { printf "%.3f", a - b }')
expect_eq "not_before is the --at instant" "$nb" "$(secs "$at")"
within 0 1 "$late" && pass "the --at run starts at its instant (${late} s late)" ||
	fail "the --at run starts at its instant (< 1 s late)" "late $late s"
d=$(awk -v a="$(cat "$T/child1")" -v b="$st" 'BEGIN { printf "%.3f", a - b }')
within 0 0.5 "$d" && pass "time_started is the spawn (child ran ${d} s after)" ||
	fail "time_started is the spawn" "the child's clock read $d s after time_started"

# --- the store is locked across the instant: the start waits for it ----------
# (12 s ahead: the writer must hold the lock before it, also on a loaded machine)
at=$(python3 -c 'import time, datetime
print(datetime.datetime.fromtimestamp(time.time() + 12, datetime.timezone.utc)
      .strftime("%Y-%m-%dT%H:%M:%S.%fZ"))')
jid=$(jobctl submit --at "$at" -- sh -c "date +%s.%N >$T/child2")
# another writer holds the database's write lock from before the instant
# until 3 s after it
python3 - "$T/state/jobd.db" "$(secs "$at")" "$T/locked" <<'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[3], "w").close()
time.sleep(max(0, float(sys.argv[2]) + 3 - time.time()))
db.execute("COMMIT")
PY
lock_pid=$!
retry_until 10 test -e "$T/locked" || fail "the test's writer takes the lock"
lock_at=$(stat -c %.6Y "$T/locked")
awk -v a="$lock_at" -v b="$(secs "$at")" 'BEGIN { exit !(a < b) }' ||
	fail "the test's writer took the lock before the instant (machine too slow?)" \
		"locked at $lock_at, instant $(secs "$at")"
wait "$lock_pid"
retry_until 20 done_run "$jid" || fail "the --at run ends after the lock" "$(jobctl runs)"
nb=$(secs "$(field "$jid" not_before)")
st=$(secs "$(field "$jid" time_started)")
d=$(awk -v a="$(cat "$T/child2")" -v b="$st" 'BEGIN { printf "%.3f", a - b }')
within 0 0.5 "$d" && pass "a start held up by the store: time_started is the spawn (child ${d} s after)" ||
	fail "a start held up by the store: time_started is the spawn" \
		"the child's clock read $d s after time_started"
w=$(awk -v a="$st" -v b="$nb" 'BEGIN { printf "%.3f", a - b }')
within 2.5 60 "$w" && pass "... which is after the lock ended (${w} s after the instant)" ||
	fail "... which is after the lock ended" "time_started $w s after the instant"
finish
