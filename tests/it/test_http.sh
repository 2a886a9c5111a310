#!/bin/bash
# The HTTP face (docs/http.md): every endpoint and its errors with curl,
# auth refusals, SSE of a live and of a finished run, bad requests that
# leave the daemon up.
. "$(dirname "$0")/lib.sh"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TOKEN=test-token-0123456789abcdef
URL=http://127.0.0.1:$PORT
AUTH="Authorization: Bearer $TOKEN"
JSON="Content-Type: application/json"

# h METHOD PATH [curl args...]: prints the body, then the status on a line
h() { local m=$1 p=$2; shift 2
	curl -s -S -X "$m" -w '\n%{http_code}' "$@" "$URL$p"; }
# ha: the same with the token
ha() { local m=$1 p=$2; shift 2; h "$m" "$p" -H "$AUTH" "$@"; }
lines() { printf '%s\n' "$@"; }
code() { tail -n1 <<<"$1"; }
body() { sed '$d' <<<"$1"; }
# expect_http NAME STATUS RESPONSE [REGEX of the body]
expect_http() {
	local n=$1 st=$2 r=$3 re=${4:-}
	if [ "$(code "$r")" != "$st" ]; then
		fail "$n" "status $(code "$r"), want $st" "$(body "$r" | head -c 400)"
	elif [ -n "$re" ] && ! [[ "$(body "$r")" =~ $re ]]; then
		fail "$n" "body: $(body "$r" | head -c 400)" "want match: $re"
	else
		pass "$n"
	fi
}

# ---- the config keys ----
write_config "http_listen = 127.0.0.1"
expect_code 2 "http_listen without a port refused" "$JOBD" -t -c "$T/jobd.conf"
out=$("$JOBD" -t -c "$T/jobd.conf" 2>&1)
expect_match "... naming the key and value" "$out" "http_listen: '127.0.0.1'"
write_config "http_listen = 127.0.0.1:$PORT"
out=$("$JOBD" -t -c "$T/jobd.conf" 2>&1)
expect_match "no token and no always_allow_localhost: refused (it would serve nothing)" "$out" "serves nothing"
write_config "$(lines "http_listen = 127.0.0.1:$PORT" "always_allow_localhost = true")"
ok "no token, always_allow_localhost: accepted" "$JOBD" -t -c "$T/jobd.conf"
write_config "http_listen = 0.0.0.0:$PORT"
out=$("$JOBD" -t -c "$T/jobd.conf" 2>&1)
expect_match "all addresses without a token refused" "$out" "without http_token"
write_config "$(lines "http_listen = 127.0.0.1:$PORT" "http_token = short")"
out=$("$JOBD" -t -c "$T/jobd.conf" 2>&1)
expect_match "a short token refused" "$out" "http_token: at least 16"
write_config "http_token = $TOKEN"
out=$("$JOBD" -t -c "$T/jobd.conf" 2>&1)
expect_match "a token without a listener refused" "$out" "http_token without http_listen"
write_config "$(lines "http_listen = 0.0.0.0:$PORT" "http_token = $TOKEN")"
ok "all addresses with a token accepted" "$JOBD" -t -c "$T/jobd.conf"

jobd_start "$(lines "http_listen = 127.0.0.1:$PORT" "http_token = $TOKEN" \
	"always_allow_localhost = true" "[targets]" "slow = 1")"
retry_until 10 curl -sf -H "$AUTH" "$URL/api/v1/status"

expect_match "a config every user may read is warned about" \
	"$(cat "$T/jobd.log")" "holds http_token and every user may read it"

# ---- auth ----
r=$(h GET /api/v1/status)
expect_http "GET status from loopback without a token (overview)" 200 "$r" '"version"'
r=$(h GET /api/v1/jobs)
expect_http "GET jobs from loopback without a token" 200 "$r" '"jobs"'
r=$(h GET /api/v1/runs)
expect_http "runs (commands) need the token" 403 "$r" "'runs' needs the token"
r=$(h POST /api/v1/jobs -H "$JSON" -d '{"name":"pwn","command":"id"}')
expect_http "POST without a token refused, from loopback too" 401 "$r" 'missing token'
r=$(h POST /api/v1/jobs -H "Authorization: Bearer wrong-token-0123456789" -H "$JSON" -d '{"name":"pwn","command":"id"}')
expect_http "a wrong token refused" 401 "$r" 'invalid token'
hdrs=$(curl -s -D - -o /dev/null -X POST "$URL/api/v1/jobs")
expect_match "401 names the scheme" "$hdrs" 'WWW-Authenticate: Bearer'
if [[ "$hdrs" == *Access-Control* ]]; then fail "no CORS header" "$hdrs"; else pass "no Access-Control-* header"; fi
r=$(h GET /api/v1/status -H "Authorization: Basic dXNlcjpwYXNz")
expect_http "Basic auth refused" 401 "$r" "Bearer TOKEN"
r=$(ha POST /api/v1/jobs -d 'name=pwn&command=id')
expect_http "a form body refused" 415 "$r" 'application/json'
r=$(ha POST /api/v1/jobs -H "Content-Type: text/plain" -d '{"name":"pwn","command":"id"}')
expect_http "text/plain refused" 415 "$r" "not 'text/plain'"
r=$(ha POST /api/v1/jobs -H "Content-Type: multipart/form-data; boundary=x" -d 'x')
expect_http "multipart refused" 415 "$r"
r=$(ha GET /api/v1/jobs/pwn)
expect_http "nothing was created by the refused requests" 404 "$r" "job 'pwn' not found"
r=$(ha GET /api/v1/status)
expect_http "GET status with the token" 200 "$r" '"counts"'

