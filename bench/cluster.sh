#!/usr/bin/env bash
# bench/cluster.sh BUILD_DIR — the cluster (docs/cluster.md): a master and
# three workers on loopback sharing one MariaDB table, as the original
# queue daemon's cluster ran.
#  1. Dispatch rate: BENCH_CLUSTER_ROWS (20,000) rows INSERTed `waiting`
#     in one statement, then pokes to the master (one every 0.2 s, as an
#     application poking after its inserts would) until every row is done;
#     each row runs the launcher /bin/true (a no-op run: claimed, stored
#     running, spawned, finished, stored done).  Peer, same table, same
#     run: one jobd worker alone, no master, given the same rows and
#     `jobctl poll` every 0.2 s.  The ratio shows what the master and two
#     more workers add on this machine (with 2 cores the workers share
#     them, so expect about 1x; on more cores, more).
#  2. Poke -> start latency: 200 times, one row INSERTed and the master
#     poked (`jobctl --connect MASTER poke lat`); the launcher (sh) writes its start instant; latency = that
#     minus the poke's send (p50, p99); the master's poke_throttle_interval
#     is 10ms here (the default 0.5 s would delay back-to-back pokes).  For scale, the same for a worker
#     poked directly with `jobctl poll lat` (no master hop).
# Starts a throw-away MariaDB (scripts/mariadb.sh) unless JOBD_TEST_MYSQL
# is set.  Env: BENCH_CLUSTER_ROWS (20000), BENCH_CLUSTER_POKES (200).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
BENCH_NAME=cluster
BUILD=$(cd "${1:-build}" && pwd)
ROWS=${BENCH_CLUSTER_ROWS:-20000}
POKES=${BENCH_CLUSTER_POKES:-200}
T=$(mktemp -d /tmp/jobd-cbench.XXXXXX)
PIDS=() OWN_DB=""
cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	[ -z "$OWN_DB" ] || JOBD_MARIADB_STATE=$OWN_DB scripts/mariadb.sh stop >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT

if [ -z "${JOBD_TEST_MYSQL:-}" ]; then
	OWN_DB=$T/mariadb
	JOBD_TEST_MYSQL=$(JOBD_MARIADB_STATE=$OWN_DB scripts/mariadb.sh start)
fi
re='^mysql://([^:]+):([^@]+)@([^:/]+):([0-9]+)/([^?]+)$'
[[ "$JOBD_TEST_MYSQL" =~ $re ]] || { echo "JOBD_TEST_MYSQL is not mysql://U:P@H:PORT/DB"; exit 1; }
M_USER=${BASH_REMATCH[1]} M_PASS=${BASH_REMATCH[2]} M_HOST=${BASH_REMATCH[3]}
M_PORT=${BASH_REMATCH[4]} M_DB=${BASH_REMATCH[5]}
sql() { mariadb --no-defaults -u"$M_USER" -p"$M_PASS" -h"$M_HOST" -P"$M_PORT" --protocol=tcp -N -B "$M_DB" -e "$1"; }
MP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PW=bench-pw
STORE="$JOBD_TEST_MYSQL?table=cbench"

# node NAME CONFIG...: a jobd in $T/NAME
node() {
	local n=$1; shift
	mkdir -p "$T/$n"
	printf 'state_dir = %s\nname = %s\npassword = %s\nlog_level = warn\n%s\n' \
		"$T/$n" "$n" "$PW" "$*" >"$T/$n.conf"
	"$BUILD/jobd" -c "$T/$n.conf" 2>>"$T/$n.log" &
	PIDS+=($!)
	for _ in $(seq 200); do JOBD_SOCKET=$T/$n/jobd.sock "$BUILD/jobctl" status >/dev/null 2>&1 && return; sleep 0.05; done
	echo "$n did not start"; tail "$T/$n.log"; exit 1
}
at() { local n=$1; shift; JOBD_SOCKET=$T/$n/jobd.sock "$BUILD/jobctl" "$@"; }
wire() { python3 tests/it/wireclient.py --port "$MP" --password "$PW" "$@" >/dev/null; }
# worker_conf LAUNCHER EXTRA [LAT]: LAT 1 also serves target `lat`
worker_conf() {
	printf 'store = %s\nmysql_fetch_limit = 100\nlauncher = %s\n%s\n[targets]\nwork = 16\n%s' \
		"$STORE" "$1" "${2:-}" "$([ "${3:-1}" = 1 ] && echo 'lat = 1')"
}
now() { date +%s.%N; }
done_rows() { sql "SELECT COUNT(*) FROM cbench WHERE target = 'work' AND status = 'done'"; }
fill() { sql "DELETE FROM cbench WHERE target = 'work'; INSERT INTO cbench (target, status, time_created) SELECT 'work', 'waiting', UNIX_TIMESTAMP() FROM seq_1_to_$ROWS"; }
# drain CMD...: runs CMD every 0.2 s until every row is done; prints seconds
drain() {
	local t0; t0=$(now)
	until [ "$(done_rows)" = "$ROWS" ]; do "$@" >/dev/null 2>&1 || true; sleep 0.2; done
	awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'
}

