#!/usr/bin/env bash
# Schedules: 6-field cron and @every firing, overlap skip/allow, catch-up of
# an interval job missed while jobd was down, and `jobctl next`.
. "$(dirname "$0")/lib.sh"

jobd_start "[targets]
default = 20"

jj() { local f=$1; shift; jobctl --json "$@" 2>/dev/null | jq -r "$f"; }
runs_of() { jobctl --json runs "$1" --limit 100; }

# --- jobctl next (no daemon state involved) -----------------------------------
out=$(jobctl next '*/15 * * * *' -n 3 --from 2026-01-01T00:00:00Z); rc=$?
expect_eq "next: exact times" "$rc:$out" "0:2026-01-01T00:15:00+00:00
2026-01-01T00:30:00+00:00
2026-01-01T00:45:00+00:00"
expect_eq "next: default count is 5" \
	"$(jobctl next '0 0 1 * *' --from 2026-01-15T00:00:00Z | tr '\n' ' ')" \
	"2026-02-01T00:00:00+00:00 2026-03-01T00:00:00+00:00 2026-04-01T00:00:00+00:00 2026-05-01T00:00:00+00:00 2026-06-01T00:00:00+00:00 "
expect_eq "next --tz: local offsets across the DST change" \
	"$(jobctl next '0 9 * * *' -n 2 --from 2026-03-28T00:00:00Z --tz Europe/Berlin | tr '\n' ' ')" \
	"2026-03-28T09:00:00+01:00 2026-03-29T09:00:00+02:00 "
expect_eq "next --tz: a skipped local hour fires once at the jump" \
	"$(jobctl next '30 2 * * *' -n 2 --from 2026-03-28T12:00:00Z --tz Europe/Berlin | tr '\n' ' ')" \
	"2026-03-29T03:00:00+02:00 2026-03-30T02:30:00+02:00 "
expect_eq "next --tz: a repeated local hour fires once" \
	"$(jobctl next '30 2 * * *' -n 2 --from 2026-10-24T12:00:00Z --tz Europe/Berlin | tr '\n' ' ')" \
	"2026-10-25T02:30:00+02:00 2026-10-26T02:30:00+01:00 "
expect_eq "next --tz --json: UTC times and the zone" \
	"$(jobctl --json next '0 9 * * *' -n 1 --from 2026-07-01T00:00:00Z --tz Europe/Berlin | jq -c .)" \
	'{"times":["2026-07-01T07:00:00.000000Z"],"timezone":"Europe/Berlin"}'
expect_eq "next: 6 fields (seconds first)" \
	"$(jobctl next '*/20 * * * * *' -n 3 --from 2026-01-01T00:00:00Z | tr '\n' ' ')" \
	"2026-01-01T00:00:20+00:00 2026-01-01T00:00:40+00:00 2026-01-01T00:01:00+00:00 "
expect_eq "next: @every counts from --from" \
	"$(jobctl next '@every 90s' -n 2 --from 2026-01-01T00:00:00Z | tr '\n' ' ')" \
	"2026-01-01T00:01:30+00:00 2026-01-01T00:03:00+00:00 "
out=$(jobctl next '61 * * * *' 2>&1); rc=$?
expect_eq "next: bad expression exit 2" "$rc" 2
expect_match "next: bad expression names the field" "$out" "minute"
expect_code 2 "next: bad --tz" jobctl next '* * * * *' --tz Mars/Olympus
expect_code 2 "next: bad --from" jobctl next '* * * * *' --from yesterday
expect_code 4 "next NAME of an unknown job: exit 4" jobctl next nosuchjob

# --- firing: all four jobs share one ~10 s window ---------------------------------
u=$$
jobctl create six --schedule '*/2 * * * * *' -- true >/dev/null
jobctl create every --schedule '@every 2s' -- true >/dev/null
jobctl create skip --overlap skip --schedule '* * * * * *' -- sleep 3.$u >/dev/null
jobctl create allow --overlap allow --schedule '* * * * * *' -- sleep 3.$u >/dev/null
jobctl create cu --schedule '@every 3s' -- true >/dev/null
t0=$SECONDS
expect_eq "next NAME asks the daemon" "$(jobctl next six -n 3 | wc -l)" 3
max_skip=0; max_allow=0
while [ $((SECONDS - t0)) -lt 10 ]; do
	a=$(jobctl --json active)
	s=$(jq '[.runs[] | select(.job == "skip")] | length' <<<"$a")
	l=$(jq '[.runs[] | select(.job == "allow")] | length' <<<"$a")
	[ "$s" -gt "$max_skip" ] && max_skip=$s
	[ "$l" -gt "$max_allow" ] && max_allow=$l
	sleep 0.2