# ---- jobs ----
r=$(ha POST /api/v1/jobs -H "$JSON" -d '{"name":"hello","command":"echo hi","schedule":"0 3 * * *"}')
expect_http "POST /jobs creates (201)" 201 "$r" '"name":"hello"'
r=$(ha POST /api/v1/jobs -H "$JSON" -d '{"name":"hello","command":"echo hi"}')
expect_http "creating it again: 409" 409 "$r" 'already exists|exists'
r=$(ha POST /api/v1/jobs -H "$JSON" -d '{"name":"bad name","command":"x"}')
expect_http "an invalid name: 400 with the ops' text" 400 "$r" '"error":'
r=$(ha POST /api/v1/jobs -H "$JSON" -d '{"name":"x","command":"x","schedule":"61 * * * *"}')
expect_http "an invalid schedule: 400" 400 "$r" 'minute'
r=$(ha GET /api/v1/jobs)
expect_http "GET /jobs lists it" 200 "$r" '"name":"hello"'
r=$(ha GET /api/v1/jobs/hello)
expect_http "GET /jobs/hello shows it" 200 "$r" '"next_runs":\["[0-9-]+T03:00'
r=$(ha GET /api/v1/jobs/nope)
expect_http "GET an unknown job: 404" 404 "$r" "job 'nope' not found"
r=$(ha PATCH /api/v1/jobs/hello -H "$JSON" -d '{"schedule":"0 4 * * *"}')
expect_http "PATCH sets a field" 200 "$r" '"schedule":"0 4 \* \* \*"'
r=$(ha PATCH /api/v1/jobs/hello -H "$JSON" -d '{"schedule":"nonsense x"}')
expect_http "PATCH with a bad value: 400" 400 "$r"
r=$(ha POST /api/v1/jobs/hello/disable)
expect_http "POST disable" 200 "$r" '"result":"ok"'
r=$(ha POST /api/v1/jobs/hello/enable)
expect_http "POST enable" 200 "$r" '"result":"ok"'

# ---- runs ----
r=$(ha POST /api/v1/jobs/hello/run)
expect_http "POST /jobs/hello/run gives a jid" 200 "$r" '"jid":"[0-9]{20}"'
jid=$(body "$r" | jq -r .jid)
r=$(ha POST /api/v1/jobs/nope/run)
expect_http "running an unknown job: 404" 404 "$r"
retry_until 10 bash -c "curl -s -H '$AUTH' $URL/api/v1/runs/$jid | grep -q '\"status\":\"done\"'"
r=$(ha GET "/api/v1/runs/$jid")
expect_http "GET /runs/JID with its output" 200 "$r" '"stdout":"hi\\n"'
r=$(ha GET /api/v1/runs/20990101000000000000)
expect_http "an unknown jid: 404" 404 "$r" 'not found'
r=$(ha GET /api/v1/runs/123)
expect_http "a malformed jid: 400" 400 "$r"
r=$(ha POST "/api/v1/runs/$jid/signal" -H "$JSON" -d '{"signal":"TERM"}')
expect_http "signalling a finished run: 409" 409 "$r" 'was not running'
r=$(ha POST "/api/v1/runs/$jid/signal" -H "$JSON" -d '{"signal":"NOPE"}')
expect_http "a bad signal: 400" 400 "$r" "invalid signal"
r=$(ha POST /api/v1/runs -H "$JSON" -d '{"argv":["echo","queued"]}')
expect_http "POST /runs submits (201)" 201 "$r" '"jid"'
r=$(ha GET "/api/v1/runs?job=hello&limit=1")
expect_http "GET /runs?job=&limit=" 200 "$r" "\"jid\":\"$jid\""
n=$(body "$r" | jq '.runs | length')
expect_eq "limit=1 gives one run" "$n" 1
r=$(ha GET "/api/v1/runs?limit=many")
expect_http "a bad limit: 400" 400 "$r" "limit: must be an integer"
r=$(ha GET "/api/v1/runs?colour=red")
expect_http "an unknown query parameter: 400" 400 "$r" "unknown query parameter 'colour'"
r=$(ha GET /api/v1/runs/active)
expect_http "GET /runs/active" 200 "$r" '"runs"'

