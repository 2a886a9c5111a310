#!/usr/bin/env bash
# test_health.sh — a job's health checks ([health_check NAME]) run by
# `jobctl health NAME`: tcp against a listener of the test (connected) and
# a closed port (connection refused), http against a small server (200
# passes, 503 and a wrong path fail naming the status, expect_status), a
# command (exit 0 / exit 1, run as the job's user), timeouts of a hanging
# command (killed with its group) and of a connect to a listener whose
# backlog is full, --wait retrying until a late server answers, and bad
# check keys refused naming the file, the job and the check.
. "$(dirname "$0")/lib.sh"

PY_PIDS=()
U=""
trap 'kill "${PY_PIDS[@]}" 2>/dev/null; cleanup; [ -z "$U" ] || userdel "$U" 2>/dev/null' EXIT

# serve KIND PORTFILE: a background server of the test; its port is
# written to PORTFILE once it listens.  tcp: accepts and closes;
# http: /health 200, /down 503, else 404; full: listens with a full
# backlog and never accepts (a connect to it hangs).
serve() {
	python3 - "$1" "$2" <<'PY' >>"$T/servers.log" 2>&1 &
import http.server, socket, sys, time
kind, portfile = sys.argv[1], sys.argv[2]
def ready(port):
    with open(portfile + '.tmp', 'w') as f:
        f.write(str(port))
    import os; os.rename(portfile + '.tmp', portfile)
if kind == 'http':
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            code = {'/health': 200, '/down': 503}.get(self.path, 404)
            self.send_response(code)
            self.send_header('Content-Length', '0')
            self.end_headers()
        def log_message(self, *a):
            pass
    s = http.server.HTTPServer(('127.0.0.1', 0), H)
    ready(s.server_address[1])
    s.serve_forever()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(open(portfile + '.want').read()) if kind == 'late' else 0))
if kind == 'full':
    s.listen(0)
    fill = []
    for i in range(3):        # more than the backlog holds: SYNs are dropped
        c = socket.socket(); c.setblocking(False)
        try: c.connect(s.getsockname())
        except BlockingIOError: pass
        fill.append(c)
    time.sleep(0.5)
    ready(s.getsockname()[1])
    time.sleep(600)
s.listen(16)
ready(s.getsockname()[1])
while True:
    c, _ = s.accept(); c.close()
PY
	PY_PIDS+=($!)
	retry_until 20 test -s "$2"
}
# a port nobody listens on: bound, then closed
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

serve tcp "$T/tcp.port"; TCP=$(cat "$T/tcp.port")
serve http "$T/http.port"; HTTP=$(cat "$T/http.port")
serve full "$T/full.port"; FULL=$(cat "$T/full.port")
CLOSED=$(free_port)
LATE=$(free_port)
WP=$(free_port)

write_config "port = $WP
password = hcpw"
mkdir -p "$T/out"; chmod 777 "$T/out"; chmod 711 "$T"
cat > "$T/jobs.d/svc.conf" <<CONF
[job up]
command = sleep 1
[health_check port]
tcp = 127.0.0.1:$TCP
[health_check byname]
tcp = localhost:$TCP
[health_check page]
http = http://127.0.0.1:$HTTP/health
[health_check missing]
http = http://localhost:$HTTP/nope?x=1
expect_status = 404
[health_check cmd]
command = sh -c 'exit 0'

[job down]
command = sleep 1
[health_check port]
tcp = 127.0.0.1:$TCP
[health_check closed]
tcp = 127.0.0.1:$CLOSED
[health_check page]
http = http://127.0.0.1:$HTTP/down
[health_check path]
http = http://127.0.0.1:$HTTP/wrong
[health_check cmd]
command = sh -c 'exit 1'

[job hangs]
command = sleep 1
[health_check hang]
command = sh -c 'echo \$\$ > $T/out/hang.pid; exec sleep 987'
timeout = 1s
[health_check blackhole]
tcp = 127.0.0.1:$FULL
timeout = 1s

[job slow]
command = sleep 1
[health_check hang]
command = sh -c 'echo \$\$ > $T/out/slow.pid; exec sleep 986'
timeout = 60s

[job none]
command = sleep 1

[job counter]
command = sleep 1
[health_check third]
command = sh -c 'n=\$((\$(cat $T/out/n 2>/dev/null || echo 0) + 1)); echo \$n > $T/out/n; [ \$n -ge 3 ]'
attempts = 3
interval = 0s

[job late]
command = sleep 1
[health_check port]
tcp = 127.0.0.1:$LATE
attempts = 60
interval = 1s
CONF
JOBD_KEEP_CONFIG=1 jobd_start

