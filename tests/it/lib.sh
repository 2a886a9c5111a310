# lib.sh — the black-box test harness: a real jobd in a temp state dir, the
# real jobctl, and pass/fail counting.  Source it from tests/it/test_*.sh:
#   . "$(dirname "$0")/lib.sh"
#   jobd_start [extra config lines]
#   ok "creates a job" jobctl create x -- /bin/true
#   expect_code 4 "unknown jid" jobctl lookup 00000000000000000000
#   finish
set -u
BUILD=${JOBD_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
JOBD=$BUILD/jobd
JOBCTL=$BUILD/jobctl
T=$(mktemp -d /tmp/jobd-it.XXXXXX)
export JOBD_SOCKET=$T/state/jobd.sock
PASS=0; FAIL=0
JOBD_PID=""

jobctl() { "$JOBCTL" "$@"; }

pass() { PASS=$((PASS + 1)); echo "ok   $1"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL $1"; shift; for l in "$@"; do echo "  $l"; done; }

# ok NAME CMD...: CMD exits 0
ok() { local n=$1; shift; local out; out=$("$@" 2>&1); local rc=$?
	if [ $rc -eq 0 ]; then pass "$n"; else fail "$n" "exit $rc: $*" "$out"; fi; }
# expect_code CODE NAME CMD...
expect_code() { local c=$1 n=$2; shift 2; local out; out=$("$@" 2>&1); local rc=$?
	if [ $rc -eq "$c" ]; then pass "$n"; else fail "$n" "exit $rc, want $c: $*" "$out"; fi; }
# expect_eq NAME GOT WANT
expect_eq() { if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "got:  $2" "want: $3"; fi; }
# expect_match NAME TEXT REGEX
expect_match() { if [[ "$2" =~ $3 ]]; then pass "$1"; else fail "$1" "text: ${2:0:400}" "want match: $3"; fi; }
# retry_until SECONDS CMD...: polls CMD every 0.05 s
retry_until() { local end=$((SECONDS + $1)); shift
	while ! "$@" >/dev/null 2>&1; do [ $SECONDS -lt $end ] || return 1; sleep 0.05; done; }

write_config() {
	mkdir -p "$T/state" "$T/jobs.d"
	cat > "$T/jobd.conf" <<CONF
state_dir = $T/state
jobs_dir = $T/jobs.d
log_level = debug
$*
CONF
}

# jobd_start [config lines...]: writes the config (unless JOBD_KEEP_CONFIG)
# and starts jobd, waiting until its socket answers.
jobd_start() {
	[ -n "${JOBD_KEEP_CONFIG:-}" ] || write_config "$@"
	$JOBD_WRAP "$JOBD" -c "$T/jobd.conf" >>"$T/jobd.log" 2>&1 &
	JOBD_PID=$!
	retry_until 10 "$JOBCTL" status || { echo "jobd did not start:"; tail -20 "$T/jobd.log"; }
}
JOBD_WRAP=${JOBD_WRAP:-}

jobd_stop() {   # graceful: SIGTERM, wait
	[ -n "$JOBD_PID" ] || return 0
	kill -TERM "$JOBD_PID" 2>/dev/null; wait "$JOBD_PID" 2>/dev/null; local rc=$?
	JOBD_PID=""; return $rc
}
jobd_kill9() { [ -n "$JOBD_PID" ] && kill -9 "$JOBD_PID" 2>/dev/null; wait "$JOBD_PID" 2>/dev/null; JOBD_PID=""; }

cleanup() {
	[ -n "$JOBD_PID" ] && kill -9 "$JOBD_PID" 2>/dev/null
	pkill -9 -f "$T/" 2>/dev/null
	[ -n "${KEEP_T:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

# mysql_db SUFFIX: a fresh database on the MariaDB of JOBD_TEST_MYSQL
# (scripts/test.sh starts one): sets M_USER M_PASS M_HOST M_PORT M_DB and
# `sql` (the mariadb client on it); the caller drops it on exit.  Without
# JOBD_TEST_MYSQL or the client the test is skipped (RESULT 0 0).
mysql_db() {
	if [ -z "${JOBD_TEST_MYSQL:-}" ] || ! command -v mariadb >/dev/null; then
		echo "note: JOBD_TEST_MYSQL unset or no mariadb client: MariaDB tests skipped"
		echo "RESULT 0 0"
		exit 0
	fi
	local re='^mysql://([^:]+):([^@]+)@([^:/]+):([0-9]+)/([^?]+)$'
	[[ "$JOBD_TEST_MYSQL" =~ $re ]] || { echo "JOBD_TEST_MYSQL is not mysql://U:P@H:PORT/DB"; echo "RESULT 0 1"; exit 1; }
	M_USER=${BASH_REMATCH[1]} M_PASS=${BASH_REMATCH[2]} M_HOST=${BASH_REMATCH[3]}
	M_PORT=${BASH_REMATCH[4]} M_DB=${BASH_REMATCH[5]}_$1_$$
	sql -e "CREATE DATABASE \`$M_DB\`" || { echo "cannot create database $M_DB"; echo "RESULT 0 1"; exit 1; }
}
sql() { mariadb --no-defaults -u"$M_USER" -p"$M_PASS" -h"$M_HOST" -P"$M_PORT" \
	--protocol=tcp -N -B "$@"; }

finish() {
	if [ -n "$JOBD_PID" ]; then
		jobd_stop || fail "jobd exits cleanly" "see $T/jobd.log"
	fi
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$T/jobd.log" 2>/dev/null; then
		fail "jobd sanitizer-clean" "$(grep -A5 -E 'Sanitizer|runtime error' "$T/jobd.log" | head -20)"
	fi
	echo "RESULT $PASS $FAIL"
}
