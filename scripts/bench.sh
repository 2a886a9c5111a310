#!/usr/bin/env bash
# Runs every benchmark in bench/*.sh against BUILD_DIR (default build) and
# prints their tables.  Usage: scripts/bench.sh [BUILD_DIR]
# Each benchmark measures jobd next to a peer in the same run, so the
# ratios hold on any machine; a busy machine still skews them.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
rc=0
for b in bench/*.sh; do
	[ -f "$b" ] || continue
	bash "$b" "$BUILD" || { echo "$b failed (exit $?)"; rc=1; }
	echo
done
exit $rc
