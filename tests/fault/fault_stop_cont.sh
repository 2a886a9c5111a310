#!/usr/bin/env bash
# fault_stop_cont.sh — jobd stopped (SIGSTOP) for 10 s (short: 3 s) while
# runs are going and clients wait on it, then continued (SIGCONT): every
# waiting client gets its answer, every run finishes exactly once (a token
# ledger), a submit sent during the stop is answered and runs, and nothing
# is lost.
. "$(dirname "$0")/lib.sh"

STOP_S=$(size 3 10)
jobd_start "[targets]
fault = 4"
: >"$T/ledger"
jids=()
for i in $(seq 1 12); do
	jids+=("$(jobctl submit --target fault -- sh -c "sleep 0.$((i % 5 + 1)); echo tok$i >>$T/ledger")")
done
# started: running, or already done (its 0.2 s may be over by the time
# the twelve submits are, on a loaded machine)
started() { case $(field "$1" status) in running|done) return 0 ;; esac; return 1; }
retry_until 5 started "${jids[0]}" || fail "the first run starts"
# clients that wait: `jobctl wait` on four runs, `jobctl submit --wait`
for k in 0 5 11; do
	jobctl wait "${jids[$k]}" >"$T/wait.$k" 2>&1 &
	eval "wpid_$k=\$!"
done
kill -STOP "$JOBD_PID"
stopped_at=$SECONDS
# a submit while jobd is stopped: it blocks until the SIGCONT
jobctl submit --target fault --wait -- sh -c "echo tokS >>$T/ledger" >"$T/submit.out" 2>&1 &
spid=$!
sleep "$STOP_S"
state=$(awk '{print $3}' "/proc/$JOBD_PID/stat")
expect_eq "jobd is stopped (state T) for ${STOP_S}s" "$state" T
kill -0 "$spid" 2>/dev/null && pass "the submit waits while jobd is stopped" ||
	fail "the submit waits while jobd is stopped" "$(cat "$T/submit.out")"
kill -CONT "$JOBD_PID"

for k in 0 5 11; do
	eval "p=\$wpid_$k"
	wait "$p"; rc=$?
	expect_eq "jobctl wait ${jids[$k]} answers after SIGCONT (exit 0)" "$rc" 0
done
wait "$spid"; rc=$?
expect_eq "the submit made during the stop is answered and its run ok" "$rc" 0
all_done() { for j in "${jids[@]}"; do is_done "$j" || return 1; done; }
retry_until 30 all_done && pass "all 12 runs are done after SIGCONT" ||
	fail "all 12 runs are done after SIGCONT" "$(for j in "${jids[@]}"; do echo "$j $(field "$j" status)"; done)"
okc=0; for j in "${jids[@]}"; do [ "$(field "$j" result)" = ok ] && okc=$((okc + 1)); done
expect_eq "all 12 runs are ok" "$okc" 12
expect_eq "each token is in the ledger exactly once" "$(sort "$T/ledger" | tr '\n' ' ')" \
	"$( (seq 1 12 | sed 's/^/tok/'; echo tokS) | sort | tr '\n' ' ')"
ok "jobd answers status" jobctl status
expect_eq "nothing left waiting or running" "$(count_of waiting)/$(count_of running)" 0/0
fault_finish
