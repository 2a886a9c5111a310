#!/usr/bin/env bash
# Metrics (issue 15): `jobctl metrics` prints the Prometheus text of a
# real jobd after runs that pass, fail and are cancelled in two targets,
# with a scheduled job firing; the counts are the runs', the queue gauges
# the targets', and `promtool check metrics` (Debian's prometheus) finds
# nothing wrong in the page.  The HTTP face serves the same page at
# /metrics (curl, promtool again).
. "$(dirname "$0")/lib.sh"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TOKEN=metrics-token-0123456789
URL=http://127.0.0.1:$PORT
jobd_start "$(printf 'http_listen = 127.0.0.1:%s\nhttp_token = %s\n[targets]\nalpha = 2\nbeta = 1\n' "$PORT" "$TOKEN")"

M="$T/metrics.txt"
scrape() { jobctl metrics >"$M"; }
# the value of the sample whose line starts with $1 (name{labels}), or
# "none"
val() { scrape; awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "none" }' "$M"; }
val_is() { [ "$(val "$1")" == "$2" ]; }
val_ge() { local v; v=$(val "$1"); [ "$v" != none ] && [ "${v%%.*}" -ge "$2" ]; }

ok "jobctl metrics answers before any run" scrape
expect_match "a fresh page has the build info" "$(cat "$M")" \
	'jobd_build_info\{version="[^"]+"\} 1'
expect_match "a fresh page has the targets' slots" "$(cat "$M")" \
	'jobd_target_slots\{target="alpha"\} 2'

jobctl create good --target alpha -- /bin/true >/dev/null
jobctl create bad --target beta --shell -- 'exit 3' >/dev/null
jobctl run good >/dev/null 2>&1
jobctl run good >/dev/null 2>&1
jobctl run bad >/dev/null 2>&1
jobctl submit --target beta --wait -- /bin/true >/dev/null 2>&1
# a run that never starts: waits for its instant, then is cancelled
jid=$(jobctl submit --target alpha --at now+1h -- /bin/true)
expect_eq "a run waiting for its instant is queued in alpha" \
	"$(val 'jobd_queue_waiting{target="alpha"}')" 1
jobctl cancel "$jid" >/dev/null
expect_eq "the cancelled run left alpha's queue" \
	"$(val 'jobd_queue_waiting{target="alpha"}')" 0

started='jobd_runs_started_total'
finished='jobd_runs_finished_total'
expect_eq "good started twice in alpha" \
	"$(val "$started{job=\"good\",target=\"alpha\"}")" 2
expect_eq "good finished ok twice" \
	"$(val "$finished{job=\"good\",target=\"alpha\",result=\"ok\"}")" 2
expect_eq "good failed never" \
	"$(val "$finished{job=\"good\",target=\"alpha\",result=\"fail\"}")" 0
expect_eq "bad started once in beta" \
	"$(val "$started{job=\"bad\",target=\"beta\"}")" 1
expect_eq "bad finished fail once" \
	"$(val "$finished{job=\"bad\",target=\"beta\",result=\"fail\"}")" 1
expect_eq "bad is not counted in alpha" \
	"$(val "$started{job=\"bad\",target=\"alpha\"}")" none
expect_eq "a submit counts under job (submit)" \
	"$(val "$finished{job=\"(submit)\",target=\"beta\",result=\"ok\"}")" 1
expect_eq "the cancelled submit counts as cancelled" \
	"$(val "$finished{job=\"(submit)\",target=\"alpha\",result=\"cancelled\"}")" 1
expect_eq "the cancelled submit never started" \
	"$(val "$started{job=\"(submit)\",target=\"alpha\"}")" 0
expect_eq "alpha's durations: the two runs of good" \
	"$(val 'jobd_run_duration_seconds_count{target="alpha"}')" 2
expect_eq "alpha's durations: +Inf bucket is the count" \
	"$(val 'jobd_run_duration_seconds_bucket{target="alpha",le="+Inf"}')" 2
