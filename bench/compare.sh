#!/usr/bin/env bash
# bench/compare.sh ROWS [BASELINE] — the key figures of this run (ROWS, as
# bench/lib.sh writes them) beside the recorded ones (default
# bench/baseline-2026-12-02.txt), as a Markdown table.  Each key figure is
# compared twice: jobd's own figure with the recorded one, and jobd's ratio
# to its peer measured in this same run with the recorded ratio (the peer
# takes the machine's speed and load out, so that one is the fairer
# comparison on a busy machine).  A figure more than BENCH_MARGIN percent
# (default 20) worse than recorded is marked WORSE; a lateness in ms also
# needs to be over 0.5 ms worse, as sub-millisecond figures swing more than
# that between runs.  Prints the number of WORSE marks on the last line
# ("worse: N"); always exits 0 (a shared machine's noise is no failure).
set -uo pipefail
rows=$1
base=${2:-$(dirname "$0")/baseline-2026-12-02.txt}
margin=${BENCH_MARGIN:-20}
label=$(basename "$base" .txt); label=${label#baseline-}
awk -F'|' -v m="$margin" -v label="$label" '
function num(s) { return (match(s, /^ *-?[0-9.]+/) ? substr(s, RSTART, RLENGTH) + 0 : "") }
function pct(now, was) { return was == 0 ? "-" : sprintf("%+.0f%%", (now - was) * 100 / was) }
# 1 when `now` is worse than `was` by more than the margin
function worse(now, was, better, fig) {
	if (now == "" || was == "" || was == 0) return 0
	if (better == "higher") return now < was * (1 - m / 100)
	if (fig ~ /\(ms\)/ && now - was <= 0.5) return 0
	return now > was * (1 + m / 100)
}
FNR == NR {   # the baseline
	if ($0 ~ /^#/ || NF < 8) next
	key = $1 "|" $2
	bj[key] = $3; br[key] = $5; bb[key] = $8; order[++n] = key
	next
}
{ key = $1 "|" $2; nj[key] = $3; np[key] = $4; nr[key] = $5; seen[key] = 1
  if (!(key in bb)) { order[++n] = key; bb[key] = "new" } }
END {
	printf "| bench | figure | jobd | peer | ratio | jobd %s | ratio %s | jobd change | ratio change | |\n", label, label
	print "|---|---|---|---|---|---|---|---|---|---|"
	bad = 0
	for (i = 1; i <= n; i++) {
		key = order[i]; split(key, k, "|"); b = bb[key]
		if (b == "-") continue
		if (b == "new") {
			printf "| %s | %s | %s | %s | %s | - | - | | | new |\n", k[1], k[2], nj[key], np[key], nr[key]
			continue
		}
		if (!(key in seen)) {
			printf "| %s | %s | - | - | - | %s | %s | | | not measured |\n", k[1], k[2], bj[key], br[key]
			continue
		}
		mark = ""
		if (worse(num(nj[key]), num(bj[key]), b, k[2])) mark = "WORSE"
		if (worse(num(nr[key]), num(br[key]), "higher", "")) mark = mark (mark ? ", " : "") "WORSE vs peer"
		if (mark) bad++
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", k[1], k[2], nj[key], np[key], nr[key],
			bj[key], br[key], pct(num(nj[key]), num(bj[key])),
			(num(nr[key]) != "" && num(br[key]) != "") ? pct(num(nr[key]), num(br[key])) : "", mark
	}
	printf "\nWORSE: more than %d%% worse than recorded (%s %s is better; lateness in ms also by more than 0.5 ms); ratio = jobd against the peer of the same run (for lateness: peer / jobd), higher is better.\n", m, "higher or lower as", "the baseline says"
	printf "worse: %d\n", bad
}' "$base" "$rows"
