#!/usr/bin/env bash
# jobd on the MariaDB/MySQL store (store = mysql://...): runs submitted,
# looked up and kept across a restart; recovery after kill -9; and two jobd
# workers sharing one table of the original queue daemon, given 5,000 rows
# (MYSQL_ROWS) INSERTed by another program and a `jobctl poll` each: every
# row runs exactly once, through the `launcher`.
# Needs JOBD_TEST_MYSQL (scripts/mariadb.sh start prints it) and the
# mariadb client; skips (RESULT 0 0) without them.
. "$(dirname "$0")/lib.sh"

mysql_db it
JOBD2_PID=""
cleanup_mysql() {
	[ -n "$JOBD2_PID" ] && kill -9 "$JOBD2_PID" 2>/dev/null
	sql -e "DROP DATABASE IF EXISTS \`$M_DB\`" 2>/dev/null
	cleanup
}
trap cleanup_mysql EXIT
url() { echo "mysql://$M_USER:$M_PASS@$M_HOST:$M_PORT/$M_DB?table=$1"; }
q() { sql "$M_DB" -e "$1"; }
jj() { local f=$1; shift; jobctl --json "$@" 2>/dev/null | jq -r "$f"; }
run_field() { jj ".run.$2" lookup "$1"; }
is_status() { [ "$(run_field "$1" status)" == "$2" ]; }

