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

# --- selectors: a schedule fires only where all of them are labels ---------
# (this daemon has no labels = ...; a worker always has `worker`)
jobctl create sel --selectors ssd --schedule '@every 1s' -- touch "$T/sel-ssd" >/dev/null
jobctl create selw --selectors worker --schedule '@every 1s' -- touch "$T/sel-worker" >/dev/null
retry_until 10 test -e "$T/sel-worker"
expect_eq "a job selecting 'worker' fires on a worker" "$(ls "$T/sel-worker" 2>/dev/null)" "$T/sel-worker"
expect_eq "a job selecting a label the daemon lacks never fires" "$(ls "$T/sel-ssd" 2>/dev/null)" ""
expect_match "show lists the selectors" "$(jobctl show sel --json | tr -d " \n")" '"selectors":\["ssd"\]'
jobctl delete sel >/dev/null; jobctl delete selw >/dev/null
expect_code 2 "create --requires with an unknown state is refused" jobctl create req --requires 'x(sleepy)' -- true
expect_match "run --allocations without --action: exit 2, naming the rule" "$(jobctl run usesq --allocations w1 2>&1; echo "rc=$?")" "go with NAME --action A.*rc=2"
expect_match "run --action A --allocations on a jobd that is no master: exit 2" "$(jobctl run usesq --action x --allocations w1 2>&1; echo "rc=$?")" "allocations: .*rc=2"
cat > "$T/jobs.d/sel.conf" <<'JOB'
[job filesel]
command = true
selectors = ssd, eu
after = other
max_parallel_workers = 2
JOB
expect_code 0 "a job file with selectors, after and max_parallel_workers loads" jobctl reload
expect_match "... and show has them" "$(jobctl show filesel --json | tr -d ' \n')" '"selectors":\["ssd","eu"\],"nodes":\[\],"after":\["other"\],"max_parallel_workers":2'
rm -f "$T/jobs.d/sel.conf"; jobctl reload >/dev/null 2>&1

# a job that needs confirmation never runs from its schedule
jobctl create conf --confirm --schedule '@every 1s' -- touch "$T/confirmed" >/dev/null
sleep 2.5
expect_eq "a confirm job does not fire from its schedule" "$(ls "$T/confirmed" 2>/dev/null)" ""
expect_code 0 "... but runs when asked with --yes" jobctl run conf --yes

