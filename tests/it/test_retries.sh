#!/usr/bin/env bash
# Retries: a failed run is tried again, each attempt its own run linked to
# the first, not before backoff * 2^(attempt-1); a run that succeeds is not.
. "$(dirname "$0")/lib.sh"
jobd_start

runs_json() { jobctl runs "$1" --limit 10 --json; }
n_done() { [ "$(runs_json "$1" | jq '[.runs[] | select(.status == "done")] | length')" -ge "$2" ]; }

ok "create a failing job with 2 retries" \
	jobctl create flaky --retries 2 --backoff 1s -- sh -c 'echo try; exit 1'
expect_code 1 "run: the first attempt fails with its code" jobctl run flaky
retry_until 15 n_done flaky 3 && pass "two retries follow" ||
	fail "two retries follow" "$(jobctl runs flaky)"
sleep 1.5
j=$(runs_json flaky)
expect_eq "exactly 3 attempts, no fourth" "$(jq '.runs | length' <<<"$j")" 3
expect_eq "attempts 1, 2, 3" "$(jq -r '[.runs[].attempt] | sort | map(tostring) | join(",")' <<<"$j")" "1,2,3"
first=$(jq -r '.runs[] | select(.attempt == 1) | .jid' <<<"$j")
expect_eq "retries are linked to the first attempt" \
	"$(jq -r '[.runs[] | select(.attempt > 1) | .parent] | unique | join(",")' <<<"$j")" "$first"
expect_eq "retries have trigger retry" \
	"$(jq -r '[.runs[] | select(.attempt > 1) | .trigger] | unique | join(",")' <<<"$j")" retry
# backoff: attempt 2 waits >= 1 s after attempt 1 ended, attempt 3 >= 2 s
gap() { python3 - "$j" "$1" <<'PY'
import json, sys, datetime
runs = {r["attempt"]: r for r in json.loads(sys.argv[1])["runs"]}
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
a = int(sys.argv[2])
print("%.2f" % (t(runs[a]["time_started"]) - t(runs[a - 1]["time_finished"])))
PY
}
g2=$(gap 2); g3=$(gap 3)
awk -v g="$g2" 'BEGIN { exit !(g >= 0.95 && g < 3) }' && pass "attempt 2 after ~1 s ($g2 s)" ||
	fail "attempt 2 after ~1 s" "gap $g2 s"
awk -v g="$g3" 'BEGIN { exit !(g >= 1.95 && g < 5) }' && pass "attempt 3 after ~2 s ($g3 s)" ||
	fail "attempt 3 after ~2 s" "gap $g3 s"

ok "create a job that succeeds" jobctl create fine --retries 3 -- true
ok "run it" jobctl run fine
sleep 0.5
expect_eq "a successful run is not retried" "$(runs_json fine | jq '.runs | length')" 1

jid=$(jobctl submit --retries 1 -- sh -c 'exit 2')
retry_until 20 sh -c "[ \$(\"$JOBCTL\" runs --limit 20 --json | jq '[.runs[] | select(.parent == \"$jid\")] | length') -ge 1 ]" &&
	pass "submit --retries retries an ad-hoc command" ||
	fail "submit --retries retries an ad-hoc command" "$(jobctl runs)"
finish