# --- submit, lookup, restart ----------------------------------------------
jobd_start "store = $(url runs_a)"$'\n[targets]\nslow = 1'
expect_match "status names the mysql store" "$(jobctl status 2>&1)" "mysql://$M_USER@$M_HOST:$M_PORT/$M_DB\?table=runs_a"
jid=$(jobctl submit -- sh -c 'printf "hello\tw\303\266rld"; exit 3' 2>/dev/null)
ok "submit prints a jid" test ${#jid} -eq 20
ok "the run finishes" retry_until 10 is_status "$jid" done
expect_eq "lookup: return code and result" \
	"$(jj '.run | "\(.return_code) \(.result)"' lookup "$jid")" "3 fail"
expect_eq "lookup: output" "$(jj '.run.stdout | @json' lookup "$jid")" '"hello\twörld"'
expect_eq "the original's columns: seconds, enums" \
	"$(q "SELECT CONCAT_WS(',', status, result, return_code, time_created > 1700000000, time_finished >= time_created, LENGTH(stdout)) FROM runs_a WHERE jid = '$jid'")" \
	"done,fail,3,1,1,12"
jn=$(jobctl submit -- sh -c 'printf "a\0b"' 2>/dev/null)
row_done() { [ "$(q "SELECT status FROM runs_a WHERE jid = '$1'")" == done ]; }
ok "a run with a NUL in its output finishes" retry_until 10 row_done "$jn"
expect_eq "the NUL byte is stored" "$(q "SELECT HEX(stdout) FROM runs_a WHERE jid = '$jn'")" 610062
out=$(jobctl --json lookup "$jn" 2>&1)
if [[ "$out" == *JSON_ALLOW_NUL* ]]; then
	# jobctl's JSON decoder refuses \u0000 (not the store's doing)
	echo "GAP jobctl lookup cannot decode output with a NUL byte: $out"
	[[ " ${JOBD_KNOWN_GAPS:-} " == *" jobctl-nul "* ]] || fail "lookup of output with a NUL byte" "$out"
else
	expect_eq "lookup: output with a NUL byte" "$(jq -r '.run.stdout | @json' <<<"$out")" '"a\u0000b"'
fi
jobd_stop
JOBD_KEEP_CONFIG=1 jobd_start
expect_eq "after a restart the run is still there" "$(run_field "$jid" status)" done
expect_eq "after a restart: its output too" "$(jj '.run.stdout | @json' lookup "$jid")" '"hello\twörld"'

# --- kill -9: running -> LOST, waiting runs run once ----------------------
jl=$(jobctl submit --target slow -- sleep 30 2>/dev/null)
ok "a long run is running" retry_until 10 is_status "$jl" running
w1=$(jobctl submit --target slow -- sh -c "echo w1 >> $T/waited" 2>/dev/null)
w2=$(jobctl submit --target slow -- sh -c "echo w2 >> $T/waited" 2>/dev/null)
expect_eq "two runs wait behind it" "$(run_field "$w1" status),$(run_field "$w2" status)" "waiting,waiting"
jobd_kill9
JOBD_KEEP_CONFIG=1 jobd_start
ok "the running run is settled" retry_until 10 is_status "$jl" done
expect_eq "... as LOST" "$(jj '.run | "\(.result) \(.sig)"' lookup "$jl")" "fail LOST"
ok "the waiting runs ran" retry_until 10 is_status "$w2" done
ok "... and the first" is_status "$w1" done
sleep 0.3
expect_eq "each waiting run ran once" "$(sort "$T/waited" | tr '\n' ' ')" "w1 w2 "
expect_eq "no sleep 30 left over" "$(pgrep -f "$T/.*sleep 30|^sleep 30$" | wc -l)" 0
jobd_stop

# --- two workers, one table, 5,000 foreign rows ----------------------------
ROWS=${MYSQL_ROWS:-5000}
cat > "$T/launch.sh" <<EOF
#!/bin/sh
echo "\$1" >> "$T/launched"
EOF
chmod +x "$T/launch.sh"
worker_conf() {   # worker_conf NAME DIR
	mkdir -p "$2/state"
	cat > "$2/jobd.conf" <<CONF
state_dir = $2/state
jobs_dir = $T/jobs.d
log_level = debug
name = $1
store = $(url runs_c)
launcher = $T/launch.sh {id}
[targets]
default = 4
CONF
}
worker_conf w1 "$T"
JOBD_KEEP_CONFIG=1 jobd_start
worker_conf w2 "$T/w2"
"$JOBD" -c "$T/w2/jobd.conf" >>"$T/jobd2.log" 2>&1 &
JOBD2_PID=$!
JOBD_SOCKET=$T/w2/state/jobd.sock retry_until 10 "$JOBCTL" status ||
	fail "second jobd starts" "$(tail -5 "$T/jobd2.log")"
vals=$(for i in $(seq 1 "$ROWS"); do printf "('default', UNIX_TIMESTAMP())%s" "$([ "$i" -lt "$ROWS" ] && echo ,)"; done)
# on stdin: 5,000 rows are more than one argument may hold
echo "INSERT INTO runs_c (target, time_created) VALUES $vals" | sql "$M_DB"
expect_eq "$ROWS rows inserted the original way" "$(q "SELECT COUNT(*) FROM runs_c WHERE status = 'waiting' AND jid IS NULL")" "$ROWS"
poll_out1=$(jobctl poll 2>&1); rc1=$?
poll_out2=$(JOBD_SOCKET=$T/w2/state/jobd.sock jobctl poll 2>&1); rc2=$?
if [ $rc1 -ne 0 ] && [[ "$poll_out1" =~ unknown|not\ (yet\ )?implemented ]]; then
	# the poll op is written by another engineer: a known gap until then
	echo "GAP jobctl poll is not available yet: $poll_out1"
	[[ " ${JOBD_KNOWN_GAPS:-} " == *" poll "* ]] || fail "jobctl poll works" "$poll_out1"
else
	expect_eq "poll to both workers succeeds" "$rc1,$rc2" "0,0"
	all_done() { [ "$(q "SELECT COUNT(*) FROM runs_c WHERE status = 'done'")" == "$ROWS" ]; }
	# a poll claims up to mysql_fetch_limit (100) rows, and more as the
	# queue empties; keep poking as the master would until all are done
	for i in $(seq 1 360); do
		all_done && break
		jobctl poll >/dev/null 2>&1
		JOBD_SOCKET=$T/w2/state/jobd.sock jobctl poll >/dev/null 2>&1
		sleep 0.5
	done
	ok "all $ROWS rows are done" all_done
	expect_eq "the launcher ran $ROWS times" "$(wc -l < "$T/launched" 2>/dev/null)" "$ROWS"
	expect_eq "each row exactly once" "$(sort -n "$T/launched" | uniq | wc -l)" "$ROWS"
	expect_eq "the launched ids are the rows' ids" \
		"$(sort -n "$T/launched" | tr '\n' ,)" "$(q "SELECT id FROM runs_c ORDER BY id" | tr '\n' ,)"
	expect_eq "every row ok, with a jid, by one of the workers" \
		"$(q "SELECT COUNT(*) FROM runs_c WHERE result = 'ok' AND jid IS NOT NULL AND worker IN ('w1', 'w2')")" "$ROWS"
	echo "note: rows per worker: $(q "SELECT GROUP_CONCAT(CONCAT(worker, '=', n)) FROM (SELECT worker, COUNT(*) n FROM runs_c GROUP BY worker) x")"
fi
kill -TERM "$JOBD2_PID" 2>/dev/null; wait "$JOBD2_PID" 2>/dev/null
expect_eq "second jobd exits cleanly" "$?" 0
JOBD2_PID=""
grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$T/jobd2.log" &&
	fail "second jobd sanitizer-clean" "$(grep -A5 -E 'Sanitizer|runtime error' "$T/jobd2.log" | head -20)"
finish
