#!/usr/bin/env bash
# bench/spawn.sh BUILD_DIR — issue "foundation": how fast jobd starts runs.
# A jobd on a temp state dir runs job `t` (/bin/true) 5,000 times with 2
# runs in flight (a small client keeps one `run` request with "wait": true
# outstanding on each of 2 connections, so jobctl's own start-up is not
# counted: bench/spawn_client.c); the peer is raw posix_spawn of
# /bin/true, 2 in flight (bench/raw_spawn.c).  A second peer, "the floor",
# is the same plus the two commits every run of jobd needs (its running
# row before the spawn, its end after the exit: raw_spawn -d): no spawner
# that records its runs durably beats it.  Also jobd's RSS idle (with the
# example jobs) and after the load.  Prints a table; targets: ratio to raw
# posix_spawn >= 0.80, idle RSS <= 8 MiB.
# Env: BENCH_RUNS (5000), BENCH_INFLIGHT (2).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:-build}" && pwd)
N=${BENCH_RUNS:-5000}
K=${BENCH_INFLIGHT:-2}
T=$(mktemp -d /tmp/jobd-bench.XXXXXX)
JOBD_PID=""
cleanup() {
	[ -z "$JOBD_PID" ] || { kill -TERM "$JOBD_PID" 2>/dev/null; wait "$JOBD_PID" 2>/dev/null || true; }
	rm -rf "$T"
}
trap cleanup EXIT

# ---- the peer binary ----
RAW=$BUILD/bench/raw_spawn
if [ ! -x "$RAW" ] || [ bench/raw_spawn.c -nt "$RAW" ]; then
	RAW=$T/raw_spawn
	${CC:-cc} -O2 -o "$RAW" bench/raw_spawn.c -lsqlite3
fi

# ---- a jobd with the example jobs and job t ----
mkdir -p "$T/state" "$T/jobs.d"
cp examples/jobs.d/*.conf "$T/jobs.d/" 2>/dev/null || true
printf '[job t]\ncommand = /bin/true\n' >"$T/jobs.d/t.conf"
cat >"$T/jobd.conf" <<CONF
state_dir = $T/state
jobs_dir = $T/jobs.d
log_level = warn
CONF
export JOBD_SOCKET=$T/state/jobd.sock
"$BUILD/jobd" -c "$T/jobd.conf" 2>"$T/jobd.log" &
JOBD_PID=$!
for _ in $(seq 200); do "$BUILD/jobctl" status >/dev/null 2>&1 && break; sleep 0.05; done
"$BUILD/jobctl" status >/dev/null || { echo "jobd did not start"; cat "$T/jobd.log"; exit 1; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$JOBD_PID/status"; }
sleep 0.5
rss_idle=$(rss_kib)
# jobd's time on a CPU and waiting for one (ns), from schedstat, summed
# over its threads (the loop, the store thread, the read thread)
sched() { cat /proc/"$JOBD_PID"/task/*/schedstat 2>/dev/null |
	awk '{c += $1; w += $2} END {print c + 0, w + 0, 0}'; }
read -r cpu0 rq0 _ <<<"$(sched)"

# ---- the load: N runs of t, K in flight, one connection per slot ----
[ -n "${BENCH_PERF:-}" ] && { perf record --no-inherit -g -o /tmp/jobd.perf -p "$(pgrep -n -f "$T/jobd.conf")" & PERF_PID=$!; sleep 0.5; }
jobd_rate=$("$BUILD/bench/spawn_client" -n "$N" -k "$K" t)
read -r cpu1 rq1 _ <<<"$(sched)"
rss_load=$(rss_kib)
[ -n "${PERF_PID:-}" ] && { kill -INT $PERF_PID; wait $PERF_PID || true; }
read -r jobd_rate client_ms <<<"$jobd_rate"

# ---- the peers ----
read -r raw_rate raw_cpu <<<"$("$RAW" -n "$N" -k "$K")"
# the floor of a spawner that records its runs: raw posix_spawn plus the
# two commits the issue asks of every run (its running row before the
# spawn, its end after the exit), on a SQLite file with jobd's own schema
python3 - "$T/state/jobd.db" >"$T/schema.sql" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
for (sql,) in db.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL"
                         " AND name NOT LIKE 'sqlite_%' ORDER BY rowid"):
    print(sql + ";")
PY
read -r floor_rate floor_cpu <<<"$("$RAW" -n "$N" -k "$K" -d "$T/floor.db" -s "$T/schema.sql")"
# ... and with its commits overlapped perfectly with the children on every
# CPU: the machine's CPUs over the CPU time of a run
bound_rate=$(awk -v c="$floor_cpu" -v n="$(nproc)" 'BEGIN { printf "%.1f", n * 1000 / c }')

div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ratio=$(div "$jobd_rate" "$raw_rate")
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN {
	ok = (op == ">=") ? (v >= t) : (v <= t); print ok ? "ok" : "MISSED" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

BENCH_NAME=spawn
. "$(dirname "$0")/lib.sh"
echo "== bench/spawn: $N runs of /bin/true, $K in flight ($(nproc) CPUs)"
bench_row 26 figure jobd peer ratio target ""
bench_row 26 "runs/s (peer: posix_spawn)" \
	"$jobd_rate" "$raw_rate" "$ratio" ">= 0.80" "$(verdict "$ratio" 0.80 '>=')"
bench_row 26 "  the floor vs posix_spawn" \
	"$floor_rate" "$raw_rate" "$(div "$floor_rate" "$raw_rate")" - ""
bench_row 26 "  the floor overlapped" \
	"$bound_rate" "$raw_rate" "$(div "$bound_rate" "$raw_rate")" - ""
bench_row 26 "runs/s (peer: the floor)" \
	"$jobd_rate" "$floor_rate" "$(div "$jobd_rate" "$floor_rate")" - ""
bench_row 26 "RSS idle" "$(mib "$rss_idle")" - - \
	"<= 8 MiB" "$(verdict "$rss_idle" 8192 '<=')"
bench_row 26 "RSS after the load" "$(mib "$rss_load")" - - - ""
per_run() { awk -v a="$1" -v b="$2" -v n="$N" 'BEGIN { printf "%.3f ms", (b - a) / 1e6 / n }'; }
bench_row 26 "jobd CPU per run" "$(per_run "$cpu0" "$cpu1")" - - - ""
bench_row 26 "jobd runqueue wait per run" "$(per_run "$rq0" "$rq1")" - - - ""
bench_row 26 "client CPU per run" "$client_ms ms" - - - ""
echo "the floor: posix_spawn plus a commit of the run's row before the spawn and"
echo "of its end after the exit (SQLite, jobd's schema, synchronous=NORMAL), in line;"
echo "overlapped: $(nproc) CPUs / its CPU time per run ($floor_cpu ms; posix_spawn"
echo "alone: $raw_cpu ms), the most any recording spawner gets out of this machine"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews both columns)"
if grep -qE 'ERROR|Sanitizer|runtime error' "$T/jobd.log"; then
	echo "jobd logged errors:"; grep -E 'ERROR|Sanitizer|runtime error' "$T/jobd.log" | head -5
fi