# --- bounds: refused with a clear error, never cut or wrapped ---------------
# raw REQUEST-TYPE JSON-DATA: one request on the Unix socket, past jobctl's
# own checks; prints the reply
raw() { python3 -c 'import json,socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(json.dumps([0, {"type": sys.argv[2], "no": 1, "data": json.loads(sys.argv[3])}]).encode() + b"\x04")
b=b""
while not b.endswith(b"\x04"):
	d=s.recv(65536)
	if not d: break
	b+=d
print(json.dumps(json.loads(b[:-1])[1]))' "$JOBD_SOCKET" "$@"; }
long=$(printf 'N%.0s' $(seq 300))
out=$(raw submit '{"argv": ["true"], "priority": 3000000000}')
expect_match "submit: priority out of int range is refused" "$out" '"error": "priority: must be an integer from'
out=$(raw submit '{"argv": ["true"], "retries": 99999999999}')
expect_match "submit: retries out of range is refused" "$out" '"error": "retries: must be an integer from'
out=$(raw submit '{"argv": ["true"], "timeout": 9223372036854775}')
expect_match "submit: a timeout whose microseconds overflow is refused" "$out" '"error": "timeout: invalid duration'
out=$(raw submit "{\"argv\": [\"true\"], \"env\": {\"$long\": \"1\"}}")
expect_match "submit: an env name over 255 bytes is refused" "$out" '"error": "env: variable name longer than 255'
out=$(raw submit '{"argv": ["true"], "env": {"A=B": "1"}}')
expect_match "submit: an invalid env name is refused" "$out" "\"error\": \"env: invalid variable name 'A=B'"
out=$(jobctl create longenv --env "$long=1" -- true 2>&1); rc=$?
expect_eq "create: an env name over 255 bytes is refused (exit 2)" "$rc" 2
expect_match "... saying why" "$out" "env: variable name longer than 255 bytes"
args=(); for i in $(seq 300); do args+=(--env "V$i=$i"); done
ok "create: a job with 300 env vars" jobctl create manyenv "${args[@]}" -- true
expect_eq "... show --json is valid JSON with all 300" \
	"$(jobctl show manyenv --json | jq '.job.env | length')" 300
out=$(jobctl --json run manyenv 2>/dev/null | jq -r .result)
expect_eq "... and it runs" "$out" ok

# --- jobctl: status in MiB, errors as JSON under --json ---------------------
expect_match "status prints RSS in MiB" "$(jobctl status)" $'memory: +rss [0-9]+\\.[0-9] MiB'
# errjson CODE NAME CMD...: exits CODE, stderr is {"error": ..., "code": CODE}
errjson() { local c=$1 n=$2; shift 2; local err rc
	err=$("$@" 2>&1 >/dev/null); rc=$?
	expect_eq "$n: exit $c" "$rc" "$c"
	expect_eq "$n: JSON error on stderr" \
		"$(jq -r '"\(.code) \(.error | length > 0)"' <<<"$err" 2>&1)" "$c true"; }
errjson 4 "--json not found" jobctl --json show nosuchjob
errjson 2 "--json daemon usage error" jobctl --json target rm default
errjson 2 "--json usage error (unknown option)" jobctl --json list --bogus
errjson 2 "--json usage error (option after the command)" jobctl create --json
errjson 69 "--json unreachable" jobctl --json --socket "$T/none.sock" list

# --- job files: a broken one is skipped, file jobs win, disable persists ----
cat > "$T/jobs.d/a-good.conf" <<'JOB'
[job filegood]
command = true
JOB
cat > "$T/jobs.d/b-broken.conf" <<'JOB'
[job brokenfirst]
command = true

[job broken]
command = true
schedule = 0 3 * * *
timeout = 5 parsecs
JOB
ok "squatter: a socket user makes a job named like a coming file job" jobctl create squat -- echo api
cat > "$T/jobs.d/c-squat.conf" <<'JOB'
[job squat]
command = echo file
JOB
jobd_stop
JOBD_KEEP_CONFIG=1 jobd_start
ok "jobd starts despite a broken job file" jobctl status
expect_match "the good file's job is loaded" "$(jobctl list)" "filegood"
expect_code 4 "the broken file's jobs are all skipped" jobctl show brokenfirst
st=$(jobctl status)
expect_match "status reports the skipped file at the bad key's line" "$st" \
	"job files: skipped .*b-broken.conf:7: timeout"
expect_match "status --json lists it" "$(jobctl --json status | jq -r '.job_file_errors[0]')" "b-broken.conf:7"
expect_match "the ERROR is logged naming file and line" "$(cat "$T/jobd.log")" "ERROR .*b-broken.conf:7: timeout"
expect_eq "file jobs win: squat runs the file's command" "$(jobctl run squat 2>&1)" "file"
expect_eq "... the API job is kept aside as squat.api" "$(jobctl run squat.api 2>&1)" "api"
expect_match "... with a warning" "$(cat "$T/jobd.log")" "WARN .*squat: made with jobctl .*renamed squat.api"
ok "disable a file job" jobctl disable filegood
jobd_stop
JOBD_KEEP_CONFIG=1 jobd_start
expect_eq "a file job's disable survives a restart" "$(jobctl --json show filegood | jq .job.enabled)" false
ok "enable it again" jobctl enable filegood
jobd_stop
JOBD_KEEP_CONFIG=1 jobd_start
expect_eq "... and enable too" "$(jobctl --json show filegood | jq .job.enabled)" true
sed -i 's/5 parsecs/5s/' "$T/jobs.d/b-broken.conf"
ok "a reload after the fix" jobctl reload
expect_eq "... loads the fixed file" "$(jobctl --json status | jq '.job_file_errors | length')" 0
echo "[job x" > "$T/jobs.d/b-broken.conf"
out=$(jobctl reload 2>&1); rc=$?
expect_eq "a reload with a bad file exits 2" "$rc" 2
expect_match "... naming it" "$out" "b-broken.conf:1"
expect_match "... the file's old jobs stay" "$(jobctl list)" "brokenfirst"
expect_match "... and the good files still apply" "$(jobctl list)" "filegood"

# --- overlap = queue: first come first served, and a bounded backlog --------
jobctl create qjob --schedule '@every 1s' --overlap queue --overlap-queue-max 2 \
	-- sleep 1.6 >/dev/null
maxwait=0
for i in $(seq 16); do
	n=$(jobctl --json runs qjob --status waiting | jq '.runs | length')
	[ "$n" -gt "$maxwait" ] && maxwait=$n
	sleep 0.5
done
jobctl disable qjob >/dev/null
expect_eq "overlap_queue_max = 2: at most 2 runs wait" "$([ "$maxwait" -le 2 ] && [ "$maxwait" -ge 1 ] && echo yes)" yes
skipped=$(jobctl --json show qjob | jq .skipped_fires)
expect_eq "... the fires beyond it are skipped and counted" "$([ "$skipped" -gt 0 ] && echo yes)" yes
expect_match "... and logged" "$(cat "$T/jobd.log")" "job qjob: 2 runs already waiting \\(overlap_queue_max\\), skipped"
retry_until 15 bash -c "[ \"\$(\"$JOBCTL\" --json runs qjob --status waiting | jq '.runs | length')\" = 0 ] && [ \"\$(\"$JOBCTL\" --json runs qjob --status running | jq '.runs | length')\" = 0 ]"
order=$(jobctl --json runs qjob --limit 100 | jq -r '[.runs[] | select(.time_started != null)] | sort_by(.jid) | [.[].time_started] | (. == sort)')
expect_eq "queued runs start in the order they were made (FIFO)" "$order" true
expect_eq "show --json has overlap_queue_max" "$(jobctl --json show qjob | jq .job.overlap_queue_max)" 2
expect_code 2 "--overlap-queue-max out of range is refused" jobctl create qbad --overlap queue --overlap-queue-max 5000 -- true

# --- a job file's user and group must exist: said at load, at the key --------
cat > "$T/jobs.d/d-user.conf" <<'JOB'
[job baduser]
command = true
user = nosuchuser_jobd
JOB
cat > "$T/jobs.d/e-group.conf" <<'JOB'
[job badgroup]
command = true

group = nosuchgroup_jobd
JOB
jobctl reload >/dev/null 2>&1
st=$(jobctl status)
expect_match "a job file's unknown user is refused at its key's line" "$st" "d-user.conf:3: user: unknown user 'nosuchuser_jobd'"
expect_match "a job file's unknown group is refused at its key's line" "$st" "e-group.conf:4: group: unknown group 'nosuchgroup_jobd'"
expect_code 4 "... and neither job is loaded" jobctl show baduser
rm -f "$T/jobs.d/d-user.conf" "$T/jobs.d/e-group.conf"

finish
