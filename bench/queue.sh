#!/usr/bin/env bash
# bench/queue.sh BUILD_DIR — how fast jobd's queue moves, next to peers
# measured in the same run (clients: bench/queue_client.c, one process and
# one thread each, pipelining the same way, light enough that each server
# is on its CPU for nearly the whole run: the figure is the server's.  Each
# run prints the server's CPU per job (/proc/PID/schedstat) and the
# client's (getrusage): on a busy machine these hold better than jobs/s).
#  1. 50,000 builtin no-op runs (submit {"builtin": "true", "wait": true},
#     64 in flight on one connection; each reply comes when its run is
#     finished: stored, claimed, started, finished), target default of
#     concurrency 64, SQLite store with its default synchronous=NORMAL in
#     WAL (durable across a crash of jobd, not across power loss) and again
#     with store ...?sync=full (an fsync per commit).
#  2. Peer: beanstalkd put+reserve+delete of 50,000 jobs (a producer
#     connection with 64 puts in flight, a consumer connection with 64
#     reserves in flight, deleting each job it gets), once with its binlog
#     fsynced on every write (-b DIR -f0), once in memory.
#     Targets: jobd (sync=normal) >= 3x beanstalkd -f0, >= 1x in memory.
#  3. End to end: 5,000 /bin/true jobs through a target of concurrency 2:
#     jobd (one connection: 5,000 pipelined submits, then 5,000 pipelined
#     waits) vs task-spooler (tsp -S 2; 5,000 `tsp /bin/true`, output kept
#     as tsp does by default, then tsp -w and `tsp -l` until none is
#     queued or running).  Target: jobd >= 5x tsp.  For scale, raw
#     posix_spawn of /bin/true, 2 in flight (bench/raw_spawn.c): no spawner
#     can beat it, so its ratio to tsp bounds the one jobd can reach.
# Installs beanstalkd and task-spooler with apt-get when missing.
# Env: BENCH_QUEUE_JOBS (50000), BENCH_QUEUE_INFLIGHT (64),
#      BENCH_E2E_JOBS (5000).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:-build}" && pwd)
N=${BENCH_QUEUE_JOBS:-50000}
W=${BENCH_QUEUE_INFLIGHT:-64}
E=${BENCH_E2E_JOBS:-5000}
T=$(mktemp -d /tmp/jobd-qbench.XXXXXX)
JOBD_PID=""
BS_PID=""
TSP_SOCK=""
cleanup() {
	[ -z "$JOBD_PID" ] || { kill -TERM "$JOBD_PID" 2>/dev/null; wait "$JOBD_PID" 2>/dev/null || true; }
	[ -z "$BS_PID" ] || { kill -TERM "$BS_PID" 2>/dev/null; wait "$BS_PID" 2>/dev/null || true; }
	[ -z "$TSP_SOCK" ] || TS_SOCKET=$TSP_SOCK tsp -K >/dev/null 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT

# built NAME: bench/NAME from the build dir, or compiled here when that is
# missing or older than its source
built() {
	local b=$BUILD/bench/$1
	if [ ! -x "$b" ] || [ "bench/$1.c" -nt "$b" ]; then
		b=$T/$1
		${CC:-cc} -O2 -o "$b" "bench/$1.c" -lsqlite3
	fi
	echo "$b"
}
CLIENT=$(built queue_client)

# ---- the peers' packages ----
missing=""
command -v beanstalkd >/dev/null || missing="$missing beanstalkd"
command -v tsp >/dev/null || missing="$missing task-spooler"
if [ -n "$missing" ]; then
	echo "bench/queue: installing$missing" >&2
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null ||
		{ $SUDO apt-get update -qq >/dev/null &&
		  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null; }
fi
[ "$(id -u)" -eq 0 ] || echo "bench/queue: builtin runs need jobd's own user; jobd runs as $(id -un) here" >&2

# ---- jobd ----
# jobd_start NAME CONCURRENCY [STORE]: a jobd on $T/NAME, target default.
jobd_start() {
	local d=$T/$1
	mkdir -p "$d/state"
	{
		echo "state_dir = $d/state"
		echo "jobs_dir = $d/jobs.d"
		echo "log_level = warn"
		[ -z "${3:-}" ] || echo "store = $3"
		printf '[targets]\ndefault = %s\n' "$2"
	} >"$d/jobd.conf"
	export JOBD_SOCKET=$d/state/jobd.sock
	"$BUILD/jobd" -c "$d/jobd.conf" 2>"$d/jobd.log" &
	JOBD_PID=$!
	for _ in $(seq 200); do "$BUILD/jobctl" status >/dev/null 2>&1 && break; sleep 0.05; done
	"$BUILD/jobctl" status >/dev/null || { echo "jobd did not start"; cat "$d/jobd.log"; exit 1; }
	JOBD_LOG=$d/jobd.log
}
jobd_stop() {
	kill -TERM "$JOBD_PID"
	wait "$JOBD_PID" || true
	JOBD_PID=""
	if grep -qE 'ERROR|Sanitizer|runtime error' "$JOBD_LOG"; then
		echo "jobd logged errors:"; grep -E 'ERROR|Sanitizer|runtime error' "$JOBD_LOG" | head -5
	fi
}
# a process's time on a CPU (ns), from schedstat (jobd's by default)
# (summed over its threads: jobd's loop, store and read threads)
cpu_ns() { cat /proc/"${1:-$JOBD_PID}"/task/*/schedstat | awk '{c += $1} END {print c + 0}'; }
per_job_ms() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.3f", (b - a) / 1e6 / n }'; }

# 1. builtin runs, synchronous=NORMAL and FULL
jobd_start normal 64
c0=$(cpu_ns)
read -r q_normal cl_normal < <("$CLIENT" builtin "$JOBD_SOCKET" "$N" "$W")
cpu_normal=$(per_job_ms "$c0" "$(cpu_ns)" "$N")
jobd_stop
echo "jobd, $N builtin runs, sync=normal: $q_normal jobs/s ($cpu_normal ms jobd CPU, $cl_normal ms client CPU per job)"

jobd_start full 64 "sqlite:$T/full/state/jobd.db?sync=full"
c0=$(cpu_ns)
read -r q_full cl_full < <("$CLIENT" builtin "$JOBD_SOCKET" "$N" "$W")
cpu_full=$(per_job_ms "$c0" "$(cpu_ns)" "$N")
jobd_stop
echo "jobd, $N builtin runs, sync=full: $q_full jobs/s ($cpu_full ms jobd CPU, $cl_full ms client CPU per job)"

# 2. beanstalkd, binlog fsynced on every write, then in memory
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# bs_run ARGS...: starts beanstalkd, runs the client, prints
# "jobs/s client-CPU-ms-per-job beanstalkd-CPU-ms-per-job"
bs_run() {
	local port c0 rate cl
	port=$(free_port)
	beanstalkd -l 127.0.0.1 -p "$port" "$@" 2>"$T/beanstalkd.log" &
	BS_PID=$!
	for _ in $(seq 100); do
		python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])))' "$port" 2>/dev/null && break
		sleep 0.05
	done
	c0=$(cpu_ns "$BS_PID")
	read -r rate cl < <("$CLIENT" beanstalk "$port" "$N" "$W")
	echo "$rate $cl $(per_job_ms "$c0" "$(cpu_ns "$BS_PID")" "$N")"
	kill -TERM "$BS_PID"
	wait "$BS_PID" 2>/dev/null || true
	BS_PID=""
}
mkdir -p "$T/binlog"
read -r bs_f0 bs_f0_cl bs_f0_cpu < <(bs_run -b "$T/binlog" -f0)
echo "beanstalkd -f0, $N jobs: $bs_f0 jobs/s ($bs_f0_cpu ms beanstalkd CPU, $bs_f0_cl ms client CPU per job)"
read -r bs_mem bs_mem_cl bs_mem_cpu < <(bs_run)
echo "beanstalkd in memory, $N jobs: $bs_mem jobs/s ($bs_mem_cpu ms beanstalkd CPU, $bs_mem_cl ms client CPU per job)"

# 3. end to end: /bin/true through 2 slots
jobd_start e2e 2
read -r e2e_jobd _ < <("$CLIENT" e2e "$JOBD_SOCKET" "$E" 256)
jobd_stop
echo "jobd, $E /bin/true jobs, 2 slots: $e2e_jobd jobs/s"

mkdir -p "$T/tsp"
export TMPDIR=$T/tsp TS_SOCKET=$T/tsp/socket
TSP_SOCK=$TS_SOCKET
tsp -S 2 >/dev/null          # starts the server
e2e_tsp=$(python3 - "$E" <<'PY'
import subprocess, sys, time
n = int(sys.argv[1])
t0 = time.monotonic()
for _ in range(n):
    subprocess.run(["tsp", "/bin/true"], stdout=subprocess.DEVNULL, check=True)
subprocess.run(["tsp", "-w"], stdout=subprocess.DEVNULL)
while True:
    out = subprocess.run(["tsp", "-l"], capture_output=True, text=True).stdout
    states = [l.split()[1] for l in out.splitlines()[1:] if l.split()]
    if not any(s in ("running", "queued", "allocating") for s in states):
        break
    time.sleep(0.005)
print("%.0f" % (n / (time.monotonic() - t0)))
PY
)
tsp -K >/dev/null 2>&1 || true
TSP_SOCK=""
echo "tsp, $E /bin/true jobs, 2 slots: $e2e_tsp jobs/s"

# the ceiling of any spawner here: raw posix_spawn of /bin/true, 2 in flight
RAW=$(built raw_spawn)
e2e_raw=$("$RAW" -n "$E" -k 2 | awk '{ printf "%.0f", $1 }')
echo "raw posix_spawn, $E /bin/true, 2 in flight: $e2e_raw runs/s"

# ---- the table ----
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v >= t) ? "ok" : "MISSED" }'; }
row() {  # FIGURE JOBD PEER TARGET
	local r
	r=$(ratio "$2" "$3")
	bench_row 44 "$1" "$2" "$3" "$r" "${4:+>= $4.00}" \
		"${4:+$(verdict "$r" "$4")}"
}
BENCH_NAME=queue
. "$(dirname "$0")/lib.sh"
echo "== bench/queue: jobs/s, builtin runs $N with $W in flight, e2e $E ($(nproc) CPUs)"
bench_row 44 figure jobd peer ratio target ""
row "queue sync=normal (peer: beanstalkd -f0)" "$q_normal" "$bs_f0" 3
row "queue sync=normal (peer: beanstalkd memory)" "$q_normal" "$bs_mem" 1
row "queue sync=full (peer: beanstalkd -f0)" "$q_full" "$bs_f0" ""
row "queue sync=full (peer: beanstalkd memory)" "$q_full" "$bs_mem" ""
row "e2e /bin/true, 2 slots (peer: tsp -S 2)" "$e2e_jobd" "$e2e_tsp" 5
row "e2e /bin/true (peer: raw posix_spawn, 2)" "$e2e_jobd" "$e2e_raw" ""
row "  the ceiling: raw posix_spawn vs tsp" "$e2e_raw" "$e2e_tsp" ""
printf '%-44s %9s\n' "jobd CPU per queue job, sync=normal" "$cpu_normal ms"
printf '%-44s %9s\n' "jobd CPU per queue job, sync=full" "$cpu_full ms"
printf '%-44s %9s\n' "beanstalkd CPU per queue job, in memory" "$bs_mem_cpu ms"
printf '%-44s %9s\n' "beanstalkd CPU per queue job, -f0" "$bs_f0_cpu ms"
printf '%-44s %9s\n' "client CPU per queue job, jobd sync=normal" "$cl_normal ms"
printf '%-44s %9s\n' "client CPU per queue job, beanstalkd memory" "$bs_mem_cl ms"
echo "jobd: submit with \"wait\": true replies when the run is finished; sync=normal"
echo "is durable across a crash of jobd, sync=full and beanstalkd -f0 across power loss."
echo "tsp: one tsp process per submit (its only interface); jobd: one pipelined connection."
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews both columns)"
