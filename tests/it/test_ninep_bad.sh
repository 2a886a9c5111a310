#!/usr/bin/env bash
# test_ninep_bad.sh — jobd's 9P server given bad input, and its blocking
# reads: a truncated message, a size over msize, an unknown type, a walk of
# 17 names, a read on a clunked fid, messages before Tversion, a size under
# 7, random bytes; each gets an Rerror with a clear text (or, where the
# framing cannot be trusted, the connection is closed), the connection
# survives where it can, and jobd stays up.  A read at the end of a job's
# log blocks until a new run writes lines; Tflush cancels such a read.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TOKEN=tok$RANDOM$RANDOM
np() { python3 "$HERE/ninep.py" --addr "127.0.0.1:$PORT" --aname "$TOKEN" "$@"; }
# py CODE: python with the client imported, c connected and attached
# (9P2000); `alive()` says whether c still answers a Tstat of its root
py() { python3 -c "import sys, struct, socket, time; sys.path.insert(0, '$HERE'); from ninep import *
c = connect('127.0.0.1:$PORT', aname='$TOKEN')
def alive():
    try:
        return c.stat(c.root)['qid']['type'] == QTDIR
    except Exception as e:
        return repr(e)
def rerror(mtype, body):
    c.send(mtype, body)
    t, tag, b = c.recv()
    if t != Rerror:
        return 'reply type %d' % t
    return Reader(b).s()
$1" 2>&1; }
up() { jobctl status >/dev/null && np ls / >/dev/null; }

jobd_start "ninep_listen = 127.0.0.1:$PORT
ninep_token = $TOKEN"
retry_until 10 np ls / ||
	{ fail "jobd's 9P port answers" "$(tail -5 "$T/jobd.log")"; finish; exit 1; }

# ---- malformed messages ----
out=$(py '
# a Twalk whose body ends after the fid: its size covers only 4 bytes
print(rerror(Twalk, struct.pack("<I", c.root)))
print(alive())')
expect_match "truncated message: Rerror naming it" "$(head -1 <<<"$out")" '(short|truncated|malformed)'
expect_eq "truncated message: the connection survives" "$(tail -1 <<<"$out")" "True"

out=$(py '
# size over msize: 100000 bytes announced, the header and a little sent
# (the rest would never be read: the server decides on the header)
c.send_raw(struct.pack("<IBH", 100000, Twrite, 1) + b"x" * 100)
try:
    t, tag, b = c.recv()
    print(t == Rerror and Reader(b).s() or "reply type %d" % t)
except (Closed, OSError) as e:
    print("closed without an Rerror (%s)" % e)
print(c.is_closed(2) or "open")')
# docs/9p.md: the stream cannot be cut any more, so the connection is
# closed; an Rerror first is welcome, else jobd's log says why
if [[ "$(head -1 <<<"$out")" =~ ^closed ]]; then
	expect_match "size over msize: closed, jobd's log names the size and msize" \
		"$(grep '9P client' "$T/jobd.log" | tail -3)" 'size 100000 is over msize 8192'
else
	expect_match "size over msize: Rerror naming msize" "$(head -1 <<<"$out")" '(msize|too (big|large|long))'
fi
expect_eq "size over msize: the connection is closed" "$(tail -1 <<<"$out")" "True"
retry_until 5 up && pass "size over msize: jobd stays up" || fail "size over msize: jobd stays up"

out=$(py '
print(rerror(250, b"abcd"))
print(alive())')
expect_match "unknown type: Rerror naming it" "$(head -1 <<<"$out")" '(unknown|unsupported|not supported).*(type|message)|250'
expect_eq "unknown type: the connection survives" "$(tail -1 <<<"$out")" "True"

out=$(py '
names = ["jobs"] * 17
body = struct.pack("<IIH", c.root, 99, 17) + b"".join(s(n) for n in names)
print(rerror(Twalk, body))
print(alive())')
expect_match "walk of 17 names: Rerror naming the limit" "$(head -1 <<<"$out")" '(16|too many|MAXWELEM)'
expect_eq "walk of 17 names: the connection survives" "$(tail -1 <<<"$out")" "True"

out=$(py '
fid, _ = c.walk(c.root, ["clone"])
c.clunk(fid)
print(rerror(Tread, struct.pack("<IQI", fid, 0, 100)))
print(rerror(Tclunk, struct.pack("<I", fid)))
print(alive())')
expect_match "read on a clunked fid: Rerror naming the fid" "$(sed -n 1p <<<"$out")" '(fid|unknown|not found)'
expect_match "clunk of a clunked fid: Rerror" "$(sed -n 2p <<<"$out")" '(fid|unknown|not found)'
expect_eq "clunked fid: the connection survives" "$(tail -1 <<<"$out")" "True"

out=$(py '
fid, _ = c.walk(c.root, ["jobs"])
print(rerror(Twalk, struct.pack("<IIH", c.root, fid, 0)))   # newfid in use
print(rerror(Twrite, struct.pack("<IQI", fid, 0, 1) + b"x")) # not open
print(rerror(Tread, struct.pack("<IQI", c.root, 0, 10))) # not open
print(alive())')
expect_match "walk to a newfid in use: Rerror" "$(sed -n 1p <<<"$out")" '(fid|in use)'
expect_match "write on a fid that is not open: Rerror" "$(sed -n 2p <<<"$out")" '(open|permission|directory)'
expect_match "read on a fid that is not open: Rerror" "$(sed -n 3p <<<"$out")" '(open|permission)'
expect_eq "misused fids: the connection survives" "$(tail -1 <<<"$out")" "True"

out=$(python3 -c "import sys, struct; sys.path.insert(0, '$HERE'); from ninep import *
c = Client.tcp('127.0.0.1', $PORT)
c.send(Tattach, struct.pack('<II', 1, NOFID) + s('root') + s(''))
t, tag, b = c.recv()
print(Reader(b).s() if t == Rerror else 'reply type %d' % t)" 2>&1)
expect_match "Tattach before Tversion: Rerror" "$out" '(version|negotiat)'

out=$(python3 -c "import sys, struct; sys.path.insert(0, '$HERE'); from ninep import *
c = Client.tcp('127.0.0.1', $PORT)
c.send_raw(struct.pack('<I', 3) + b'abc')
print(c.is_closed(5))" 2>&1)
expect_eq "a size under 7: the connection is closed" "$out" "True"
retry_until 5 up && pass "size under 7: jobd stays up" || fail "size under 7: jobd stays up"

python3 -c "import os, socket, random
random.seed(9)
for i in range(50):
    sk = socket.create_connection(('127.0.0.1', $PORT))
    sk.settimeout(0.5)
    try:
        sk.sendall(os.urandom(random.randint(1, 3000)))
        sk.recv(100)
    except Exception:
        pass
    sk.close()" 2>/dev/null
retry_until 5 up && pass "random bytes on 50 connections: jobd stays up" || fail "random bytes: jobd stays up"

# ---- blocking log reads, Tflush ----
ok "clone: a job for the log" np write /clone 'blk:0 0 1 1 *:echo line-blk'
ok "ctl start" np write /jobs/blk/ctl start
# The log's reads (docs/9p.md): a read at the end gives EOF once (so cat
# ends), the next read at the end on the same open file waits for new lines
# (so tail -f, which reads on after EOF, follows); Tflush ends a wait.
cat >"$T/tail.py" <<EOF
import sys, struct, socket, subprocess, time
sys.path.insert(0, '$HERE')
from ninep import *
c = connect('127.0.0.1:$PORT', aname='$TOKEN')
fid = c.walk_path('/jobs/blk/log')
c.open(fid, OREAD)
have = b''
# read to EOF (the first read at the end)
while True:
    d = c.read(fid, len(have))
    if not d:
        break
    have += d
print('eof at', len(have), flush=True)
def blocks(off, secs):
    """sends a read at OFF; its tag if no reply came within SECS, else None"""
    tag = c.send(Tread, struct.pack('<IQI', fid, off, 4096))
    c.sock.settimeout(secs)
    try:
        t, rtag, b = c.recv()
        print('answered', t, rtag, repr(b[4:]))
        return None
    except socket.timeout:
        return tag
    finally:
        c.sock.settimeout(20)
tag = blocks(len(have), 1.5)
print('blocked' if tag else 'not blocked', flush=True)
subprocess.run([sys.argv[1], 'run', 'blk'], stdout=subprocess.DEVNULL)
t, rtag, b = c.recv()
print('woke', t == Rread and rtag == tag, b[4:].decode().strip())
have += b[4:]
# on to the new end: at most one EOF, then a read that waits; flush it
d = c.read(fid, len(have))
have += d
print('then', len(d), 'bytes')
tag = blocks(len(have), 2)
print('second', 'blocked' if tag else 'not blocked')
ftag = c.send(Tflush, struct.pack('<H', tag or 0))
replies = []
while True:
    t, rtag, b = c.recv()
    replies.append((t, rtag, b[4:].decode(errors='replace')))
    if rtag == ftag:
        break
print('flush', replies[-1][:2] == (Tflush + 1, ftag), 'extra', [r for r in replies[:-1]])
# the fid still works, the connection too
print('after', c.read(fid, 0).count(b'\\n'), c.stat(c.root)['qid']['type'] == QTDIR)
EOF
out=$(timeout 60 python3 "$T/tail.py" "$JOBCTL" 2>&1)
echo "$out" | sed 's/^/  tail: /'
expect_match "log: a read at its end after EOF blocks" "$out" $'\nblocked\n'
expect_match "log: a new run wakes it with the run's lines" "$out" 'woke True .*:line-blk'
expect_match "log: at the new end at most one EOF, then a read blocks" "$out" $'\nthen 0 bytes\nsecond blocked'
expect_match "Tflush: Rflush for the blocked read" "$out" $'\nflush True'
expect_match "Tflush: the flushed read gets no Rread" "$out" 'extra \[\]'
expect_match "Tflush: the fid and the connection still work" "$out" $'\nafter [0-9]+ True'

# closing a connection with a read blocked: jobd stays up, a later run is fine
python3 -c "import sys, struct; sys.path.insert(0, '$HERE'); from ninep import *
c = connect('127.0.0.1:$PORT', aname='$TOKEN')
fid = c.walk_path('/jobs/blk/log'); c.open(fid, OREAD)
have = c.read(fid, 0)
c.send(Tread, struct.pack('<IQI', fid, len(have), 4096))
c.close()"
ok "a run after a blocked reader went away" jobctl run blk
retry_until 5 up && pass "blocked reader gone: jobd stays up" || fail "blocked reader gone: jobd stays up"

finish
