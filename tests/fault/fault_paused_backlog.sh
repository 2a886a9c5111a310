#!/usr/bin/env bash
# fault_paused_backlog.sh — 10,000 waiting runs (short: 2,000) behind a
# paused target, then `jobctl continue`: every run ends done/ok exactly
# once, nothing is left waiting, and jobd's RSS stays reasonable (< 128
# MiB with the backlog; a run is a small struct, not a process).  The runs
# are builtin no-op runs ("builtin": "true" in the submit request, pipelined
# over the socket) plus 50 `sh` runs appending a token to a ledger, which
# shows "exactly once" for real processes too.
. "$(dirname "$0")/lib.sh"

N=$(size 2000 10000)
jobd_start "[targets]
fault = 4"
ok "pause the target" jobctl pause fault
$FCLIENT submit "$N" --target fault --builtin true >"$T/jids" 2>"$T/submit.err"
expect_eq "$N builtin submits acknowledged" "$(grep -cE '^[0-9]{20}$' "$T/jids")" "$N"
: >"$T/ledger"
for i in $(seq 1 50); do
	jobctl submit --target fault -- sh -c "echo tok$i >>$T/ledger" >>"$T/jids"
done
total=$((N + 50))
expect_eq "the target holds all $total runs waiting" \
	"$(jobctl status --json | jq '.targets.fault | "\(.length)/\(.running)"')" "\"$total/0\""
sleep 0.5
expect_eq "paused: nothing ran" "$(wc -l <"$T/ledger")" 0
rss_backlog=$(rss_kib)
rss_sampler_start "$T/rss"
ok "continue the target" jobctl continue fault
retry_until 120 drained && pass "the backlog drains" ||
	fail "the backlog drains" "$(jobctl status --json | jq -c .counts)"
rss_sampler_stop
lookup_all <"$T/jids" >"$T/runs"
expect_eq "all $total runs are found and done/ok" \
	"$(jq -r '"\(.status)/\(.result)"' "$T/runs" | sort | uniq -c | awk '{print $1, $2}')" "$total done/ok"
expect_eq "no jid twice" "$(sort "$T/jids" | uniq -d | wc -l)" 0
expect_eq "each sh run ran exactly once" "$(sort -V "$T/ledger" | tr '\n' ' ')" \
	"$(seq 1 50 | sed 's/^/tok/' | tr '\n' ' ')"
max=$(rss_max "$T/rss")
echo "RSS with the backlog ${rss_backlog} KiB, max while draining ${max} KiB"
[ "$max" -lt $((128 * 1024)) ] && pass "jobd's RSS stays below 128 MiB (max ${max} KiB)" ||
	fail "jobd's RSS stays below 128 MiB (max ${max} KiB)"
fault_finish
