#!/usr/bin/env bash
# test_cluster_mysql.sh — one master and three workers sharing one MariaDB
# table, as the original queue daemon's cluster ran: rows INSERTed by an
# application and one poke to the master run exactly once, spread over the
# workers; run-manual and send-signal through the master reach the worker
# that serves / runs the row; kill -9 of a worker: the others go on; kill
# -9 of the master: the workers' runs go on and they register again.
# Needs JOBD_TEST_MYSQL (scripts/mariadb.sh); skips without it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

mysql_db cl
trap 'stop_nodes KILL; sql -e "DROP DATABASE IF EXISTS \`$M_DB\`" 2>/dev/null; cleanup' EXIT
STORE="mysql://$M_USER:$M_PASS@$M_HOST:$M_PORT/$M_DB?table=queue"
q() { sql "$M_DB" -e "$1"; }
ROWS=${CLUSTER_ROWS:-300}

node m "$(master_conf)"
for w in w1 w2 w3; do
	node "$w" "$(worker_conf "$w" "store = $STORE
mysql_fetch_limit = 10" 'work = 2
slow = 1')"
done
retry_until 20 registered w1 w2 w3
ok "three workers on one MariaDB table register" registered w1 w2 w3

# ---- poke: every row once, over the workers ----
q "INSERT INTO queue (target, status, time_created) SELECT 'work', 'waiting', UNIX_TIMESTAMP() FROM seq_1_to_$ROWS" 2>/dev/null ||
	for i in $(seq "$ROWS"); do echo "INSERT INTO queue (target, status, time_created) VALUES ('work', 'waiting', UNIX_TIMESTAMP());"; done | sql "$M_DB"
out=$(wire req poke '{"targets": ["work"]}')
expect_match "poke: ok" "$out" '"data":"ok"'
all_done() { [ "$(q "SELECT COUNT(*) FROM queue WHERE target = 'work' AND status = 'done'")" = "$ROWS" ]; }
# a worker polls up to mysql_fetch_limit rows per poll: poke until done
for _ in $(seq 60); do all_done && break; wire req poke '{"targets": ["work"]}' >/dev/null; sleep 0.5; done
ok "all $ROWS rows done after pokes to the master" all_done
expect_eq "each row ran exactly once" "$(cut -d' ' -f1 "$T/launched" | sort | uniq -d | wc -l) $(wc -l < "$T/launched")" "0 $ROWS"
used=$(cut -d' ' -f2 "$T/launched" | sort -u | wc -l)
ok "the rows were spread over more than one worker ($used)" test "$used" -ge 2
expect_eq "each row's worker column names the worker that ran it" \
	"$(q "SELECT COUNT(*) FROM queue WHERE target = 'work' AND worker NOT IN ('w1','w2','w3')")" "0"

# ---- run-manual and send-signal through the master ----
id=$(q "INSERT INTO queue (target, status, time_created) VALUES ('work', 'manual', UNIX_TIMESTAMP()); SELECT LAST_INSERT_ID()")
out=$(wire --timeout 30 req run-manual "{\"jobs\": [{\"id\": $id, \"target\": \"work\"}]}")
expect_eq "run-manual routed: the row ran" "$(field "m[1]['data']['jobs']['$id']['result']" <<<"$out")" "ok"
slow=$(q "INSERT INTO queue (target, status, time_created) VALUES ('slow', 'manual', UNIX_TIMESTAMP()); SELECT LAST_INSERT_ID()")
python3 "$HERE/wireclient.py" --port "$MP" --password "$PW" --timeout 60 \
	req run-manual "{\"jobs\": [{\"id\": $slow, \"target\": \"slow\"}]}" >"$T/slow.out" 2>&1 &
SLOW=$!
running() { [ "$(q "SELECT status FROM queue WHERE id = $slow")" = running ]; }
retry_until 20 running
runner=$(q "SELECT worker FROM queue WHERE id = $slow")
out=$(wire req send-signal "{\"jobs\": [{\"id\": $slow, \"signal\": \"SIGTERM\", \"target\": \"slow\"}]}")
expect_eq "send-signal: delivered (by the worker running it: $runner)" "$(field "m[1]['data']['$slow']" <<<"$out")" "True"
wait $SLOW
expect_eq "the run ended by SIGTERM" "$(q "SELECT sig FROM queue WHERE id = $slow")" "SIGTERM"

# ---- kill -9 of a worker: the others go on ----
stop_node w3 KILL
retry_until 20 test "$(worker_state w3)" = lost
expect_eq "a killed worker is marked lost" "$(worker_state w3)" lost
: > "$T/launched"
q "INSERT INTO queue (target, status, time_created) VALUES ('work', 'waiting', UNIX_TIMESTAMP()), ('work', 'waiting', UNIX_TIMESTAMP())"
wire req poke '{"targets": ["work"]}' >/dev/null
two_more() { [ "$(wc -l < "$T/launched")" = 2 ]; }
retry_until 20 two_more
ok "after the loss, pokes reach the live workers" two_more
ok "... and none of them is w3" bash -c "! grep -q w3 '$T/launched'"

# ---- kill -9 of the master: runs go on, workers register again ----
slow2=$(q "INSERT INTO queue (target, status, time_created) VALUES ('slow', 'waiting', UNIX_TIMESTAMP()); SELECT LAST_INSERT_ID()")
wire req poke '{"targets": ["slow"]}' >/dev/null
running2() { [ "$(q "SELECT status FROM queue WHERE id = $slow2")" = running ]; }
retry_until 20 running2
stop_node m KILL
sleep 1
expect_eq "the master is gone; the run goes on" "$(q "SELECT status FROM queue WHERE id = $slow2")" "running"
node m "$(master_conf)"
retry_until 30 registered w1 w2
ok "the workers register with the restarted master" registered w1 w2
out=$(wire req send-signal "{\"jobs\": [{\"id\": $slow2, \"signal\": \"SIGKILL\", \"target\": \"slow\"}]}")
expect_eq "the new master reaches the run begun before its restart" "$(field "m[1]['data']['$slow2']" <<<"$out")" "True"
ended() { [ "$(q "SELECT status FROM queue WHERE id = $slow2")" = done ]; }
retry_until 20 ended
expect_eq "... which ends by SIGKILL" "$(q "SELECT sig FROM queue WHERE id = $slow2")" "SIGKILL"

cluster_finish
