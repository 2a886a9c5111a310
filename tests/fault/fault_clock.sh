#!/usr/bin/env bash
# fault_clock.sh — jobd's wall clock stepped forward and back by an hour
# while schedules run.  libfaketime (Debian package faketime) is preloaded
# into jobd only, reading its offset from a file at every call
# (FAKETIME_TIMESTAMP_FILE, FAKETIME_NO_CACHE=1); the monotonic clock stays
# real (FAKETIME_DONT_FAKE_MONOTONIC=1), as with an NTP step.  Jobs: `tick`
# (`*/2 * * * * *`) and `hourly` (`0 * * * *`).
#   - step forward 1 h: `hourly` fires once (not once per missed hour), and
#     `tick` does not fire 1800 times for the skipped hour (<= a handful);
#   - step back 1 h: nothing fires twice for the same scheduled time (the
#     runs' created seconds are unique per job), jids stay unique and a
#     submit made after the step back is found and runs;
#   - jobd stays up throughout.
# Skipped (with a note) when libfaketime is not installed.
. "$(dirname "$0")/lib.sh"

FT=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
[ -f "$FT" ] || FT=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)
if [ -z "$FT" ] || [ ! -f "$FT" ]; then
	skip "clock" "libfaketime not installed (apt-get install faketime)"; fault_finish; exit 0
fi
echo "+0" >"$T/faketime"
# not within 30 s of a real hour boundary: the hourly job would then also
# fire for real (or at the real boundary under the +1 h offset)
while s=$(( $(date +%s) % 3600 )); [ "$s" -gt 3560 ] || [ "$s" -lt 30 ]; do sleep 1; done
JOBD_WRAP="env LD_PRELOAD=$FT FAKETIME_TIMESTAMP_FILE=$T/faketime FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1"
write_config
cat >"$T/jobs.d/clock.conf" <<'CONF'
[job tick]
command = true
schedule = */2 * * * * *

[job hourly]
command = true
schedule = 0 * * * *
CONF
jobd_start
# offset check: the daemon's clock follows the file
now_of_jobd() { jobctl status --json | jq -r .started; }
runs_of() { jobctl runs "$1" --limit 10000 --json | jq -r '.runs[].time_created'; }
count_runs() { runs_of "$1" | grep -c . ; }
sleep 4.5
t0=$(count_runs tick)
[ "$t0" -ge 1 ] && pass "tick fires on the real clock ($t0 runs)" || fail "tick fires on the real clock"
h0=$(count_runs hourly)

# ---- forward 1 h ----
echo "+3600" >"$T/faketime"
fired_hourly() { [ "$(count_runs hourly)" -gt "$h0" ]; }
retry_until 15 fired_hourly && pass "after +1 h the hourly job fires" ||
	fail "after +1 h the hourly job fires" "$(runs_of hourly)"
sleep 4
h1=$(count_runs hourly)
expect_eq "it fires once, not once per missed hour" "$((h1 - h0))" 1
t1=$(count_runs tick)
[ $((t1 - t0)) -le 12 ] && pass "tick does not replay the skipped hour ($((t1 - t0)) runs in ~10 s)" ||
	fail "tick does not replay the skipped hour" "$((t1 - t0)) runs"
last_fwd=$(runs_of tick | head -1)
echo "tick's newest run after the step forward: $last_fwd"

# ---- back 1 h ----
echo "+0" >"$T/faketime"
sleep 5
ok "jobd answers after the step back" jobctl status
for j in tick hourly; do
	expect_eq "$j: no scheduled second fired twice" \
		"$(runs_of "$j" | cut -c1-19 | sort | uniq -d)" ""
done
t2=$(count_runs tick)
echo "tick runs: $t0 before, $((t1 - t0)) during +1 h, $((t2 - t1)) in 5 s after the step back"
expect_eq "hourly does not fire again after the step back" "$(count_runs hourly)" "$h1"
jid=$(jobctl submit --wait -- echo after-back 2>&1 | tail -1)
sj=$(jobctl runs --limit 1 --json | jq -r '.runs[0].jid')
expect_eq "a submit after the step back runs" "$(field "$sj" stdout)" after-back
all=$(jobctl runs --limit 10000 --json | jq -r '.runs[].jid')
expect_eq "jids stay unique across the steps" "$(sort <<<"$all" | uniq -d)" ""
jobd_alive && pass "jobd stays up" || fail "jobd stays up"
fault_finish
