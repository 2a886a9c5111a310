#!/usr/bin/env bash
# test_lifecycle.sh — jobctl start|stop|restart|reload|status NAME on one
# daemon (the job-action op, docs/lifecycle.md): start runs the command as
# a supervised service and returns once it runs; stop ends the supervision
# and TERMs (then KILLs) the process group; restart = stop + start; reload
# = SIGHUP; status = running or not (exit 3); a job's [action NAME]
# command wins and is waited for.
. "$(dirname "$0")/lib.sh"

write_config
cat > "$T/jobs.d/life.conf" <<CONF
[job svc]
command = sh -c 'sleep 1000 & echo \$! > $T/bg.pid; sleep 1000'

[job stubborn]
command = sh -c 'trap "" TERM; echo up > $T/stubborn.up; sleep 1000'
kill_grace = 1s

[job hup]
command = sh -c 'trap "echo hup >> $T/hup.log" HUP; echo ready > $T/hup.ready; while :; do sleep 0.1; done'

[job db]
command = sleep 1000 # $T
[action migrate]
command = sh -c 'echo migrating; echo "schema v7 is missing" >&2; exit 5'
[action status]
command = test -e $T/db-healthy

[job once]
command = true

[job checked]
command = sleep 1000
[health_check flag]
command = test -e $T/checked-ok
attempts = 2
interval = 1s
timeout = 5s

[job danger]
command = sleep 1000 # $T
confirm = true
[action status]
command = true
CONF
jobd_start "shutdown_grace = 2s"

alive() { kill -0 "$1" 2>/dev/null; }
# the pid of job NAME's running run (jobctl active)
run_pid() { jobctl active --json | jq -r --arg j "$1" '[.runs[] | select(.job == $j)][0].pid // empty'; }
run_jid() { jobctl active --json | jq -r --arg j "$1" '[.runs[] | select(.job == $j)][0].jid // empty'; }
group_gone() { ! pgrep -g "$1" >/dev/null; }

# ---- start: returns at once, the run goes on --------------------------------
out=$(timeout 20 "$JOBCTL" start svc 2>&1); rc=$?
expect_eq "start of a long-running job returns (exit 0)" "$rc" 0
worker=$(jobctl status --json | jq -r '.name // .worker // empty')
expect_match "start: one line WORKER JOB ACTION: ok — started (jid, pid)" "$out" "^[^ ]+ svc start: ok — started \(jid [0-9]{20}, pid [0-9]+\)$"
jid1=$(run_jid svc)
expect_match "jobctl active shows the started run" "$jid1" "^[0-9]{20}$"
expect_match "... the jid printed is the active run's" "$out" "jid $jid1,"
out=$(jobctl start svc 2>&1); rc=$?
expect_eq "start again: exit 0" "$rc" 0
expect_match "start again: already running (same jid)" "$out" "svc start: ok — already running \(jid $jid1\)"
expect_eq "start again starts nothing new" "$(jobctl active --json | jq '[.runs[] | select(.job == "svc")] | length')" 1

# ---- status ------------------------------------------------------------------
out=$(jobctl status svc 2>&1); rc=$?
expect_eq "status of a running job: exit 0" "$rc" 0
expect_match "status: WORKER JOB: running — running (jid ...)" "$out" "^[^ ]+ svc: running — running \(jid $jid1"

# ---- stop: the whole process group, then not running --------------------------
pid=$(run_pid svc); bg=$(cat "$T/bg.pid")
ok "the job's background child runs" alive "$bg"
out=$(timeout 30 "$JOBCTL" stop svc 2>&1); rc=$?
expect_eq "stop: exit 0" "$rc" 0
expect_match "stop: stopped (jid: TERM)" "$out" "svc stop: ok — stopped \(jid $jid1: TERM\)"
retry_until 10 group_gone "$pid"
ok "stop: nothing is left in the run's process group" group_gone "$pid"
retry_until 10 sh -c "! kill -0 $bg"
ok "stop: the shell's background sleep is gone too" sh -c "! kill -0 $bg"
out=$(jobctl status svc 2>&1); rc=$?
expect_eq "status after stop: exit 3" "$rc" 3
expect_match "status after stop: not running" "$out" "svc: not running — not running"
sleep 1.5
expect_eq "stop ends supervision: not started again" "$(run_jid svc)" ""
out=$(jobctl stop svc 2>&1); rc=$?
expect_eq "stop of a stopped job: exit 0 (as systemd)" "$rc:$out" "0:$(echo "$out" | grep -E '^[^ ]+ svc stop: ok — not running$')"