# ---- SSE: a finished run at once, a live one as it goes ----
out=$(timeout 10 curl -s -N -H "$AUTH" "$URL/api/v1/runs/$jid/output")
expect_match "SSE of a finished run: its output, then ended" "$out" \
	'event: stdout.data: "hi\\n".*event: ended.data: \{"jid":"'"$jid"
if [[ "$out" == *'"stdout":'* ]]; then fail "ended carries no output" "$out"; else pass "ended carries no output"; fi
r=$(ha GET /api/v1/runs/20990101000000000000/output)
expect_http "SSE of an unknown jid: 404 JSON" 404 "$r" '"error"'
ha POST /api/v1/targets/slow/pause >/dev/null
ha POST /api/v1/jobs -H "$JSON" -d '{"name":"live","command":"echo one; sleep 1; echo two >&2; sleep 1; echo three","shell":true,"target":"slow"}' >/dev/null
r=$(ha POST /api/v1/jobs/live/run)
ljid=$(body "$r" | jq -r .jid)
timeout 20 curl -s -N -H "$AUTH" "$URL/api/v1/runs/$ljid/output" >"$T/sse.out" 2>&1 &
sse=$!
sleep 0.5
ha POST /api/v1/targets/slow/continue >/dev/null
wait $sse
out=$(tr '\n' '~' <"$T/sse.out")
expect_match "SSE of a live run: started, stdout, stderr, stdout, ended" "$out" \
	'event: started~data: \{"jid":"'"$ljid"'","pid":[0-9]+\}~~event: stdout~data: "one\\n"~~event: stderr~data: "two\\n"~~event: stdout~data: "three\\n"~~event: ended~data: \{[^~]*"result":"ok"'

ha POST /api/v1/jobs -H "$JSON" -d '{"name":"long","command":"echo begun; exec sleep 60","shell":true}' >/dev/null
r=$(ha POST /api/v1/jobs/long/run)
ljid=$(body "$r" | jq -r .jid)
retry_until 10 bash -c "curl -s -H '$AUTH' $URL/api/v1/runs/$ljid | grep -q 'begun'"
timeout 20 curl -s -N -H "$AUTH" "$URL/api/v1/runs/$ljid/output" >"$T/sse2.out" 2>&1 &
sse=$!
retry_until 10 grep -q begun "$T/sse2.out"
r=$(ha POST "/api/v1/runs/$ljid/signal" -H "$JSON" -d '{"signal":"TERM"}')
expect_http "signalling a live run" 200 "$r" "Signal 15 sent to job $ljid"
wait $sse
out=$(tr '\n' '~' <"$T/sse2.out")
expect_match "SSE joining a running run: started, the output so far, ended by the signal" "$out" \
	'^event: started~data: \{"jid":"'"$ljid"'","pid":[0-9]+\}~~event: stdout~data: "begun\\n"~~event: ended~data: \{[^~]*"sig":"SIGTERM"'

# ---- targets, workers, schedule ----
r=$(ha GET /api/v1/targets)
expect_http "GET /targets" 200 "$r" 'slow'
r=$(ha POST /api/v1/targets -H "$JSON" -d '{"target":"t2","concurrency":3}')
expect_http "POST /targets adds one" 200 "$r" '"result":"ok"'
r=$(ha POST /api/v1/targets -H "$JSON" -d '{"target":"t2","concurrency":3}')
expect_http "adding it again: 409" 409 "$r" "already added"
r=$(ha POST /api/v1/targets/t2/concurrency -H "$JSON" -d '{"concurrency":5}')
expect_http "POST /targets/t2/concurrency" 200 "$r"
r=$(ha POST /api/v1/targets/t2/concurrency -H "$JSON" -d '{"concurrency":0}')
expect_http "a bad concurrency: 400" 400 "$r" "invalid concurrency"
r=$(ha POST /api/v1/targets/t2/pause)
expect_http "POST /targets/t2/pause" 200 "$r"
r=$(ha GET /api/v1/targets)
expect_match "t2 is paused with concurrency 5" "$(body "$r" | jq -c '.targets[] | select(.name=="t2") | [.paused, .concurrency]')" '^\[true,5\]$'
r=$(ha POST /api/v1/targets/t2/continue)
expect_http "POST /targets/t2/continue" 200 "$r"
r=$(ha POST /api/v1/targets/nope/pause)
expect_http "pausing an unknown target: 404" 404 "$r" "invalid target 'nope'"
r=$(ha DELETE /api/v1/targets/t2)
expect_http "DELETE /targets/t2" 200 "$r"
r=$(ha DELETE /api/v1/targets/t2)
expect_http "DELETE it again: 404" 404 "$r"
r=$(ha GET /api/v1/workers)
expect_http "GET /workers" 200 "$r" '"workers":\[\{'
r=$(h GET "/api/v1/schedule/next?expr=0+3+*+*+*&n=2&from=2026-01-01T00:00:00Z")
expect_http "GET /schedule/next?expr= (no token needed)" 200 "$r" \
	'"times":\["2026-01-01T03:00:00.000000Z","2026-01-02T03:00:00.000000Z"\]'
