#!/usr/bin/env bash
# test_ninep_smoke.sh — the 9P face, end to end: diod's tools (9P2000.L)
# list and read the namespace; a small 9P client (python, below) writes
# (clone, ctl, cmd, schedule, a target's ctl, remove), checks who may do
# what (loopback without the token reads only; the token; the Unix socket
# by uid), follows the log (a read at its end waits; Tflush ends it), and
# sends bad input (truncated, oversized, unknown type, 17 names, a clunked
# fid) that is answered while the connection and jobd stay up.
. "$(dirname "$0")/lib.sh"

PORT=$((20000 + RANDOM % 20000))
jobd_start "ninep_listen = 127.0.0.1:$PORT
ninep_token = s3cret
ninep_socket = $T/jobd.9p"

cat > "$T/np.py" <<'PY'
import os, socket, struct, sys, time

NOFID = 0xffffffff
class Err(Exception):
    pass

class C:
    def __init__(self, addr, dialect='9P2000.L', msize=65536):
        if addr.startswith('/'):
            self.s = socket.socket(socket.AF_UNIX)
            self.s.connect(addr)
        else:
            h, p = addr.rsplit(':', 1)
            self.s = socket.create_connection((h, int(p)))
        self.s.settimeout(10)
        self.d = dialect
        self.tag = 0
        t, b = self.rpc(100, struct.pack('<I', msize) + self.st(dialect), tag=0xffff)
        self.msize = struct.unpack('<I', b[:4])[0]
        self.version = b[6:].decode()
    @staticmethod
    def st(x):
        x = x.encode() if isinstance(x, str) else x
        return struct.pack('<H', len(x)) + x
    def send(self, t, body, tag=None):
        if tag is None:
            self.tag = (self.tag + 1) % 0xfff0
            tag = self.tag
        self.s.sendall(struct.pack('<IBH', 7 + len(body), t, tag) + body)
        return tag
    def recv(self):
        hdr = b''
        while len(hdr) < 7:
            c = self.s.recv(7 - len(hdr))
            if not c:
                raise EOFError('connection closed')
            hdr += c
        n, t, tag = struct.unpack('<IBH', hdr)
        b = b''
        while len(b) < n - 7:
            c = self.s.recv(n - 7 - len(b))
            if not c:
                raise EOFError('connection closed')
            b += c
        return t, tag, b
    def rpc(self, t, body, tag=None):
        tag = self.send(t, body, tag)
        rt, rtag, b = self.recv()
        assert rtag == tag, (rtag, tag)
        if rt == 7:
            raise Err('errno %d' % struct.unpack('<I', b)[0])
        if rt == 107:
            n = struct.unpack('<H', b[:2])[0]
            raise Err(b[2:2 + n].decode())
        assert rt == t + 1, (rt, t)
        return rt, b
    def attach(self, fid=0, aname=''):
        body = struct.pack('<II', fid, NOFID) + self.st('nobody') + self.st(aname)
        if self.d != '9P2000':
            body += struct.pack('<I', NOFID)
        return self.rpc(104, body)
    def walk(self, fid, newfid, path):
        names = [p for p in path.split('/') if p]
        body = struct.pack('<IIH', fid, newfid, len(names))
        for n in names:
            body += self.st(n)
        t, b = self.rpc(110, body)
        if struct.unpack('<H', b[:2])[0] != len(names):
            raise Err('walk stopped')
    def open(self, fid, mode):
        if self.d == '9P2000.L':
            self.rpc(12, struct.pack('<II', fid, mode))
        else:
            self.rpc(112, struct.pack('<IB', fid, mode))
    def read(self, fid, off=0, count=8192):
        t, b = self.rpc(116, struct.pack('<IQI', fid, off, count))
        return b[4:]
    def readall(self, fid):
        out, off = b'', 0
        while True:
            d = self.read(fid, off)
            if not d:
                return out.decode()
            out += d
            off += len(d)
    def write(self, fid, data, off=0):
        data = data.encode()
        t, b = self.rpc(118, struct.pack('<IQI', fid, off, len(data)) + data)
        return struct.unpack('<I', b)[0]
    def clunk(self, fid):
        self.rpc(120, struct.pack('<I', fid))
    def cat(self, path, fid=50):
        self.walk(0, fid, path)
        self.open(fid, 0)
        try:
            return self.readall(fid)
        finally:
            self.clunk(fid)
    def put(self, path, text, fid=51):
        self.walk(0, fid, path)
        self.open(fid, 1)
        try:
            return self.write(fid, text)
        finally:
            self.clunk(fid)

