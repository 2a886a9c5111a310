#!/usr/bin/env bash
# test_cluster.sh — a master and two workers, each a real jobd on
# loopback (reference/queue-wire.md, "Master requests"; docs/cluster.md):
# registration over the worker's own connection, `jobctl workers`, status
# with poll_workers, poke -> poll (throttled, targets remembered until a
# worker serves them, targets added at runtime told to the master),
# run-manual routed by target and merged, send-signal reaching the worker
# that runs the job, pause/continue forwarded and answered, a wrong
# password refused, a killed worker marked lost, and a restarted master
# rebuilt from the workers' re-registrations.
#
# Each worker has its own SQLite store here (the rows of a target live in
# the store of the worker serving it); test_cluster_mysql.sh shares one
# MariaDB table.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
# db NODE SQL ARGS...: the SQLite store of a node (m, w1, w2)
db() { python3 -c 'import sqlite3,sys
c=sqlite3.connect(sys.argv[1], timeout=10); cur=c.execute(sys.argv[2], sys.argv[3:]); c.commit()
rows=cur.fetchall()
print(cur.lastrowid if not rows else "\n".join("|".join("" if v is None else str(v) for v in r) for r in rows))' "$T/$1/jobd.db" "${@:2}"; }
insert() { db "$1" "INSERT INTO runs (target, status, time_created) VALUES (?, ?, ?)" "$2" "$3" "$(date +%s)"; }
status_of() { db "$1" "SELECT status FROM runs WHERE id = ?" "$2"; }
is_status() { [ "$(status_of "$1" "$2")" = "$3" ]; }

node m "$(master_conf)"
node w1 "$(worker_conf w1 'labels = web,db' 'q1 = 2
shared = 1
slow = 2')"
node w2 "$(worker_conf w2 'labels = web' 'q3 = 1
shared = 1
slow = 1')"

retry_until 20 registered w1 w2
ok "workers register with the master" registered w1 w2

out=$(at m workers --json)
expect_eq "workers: labels (every worker has 'worker')" \
	"$(python3 -c 'import json,sys; ws={w["name"]: w for w in json.load(sys.stdin)["workers"]}; print(ws["w1"]["labels"], ws["w2"]["labels"])' <<<"$out")" \
	"['worker', 'web', 'db'] ['worker', 'web']"
expect_eq "workers: targets" \
	"$(python3 -c 'import json,sys; ws={w["name"]: w for w in json.load(sys.stdin)["workers"]}; print(sorted(ws["w1"]["targets"]), sorted(ws["w2"]["targets"]))' <<<"$out")" \
	"['default', 'q1', 'shared', 'slow'] ['default', 'q3', 'shared', 'slow']"
expect_eq "workers: the master lists itself first" \
	"$(python3 -c 'import json,sys; w=json.load(sys.stdin)["workers"][0]; print(w["name"], w["self"])' <<<"$out")" "m True"

# the master asks each worker's status with its pings: running, waiting
counts() { at m workers --json | python3 -c 'import json,sys
ws={w["name"]: w for w in json.load(sys.stdin)["workers"]}; print(ws["w1"].get("running"), ws["w1"].get("waiting"))'; }
retry_until 10 test "$(counts)" = "0 0"
expect_eq "workers: running and waiting counts from the worker" "$(counts)" "0 0"

out=$(at m workers)
expect_match "jobctl workers: a table with state, labels, targets" "$out" \
	"w1 +up +worker,web,db +default,q1,shared,slow +0 +0"

# ---- status ----
out=$(wire req status '{}')
expect_eq "status: the workers in the original's shape" \
	"$(field 'sorted((w["name"], w["remoteAddr"], type(w["remotePort"]).__name__) for w in m[1]["data"]["workers"])' <<<"$out")" \
	"[('w1', '127.0.0.1', 'int'), ('w2', '127.0.0.1', 'int')]"
expect_eq "status: no workerStatus without poll_workers" \
	"$(field 'any("workerStatus" in w for w in m[1]["data"]["workers"])' <<<"$out")" "False"
out=$(wire req status '{"poll_workers": true}')
expect_eq "status with poll_workers: each worker's own status" \
	"$(field 'sorted(sorted(w["workerStatus"]["targets"]) for w in m[1]["data"]["workers"])' <<<"$out")" \
	"[['default', 'q1', 'shared', 'slow'], ['default', 'q3', 'shared', 'slow']]"

# ---- poke -> poll ----
id=$(insert w1 q1 waiting)
out=$(wire req poke '{"targets": ["q1"]}')
expect_match "poke is answered ok" "$out" '"data":"ok"'
retry_until 20 is_status w1 "$id" done
expect_eq "poke: the worker serving q1 polled and ran the row" "$(status_of w1 "$id")" "done"
out=$(at w1 logs "$(db w1 "SELECT jid FROM runs WHERE id = ?" "$id")" 2>&1)
expect_match "poke: ran by w1's launcher" "$out" "ran $id on w1"

# jobctl poke over TCP, as an application's script would
id=$(insert w1 q1 waiting)
ok "jobctl --connect MASTER poke q1" "$JOBCTL" --connect "127.0.0.1:$MP" --password "$PW" poke q1
retry_until 20 is_status w1 "$id" done
expect_eq "... and w1 ran the row" "$(status_of w1 "$id")" "done"
out=$(at w1 poke q1 2>&1); rc=$?
expect_eq "poke asked of a worker: refused" "$rc" 2
expect_match "... saying it is no master" "$out" "not a master"

# a poke of a target nobody serves is remembered until a worker serves it
id=$(insert w2 late waiting)
out=$(wire req poke '{"targets": ["late"]}')
expect_match "poke of an unserved target: ok" "$out" '"data":"ok"'
sleep 1
expect_eq "... nothing ran yet" "$(status_of w2 "$id")" "waiting"
ok "a target added at runtime on w2" at w2 target add late 1
retry_until 20 is_status w2 "$id" done
expect_eq "... w2 tells the master, which polls it for the remembered poke" "$(status_of w2 "$id")" "done"

# ---- run-manual, routed by target ----
# (w2's ids start at 1000: the two stores' ids must not meet in one reply)
db w2 "INSERT INTO runs (id, target, status, time_created) VALUES (1000, 'pad', 'done', 0)" >/dev/null
i1=$(insert w1 q1 manual)
i3=$(insert w2 q3 manual)
out=$(wire --timeout 30 req run-manual "{\"jobs\": [{\"id\": $i1, \"target\": \"q1\"}, {\"id\": $i3, \"target\": \"q3\"}, {\"id\": 99999, \"target\": \"nowhere\"}]}")
expect_eq "run-manual: each row ran on the worker serving its target" \
	"$(field 'sorted(((k, v["result"], v["stdout"].strip()) for k, v in m[1]["data"]["jobs"].items()), key=lambda x: int(x[0]))' <<<"$out")" \
	"[('$i1', 'ok', 'ran $i1 on w1'), ('$i3', 'ok', 'ran $i3 on w2')]"
expect_eq "run-manual: a target no worker serves is an error for its id" \
	"$(field 'm[1]["data"]["errors"]' <<<"$out")" "{'99999': \"no worker serves target 'nowhere'\"}"
out=$(wire req run-manual '{"jobs": "x"}')
expect_match "run-manual: bad jobs named" "$out" '"error":"jobs must be a non-empty array'

# ---- send-signal reaches the worker running the job ----
is=$(insert w1 slow manual)
python3 "$HERE/wireclient.py" --port "$MP" --password "$PW" --timeout 60 \
	req run-manual "{\"jobs\": [{\"id\": $is, \"target\": \"slow\"}]}" >"$T/slow.out" 2>&1 &
SLOW=$!
retry_until 20 is_status w1 "$is" running
has_running() { test "$(counts)" = "1 0"; }
retry_until 10 has_running
expect_eq "workers: w1 shows its running run" "$(counts)" "1 0"
out=$(wire req send-signal "{\"jobs\": [{\"id\": $is, \"signal\": \"SIGTERM\", \"target\": \"slow\"}, {\"id\": 88888, \"signal\": \"SIGTERM\", \"target\": \"slow\"}]}")
expect_eq "send-signal: true for the running job, false for one not running" \
	"$(field 'sorted(m[1]["data"].items())' <<<"$out")" "[('$is', True), ('88888', False)]"
wait $SLOW
expect_eq "send-signal: the run ended by SIGTERM" \
	"$(python3 -c 'import json,sys; m=json.loads(open(sys.argv[1]).readline()); print(m[1]["data"]["jobs"][sys.argv[2]]["signal"])' "$T/slow.out" "$is")" "SIGTERM"

# ---- pause / continue, forwarded and answered ----
paused() { at "$1" targets --json | python3 -c 'import json,sys
print(json.load(sys.stdin)[sys.argv[1]]["paused"])' "$2"; }
out=$(wire req pause '{"targets": ["shared"]}')
expect_match "master pause: answered" "$out" '"data":"ok"'
expect_eq "pause reached both workers serving 'shared'" "$(paused w1 shared) $(paused w2 shared)" "True True"
expect_eq "... and no other target" "$(paused w1 q1)" "False"
out=$(wire req continue '{"targets": ["shared"]}')
expect_match "master continue: answered" "$out" '"data":"ok"'
expect_eq "continue reached both workers" "$(paused w1 shared) $(paused w2 shared)" "False False"
out=$(wire req pause '{"targets": "shared"}')
expect_match "pause: targets must be array" "$out" '"error":"targets must be array"'

# ---- a worker with a wrong password is refused ----
NODE_PW=wrong node w3 "$(worker_conf w3 '' 'q9 = 1')"
retry_until 10 grep -q "invalid password" "$T/w3.log"
expect_match "a worker with a wrong password: refused, it says why" "$(cat "$T/w3.log")" "invalid password"
expect_code 1 "... and is not listed" registered w3
stop_node w3

# ---- a killed worker is marked lost ----
stop_node w2 KILL
retry_until 20 test "$(worker_state w2)" = lost
expect_eq "a killed worker is marked lost" "$(worker_state w2)" lost
out=$(wire req status '{}')
expect_eq "status lists only live workers" "$(field '[w["name"] for w in m[1]["data"]["workers"]]' <<<"$out")" "['w1']"

# ---- the master restarts: the workers register again ----
stop_node m KILL
node m "$(master_conf)"
retry_until 30 registered w1
ok "after a master restart w1 registers again" registered w1
grep -q "reconnecting" "$T/w1.log"
expect_eq "w1 logged the lost link" "$?" "0"

cluster_finish