# ---- KILL after kill_grace for a job that ignores TERM -------------------------
rm -f "$T/stubborn.up"
ok "start stubborn" jobctl start stubborn
retry_until 10 test -e "$T/stubborn.up"
spid=$(run_pid stubborn)
out=$(timeout 30 "$JOBCTL" stop stubborn 2>&1); rc=$?
expect_eq "stop of a TERM-ignoring job: exit 0" "$rc" 0
expect_match "... it got SIGKILL after kill_grace" "$out" "stubborn stop: ok — stopped \(jid [0-9]{20}: KILL\)"
retry_until 10 group_gone "$spid"
ok "... and its group is gone" group_gone "$spid"

# ---- supervised: killed from outside, it comes back -----------------------------
ok "start svc again" jobctl start svc
jid2=$(run_jid svc); pid2=$(run_pid svc)
kill -9 "$pid2"
newjid() { local j; j=$(run_jid svc); [ -n "$j" ] && [ "$j" != "$jid2" ]; }
retry_until 20 newjid
ok "kill -9 of its pid: started again with a new jid" newjid
expect_match "... the log says why" "$(cat "$T/jobd.log")" "job svc: its supervised run $jid2 ended \(signal SIGKILL\); starting it again in 1s"

# ---- jobctl kill of the supervised run ends its supervision -------------------------
ok "start svc" jobctl start svc
kjid=$(run_jid svc)
ok "jobctl kill JID" jobctl kill "$kjid"
retry_until 10 sh -c "! $JOBCTL active | grep -q $kjid"
sleep 1.5
expect_eq "a run jobctl killed is not started again" "$(run_jid svc)" ""
expect_match "... the log says its supervision ended" "$(cat "$T/jobd.log")" "job svc: run $kjid was stopped; its supervision ends"
ok "start svc again" jobctl start svc

# ---- restart: a new jid ----------------------------------------------------------
jid3=$(run_jid svc)
out=$(timeout 30 "$JOBCTL" restart svc 2>&1); rc=$?
expect_eq "restart: exit 0" "$rc" 0
jid4=$(run_jid svc)
expect_match "restart: a new run is active" "$jid4" "^[0-9]{20}$"
[ "$jid4" != "$jid3" ] && pass "restart: the new jid differs" || fail "restart: the new jid differs" "$jid3 $jid4"
expect_match "restart: the message names the new jid and the stop" "$out" "svc restart: ok — restarted \(jid $jid4, pid [0-9]+; jid $jid3: TERM\)"
ok "stop svc" jobctl stop svc

# ---- reload: SIGHUP ---------------------------------------------------------------
out=$(jobctl reload hup 2>&1); rc=$?
expect_eq "reload of a job not running: exit 1" "$rc" 1
expect_match "... FAILED — not running" "$out" "hup reload: FAILED — not running"
ok "start hup" jobctl start hup
retry_until 10 test -e "$T/hup.ready"
out=$(jobctl reload hup 2>&1); rc=$?
expect_eq "reload: exit 0" "$rc" 0
expect_match "reload: reloaded (jid: HUP)" "$out" "hup reload: ok — reloaded \(jid [0-9]{20}: HUP\)"
retry_until 10 grep -q hup "$T/hup.log"
ok "reload: the job's HUP trap ran" grep -q hup "$T/hup.log"
ok "reload keeps the run" test -n "$(run_jid hup)"
ok "stop hup" jobctl stop hup
expect_code 0 "jobctl reload without NAME is still the daemon's reload" jobctl reload