want=$(jobctl next '0 3 * * *' -n 2 --from 2026-01-01T00:00:00Z --tz Europe/Berlin --json | jq -c .times)
r=$(ha GET "/api/v1/schedule/next?expr=0+3+*+*+*&n=2&from=2026-01-01T00:00:00Z&tz=Europe/Berlin")
expect_eq "the same times as jobctl next" "$(body "$r" | jq -c .times)" "$want"
r=$(ha GET "/api/v1/schedule/next?expr=0+25+*+*+*")
expect_http "a bad expression: 400 naming the field" 400 "$r" 'hour'
r=$(ha GET "/api/v1/schedule/next?expr=@daily&tz=Mars/Olympus")
expect_http "an unknown zone: 400" 400 "$r"
r=$(ha GET "/api/v1/schedule/next")
expect_http "no expr: 400" 400 "$r" "missing query parameter 'expr'"
r=$(ha GET "/api/v1/schedule/next?name=hello&n=1")
expect_http "next of a job by name" 200 "$r" 'T04:00:00'

# ---- delete ----
r=$(ha DELETE /api/v1/jobs/hello)
expect_http "DELETE /jobs/hello" 200 "$r" '"result":"ok"'
r=$(ha DELETE /api/v1/jobs/hello)
expect_http "DELETE it again: 404" 404 "$r" "not found"

# ---- bad requests: answered, and the daemon stays up ----
r=$(ha GET /api/v1/nothing)
expect_http "an unknown route: 404 JSON" 404 "$r" '"error":"no such resource: GET /api/v1/nothing"'
r=$(ha GET /a/b/c/d/e/f/g/h/i/j/k)
expect_http "a deep path: 404" 404 "$r" '"error"'
r=$(ha PUT /api/v1/jobs)
expect_http "a wrong method: 405" 405 "$r" 'allowed: GET, POST'
r=$(ha POST /api/v1/jobs -H "$JSON" -d '{"name":')
expect_http "bad JSON: 400" 400 "$r" 'invalid JSON'
r=$(ha POST /api/v1/jobs -H "$JSON" -d '[1,2]')
expect_http "a body that is no object: 400" 400 "$r" 'must be a JSON object'
head -c 2000000 /dev/zero | tr '\0' 'a' >"$T/big"
r=$(ha POST /api/v1/jobs -H "$JSON" --data-binary @"$T/big")
expect_http "a 2 MB body: 413" 413 "$r" 'request body over'
r=$(ha POST /api/v1/jobs -H "$JSON" -H "Transfer-Encoding: chunked" --data-binary @"$T/big")
expect_http "a 2 MB chunked body: 413" 413 "$r" 'request body over'
printf 'GARBAGE\r\n\r\n' | timeout 5 python3 -c "
import socket,sys; s=socket.create_connection(('127.0.0.1',$PORT)); s.sendall(sys.stdin.buffer.read()); s.recv(100)" 2>/dev/null
r=$(ha GET /api/v1/status)
expect_http "the daemon is up after all that" 200 "$r" '"version"'
expect_eq "jobd still running" "$(kill -0 "$JOBD_PID" && echo yes)" yes

# ---- wrong tokens are limited per address ----
for _ in 1 2 3 4 5; do
	curl -s -o /dev/null --interface 127.0.0.7 -H "Authorization: Bearer wrong-token-0123456789" "$URL/api/v1/status"
done
r=$(ha GET /api/v1/status --interface 127.0.0.7)
expect_http "after 5 wrong tokens the address is refused" 429 "$r" 'too many wrong tokens'
r=$(ha GET /api/v1/status)
expect_http "... other addresses are not" 200 "$r"

# ---- without always_allow_localhost: nothing without the token ----
jobd_stop
jobd_start "$(lines "http_listen = 127.0.0.1:$PORT" "http_token = $TOKEN")"
retry_until 10 curl -sf -H "$AUTH" "$URL/api/v1/status"
r=$(h GET /api/v1/status)
expect_http "GET without a token, no always_allow_localhost: 401" 401 "$r" 'missing token'
r=$(ha GET /api/v1/status)
expect_http "... with it: 200" 200 "$r"
finish
