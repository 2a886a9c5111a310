#!/usr/bin/env bash
# test_requires.sh — `requires` (a task's `run_requires`): JOB(STATE,...)
# items that must all hold; up = a run of JOB is active or its last
# `status` said up, down = not up, ok = its last run ended ok.  A manual
# run with an unmet item fails (exit 1) naming it; a scheduled one is
# skipped silently and counted in `jobctl show` (skipped_requires).
. "$(dirname "$0")/lib.sh"

write_config
cat > "$T/jobs.d/req.conf" <<CONF
[job svc]
command = sleep 60
[action status]
command = test -e $T/svc-up

[job prep]
command = test -e $T/prep-ok

[job t_up]
command = echo ran-up
requires = svc

[job t_down]
command = echo ran-down
requires = svc(down)

[job t_ok]
command = echo ran-ok
requires = svc(up,down) prep(ok)

[job gate]
command = test -e $T/gate-ok

[job t_sched]
command = touch $T/sched-ran
schedule = @every 1s
requires = gate(ok)
CONF
JOBD_KEEP_CONFIG=1 jobd_start
expect_eq "a job file with requires loads (no longer 'not built yet')" \
	"$(jobctl show t_up --json | jq -r '.job.requires[0]')" "svc"

# ---- manual runs -------------------------------------------------------------
out=$(jobctl run t_up 2>&1); rc=$?
expect_eq "unmet (svc never checked): exit 1" "$rc" 1
expect_match "... naming the unmet item" "$out" "requires svc: job 'svc' is down"
expect_eq "... and nothing ran" "$(jobctl runs t_up --json | jq '.runs | length')" 0
expect_code 0 "svc(down) holds" jobctl run t_down
touch "$T/svc-up"
expect_code 0 "svc's status action says up" jobctl status svc
out=$(jobctl run t_up 2>&1); rc=$?
expect_eq "up after its status: t_up runs" "$rc:$out" "0:ran-up"
out=$(jobctl run t_down 2>&1); rc=$?
expect_eq "svc(down) now unmet: exit 1" "$rc" 1
expect_match "... named" "$out" "requires svc\(down\): job 'svc' is up"
rm -f "$T/svc-up"
expect_code 3 "svc's status action says down" jobctl status svc
expect_code 1 "down again: t_up refused" jobctl run t_up
jid=$(jobctl run svc --no-wait)
retry_until 10 sh -c "$JOBCTL active | grep -q svc"
expect_code 0 "a run of svc active: svc is up" jobctl run t_up
jobctl kill "$jid" >/dev/null 2>&1
out=$(jobctl run t_ok 2>&1); rc=$?
expect_eq "prep(ok) before prep ever ran: exit 1" "$rc" 1
expect_match "... named" "$out" "requires prep\(ok\): job 'prep' has never run"
jobctl run prep >/dev/null 2>&1
expect_match "prep failed: still unmet" "$(jobctl run t_ok 2>&1)" "job 'prep' did not end ok"
touch "$T/prep-ok"; jobctl run prep >/dev/null 2>&1
expect_eq "prep ended ok: t_ok runs" "$(jobctl run t_ok 2>&1)" "ran-ok"
expect_code 1 "start (= the command) is held by requires too" jobctl start t_up

# ---- scheduled runs ----------------------------------------------------------
skipped() { [ "$(jobctl show t_sched --json | jq '.skipped_requires')" -ge "$1" ]; }
retry_until 20 skipped 2
ok "scheduled fires with gate(ok) unmet are counted (skipped_requires >= 2)" skipped 2
expect_eq "... and never ran" "$(jobctl runs t_sched --json | jq '.runs | length'):$(ls "$T/sched-ran" 2>/dev/null)" "0:"
expect_eq "... silently: no failed run, no error in the log" \
	"$(grep -c 'ERROR.*t_sched' "$T/jobd.log")" 0
touch "$T/gate-ok"; jobctl run gate >/dev/null 2>&1
retry_until 20 test -e "$T/sched-ran"
ok "once gate ended ok the schedule runs it" test -e "$T/sched-ran"

# ---- definitions -------------------------------------------------------------
ok "create --requires 'svc(up,ok) prep' is accepted" \
	jobctl create rq --requires 'svc(up,ok),prep' -- true
expect_eq "... both items, the states kept together" \
	"$(jobctl show rq --json | jq -c '.job.requires')" '["svc(up,ok)","prep"]'
out=$(jobctl create rq2 --requires 'svc(sleepy)' -- true 2>&1); rc=$?
expect_eq "an unknown state: exit 2" "$rc" 2
expect_match "... naming it" "$out" "unknown state 'sleepy' in 'svc\(sleepy\)'"
expect_code 2 "a job may not require itself" jobctl create me --requires me -- true
expect_code 1 "a required job that does not exist is unmet at run time" \
	sh -c "'$JOBCTL' create rq3 --requires nosuch -- true && '$JOBCTL' run rq3"
finish
