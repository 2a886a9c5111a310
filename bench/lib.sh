# bench/lib.sh — what every benchmark shares: one row format, printed for
# people and, when scripts/bench.sh collects them ($BENCH_ROWS), appended
# as "bench|figure|jobd|peer|ratio|target|verdict" for the summary table.
# bench_row WIDTH FIGURE JOBD PEER RATIO TARGET VERDICT
bench_row() {
	local w=$1; shift
	printf "%-${w}s %14s %14s %7s %10s %s\n" "$1" "$2" "$3" "$4" "$5" "${6:-}"
	[ -z "${BENCH_ROWS:-}" ] || [ "$1" = figure ] ||
		printf '%s|%s|%s|%s|%s|%s|%s\n' "${BENCH_NAME:-?}" "$1" "$2" "$3" \
			"$4" "$5" "${6:-}" >>"$BENCH_ROWS"
}