expect_eq "beta's durations: bad and the submit" \
	"$(val 'jobd_run_duration_seconds_count{target="beta"}')" 2
expect_eq "a whole bucket bound is written whole (le=\"86400\")" \
	"$(val 'jobd_run_duration_seconds_bucket{target="alpha",le="86400"}')" 2
expect_eq "beta's slots" "$(val 'jobd_target_slots{target="beta"}')" 1
expect_eq "nothing running in beta now" \
	"$(val 'jobd_queue_running{target="beta"}')" 0
ok "store commits were timed" val_ge jobd_store_commit_seconds_count 1
ok "the resident memory is reported" val_ge process_resident_memory_bytes 1
start=$(val process_start_time_seconds)
now=$(date +%s)
ok "the start time is in the last hour" \
	test "$start" -le "$now" -a "$start" -gt $((now - 3600))

# a running run holds a slot
jobctl create slow --target beta -- sleep 30 >/dev/null
sjid=$(jobctl run slow --no-wait)
ok "a running run shows in beta's running gauge" \
	retry_until 10 val_is 'jobd_queue_running{target="beta"}' 1
jobctl kill "$sjid" >/dev/null
retry_until 10 val_is 'jobd_queue_running{target="beta"}' 0

# the scheduler's lateness: fires of an @every job
jobctl create tick --schedule '@every 1s' -- /bin/true >/dev/null
ok "scheduled fires are timed (lateness histogram)" \
	retry_until 20 val_ge jobd_schedule_lateness_seconds_count 2
ok "the scheduled job's runs are counted" \
	retry_until 20 val_ge "$started{job=\"tick\",target=\"default\"}" 1

# the page as Prometheus reads it
scrape
if command -v promtool >/dev/null; then
	out=$(promtool check metrics <"$M" 2>&1); rc=$?
	expect_eq "promtool check metrics passes" "$rc:$out" "0:"
else
	fail "promtool check metrics passes" "promtool not installed (apt-get install prometheus)"
fi
# another user's jobs are not theirs to see: admins only
if id nobody >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
	chmod 711 "$T" "$T/state"
	chmod 666 "$T/state/jobd.sock"
	nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$JOBCTL" "$@"; }
	ok "nobody reaches jobd (status)" nobody status
	out=$(nobody metrics 2>&1); rc=$?
	expect_eq "a user who is not root or jobd's is refused (77)" "$rc" 77
	expect_match "... saying why" "$out" "permission denied: metrics"
fi
# over HTTP: GET /metrics with the token, the page as text
hdrs="$T/headers"
curl -s -S -D "$hdrs" -o "$T/http.txt" -H "Authorization: Bearer $TOKEN" "$URL/metrics"
expect_match "GET /metrics: 200" "$(head -1 "$hdrs")" "^HTTP/1.1 200"
expect_match "GET /metrics: the exposition format's content type" \
	"$(grep -i '^content-type:' "$hdrs")" 'text/plain; version=0.0.4'
expect_match "GET /metrics: the page, not JSON" "$(head -c 200 "$T/http.txt")" '^# HELP '
expect_eq "GET /metrics counts what jobctl metrics counts" \
	"$(grep -E '^jobd_runs_(started|finished)_total\{job="(good|bad)"' "$T/http.txt")" \
	"$(scrape; grep -E '^jobd_runs_(started|finished)_total\{job="(good|bad)"' "$M")"
if command -v promtool >/dev/null; then
	out=$(promtool check metrics <"$T/http.txt" 2>&1); rc=$?
	expect_eq "promtool check metrics passes on GET /metrics" "$rc:$out" "0:"
fi
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong-token-0123456789" "$URL/metrics")
expect_eq "GET /metrics with a wrong token: 401" "$code" 401

# the same through JSON: the text and its content type
expect_eq "--json gives the text with its format" \
	"$(jobctl --json metrics | jq -r '.format')" "text/plain; version=0.0.4"

finish
