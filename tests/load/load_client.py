#!/usr/bin/env python3
"""load_client.py — N concurrent clients against one running jobd for a
bounded time (tests/load/load.sh starts jobd and calls this).

Half the clients talk to the Unix socket the way jobctl does (status,
submit of a builtin no-op run, lookup of its jid, runs --limit 5), the
other half to the TCP wire face (status, poll, ping) when --port is given;
without it every client uses the Unix socket.  Each client is one
connection used for the whole run, one request at a time (closed loop).

Checks: every reply is a response to the request sent (same `no`), with
no error; no connection is dropped or refused; jobd's VmRSS, sampled every
second, does not grow by more than --rss-growth (a fraction) over the
last --rss-window seconds (the median of the window's last third against
its first third).  Prints p50/p99/max latency per request kind
and overall, requests/s, the RSS samples' summary, then "ok ..." / "FAIL
..." lines, one per check.  Exit 0 when every check passed."""
import argparse
import asyncio
import json
import os
import random
import socket
import sys
import time

EOT = b"\x04"


class Stats:
    def __init__(self):
        self.lat = {}          # kind -> [seconds]
        self.errors = []       # (kind, text), first few kept
        self.n_errors = 0
        self.dropped = 0
        self.connect_failed = 0
        self.drop_notes = []

    def add(self, kind, dt):
        self.lat.setdefault(kind, []).append(dt)

    def error(self, kind, text):
        self.n_errors += 1
        if len(self.errors) < 10:
            self.errors.append((kind, text[:300]))


class Conn:
    def __init__(self, reader, writer, stats):
        self.r, self.w, self.stats = reader, writer, stats
        self.no = random.randint(1, 900000)

    async def send_raw(self, obj):
        self.w.write(json.dumps(obj, separators=(",", ":")).encode() + EOT)
        await self.w.drain()
        line = await self.r.readuntil(EOT)
        return json.loads(line[:-1])

    async def request(self, kind, type_, data=None):
        """One request/response; returns the reply's data or None after
        recording an error."""
        self.no = self.no % 999999 + 1
        req = {"type": type_, "no": self.no}
        if data is not None:
            req["data"] = data
        t0 = time.perf_counter()
        msg = await self.send_raw([0, req])
        self.stats.add(kind, time.perf_counter() - t0)
        if not (isinstance(msg, list) and len(msg) == 2 and msg[0] == 1
                and isinstance(msg[1], dict)):
            self.stats.error(kind, "not a response: %r" % (msg,))
            return None
        body = msg[1]
        if body.get("no") != self.no:
            self.stats.error(kind, "reply no %r for request no %d"
                             % (body.get("no"), self.no))
            return None
        if "error" in body:
            self.stats.error(kind, "error reply: %r" % (body,))
            return None
        if "data" not in body:
            self.stats.error(kind, "reply without data: %r" % (body,))
            return None
        return body["data"]

    async def ping(self):
        t0 = time.perf_counter()
        msg = await self.send_raw([2])
        self.stats.add("ping", time.perf_counter() - t0)
        if msg != [3]:
            self.stats.error("ping", "ping answered %r" % (msg,))


async def unix_client(path, stop_at, stats):
    r, w = await asyncio.open_unix_connection(path, limit=1 << 24)
    c = Conn(r, w, stats)
    try:
        while time.monotonic() < stop_at:
            st = await c.request("status", "status", {})
            if st is not None and not isinstance(st.get("pid"), int):
                stats.error("status", "status without pid: %r" % (st,))
            sub = await c.request("submit", "submit", {"builtin": "true"})
            jid = sub.get("jid") if isinstance(sub, dict) else None
            if sub is not None and not (isinstance(jid, str) and len(jid) == 20):
                stats.error("submit", "submit reply without jid: %r" % (sub,))
            if jid:
                lk = await c.request("lookup", "lookup", {"jid": jid})
                run = lk.get("run") if isinstance(lk, dict) else None
                if lk is not None and (not isinstance(run, dict)
                                       or run.get("jid") != jid):
                    stats.error("lookup", "lookup of %s gave %r" % (jid, lk))
            rs = await c.request("runs", "runs", {"limit": 5})
            if rs is not None and not (isinstance(rs.get("runs"), list)
                                       and 1 <= len(rs["runs"]) <= 5):
                stats.error("runs", "runs --limit 5 gave %r" % (rs,))
    finally:
        w.close()


async def tcp_client(port, stop_at, stats):
    r, w = await asyncio.open_connection("127.0.0.1", port, limit=1 << 24)
    w.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP,
                                          socket.TCP_NODELAY, 1)
    c = Conn(r, w, stats)
    try:
        while time.monotonic() < stop_at:
            st = await c.request("wire status", "status")
            if st is not None and not (isinstance(st, dict)
                                       and "targets" in st
                                       and "memoryUsage" in st):
                stats.error("wire status", "status lacks targets/"
                            "memoryUsage: %r" % (st,))
            p = await c.request("poll", "poll", {})
            if p is not None and p != "ok":
                stats.error("poll", "poll answered %r" % (p,))
            await c.ping()
    finally:
        w.close()