# ---- passing checks ----
out=$(jobctl health up 2>&1); rc=$?
expect_eq "health of a healthy job: exit 0" "$rc" 0
expect_match "tcp to a listener: connected" "$out" "port +tcp +127\.0\.0\.1:$TCP +ok +connected \(attempts 1\)"
expect_match "tcp by host name (resolved): connected" "$out" "byname +tcp +localhost:$TCP +ok +connected"
expect_match "http 200 on /health: ok" "$out" "page +http +http://127\.0\.0\.1:$HTTP/health +ok +HTTP 200 \(attempts 1\)"
expect_match "http with expect_status = 404 on a missing path: ok" "$out" "missing +http +\S+ +ok +HTTP 404"
expect_match "command exit 0: ok" "$out" "cmd +command +sh -c 'exit 0' +ok +exit 0"
js=$(jobctl health up --json)
expect_eq "--json: worker, job, ok and 5 checks" \
	"$(jq -c '[.job, .ok, (.checks|length), (.worker|type)]' <<<"$js")" '["up",true,5,"string"]'
expect_eq "--json: a check's fields" "$(jq -c '.checks[0]' <<<"$js")" \
	"{\"name\":\"port\",\"kind\":\"tcp\",\"target\":\"127.0.0.1:$TCP\",\"ok\":true,\"attempts\":1,\"message\":\"connected\"}"

# ---- failing checks ----
out=$(jobctl health down 2>&1); rc=$?
expect_eq "health of an unhealthy job: exit 3" "$rc" 3
expect_match "... its passing check still ok" "$out" "port +tcp +\S+ +ok +connected"
expect_match "tcp to a closed port: connection refused" "$out" "closed +tcp +127\.0\.0\.1:$CLOSED +FAILED +connection refused \(attempts 1\)"
expect_match "http 503: FAILED naming 503" "$out" "page +http +\S+ +FAILED +HTTP 503 \(expected 200\)"
expect_match "http on a wrong path: FAILED naming 404" "$out" "path +http +\S+/wrong +FAILED +HTTP 404 \(expected 200\)"
expect_match "command exit 1: FAILED exit 1" "$out" "cmd +command +sh -c 'exit 1' +FAILED +exit 1 \(attempts 1\)"
expect_eq "--json of an unhealthy job: a reply with ok false (exit 3)" \
	"$(jobctl health down --json | jq -c '[.ok, ([.checks[]|select(.ok)]|length)]'; echo "${PIPESTATUS[0]}")" \
	"$(printf '[false,1]\n3')"

# ---- timeouts ----
out=$(jobctl health hangs 2>&1); rc=$?
expect_eq "health with hanging checks: exit 3" "$rc" 3
expect_match "a hanging command: timed out" "$out" "hang +command +.* +FAILED +timed out after 1s \(attempts 1\)"
expect_match "a connect to a full backlog: timed out" "$out" "blackhole +tcp +127\.0\.0\.1:$FULL +FAILED +timed out after 1s"
hpid=$(cat "$T/out/hang.pid" 2>/dev/null)
ok "the hanging command was started" test -n "$hpid"
ok "... and killed at its timeout" retry_until 10 eval "! kill -0 ${hpid:-1} 2>/dev/null"

# ---- no checks ----
out=$(jobctl health none 2>&1); rc=$?
expect_eq "a job without checks is healthy" "$rc:$out" "0:none has no health checks"
expect_eq "... --json: ok, no checks" "$(jobctl health none --json | jq -c '[.ok, .checks]')" '[true,[]]'
expect_code 4 "health of an unknown job: exit 4" jobctl health nosuch
expect_code 2 "health with a bad name: exit 2" jobctl health 'a b'

# ---- --wait: attempts and interval ----
expect_code 3 "without --wait one attempt: the check that passes third fails" jobctl health counter
rm -f "$T/out/n"
out=$(jobctl health counter --wait 2>&1); rc=$?
expect_eq "--wait: fails twice, passes with attempts 3" "$rc" 0
expect_match "... in its third attempt" "$out" "third +command +.* +ok +exit 0 \(attempts 3\)"
echo 1 > "$T/out/n"     # 2, 3: the second attempt would pass, attempts 1 do not
sed -i 's/^attempts = 3$/attempts = 1/' "$T/jobs.d/svc.conf"
jobctl reload >/dev/null
expect_code 3 "--wait with attempts = 1: one attempt, fails" jobctl health counter --wait

jobctl health late --wait > "$T/late.out" 2>&1 &
lpid=$!
ok "--wait: the late server's port is refused first" \
	retry_until 30 grep -q "job late: health check port: attempt 2 of 60: connection refused" "$T/jobd.log"