cat >"$T/lat.sh" <<EOF
#!/bin/sh
date +%s.%N >> "$T/started"
EOF
chmod +x "$T/lat.sh"
# pct FILE P: the P-th percentile (ms) of FILE's lines
pct() { sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; printf "%.2f", v[i] }'; }
# latency NAME CMD...: POKES times one row and CMD; start minus CMD's send
latency() {
	local out=$T/lat.$1; shift
	: >"$out"; : >"$T/started"
	for i in $(seq "$POKES"); do
		sql "INSERT INTO cbench (target, status, time_created) VALUES ('lat', 'waiting', UNIX_TIMESTAMP())"
		local t0; t0=$(now)
		"$@" >/dev/null
		until [ "$(wc -l <"$T/started")" -ge "$i" ]; do sleep 0.001; done
		awk -v a="$t0" -v b="$(tail -1 "$T/started")" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }' >>"$out"
	done
}

# ---- the peer first: one worker alone ----
node solo "$(worker_conf /bin/true)"
sql "SELECT 1 FROM cbench LIMIT 0" >/dev/null 2>&1 || true
fill
solo_s=$(drain at solo poll)
kill -TERM "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true; PIDS=()
node solo "$(worker_conf "$T/lat.sh {id}")"   # its launcher notes starts
latency solo at solo poll lat
kill -TERM "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true; PIDS=()

# ---- the cluster: a master and three workers ----
node m "role = master
port = $MP
poke_throttle_interval = 10ms"
for w in w1 w2 w3; do node "$w" "$(worker_conf /bin/true "master_host = 127.0.0.1
master_port = $MP" "$([ $w = w1 ] && echo 1 || echo 0)")"; done
for _ in $(seq 100); do [ "$(at m workers --json | python3 -c 'import json,sys; print(sum(w.get("state")=="up" for w in json.load(sys.stdin)["workers"]))')" = 3 ] && break; sleep 0.1; done
fill
cl_s=$(drain wire req poke '{"targets": ["work"]}')
per=$(sql "SELECT GROUP_CONCAT(CONCAT(worker, '=', n) ORDER BY worker) FROM (SELECT worker, COUNT(*) n FROM cbench WHERE target = 'work' GROUP BY worker) x")
# latency needs the launcher that writes its start: w1 (which alone
# serves `lat`) starts again with it
kill -TERM "${PIDS[1]}"; wait "${PIDS[1]}" 2>/dev/null || true
node w1 "$(worker_conf "$T/lat.sh {id}" "master_host = 127.0.0.1
master_port = $MP")"
for _ in $(seq 100); do at m workers --json | grep -q '"w1"' && [ "$(at m workers --json | python3 -c 'import json,sys; print([w.get("state") for w in json.load(sys.stdin)["workers"] if w["name"]=="w1"][0])')" = up ] && break; sleep 0.1; done
latency master "$BUILD/jobctl" --connect "127.0.0.1:$MP" --password "$PW" poke lat

rate() { awk -v n="$ROWS" -v s="$1" 'BEGIN { printf "%.0f", n / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
echo "== cluster: $ROWS no-op rows on MariaDB (rows per worker: $per)"
bench_row 44 figure "jobd" "peer" "ratio" "target"
bench_row 44 "dispatch rows/s: master + 3 workers vs 1" "$(rate "$cl_s")" "$(rate "$solo_s")" "$(ratio "$(rate "$cl_s")" "$(rate "$solo_s")")" "(info)"
bench_row 44 "poke->start p50 ms: via master vs poll" "$(pct "$T/lat.master" 50)" "$(pct "$T/lat.solo" 50)" "$(ratio "$(pct "$T/lat.master" 50)" "$(pct "$T/lat.solo" 50)")" "(info)"
bench_row 44 "poke->start p99 ms: via master vs poll" "$(pct "$T/lat.master" 99)" "$(pct "$T/lat.solo" 99)" "$(ratio "$(pct "$T/lat.master" 99)" "$(pct "$T/lat.solo" 99)")" "(info)"
