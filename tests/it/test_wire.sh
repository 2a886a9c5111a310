#!/usr/bin/env bash
# test_wire.sh — the TCP worker port, as the original queue daemon's PHP
# client uses it (reference/queue-wire.md): framing, password, every worker
# request with its reply shape and error texts, and the queue table shared
# with other programs (rows INSERTed directly, poll, run-manual, launcher
# mode, send-signal, pause/continue).
#
# The table is reached through db_exec/db_query below.  WIRE_STORE=sqlite
# (default) uses jobd's own SQLite file; WIRE_STORE=mysql is the hook for
# the MariaDB store: it expects WIRE_MYSQL_STORE (jobd's `store` URI),
# WIRE_MYSQL_TABLE and a `mysql` client configured through MYSQL_* env / my.cnf.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
WIRE_STORE=${WIRE_STORE:-sqlite}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PW=s3cret

case $WIRE_STORE in
sqlite)
	STORE_URI=sqlite:$T/state/jobd.db
	TABLE=runs
	db_exec() { python3 -c 'import sqlite3,sys
c=sqlite3.connect(sys.argv[1], timeout=10); cur=c.execute(sys.argv[2], sys.argv[3:]); c.commit(); print(cur.lastrowid or "")' "$T/state/jobd.db" "$@"; }
	db_query() { python3 -c 'import sqlite3,sys
c=sqlite3.connect(sys.argv[1], timeout=10)
txt = lambda v: "NULL" if v is None else v.decode(errors="replace") if isinstance(v, bytes) else str(v)
for r in c.execute(sys.argv[2], sys.argv[3:]): print("|".join(txt(v) for v in r))' "$T/state/jobd.db" "$@"; }
	# an application's own column, as on the original's table
	app_schema() { db_exec "ALTER TABLE runs ADD COLUMN payload TEXT" >/dev/null; }
	;;
mysql)
	STORE_URI=${WIRE_MYSQL_STORE:?set WIRE_MYSQL_STORE to the mysql:// store URI}
	TABLE=${WIRE_MYSQL_TABLE:-jobs}
	# "?" placeholders are filled in order with quoted values
	db_sql() { python3 -c 'import sys
sql, args = sys.argv[1], sys.argv[2:]
for a in args: sql = sql.replace("?", "'"'"'" + a.replace("\\\\", "\\\\\\\\").replace("'"'"'", "'"'"''"'"'") + "'"'"'", 1)
print(sql)' "$@"; }
	db_exec() { mysql -N -B -e "$(db_sql "$@"); SELECT LAST_INSERT_ID()" | tail -1; }
	db_query() { mysql -N -B -e "$(db_sql "$@")" | tr '\t' '|'; }
	app_schema() { mysql -e "ALTER TABLE $TABLE ADD COLUMN IF NOT EXISTS payload TEXT" ; }
	;;
*) echo "WIRE_STORE must be sqlite or mysql"; exit 2 ;;
esac

# insert TARGET STATUS PAYLOAD: a row the way the original's users add
# them (time_created in unix seconds, no jid); prints its id
insert() { db_exec "INSERT INTO $TABLE (target, status, time_created, payload) VALUES (?, ?, ?, ?)" "$1" "$2" "$(date +%s)" "$3"; }
status_of() { db_query "SELECT status FROM $TABLE WHERE id = ?" "$1"; }
is_status() { [ "$(status_of "$1")" = "$2" ]; }

wire() { python3 "$HERE/wireclient.py" --port "$PORT" "$@"; }
wirepw() { wire --password "$PW" "$@"; }
# field PY_EXPR: evaluates an expression over the reply m (one line of stdin)
field() { python3 -c 'import json,sys; m=json.loads(sys.stdin.readline()); print(eval(sys.argv[1]))' "$1"; }

# The launcher: re-reads its own row (it must already be `running`), prints
# it, and does what the row's payload says.
cat > "$T/launch.sh" <<EOF
#!/usr/bin/env bash
$(declare -f db_query db_sql 2>/dev/null)
T=$T; TABLE=$TABLE
row=\$(db_query "SELECT status, payload FROM \$TABLE WHERE id = ?" "\$1")
echo "id=\$1 jid=\$2 target=\$3 row=\$row env=\$WIRE_ENV cwd=\$PWD"
case \${row#*|} in
exit*) echo "failing" >&2; exit \${row#*|exit} ;;
sleep) exec sleep 30 ;;
esac
exit 0
EOF
chmod +x "$T/launch.sh"
mkdir -p "$T/lcwd"

conf() {
	cat <<EOF
store = $STORE_URI
port = $PORT
password = $PW
name = wire-test
launcher = $T/launch.sh {id} {jid} {target}
launcher.cwd = $T/lcwd
launcher.env.WIRE_ENV = from-config
mysql_fetch_limit = 2
$*
[targets]
q1 = 2
q2 = 1
EOF
}

jobd_start "$(conf)"
app_schema

# ---- framing, password ----
out=$(wire ping)
expect_eq "ping is answered with pong, no password needed" "$out" "[3]"
out=$(wire pong ping)
expect_eq "a pong gets no reply" "$out" "[3]"

out=$(wire --password wrong req status eof)
expect_match "wrong password: error" "$out" '^\[1,\{"no":[0-9]+,"error":"invalid password"'
expect_match "wrong password: then the server closes" "$out" 'EOF$'
out=$(wire req status eof)
expect_match "no password: error 'invalid password'" "$out" '"error":"invalid password"'

# the password goes with the first request only, as the PHP client does
out=$(wirepw req status req status)
n=$(printf '%s\n' "$out" | grep -c '"targets"')
expect_eq "password on the first request authorises the connection" "$n" "2"

out=$(wirepw req status | head -1)
expect_eq "status: targets in the original's shape" \
	"$(field 'sorted(m[1]["data"]["targets"]["q1"].items())[:3]' <<<"$out")" \
	"[('concurrency', 2), ('length', 0), ('paused', False)]"
expect_eq "status: memoryUsage.rss" "$(field 'm[1]["data"]["memoryUsage"]["rss"] > 0' <<<"$out")" "True"
expect_eq "status: reply no is the request's" \
	"$(field 'type(m[1]["no"]).__name__' <<<"$out")" "int"

out=$(wirepw req nope '{}')
expect_match "unknown request type" "$out" '"error":"unknown request type: '"'"'nope'"'"'"'
out=$(wirepw raw '[0, {"type": "status", "no": 7')
expect_match "malformed JSON gets an error reply with no 0" "$out" '^\[1,\{"no":0,"error":"invalid JSON'
out=$(wirepw raw '"hello"' req status)
expect_match "a message that is not an array: error, no 0; the connection goes on" \
	"$out" '^\[1,\{"no":0,"error":.*'$'\n''.*"targets"'
# PHP escapes: '\/' and \uXXXX are decoded; the error names the value
out=$(wirepw raw '[0,{"type":"pause","no":12,"data":{"targets":["a\/b","\u00e9"]},"password":"s3cret"}]')
expect_match "escaped '/' is read as '/'" "$out" "\"no\":12,\"error\":\"invalid target 'a/b'\""

# a client that connects and sends nothing (or half a message) blocks nobody
python3 -c 'import socket,time,sys
s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.sendall(b"[0,{\"type\":"); time.sleep(8)' "$PORT" &
IDLE=$!
sleep 0.3
out=$(wirepw --timeout 3 req status)
expect_match "an idle half-sent connection does not block others" "$out" '"targets"'
kill $IDLE 2>/dev/null; wait $IDLE 2>/dev/null

# ---- targets ----
out=$(wirepw req add-target '{"target":"q3","concurrency":3}' req add-target '{"target":"q3","concurrency":1}')
expect_match "add-target: ok" "$out" '"data":"ok"'
expect_match "add-target again: already added" "$out" "\"error\":\"target 'q3' already added\""
out=$(wirepw req add-target '{"target":"q4","concurrency":0}')
expect_match "add-target with concurrency 0: error" "$out" '"error":"'
out=$(wirepw req set-target-concurrency '{"target":"q3","concurrency":5}' req status)
expect_eq "set-target-concurrency shows in status" \
	"$(tail -1 <<<"$out" | field 'm[1]["data"]["targets"]["q3"]["concurrency"]')" "5"
out=$(wirepw req set-target-concurrency '{"target":"zz","concurrency":5}')
expect_match "set-target-concurrency on an unknown target" "$out" "\"error\":\"invalid target 'zz'\""
out=$(wirepw req pause '{"targets":"q3"}')
expect_match "pause: targets must be array" "$out" '"error":"targets must be array"'
out=$(wirepw req pause '{"targets":["q3","nope"]}')
expect_match "pause: invalid target" "$out" "\"error\":\"invalid target 'nope'\""
# a waiting run keeps a target: paused, so the run stays queued
out=$(wirepw req pause '{"targets":["q3"]}')
expect_match "pause: ok" "$out" '"data":"ok"'
jid=$(jobctl submit --target q3 -- /bin/true)
out=$(wirepw req remove-target '{"target":"q3"}')
expect_match "remove-target with a waiting run: queue is not empty" "$out" '"error":"queue is not empty"'
wirepw req continue '{"targets":["q3"]}' >/dev/null
retry_until 10 sh -c "\"$JOBCTL\" lookup $jid | grep -q done"
out=$(wirepw req remove-target '{"target":"q3"}' req status)
expect_match "remove-target: ok once empty" "$out" '"data":"ok"'
expect_eq "removed target is gone from status" \
	"$(tail -1 <<<"$out" | field '"q3" in m[1]["data"]["targets"]')" "False"

# ---- poll: rows INSERTed by another program ----
a=$(insert q1 waiting one); b=$(insert q1 waiting "exit3"); c=$(insert q1 waiting three)
x=$(insert other waiting foreign)
out=$(wirepw req poll '{"targets":["q1"]}')
expect_match "poll: ok at once" "$out" '"data":"ok"'
retry_until 15 is_status "$c" done
expect_eq "poll ran the rows in turn (fetch limit 2, polled again)" \
	"$(status_of "$a") $(status_of "$b") $(status_of "$c")" "done done done"
row=$(db_query "SELECT result, return_code, length(jid), time_created > 1000000000000000, time_started > 0, worker FROM $TABLE WHERE id = ?" "$a")
expect_eq "claimed row: ok, jid given, time_created made microseconds" "$row" "ok|0|20|1|1|wire-test"
out=$(db_query "SELECT stdout FROM $TABLE WHERE id = ?" "$a")
expect_match "launcher: {id} {jid} {target}, row already running, env, cwd" "$out" \
	"^id=$a jid=[0-9]{20} target=q1 row=running\\|one env=from-config cwd=$T/lcwd"
expect_eq "a failing launch: fail with its code and stderr" \
	"$(db_query "SELECT result, return_code, sig, stderr FROM $TABLE WHERE id = ?" "$b")" "fail|3|NULL|failing"
expect_eq "jobctl sees the claimed row by its jid" \
	"$(jobctl --json lookup "$(db_query "SELECT jid FROM $TABLE WHERE id = ?" "$a")" | python3 -c 'import json,sys; r=json.load(sys.stdin)["run"]; print(r["id"], r["status"])')" "$a done"
wirepw req poll >/dev/null
sleep 0.5
expect_eq "poll leaves rows of targets it does not serve" "$(status_of "$x")" "waiting"

# pause: nothing new starts, a poll does not start it either; continue does
wirepw req pause '{"targets":["q2"]}' >/dev/null
p=$(insert q2 waiting paused)
out=$(wirepw req poll '{"targets":["q2"]}' req status)
expect_eq "status: paused" "$(tail -1 <<<"$out" | field 'm[1]["data"]["targets"]["q2"]["paused"]')" "True"
sleep 1
expect_eq "a poll while paused starts nothing" "$(status_of "$p")" "waiting"
wirepw req continue '{"targets":["q2"]}' >/dev/null
retry_until 10 is_status "$p" done
expect_eq "continue starts it" "$(status_of "$p")" "done"

# ---- run-manual ----
m1=$(insert q1 manual fine); m2=$(insert q1 manual "exit5"); d=$(insert q1 done old)
out=$(wirepw req run-manual "{\"ids\":[$m1,$m2,$d,99999,$m1]}")
expect_eq "run-manual: results of every run, errors by id" "$(field '(
 sorted(m[1]["data"]["jobs"]),
 [(j["result"], j["code"], j["signal"], j["stderr"]) for k, j in sorted(m[1]["data"]["jobs"].items())],
 m[1]["data"]["errors"])' <<<"$out")" \
	"(['$m1', '$m2'], [('ok', 0, None, ''), ('fail', 5, None, 'failing\\n')], {'$d': 'status = done != manual', '99999': 'job 99999 not found'})"
expect_match "run-manual: stdout of the launch" "$(field 'm[1]["data"]["jobs"]["'"$m1"'"]["stdout"]' <<<"$out")" "row=running\\|fine"
expect_eq "run-manual: rows done, the other row left as it was" \
	"$(status_of "$m1") $(status_of "$m2") $(status_of "$d")" "done done done"
out=$(wirepw req run-manual "{\"ids\":[$m1]}")
expect_eq "run-manual on a finished row: errors only" "$(field 'sorted(m[1]["data"])' <<<"$out")" "['errors']"
out=$(wirepw req run-manual '{"ids":[]}' req run-manual '{}' req run-manual '{"ids":["x"]}')
expect_eq "run-manual without ids: a clear error, not SQL" \
	"$(python3 -c 'import json,sys; print([json.loads(l)[1]["error"] for l in sys.stdin])' <<<"$out")" \
	"['ids must be a non-empty array of job ids', 'ids must be a non-empty array of job ids', 'ids: invalid job id at index 0']"

# ---- send-signal, and run-manual waiting across a signal ----
s=$(insert q1 manual sleep)
wirepw req run-manual "{\"ids\":[$s]}" > "$T/manual.out" &
MANUAL=$!
retry_until 10 is_status "$s" running
out=$(wirepw req send-signal "{\"jobs\":{\"$s\":\"SIGTERM\",\"99999\":15,\"$d\":9}}")
expect_eq "send-signal: true for the running run, false otherwise" \
	"$(field 'sorted(m[1]["data"].items())' <<<"$out")" "$(python3 -c 'import sys; print(sorted([(sys.argv[1], True), ("99999", False), (sys.argv[2], False)]))' "$s" "$d")"
wait $MANUAL
expect_eq "run-manual reply for a signalled run: code null, signal named" \
	"$(field 'm[1]["data"]["jobs"]["'"$s"'"]["result"], m[1]["data"]["jobs"]["'"$s"'"]["code"], m[1]["data"]["jobs"]["'"$s"'"]["signal"]' <"$T/manual.out")" \
	"('fail', None, 'SIGTERM')"
out=$(wirepw req send-signal '{"jobs":{"1":"NOPE"}}' req send-signal '{"jobs":[1]}')
expect_match "send-signal: invalid signal is an error" "$out" '"error":"job 1: invalid signal"'
expect_match "send-signal: jobs must be an object" "$out" '"error":"jobs must be object"'

# a run-manual whose client goes away: the run goes on, jobd too
s2=$(insert q1 manual sleep)
wirepw --timeout 1 req run-manual "{\"ids\":[$s2]}" >/dev/null 2>&1
retry_until 10 is_status "$s2" running
out=$(wirepw req send-signal "{\"jobs\":{\"$s2\":\"KILL\"}}")
expect_match "the abandoned run-manual's run is still there" "$out" "\"$s2\":true"
retry_until 10 is_status "$s2" done
expect_eq "and recorded" "$(db_query "SELECT result, sig FROM $TABLE WHERE id = ?" "$s2")" "fail|SIGKILL"

# ---- always_allow_localhost; no launcher ----
jobd_stop
jobd_start "$(conf always_allow_localhost = true | grep -v '^launcher')"
out=$(wire req status)
expect_match "always_allow_localhost: no password needed from 127.0.0.1" "$out" '"targets"'
n=$(insert q1 manual none)
out=$(wire req run-manual "{\"ids\":[$n]}")
expect_eq "no launcher: the run fails and says why" \
	"$(field 'm[1]["data"]["jobs"]["'"$n"'"]["result"], m[1]["data"]["jobs"]["'"$n"'"]["stderr"]' <<<"$out")" \
	"('fail', 'run $n has no command and no launcher is configured\\n')"
expect_eq "rows claimed before the restart are kept" "$(status_of "$a")" "done"
expect_eq "a restart leaves rows of targets it does not serve" "$(status_of "$x")" "waiting"
# rows INSERTed while jobd was down are taken over at start-up
jobd_stop
w=$(insert q1 waiting down)
jobd_start "$(conf)"
retry_until 10 is_status "$w" done
expect_eq "a row inserted while jobd was down runs after start-up" \
	"$(db_query "SELECT result, length(jid) FROM $TABLE WHERE id = ?" "$w")" "ok|20"

finish
