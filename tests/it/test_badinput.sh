#!/usr/bin/env bash
# test_badinput.sh — bad input never harms the daemon: malformed frames and
# requests on the socket, half messages, floods, idle and many clients, bad
# command-line arguments, and a broken job file on reload.
. "$(dirname "$0")/lib.sh"

# A raw protocol client: python3 speaking EOT-framed JSON on the socket.
cat >"$T/client.py" <<'PY'
import os, socket, sys, time
EOT = b"\x04"
path = os.environ["JOBD_SOCKET"]

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # a blocking connect waits while jobd's listen backlog is full (a
    # non-blocking one would fail with EAGAIN): the timeout comes after
    s.connect(path)
    s.settimeout(10)
    return s

def read_msgs(s, n):
    buf, out = b"", []
    while len(out) < n:
        d = s.recv(65536)
        if not d:
            break
        buf += d
        while EOT in buf:
            m, buf = buf.split(EOT, 1)
            out.append(m.decode("utf-8", "replace"))
    return out

mode = sys.argv[1]
if mode == "send":          # send ARG (+EOT), print the one reply
    s = conn()
    data = sys.argv[2].encode("utf-8", "surrogateescape")
    s.sendall(data + EOT)
    print("\n".join(read_msgs(s, 1)))
elif mode == "sendhex":     # sendhex HEX: raw bytes (+EOT), print the reply
    s = conn()
    s.sendall(bytes.fromhex(sys.argv[2]) + EOT)
    print("\n".join(read_msgs(s, 1)))
elif mode == "many":        # many MSG...: all in one write, print N replies
    s = conn()
    s.sendall(EOT.join(a.encode() for a in sys.argv[2:]) + EOT)
    print("\n".join(read_msgs(s, len(sys.argv) - 2)))
elif mode == "dribble":     # dribble MSG: one byte per write
    s = conn()
    for b in sys.argv[2].encode() + EOT:
        s.send(bytes([b]))
        time.sleep(0.002)
    print("\n".join(read_msgs(s, 1)))
elif mode == "half":        # half MSG: send part of a message, then vanish
    s = conn()
    s.sendall(sys.argv[2].encode())
    s.close()
    print("closed")
elif mode == "flood":       # flood MB: send MB MiB without an EOT
    s = conn()
    chunk = b"x" * (1 << 20)
    sent = 0
    try:
        for _ in range(int(sys.argv[2])):
            s.sendall(chunk)
            sent += 1
        s.shutdown(socket.SHUT_WR)
        r = s.recv(1)      # jobd must close: b"" (or a reset)
        print("closed" if r == b"" else "got data after flood")
    except (BrokenPipeError, ConnectionResetError):
        print("closed")
    except socket.timeout:
        print("timeout: connection kept open after %d MiB" % sent)
    sys.stderr.write("sent %d MiB\n" % sent)
elif mode == "idle":        # idle SECONDS: connect, say nothing
    s = conn()
    print("connected", flush=True)
    time.sleep(float(sys.argv[2]))
elif mode == "crowd":       # crowd N: N connections at once, ping on each
    socks = [conn() for _ in range(int(sys.argv[2]))]
    for s in socks:
        s.sendall(b"[2]" + EOT)
    good = sum(1 for s in socks if read_msgs(s, 1) == ["[3]"])
    for s in socks:
        s.close()
    print(good)
