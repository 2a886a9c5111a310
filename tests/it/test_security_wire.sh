#!/usr/bin/env bash
# test_security_wire.sh — the TCP wire face's trust and memory bounds
# (docs/security.md): what a local user who is not root gets from the TCP
# port with and without the password, the password's limits, the refusal
# of a password-less port on other hosts, memory before and after
# authentication under floods, max_connections, auth_timeout, and the
# worker status members of the original.
#
# "A local user" is nobody (setpriv), running the real jobctl and the wire
# client from a directory it can read.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PW=s3cret-wire
PUB=$(mktemp -d /tmp/jobd-pub.XXXXXX)
# (pkill: the jobd run as nobody below lives in $PUB, not in $T)
trap 'cleanup; pkill -9 -f "$PUB/" 2>/dev/null; rm -rf "$PUB"' EXIT
chmod 755 "$PUB"
cp "$JOBCTL" "$HERE/wireclient.py" "$PUB/"
chmod 755 "$PUB/jobctl" "$PUB/wireclient.py"

# lines ARGS...: one config line each (write_config joins its arguments)
lines() { printf '%s\n' "$@"; }
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
njobctl() { nobody "$PUB/jobctl" --connect "127.0.0.1:$PORT" "$@"; }
# a python3 that nobody may run (a pyenv one under /root is not)
NPY=python3
nobody "$NPY" -c '' 2>/dev/null || NPY=/usr/bin/python3
nwire() { nobody "$NPY" "$PUB/wireclient.py" --port "$PORT" "$@"; }
field() { python3 -c 'import json,sys; m=json.loads(sys.stdin.readline()); print(eval(sys.argv[1]))' "$1"; }
# peak resident memory of jobd in KiB (VmHWM: the highest VmRSS so far)
jobd_hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$JOBD_PID/status"; }
jobd_rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$JOBD_PID/status"; }
# how many runs of the command CMD jobd holds (root, on the Unix socket)
runs_of() { jobctl --json runs --limit 1000 | python3 -c 'import json,sys
print(sum(r.get("command") == sys.argv[1] for r in json.load(sys.stdin)["runs"]))' "$1"; }

# A sanitizer build keeps freed memory in quarantine and maps shadow
# memory: there the bound is on the growth over the idle daemon, with a
# small quarantine.
SAN=""
case $BUILD in *build-san*) SAN=1; export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=4" ;; esac
RSS_LIMIT_KB=$((64 * 1024))
rss_bound() {   # rss_bound NAME: jobd's peak RSS is under the limit
	local hwm limit=$RSS_LIMIT_KB
	hwm=$(jobd_hwm_kb)
	[ -z "$SAN" ] || limit=$((BASE_KB + RSS_LIMIT_KB))
	if [ -n "$hwm" ] && [ "$hwm" -lt "$limit" ]; then pass "$1 (peak RSS ${hwm} KiB)"
	else fail "$1" "peak RSS ${hwm:-?} KiB, limit $limit KiB"; fi
}

cat > "$PUB/flood.py" <<'EOF'
"""flood.py MODE PORT ...: floods jobd's TCP port from loopback, prints
"sent N" when done, then holds its connections open until killed.
  partial N BYTES      N connections, each sends BYTES of one message that
                       never ends (no 0x04), without the password
  pings PW BYTES       one connection gives the password, then sends pings
                       ([2]) and never reads the pongs
  authpartial PW N BYTES   as partial, after giving the password
  badpw SRC N          N connections from source address SRC with a wrong
                       password (prints each reply's error)"""
import json, select, socket, sys, time

mode, port = sys.argv[1], int(sys.argv[2])

