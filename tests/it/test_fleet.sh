#!/usr/bin/env bash
# test_fleet.sh — lifecycle actions across workers (docs/cluster.md
# "Lifecycle actions"): one master and three workers sharing one MariaDB
# store; jobs made on the master are allocated by their selectors; start,
# stop, restart, status and a custom action run on the allocated workers
# (or --allocations), jobs in `after` order (stop in reverse), restart
# rolling one worker at a time and halted by a failing health check; the
# sync check refuses workers whose definitions are behind the store's,
# and only those the action needs; a killed worker fails only the actions
# that need it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

mysql_db fl
trap 'stop_nodes KILL; sql -e "DROP DATABASE IF EXISTS \`$M_DB\`" 2>/dev/null; cleanup' EXIT
STORE="mysql://$M_USER:$M_PASS@$M_HOST:$M_PORT/$M_DB?table=queue"
EV=$T/events
: > "$EV"

# A service: says when it starts and when TERM stops it, in $EV.
svc() {
	echo "trap 'echo \"\$JOBD_WORKER $1 stop\" >> $EV; exit 0' TERM; echo \"\$JOBD_WORKER $1 start\" >> $EV; while :; do sleep 1 & wait \$!; done"
}
# web: a job file on every node (as configuration management would put
# it), with an action and a health check; db: made on the master below
for n in m w1 w2 w3; do
	mkdir -p "$T/$n/jobs.d"
	cat > "$T/$n/jobs.d/web.conf" <<EOF
[job web]
shell = true
selectors = web
after = db
command = $(svc web)
[action migrate]
command = echo \$JOBD_WORKER migrated >> $EV
[health_check alive]
command = test ! -e $T/sick-\$JOBD_WORKER
attempts = 2
interval = 1s
timeout = 5s
EOF
done
node m "$(master_conf)
store = $STORE"
node w1 "$(worker_conf w1 "store = $STORE
labels = web, eu" "")"
node w2 "$(worker_conf w2 "store = $STORE
labels = web" "")"
node w3 "$(worker_conf w3 "store = $STORE
labels = db" "")"
retry_until 20 registered w1 w2 w3
ok "a master and three workers on one MariaDB store" registered w1 w2 w3

at m create db --selectors db --shell -- "$(svc db)" >/dev/null
expect_code 0 "the master stores db in the shared store (jobctl create)" at m show db

# ---- the sync check: the workers have not read the new definitions ----
out=$(at m start web 2>&1); rc=$?
expect_eq "start refused while the workers' definitions are behind: exit 1" "$rc" 1
expect_match "... naming each affected worker and the numbers" "$out" \
	"worker w1: definitions out of date \(update_seq [0-9]+ < [0-9]+\)"
expect_match "... w2 too" "$out" "worker w2: definitions out of date"
[[ "$out" == *w3* ]] && fail "... but not w3 (web is not allocated there)" "$out" || pass "... but not w3 (web is not allocated there)"
expect_eq "... and nothing ran" "$(cat "$EV")" ""
for w in w1 w2 w3; do at "$w" reload >/dev/null; done
seq_of() { at m workers --json | python3 -c 'import json,sys
ws={w["name"]: w for w in json.load(sys.stdin)["workers"]}; print(ws[sys.argv[1]]["update_seq"])' "$1"; }
retry_until 10 test "$(seq_of w1)" = "$(seq_of m)"
expect_eq "after jobctl reload on the workers, jobctl workers shows their update_seq" "$(seq_of w1) $(seq_of w3)" "$(seq_of m) $(seq_of m)"

# ---- start in dependency order, on the allocated workers ----
out=$(at m start web db 2>&1); rc=$?
expect_eq "start web db: exit 0" "$rc" 0
expect_match "... a line per worker (w1)" "$out" "w1 web start: ok"
expect_match "... (w2)" "$out" "w2 web start: ok"
expect_match "... (w3 runs db)" "$out" "w3 db start: ok"
started() { [ "$(grep -c ' start$' "$EV")" -ge "$1" ]; }
retry_until 10 started 3
line() { grep -n "^$1\$" "$EV" | tail -1 | cut -d: -f1; }
db_at=$(line "w3 db start"); w1_at=$(line "w1 web start"); w2_at=$(line "w2 web start")
ok "db started before web (web has after = db)" test "${db_at:-99}" -lt "${w1_at:-0}" -a "${db_at:-99}" -lt "${w2_at:-0}"
ok "web is not started on w3, db not on w1/w2" bash -c "! grep -qE '^(w3 web|w1 db|w2 db) ' '$EV'"
expect_code 0 "status web: running on all its workers (exit 0)" at m status web
expect_match "status --json has a result per worker" "$(at m status web --json)" '"worker": *"w2"'

# ---- a custom action, and --allocations ----
out=$(at m run web --action migrate 2>&1); rc=$?
expect_eq "run web --action migrate: exit 0" "$rc" 0
ok "... it ran on w1 and w2" bash -c "grep -q '^w1 migrated' '$EV' && grep -q '^w2 migrated' '$EV'"
: > "$EV"
ok "run --action migrate --allocations w2" at m run web --action migrate --allocations w2
expect_eq "... ran on w2 only" "$(grep migrated "$EV")" "w2 migrated"
expect_code 4 "--allocations naming an unknown worker: exit 4" at m status web --allocations nosuch
expect_code 2 "a bad action name: exit 2" at m run web --action '../x'
expect_code 4 "an unknown job: exit 4" at m start nosuch

# ---- a rolling restart, with health checks ----
: > "$EV"
out=$(at m restart web --health-check 2>&1); rc=$?
expect_eq "restart web --health-check: exit 0" "$rc" 0
expect_eq "... one worker at a time: w1 stopped and started before w2" \
	"$(grep web "$EV" | tr '\n' ' ')" "w1 web stop w1 web start w2 web stop w2 web start "
touch "$T/sick-w1"
: > "$EV"
out=$(at m restart web --health-check 2>&1); rc=$?
expect_eq "a failing health check on w1 fails the restart: exit 1" "$rc" 1
expect_match "... naming it unhealthy" "$out" "w1 web restart: FAILED.*unhealthy"
expect_eq "... and halts it before w2" "$(grep web "$EV" | tr '\n' ' ')" "w1 web stop w1 web start "
expect_code 3 "status web with w1 unhealthy: exit 3" at m status web
expect_match "... and it shows the check" "$(at m status web 2>&1)" "w1 web.*unhealthy"
rm -f "$T/sick-w1"

# ---- stop in reverse order ----
: > "$EV"
ok "stop web db" at m stop web db
retry_until 10 grep -q "w3 db stop" "$EV"
db_at=$(line "w3 db stop"); w1_at=$(line "w1 web stop"); w2_at=$(line "w2 web stop")
ok "web stopped before db (reverse of start)" test "${w1_at:-99}" -lt "${db_at:-0}" -a "${w2_at:-99}" -lt "${db_at:-0}"
expect_code 3 "status web after stop: exit 3 (not running)" at m status web

# ---- a lost worker fails only the actions that need it ----
stop_node w3 KILL
retry_until 20 test "$(worker_state w3)" = lost
out=$(at m status db 2>&1); rc=$?
expect_eq "status db with its worker lost: exit 1" "$rc" 1
expect_match "... naming it unreachable" "$out" "worker w3: unreachable"
expect_code 3 "status web is still answered by w1 and w2 (exit 3: stopped)" at m status web

cluster_finish
