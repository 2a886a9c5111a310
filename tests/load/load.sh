#!/usr/bin/env bash
# load.sh — many concurrent clients against one jobd for a bounded time:
# half on the Unix socket (status, submit of builtin no-op runs, lookup of
# the jid, runs --limit 5), half on the TCP wire face (status, poll, ping),
# all on this host.  Fails on an error reply, a dropped connection, or
# jobd's VmRSS growing over 10 % in the last half of the run (at most the
# last 30 s); prints p50/p99/max latency and requests/s.  Ends with
# "RESULT <passed> <failed>" like the black-box tests.
# Usage: tests/load/load.sh [BUILD_DIR]   (default: $JOBD_BUILD or build)
# Env: LOAD_SECONDS (60), LOAD_CLIENTS (1000); `make load` runs the full
# size, `make test` a short one (10 s, 200 clients).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
if [ $# -gt 0 ]; then
	case $1 in /*) JOBD_BUILD=$1 ;; *) JOBD_BUILD=$ROOT/$1 ;; esac
fi
export JOBD_BUILD=${JOBD_BUILD:-$ROOT/build}
SECS=${LOAD_SECONDS:-60}
CLIENTS=${LOAD_CLIENTS:-1000}
# shellcheck source=../it/lib.sh
. "$ROOT/tests/it/lib.sh"

# One fd per client in the client and in jobd, plus jobd's own.
want=$((CLIENTS + 256))
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=1048576
soft=$(( want > 4096 ? want : 4096 ))
[ "$soft" -le "$hard" ] || soft=$hard
[ "$(ulimit -Sn)" -ge "$soft" ] || ulimit -Sn "$soft" 2>/dev/null
if [ "$(ulimit -n)" -lt "$want" ]; then
	echo "note: open-files limit $(ulimit -n) < $want (hard $hard)"
fi

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$T/state" "$T/jobs.d"
cat >"$T/jobd.conf" <<CONF
state_dir = $T/state
jobs_dir = $T/jobs.d
log_level = warn
host = 127.0.0.1
port = $PORT
always_allow_localhost = true
CONF
JOBD_KEEP_CONFIG=1 jobd_start
if [ -z "$JOBD_PID" ] || ! kill -0 "$JOBD_PID" 2>/dev/null; then
	fail "jobd starts" "$(tail -20 "$T/jobd.log")"
	finish
	exit 1
fi

# The memory window: the last 30 s, or the last half of a shorter run.
window=$(( SECS / 2 < 30 ? SECS / 2 : 30 ))
[ "$window" -ge 3 ] || window=3
echo "load: $CLIENTS clients for $SECS s against jobd pid $JOBD_PID (port $PORT)"
python3 "$HERE/load_client.py" --socket "$JOBD_SOCKET" --port "$PORT" \
	--pid "$JOBD_PID" --clients "$CLIENTS" --seconds "$SECS" \
	--rss-window "$window" --rss-growth 0.10 >"$T/client.out" 2>&1
rc=$?
grep -vE '^(ok|FAIL) |^  ' "$T/client.out"
while IFS= read -r line; do
	case $line in
	"ok   "*) pass "${line#ok   }" ;;
	"FAIL "*) fail "${line#FAIL }" ;;
	"  "*)    echo "$line" ;;
	esac
done <"$T/client.out"
if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$T/client.out"; then
	fail "load client ran" "exit $rc" "$(tail -20 "$T/client.out")"
fi
if grep -qiE 'EMFILE|too many open files|ERROR|dropped' "$T/jobd.log"; then
	fail "jobd logged no errors under load" "$(grep -iE 'EMFILE|too many open files|ERROR|dropped' "$T/jobd.log" | head -5)"
else
	pass "jobd logged no errors under load"
fi
ok "jobd still answers jobctl after the load" jobctl status
finish