echo "$LATE" > "$T/late.port.want"
serve late "$T/late.port"
wait "$lpid"; rc=$?
expect_eq "--wait: passes once the server listens" "$rc" 0
expect_match "... after more than one attempt" "$(cat "$T/late.out")" "port +tcp +\S+ +ok +connected \(attempts ([3-9]|[1-9][0-9])\)"

# ---- over TCP: a read, served with the password (as show is) ----
WC="$(dirname "$0")/wireclient.py"
out=$(python3 "$WC" --port "$WP" --password hcpw --timeout 20 req health '{"name": "up"}' 2>&1)
expect_match "TCP with the password: health is served" "$out" '"job":"up","ok":true'
out=$(python3 "$WC" --port "$WP" --timeout 20 req health '{"name": "up"}' 2>&1)
expect_match "TCP without the password: health is refused" "$out" '"code":77\}'


# ---- a command check runs as the job's user ----
if [ "$(id -u)" -eq 0 ]; then
	U=jobdhc$$
	useradd -M -r -d /nonexistent -s /bin/sh "$U" || fail "make the test user"
	cat > "$T/jobs.d/user.conf" <<CONF
[job asuser]
command = sleep 1
user = $U
[health_check who]
command = sh -c 'id -u > $T/out/uid'
CONF
	jobctl reload >/dev/null
	ok "a command check of a job with user = U passes" jobctl health asuser
	expect_eq "... run as that user (its id -u)" "$(cat "$T/out/uid" 2>/dev/null)" "$(id -u "$U")"
else
	echo "note: not root; the run-as-user check is skipped"
fi

# ---- bad check keys ----
cat > "$T/jobs.d/bad.conf" <<CONF
[job badcheck]
command = sleep 1
[health_check web]
http = https://example.org/
CONF
out=$(jobctl reload 2>&1)
expect_match "https is refused naming the file, job and check, with the way out" \
	"$out" "bad\.conf:[0-9]+: .*health_checks: web: https is not supported; use a command check, e\.g\. curl -fsS https://example\.org/"
cat > "$T/jobs.d/bad.conf" <<CONF
[job badcheck]
command = sleep 1
[health_check port]
tcp = 127.0.0.1:$TCP
port = 80
CONF
out=$(jobctl reload 2>&1)
expect_match "an unknown check key is refused naming the file and check" \
	"$out" "bad\.conf:5: unknown key 'port' in \[health_check port\]"
cat > "$T/jobs.d/bad.conf" <<CONF
[job badcheck]
command = sleep 1
[health_check port]
tcp = 127.0.0.1
CONF
out=$(jobctl reload 2>&1)
expect_match "tcp without a port is refused" "$out" "bad\.conf:[0-9]+: .*health_checks: port: tcp must be host:port: '127\.0\.0\.1' \(no port\)"
cat > "$T/jobs.d/bad.conf" <<CONF
[job badcheck]
command = sleep 1
[health_check page]
http = http://127.0.0.1:$HTTP/
expect_status = 99
CONF
out=$(jobctl reload 2>&1)
expect_match "expect_status out of range is refused" "$out" "bad\.conf:[0-9]+: .*health_checks: page: expect_status: must be an integer from 100 to 599"
expect_code 4 "... and the bad job is not loaded" jobctl health badcheck
rm -f "$T/jobs.d/bad.conf"; jobctl reload >/dev/null

# ---- a run still probing when the client goes or the daemon stops ----
"$JOBCTL" health slow >/dev/null 2>&1 &
cpid=$!
ok "a client that leaves mid-check: its command check is running" \
	retry_until 20 test -s "$T/out/slow.pid"
kill "$cpid"; wait "$cpid" 2>/dev/null
spid=$(cat "$T/out/slow.pid" 2>/dev/null)
ok "... and is killed with the cancelled check (its timeout is 60s)" \
	retry_until 20 eval "! kill -0 ${spid:-1} 2>/dev/null"
ok "the daemon answers after a client left mid-check" jobctl health up
rm -f "$T/out/slow.pid"
"$JOBCTL" health slow --wait >/dev/null 2>&1 &
ok "a check still running when jobd stops ..." retry_until 20 test -s "$T/out/slow.pid"
spid=$(cat "$T/out/slow.pid" 2>/dev/null)
jobd_stop; rc=$?
expect_eq "... jobd exits cleanly (sanitizer-clean: finish)" "$rc" 0
ok "... and its process is killed" retry_until 20 eval "! kill -0 ${spid:-1} 2>/dev/null"
finish
