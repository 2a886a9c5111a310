#!/usr/bin/env bash
# Job definitions: create (and its options), list, show, delete, enable /
# disable, input errors, and job files (loaded at start, reload, errors).
. "$(dirname "$0")/lib.sh"

# jq on the JSON reply of a jobctl command: jj FILTER jobctl-args...
jj() { local f=$1; shift; jobctl --json "$@" 2>/dev/null | jq -r "$f"; }
has_job() { jobctl --json list | jq -e --arg n "$1" '.jobs[] | select(.name == $n)' >/dev/null; }
no_job() { ! has_job "$1"; }

# A job file present before jobd starts is loaded at start.
mkdir -p "$T/jobs.d"
cat > "$T/jobs.d/boot.conf" <<'EOF'
; a job defined in a file
[job bootjob]
command = echo from-boot-file
schedule = 0 4 * * *
tags = files

[action hello]
command = echo hello-action
EOF
jobd_start

expect_eq "file job is listed at start" "$(jj '.jobs[] | select(.name == "bootjob") | .name' list)" bootjob
expect_eq "file job's source is its file" \
	"$(jj '.jobs[] | select(.name == "bootjob") | .source' list)" "$T/jobs.d/boot.conf"
expect_eq "file job's schedule" "$(jj '.job.schedule' show bootjob)" "0 4 * * *"
expect_eq "file job's action" "$(jj '.job.actions.hello' show bootjob)" "echo hello-action"
out=$(jobctl run bootjob 2>&1); rc=$?
expect_eq "file job runs its command" "$rc:$out" "0:from-boot-file"
out=$(jobctl run bootjob --action hello 2>&1); rc=$?
expect_eq "file job runs its action" "$rc:$out" "0:hello-action"

# --- create with options --------------------------------------------------
out=$(jobctl create full --schedule '*/5 * * * *' --env A=1 --env B='two words' \
	--cwd /tmp --timeout 90s --tags nightly,db --action migrate='echo migrating' \
	-- echo hello world 2>&1); rc=$?
expect_eq "create with options" "$rc" 0
expect_match "create says so" "$out" "created job full"
show=$(jobctl --json show full)
sj() { jq -c "$1" <<<"$show"; }
expect_eq "show: name" "$(sj .job.name)" '"full"'
expect_eq "show: command" "$(sj .job.command)" '"echo hello world"'
expect_eq "show: not shell" "$(sj .job.shell)" false
expect_eq "show: schedule" "$(sj .job.schedule)" '"*/5 * * * *"'
expect_eq "show: env" "$(sj .job.env)" '{"A":"1","B":"two words"}'
expect_eq "show: cwd" "$(sj .job.cwd)" '"/tmp"'
expect_eq "show: timeout" "$(sj .job.timeout)" '"1m30s"'
expect_eq "show: tags" "$(sj .job.tags)" '["nightly","db"]'
expect_eq "show: actions" "$(sj .job.actions)" '{"migrate":"echo migrating"}'
expect_eq "show: enabled" "$(sj .job.enabled)" true
expect_eq "show: API job has no source" "$(sj .job.source)" null
for k in target user group kill_grace retries backoff overlap jitter confirm \
	requires selectors priority owner_uid; do
	expect_eq "show: has field $k" "$(jq --arg k "$k" '.job | has($k)' <<<"$show")" true
