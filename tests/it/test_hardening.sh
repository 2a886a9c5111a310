#!/usr/bin/env bash
# test_hardening.sh — operator defects found by trying jobd as a new user
# would (the hardening issue): a refused op changes nothing, inert config
# keys are errors, numeric and name bounds, jobctl's output.
. "$(dirname "$0")/lib.sh"

jobd_start "[targets]
fromconf = 2"

# --- targets: a refused removal changes nothing ---------------------------
expect_code 2 "target rm default is refused" jobctl target rm default
out=$(jobctl targets 2>&1)
expect_match "the default target is still there" "$out" $'\n''default '
jobctl create usesq --target q1 -- true >/dev/null 2>&1 || jobctl target add q1 2 >/dev/null
jobctl target add q1 2 >/dev/null 2>&1
jobctl create usesq --target q1 -- true >/dev/null 2>&1
expect_code 2 "target rm of a target a job uses is refused" jobctl target rm q1
expect_match "... and it stays" "$(jobctl targets)" "q1"
expect_code 2 "target rm of a config file's target is refused" jobctl target rm fromconf
expect_match "... and it stays" "$(jobctl targets)" "fromconf"
jobctl target add q2 1 >/dev/null
ok "target rm of an unused target works" jobctl target rm q2
expect_code 4 "... and it is gone" jobctl target rm q2
out=$(jobctl run usesq 2>&1); rc=$?
expect_eq "a job of a kept target still runs" "$rc" 0

finish
