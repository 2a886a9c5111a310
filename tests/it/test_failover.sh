#!/usr/bin/env bash
# test_failover.sh — placement = one (docs/cluster.md): three jobd workers
# on one MariaDB share a job whose schedule fires on one worker at a time,
# the holder of its lease.  Exactly one runs it; kill -9 of the holder:
# another takes over within lease_timeout + a period; no fire time runs
# twice over the whole test (the shared file and the run table agree); an
# @every job does not run sooner than its interval after it moves; a clean
# stop releases at once; a manual run elsewhere is refused naming the
# holder.  Needs JOBD_TEST_MYSQL (scripts/mariadb.sh); skips without it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
NODES="w1 w2 w3"

if [ -z "${JOBD_TEST_MYSQL:-}" ] || ! command -v mariadb >/dev/null; then
	echo "note: JOBD_TEST_MYSQL unset or no mariadb client: skipped"
	echo "RESULT 0 0"
	exit 0
fi
re='^mysql://([^:]+):([^@]+)@([^:/]+):([0-9]+)/([^?]+)$'
[[ "$JOBD_TEST_MYSQL" =~ $re ]] || { echo "JOBD_TEST_MYSQL is not mysql://U:P@H:PORT/DB"; echo "RESULT 0 1"; exit 1; }
M_USER=${BASH_REMATCH[1]} M_PASS=${BASH_REMATCH[2]} M_HOST=${BASH_REMATCH[3]}
M_PORT=${BASH_REMATCH[4]} M_DB=${BASH_REMATCH[5]}_fo_$$
sql() { mariadb --no-defaults -u"$M_USER" -p"$M_PASS" -h"$M_HOST" -P"$M_PORT" \
	--protocol=tcp -N -B "$@"; }
sql -e "CREATE DATABASE \`$M_DB\`" || { echo "cannot create database $M_DB"; echo "RESULT 0 1"; exit 1; }
trap 'stop_nodes KILL; sql -e "DROP DATABASE IF EXISTS \`$M_DB\`" 2>/dev/null; cleanup' EXIT
STORE="mysql://$M_USER:$M_PASS@$M_HOST:$M_PORT/$M_DB?table=queue"
q() { sql "$M_DB" -e "$1"; }