def attempt(f):
    try:
        r = f()
        return 'ok' if r is None else r
    except Err as e:
        return 'error: %s' % e

def main():
    addr, what = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    if what == 'version':
        c = C(addr, args[0], int(args[1]) if args[1:] else 65536)
        print(c.version, c.msize)
    elif what == 'ls':
        # a directory read: 9P2000 stat entries, or .L Treaddir
        c = C(addr, args[0]); c.attach(aname='')
        c.walk(0, 5, args[1]); c.open(5, 0)
        names, off = [], 0
        while True:
            if c.d == '9P2000.L':
                t, b = c.rpc(40, struct.pack('<IQI', 5, off, 100))
                b = b[4:]
                if not b:
                    break
                while b:
                    off = struct.unpack('<Q', b[13:21])[0]
                    n = struct.unpack('<H', b[22:24])[0]
                    names.append(b[24:24 + n].decode())
                    b = b[24 + n:]
            else:
                b = c.read(5, off, 200)
                if not b:
                    break
                off += len(b)
                while b:
                    size = struct.unpack('<H', b[:2])[0]
                    e, b = b[2:2 + size], b[2 + size:]
                    mode = struct.unpack('<I', e[19:23])[0]
                    n = struct.unpack('<H', e[39:41])[0]
                    names.append('%s:%o' % (e[41:41 + n].decode(), mode & 0o777))
        print(' '.join(names))
    elif what == 'cat':
        c = C(addr, args[0]); c.attach(aname=args[1])
        print(attempt(lambda: c.cat(args[2])), end='')
    elif what == 'put':
        c = C(addr, args[0]); c.attach(aname=args[1])
        print(attempt(lambda: c.put(args[2], args[3])))
    elif what == 'attach':
        c = C(addr, args[0])
        print(attempt(lambda: c.attach(aname=args[1]) and None))
    elif what == 'size':
        # the size stat gives (Tgetattr in .L, Tstat otherwise)
        c = C(addr, args[0]); c.attach(aname=args[2] if len(args) > 2 else '')
        c.walk(0, 5, args[1])
        if c.d == '9P2000.L':
            t, b = c.rpc(24, struct.pack('<IQ', 5, 0x7ff))
            print(struct.unpack('<Q', b[49:57])[0])
        else:
            t, b = c.rpc(124, struct.pack('<I', 5))
            print(struct.unpack('<Q', b[35:43])[0])
    elif what == 'rm':
        c = C(addr, args[0]); c.attach(aname=args[1])
        def rm():
            c.walk(0, 9, args[2])
            c.rpc(122, struct.pack('<I', 9))
        print(attempt(rm))
    elif what == 'clone-read':
        # write a definition to clone, read the new name on the same fid
        c = C(addr, '9P2000.L'); c.attach(aname=args[0])
        c.walk(0, 5, 'clone'); c.open(5, 2)
        n = c.write(5, args[1])
        # read at the offset the write left, as a shell's fd would
        name = c.read(5, n).decode()
        assert c.read(5, n + 20) == b''     # once: cat ends
        print(name, end='')
    elif what == 'follow':
        # read the log to its end (EOF once), then a read waits until a
        # new line comes (jobctl run in the background makes one)
        c = C(addr, '9P2000.L'); c.attach(aname=args[0])
        c.walk(0, 5, 'jobs/%s/log' % args[1]); c.open(5, 0)
        old = c.readall(5).encode()
        open(args[2], 'w').close()        # tell the test to run the job
        d = c.read(5, len(old))
        print('new:', d.decode().strip().split('\n')[0].split(':', 3)[-1])
    elif what == 'flush':
        c = C(addr, '9P2000.L'); c.attach(aname=args[0])
        c.walk(0, 5, 'jobs/%s/log' % args[1]); c.open(5, 0)
        old = c.readall(5).encode()
        tag = c.send(116, struct.pack('<IQI', 5, len(old), 8192))
        time.sleep(0.3)
        ftag = c.send(108, struct.pack('<H', tag))
        t, rtag, b = c.recv()
        print('flushed' if (t, rtag) == (109, ftag) else 'got %d/%d' % (t, rtag))
        print('after:', c.cat('jobs/%s/ctl' % args[1]).strip())
    elif what == 'pipeline':
        # 300 reads sent at once (more than the 64 in flight jobd takes
        # before it stops reading): every tag is answered, once
        c = C(addr, '9P2000.L'); c.attach(aname='')
        c.walk(0, 5, args[0]); c.open(5, 0)
        msgs = b''
        for tag in range(1, 301):
            body = struct.pack('<IQI', 5, 0, 100)
            msgs += struct.pack('<IBH', 7 + len(body), 116, tag) + body
        c.s.sendall(msgs)
        seen = {}
        for _ in range(300):
            t, tag, b = c.recv()
            seen[tag] = b[4:].decode()
        print(len(seen), set(seen.values()) == {'started\n'})
    elif what == 'garbage':
        # random bodies under every type, on fids that exist and do not,
        # framed right: each is answered (or dropped with its connection
        # for a size jobd cannot take); jobd stays up
        import random
        rnd = random.Random(int(args[0]))
        answered = 0
        for session in range(20):
            c = C(addr, rnd.choice(['9P2000', '9P2000.u', '9P2000.L']))
            c.attach(aname='')
            c.walk(0, 1, 'jobs'); c.walk(0, 2, 'clone')
            for i in range(50):
                t = rnd.choice([rnd.randrange(256), 110, 116, 118, 120,
                                122, 124, 12, 24, 40, 76, 108])
                body = struct.pack('<I', rnd.choice([0, 1, 2, 3, 77]))
                body += bytes(rnd.randrange(256) for _ in range(rnd.randrange(40)))
                try:
                    c.send(t, body, tag=i)
                    c.recv()
                    answered += 1
                except (EOFError, ConnectionResetError, socket.timeout):
                    break
        print('answered', answered > 500)
    elif what == 'many':
        # 50 clients at once, their requests interleaved
        cs = [C(addr, rnd) for rnd in ['9P2000', '9P2000.u', '9P2000.L'] * 17][:50]
        for i, c in enumerate(cs):
            c.attach(aname='')
            c.walk(0, 1, args[0]); c.open(1, 0)
        for c in cs:
            c.send(116, struct.pack('<IQI', 1, 0, 100), tag=9)
        got = set()
        for c in cs:
            t, tag, b = c.recv()
            got.add(b[4:].decode())
        print(len(cs), got)
    elif what == 'bad':
        c = C(addr, '9P2000.L'); c.attach(aname='')
        out = []
        def raw(t, body):
            tag = c.send(t, body)
            rt, rtag, b = c.recv()
            return '%d %s' % (rt, struct.unpack('<I', b)[0] if rt == 7 else b)
        out.append('unknown: ' + raw(99, b'xyz'))
        out.append('walk17: ' + raw(110, struct.pack('<IIH', 0, 1, 17) + C.st('a') * 17))
        out.append('truncated: ' + raw(118, struct.pack('<IQI', 0, 0, 500) + b'x'))
        c.walk(0, 3, 'jobs'); c.open(3, 0); c.clunk(3)
        out.append('clunked: ' + raw(116, struct.pack('<IQI', 3, 0, 100)))
        out.append('still: ' + c.cat('jobs/hello/ctl').strip())
        # a size over msize: the stream cannot be cut any more: answered
        # under its tag, then closed
        c.s.sendall(struct.pack('<IBH', 0x7fffffff, 116, 77))
        t, tag, b = c.recv()
        out.append('oversize: %d %d %d' % (t, tag, struct.unpack('<I', b)[0]))
        try:
            c.recv()
            out.append('oversize: still open')
        except (EOFError, ConnectionResetError):
            out.append('oversize: closed')
        print('\n'.join(out))

