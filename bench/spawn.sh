#!/usr/bin/env bash
# bench/spawn.sh BUILD_DIR — issue "foundation": how fast jobd starts runs.
# A jobd on a temp state dir runs job `t` (/bin/true) 5,000 times with 2
# runs in flight (a small client keeps one `run` request with "wait": true
# outstanding on each of 2 connections, so jobctl's own start-up is not
# counted: bench/spawn_client.c, or the Python client below when that is
# not built or BENCH_PY_CLIENT is set); the peer is raw posix_spawn of
# /bin/true, 2 in flight (bench/raw_spawn.c).  Also jobd's RSS idle (with the example jobs) and
# after the load.  Prints a table; targets: ratio >= 0.80, idle RSS <= 8 MiB.
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
	${CC:-cc} -O2 -o "$RAW" bench/raw_spawn.c
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
CLIENT=$BUILD/bench/spawn_client
if [ -x "$CLIENT" ] && [ -z "${BENCH_PY_CLIENT:-}" ]; then
	jobd_rate=$("$CLIENT" -n "$N" -k "$K" t)
else
jobd_rate=$(python3 - "$N" "$K" <<'PY'
import json, os, socket, sys, threading, time
N, K = int(sys.argv[1]), int(sys.argv[2])
EOT = b"\x04"
left = [N]
lock = threading.Lock()
errors = []

def worker():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.environ["JOBD_SOCKET"])
    buf = b""
    no = 0
    while True:
        with lock:
            if left[0] == 0:
                break
            left[0] -= 1
        no = no % 999999 + 1
        req = [0, {"type": "run", "no": no, "data": {"name": "t", "wait": True}}]
        s.sendall(json.dumps(req).encode() + EOT)
        while True:                      # events (type 4), then the response
            while EOT not in buf:
                d = s.recv(65536)
                if not d:
                    errors.append("connection closed")
                    return
                buf += d
            m, buf = buf.split(EOT, 1)
            msg = json.loads(m)
            if msg[0] == 1 and msg[1].get("no") == no:
                break
        if "error" in msg[1]:
            errors.append(msg[1]["error"])
            return
        r = msg[1]["data"]["run"]
        if r.get("result") != "ok":
            errors.append("run %s: %s" % (r.get("jid"), r.get("result")))
            return
    s.close()

t0 = time.monotonic()
ts = [threading.Thread(target=worker) for _ in range(K)]
for t in ts: t.start()
for t in ts: t.join()
dt = time.monotonic() - t0
if errors:
    sys.stderr.write("bench client: %s\n" % errors[0])
    sys.exit(1)
ct = os.times()
print("%.1f %.3f" % (N / dt, (ct.user + ct.system) * 1000.0 / N))
PY
)
fi
read -r cpu1 rq1 _ <<<"$(sched)"
rss_load=$(rss_kib)
[ -n "${PERF_PID:-}" ] && { kill -INT $PERF_PID; wait $PERF_PID; }
read -r jobd_rate client_ms <<<"$jobd_rate"

# ---- the peer ----
raw_rate=$("$RAW" -n "$N" -k "$K")

ratio=$(awk -v a="$jobd_rate" -v b="$raw_rate" 'BEGIN { printf "%.2f", a / b }')
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN {
	ok = (op == ">=") ? (v >= t) : (v <= t); print ok ? "ok" : "MISSED" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

BENCH_NAME=spawn
. "$(dirname "$0")/lib.sh"
echo "== bench/spawn: $N runs of /bin/true, $K in flight ($(nproc) CPUs)"
bench_row 26 figure jobd peer ratio target ""
bench_row 26 "runs/s (peer: posix_spawn)" \
	"$jobd_rate" "$raw_rate" "$ratio" ">= 0.80" "$(verdict "$ratio" 0.80 '>=')"
bench_row 26 "RSS idle" "$(mib "$rss_idle")" - - \
	"<= 8 MiB" "$(verdict "$rss_idle" 8192 '<=')"
bench_row 26 "RSS after the load" "$(mib "$rss_load")" - - - ""
per_run() { awk -v a="$1" -v b="$2" -v n="$N" 'BEGIN { printf "%.3f ms", (b - a) / 1e6 / n }'; }
bench_row 26 "jobd CPU per run" "$(per_run "$cpu0" "$cpu1")" - - - ""
bench_row 26 "jobd runqueue wait per run" "$(per_run "$rq0" "$rq1")" - - - ""
bench_row 26 "client CPU per run" "$client_ms ms" - - - ""
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews both columns)"
if grep -qE 'ERROR|Sanitizer|runtime error' "$T/jobd.log"; then
	echo "jobd logged errors:"; grep -E 'ERROR|Sanitizer|runtime error' "$T/jobd.log" | head -5
fi