# ---- custom action: runs, waited for, its code shows ------------------------------
out=$(jobctl start db 2>&1)
expect_match "start db (no [action start]): the command" "$out" "db start: ok — started"
out=$(jobctl migrate db 2>&1); rc=$?
expect_eq "no 'migrate' command in jobctl: usage" "$rc" 2
out=$(jobctl run db --action migrate 2>&1); rc=$?
expect_eq "run --action migrate keeps the run op: its exit code" "$rc" 5
expect_match "... and streams its output" "$out" "migrating"
js=$(jobctl --json status db)
expect_eq "[action status] decides: failing → not running" "$(echo "$js" | jq -c '.results[0] | [.ok, .code, .running, .action]')" '[false,1,false,"status"]'
out=$(jobctl status db 2>&1); rc=$?
expect_eq "[action status] exit 1: not running, jobctl exits 3" "$rc" 3
expect_match "... the line names its exit code" "$out" "db: not running — exit 1$"
touch "$T/db-healthy"
out=$(jobctl status db 2>&1); rc=$?
expect_eq "[action status] exit 0: running, exit 0" "$rc" 0
expect_match "... running — running (jid, exit 0)" "$out" "db: running — running \(jid [0-9]{20}, exit 0\)"
ok "stop db" jobctl stop db

# ---- custom [action migrate] through job-action (what the master sends) ------------
cat >"$T/client.py" <<'PY'
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(os.environ["JOBD_SOCKET"])
s.settimeout(30)
s.sendall(json.dumps([0, {"type": "job-action", "no": 1,
                          "data": json.loads(sys.argv[1])}]).encode() + b"\x04")
buf = b""
while b"\x04" not in buf:
    d = s.recv(65536)
    if not d:
        break
    buf += d
print(json.dumps(json.loads(buf.split(b"\x04")[0])[1]))
PY
act() { python3 "$T/client.py" "$1"; }
r=$(act '{"name": "db", "action": "migrate"}')
expect_eq "job-action migrate: waited for, ok false, code 5" \
	"$(echo "$r" | jq -c '.data | [.ok, .results[0].ok, .results[0].code, .results[0].action]')" '[false,false,5,"migrate"]'
expect_match "... the message names the code and the last stderr line" \
	"$(echo "$r" | jq -r '.data.results[0].message')" "^exit 5: schema v7 is missing$"
expect_eq "... it was a run of the job's action" \
	"$(jobctl runs db --json | jq -r '[.runs[] | select(.action == "migrate")] | length')" 2
r=$(act '{"name": "db", "action": "MiGrAtE"}')
expect_match "custom names are case-sensitive: MiGrAtE is not migrate (exit 2)" "$(echo "$r" | jq -c '[.error, .code]')" "has no action 'MiGrAtE'.*,2"
r=$(act '{"name": "db", "action": "STATUS"}')
expect_eq "built-in names ignore case: STATUS is status" "$(echo "$r" | jq -r '.data.results[0].action')" status
r=$(act '{"name": "db", "action": "-bad;rm"}')
expect_match "a bad action name: error, exit 2" "$(echo "$r" | jq -c '[.error, .code]')" "action: invalid name.*,2"
r=$(act '{"name": "db", "action": "status", "colour": "red"}')
expect_match "an unknown field: error naming it" "$(echo "$r" | jq -r '.error')" "unknown field 'colour'"
r=$(act '{"name": "db", "action": "status", "allocations": ["w1"]}')
expect_match "allocations on a jobd that is no master: error naming it" "$(echo "$r" | jq -r '.error')" "^allocations: this jobd is no cluster master"
r=$(act '{"names": ["db", "svc"], "action": "status"}')
expect_match "several names on a jobd that is no master: error naming it" "$(echo "$r" | jq -r '.error')" "^names: several jobs at once need a cluster master"

