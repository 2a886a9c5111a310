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

# --- what is not built yet is refused, never silently kept ------------------
for kv in "http_listen = 127.0.0.1:8080" "ninep_listen = 127.0.0.1:5640" \
	"master_host = m" "role = master"; do
	printf 'state_dir = %s\n%s\n' "$T/state2" "$kv" > "$T/planned.conf"
	out=$("$JOBD" -t -c "$T/planned.conf" 2>&1); rc=$?
	expect_eq "jobd refuses '$kv' (exit 2)" "$rc" 2
	expect_match "... saying it is not built yet" "$out" "${kv%% *}.*not built yet"
done
out=$(jobctl create sel --selectors ssd -- true 2>&1); rc=$?
expect_eq "create --selectors is refused" "$rc" 2
expect_match "... naming selectors" "$out" "selectors: not built yet"
expect_code 4 "... and no job was made" jobctl show sel
expect_code 2 "create --requires is refused" jobctl create req --requires 'x(up)' -- true
expect_code 2 "run --allocations is refused" jobctl run usesq --allocations w1
expect_code 2 "run --health-check is refused" jobctl run usesq --health-check
cat > "$T/jobs.d/sel.conf" <<'JOB'
[job filesel]
command = true
selectors = ssd
JOB
out=$(jobctl reload 2>&1); rc=$?
expect_match "a job file with selectors is refused, naming the key" "$out" "selectors: not built yet"
rm -f "$T/jobs.d/sel.conf"; jobctl reload >/dev/null 2>&1

# a job that needs confirmation never runs from its schedule
jobctl create conf --confirm --schedule '@every 1s' -- touch "$T/confirmed" >/dev/null
sleep 2.5
expect_eq "a confirm job does not fire from its schedule" "$(ls "$T/confirmed" 2>/dev/null)" ""
expect_code 0 "... but runs when asked with --yes" jobctl run conf --yes

finish
