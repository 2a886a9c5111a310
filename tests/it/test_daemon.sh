#!/usr/bin/env bash
# test_daemon.sh — the daemon's lifecycle: options, config errors, the
# state-directory lock, status, SIGHUP reload, graceful and forced
# shutdown, recovery after kill -9 (running, waiting, adopted runs),
# retention of finished runs, and refusals for other users.
. "$(dirname "$0")/lib.sh"

NOT_FOUND_JID=20200101000000000000
TOK=$$$RANDOM                      # makes our sleep processes findable
made_user=""
# also on an early exit: our sleeps (their argument ends in .TOK), the user
trap 'cleanup; pkill -9 -f "^sleep [0-9]+\.$TOK\$"; [ -z "$made_user" ] || userdel jobdtest 2>/dev/null' EXIT

field() {   # field JID KEY: one field of `lookup --json`
	jobctl lookup --json "$1" 2>/dev/null | jq -r ".run.$2"
}
is_done() { [ "$(field "$1" status)" = done ]; }
is_running() { [ "$(field "$1" status)" = running ]; }
jobd_gone() { ! kill -0 "$1" 2>/dev/null; }
# pids of processes whose command line is exactly "sleep ARG"
sleepers() { pgrep -x -f "sleep $1" 2>/dev/null; }
no_sleepers() { [ -z "$(sleepers "$1")" ]; }

# ---- options and configuration --------------------------------------------
ok "jobd --version exits 0" "$JOBD" --version
expect_match "jobd --version prints the version" "$("$JOBD" --version)" \
	'^jobd [0-9]+\.[0-9]+'
ok "jobd --help exits 0" "$JOBD" --help
expect_match "jobd --help describes -c" "$("$JOBD" --help)" '-c, --config'

out=$("$JOBD" -c "$T/missing.conf" 2>&1); rc=$?
expect_eq "jobd -c missing.conf exits 2" "$rc" 2
expect_match "the error names the missing file" "$out" "$T/missing.conf"

printf 'state_dir = %s/x\n; a comment\nfrobnicate = 1\n' "$T" >"$T/bad.conf"
out=$("$JOBD" -c "$T/bad.conf" 2>&1); rc=$?
expect_eq "an unknown config key exits 2" "$rc" 2
expect_match "the error is FILE:LINE: unknown key" "$out" \
	"$T/bad.conf:3: unknown key"
[ ! -e "$T/x" ] && pass "a bad config creates no state dir" ||
	fail "a bad config creates no state dir" "$T/x exists"

write_config
cat >"$T/jobs.d/good.conf" <<'EOF'
[job good]
command = echo good
EOF
out=$("$JOBD" -t -c "$T/jobd.conf" 2>&1); rc=$?
expect_eq "jobd -t on a good config exits 0" "$rc" 0
expect_match "jobd -t reports the job files" "$out" 'OK \(1 job file'
cat >"$T/jobs.d/broken.conf" <<'EOF'
[job broken]
command = echo x
schedule = 61 * * * *
EOF
out=$("$JOBD" -t -c "$T/jobd.conf" 2>&1); rc=$?
expect_eq "jobd -t on a broken job file exits 2" "$rc" 2
expect_match "jobd -t names the broken job file" "$out" "broken.conf:[0-9]+"
echo 'nosuchkey = 1' >>"$T/jobd.conf"
out=$("$JOBD" -t -c "$T/jobd.conf" 2>&1); rc=$?
expect_eq "jobd -t on a bad config exits 2" "$rc" 2
expect_match "jobd -t names the bad key" "$out" "jobd.conf:[0-9]+: unknown key"
rm -f "$T/jobs.d/broken.conf" "$T/jobs.d/good.conf"
[ ! -e "$T/state/jobd.sock" ] && pass "jobd -t starts no daemon" ||
	fail "jobd -t starts no daemon" "socket exists"

# ---- one daemon per state dir, status --------------------------------------
jobd_start "[targets]
slow = 1"
out=$("$JOBD" -c "$T/jobd.conf" 2>&1); rc=$?
expect_eq "a second jobd on the same state dir exits 75" "$rc" 75
expect_match "the second jobd names the state dir it could not lock" "$out" \
	"another jobd.*$T/state"
ok "the first jobd still answers" jobctl status

out=$(jobctl status 2>&1)
expect_match "status shows the version" "$out" 'jobd [0-9]+\.[0-9]+'
expect_match "status shows the store" "$out" "sqlite:$T/state/jobd.db"
expect_match "status shows the counts" "$out" 'jobs: +0 \(0 running, 0 waiting\)'
expect_match "status lists the targets" "$out" 'slow +1 '
js=$(jobctl status --json)
expect_eq "status --json: version" "$(jq -r .version <<<"$js")" \
	"$("$JOBD" --version | awk '{print $2}')"