def conn(src=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if src:
        s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s

def login(s, pw):
    s.sendall(json.dumps([0, {"type": "status", "no": 1, "password": pw}]).encode() + b"\x04")
    buf = b""
    while not buf.endswith(b"\x04"):
        c = s.recv(65536)
        if not c:
            raise SystemExit("closed at login")
        buf += c

def pump(socks, total, chunk, limit_s=30, stall_s=3):
    """Sends chunk to every socket until each has sent total bytes, was
    closed, or made no progress for stall_s; returns bytes sent."""
    sent = {s: 0 for s in socks}
    active = set(socks)
    last = {s: time.monotonic() for s in socks}
    end = time.monotonic() + limit_s
    for s in socks:
        s.setblocking(False)
    while active and time.monotonic() < end:
        _, w, _ = select.select([], list(active), [], 0.5)
        now = time.monotonic()
        for s in list(active):
            if s in w:
                try:
                    k = s.send(chunk[: total - sent[s]])
                    sent[s] += k
                    last[s] = now
                except OSError:
                    active.discard(s)
                    continue
            if sent[s] >= total or now - last[s] > stall_s:
                active.discard(s)
    return sum(sent.values())

if mode in ("partial", "authpartial"):
    pw = sys.argv[3] if mode == "authpartial" else None
    a = sys.argv[4:] if pw else sys.argv[3:]
    n, size = int(a[0]), int(a[1])
    socks = [conn() for _ in range(n)]
    if pw:
        for s in socks:
            login(s, pw)
    total = pump(socks, size, b"[" * 65536)
elif mode == "pings":
    s = conn()
    login(s, sys.argv[3])
    socks = [s]
    total = pump(socks, int(sys.argv[4]), b"[2]\x04" * 16384)
elif mode == "badpw":
    src, n = sys.argv[3], int(sys.argv[4])
    for i in range(n):
        s = conn(src)
        s.sendall(json.dumps([0, {"type": "status", "no": 1, "password": "wrong%d" % i}]).encode() + b"\x04")
        print(json.loads(s.recv(65536).rstrip(b"\x04"))[1].get("error"))
        s.close()
    s = conn(src)
    s.sendall(json.dumps([0, {"type": "status", "no": 2, "password": sys.argv[5]}]).encode() + b"\x04")
    print(json.loads(s.recv(65536).rstrip(b"\x04"))[1].get("error", "served"))
    sys.exit(0)
print("sent", total)
sys.stdout.flush()
time.sleep(120)
EOF
flood() { python3 "$PUB/flood.py" "$@"; }
# flood_bg OUT ARGS...: starts a flood; waits until it has sent everything
flood_bg() { local out=$1; shift; flood "$@" >"$out" 2>&1 & FLOOD=$!
	retry_until 60 grep -q '^sent' "$out"; }
flood_end() { kill "$FLOOD" 2>/dev/null; wait "$FLOOD" 2>/dev/null; }
served() {   # served NAME: other clients get answers
	local out
	out=$(python3 "$HERE/wireclient.py" --port "$PORT" --password "$PW" --timeout 10 req status)
	expect_match "$1: a TCP client with the password is served" "$out" '"targets"'
	ok "$1: jobctl on the Unix socket is served" jobctl status
}

# ---- the config ----
write_config "$(lines "port = $PORT" "host = 0.0.0.0")"
out=$("$JOBD" -t -c "$T/jobd.conf" 2>&1); rc=$?
expect_eq "port on 0.0.0.0 without a password: bad configuration" "$rc" "2"
expect_match "... and it says why" "$out" "without a password: any host could use the queue"
write_config "$(lines "port = $PORT" "host = 0.0.0.0" "password = $PW")"
ok "port on 0.0.0.0 with a password: accepted" "$JOBD" -t -c "$T/jobd.conf"
write_config "$(lines "port = $PORT" "host = ::1")"
ok "port on ::1 without a password: accepted" "$JOBD" -t -c "$T/jobd.conf"
write_config "$(lines "port = $PORT" "max_buffered = 100k")"
expect_code 2 "max_buffered under 1M: bad configuration" "$JOBD" -t -c "$T/jobd.conf"
write_config "$(lines "port = $PORT" "max_connections = 0")"
expect_code 2 "max_connections 0: bad configuration" "$JOBD" -t -c "$T/jobd.conf"

# ---- no password, loopback: a local user is not root ----
jobd_start "$(lines "port = $PORT" "[targets]" "q1 = 1")"
out=$(njobctl submit -- id 2>&1); rc=$?
expect_eq "nobody: submit over TCP without the password is refused (77)" "$rc" "77"
expect_match "... permission denied, naming what a loopback client may do" "$out" \
	"permission denied: 'submit' needs the password .*poll, run-manual and status"
expect_code 77 "nobody: create over TCP is refused" njobctl create pwn -- id
expect_code 77 "nobody: run over TCP is refused" njobctl run pwn
expect_code 77 "nobody: reload over TCP is refused" njobctl reload
expect_eq "no run of 'id' was made" "$(runs_of id)" "0"
out=$(nwire req status req poll req run-manual '{"ids":[999999]}')
expect_match "nobody: status is served" "$out" '"q1":\{"paused"'
expect_match "nobody: poll is served" "$out" '"data":"ok"'
expect_match "nobody: run-manual is served (on rows of the table)" "$out" '"errors":\{"999999":"job 999999 not found"\}'
for req in 'add-target {"target":"x","concurrency":1}' 'pause {}' 'send-signal {"jobs":{}}' 'set-target-concurrency {"target":"q1","concurrency":9}'; do
	out=$(nwire req ${req%% *} "${req#* }")
	expect_match "nobody: ${req%% *} needs the password from a root jobd" "$out" \
		"\"error\":\"permission denied: '${req%% *}' needs the password"
done
out=$(nwire req status | field 'm[1]["data"]')
expect_match "wire status: jobPromisesCount, an integer" "$out" "'jobPromisesCount': [0-9]+"
expect_eq "wire status: memoryUsage has rss, heapTotal, heapUsed, external (integers)" \
	"$(nwire req status | field 'sorted(k for k, v in m[1]["data"]["memoryUsage"].items() if type(v) is int)')" \
	"['external', 'heapTotal', 'heapUsed', 'rss']"
# a queue row that is running counts as a promise
jid=$(jobctl submit --target q1 -- sleep 30)
retry_until 10 sh -c "\"$JOBCTL\" lookup $jid | grep -q running"
expect_eq "wire status: a running run is one job promise" \
	"$(nwire req status | field 'm[1]["data"]["jobPromisesCount"]')" "1"
jobctl kill "$jid" >/dev/null
# the default host is loopback: not reachable on another address
other=$(hostname -I 2>/dev/null | awk '{print $1}')
if [ -n "$other" ]; then
	expect_code 1 "the default host is 127.0.0.1: $other:$PORT is closed" \
		python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)' "$other" "$PORT"
