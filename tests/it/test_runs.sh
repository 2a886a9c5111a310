#!/usr/bin/env bash
# Runs: run/wait exit codes, lookup/runs/logs, live output, active runs and
# proc files, signals to the process group, timeouts, the output cap,
# submit/--at/cancel, and the child's environment.
. "$(dirname "$0")/lib.sh"

jobd_start "output_cap = 1k"

# jq on the JSON reply of a jobctl command: jj FILTER jobctl-args...
jj() { local f=$1; shift; jobctl --json "$@" 2>/dev/null | jq -r "$f"; }
run_field() { jj ".run.$2" lookup "$1"; }
is_status() { [ "$(run_field "$1" status)" == "$2" ]; }
is_jid() { [[ "$1" =~ ^[0-9]{20}$ ]]; }
# live processes (not zombies) in process group $1
group_alive() { ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/' | grep -q .; }
group_gone() { ! group_alive "$1"; }
PGIDS=()
reap_groups() { for g in "${PGIDS[@]}"; do kill -9 -- "-$g" 2>/dev/null; done; }
trap 'reap_groups; cleanup' EXIT

# --- run: output and exit codes -------------------------------------------
jobctl create ok -- echo out-line >/dev/null
jobctl create three --shell -- 'echo a; echo b >&2; exit 3' >/dev/null
jobctl create selfterm -- sh -c 'kill -TERM $$' >/dev/null
out=$(jobctl run ok 2>/dev/null); rc=$?
expect_eq "run prints stdout, exits 0" "$rc:$out" "0:out-line"
out=$(jobctl run three 2>"$T/err"); rc=$?
expect_eq "run exits with the run's code (3)" "$rc" 3
expect_eq "run: stdout on stdout" "$out" "a"
expect_eq "run: stderr on stderr" "$(cat "$T/err")" "b"
expect_code 143 "run killed by SIGTERM exits 143" jobctl run selfterm
expect_code 4 "run of an unknown job: exit 4" jobctl run nosuchjob

# --no-wait, wait, lookup
jid=$(jobctl run three --no-wait); rc=$?
expect_eq "run --no-wait exits 0" "$rc" 0
ok "run --no-wait prints a 20-digit jid" is_jid "$jid"
out=$(jobctl wait "$jid" 2>/dev/null); rc=$?
expect_eq "wait exits with the run's code" "$rc:$out" "3:a"
lk=$(jobctl --json lookup "$jid")
lf() { jq -c ".run | $1" <<<"$lk"; }
expect_eq "lookup: jid" "$(lf .jid)" "\"$jid\""
expect_eq "lookup: job" "$(lf .job)" '"three"'
expect_eq "lookup: status done" "$(lf .status)" '"done"'
expect_eq "lookup: result fail" "$(lf .result)" '"fail"'
expect_eq "lookup: return_code" "$(lf .return_code)" 3
expect_eq "lookup: sig null" "$(lf .sig)" null
expect_eq "lookup: trigger manual" "$(lf .trigger)" '"manual"'
expect_eq "lookup: stdout" "$(lf .stdout)" '"a\n"'
expect_eq "lookup: stderr" "$(lf .stderr)" '"b\n"'
expect_eq "lookup: not truncated" "$(lf '[.stdout_truncated, .stderr_truncated]')" '[false,false]'
expect_eq "lookup: command" "$(lf .command)" '"echo a; echo b >&2; exit 3"'
tre='^"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z"$'
for k in time_created time_started time_finished; do
	expect_match "lookup: $k is RFC 3339 UTC" "$(lf .$k)" "$tre"
done
expect_eq "lookup: times ordered" \
	"$(lf '.time_created <= .time_started and .time_started <= .time_finished')" true
expect_eq "lookup: jid is the creation time" \
	"$(lf '.time_created | gsub("[^0-9]"; "")')" "\"$jid\""
expect_match "lookup: pid" "$(lf .pid)" '^[0-9]+$'
expect_match "lookup: duration_ms" "$(lf .duration_ms)" '^[0-9]+$'
txt=$(jobctl lookup "$jid")
expect_match "lookup (text): output sections" "$txt" $'--- stdout ---\na\n--- stderr ---\nb'
expect_code 4 "lookup of an unknown jid: exit 4" jobctl lookup 20200101000000000000
expect_code 2 "lookup of a malformed jid: exit 2" jobctl lookup 1234
expect_code 2 "lookup of a jid with a letter: exit 2" jobctl lookup 2026112316155517094x
expect_code 4 "wait on an unknown jid: exit 4" jobctl wait 20200101000000000000

# runs
expect_match "runs lists the run" "$(jobctl runs)" "$jid +three +done +fail +3 "
jobctl run ok >/dev/null
r=$(jobctl --json runs three --status done --limit 1)
expect_eq "runs NAME --status done --limit 1: one run" "$(jq '.runs | length' <<<"$r")" 1
expect_eq "runs NAME --status done --limit 1: the newest" "$(jq -r '.runs[0].jid' <<<"$r")" "$jid"
expect_eq "runs NAME: only that job" "$(jj '[.runs[].job] | unique | join(",")' runs three)" three
expect_eq "runs NAME: all its runs, newest first" \
	"$(jj '[.runs[].jid] | (. == (sort | reverse)) and length == 2' runs three)" true
txt=$(jobctl runs three --status done --limit 1)
expect_eq "runs (text): header + 1 row" "$(wc -l <<<"$txt")" 2
expect_eq "runs --status running: none" "$(jj '.runs | length' runs --status running)" 0
expect_code 2 "runs --status bogus: exit 2" jobctl runs --status bogus
expect_code 2 "runs --limit abc: exit 2" jobctl runs --limit abc

# logs
out=$(jobctl logs "$jid" 2>"$T/err"); rc=$?
expect_eq "logs JID prints stdout" "$rc:$out" "0:a"
expect_eq "logs JID prints stderr on stderr" "$(cat "$T/err")" "b"
expect_eq "logs NAME: the latest run" "$(jobctl logs ok 2>/dev/null)" "out-line"

# --- live output: logs -f and run stream lines while the run goes on -----------
jobctl create ticker --shell -- 'for i in 1 2 3 4 5; do echo line$i; sleep 0.4; done' >/dev/null
jid=$(jobctl run ticker --no-wait)
jobctl logs -f "$jid" >"$T/follow" 2>&1 &
fpid=$!
if retry_until 10 grep -q line1 "$T/follow"; then
	if is_status "$jid" running; then pass "logs -f: first line arrives while the run goes on"
	else fail "logs -f: first line arrives while the run goes on" "run already $(run_field "$jid" status)"; fi
else fail "logs -f: first line arrives" "$(cat "$T/follow")"; fi
wait $fpid; rc=$?
expect_eq "logs -f ends with the run, exit 0" "$rc" 0
expect_eq "logs -f: all lines in order" "$(tr '\n' ' ' <"$T/follow")" "line1 line2 line3 line4 line5 "
ok "run is done when logs -f returns" is_status "$jid" done

jobctl run ticker >"$T/live" 2>&1 &
rpid=$!
if retry_until 10 grep -q line1 "$T/live"; then
	if [ "$(jj '[.runs[] | select(.job == "ticker")] | length' active)" -eq 1 ]; then
		pass "run: first line arrives while the run goes on"
	else fail "run: first line arrives while the run goes on" "no active ticker run"; fi
else fail "run: first line arrives" "$(cat "$T/live")"; fi
wait $rpid; rc=$?
expect_eq "run streams every line and exits 0" "$rc:$(tr '\n' ' ' <"$T/live")" "0:line1 line2 line3 line4 line5 "

# --- active, proc files, term -----------------------------------------------
jobctl create sleeper -- sleep 100 >/dev/null
jid=$(jobctl run sleeper --no-wait)
ok "proc file appears" retry_until 5 test -s "$T/state/proc/$jid"
proc=$(cat "$T/state/proc/$jid")
pf() { jq -c ".$1" <<<"$proc"; }
expect_eq "proc file: jid" "$(pf jid)" "\"$jid\""
expect_eq "proc file: job" "$(pf job)" '"sleeper"'
expect_eq "proc file: user" "$(pf user)" "\"$(id -un)\""
expect_eq "proc file: command" "$(pf command)" '"sleep 100"'
expect_match "proc file: started" "$(pf started)" "$tre"
pid=$(pf pid); pgid=$(pf pgid)
PGIDS+=("$pgid")
expect_match "proc file: pid" "$pid" '^[0-9]+$'
expect_eq "proc file: pgid is the run's own group" "$pgid" "$pid"
expect_match "proc file: pid is a live sleep" "$(ps -o args= -p "$pid")" "^sleep 100"
act=$(jobctl --json active)
expect_eq "active lists the run with its pid" \
	"$(jq -r --arg j "$jid" '.runs[] | select(.jid == $j) | "\(.status) \(.pid)"' <<<"$act")" "running $pid"
expect_match "active (text): row" "$(jobctl active)" "$jid +sleeper +$pid +$(id -un) "
expect_eq "show lists the running jid" "$(jj '.running | join(",")' show sleeper)" "$jid"
expect_eq "list counts it running" "$(jj '.jobs[] | select(.name == "sleeper") | .running' list)" 1
out=$(jobctl term "$jid" 2>&1); rc=$?
expect_eq "term: exit 0" "$rc" 0
expect_match "term: message" "$out" "Signal 15 sent to job $jid at pid $pid"
expect_code 143 "wait after term: exit 143" jobctl wait "$jid"
expect_eq "lookup after term: sig SIGTERM, no return code" \
	"$(jj '.run | "\(.status) \(.result) \(.sig) \(.return_code)"' lookup "$jid")" "done fail SIGTERM null"
ok "proc file vanishes when the run ends" retry_until 5 test ! -e "$T/state/proc/$jid"
expect_eq "active: empty" "$(jj '.runs | length' active)" 0
out=$(jobctl term "$jid" 2>&1); rc=$?
expect_eq "signal on a finished run: exit 3" "$rc" 3
expect_match "signal on a finished run: message" "$out" "$jid was not running"
expect_code 4 "signal an unknown jid: exit 4" jobctl term 20200101000000000000
expect_code 2 "signal a malformed jid: exit 2" jobctl kill 12345
expect_code 2 "signal with a bad signal name: exit 2" jobctl signal "$jid" NOSUCHSIG

# signal NAME by number; kill reaches the whole process group
u=$((100000 + $$))
jobctl create grp -- sh -c "sleep 1$u & sleep 2$u & wait" >/dev/null
jid=$(jobctl run grp --no-wait)
retry_until 5 test -s "$T/state/proc/$jid"
pgid=$(jq .pgid "$T/state/proc/$jid"); PGIDS+=("$pgid")
retry_until 5 pgrep -f "sleep 2$u"
expect_eq "group: both sleeps run in the run's group" \
	"$(pgrep -g "$pgid" -x sleep | wc -l)" 2
ok "kill JID" jobctl kill "$jid"
expect_code 137 "wait after kill: exit 137" jobctl wait "$jid"
ok "kill: no process of the group survives" retry_until 5 group_gone "$pgid"
ok "kill: no sleep survives" retry_until 5 bash -c "! pgrep -f 'sleep [12]$u' | xargs -r ps -o stat= -p | grep -qv '^Z'"
expect_eq "lookup after kill: SIGKILL" "$(run_field "$jid" sig)" SIGKILL

jid=$(jobctl run sleeper --no-wait)
retry_until 5 test -s "$T/state/proc/$jid"; PGIDS+=("$(jq .pgid "$T/state/proc/$jid")")
out=$(jobctl signal "$jid" 10 2>&1)
expect_match "signal JID 10" "$out" "Signal 10 sent to job $jid"
expect_code 138 "wait after SIGUSR1: exit 138" jobctl wait "$jid"
expect_eq "lookup: sig SIGUSR1" "$(run_field "$jid" sig)" SIGUSR1

# --- timeout and kill grace --------------------------------------------------
jobctl create slow --timeout 1s -- sh -c "sleep 3$u & sleep 4$u & wait" >/dev/null
jid=$(jobctl run slow --no-wait)
retry_until 5 test -s "$T/state/proc/$jid"
pgid=$(jq .pgid "$T/state/proc/$jid"); PGIDS+=("$pgid")
two_sleeps() { [ "$(pgrep -g "$1" -x sleep | wc -l)" -eq 2 ]; }
ok "timeout: the run has started its children" retry_until 5 two_sleeps "$pgid"
out=$(jobctl wait "$jid" 2>&1); rc=$?
if [ $rc -eq 143 ] || [ $rc -eq 137 ]; then pass "timeout: wait exits 143/137 ($rc)"
else fail "timeout: wait exits 143/137" "exit $rc" "$out"; fi
expect_match "timeout: sig" "$(run_field "$jid" sig)" '^SIG(TERM|KILL)$'
ok "timeout: no process of the group survives" retry_until 5 group_gone "$pgid"
d=$(run_field "$jid" duration_ms)
if [ "$d" -ge 900 ]; then pass "timeout: not killed before 1 s ($d ms)"
else fail "timeout: not killed before 1 s" "duration_ms $d"; fi

jobctl create stubborn --timeout 1s --kill-grace 1s --shell -- \
	"trap '' TERM; echo ready; while :; do sleep 5$u; done" >/dev/null
expect_eq "kill grace stored" "$(jj .job.kill_grace show stubborn)" 1s
jid=$(jobctl run stubborn --no-wait)
retry_until 5 test -s "$T/state/proc/$jid"
pgid=$(jq .pgid "$T/state/proc/$jid"); PGIDS+=("$pgid")
expect_code 137 "child ignoring SIGTERM is SIGKILLed after the grace" jobctl wait "$jid"
expect_eq "kill grace: sig SIGKILL" "$(run_field "$jid" sig)" SIGKILL
expect_eq "kill grace: output kept" "$(run_field "$jid" stdout)" ready
ok "kill grace: no process of the group survives" retry_until 5 group_gone "$pgid"
d=$(run_field "$jid" duration_ms)
if [ "$d" -ge 1800 ]; then pass "kill grace: SIGKILL not before timeout + grace ($d ms)"
else fail "kill grace: SIGKILL not before timeout + grace" "duration_ms $d"; fi

# --- leftovers: processes a run leaves behind in its group ---------------------
# with kill_leftovers (as systemd does with a unit's: SIGTERM at the run's
# end, SIGKILL after kill_grace); one that left the group (setsid) is not
# the run's any more.  Without it they live on: fault_daemonize.
jobctl create leaver --kill-leftovers --kill-grace 1s --shell -- \
	"sleep 6$u & (trap '' TERM; sleep 7$u) & setsid sleep 8$u & echo bye" >/dev/null
expect_eq "kill_leftovers stored" "$(jj .job.kill_leftovers show leaver)" true
jid=$(jobctl run leaver --no-wait)
retry_until 5 test -s "$T/state/proc/$jid"
pgid=$(jq .pgid "$T/state/proc/$jid"); PGIDS+=("$pgid")
expect_code 0 "leftovers: the run itself ends ok" jobctl wait "$jid"
ok "leftovers: none left in the group after kill_grace" retry_until 4 group_gone "$pgid"
ok "leftovers: a process that left the group lives on" pgrep -x -f "sleep 8$u"
pkill -f "sleep 8$u"
jid=$(jobctl submit --kill-leftovers --shell -- "sleep 9$u & echo hi")
expect_code 0 "submit --kill-leftovers: the run ends ok" jobctl wait "$jid"
ok "submit --kill-leftovers: its background child is gone" \
	retry_until 4 bash -c "! pgrep -x -f 'sleep 9$u'"

# --- output cap ---------------------------------------------------------------
jobctl create big -- sh -c 'i=0; while [ $i -lt 1000 ]; do printf "%099d\n" $i; i=$((i+1)); done; echo small >&2' >/dev/null
jid=$(jobctl run big --no-wait)
jobctl wait "$jid" >/dev/null 2>&1
expect_eq "output cap: stdout is 1024 bytes" "$(jj '.run.stdout | utf8bytelength' lookup "$jid")" 1024
expect_eq "output cap: the first bytes are kept" "$(jj '.run.stdout[0:100]' lookup "$jid")" "$(printf '%099d' 0)"
expect_eq "output cap: stdout_truncated" "$(run_field "$jid" stdout_truncated)" true
expect_eq "output cap: stderr not truncated" "$(jj '.run | "\(.stderr_truncated) \(.stderr | @json)"' lookup "$jid")" 'false "small\n"'
expect_match "output cap: lookup (text) says truncated" "$(jobctl lookup "$jid")" "--- stdout \\(truncated\\) ---"
expect_eq "output cap: result still ok" "$(run_field "$jid" result)" ok

# --- submit ---------------------------------------------------------------------
jid=$(jobctl submit -- echo hi); rc=$?
expect_eq "submit: exit 0" "$rc" 0
ok "submit prints a jid" is_jid "$jid"
ok "submitted run finishes" retry_until 10 is_status "$jid" done
expect_eq "submit: stdout" "$(jj '.run.stdout | @json' lookup "$jid")" '"hi\n"'
expect_eq "submit: result ok, no job" "$(jj '.run | "\(.result) \(.return_code) \(.job)"' lookup "$jid")" "ok 0 null"

jid=$(jobctl submit --at now+2s -- echo later)
expect_eq "submit --at: waiting right after" "$(run_field "$jid" status)" waiting
expect_eq "submit --at: not started" "$(run_field "$jid" time_started)" null
out=$(jobctl wait "$jid" 2>&1); rc=$?
expect_eq "submit --at: then runs" "$rc:$out" "0:later"
late=$(jj '.run | ((.time_started | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) - (.time_created | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601))' lookup "$jid")
if [ "$late" -ge 1 ]; then pass "submit --at: not started before its time (+${late}s)"
else fail "submit --at: not started before its time" "started ${late}s after created"; fi

jid=$(jobctl submit --at now+30s -- echo never)
ok "cancel a waiting run" jobctl cancel "$jid"
expect_eq "cancelled run is ignored" "$(run_field "$jid" status)" ignored
expect_eq "cancelled run never started" "$(run_field "$jid" time_started)" null
expect_code 1 "wait on a cancelled run: exit 1" jobctl wait "$jid"

jid=$(jobctl submit -- /nonexistent/prog-$u arg)
out=$(jobctl wait "$jid" 2>&1); rc=$?
expect_eq "missing program: wait exits 127" "$rc" 127
expect_eq "missing program: done/fail/127" \
	"$(jj '.run | "\(.status) \(.result) \(.return_code)"' lookup "$jid")" "done fail 127"
expect_match "missing program: stderr names it" "$(run_field "$jid" stderr)" "/nonexistent/prog-$u"

out=$(jobctl submit --wait -- sh -c 'echo waited; exit 5' 2>&1); rc=$?
expect_eq "submit --wait streams and exits with the code" "$rc:$out" "5:waited"
expect_code 2 "submit --at garbage: exit 2" jobctl submit --at garbage -- true
expect_code 2 "submit without a command: exit 2" jobctl submit

# --- the child's environment ---------------------------------------------------------
mkdir -p "$T/work dir"
jobctl create envjob --env FOO=bar --env 'SPACED=a b' --cwd "$T/work dir" --shell -- \
	'echo "$JOBD_JID|$FOO|$SPACED|$(pwd)"' >/dev/null
jid=$(jobctl run envjob --no-wait)
jobctl wait "$jid" >/dev/null 2>&1
expect_eq "env: JOBD_JID, --env and --cwd reach the child" \
	"$(run_field "$jid" stdout)" "$jid|bar|a b|$T/work dir"
jid=$(jobctl submit --env X=1 --cwd /usr --shell -- 'echo "$JOBD_JID $X $(pwd)"')
jobctl wait "$jid" >/dev/null 2>&1
expect_eq "submit: JOBD_JID, --env and --cwd" "$(run_field "$jid" stdout)" "$jid 1 /usr"

# jobd ignores SIGPIPE (and may inherit ignored SIGINT/SIGQUIT from a
# shell); its runs must start with the standard signals at default.  (glibc
# leaves its two internal real-time signals, 32 and 33, ignored.)
jid=$(jobctl submit -- grep -E '^Sig(Ign|Blk):' /proc/self/status)
jobctl wait "$jid" >/dev/null 2>&1
masks=$(run_field "$jid" stdout | awk '{print $2}')
blk=$(sed -n 1p <<<"$masks"); ign=$(sed -n 2p <<<"$masks")
expect_eq "runs start with no blocked signal" "$((16#$blk))" 0
expect_eq "runs start with no ignored standard signal" "$((16#$ign & 0x7fffffff))" 0

finish