main()
PY
np() { python3 "$T/np.py" "127.0.0.1:$PORT" "$@"; }
npu() { python3 "$T/np.py" "$T/jobd.9p" "$@"; }

jobctl create hello --schedule '0 0 1 1 *' -- echo hi >/dev/null

# --- dialects and diod's tools ------------------------------------------------
expect_eq "9P2000.L is answered as asked" "$(np version 9P2000.L)" "9P2000.L 65536"
expect_eq "9P2000 is answered as asked" "$(np version 9P2000)" "9P2000 65536"
expect_eq "9P2000.u is answered as asked" "$(np version 9P2000.u)" "9P2000.u 65536"
expect_eq "msize is capped at 128 KiB" "$(np version 9P2000.L 1048576)" "9P2000.L 131072"
expect_eq "an unknown version is answered 'unknown'" "$(np version 9P3000)" "unknown 65536"
expect_eq "a 9P2000 directory read gives stat entries, in small reads" \
	"$(np ls 9P2000 jobs/hello)" "ctl:666 cmd:644 log:444 schedule:644 status:444 runs:555"
expect_eq "... and in 9P2000.u" "$(np ls 9P2000.u /)" "clone:666 jobs:755 targets:555"
expect_eq "a 9P2000.L Treaddir goes on from its offsets" \
	"$(np ls 9P2000.L jobs/hello)" "ctl cmd log schedule status runs"