fi
jobd_stop

# ---- password and always_allow_localhost ----
jobd_start "$(lines "port = $PORT" "password = $PW" "always_allow_localhost = yes")"
expect_code 77 "allow_localhost: nobody's submit without the password is refused" njobctl submit -- id
out=$(nwire req status)
expect_match "allow_localhost: status without the password" "$out" '"targets"'
out=$(nwire --password "$PW" req add-target '{"target":"q9","concurrency":1}' req list)
expect_match "with the password: the worker protocol (add-target)" "$out" '"data":"ok"'
expect_match "with the password: jobd's reads (list)" "$out" '"jobs":\['
out=$(JOBD_PASSWORD=$PW njobctl submit -- id 2>&1); rc=$?
expect_eq "with the password: submit is still refused (77)" "$rc" "77"
expect_match "... it is not served on the TCP port" "$out" "'submit' is not served on the TCP port"
expect_code 77 "with the password: create is refused" env JOBD_PASSWORD=$PW setpriv --reuid=65534 --regid=65534 --clear-groups "$PUB/jobctl" --connect "127.0.0.1:$PORT" create pwn -- id
ok "with the password: jobctl status over TCP" env JOBD_PASSWORD=$PW setpriv --reuid=65534 --regid=65534 --clear-groups "$PUB/jobctl" --connect "127.0.0.1:$PORT" status
expect_eq "no run of 'id' was made" "$(runs_of id)" "0"
out=$(nwire --password wrong req status eof)
expect_match "a wrong password on a loopback-trusted connection: invalid password" "$out" '"error":"invalid password"'
expect_match "... and the connection is closed" "$out" 'EOF$'
out=$(nwire raw '[0,{"type":"status","no":0,"password":"wrong"}]' eof)
expect_match "... also on a request with an invalid no: invalid password under no 0" "$out" '"no":0,"error":"invalid password"'
expect_match "... and the connection is closed" "$out" 'EOF$'
jobd_stop

# ---- password: limits ----
jobd_start "$(lines "port = $PORT" "password = $PW" "auth_timeout = 1s")"
out=$(flood badpw "$PORT" 127.0.0.7 5 "$PW")
expect_eq "five wrong passwords from one address: each 'invalid password'" \
	"$(grep -c '^invalid password$' <<<"$out")" "5"
expect_eq "then even the right one is refused from that address" "$(tail -1 <<<"$out")" \
	"too many wrong passwords from this address; try again later"