done
for j in six every skip allow; do jobctl disable $j >/dev/null; done
# let the allow/skip runs finish so the counts are final
retry_until 10 test "$(jj '.runs | length' active)" -eq 0

r=$(runs_of six)
n=$(jq '.runs | length' <<<"$r")
if [ "$n" -ge 4 ] && [ "$n" -le 6 ]; then pass "*/2 seconds: $n runs in ~10 s"
else fail "*/2 seconds: 4-6 runs in ~10 s" "got $n"; fi
expect_eq "*/2 seconds: trigger schedule" "$(jq -r '[.runs[].trigger] | unique | join(",")' <<<"$r")" schedule
expect_eq "*/2 seconds: all ok" "$(jq -r '[.runs[].result] | unique | join(",")' <<<"$r")" ok

r=$(runs_of every)
n=$(jq '.runs | length' <<<"$r")
if [ "$n" -ge 4 ] && [ "$n" -le 6 ]; then pass "@every 2s: $n runs in ~10 s"
else fail "@every 2s: 4-6 runs in ~10 s" "got $n"; fi
expect_eq "@every 2s: trigger schedule" "$(jq -r '[.runs[].trigger] | unique | join(",")' <<<"$r")" schedule
# the jid is the creation time: consecutive runs are ~2 s apart, never
# two for one interval (1 s of slack for a late fire)
gap=$(jq '[.runs[].jid | (.[0:14] | strptime("%Y%m%d%H%M%S") | mktime) * 1000
	+ (.[14:20] | tonumber / 1000 | floor)] | sort
	| [range(1; length) as $i | .[$i] - .[$i - 1]] | min' <<<"$r")
if [ "${gap:-0}" -ge 1000 ]; then pass "@every 2s: runs ~2 s apart (min ${gap} ms)"
else fail "@every 2s: runs ~2 s apart" "min gap ${gap} ms" "$(jq -c '[.runs[].jid]' <<<"$r")"; fi

r=$(runs_of skip)
n=$(jq '.runs | length' <<<"$r")
expect_eq "overlap=skip: never two running at once" "$max_skip" 1
if [ "$n" -ge 2 ] && [ "$n" -le 4 ]; then pass "overlap=skip: $n runs of 3 s in ~10 s"
else fail "overlap=skip: 2-4 runs of 3 s in ~10 s" "got $n"; fi
expect_eq "overlap=skip: every run ran to the end" \
	"$(jq -r '[.runs[] | "\(.status)/\(.result)"] | unique | join(",")' <<<"$r")" done/ok

r=$(runs_of allow)
n=$(jq '.runs | length' <<<"$r")
if [ "$max_allow" -ge 3 ]; then pass "overlap=allow: runs overlap ($max_allow at once)"
else fail "overlap=allow: 3 runs at once" "max $max_allow"; fi
if [ "$n" -ge 8 ]; then pass "overlap=allow: a run every second ($n)"
else fail "overlap=allow: a run every second" "got $n"; fi
expect_eq "overlap=allow: every run ran to the end" \
	"$(jq -r '[.runs[] | "\(.status)/\(.result)"] | unique | join(",")' <<<"$r")" done/ok

# --- catch-up of an @every job missed while jobd was down -----------------------
ok "@every 3s job ran" test "$(runs_of cu | jq '.runs | length')" -ge 1
jobd_stop
sleep 5
JOBD_KEEP_CONFIG=1 jobd_start
has_catchup() { runs_of cu | jq -e '[.runs[] | select(.trigger == "catchup")] | length > 0' >/dev/null; }
ok "a missed interval run is made at start-up" retry_until 5 has_catchup
sleep 1.5
r=$(runs_of cu)
expect_eq "exactly one catch-up run" "$(jq '[.runs[] | select(.trigger == "catchup")] | length' <<<"$r")" 1
cj=$(jq -r '.runs[] | select(.trigger == "catchup") | .jid' <<<"$r")
expect_eq "catch-up run succeeded" "$(jj '.run.result' lookup "$cj")" ok
# anacron-like: next = last run + DUR, so the first scheduled run after the
# catch-up comes ~3 s after it, not at the old grid's next slot.
after=$(jq -r --arg c "$cj" '[.runs[] | select(.jid > $c)] | length' <<<"$r")
expect_eq "no scheduled run right after the catch-up" "$after" 0
ok "disabled jobs stay disabled after a restart" \
	test "$(jj '[.jobs[] | select(.enabled)] | map(.name) | join(",")' list)" == cu
expect_eq "disabled jobs made no catch-up run" \
	"$(jobctl --json runs --limit 200 | jq '[.runs[] | select(.trigger == "catchup")] | length')" 1

finish