async def guarded(i, coro_fn, stats, start_at):
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    try:
        await coro_fn()
    except (ConnectionError, asyncio.IncompleteReadError, OSError) as e:
        stats.dropped += 1
        if len(stats.drop_notes) < 5:
            stats.drop_notes.append("client %d: %s: %s"
                                    % (i, type(e).__name__, e))
    except Exception as e:       # a reply that is not JSON, ...
        stats.error("client", "client %d: %s: %s" % (i, type(e).__name__, e))


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


async def sampler(pid, t0, stop_at, samples):
    while time.monotonic() < stop_at:
        v = rss_kb(pid)
        if v is None:
            return
        samples.append((time.monotonic() - t0, v))
        await asyncio.sleep(1.0)


def pct(sorted_vals, p):
    if not sorted_vals:
        return 0.0
    k = min(len(sorted_vals) - 1, int(round(p / 100.0 * (len(sorted_vals) - 1))))
    return sorted_vals[k]


def fmt_ms(s):
    return "%.2f" % (s * 1000.0)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--rss-window", type=float, default=30)
    ap.add_argument("--rss-growth", type=float, default=0.10)
    a = ap.parse_args()

    stats = Stats()
    t0 = time.monotonic()
    ramp = min(2.0, a.seconds / 10)       # connect over the first moments
    stop_at = t0 + a.seconds
    n_tcp = a.clients // 2 if a.port else 0
    tasks = []
    for i in range(a.clients):
        start = t0 + ramp * i / a.clients
        if i % 2 == 1 and i // 2 < n_tcp:
            fn = lambda: tcp_client(a.port, stop_at, stats)
        else:
            fn = lambda: unix_client(a.socket, stop_at, stats)
        tasks.append(asyncio.ensure_future(guarded(i, fn, stats, start)))
    samples = []
    samp = asyncio.ensure_future(sampler(a.pid, t0, stop_at + 0.5, samples))
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - t0
    await samp

    # ---- report
    alive = rss_kb(a.pid) is not None
    total = sum(len(v) for v in stats.lat.values())
    print("clients: %d (%d Unix socket, %d TCP) for %.0f s"
          % (a.clients, a.clients - n_tcp, n_tcp, a.seconds))
    print("%-12s %9s %9s %9s %9s" % ("request", "count", "p50 ms", "p99 ms",
                                      "max ms"))
    everything = []
    for kind in sorted(stats.lat):
        v = sorted(stats.lat[kind])
        everything.extend(v)
        print("%-12s %9d %9s %9s %9s" % (kind, len(v), fmt_ms(pct(v, 50)),
                                          fmt_ms(pct(v, 99)), fmt_ms(v[-1])))
    everything.sort()
    if everything:
        print("%-12s %9d %9s %9s %9s" % ("all", total,
                                          fmt_ms(pct(everything, 50)),
                                          fmt_ms(pct(everything, 99)),
                                          fmt_ms(everything[-1])))
    print("requests/s: %.0f" % (total / elapsed if elapsed > 0 else 0))

    failed = 0

    def check(ok, name, *detail):
        nonlocal failed
        if ok:
            print("ok   " + name)
        else:
            failed += 1
            print("FAIL " + name)
            for d in detail:
                print("  " + d)

    check(alive, "jobd alive after the load")
    check(total > 0 and len(stats.lat) >= (6 if n_tcp else 4),
          "every request kind was answered",
          "kinds: %s" % sorted(stats.lat))
    check(stats.n_errors == 0, "no error replies (%d)" % stats.n_errors,
          *["%s: %s" % e for e in stats.errors])
    check(stats.dropped == 0, "no dropped connections (%d)" % stats.dropped,
          *stats.drop_notes)

    if samples:
        first_kb = samples[0][1]
        peak_kb = max(v for _, v in samples)
        print("VmRSS: %d samples, first %.1f MiB, peak %.1f MiB, last %.1f MiB"
              % (len(samples), first_kb / 1024, peak_kb / 1024,
                 samples[-1][1] / 1024))
        win_start = samples[-1][0] - a.rss_window
        win = [v for t, v in samples if t >= win_start]
        # a trend, not a swing: the median of the window's last third
        # against its first third (RSS swings with the requests and store
        # batches in flight; a leak moves the median)
        third = max(1, len(win) // 3)
        base = sorted(win[:third])[third // 2]
        last = sorted(win[-third:])[third // 2]
        growth = (last - base) / base if base else 0
        print("VmRSS over the last %.0f s: median %.1f MiB -> %.1f MiB (max "
              "%.1f MiB, growth %.1f %%)" % (a.rss_window, base / 1024,
                                             last / 1024, max(win) / 1024,
                                             growth * 100))
        check(len(win) >= 3 and growth <= a.rss_growth,
              "jobd's memory flat over the last %.0f s (growth %.1f %% <= "
              "%.0f %%)" % (a.rss_window, growth * 100, a.rss_growth * 100),
              "samples (s, KiB): %s" % samples)
    else:
        check(False, "jobd's memory sampled", "no VmRSS samples")
    return failed


if __name__ == "__main__":
    sys.exit(1 if asyncio.run(main()) else 0)