expect_eq "diodls lists the root" "$(diodls -s "127.0.0.1:$PORT" / | tr '\n' ' ')" "clone jobs targets "
expect_eq "diodls lists the jobs" "$(diodls -s "127.0.0.1:$PORT" /jobs)" "hello"
expect_eq "diodls lists a job's files" "$(diodls -s "127.0.0.1:$PORT" /jobs/hello | sort | tr '\n' ' ')" \
	"cmd ctl log runs schedule status "
expect_eq "diodcat reads cmd" "$(diodcat -s "127.0.0.1:$PORT" /jobs/hello/cmd)" "echo hi"
expect_eq "diodcat reads ctl" "$(diodcat -s "127.0.0.1:$PORT" /jobs/hello/ctl)" "started"
expect_match "diodcat reads schedule with its next time" \
	"$(diodcat -s "127.0.0.1:$PORT" /jobs/hello/schedule)" '^0 0 1 1 \*:20[0-9][0-9]-01-01T00:00:00'
expect_match "9P2000 reads too" "$(np cat 9P2000 s3cret jobs/hello/status)" "state started"

# --- access: loopback without the token reads, and starts/stops -----------------
expect_match "loopback without the token may not clone" \
	"$(np put 9P2000.L '' clone 'x1:@daily:true')" "error: errno 1"
expect_match "... (9P2000 gives the text)" \
	"$(np put 9P2000 '' clone 'x1:@daily:true')" "needs ninep_token"
expect_code 4 "... and no job was made" jobctl show x1
expect_match "... nor set a command" "$(np put 9P2000 ctl jobs/hello/cmd 'rm -rf /')" "needs ninep_token"
expect_eq "... but may stop a job" "$(np put 9P2000.L ctl jobs/hello/ctl 'STOP
')" 5
expect_match "... which jobctl sees" "$(jobctl show hello)" "enabled: *(no|false)"
expect_eq "a wrong token from loopback reads only" "$(np put 9P2000.L nope jobs/hello/ctl start)" 5

# --- the token: clone, cmd, schedule, ctl ------------------------------------------
expect_eq "clone NAME:SCHEDULE:COMMAND" "$(np put 9P2000.L s3cret clone 'viap9:*/10 * * * *:echo a:b
')" 28
expect_match "... is the same job in jobctl" "$(jobctl show viap9)" "echo a:b"
expect_match "... and starts stopped" "$(diodcat -s "127.0.0.1:$PORT" /jobs/viap9/ctl)" "stopped"
expect_match "clone's line form takes a calendar schedule" \
	"$(np put 9P2000.L s3cret clone $'cal9\n00:00-02:00@121 mon-fri\necho cal')" "^[0-9]+$"
expect_match "... as jobctl sees" "$(jobctl show cal9)" "00:00-02:00@121 mon-fri"
expect_match "a bad schedule is refused with the parser's text" \
	"$(np put 9P2000 s3cret clone 'bad9:x y z:true')" "error: .*(syntax|invalid|field)"
expect_match "a duplicate name is refused" "$(np put 9P2000 s3cret clone 'viap9:@daily:true')" "already exists"
expect_match "an empty command is refused" "$(np put 9P2000 s3cret clone 'e9:@daily:')" "empty command"
gen=$(python3 "$T/np.py" "127.0.0.1:$PORT" clone-read s3cret ':@hourly:echo gen')
expect_match "clone with no name makes one, read back on the same fid" "$gen" "^job-"
expect_code 0 "... and it exists" jobctl show "$gen"
expect_match "cmd is written" "$(np put 9P2000.L s3cret jobs/viap9/cmd 'echo changed
')" "^[0-9]+$"
expect_match "... as jobctl sees" "$(jobctl show viap9)" "echo changed"
np put 9P2000.L s3cret jobs/viap9/schedule '@daily' >/dev/null
expect_match "schedule is written" "$(jobctl show viap9)" "@daily"
expect_eq "ctl start" "$(np put 9P2000.L s3cret jobs/viap9/ctl start)" 5
expect_match "... as jobctl sees" "$(jobctl show viap9)" "enabled: *(yes|true)"
expect_match "an unknown ctl word is refused" "$(np put 9P2000 s3cret jobs/viap9/ctl frob)" "unknown ctl command"
expect_match "log is read-only" "$(np put 9P2000 s3cret jobs/viap9/log x)" "read-only"
jobctl create mine -- true >/dev/null
expect_match "a job made by jobctl shows at once" "$(diodls -s "127.0.0.1:$PORT" /jobs)" "mine"

