#!/usr/bin/env bash
# Runs the fault scenarios of tests/fault (a real jobd under kill -9,
# SIGSTOP, a full or read-only disk, clock steps, ...; docs/reliability.md),
# one line per scenario, then `RESULT <passed> <failed>`.
# Usage: scripts/fault.sh [--short] [BUILD_DIR] [scenario...]
#   --short (or FAULT_SHORT=1): the small sizes `make test` uses.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --short ]; then export FAULT_SHORT=1; shift; fi
BUILD=${1:-build}; shift || true
export JOBD_BUILD=${JOBD_BUILD:-$PWD/$BUILD}
passed=0; failed=0
scen=("$@"); [ ${#scen[@]} -gt 0 ] || scen=(tests/fault/fault_*.sh)
for t in "${scen[@]}"; do
	[ -f "$t" ] || t=tests/fault/fault_$t.sh
	log=$(mktemp)
	t0=$SECONDS
	timeout "${FAULT_TIMEOUT:-3600}" bash "$t" >"$log" 2>&1; rc=$?
	line=$(grep -E '^RESULT [0-9]+ [0-9]+$' "$log" | tail -1)
	p=$(cut -d' ' -f2 <<<"${line:-RESULT 0 1}"); f=$(cut -d' ' -f3 <<<"${line:-RESULT 0 1}")
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	s=$(grep -c '^SKIP ' "$log")
	printf '%-28s %3d passed, %d failed%s (%ds)\n' "$(basename "$t" .sh)" "$p" "$f" \
		"$([ "$s" -eq 0 ] || echo ", $s skipped")" $((SECONDS - t0))
	grep -E '^(SKIP|seed |note:)' "$log" | sed 's/^/    /'
	[ "$f" -eq 0 ] || grep -E '^(FAIL|  )' "$log" | head -40
	passed=$((passed + p)); failed=$((failed + f))
	rm -f "$log"
done
echo "RESULT $passed $failed"
[ "$failed" -eq 0 ]