out=$(python3 "$HERE/wireclient.py" --port "$PORT" --password "$PW" req status)
expect_match "another address is not affected" "$out" '"targets"'
# a client that gives no password is closed after auth_timeout
out=$(timeout 20 python3 -c 'import socket,sys,time
s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.settimeout(15); t=time.monotonic()
print("closed" if s.recv(10) == b"" else "data", round(time.monotonic()-t))' "$PORT" 2>&1)
expect_match "no password within auth_timeout: closed" "$out" '^closed [0-9]+$'
python3 -c 'import socket,sys
s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.sendall(b"[2]\x04" * 1000); s.settimeout(15)
n=0
while True:
    c=s.recv(65536)
    if not c: break
    n+=len(c)
print(n)' "$PORT" >"$T/pinger.out" 2>&1
expect_eq "pings do not keep an unauthenticated client past auth_timeout" "$(cat "$T/pinger.out")" "4000"
jobd_stop

# ---- memory before and after authentication ----
jobd_start "$(lines "port = $PORT" "password = $PW")"
BASE_KB=$(jobd_rss_kb)
flood_bg "$T/f1" partial "$PORT" 40 $((16 * 1024 * 1024 - 16))
rss_bound "40 unauthenticated clients with 16 MiB unfinished messages"
served "partial-message flood"
expect_match "they were dropped at 64 KiB" "$(cat "$T/jobd.log")" "sent a message over 65536 bytes without the password; dropped"
flood_end
flood_bg "$T/f2" pings "$PORT" "$PW" $((8 * 1024 * 1024))
rss_bound "a client that sends pings and never reads"
served "ping flood"
expect_match "the pinger is held back, not served without end" "$(cat "$T/f2")" '^sent [0-9]+$'
flood_end
jobd_stop

# the budget over all authenticated clients
jobd_start "$(lines "port = $PORT" "password = $PW" "max_buffered = 16M")"
BASE_KB=$(jobd_rss_kb)
flood_bg "$T/f3" authpartial "$PORT" "$PW" 6 $((15 * 1024 * 1024))
rss_bound "6 authenticated clients with 15 MiB unfinished messages, max_buffered 16M"
served "authenticated flood"
expect_match "clients over max_buffered are dropped, and it says so" "$(cat "$T/jobd.log")" \
	"max_buffered \\(16777216 bytes\\) is spent: client 127.0.0.1:[0-9]+"
flood_end
jobd_stop

# ---- max_connections ----
jobd_start "$(lines "port = $PORT" "max_connections = 8")"
python3 -c 'import socket,sys,time
port=int(sys.argv[1]); socks=[]
for i in range(20):
    s=socket.create_connection(("127.0.0.1",port)); socks.append(s)
time.sleep(1)
closed=0
for s in socks:
    s.settimeout(0.2)
    try:
        closed += s.recv(1) == b""
    except socket.timeout:
        pass
    except OSError:
        closed += 1
print(closed)
sys.stdout.flush()
time.sleep(3)' "$PORT" >"$T/conns.out" 2>&1 &
HOLD=$!
retry_until 10 test -s "$T/conns.out"
ok "at max_connections root's jobctl on the socket is still served" jobctl status
wait $HOLD
out=$(cat "$T/conns.out")
expect_eq "20 TCP clients with max_connections 8: 12 closed" "$out" "12"
expect_match "... and it is logged" "$(cat "$T/jobd.log")" "max_connections \\(8\\) reached"
retry_until 10 sh -c "python3 '$HERE/wireclient.py' --port $PORT req status | grep -q targets"
out=$(python3 "$HERE/wireclient.py" --port "$PORT" req status)
expect_match "once they are gone, TCP clients are served again" "$out" '"targets"'
jobd_stop

# ---- a jobd that is not root: loopback clients get the worker protocol ----
U=$PUB/user
mkdir -p "$U/state" "$U/jobs.d"
lines "state_dir = $U/state" "jobs_dir = $U/jobs.d" "port = $PORT" >"$U/jobd.conf"
chown -R 65534:65534 "$U"
nobody "$JOBD" -c "$U/jobd.conf" >"$U/jobd.log" 2>&1 &
UPID=$!
retry_until 10 nobody "$PUB/jobctl" --socket "$U/state/jobd.sock" status
out=$(nwire req add-target '{"target":"zz","concurrency":1}' req submit '{"argv":["id"]}')
expect_match "jobd as nobody: a loopback client may add-target" "$out" '"data":"ok"'
expect_match "... but not submit" "$out" "\"error\":\"permission denied: 'submit' needs the password \\(without it the TCP port serves the worker protocol only\\)\""
# $UPID is the subshell of the function `nobody`: TERM jobd itself
pkill -TERM -f -- "-c $U/jobd.conf"
retry_until 10 sh -c "! pgrep -f -- '[-]c $U/jobd.conf' >/dev/null" ||
	fail "jobd as nobody stops on SIGTERM"
wait "$UPID" 2>/dev/null

finish