done
expect_eq "show: 5 next runs" "$(sj '.next_runs | length')" 5
# every next run is on a 5-minute boundary, in the future, increasing
nr_ok=$(jq -r --arg now "$(date -u +%Y-%m-%dT%H:%M:%S)" '
	[.next_runs[] | sub("\\.[0-9]+Z$"; "Z")] as $t
	| ($t | map(test(":[0-5][05]:00Z$")) | all)
	  and ($t[0][0:19] > $now) and ($t == ($t | sort)) and ($t | unique | length == 5)' <<<"$show")
expect_eq "show: next runs every 5 minutes from now" "$nr_ok" true
human=$(jobctl show full)
expect_match "show (text): next runs listed" "$human" \
	"next runs:"$'\n'"  [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-5][05]:00"
expect_match "show (text): env member" "$human" "A: 1"

ok "create --shell" jobctl create sh1 --shell -- 'echo "$((6*7))" | tr 4 x'
expect_eq "--shell: shell flag" "$(jj .job.shell show sh1)" true
expect_eq "--shell: command line" "$(jj .job.command show sh1)" 'echo "$((6*7))" | tr 4 x'
out=$(jobctl run sh1 2>&1)
expect_eq "--shell: runs through /bin/sh" "$out" "x2"

# list: human table and JSON summary
table=$(jobctl list)
expect_match "list: header" "$table" "^NAME +STATE +SCHEDULE +NEXT +LAST +RESULT"
expect_match "list: the job's row" "$table" $'\n'"full +enabled +\\*/5 \\* \\* \\* \\* +(in [0-9]+[smh]|just now) "
expect_match "list: a manual job's row" "$table" $'\n'"sh1 +enabled +- +- +"
list=$(jobctl --json list)
fields=$(jq -c '.jobs[] | select(.name == "full") | keys_unsorted | sort' <<<"$list")
for k in name enabled schedule next_run last_run last_result running source; do
	expect_eq "list --json: field $k" "$(jq --arg k "$k" 'index($k) != null' <<<"$fields")" true
done
expect_eq "list --json: last result after a run" \
	"$(jq -r '.jobs[] | select(.name == "sh1") | .last_result' <<<"$list")" ok
expect_eq "list --json: running count" \
	"$(jq -r '.jobs[] | select(.name == "full") | .running' <<<"$list")" 0

# an existing name
out=$(jobctl create full -- true 2>&1); rc=$?
expect_eq "create existing name: exit 1" "$rc" 1
expect_match "create existing name: message" "$out" "full.*already exists"
expect_eq "create existing name: job unchanged" "$(jj .job.command show full)" "echo hello world"
ok "create --replace" jobctl create full --replace -- echo replaced
expect_eq "replaced job's command" "$(jj .job.command show full)" "echo replaced"
expect_eq "replace drops old options" "$(jj .job.schedule show full)" null

# enable / disable
ok "create scheduled job" jobctl create sched --schedule '0 * * * *' -- true
ok "disable" jobctl disable sched
expect_match "list shows disabled" "$(jobctl list)" $'\n'"sched +disabled "
expect_eq "list --json: enabled false" "$(jj '.jobs[] | select(.name == "sched") | .enabled' list)" false
expect_eq "disabled job has no next run" "$(jj '.jobs[] | select(.name == "sched") | .next_run' list)" null
ok "enable" jobctl enable sched
expect_match "list shows enabled" "$(jobctl list)" $'\n'"sched +enabled +0 \\* \\* \\* \\* +(in |just now)"
expect_eq "list --json: enabled true" "$(jj '.jobs[] | select(.name == "sched") | .enabled' list)" true
expect_code 4 "disable unknown job" jobctl disable nosuchjob
expect_code 4 "enable unknown job" jobctl enable nosuchjob

# delete
out=$(jobctl delete sched 2>&1); rc=$?
expect_eq "delete" "$rc:$out" "0:deleted job sched"
expect_code 4 "show deleted job: exit 4" jobctl show sched
expect_code 4 "delete it again: exit 4" jobctl delete sched
expect_code 4 "run deleted job: exit 4" jobctl run sched
ok "deleted job not listed" no_job sched

# --- bad input: exit 2, a message naming the problem, nothing created ------
# bad2 NAME REGEX CMD...: exit 2 and stderr matches REGEX
bad2() { local n=$1 re=$2; shift 2; local out rc
	out=$("$@" 2>&1 >/dev/null); rc=$?
	if [ $rc -eq 2 ] && [[ "$out" =~ $re ]]; then pass "$n"
	else fail "$n" "exit $rc, want 2 and stderr matching: $re" "$out"; fi; }
bad2 "invalid name" "invalid job name 'bad name'" jobctl create 'bad name' -- true
bad2 "name too long" "invalid job name" jobctl create "$(printf 'x%.0s' {1..65})" -- true
bad2 "bad schedule names the minute field" "minute" jobctl create b1 --schedule '61 * * * *' -- true
bad2 "bad schedule token" "61" jobctl create b1 --schedule '61 * * * *' -- true
bad2 "bad hour" "hour" jobctl create b1 --schedule '0 25 * * *' -- true
bad2 "bad duration" "--timeout.*5x" jobctl create b1 --timeout 5x -- true
bad2 "bad @every duration" "5x|duration" jobctl create b1 --schedule '@every 5x' -- true
bad2 "missing command" "missing COMMAND" jobctl create b1
bad2 "missing command after --" "missing COMMAND" jobctl create b1 --
bad2 "bad --env" "env|K=V" jobctl create b1 --env NOEQUALS -- true
bad2 "bad --overlap" "overlap|sometimes" jobctl create b1 --overlap sometimes -- true
bad2 "bad --action" "action" jobctl create b1 --action noequals -- true
bad2 "unknown command" "unknown command 'frobnicate'" jobctl frobnicate
bad2 "unknown option of create" "unknown option '--bogus'" jobctl create b1 --bogus -- true
bad2 "unknown option of list" "unknown option '--bogus'" jobctl list --bogus
bad2 "show without a name" "NAME|missing|name" jobctl show
ok "nothing was created by bad input" no_job b1

# --- job files: reload --------------------------------------------------------
cat > "$T/jobs.d/added.conf" <<'EOF'
[job added]
command = echo added-by-reload
timeout = 2m

[job added2]
command = true
EOF
out=$(jobctl reload 2>&1); rc=$?
expect_eq "reload: exit 0" "$rc" 0
expect_match "reload: counts files" "$out" "reloaded [0-9]+ jobs from 2 files"
expect_eq "reload picks up a new file" \
	"$(jj '.jobs[] | select(.name == "added") | .source' list)" "$T/jobs.d/added.conf"
expect_eq "new file's second job" "$(jj '.jobs[] | select(.name == "added2") | .name' list)" added2
expect_eq "new file job's timeout" "$(jj .job.timeout show added)" "2m"
out=$(jobctl run added 2>&1)
expect_eq "new file job runs" "$out" "added-by-reload"
ok "API-created jobs survive reload" has_job sh1
ok "boot file job still there" has_job bootjob

rm "$T/jobs.d/added.conf"
ok "reload after removing a file" jobctl reload
ok "removed file's job is gone" no_job added
ok "removed file's second job is gone" no_job added2
expect_code 4 "show removed file job: exit 4" jobctl show added

# a file with an unknown key: reload fails with FILE:LINE, old jobs stay
before=$(jj '[.jobs[] | [.name, .source]] | sort' list)
cat > "$T/jobs.d/broken.conf" <<'EOF'
[job broken]
command = true
colour = blue
EOF
out=$(jobctl reload 2>&1); rc=$?
if [ $rc -ne 0 ]; then pass "reload with a bad file fails"; else fail "reload with a bad file fails" "exit 0: $out"; fi
expect_eq "reload with a bad file: exit 2" "$rc" 2
expect_match "reload error names FILE:LINE" "$out" "$T/jobs.d/broken.conf:3"
expect_match "reload error names the key" "$out" "colour"
expect_eq "old jobs stay after a failed reload" "$(jj '[.jobs[] | [.name, .source]] | sort' list)" "$before"
ok "bad file's job not loaded" no_job broken
nlog() { grep -c "broken.conf:3" "$T/jobd.log"; }
n0=$(nlog)
kill -HUP "$JOBD_PID"
logged_more() { [ "$(nlog)" -gt "$n0" ]; }
ok "SIGHUP with a bad file: jobd logs FILE:LINE" retry_until 5 logged_more
expect_eq "SIGHUP with a bad file: jobs unchanged" "$(jj '[.jobs[] | [.name, .source]] | sort' list)" "$before"
ok "jobd still answers after a failed SIGHUP reload" jobctl status

# --- restart: definitions persist; a bad job file is skipped, not fatal --------
jobd_stop
JOBD_KEEP_CONFIG=1 jobd_start
ok "jobd starts with a bad job file (it is skipped)" jobctl status
expect_match "jobd's start error names FILE:LINE" "$(cat "$T/jobd.log")" "ERROR $T/jobs.d/broken.conf:3"
expect_match "jobctl status names the skipped file" "$(jobctl status)" "skipped $T/jobs.d/broken.conf:3"
jobd_stop
err=$("$JOBD" -c "$T/jobd.conf" --check 2>&1); rc=$?
expect_eq "jobd --check with a bad job file: exit 2" "$rc" 2
expect_match "jobd --check names FILE:LINE" "$err" "$T/jobs.d/broken.conf:3"
rm "$T/jobs.d/broken.conf"
expect_code 0 "jobd --check passes once it is fixed" "$JOBD" -c "$T/jobd.conf" --check

JOBD_KEEP_CONFIG=1 jobd_start
ok "jobd starts once the file is fixed" jobctl status
expect_eq "jobs after restart" "$(jj '[.jobs[] | [.name, .source]] | sort' list)" "$before"
expect_eq "created job's definition persists" "$(jj .job.command show sh1)" 'echo "$((6*7))" | tr 4 x'
expect_eq "replaced job persists" "$(jj .job.command show full)" "echo replaced"
expect_eq "file job reloaded from its file" "$(jj .job.source show bootjob)" "$T/jobs.d/boot.conf"

finish
