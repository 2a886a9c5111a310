#!/usr/bin/env bash
# fault_big_output.sh — a run printing 1 GB (short: 200 MB) on stdout with
# the default output_cap (1 MiB): the run ends ok, the stored stdout is
# exactly output_cap bytes with stdout_truncated = true, and jobd's RSS
# (VmRSS sampled every 0.1 s during the run) stays below 64 MiB.
. "$(dirname "$0")/lib.sh"

BYTES=$(size 200M 1G)
CAP=$((1 << 20))
jobd_start
rss0=$(rss_kib)
rss_sampler_start "$T/rss"
jid=$(jobctl submit -- sh -c "head -c $BYTES /dev/zero | tr '\\0' x; echo done >&2")
retry_until 300 is_done "$jid" && pass "the $BYTES run finishes" ||
	fail "the $BYTES run finishes" "$(field "$jid" status)"
rss_sampler_stop
js=$(jobctl lookup --json "$jid")
expect_eq "it is ok" "$(jq -r '.run.result' <<<"$js")" ok
expect_eq "stored stdout is exactly output_cap ($CAP) bytes" \
	"$(jq -j '.run.stdout' <<<"$js" | wc -c)" "$CAP"
expect_eq "stored stdout is all x" "$(jq -j '.run.stdout' <<<"$js" | tr -d x | wc -c)" 0
expect_eq "stdout_truncated = true" "$(jq -r '.run.stdout_truncated' <<<"$js")" true
expect_eq "stderr is complete, not truncated" \
	"$(jq -r '"\(.run.stderr)/\(.run.stderr_truncated)"' <<<"$js")" "done
/false"
max=$(rss_max "$T/rss")
n=$(wc -l <"$T/rss")
echo "RSS: before ${rss0} KiB, max ${max} KiB over $n samples"
[ "$n" -ge 3 ] && [ "$max" -lt $((64 * 1024)) ] &&
	pass "jobd's RSS stays below 64 MiB (max ${max} KiB, $n samples)" ||
	fail "jobd's RSS stays below 64 MiB (max ${max} KiB, $n samples)"
ok "jobd still answers" jobctl status
fault_finish
