# lib.sh — the fault tests' harness: tests/it/lib.sh (a real jobd in a temp
# state dir, jobctl, ok/expect_*/retry_until/finish) plus what the fault
# scenarios need.  Source it from tests/fault/fault_*.sh:
#   . "$(dirname "$0")/lib.sh"
# FAULT_SHORT=1 (scripts/fault.sh --short, make test) selects the short
# sizes: `size SHORT FULL` prints the one that applies.
. "$(dirname "${BASH_SOURCE[0]}")/../it/lib.sh"
FAULT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FCLIENT="python3 $FAULT_DIR/fclient.py"
FAULT_SHORT=${FAULT_SHORT:-}
SKIPPED=0

size() { if [ -n "$FAULT_SHORT" ]; then echo "$1"; else echo "$2"; fi; }

# skip NAME REASON: a scenario (or part) that cannot run here; counted
# neither passed nor failed, printed so the runner shows it.
skip() { SKIPPED=$((SKIPPED + 1)); echo "SKIP $1: $2"; }

is_root() { [ "$(id -u)" -eq 0 ]; }

field() {   # field JID KEY: one field of `lookup --json`
	jobctl lookup --json "$1" 2>/dev/null | jq -r ".run.$2"
}
is_done() { [ "$(field "$1" status)" = done ]; }
is_running() { [ "$(field "$1" status)" = running ]; }
jobd_alive() { [ -n "$JOBD_PID" ] && kill -0 "$JOBD_PID" 2>/dev/null; }

# rss_kib [PID]: VmRSS of jobd (or PID) in KiB
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/${1:-$JOBD_PID}/status" 2>/dev/null; }

# rss_sampler_start FILE: writes jobd's VmRSS (KiB) to FILE every 0.1 s until
# rss_sampler_stop; rss_max FILE prints the largest sample.
RSS_SAMPLER=""
rss_sampler_start() {
	local pid=$JOBD_PID f=$1
	( while kill -0 "$pid" 2>/dev/null; do rss_kib "$pid" >>"$f"; sleep 0.1; done ) &
	RSS_SAMPLER=$!
}
rss_sampler_stop() { [ -z "$RSS_SAMPLER" ] || { kill "$RSS_SAMPLER" 2>/dev/null; wait "$RSS_SAMPLER" 2>/dev/null; }; RSS_SAMPLER=""; }
rss_max() { sort -n "$1" | tail -1; }

# counts of the daemon: waiting / running (status --json)
count_of() { jobctl status --json 2>/dev/null | jq -r ".counts.$1"; }
drained() { [ "$(count_of waiting)" = 0 ] && [ "$(count_of running)" = 0 ]; }

# lookup_all < jids: one compact JSON run a line (see fclient.py lookup)
lookup_all() { $FCLIENT lookup; }

# the fault finish: the it finish plus the number skipped
fault_finish() {
	[ "$SKIPPED" -eq 0 ] || echo "skipped: $SKIPPED"
	finish
}