expect_eq "status --json: pid" "$(jq -r .pid <<<"$js")" "$JOBD_PID"
expect_eq "status --json: store" "$(jq -r .store <<<"$js")" \
	"sqlite:$T/state/jobd.db"
expect_eq "status --json: counts" "$(jq -c .counts <<<"$js")" \
	'{"jobs":0,"running":0,"waiting":0}'
expect_eq "status --json: target slow" \
	"$(jq -c '.targets.slow | {concurrency, running}' <<<"$js")" \
	'{"concurrency":1,"running":0}'

# ---- SIGHUP reload ---------------------------------------------------------
cat >"$T/jobs.d/hup.conf" <<'EOF'
[job hupjob]
command = sh -c 'sleep 3; echo done'
EOF
expect_eq "the new job file is not seen before the reload" \
	"$(jobctl list --json | jq -r '[.jobs[].name] | index("hupjob")')" null
kill -HUP "$JOBD_PID"
listed() { jobctl list --json | jq -e '.jobs[] | select(.name == "hupjob")'; }
retry_until 5 listed && pass "after SIGHUP, list shows the new job" ||
	fail "after SIGHUP, list shows the new job" "$(jobctl list 2>&1)"
expect_eq "status counts the new job" \
	"$(jobctl status --json | jq .counts.jobs)" 1

# a reload keeps running runs
jid=$(jobctl run hupjob --no-wait)
expect_match "run --no-wait prints a jid" "$jid" '^[0-9]{20}$'
retry_until 5 is_running "$jid" || fail "the hupjob run starts" "$(field "$jid" status)"
kill -HUP "$JOBD_PID"
ok "jobctl reload while a run runs" jobctl reload
expect_eq "the run is still running after two reloads" "$(field "$jid" status)" running
retry_until 10 is_done "$jid"
expect_eq "the run survives the reload: result" "$(field "$jid" result)" ok
expect_eq "the run survives the reload: output" "$(field "$jid" stdout)" done

# ---- graceful shutdown: a running run finishes -----------------------------
jid=$(jobctl submit -- sh -c 'sleep 2; echo ok')
retry_until 5 is_running "$jid"
pid=$JOBD_PID
kill -TERM "$pid"
sleep 0.5
kill -0 "$pid" 2>/dev/null && pass "after SIGTERM jobd waits for the running run" ||
	fail "after SIGTERM jobd waits for the running run" "jobd is gone"
out=$(jobctl submit -- true 2>&1); rc=$?
[ $rc -ne 0 ] && pass "after SIGTERM jobd starts nothing new" ||
	fail "after SIGTERM jobd starts nothing new" "submit exit 0: $out"
wait "$pid"; rc=$?
expect_eq "jobd exits 0 after the run ended" "$rc" 0
JOBD_PID=""
grep -q 'ERROR' "$T/jobd.log" && fail "graceful stop logs no ERROR" \
	"$(grep ERROR "$T/jobd.log" | head -5)" || pass "graceful stop logs no ERROR"
JOBD_KEEP_CONFIG=1 jobd_start
expect_eq "after restart the run is done" "$(field "$jid" status)" done
expect_eq "after restart the run is ok" "$(field "$jid" result)" ok
expect_eq "after restart the run's output is kept" "$(field "$jid" stdout)" ok
jobd_stop

# ---- shutdown_grace: a long run is killed ----------------------------------
jobd_start "shutdown_grace = 1s"
jid=$(jobctl submit -- sleep "100.$TOK")
retry_until 5 is_running "$jid"
pid=$JOBD_PID
kill -TERM "$pid"
retry_until 10 jobd_gone "$pid" && pass "with shutdown_grace = 1s jobd stops within seconds" ||
	fail "with shutdown_grace = 1s jobd stops within seconds" "still running"
wait "$pid"; rc=$?
expect_eq "jobd exits 0 after killing the run" "$rc" 0
JOBD_PID=""
retry_until 3 no_sleepers "100.$TOK" && pass "no sleep process remains" ||
	fail "no sleep process remains" "$(sleepers "100.$TOK")"
JOBD_KEEP_CONFIG=1 jobd_start
expect_eq "the killed run is done" "$(field "$jid" status)" done
expect_match "the killed run records its signal" "$(field "$jid" sig)" \
	'^SIG(TERM|KILL)$'