# --- runs and the log -----------------------------------------------------------------
jobctl run hello >/dev/null
expect_match "log has the run" "$(np cat 9P2000.L s3cret jobs/hello/log)" ':started
.*:hi
.*:completed'
len=$(np cat 9P2000.L s3cret jobs/hello/log | wc -c)
expect_eq "the log's size is its length (getattr), for tail -f" "$(np size 9P2000.L jobs/hello/log s3cret)" "$len"
expect_eq "... and in 9P2000's stat" "$(np size 9P2000 jobs/hello/log s3cret)" "$len"
# output is its runs' users': loopback without the token sees none of it
expect_match "loopback without the token may not read the log" \
	"$(np cat 9P2000 '' jobs/hello/log)" "needs ninep_token"
expect_eq "... whose size it sees as 0 (ls -l still lists it)" "$(np size 9P2000.L jobs/hello/log)" "0"
jid=$(diodls -a s3cret -s "127.0.0.1:$PORT" /jobs/hello/runs | tail -1)
expect_match "runs lists the jid" "$jid" '^[0-9]{20}$'
expect_eq "a run's stdout" "$(np cat 9P2000.L s3cret "jobs/hello/runs/$jid/stdout")" "hi"
expect_match "a run's status" "$(np cat 9P2000.L s3cret "jobs/hello/runs/$jid/status")" "result ok"
jobctl create big -- sh -c 'seq 1 60000' >/dev/null
jobctl run big >/dev/null
bjid=$(diodls -a s3cret -s "127.0.0.1:$PORT" /jobs/big/runs | tail -1)
expect_eq "a large stdout reads whole, over many reads (diodcat)" \
	"$(diodcat -a s3cret -s "127.0.0.1:$PORT" "/jobs/big/runs/$bjid/stdout" | md5sum)" "$(seq 1 60000 | md5sum)"
jobctl create failing -- sh -c 'echo oops >&2; exit 3' >/dev/null
jobctl run failing >/dev/null 2>&1
expect_match "a failure and its stderr are marked" "$(np cat 9P2000.L s3cret jobs/failing/log)" \
	':stderr:oops
.*:failed:.*exit 3'
rm -f "$T/go"
np follow s3cret hello "$T/go" > "$T/follow.out" 2>&1 &
fpid=$!
retry_until 10 test -e "$T/go"
jobctl run hello >/dev/null
wait $fpid
expect_eq "a read at the log's end waits for the next run's lines" "$(cat "$T/follow.out")" "new: started"
expect_eq "Tflush ends a waiting read; the connection goes on" \
	"$(np flush s3cret hello | tr '\n' ' ')" "flushed after: started "

expect_eq "50 clients at once" "$(np many jobs/hello/ctl)" "50 {'started\\n'}"
expect_eq "300 pipelined requests are all answered" "$(np pipeline jobs/hello/ctl)" "300 True"
expect_eq "... and so are 300 that go through the ops (status)" "$(np pipeline jobs/hello/status | cut -d' ' -f1)" "300"

# --- targets ------------------------------------------------------------------------
expect_match "a target's ctl" "$(np cat 9P2000.L '' targets/default/ctl)" "state active"
np put 9P2000.L '' targets/default/ctl 'concurrency 7' >/dev/null
expect_match "concurrency N" "$(jobctl targets)" "default.*7"
np put 9P2000.L '' targets/default/ctl pause >/dev/null
expect_match "pause" "$(np cat 9P2000.L '' targets/default/ctl)" "state paused"
np put 9P2000.L '' targets/default/ctl continue >/dev/null
expect_match "continue" "$(np cat 9P2000.L '' targets/default/ctl)" "state active"
expect_match "a bad concurrency is refused" "$(np put 9P2000 '' targets/default/ctl 'concurrency x')" "want a number"

