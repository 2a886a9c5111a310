#!/usr/bin/env bash
# fault_daemonize.sh — a child that starts a daemon and exits.
#   - `setsid sleep 300 &`: the daemon leaves the run's process group and
#     session.  The run ends promptly (within ~1.5 s: jobd waits up to 1 s
#     for the pipes, which the daemon keeps open) with its output; jobd does
#     not kill the daemon on a normal exit: it stays alive, in its own group.
#   - `sleep 300 &` without setsid: the same prompt end; the daemon is still
#     in the run's process group, and a normal exit does not kill it either.
#     (stop/kill/timeouts signal the group, so they would reach it.)
. "$(dirname "$0")/lib.sh"

TOK=$$$RANDOM
trap 'cleanup; pkill -9 -f "^sleep 30[01]\.$TOK\$"' EXIT
jobd_start
sleepers() { pgrep -x -f "sleep $1" 2>/dev/null; }

for mode in setsid plain; do
	if [ $mode = setsid ]; then pre="setsid "; n=300; else pre=""; n=301; fi
	t0=$(date +%s%N)
	out=$(jobctl submit --wait -- sh -c "${pre}sleep $n.$TOK & echo started" 2>&1); rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	expect_eq "$mode: submit --wait exits 0" "$rc" 0
	[ "$ms" -lt 1500 ] && pass "$mode: the run finishes promptly (${ms} ms < 1500)" ||
		fail "$mode: the run finishes promptly (${ms} ms < 1500)"
	jid=$(jobctl runs --json --limit 1 | jq -r '.runs[0].jid')
	expect_eq "$mode: its stdout is kept" "$(field "$jid" stdout)" started
	expect_eq "$mode: it is done/ok" "$(field "$jid" status)/$(field "$jid" result)" done/ok
	dpid=$(sleepers "$n.$TOK")
	[ -n "$dpid" ] && pass "$mode: the daemon child survives the run's normal exit" ||
		fail "$mode: the daemon child survives the run's normal exit"
	rpid=$(field "$jid" pid)
	if [ -n "$dpid" ]; then
		dpg=$(ps -o pgid= -p "$dpid" | tr -d ' ')
		if [ $mode = setsid ]; then
			[ "$dpg" != "$rpid" ] && pass "setsid: the daemon is not in the run's group" ||
				fail "setsid: the daemon is not in the run's group" "pgid $dpg run pid $rpid"
		else
			expect_eq "plain: the daemon stays in the run's group" "$dpg" "$rpid"
		fi
		kill -9 "$dpid"
	fi
done
fault_finish
