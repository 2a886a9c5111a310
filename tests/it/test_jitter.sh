#!/usr/bin/env bash
# Jitter (docs/jobfiles.md `jitter`): a job file job `*/2 * * * * *` with
# `jitter = 1s` fires on every even second (time_created) and its runs
# start up to 1 s later, at random: each start lies 0..~1.1 s after its
# even second, and the offsets differ from run to run.  A job without
# jitter beside it fires on the same seconds.
# (A clock-step test needs root time changes: not done here.)
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/jobs.d"
cat >"$T/jobs.d/jit.conf" <<'EOF'
[job jit]
command = /bin/true
schedule = */2 * * * * *
jitter = 1s
overlap = allow

[job plain]
command = /bin/true
schedule = */2 * * * * *
EOF
jobd_start

expect_eq "the job file's jitter is the job's" \
	"$(jobctl --json show jit | jq -r '.job.jitter // .jitter')" "1s"

# the finished scheduled runs of a job: "created started" (unix seconds)
runs_of() {
	jobctl --json runs "$1" --limit 100 | jq -r '.runs[]
		| select(.trigger == "schedule" and .time_started != null)
		| [.time_created, .time_started]
		| map(sub("\\.(?<f>[0-9]+)Z$"; "Z") as $s | ($s | fromdate) +
		      ((capture("\\.(?<f>[0-9]+)Z$").f | "0." + .) | tonumber))
		| map(tostring) | join(" ")'
}
n_runs() { [ "$(runs_of jit | wc -l)" -ge "$1" ]; }
retry_until 25 n_runs 6 || fail "six jittered runs within 25 s" "$(jobctl runs jit 2>&1)"

data=$(runs_of jit)
echo "$data" | head -10 | sed 's/^/  created started: /'
# one line: "n bad_created bad_started spread_ms" over the runs
read -r n bad_c bad_s spread <<<"$(awk '
	{ due = int($1); off = $2 - due
	  if (due % 2 != 0 || $1 - due > 0.5) bc++
	  if (off < 0 || off > 1.1) bs++
	  if (NR == 1 || off < lo) lo = off
	  if (NR == 1 || off > hi) hi = off; n++ }
	END { printf "%d %d %d %d\n", n, bc + 0, bs + 0, (hi - lo) * 1000 }' <<<"$data")"
expect_eq "jittered runs fire on even seconds (time_created)" "$bad_c" 0
expect_eq "jittered runs start 0..1.1 s after their second" "$bad_s" 0
if [ "$spread" -ge 20 ]; then
	pass "jittered runs start at different offsets (spread ${spread} ms over $n runs)"
else
	fail "jittered runs start at different offsets" "spread ${spread} ms over $n runs" "$data"
fi

# the job without jitter fires on the same even seconds
plain_bad=$(runs_of plain | awk '{ due = int($1); if (due % 2 != 0 || $2 - due > 1.1) b++ } END { print b + 0 }')
expect_eq "the job without jitter also fires on even seconds" "$plain_bad" 0
finish