# --- remove -------------------------------------------------------------------------
expect_match "loopback without the token may not remove" "$(np rm 9P2000 '' jobs/viap9)" "needs ninep_token"
expect_eq "remove /jobs/NAME deletes the job" "$(np rm 9P2000.L s3cret jobs/viap9)" "ok"
expect_code 4 "... as jobctl sees" jobctl show viap9
expect_match "only a job directory can be removed" "$(np rm 9P2000 s3cret jobs/hello/cmd)" "only /jobs/NAME"

# --- the Unix socket: the peer's uid ----------------------------------------------------
expect_eq "the socket's root peer may clone" "$(npu put 9P2000.L '' clone 'sock9:@daily:true')" 17
expect_code 0 "... a job jobctl sees" jobctl show sock9
chmod 755 "$T"; chmod 644 "$T/np.py"
asnobody() { setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 "$T/np.py" "$T/jobd.9p" "$@" 2>&1; }
expect_eq "another uid on the socket does not see root's jobs" \
	"$(asnobody cat 9P2000.L "" jobs/hello/ctl)" "error: walk stopped"
expect_match "... may clone a job of its own" "$(asnobody put 9P2000.L '' clone 'nob9:@daily:id -u')" "^[0-9]+$"
expect_match "... which runs as that uid" "$(jobctl show nob9)" "user: *nobody"
expect_eq "... and sees it" "$(asnobody cat 9P2000.L '' jobs/nob9/cmd)" "id -u"

# --- bad input ----------------------------------------------------------------------
out=$(np bad)
expect_match "an unknown type gets an error (EOPNOTSUPP)" "$out" "unknown: 7 95"
expect_match "17 walk names get an error (EPROTO)" "$out" "walk17: 7 71"
expect_match "a truncated message gets an error (EPROTO)" "$out" "truncated: 7 71"
expect_match "a read on a clunked fid gets an error (EBADF)" "$out" "clunked: 7 9"
expect_match "... and the connection goes on" "$out" "still: started"
expect_match "a size over msize is answered (EMSGSIZE) under its tag" "$out" "oversize: 7 77 90"
expect_match "... and closes the connection" "$out" "oversize: closed"
expect_eq "random messages in every dialect are answered" "$(np garbage $RANDOM)" "answered True"
expect_code 0 "jobd is still up" jobctl status

# --- the log survives a restart (it comes from the store) --------------------------------
before=$(np cat 9P2000.L s3cret jobs/hello/log)
rm -f "$T/go2"
np follow s3cret hello "$T/go2" >/dev/null 2>&1 &
retry_until 10 test -e "$T/go2"
sleep 0.5                      # its read waits in jobd now
jobd_stop
expect_eq "jobd stops cleanly with a log read waiting" "$?" 0
ip=$(hostname -I 2>/dev/null | awk '{print $1}')
[ -n "$ip" ] && [[ $ip != 127.* ]] &&
	sed -i "s/^ninep_listen = .*/ninep_listen = 0.0.0.0:$PORT/" "$T/jobd.conf"
JOBD_KEEP_CONFIG=1 jobd_start
retry_until 10 np version 9P2000.L
expect_eq "the log is the same after a restart" "$(np cat 9P2000.L s3cret jobs/hello/log)" "$before"
expect_match "... and not empty" "$before" "completed"

# --- a client from another address needs the token ---------------------------------------
if [ -n "$ip" ] && [[ $ip != 127.* ]]; then
	expect_match "from $ip without the token: refused" \
		"$(python3 "$T/np.py" "$ip:$PORT" attach 9P2000 '')" "error: attach refused"
	expect_eq "from $ip with the token: attached" \
		"$(python3 "$T/np.py" "$ip:$PORT" attach 9P2000 s3cret)" "ok"
	for i in 1 2 3 4 5; do python3 "$T/np.py" "$ip:$PORT" attach 9P2000 guess$i >/dev/null; done
	expect_match "after 5 wrong names from $ip even the token is not compared" \
		"$(python3 "$T/np.py" "$ip:$PORT" attach 9P2000 s3cret)" "too many wrong attach names"
	expect_eq "... while loopback still attaches" \
		"$(python3 "$T/np.py" "127.0.0.1:$PORT" attach 9P2000 s3cret)" "ok"
fi
finish
