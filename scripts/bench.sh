#!/usr/bin/env bash
# make bench: runs every benchmark in bench/*.sh against BUILD_DIR (default
# build), then prints one table of all their figures (figure, jobd, peer,
# ratio, target) and stores it, with a description of the machine, in
# docs/benchmarks.md.  Each benchmark measures jobd next to its peer in the
# same run, so the ratios hold on any machine; a busy machine still skews
# them, which is why the load average is recorded too.  Last, the key
# figures beside the recorded ones of bench/baseline-2026-12-02.txt
# (bench/compare.sh: WORSE marks what is over BENCH_MARGIN % worse).
# Usage: scripts/bench.sh [BUILD_DIR] [NAME...]   (NAME: spawn, queue, ninep, ...)
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}; shift || true
export BENCH_ROWS; BENCH_ROWS=$(mktemp)
trap 'rm -f "$BENCH_ROWS"' EXIT
rc=0
benches=("$@"); [ ${#benches[@]} -gt 0 ] || benches=(bench/*.sh)
for b in "${benches[@]}"; do
	[ -f "$b" ] || b=bench/$b.sh
	[ "$(basename "$b")" = lib.sh ] && continue
	bash "$b" "$BUILD" || { echo "$b failed (exit $?)"; rc=1; }
	echo
done

table() {
	printf '| bench | figure | jobd | peer | ratio | target | |\n'
	printf '|---|---|---|---|---|---|---|\n'
	awk -F'|' '{ printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7 }' "$BENCH_ROWS"
}
echo "== summary"
column -t -s'|' "$BENCH_ROWS" 2>/dev/null || cat "$BENCH_ROWS"
BASELINE=bench/baseline-2026-12-02.txt
compared=$(bench/compare.sh "$BENCH_ROWS" "$BASELINE")
echo
echo "== this run beside $BASELINE (load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "$compared"

{
	echo "# Benchmarks"
	echo
	echo "The last results of \`make bench\` (\`scripts/bench.sh\`), written by it."
	echo "Every peer is measured in the same run on the same machine."
	echo
	echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ), jobd $(git describe --always --dirty 2>/dev/null)"
	echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
	echo "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	table
	echo
	echo "Each benchmark's own output explains its figures: \`bench/<name>.sh BUILD\`."
	echo
	echo "## Against the recorded figures"
	echo
	echo "The key figures of this run beside those of 2026-12-02, kept in"
	echo "[\`$BASELINE\`](../$BASELINE) (\`bench/compare.sh\`):"
	echo
	echo "$compared" | sed '$d'
	echo
	cat bench/README.md
} > docs/benchmarks.md
exit $rc
