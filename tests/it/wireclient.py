#!/usr/bin/env python3
"""wireclient.py — a test client for jobd's TCP worker port that speaks the
wire format byte for byte as the original queue daemon's PHP client does
(jobd\\Client): each message is JSON then one 0x04 byte; requests are
[0, {"type", "no", "data"?, "password"?}] with PHP json_encode's escaping
('/' as '\\/', non-ASCII as \\uXXXX); `no` starts at a random number and
counts up, wrapping to 1 before 999999; the password goes only with the
first request of a connection; a reply is read until the buffer ends with
0x04, and is checked the way the PHP client checks it (a response's `data`
must be an object, array, integer, float or string; `no` the request's or
0; `error` a string).

Usage:
  wireclient.py [--host H] --port P [--password PW] [--timeout S] STEP...
STEPs, run in order on one connection, one output line per reply:
  req TYPE [JSON]    a request (JSON: its data; omitted = no data member)
  ping               [2], expects [3]
  raw TEXT           send TEXT + 0x04 as is (a malformed message), read a reply
  pong               send [3] (nothing comes back); prints nothing
  sleep SECONDS
  eof                expect the server to close the connection
Each reply is printed as compact JSON of the whole message, e.g.
[1,{"no":5,"data":"ok"}].  Exit status: 0, or 3 when a reply would make the
PHP client throw "Malformed ..." (printed on stderr), 4 on a timeout or an
unexpected close.
"""
import json
import random
import socket
import sys
import time

EOT = b"\x04"
NO_LIMIT = 999999


def php_json_encode(value):
    """json_encode() with PHP's default flags."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("/", "\\/")


class Malformed(Exception):
    pass


class Client:
    def __init__(self, host, port, password="", timeout=20.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.password = password
        self.password_sent = False
        self.last_no = random.randint(1, NO_LIMIT)

    def next_no(self):
        self.last_no += 1
        if self.last_no >= NO_LIMIT:
            self.last_no = 1
        return self.last_no

    def send_raw(self, data: bytes):
        self.sock.sendall(data + EOT)

    def request(self, rtype, data=None):
        msg = {"type": rtype, "no": self.next_no()}
        if data is not None:
            msg["data"] = data
        if self.password and not self.password_sent:
            msg["password"] = self.password
            self.password_sent = True
        self.send_raw(php_json_encode([0, msg]).encode())
        return msg["no"]

    def recv(self):
        """Reads as fread() in PHP's recv(): until the buffer ends in EOT."""
        buf = b""
        while not buf.endswith(EOT):
            chunk = self.sock.recv(1024)
            if not chunk:
                raise EOFError("connection closed" +
                               (f" after {buf!r}" if buf else ""))
            buf += chunk
        msgs = [m for m in buf.split(EOT)[:-1]]
        if len(msgs) > 1:
            raise Malformed(f"received more than one message: {buf!r}")
        return msgs[0]

    def expect_closed(self):
        try:
            chunk = self.sock.recv(1024)
        except ConnectionResetError:
            return True
        return chunk == b""


def check_response(raw: bytes, no):
    """Parses a reply as the PHP client does; raises Malformed."""
    try:
        msg = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise Malformed(f"not JSON: {e}: {raw!r}")
    if not isinstance(msg, list) or len(msg) < 1:
        raise Malformed(f"Malformed message: {raw!r}")
    if msg[0] == 1:
        body = msg[1] if len(msg) > 1 else None
        if not isinstance(body, dict) or not body:
            raise Malformed("Malformed RESPONSE message: data must be array")
        if not isinstance(body.get("no"), int) or isinstance(body["no"], bool):
            raise Malformed("Malformed RESPONSE message: 'no' is missing")
        if "data" in body and body["data"] is not None:
            d = body["data"]
            if isinstance(d, bool) or not isinstance(d, (dict, list, int, float, str)):
                raise Malformed("Malformed RESPONSE message: data: required type is 'aifs'")
        if "error" in body and body["error"] is not None and not isinstance(body["error"], str):
            raise Malformed("Malformed RESPONSE message: error: required type is 's'")
        if no is not None and body["no"] not in (no, 0):
            raise Malformed(f"response for {no} not found: {raw!r}")
    elif msg[0] not in (2, 3):
        raise Malformed(f"unexpected type {msg[0]}")
    return msg


def main(argv):
    host, port, password, timeout = "127.0.0.1", None, "", 20.0
    i = 1
    while i < len(argv) and argv[i].startswith("--"):
        opt = argv[i]
        if opt == "--host":
            host = argv[i + 1]
        elif opt == "--port":
            port = int(argv[i + 1])
        elif opt == "--password":
            password = argv[i + 1]
        elif opt == "--timeout":
            timeout = float(argv[i + 1])
        else:
            print(f"unknown option {opt}", file=sys.stderr)
            return 2
        i += 2
    steps = argv[i:]
    c = Client(host, port, password, timeout)
    try:
        while steps:
            step = steps.pop(0)
            no = None
            if step == "req":
                rtype = steps.pop(0)
                data = None
                if steps and steps[0] not in ("req", "ping", "raw", "pong", "sleep", "eof"):
                    data = json.loads(steps.pop(0))
                no = c.request(rtype, data)
            elif step == "ping":
                c.send_raw(b"[2]")
            elif step == "pong":
                c.send_raw(b"[3]")
                continue
            elif step == "raw":
                c.send_raw(steps.pop(0).encode())
            elif step == "sleep":
                time.sleep(float(steps.pop(0)))
                continue
            elif step == "eof":
                if not c.expect_closed():
                    print("server did not close the connection", file=sys.stderr)
                    return 4
                print("EOF")
                continue
            else:
                print(f"unknown step {step}", file=sys.stderr)
                return 2
            msg = check_response(c.recv(), no)
            print(json.dumps(msg, separators=(",", ":"), ensure_ascii=False))
            sys.stdout.flush()
    except Malformed as e:
        print(f"PHP client would throw: {e}", file=sys.stderr)
        return 3
    except (EOFError, socket.timeout, ConnectionError) as e:
        print(f"wire: {e}", file=sys.stderr)
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