PY
raw() { python3 "$T/client.py" "$@"; }
# jfield JSON-MESSAGE JQ-EXPR
jf() { jq -r "$2" <<<"$1" 2>/dev/null; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$JOBD_PID/status"; }
alive() { kill -0 "$JOBD_PID" 2>/dev/null && pass "$1" || fail "$1" "jobd is gone; log: $(tail -5 "$T/jobd.log")"; }

jobd_start

# ---- malformed messages ----------------------------------------------------
r=$(raw sendhex "fffe00de61 6c 6b 7b7b7b 5b 22")
expect_eq "garbage bytes: an error reply with no 0" \
	"$(jf "$r" '.[0], .[1].no' | tr '\n' ' ')" "1 0 "
expect_match "garbage bytes: the error names invalid JSON" "$(jf "$r" '.[1].error')" \
	'invalid JSON'
expect_eq "garbage bytes: code 2" "$(jf "$r" '.[1].code')" 2

r=$(raw send '[0, {"type":"nope","no":5}]')
expect_eq "unknown type: error with no 5" "$(jf "$r" '.[1].no')" 5
expect_eq "unknown type: the error names it" "$(jf "$r" '.[1].error')" \
	"unknown request type: 'nope'"
expect_eq "unknown type: code 2" "$(jf "$r" '.[1].code')" 2

r=$(raw send '[0, {"type":"lookup","no":6,"data":{"jid":"x"}}]')
expect_eq "bad jid: error with no 6" "$(jf "$r" '.[1].no')" 6
expect_match "bad jid: the error names the jid" "$(jf "$r" '.[1].error')" "'x'|\"x\"| x( |:|$)"
expect_eq "bad jid: code 2" "$(jf "$r" '.[1].code')" 2

r=$(raw send '[0, {"type":"lookup","no":7,"data":{"jid":"20200101000000000000"}}]')
expect_eq "unknown jid: code 4" "$(jf "$r" '[.[1].no, .[1].code] | join(" ")')" "7 4"

r=$(raw send '[0, {"type":"status"}]')
expect_eq "missing no: an error with no 0" "$(jf "$r" '.[1].no')" 0
expect_match "missing no: the error names 'no'" "$(jf "$r" '.[1].error')" "'no'"

r=$(raw send '[0, {"type":"status","no":"8"}]')
expect_match "no as a string: an error" "$(jf "$r" '.[1].error')" "'no'"
r=$(raw send '[0, {"type":"status","no":1000000}]')
expect_match "no out of range: an error" "$(jf "$r" '.[1].error')" "'no'"

r=$(raw send '[0, {"type":"lookup","no":9,"data":[1,2]}]')
expect_eq "data not an object: an error with no 9" "$(jf "$r" '.[1].no')" 9
expect_match "data not an object: code 2" "$(jf "$r" '.[1].code')" '^2$'
r=$(raw send '[0, {"type":"create","no":10,"data":"oops"}]')
expect_match "create with string data: an error" "$(jf "$r" '[.[1].no, .[1].code] | join(" ")')" '^10 2$'
r=$(raw send '[0, {"type":"submit","no":11,"data":{"argv":[1,null]}}]')
expect_match "submit with a non-string argv: an error" \
	"$(jf "$r" '[.[1].no, .[1].code] | join(" ")')" '^11 2$'
r=$(raw send '[0, {"type":"submit","no":12,"data":{"argv":[]}}]')
expect_match "submit with an empty argv: an error" \
	"$(jf "$r" '[.[1].no, .[1].code] | join(" ")')" '^12 2$'
r=$(raw send '[0, "status"]')
expect_match "request not an object: an error" "$(jf "$r" '.[1].error')" 'object'
r=$(raw send '{"type":"status","no":1}')
expect_match "message not an array: an error" "$(jf "$r" '.[1].error')" 'array'
r=$(raw send '[]')
expect_match "empty array: an error" "$(jf "$r" '.[1].error')" 'array'
r=$(raw send '[99]')
expect_match "unknown message type: an error" "$(jf "$r" '.[1].error')" 'type'
r=$(raw send '[0, {"type":"status","no":13}, "extra"]')
expect_match "extra element: still one reply" "$(jf "$r" '.[1].no')" '^13$'
# a response or event from the client is not a request: its error goes
# under no 0 (under its own no it would pass for the reply to request 14)
r=$(raw send '[1, {"no":14,"error":5}]')
expect_eq "a malformed response from the client: an error with no 0" \
	"$(jf "$r" '[.[1].no, (.[1].error | length > 0)] | join(" ")')" "0 true"
r=$(raw send '[4, {"no":14}]')
expect_eq "a malformed event from the client: an error with no 0" \
	"$(jf "$r" '[.[1].no, (.[1].error | length > 0)] | join(" ")')" "0 true"
r=$(raw send '[0, {"type":"status","no":15,"password":15}]')
expect_eq "a password that is not a string where none is owed: ignored, served" \
	"$(jf "$r" '[.[1].no, .[1].data.pid] | join(" ")')" "15 $JOBD_PID"

expect_eq "ping [2] gets pong [3]" "$(raw send '[2]')" "[3]"
r=$(raw many '[2]' '[0, {"type":"status","no":21}]' 'junk' '[0, {"type":"status","no":22}]')
expect_eq "pipelined messages: each gets its reply, in order" \
	"$(jq -rc 'if .[0] == 1 then .[1].no else .[0] end' <<<"$r" | tr '\n' ' ')" "3 21 0 22 "
r=$(raw dribble '[0, {"type":"status","no":23}]')
expect_eq "a message one byte per write still works" "$(jf "$r" '.[1].no')" 23
expect_eq "status reply carries data" "$(jf "$r" '.[1].data.pid')" "$JOBD_PID"
alive "jobd alive after malformed messages"

# ---- broken clients ----------------------------------------------------------
ok "a client disconnects mid-message" raw half '[0, {"type":"submit","no":1,"data":{"argv":["tr'
expect_eq "the half message ran nothing" \
	"$(jobctl status --json | jq '.counts.running + .counts.waiting')" 0
expect_eq "and created no run" "$(jobctl runs --json | jq '.runs | length')" 0

rss0=$(rss_kb)
r=$(raw flood 100 2>"$T/flood.err")
expect_eq "a 100 MiB message without EOT: the connection is closed" "$r" closed
sent=$(grep -oE '[0-9]+' "$T/flood.err")
[ "${sent:-100}" -lt 100 ] && pass "jobd closed it before all 100 MiB (sent ${sent} MiB)" ||
	fail "jobd closed it before all 100 MiB" "$(cat "$T/flood.err")"
ok "status works after the flood" jobctl status
rss1=$(rss_kb)
echo "     VmRSS before the flood ${rss0} kB, after ${rss1} kB"
[ $((rss1 - rss0)) -lt $((100 * 1024)) ] && pass "RSS grew less than 100 MiB" ||
	fail "RSS grew less than 100 MiB" "before ${rss0} kB, after ${rss1} kB"
grep -q 'dropped' "$T/jobd.log" && pass "jobd logs the dropped client" ||
	fail "jobd logs the dropped client" "$(tail -5 "$T/jobd.log")"

# an idle client blocks nobody
raw idle 20 >"$T/idle.out" &
idle_pid=$!
retry_until 5 grep -q connected "$T/idle.out"
ok "status answers while an idle client is connected" timeout 5 "$JOBCTL" status
jid=$(timeout 5 "$JOBCTL" submit -- echo still-serving)
ok "a run works while an idle client is connected" timeout 5 "$JOBCTL" wait "$jid"
kill "$idle_pid" 2>/dev/null; wait "$idle_pid" 2>/dev/null

expect_eq "200 connections at once each get a pong" "$(raw crowd 200)" 200
ok "status after 200 connections closed" jobctl status
conns() { [ "$(ls "/proc/$JOBD_PID/fd" | wc -l)" -lt "$1" ]; }
fd0=$(ls "/proc/$JOBD_PID/fd" | wc -l)
retry_until 5 conns 50 && pass "jobd closed the 200 connections (fds: $fd0)" ||
	fail "jobd closed the 200 connections" "$(ls "/proc/$JOBD_PID/fd" | wc -l) fds"
alive "jobd alive after broken clients"

# ---- bad command-line arguments -----------------------------------------------
expect_code 2 "runs --limit abc exits 2" jobctl runs --limit abc
expect_code 2 "submit --at garbage exits 2" jobctl submit --at garbage -- true
jid=$(jobctl submit -- sleep 30)
retry_until 5 sh -c "\"$JOBCTL\" lookup --json $jid | grep -q '\"running\"'"
expect_code 2 "signal JID NOSUCHSIG exits 2" jobctl signal "$jid" NOSUCHSIG
out=$(jobctl signal "$jid" NOSUCHSIG 2>&1)
expect_match "the error names the signal" "$out" NOSUCHSIG
expect_eq "the run still runs after a bad signal" \
	"$(jobctl lookup --json "$jid" | jq -r .run.status)" running
jobctl kill "$jid" >/dev/null
expect_code 2 "an unknown command exits 2" jobctl frobnicate
expect_match "the error names the command" "$(jobctl frobnicate 2>&1)" frobnicate
expect_code 2 "an unknown option exits 2" jobctl list --frobnicate
expect_code 2 "submit without a command exits 2" jobctl submit --
expect_code 2 "lookup without a jid exits 2" jobctl lookup
expect_code 2 "lookup of a malformed jid exits 2" jobctl lookup 12345
expect_code 69 "no daemon: exits 69" env JOBD_SOCKET=/nonexistent/jobd.sock "$JOBCTL" status
expect_code 69 "no daemon: list exits 69" env JOBD_SOCKET=/nonexistent/jobd.sock "$JOBCTL" list

# ---- a broken job file on reload ------------------------------------------------
cat >"$T/jobs.d/a.conf" <<'EOF'
[job keepme]
command = echo kept
EOF
ok "reload with a good job file" jobctl reload
cat >"$T/jobs.d/b.conf" <<'EOF'
[job newjob]
command = echo new
schedule = not a schedule
EOF
out=$(jobctl reload 2>&1); rc=$?
[ $rc -ne 0 ] && pass "reload with a broken job file exits non-zero ($rc)" ||
	fail "reload with a broken job file exits non-zero" "exit 0: $out"
expect_match "the error names FILE:LINE" "$out" "b.conf:[0-9]+"
names=$(jobctl list --json | jq -r '[.jobs[].name] | sort | join(",")')
expect_eq "jobd keeps the old jobs" "$names" keepme
printf '[job x\ncommand = true\n' >"$T/jobs.d/b.conf"
out=$(jobctl reload 2>&1); rc=$?
[ $rc -ne 0 ] && pass "reload with an unclosed section exits non-zero" ||
	fail "reload with an unclosed section exits non-zero" "exit 0: $out"
expect_match "the error names FILE:LINE (section)" "$out" "b.conf:1"
n_skip=$(grep -c 'b.conf:1: .*the file is skipped' "$T/jobd.log")
kill -HUP "$JOBD_PID"
more_skips() { [ "$(grep -c 'b.conf:1: .*the file is skipped' "$T/jobd.log")" -gt "$n_skip" ]; }
retry_until 5 more_skips && pass "SIGHUP with a broken file logs the file it skipped" ||
	fail "SIGHUP with a broken file logs the file it skipped" "$(tail -3 "$T/jobd.log")"
expect_eq "SIGHUP with a broken file keeps the old jobs" \
	"$(jobctl list --json | jq -r '[.jobs[].name] | join(",")')" keepme
rm -f "$T/jobs.d/b.conf"
expect_eq "run of a kept job works" "$(jobctl run keepme 2>/dev/null)" kept

# ---- after all of it ----------------------------------------------------------
alive "jobd has not crashed"
ok "status works at the end" jobctl status
finish