# each worker's job files: the same jobs; each run appends "WORKER FIRE JID"
jobs_for() {
	mkdir -p "$T/$1/jobs.d"
	cat > "$T/$1/jobs.d/fo.conf" <<EOF
[job tick]
schedule = */2 * * * * *
placement = one
lease_timeout = 3s
shell = true
command = echo "$1 \${JOBD_FIRE_TIME:-manual} \$JOBD_JID" >> $T/fires

[job slow]
schedule = @every 5s
placement = one
lease_timeout = 3s
shell = true
command = echo "$1 \$JOBD_FIRE_TIME \$(date +%s.%N) \$JOBD_JID" >> $T/every
EOF
	# a service's task (docs/tasks.md), manual only: it runs on the
	# active instance only
	cat > "$T/$1/jobs.d/web.conf" <<EOF
[task#0]
command = echo task-on-$1
schedule = @0
placement = one
lease_timeout = 3s
EOF
}
start_worker() { jobs_for "$1"; node "$1" "store = $STORE"; }
for w in w1 w2 w3; do start_worker "$w"; done

# holder: the worker whose `show` says it holds the lease of job $1
holder() {
	local n
	for n in $NODES; do
		eval "[ -n \"\${PID_$n:-}\" ]" || continue
		at "$n" show "$1" --json 2>/dev/null | python3 -c 'import json,sys
l=json.load(sys.stdin).get("lease") or {}
sys.exit(0 if l.get("here") else 1)' && echo "$n"
	done
}
one_holder() { [ "$(holder "$1" | wc -l)" = 1 ]; }
fires_from() { grep -c "^$1 " "$T/fires" 2>/dev/null || echo 0; }

retry_until 30 one_holder tick
ok "one worker holds the lease of tick" one_holder tick
H1=$(holder tick)
retry_until 30 test "$(fires_from "$H1")" -ge 3
ok "the holder ($H1) runs tick" test "$(fires_from "$H1")" -ge 3
expect_eq "tick ran on the holder only" "$(cut -d' ' -f1 "$T/fires" | sort -u)" "$H1"
times_even() { cut -d' ' -f2 "$T/fires" | grep -v manual | python3 -c 'import sys
sys.exit(0 if all(int(l) % 2 == 0 for l in sys.stdin) else 1)'; }
ok "JOBD_FIRE_TIME is the fire time (even seconds of */2)" times_even

# ---- jobctl show on a non-holder: placement, the holder ----
OTHER=$(for n in $NODES; do [ "$n" != "$H1" ] && echo "$n"; done | head -1)
out=$(at "$OTHER" show tick)
expect_match "show: placement = one" "$out" "placement: +one"
expect_match "show on $OTHER names the holder" "$out" "lease: $H1, expires"
out=$(at "$H1" show tick)
expect_match "show on the holder says so" "$out" "lease: $H1 \\(this daemon\\)"

# ---- job keys: bad values name the key ----
out=$(at "$OTHER" create bad --placement two -- true 2>&1)
expect_match "--placement two is refused" "$out" "--placement: 'two' is not one of any, one"
out=$(at "$OTHER" create bad --placement one --lease-timeout 500ms -- true 2>&1)
expect_match "lease_timeout under 1s is refused, naming the key" "$out" "lease_timeout: must be at least 1s"
ok "create --placement one --lease-timeout 15s" at "$OTHER" create made --placement one --lease-timeout 15s -- true
out=$(at "$OTHER" show made)
expect_match "show: a created job's placement" "$out" "placement: +one"
expect_match "show: its lease_timeout" "$out" "lease_timeout: +15s"
ok "delete it" at "$OTHER" delete made

# ---- manual runs: refused off the holder, naming it ----
expect_code 1 "a manual run on $OTHER is refused" at "$OTHER" run tick --no-wait
out=$(at "$OTHER" run tick --no-wait 2>&1)
expect_match "... naming the holder" "$out" "job 'tick' has placement = one and runs on $H1 \\(the lease holder\\)"
ok "a manual run on the holder runs" at "$H1" run tick
TH=$(holder 'web.task#0')
TO=$(for n in $NODES; do [ "$n" != "$TH" ] && echo "$n"; done | head -1)
ok "a task with placement = one has one holder ($TH)" test -n "$TH" -a "$(holder 'web.task#0' | wc -l)" = 1
out=$(at "$TO" run web --rid task#0 2>&1); rc=$?
expect_eq "jobctl run web --rid task#0 on $TO: refused (exit 1)" "$rc" 1
expect_match "... naming the holder" "$out" "task 'web.task#0' has placement = one and runs on $TH \\(the lease holder\\)"
out=$(at "$TH" run web --rid task#0 2>&1)
expect_eq "on the holder $TH it runs" "$out" "task-on-$TH"

# ---- kill -9 of the holder: another takes over ----
before=$(wc -l < "$T/fires")
killed_at=$SECONDS
stop_node "$H1" KILL
new_holder() { local h; h=$(holder tick); [ -n "$h" ] && [ "$h" != "$H1" ]; }
moved_runs() { tail -n +"$((before + 1))" "$T/fires" | grep -qv "^$H1 "; }
retry_until 40 moved_runs
took=$((SECONDS - killed_at))
ok "after kill -9 of $H1, another worker runs tick" moved_runs
# lease_timeout 3 s + a renewal period 1 s + a fire period 2 s, and slack
# for a loaded machine: never an assertion on speed beyond that
ok "... within lease_timeout + a period (+ slack): ${took}s" test "$took" -le 20
H2=$(holder tick)
ok "one new holder ($H2)" test -n "$H2" -a "$H2" != "$H1"
grep -q "lease moved here from $H1" "$T/$H2.log"
ok "its log names the previous holder" grep -q "job tick: lease moved here from $H1 (expired)" "$T/$H2.log"

# ---- clean stop of the holder: released at once ----
retry_until 20 test "$(fires_from "$H2")" -ge 2
stop_node "$H2" TERM
ok "a clean stop logs the release" grep -q "job tick: lease released" "$T/$H2.log"
H3=$(for n in $NODES; do [ "$n" != "$H1" ] && [ "$n" != "$H2" ] && echo "$n"; done)
stopped_at=$SECONDS
new_holder_is() { [ "$(holder tick)" = "$1" ]; }
retry_until 20 new_holder_is "$H3"
ok "the last worker ($H3) takes over" new_holder_is "$H3"
ok "... from a released lease" grep -q "job tick: lease moved here from $H2 (released)" "$T/$H3.log"
# released (expires = 0, which only a release writes): taken at the next
# attempt (every lease_timeout / 3), not after an expiry; the bound is
# slack for a loaded machine
ok "... at once ($((SECONDS - stopped_at))s)" test "$((SECONDS - stopped_at))" -le 10
retry_until 20 test "$(fires_from "$H3")" -ge 2
ok "$H3 runs tick" test "$(fires_from "$H3")" -ge 2

# ---- @every 5s: never sooner than 5 s after the last run, across moves ----
# $H1 comes back; $H3, the last one, is killed: both jobs move (again)
start_worker "$H1"
retry_until 20 grep -q "lease" "$T/$H1.log"
sleep 1
moved=$(wc -l < "$T/every")
stop_node "$H3" KILL
retry_until 40 test "$(tail -n +"$((moved + 1))" "$T/every" | grep -c "^$H1 ")" -ge 2
ok "slow (@every 5s) ran on more than one worker" test "$(cut -d' ' -f1 "$T/every" | sort -u | wc -l)" -ge 2
gaps() { python3 -c 'import sys
col, least = int(sys.argv[1]), float(sys.argv[2])
t = [float(l.split()[col]) for l in open(sys.argv[3])]
g = [b - a for a, b in zip(t, t[1:])]
print(" ".join("%.1f" % x for x in g))
sys.exit(0 if len(t) >= 3 and all(x >= least for x in g) else 1)' "$@" "$T/every"; }
# the claimed fire times are 5 s apart at least; the starts too, but for
# the start latency of a loaded machine
ok "slow's fire times are never sooner than 5 s apart: $(gaps 1 5)" gaps 1 5
ok "slow's runs started ~5 s apart at least: $(gaps 2 3)" gaps 2 3

# ---- once per fire time, and the file and the run table agree ----
stop_nodes
dups=$(cut -d' ' -f2 "$T/fires" | sort | uniq -d | tr '\n' ' ')
expect_eq "no fire time of tick ran twice" "$dups" ""
sched=$(grep -c . "$T/fires")
rows=$(q "SELECT COUNT(*) FROM queue WHERE job = 'tick' AND status = 'done' AND result = 'ok'")
expect_eq "every line of the file is a run row of tick" "$rows" "$sched"
agree() { while read -r w _ jid; do
	[ "$(q "SELECT worker FROM queue WHERE jid = '$jid'")" = "$w" ] || { echo "$jid not by $w"; return 1; }
done < "$T/fires"; }
ok "each run's row names the worker that wrote its line" agree
expect_eq "the lease table has the two jobs" "$(q "SELECT COUNT(*) FROM jobd_leases WHERE job IN ('tick','slow')")" 2

cluster_finish
