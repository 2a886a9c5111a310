#!/usr/bin/env bash
# Reload recomputes only what changed: an unchanged job keeps its next fire
# time, an edited one gets a new one.  "@every 1h" with catchup = none arms
# at "now + 1h", so a recomputation would move it by the seconds slept.
. "$(dirname "$0")/lib.sh"
write_config
cat >"$T/jobs.d/a.conf" <<'JOBS'
[job steady]
command = true
schedule = @every 1h
catchup = none

[job edited]
command = true
schedule = @every 1h
catchup = none
JOBS
JOBD_KEEP_CONFIG=1 jobd_start
next_of() { jobctl show "$1" --json | jq -r '.next_run'; }
s0=$(next_of steady); e0=$(next_of edited)
sleep 2
sed -i 's/^command = true$/command = \/bin\/true/' "$T/jobs.d/a.conf"
sed -i '0,/^command = \/bin\/true$/s//command = true/' "$T/jobs.d/a.conf"
ok "reload" jobctl reload
expect_eq "the unchanged job keeps its next fire time" "$(next_of steady)" "$s0"
[ "$(next_of edited)" != "$e0" ] && pass "the edited job is rearmed" ||
	fail "the edited job is rearmed" "next_run $e0 did not move"
expect_eq "the edit is in place" "$(jobctl show edited --json | jq -r .job.command)" /bin/true
finish
