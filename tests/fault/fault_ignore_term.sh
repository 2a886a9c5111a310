#!/usr/bin/env bash
# fault_ignore_term.sh — a child that ignores SIGTERM:
#   - with timeout and kill_grace, the timeout's SIGTERM is ignored and
#     SIGKILL follows kill_grace later (sig = SIGKILL, no return code);
#   - `jobctl term` on such a run leaves it running; `jobctl kill` ends it.
# In both cases the whole process group is gone afterwards.
. "$(dirname "$0")/lib.sh"

TOK=$$$RANDOM
trap 'cleanup; pkill -9 -f "^sleep 10[01]\.$TOK\$"' EXIT
jobd_start
sleepers() { pgrep -x -f "sleep $1" 2>/dev/null; }
no_sleepers() { [ -z "$(sleepers "$1")" ]; }

# (a) timeout 1s, kill_grace 1s
ok "create a TERM-ignoring job with timeout and kill_grace" \
	jobctl create stubborn --timeout 1s --kill-grace 1s -- \
	sh -c "trap '' TERM; sleep 100.$TOK & wait; wait; wait"
jid=$(jobctl run stubborn --no-wait)
retry_until 5 is_running "$jid" || fail "the stubborn run starts"
t0=$(date +%s.%N)
retry_until 15 is_done "$jid" && pass "the run ends after timeout + kill_grace" ||
	fail "the run ends after timeout + kill_grace" "$(field "$jid" status)"
t1=$(date +%s.%N)
expect_eq "it was killed by SIGKILL" "$(field "$jid" sig)/$(field "$jid" return_code)" SIGKILL/null
expect_eq "its result is fail" "$(field "$jid" result)" fail
d=$(jq -r '.run.duration_ms' <<<"$(jobctl lookup --json "$jid")")
[ "$d" -ge 1900 ] && pass "SIGKILL came after the grace (duration ${d} ms >= 1.9 s)" ||
	fail "SIGKILL came after the grace (duration ${d} ms >= 1.9 s)"
retry_until 3 no_sleepers "100.$TOK" && pass "(a) its sleep (same group) is gone" ||
	fail "(a) its sleep (same group) is gone" "$(sleepers "100.$TOK")"

# (b) term, then kill
jid=$(jobctl submit -- sh -c "trap '' TERM; sleep 101.$TOK & wait; wait; wait")
retry_until 5 is_running "$jid" || fail "the second stubborn run starts"
sleep 0.3                                   # the trap is set
ok "jobctl term succeeds (the signal is sent)" jobctl term "$jid"
sleep 1
expect_eq "after term the run still runs" "$(field "$jid" status)" running
[ -n "$(sleepers "101.$TOK")" ] && pass "after term its child still lives" ||
	fail "after term its child still lives"
ok "jobctl kill succeeds" jobctl kill "$jid"
retry_until 5 is_done "$jid" && pass "after kill the run is done" ||
	fail "after kill the run is done" "$(field "$jid" status)"
expect_eq "after kill: sig SIGKILL" "$(field "$jid" sig)" SIGKILL
retry_until 3 no_sleepers "101.$TOK" && pass "(b) its sleep (same group) is gone" ||
	fail "(b) its sleep (same group) is gone" "$(sleepers "101.$TOK")"
expect_code 3 "term of the finished run exits 3" jobctl term "$jid"
fault_finish
