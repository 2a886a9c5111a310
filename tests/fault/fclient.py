#!/usr/bin/env python3
"""fclient.py — the fault tests' client for jobd's Unix socket: pipelined
requests (JSON + 0x04, docs/protocol.md), and the kill -9 driver.

Usage (the socket from JOBD_SOCKET):
  fclient.py submit N [--target T] [--builtin NAME | --argv JSON]
        N pipelined submits; prints one jid a line (exit 1 on an error)
  fclient.py lookup < jids
        one compact JSON run a line, without stdout/stderr (null when not
        found)
  fclient.py kill9 --jobd BIN --conf FILE --ledger FILE --seed S --runs N
        [--kills K] [--target T] [--concurrency C] [--log FILE]
        the kill -9 scenario (tests/fault/fault_kill9.sh): prints one JSON
        document of facts that the shell side asserts.
"""
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time

EOT = b"\x04"


class Conn:
    """One connection; send() and recv() of whole messages."""

    def __init__(self, path, timeout=60.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

    def send(self, no, rtype, data=None):
        msg = {"type": rtype, "no": no}
        if data is not None:
            msg["data"] = data
        self.s.sendall(json.dumps([0, msg]).encode() + EOT)

    def recv(self):
        """The next message, or None on EOF."""
        while EOT not in self.buf:
            d = self.s.recv(1 << 16)
            if not d:
                return None
            self.buf += d
        m, self.buf = self.buf.split(EOT, 1)
        return json.loads(m)

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def pipelined(path, reqs, window=64):
    """Sends (type, data) requests with up to `window` outstanding; returns
    the list of response bodies ({"data"} or {"error"}) in request order."""
    c = Conn(path)
    out = [None] * len(reqs)
    sent = got = 0
    while got < len(reqs):
        while sent < len(reqs) and sent - got < window:
            c.send(sent % 999999 + 1, *reqs[sent])
            sent += 1
        m = c.recv()
        if m is None:
            raise EOFError("jobd closed the connection")
        if m[0] != 1:
            continue
        out[got] = m[1]
        got += 1
    c.close()
    return out


def cmd_submit(argv):
    n = int(argv[0])
    data = {}
    i = 1
    while i < len(argv):
        if argv[i] == "--target":
            data["target"] = argv[i + 1]
        elif argv[i] == "--builtin":
            data["builtin"] = argv[i + 1]
        elif argv[i] == "--argv":
            data["argv"] = json.loads(argv[i + 1])
        i += 2
    rc = 0
    for r in pipelined(os.environ["JOBD_SOCKET"], [("submit", data)] * n):
        if "error" in r:
            print("error: %s" % r["error"], file=sys.stderr)
            rc = 1
        else:
            print(r["data"]["jid"])
    return rc


def strip(run):
    for k in ("stdout", "stderr"):
        run.pop(k, None)
    return run


def lookup_all(path, jids):
    res = pipelined(path, [("lookup", {"jid": j}) for j in jids])
    return [strip(r["data"]["run"]) if "data" in r else None for r in res]


def cmd_lookup(argv):
    jids = [l.strip() for l in sys.stdin if l.strip()]
    for r in lookup_all(os.environ["JOBD_SOCKET"], jids):
        print(json.dumps(r, separators=(",", ":")))
    return 0


# ---- the kill -9 driver ---------------------------------------------------

def opts(argv):
    o = {}
    i = 0
    while i < len(argv):
        o[argv[i].lstrip("-")] = argv[i + 1]
        i += 2
    return o


def cmd_kill9(argv):
    o = opts(argv)
    sock = os.environ["JOBD_SOCKET"]
    n = int(o["runs"])
    kills = int(o.get("kills", 4))
    target = o.get("target", "fault")
    seed = int(o["seed"])
    ledger = o["ledger"]
    log = open(o.get("log", "/dev/null"), "ab")
    rnd = random.Random(seed)
    deadline = time.monotonic() + float(o.get("timeout", 600))

    # kill points: after a seeded number of "events" (acknowledged submits +
    # ledger lines: 2N in all), so about half the kills fall while
    # submitting and half while only runs are going; plus a seeded delay of
    # 0..30 ms so a kill lands anywhere inside a run's life.
    points = sorted(rnd.randrange(1, 2 * n) for _ in range(kills))
    delays = [rnd.random() * 0.03 for _ in range(kills)]

    state = {"proc": None, "kill_times": [], "restarts": 0,
             "lock_retries": 0}
    lock = threading.Lock()
    up = threading.Event()

    def start():
        p = subprocess.Popen([o["jobd"], "-c", o["conf"]], stdout=log,
                             stderr=log)
        state["proc"] = p
        t_start = time.monotonic()
        while time.monotonic() < deadline:
            try:
                c = Conn(sock, 2)
                c.send(1, "status")
                if c.recv() is not None:
                    c.close()
                    up.set()
                    return
            except OSError:
                pass
            if p.poll() is not None:
                # 75: the state dir's lock is still held.  A child that
                # the killed jobd was spawning holds a copy of the lock's
                # fd until its exec; retry for up to 2 s.
                if p.returncode == 75 and time.monotonic() - t_start < 2:
                    state["lock_retries"] += 1
                    time.sleep(0.02)
                    p = subprocess.Popen([o["jobd"], "-c", o["conf"]],
                                         stdout=log, stderr=log)
                    state["proc"] = p
                    continue
                raise SystemExit("jobd exited with %s at start" % p.returncode)
            time.sleep(0.02)
        raise SystemExit("jobd did not start")

    # tokens: t<seed>_<i>; each submit carries its own
    def token(i):
        return "t%d_%d" % (seed, i)

    acked = {}        # i -> jid
    doubt = set()     # i sent, no reply seen (jobd died in between)
    errors = []       # error replies
    progress = {"acked": 0}

    def submitter():
        i = 0
        while i < n and time.monotonic() < deadline:
            up.wait()
            try:
                c = Conn(sock)
            except OSError:
                time.sleep(0.02)
                continue
            inflight = {}   # no -> i
            nxt = i
            try:
                while (nxt < n or inflight):
                    while nxt < n and len(inflight) < 32:
                        no = nxt % 999999 + 1
                        cmd = "echo %s >> %s" % (token(nxt), ledger)
                        c.send(no, "submit", {"argv": ["sh", "-c", cmd],
                                              "target": target})
                        inflight[no] = nxt
                        nxt += 1
                    m = c.recv()
                    if m is None:
                        raise EOFError
                    if m[0] != 1:
                        continue
                    k = inflight.pop(m[1]["no"])
                    if "error" in m[1]:
                        errors.append("submit %d: %s" % (k, m[1]["error"]))
                    else:
                        acked[k] = m[1]["data"]["jid"]
                        with lock:
                            progress["acked"] += 1
                i = nxt
            except (OSError, EOFError, ValueError):
                # jobd died: what was sent without a reply is in doubt
                doubt.update(inflight.values())
                i = nxt
                time.sleep(0.01)
            c.close()

    def ledger_lines():
        try:
            with open(ledger, "rb") as f:
                return f.read().count(b"\n")
        except FileNotFoundError:
            return 0

    start()
    t0 = time.monotonic()
    th = threading.Thread(target=submitter, daemon=True)
    th.start()
    still = {}
    for k, pt in enumerate(points):
        while time.monotonic() < deadline:
            with lock:
                ev = progress["acked"]
            lines = ledger_lines()
            if ev + lines >= pt:
                break
            # all submitted and the ledger still for 0.3 s: the point is
            # past what the lost and in-doubt runs let it reach
            if not th.is_alive():
                if lines != still.get("lines"):
                    still.update(lines=lines, since=time.monotonic())
                elif time.monotonic() - still["since"] > 0.3:
                    break
            time.sleep(0.002)
        time.sleep(delays[k])
        up.clear()
        state["proc"].kill()
        state["kill_times"].append(time.time())
        state["proc"].wait()
        start()
        state["restarts"] += 1
    th.join(max(0, deadline - time.monotonic()))

    # let it finish: until every acknowledged jid is done
    all_jids = dict(acked)
    runs = {}
    while time.monotonic() < deadline:
        try:
            c = Conn(sock)
            c.send(1, "status")
            cs = c.recv()[1]["data"]["counts"]
            c.close()
            if cs["waiting"] == 0 and cs["running"] == 0:
                break
        except OSError:
            pass
        time.sleep(0.2)
    while time.monotonic() < deadline:
        rs = lookup_all(sock, [all_jids[i] for i in sorted(all_jids)])
        runs = dict(zip(sorted(all_jids), rs))
        if all(r and r.get("status") == "done" for r in rs):
            break
        time.sleep(0.2)
    elapsed = time.monotonic() - t0
    # a last look at the waiting list: nothing left behind
    c = Conn(sock)
    c.send(1, "status")
    st = c.recv()[1]["data"]
    c.close()

    # the ledger
    counts = {}
    with open(ledger) as f:
        for line in f:
            t = line.strip()
            counts[t] = counts.get(t, 0) + 1
    tok_of = {token(i): i for i in range(n)}

    kt = [t * 1e6 for t in state["kill_times"]]

    def us(s):
        # RFC 3339 with microseconds, UTC
        if not s:
            return None
        import calendar
        base, frac = s.rstrip("Z").split(".")
        t = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
        return t * 1e6 + int(frac.ljust(6, "0")[:6])

    facts = {
        "seed": seed, "runs": n, "kills": len(kt), "elapsed_s": round(elapsed, 1),
        "submitted": len(acked) + len(doubt) + len(errors),
        "acked": len(acked), "in_doubt": len(doubt), "submit_errors": errors[:5],
        "not_found": [], "not_done": [], "bad_result": [], "lost": 0,
        "lost_not_at_kill": [], "ok_not_once": [], "twice": [],
        "stray": [], "doubt_ran": 0, "waiting_left": st["counts"]["waiting"],
        "running_left": st["counts"]["running"],
        "lock_retries": state["lock_retries"],
    }
    for i, jid in sorted(acked.items()):
        r = runs.get(i)
        if r is None:
            facts["not_found"].append(jid)
            continue
        if r["status"] != "done":
            facts["not_done"].append("%s:%s" % (jid, r["status"]))
            continue
        c = counts.get(token(i), 0)
        if r["result"] == "ok" and r["return_code"] == 0:
            if c != 1:
                facts["ok_not_once"].append("%s:%s x%d" % (jid, token(i), c))
        elif r.get("sig") == "LOST":
            facts["lost"] += 1
            ts, tf = us(r["time_started"]), us(r["time_finished"])
            if ts is None or not any(ts <= k and (tf is None or k <= tf)
                                     for k in kt):
                facts["lost_not_at_kill"].append(
                    "%s started %s finished %s" % (jid, r["time_started"],
                                                   r["time_finished"]))
        else:
            facts["bad_result"].append("%s:%s/%s/%s" % (
                jid, r["result"], r["return_code"], r["sig"]))
    for t, c in counts.items():
        if c > 1:
            facts["twice"].append("%s x%d" % (t, c))
        if t not in tok_of:
            facts["stray"].append(t)
        elif tok_of[t] not in acked:
            if tok_of[t] in doubt:
                facts["doubt_ran"] += 1
            else:
                facts["stray"].append(t)
    for k in ("not_found", "not_done", "bad_result", "lost_not_at_kill",
              "ok_not_once", "twice", "stray"):
        facts[k + "_n"] = len(facts[k])
        facts[k] = facts[k][:5]
    print(json.dumps(facts))
    state["proc"].terminate()
    try:
        state["proc"].wait(30)
    except subprocess.TimeoutExpired:
        state["proc"].kill()
    return 0


def main(argv):
    cmd = argv[1]
    if cmd == "submit":
        return cmd_submit(argv[2:])
    if cmd == "lookup":
        return cmd_lookup(argv[2:])
    if cmd == "kill9":
        return cmd_kill9(argv[2:])
    print("unknown command %s" % cmd, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