expect_eq "the killed run has no return code" "$(field "$jid" return_code)" null
jobd_stop

# ---- kill -9 (a): running runs are LOST and their processes killed ---------
jobd_start "[targets]
wide = 5"
jids=()
for i in 1 2 3; do jids+=("$(jobctl submit --target wide -- sleep "200$i.$TOK")"); done
running=0
for j in "${jids[@]}"; do retry_until 5 is_running "$j" && running=$((running + 1)); done
expect_eq "three sleep runs are running" "$running" 3
expect_eq "each running run has a proc file" \
	"$(ls "$T/state/proc" | grep -cE '^[0-9]{20}$')" 3
jobd_kill9
alive=0; for i in 1 2 3; do [ -n "$(sleepers "200$i.$TOK")" ] && alive=$((alive + 1)); done
expect_eq "the run processes outlive a kill -9 of jobd" "$alive" 3
JOBD_KEEP_CONFIG=1 jobd_start
for j in "${jids[@]}"; do
	expect_eq "lost run $j: status/result/sig" \
		"$(field "$j" status)/$(field "$j" result)/$(field "$j" sig)" done/fail/LOST
done
gone=0
for i in 1 2 3; do retry_until 3 no_sleepers "200$i.$TOK" && gone=$((gone + 1)); done
expect_eq "the lost runs' processes are killed (orphans = kill)" "$gone" 3
expect_eq "the lost runs' proc files are removed" "$(ls "$T/state/proc" | wc -l)" 0
jobd_stop

# ---- kill -9 (b): waiting runs run exactly once after restart --------------
jobd_start "[targets]
slow = 1"
long=$(jobctl submit --target slow -- sleep "300.$TOK")
retry_until 5 is_running "$long"
: >"$T/once"
quick=()
for i in $(seq 1 20); do
	quick+=("$(jobctl submit --target slow -- sh -c "echo $i >>$T/once")")
done
all_jids=("$long" "${quick[@]}")
expect_eq "20 runs wait behind the long one" \
	"$(jobctl status --json | jq .targets.slow.length)" 20
jobd_kill9
JOBD_KEEP_CONFIG=1 jobd_start
expect_eq "the sleeping run is LOST" \
	"$(field "$long" status)/$(field "$long" sig)" done/LOST
retry_until 3 no_sleepers "300.$TOK" || fail "the long sleep is killed" "$(sleepers "300.$TOK")"
all_done() { for j in "${quick[@]}"; do is_done "$j" || return 1; done; }
retry_until 30 all_done && pass "the 20 waiting runs all finish after the restart" ||
	fail "the 20 waiting runs all finish after the restart" \
		"$(for j in "${quick[@]}"; do echo "$j $(field "$j" status)"; done)"
okc=0; for j in "${quick[@]}"; do [ "$(field "$j" result)" = ok ] && okc=$((okc + 1)); done
expect_eq "the 20 runs are ok" "$okc" 20
expect_eq "each waiting run ran exactly once" "$(sort -n "$T/once" | tr '\n' ' ')" \
	"$(seq 1 20 | tr '\n' ' ')"
found=0; for j in "${all_jids[@]}"; do jobctl lookup "$j" >/dev/null 2>&1 && found=$((found + 1)); done
expect_eq "nothing lost: every submitted jid is found" "$found" 21
list=$(jobctl runs --limit 100 --json | jq -r '.runs[].jid')
expect_eq "runs shows no duplicate jid" "$(sort <<<"$list" | uniq -d)" ""
mine=0; for j in "${all_jids[@]}"; do grep -qx "$j" <<<"$list" && mine=$((mine + 1)); done
expect_eq "runs shows each submitted jid" "$mine" 21
jobd_stop

# ---- kill -9 (c): orphans = adopt keeps watching the live process ---------
jobd_start "orphans = adopt"
jid=$(jobctl submit -- sleep "400.$TOK")
retry_until 5 is_running "$jid"
spid=$(sleepers "400.$TOK")
jobd_kill9
JOBD_KEEP_CONFIG=1 jobd_start
expect_eq "adopt: the run is still running after the restart" \
	"$(field "$jid" status)" running
sleep 0.3
[ -n "$spid" ] && kill -0 "$spid" 2>/dev/null && pass "adopt: the process is not killed" ||
	fail "adopt: the process is not killed" "pid '$spid' is gone"
expect_match "adopt: active lists it" "$(jobctl active)" "$jid"
[ -f "$T/state/proc/$jid" ] && pass "adopt: its proc file is there" ||
	fail "adopt: its proc file is there"
