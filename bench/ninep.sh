#!/usr/bin/env bash
# bench/ninep.sh BUILD_DIR — how fast jobd's 9P file server reads a small
# file, next to Debian's diod serving a directory holding the same bytes,
# measured in the same run with the same client (bench/ninep_client.c: one
# process, one thread, one TCP connection, 9P2000.L as diod speaks nothing
# else).  The file is a job's `cmd` (/jobs/b/cmd); diod exports a directory
# with a file `cmd` of the same content (diod -f -n: foreground, no auth).
# Each server is measured twice: 1 read in flight (a round trip each: the
# latency) and 16 in flight (pipelined on the one connection: the server's
# throughput).  Also each server's CPU per read (/proc/PID/schedstat) and
# the client's (getrusage).  No target: the figure to watch is the ratio.
# Installs diod with apt-get when missing.
# Env: BENCH_NINEP_READS (20000), BENCH_NINEP_INFLIGHT (16).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(cd "${1:-build}" && pwd)
N=${BENCH_NINEP_READS:-20000}
W=${BENCH_NINEP_INFLIGHT:-16}
T=$(mktemp -d /tmp/jobd-9pbench.XXXXXX)
JOBD_PID=""
DIOD_PID=""
cleanup() {
	[ -z "$JOBD_PID" ] || { kill -TERM "$JOBD_PID" 2>/dev/null; wait "$JOBD_PID" 2>/dev/null || true; }
	[ -z "$DIOD_PID" ] || { kill -TERM "$DIOD_PID" 2>/dev/null; wait "$DIOD_PID" 2>/dev/null || true; }
	rm -rf "$T"
}
trap cleanup EXIT

CLIENT=$BUILD/bench/ninep_client
if [ ! -x "$CLIENT" ] || [ bench/ninep_client.c -nt "$CLIENT" ]; then
	CLIENT=$T/ninep_client
	${CC:-cc} -O2 -o "$CLIENT" bench/ninep_client.c
fi

if ! command -v diod >/dev/null && [ ! -x /usr/sbin/diod ]; then
	echo "bench/ninep: installing diod" >&2
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq diod >/dev/null ||
		{ $SUDO apt-get update -qq >/dev/null &&
		  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq diod >/dev/null; }
fi
DIOD=$(command -v diod || echo /usr/sbin/diod)

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() {
	for _ in $(seq 200); do
		python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
# a process's time on a CPU (ns), summed over its threads
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{c += $1} END {print c + 0}'; }
per_read_us() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.1f", (b - a) / 1e3 / n }'; }

# ---- jobd with job b; its cmd is the file ----
JPORT=$(free_port)
mkdir -p "$T/state" "$T/jobs.d"
printf '[job b]\ncommand = echo a small file served over 9P\n' >"$T/jobs.d/b.conf"
cat >"$T/jobd.conf" <<CONF
state_dir = $T/state
jobs_dir = $T/jobs.d
log_level = warn
ninep_listen = 127.0.0.1:$JPORT
CONF
export JOBD_SOCKET=$T/state/jobd.sock
"$BUILD/jobd" -c "$T/jobd.conf" 2>"$T/jobd.log" &
JOBD_PID=$!
wait_port "$JPORT" || { echo "jobd's 9P port did not open"; cat "$T/jobd.log"; exit 1; }

# ---- diod exporting a directory with the same bytes ----
mkdir -p "$T/export"
python3 tests/it/ninep.py --addr "127.0.0.1:$JPORT" --proto 9P2000.L read /jobs/b/cmd >"$T/export/cmd"
[ -s "$T/export/cmd" ] || { echo "reading /jobs/b/cmd from jobd gave nothing"; exit 1; }
DPORT=$(free_port)
"$DIOD" -f -n -l "127.0.0.1:$DPORT" -e "$T/export" -L "$T/diod.log" &
DIOD_PID=$!
wait_port "$DPORT" || { echo "diod did not start"; cat "$T/diod.log"; exit 1; }

# run PID PORT ANAME PATH WINDOW: "reads/s server-us client-us bytes";
# jobd and diod alternate, so that a change in the machine's load hits both
run() {
	local c0 out rate cl bytes
	c0=$(cpu_ns "$1")
	out=$("$CLIENT" "127.0.0.1:$2" "$3" "$4" "$N" "$5") || { echo "the client failed against port $2" >&2; exit 1; }
	read -r rate cl bytes <<<"$out"
	echo "$rate $(per_read_us "$c0" "$(cpu_ns "$1")" "$N") $cl $bytes"
}
r=$(run "$JOBD_PID" "$JPORT" "" /jobs/b/cmd 1)
read -r j1 j1_cpu j1_cl jbytes <<<"$r"
r=$(run "$DIOD_PID" "$DPORT" "$T/export" /cmd 1)
read -r d1 d1_cpu d1_cl dbytes <<<"$r"
r=$(run "$JOBD_PID" "$JPORT" "" /jobs/b/cmd "$W")
read -r jw jw_cpu jw_cl _ <<<"$r"
r=$(run "$DIOD_PID" "$DPORT" "$T/export" /cmd "$W")
read -r dw dw_cpu dw_cl _ <<<"$r"
[ "$jbytes" = "$dbytes" ] || echo "bench/ninep: jobd's file is $jbytes bytes, diod's $dbytes" >&2
if grep -qE 'ERROR|Sanitizer|runtime error' "$T/jobd.log"; then
	echo "jobd logged errors:"; grep -E 'ERROR|Sanitizer|runtime error' "$T/jobd.log" | head -5
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
BENCH_NAME=ninep
. "$(dirname "$0")/lib.sh"
echo "== bench/ninep: reads/s of a $jbytes-byte file, $N reads on one TCP connection, 9P2000.L ($(nproc) CPUs)"
bench_row 40 figure jobd diod ratio target ""
bench_row 40 "reads/s, 1 in flight (peer: diod)" "$j1" "$d1" "$(ratio "$j1" "$d1")" "" ""
bench_row 40 "reads/s, $W in flight (peer: diod)" "$jw" "$dw" "$(ratio "$jw" "$dw")" "" ""
printf '%-40s %9s %9s\n' "server CPU per read, 1 in flight" "$j1_cpu us" "$d1_cpu us"
printf '%-40s %9s %9s\n' "server CPU per read, $W in flight" "$jw_cpu us" "$dw_cpu us"
printf '%-40s %9s %9s\n' "client CPU per read, 1 in flight" "$j1_cl us" "$d1_cl us"
printf '%-40s %9s %9s\n' "client CPU per read, $W in flight" "$jw_cl us" "$dw_cl us"
echo "jobd: /jobs/b/cmd of job b; diod -f -n -e DIR: DIR/cmd with the same bytes."
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews both columns)"
