#!/usr/bin/env bash
# test_confirm.sh — a job with `confirm` (a task's `confirmation = true`):
# `jobctl run` asks on the terminal (driven here through a pty); yes runs
# it, no aborts (exit 1), no answer in 30 s aborts (exit 1, "timeout
# waiting for confirmation"); --yes / --confirm answer ahead; without a
# terminal and without --yes it is refused (exit 1) by the daemon itself;
# the scheduler never runs it (not even @reboot) and `jobctl list` says so.
. "$(dirname "$0")/lib.sh"
PTY="python3 $(dirname "$0")/ptyrun.py"

write_config
cat > "$T/jobs.d/tasks.conf" <<CONF
[job boot]
command = touch $T/boot-ran
schedule = @reboot

[job bootc]
command = touch $T/bootc-ran
schedule = @reboot
confirm = true

[job danger]
command = sh -c 'echo ran; exit 3'
confirm = true
schedule = @every 1s
CONF
JOBD_KEEP_CONFIG=1 jobd_start

# ---- the scheduler never runs it -------------------------------------------
retry_until 20 test -e "$T/boot-ran"
ok "a plain @reboot job ran at start" test -e "$T/boot-ran"
expect_eq "an @reboot job with confirm = true did not" \
	"$(ls "$T/bootc-ran" 2>/dev/null)" ""
expect_eq "... and has no run at all" "$(jobctl runs bootc --json | jq '.runs | length')" 0
expect_match "jobctl list says the scheduler will not run it" \
	"$(jobctl list | grep '^danger ')" "manual \(confirm\)"
expect_eq "... and --json has confirm: true" \
	"$(jobctl list --json | jq -r '.jobs[] | select(.name == "danger") | .confirm')" true
expect_eq "@every 1s with confirm made no run" "$(jobctl runs danger --json | jq '.runs | length')" 0

# ---- on a terminal ------------------------------------------------------------
out=$($PTY yes 20 -- "$JOBCTL" run danger); rc=$?
expect_match "the question, as the original asks it" "$out" \
	"This task run requires confirmation\..*Do you really want to run danger \(yes/no\) >"
expect_match "yes: the command runs" "$out" "ran"
expect_eq "yes: jobctl exits with the command's code" "$rc" 3
out=$($PTY no 20 -- "$JOBCTL" run danger); rc=$?
expect_eq "no: exit 1" "$rc" 1
expect_match "no: run aborted" "$out" "run aborted"
expect_eq "no: nothing ran (one run, from yes)" "$(jobctl runs danger --json | jq '.runs | length')" 1
out=$($PTY maybe 20 -- "$JOBCTL" run danger); rc=$?
expect_eq "any other answer aborts too" "$rc" 1
out=$($PTY - 60 -- "$JOBCTL" run danger); rc=$?
expect_eq "no answer in 30 s: exit 1" "$rc" 1
expect_match "... timeout waiting for confirmation" "$out" "timeout waiting for confirmation"
expect_eq "... and nothing ran" "$(jobctl runs danger --json | jq '.runs | length')" 1
out=$($PTY - 20 -- "$JOBCTL" run danger --yes); rc=$?
expect_eq "--yes on a terminal: no question, runs (exit 3)" "$rc" 3
expect_eq "... nothing was asked" "$(grep -c 'yes/no' <<<"$out")" 0
out=$($PTY - 20 -- "$JOBCTL" run boot); rc=$?
expect_eq "a job without confirm is not asked about" "$rc:$(grep -c 'yes/no' <<<"$out")" "0:0"

# ---- without a terminal ------------------------------------------------------
out=$(jobctl run danger </dev/null 2>&1); rc=$?
expect_eq "no terminal, no --yes: refused, exit 1" "$rc" 1
expect_match "... saying it needs confirmation" "$out" "needs confirmation"
expect_code 3 "no terminal, --yes: runs" jobctl run danger --yes </dev/null
expect_code 3 "no terminal, --confirm: runs" jobctl run danger --confirm </dev/null
expect_code 1 "an action of a confirm job is refused without --yes too" \
	jobctl run danger --action start </dev/null
expect_eq "runs: yes, --yes x2, --confirm" "$(jobctl runs danger --json | jq '.runs | length')" 4
finish
