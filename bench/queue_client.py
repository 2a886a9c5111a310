#!/usr/bin/env python3
# The clients of bench/queue.sh: one process, one thread, the standard
# library only (the same for jobd and its peers).
#   queue_client.py builtin SOCKET N WINDOW
#       N submits of {"builtin": "true", "wait": true} on one connection to
#       jobd, WINDOW of them in flight; each reply comes when its run is
#       finished.  Prints jobs/s.
#   queue_client.py e2e SOCKET N WINDOW
#       N submits of argv ["/bin/true"] (no wait) pipelined on one
#       connection, then N `wait` requests pipelined; every run must end ok.
#       Prints jobs/s from the first submit to the last run finished.
#   queue_client.py beanstalk PORT N WINDOW
#       beanstalkd: a producer connection pipelining `put`s (WINDOW not yet
#       answered) and a consumer connection pipelining `reserve`s (WINDOW
#       outstanding), each RESERVED answered with `delete`; done when N
#       jobs are DELETED.  Prints jobs/s.
import json, os, selectors, socket, sys, time

EOT = b"\x04"


def die(msg):
    sys.stderr.write("bench client: %s\n" % msg)
    sys.exit(1)


class JobdConn:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""

    def replies(self):
        """Blocks for at least one message; returns the parsed responses."""
        while True:
            d = self.s.recv(1 << 20)
            if not d:
                die("jobd closed the connection")
            self.buf += d
            if EOT in d:
                break
        *msgs, self.buf = self.buf.split(EOT)
        out = []
        for m in msgs:
            msg = json.loads(m)
            if msg[0] != 1:          # events, pongs
                continue
            if "error" in msg[1]:
                die("jobd: %s" % msg[1]["error"])
            out.append(msg[1])
        return out


def pipeline(conn, make_req, n, window, on_reply):
    """Sends n requests (make_req(i, no) -> bytes), at most window
    unanswered, and hands every response to on_reply."""
    sent = done = 0
    while done < n:
        k = min(n - sent, window - (sent - done))
        if k > 0:
            conn.s.sendall(b"".join(make_req(sent + i, (sent + i) % 999999 + 1)
                                    for i in range(k)))
            sent += k
        for r in conn.replies():
            on_reply(r)
            done += 1


def check_run(r):
    run = r["data"]["run"]
    if run.get("status") != "done" or run.get("result") != "ok":
        die("run %s: status %s result %s" % (run.get("jid"), run.get("status"),
                                             run.get("result")))


def builtin(path, n, window):
    c = JobdConn(path)
    req = ('[0,{"type":"submit","no":%d,"data":{"builtin":"true",'
           '"wait":true}}]').encode() + EOT
    t0 = time.monotonic()
    pipeline(c, lambda i, no: req % no, n, window, check_run)
    return n / (time.monotonic() - t0)


def e2e(path, n, window):
    c = JobdConn(path)
    sub = ('[0,{"type":"submit","no":%d,"data":{"argv":["/bin/true"]}}]'
           ).encode() + EOT
    jids = []
    t0 = time.monotonic()
    pipeline(c, lambda i, no: sub % no, n, window,
             lambda r: jids.append(r["data"]["jid"]))
    wreq = lambda i, no: ('[0,{"type":"wait","no":%d,"data":{"jid":"%s"}}]'
                          % (no, jids[i])).encode() + EOT
    pipeline(c, wreq, n, window, check_run)
    return n / (time.monotonic() - t0)


def beanstalk(port, n, window):
    prod = socket.create_connection(("127.0.0.1", port))
    cons = socket.create_connection(("127.0.0.1", port))
    for s in (prod, cons):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    body = b"noop"
    put = b"put 0 0 60 %d\r\n%s\r\n" % (len(body), body)
    sel = selectors.DefaultSelector()
    sel.register(prod, selectors.EVENT_READ, "p")
    sel.register(cons, selectors.EVENT_READ, "c")
    pbuf = cbuf = b""
    puts = inserted = reserves = deleted = got = 0
    t0 = time.monotonic()

    def more_puts():
        nonlocal puts
        k = min(n - puts, window - (puts - inserted))
        if k > 0:
            prod.sendall(put * k)
            puts += k

    def more_reserves():
        nonlocal reserves
        k = min(n - reserves, window - (reserves - got))
        if k > 0:
            cons.sendall(b"reserve\r\n" * k)
            reserves += k

    more_puts()
    more_reserves()
    while deleted < n:
        for key, _ in sel.select():
            if key.data == "p":
                d = prod.recv(1 << 20)
                if not d:
                    die("beanstalkd closed the producer connection")
                pbuf += d
                *lines, pbuf = pbuf.split(b"\r\n")
                for ln in lines:
                    if not ln.startswith(b"INSERTED "):
                        die("put: %r" % ln)
                    inserted += 1
                more_puts()
                continue
            d = cons.recv(1 << 20)
            if not d:
                die("beanstalkd closed the consumer connection")
            cbuf += d
            out = []
            while True:
                i = cbuf.find(b"\r\n")
                if i < 0:
                    break
                ln = cbuf[:i]
                if ln.startswith(b"RESERVED "):
                    _, jid, size = ln.split()
                    end = i + 2 + int(size) + 2
                    if len(cbuf) < end:
                        break            # the body is not all here yet
                    cbuf = cbuf[end:]
                    got += 1
                    out.append(b"delete " + jid + b"\r\n")
                elif ln == b"DELETED":
                    cbuf = cbuf[i + 2:]
                    deleted += 1
                else:
                    die("consumer: %r" % ln)
            if out:
                cons.sendall(b"".join(out))
            more_reserves()
    return n / (time.monotonic() - t0)


def main():
    mode, where, n, window = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        int(sys.argv[4])
    if mode == "builtin":
        rate = builtin(where, n, window)
    elif mode == "e2e":
        rate = e2e(where, n, window)
    elif mode == "beanstalk":
        rate = beanstalk(int(where), n, window)
    else:
        die("unknown mode " + mode)
    print("%.0f" % rate)


main()