# ---- health checks after the action, and in status ----
out=$(jobctl start checked --health-check 2>&1); rc=$?
expect_eq "start --health-check with a failing check: exit 1" "$rc" 1
expect_match "... the line says it started but is unhealthy" "$out" "checked start: FAILED — started \(jid [0-9]+, pid [0-9]+\); unhealthy: exit 1"
out=$(jobctl status checked 2>&1); rc=$?
expect_eq "status of a running but unhealthy job: exit 3" "$rc" 3
expect_match "... naming the check's failure" "$out" "unhealthy: exit 1"
touch "$T/checked-ok"
expect_code 0 "status once the check passes: exit 0" jobctl status checked
expect_eq "status --json carries the checks" "$(jobctl status checked --json | jq -c '[.results[0].checks[0].name, .results[0].checks[0].ok]')" '["flag",true]'
expect_code 0 "restart --health-check with a passing check: exit 0" jobctl restart checked --health-check
rm -f "$T/checked-ok"
out=$(jobctl restart checked --health-check 2>&1); rc=$?
expect_eq "restart --health-check waits its attempts, then fails: exit 1" "$rc" 1
expect_match "... naming the failure after the restart" "$out" "checked restart: FAILED — .*unhealthy"
expect_code 0 "stop ignores --health-check (nothing to check)" jobctl stop checked --health-check
out=$(jobctl --json status nosuch 2>&1); rc=$?
expect_eq "unknown job: exit 4" "$rc" 4
expect_match "... says so" "$out" "job 'nosuch' not found"
expect_code 4 "start of an unknown job: exit 4" jobctl start nosuch
expect_code 4 "stop of an unknown job: exit 4" jobctl stop nosuch

# ---- confirm: every action but status needs yes ------------------------------------
out=$(jobctl start danger </dev/null 2>&1); rc=$?
expect_eq "start of a confirm job without --yes: exit 1" "$rc" 1
expect_match "... needs confirmation" "$out" "start aborted: job 'danger' needs confirmation"
expect_eq "... nothing ran" "$(run_jid danger)" ""
expect_code 0 "status of a confirm job needs no yes (its [action status] runs)" jobctl status danger </dev/null
expect_code 0 "start --yes" jobctl start danger --yes
expect_code 1 "stop without --yes: refused" jobctl stop danger </dev/null
expect_code 0 "stop --yes" jobctl stop danger --yes

# ---- --json shape -----------------------------------------------------------------
js=$(jobctl --json start once)
expect_eq "--json: ok, results[WORKER, JOB, ACTION, ok, code, message, jid]" \
	"$(echo "$js" | jq -c '[.ok, (.results | length), (.results[0] | keys)]')" \
	'[true,1,["action","code","jid","job","message","ok","worker"]]'
expect_eq "--json: the worker is this daemon's name" "$(echo "$js" | jq -r '.results[0].worker')" "$(jobctl status --json | jq -r '.name')"
once_runs() { [ "$(jobctl runs once --json | jq '.runs | length')" -ge "$1" ]; }
retry_until 20 once_runs 2
ok "a started job that exits 0 is started again too (Restart=always)" once_runs 2
jobctl stop once >/dev/null
js=$(jobctl --json status once); rc=$?
expect_eq "--json status of a job not running: code 3, running false, exit 3" "$(echo "$js" | jq -c '.results[0] | [.ok, .code, .running]'):$rc" '[false,3,false]:3'

