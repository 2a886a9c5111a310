#!/usr/bin/env bash
# fault_kill9.sh — kill -9 of jobd at seeded random moments while a
# workload of N runs goes through a target of concurrency 4; jobd is
# restarted (same config) after each kill, then left to finish.  Each run is
# `sh -c 'echo TOKEN >> LEDGER'` with a token of its own, submitted by a
# client pipelining `submit` requests (tests/fault/fclient.py kill9), which
# records every jid jobd acknowledged.  Asserts, per seed:
#   - every acknowledged jid is found by lookup and is done;
#   - a done run is ok with its token exactly once in the ledger, or LOST
#     (sig = LOST) and then it was running across one of the kills;
#   - no token appears twice in the ledger (nothing ran twice);
#   - every token in the ledger belongs to a submit that was sent; one whose
#     reply jobd could not send before dying ("in doubt") may have run once;
#   - nothing is left waiting or running.
# Sizes: full 10,000 runs x 20 seeds, short (FAULT_SHORT) 1,000 runs x 3
# seeds.  Seeds: FAULT_SEED (the first; the others follow), or from $RANDOM.
# A failure prints the seed: FAULT_SEED=S FAULT_SEEDS=1 reruns just it.
. "$(dirname "$0")/lib.sh"

N=${FAULT_RUNS:-$(size 1000 10000)}
SEEDS=${FAULT_SEEDS:-$(size 3 20)}
KILLS=${FAULT_KILLS:-4}
seed0=${FAULT_SEED:-$((RANDOM * 32768 + RANDOM))}

write_config "
[targets]
fault = 4"
for s in $(seq 0 $((SEEDS - 1))); do
	seed=$((seed0 + s))
	rm -rf "$T/state" "$T/ledger"; mkdir -p "$T/state"; : >"$T/ledger"
	out=$($FCLIENT kill9 --jobd "$JOBD" --conf "$T/jobd.conf" --ledger "$T/ledger" \
		--seed "$seed" --runs "$N" --kills "$KILLS" --target fault \
		--log "$T/jobd.log" --timeout 900 2>&1)
	if ! jq -e . >/dev/null 2>&1 <<<"$out"; then
		fail "seed $seed: the driver ran" "$out"; continue
	fi
	j() { jq -r "$1" <<<"$out"; }
	echo "seed $seed: $(j '"\(.runs) runs, \(.kills) kills, \(.acked) acked, \(.in_doubt) in doubt (\(.doubt_ran) ran), \(.lost) lost, \(.lock_retries) lock retries, \(.elapsed_s) s"')"
	bad=$(j '[.not_found_n, .not_done_n, .bad_result_n, .lost_not_at_kill_n,
	          .ok_not_once_n, .twice_n, .stray_n, .waiting_left, .running_left] | add')
	[ "$(j .submitted)" = "$N" ] && [ "$(j .submit_errors | jq length)" = 0 ] &&
		pass "seed $seed: every submit was sent and none refused" ||
		fail "seed $seed: every submit was sent and none refused" \
			"$(j '"submitted \(.submitted) of \(.runs), errors \(.submit_errors)"')"
	expect_eq "seed $seed: $(j .kills) kills happened" "$(j .kills)" "$KILLS"
	if [ "$bad" = 0 ]; then
		pass "seed $seed: nothing lost, nothing ran twice ($(j .acked) acked runs)"
	else
		fail "seed $seed: nothing lost, nothing ran twice (rerun: FAULT_SEED=$seed FAULT_SEEDS=1)" \
			"$(j '{not_found, not_done, bad_result, lost_not_at_kill, ok_not_once, twice, stray, waiting_left, running_left} | tostring')"
	fi
	# LOST only for runs caught running by a kill: at most 4 per kill
	lost=$(j .lost)
	[ "$lost" -le $((4 * KILLS)) ] && pass "seed $seed: $lost LOST <= 4 x kills" ||
		fail "seed $seed: $lost LOST <= 4 x kills"
done
grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$T/jobd.log" &&
	fail "jobd sanitizer-clean across restarts" "$(grep -m5 -E 'Sanitizer|runtime error' "$T/jobd.log")"
fault_finish