ok "adopt: kill reaches its process group" jobctl kill "$jid"
retry_until 5 is_done "$jid"
expect_eq "adopt: it ends recorded LOST (exit status unknown)" \
	"$(field "$jid" status)/$(field "$jid" sig)" done/LOST
retry_until 5 sh -c "! kill -0 $spid 2>/dev/null" && pass "adopt: the process is gone" ||
	fail "adopt: the process is gone" "pid $spid"
[ ! -f "$T/state/proc/$jid" ] && pass "adopt: its proc file is removed" ||
	fail "adopt: its proc file is removed"
[ -n "$spid" ] && kill -9 "$spid" 2>/dev/null
jobd_stop

# ---- retention: keep_runs --------------------------------------------------
jobd_start "keep_runs = 2s"
old1=$(jobctl submit -- true); old2=$(jobctl submit -- echo x)
retry_until 5 is_done "$old1"; retry_until 5 is_done "$old2"
jobd_stop
sleep 3
JOBD_KEEP_CONFIG=1 jobd_start
new=$(jobctl submit -- true)
retry_until 5 is_done "$new"
swept() { jobctl lookup "$old1" >/dev/null 2>&1; [ $? -eq 4 ]; }
retry_until 6 swept && pass "keep_runs: old runs are swept after the start" ||
	fail "keep_runs: old runs are swept after the start" "$(jobctl lookup "$old1" 2>&1 | head -3)"
expect_code 4 "keep_runs: lookup of an old run exits 4" jobctl lookup "$old2"
ok "keep_runs: a run made after the restart stays" jobctl lookup "$new"
expect_eq "keep_runs: runs lists only the new run" \
	"$(jobctl runs --json | jq -r '[.runs[].jid] | join(" ")')" "$new"
expect_code 4 "lookup of an unknown jid exits 4" jobctl lookup $NOT_FOUND_JID
jobd_stop

# ---- permissions: another user ---------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
	echo "note: not root; the permission tests are skipped"
else
	U=jobdtest
	if ! id "$U" >/dev/null 2>&1; then
		useradd -M -s /bin/sh "$U" && made_user=1
	fi
	uid=$(id -u "$U")
	chmod 711 "$T"                  # the user must reach the socket
	jobd_start "socket_group = $U"
	as_user() { setpriv --reuid="$U" --regid="$U" --clear-groups "$JOBCTL" "$@"; }
	jobctl create rootjob -- sleep "500.$TOK" >/dev/null
	rjid=$(jobctl submit -- sleep "501.$TOK")
	retry_until 5 is_running "$rjid"
	expect_match "the socket belongs to the group" \
		"$(stat -c '%G %a' "$T/state/jobd.sock")" "^$U 660$"
	ok "the user reaches jobd" as_user status
	expect_code 77 "user: kill of root's run exits 77" as_user kill "$rjid"
	expect_code 77 "user: lookup of root's run exits 77" as_user lookup "$rjid"
	expect_code 77 "user: signal of root's run exits 77" as_user signal "$rjid" TERM
	expect_eq "root's run still runs" "$(field "$rjid" status)" running
	ok "user: create an own job" as_user create userjob -- true
	expect_eq "user: list shows only the user's own job" \
		"$(as_user list --json | jq -r '[.jobs[].name] | join(",")')" userjob
	expect_eq "root: list shows both jobs" \
		"$(jobctl list --json | jq -r '[.jobs[].name] | sort | join(",")')" hupjob,rootjob,userjob
	expect_code 77 "user: show of root's job exits 77" as_user show rootjob
	expect_code 77 "user: delete of root's job exits 77" as_user delete rootjob
	expect_code 77 "user: reload exits 77" as_user reload
	# --cwd /: the user has no home directory (useradd -M)
	ujid=$(as_user submit --cwd / -- id -u)
	expect_match "user: submit prints a jid" "$ujid" '^[0-9]{20}$'
	ok "user: wait for the own run" as_user wait "$ujid"
	expect_eq "user: runs shows only the user's own run" \
		"$(as_user runs --json | jq -r '[.runs[].jid] | join(",")')" "$ujid"
	expect_eq "user: the run runs as the user" \
		"$(as_user lookup --json "$ujid" | jq -r '.run.stdout')" "$uid"
	expect_eq "user: the run records the uid" \
		"$(as_user lookup --json "$ujid" | jq -r '.run.uid')" "$uid"
	jobctl kill "$rjid" >/dev/null 2>&1
	retry_until 5 is_done "$rjid"
	jobd_stop
	chmod 700 "$T"
	[ -z "$made_user" ] || userdel "$U" 2>/dev/null
	made_user=""
fi

finish