# ---- the wanted state outlives a restart of jobd ------------------------------------
ok "start svc" jobctl start svc
before=$(run_jid svc)
jobd_stop || fail "jobd stops with a service running"
JOBD_KEEP_CONFIG=1 jobd_start
svc_back() { local j; j=$(run_jid svc); [ -n "$j" ] && [ "$j" != "$before" ]; }
retry_until 20 svc_back
ok "a started job is started again when jobd starts again" svc_back
expect_match "... the log says so" "$(cat "$T/jobd.log")" "job svc: started again after jobd's restart as run"
expect_eq "... a stopped one is not (db)" "$(run_jid db)" ""
expect_eq "... nor one whose supervision ended (once)" "$(run_jid once)" ""
# jobd killed: the run outlives it, is adopted and supervised as it is
echo "orphans = adopt" >> "$T/jobd.conf"
jobd_stop; JOBD_KEEP_CONFIG=1 jobd_start
retry_until 20 svc_back
ojid=$(run_jid svc); opid=$(run_pid svc)
jobd_kill9
JOBD_KEEP_CONFIG=1 jobd_start
expect_eq "kill -9 of jobd, orphans = adopt: the same run goes on" "$(run_jid svc)" "$ojid"
expect_match "... supervised again" "$(cat "$T/jobd.log")" "job svc: supervising its run $ojid again"
kill -9 "$opid"
orphan_back() { local j; j=$(run_jid svc); [ -n "$j" ] && [ "$j" != "$ojid" ]; }
retry_until 20 orphan_back
ok "... killed from outside, it is started again" orphan_back
expect_eq "... and the target's slots are as before (the service holds none)" \
	"$(jobctl status --json | jq '.targets.default.running')" 0
ok "stop svc" jobctl stop svc
jobd_stop
JOBD_KEEP_CONFIG=1 jobd_start
sleep 1
expect_eq "stopped before the restart: not started again" "$(run_jid svc)" ""

# ---- a master's live events: each result printed once --------------------------
# A stand-in for the cluster master on a socket of its own: `begin` and
# `result` events for w1 and w2, then the merged reply with w1..w3.
cat >"$T/master.py" <<'PY'
import json, os, socket, sys
path, action = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path); srv.listen(1)
print("ready", flush=True)
c, _ = srv.accept()
buf = b""
while b"\x04" not in buf:
    buf += c.recv(65536)
req = json.loads(buf.split(b"\x04")[0])[1]
no = req["no"]
def res(w, ok, code, msg):
    r = {"worker": w, "job": req["data"]["name"], "action": req["data"]["action"],
         "ok": ok, "code": code, "message": msg}
    if action == "status":
        r["running"] = ok
    return r
def send(m):
    c.sendall(json.dumps(m).encode() + b"\x04")
first = [res("w1", True, 0, "running (jid 1)" if action == "status" else "started (jid 1)"),
         res("w2", True, 0, "running (jid 2)" if action == "status" else "started (jid 2)")]
for r in first:
    send([4, {"no": no, "event": "begin", "data": {"worker": r["worker"], "job": r["job"], "action": r["action"]}}])
    send([4, {"no": no, "event": "result", "data": r}])
last = res("w3", False, 3 if action == "status" else 1, "not running" if action == "status" else "exit 1: boom")
send([1, {"no": no, "data": {"ok": False, "results": first + [last]}}])
c.recv(1)
PY
fake_master() {  # fake_master ACTION: jobctl ACTION web against the stand-in
	rm -f "$T/m.sock"
	python3 "$T/master.py" "$T/m.sock" "$1" > "$T/m.out" 2>&1 &
	retry_until 10 test -S "$T/m.sock"
	"$JOBCTL" --socket "$T/m.sock" "$1" web 2>&1
}
out=$(fake_master start); rc=$?
expect_eq "master events: exit 1 when one worker failed" "$rc" 1
expect_eq "master events: w1 printed once" "$(grep -c '^w1 web start: ok — started (jid 1)$' <<<"$out")" 1
expect_eq "master events: w2 printed once" "$(grep -c '^w2 web start: ok' <<<"$out")" 1
expect_eq "... the reply's other result printed" "$(grep -c '^w3 web start: FAILED — exit 1: boom$' <<<"$out")" 1
expect_match "... begin shown before w1's result" "$(head -1 <<<"$out")" "^w1 web start: …$"
expect_match "... in the order they came (w1, w2, then w3)" "$(grep -v … <<<"$out" | cut -d' ' -f1 | tr '\n' ' ')" "^w1 w2 w3 $"
out=$(fake_master status); rc=$?
expect_eq "master events: status with one not running exits 3" "$rc" 3
expect_eq "... status lines" "$(grep -v … <<<"$out")" "$(printf 'w1 web: running — running (jid 1)\nw2 web: running — running (jid 2)\nw3 web: not running — not running')"

finish
