#!/usr/bin/env python3
"""ninep.py — a small 9P client for jobd's black-box tests (python3 stdlib).

Speaks 9P2000 (default) or 9P2000.L, and has raw-message helpers so a test
can send malformed messages and read what comes back.

As a module:
    c = Client.tcp("127.0.0.1", port)         # or Client.unix(path)
    c.version(); c.attach()
    print(c.read_file("/jobs/x/log"))
    c.write_file("/clone", "x:* * * * *:echo hi")
    try: ...
    except NinepError as e: print(e)          # the Rerror text / errno

As a program (one connection per run; exit 0, 1 on an Rerror (its text on
stderr as "Rerror: TEXT", or "Rlerror: ERRNO NAME"), 2 on bad usage, 4 on a
timeout or a closed connection):
  ninep.py [--addr HOST:PORT | --unix PATH] [--proto 9P2000|9P2000.L]
           [--aname A] [--uname U] [--timeout S] CMD ARGS...
  read PATH [OFFSET [COUNT]]   one Tread; prints the data as is
  cat PATH                     reads from 0 until a read returns 0 bytes
  write PATH DATA              open for writing, one Twrite at offset 0
  ls PATH                      the directory's names, one a line
  lsl PATH                     "name mode(octal) length mtime" a line
  stat PATH                    "key=value" a line (name mode length mtime
                               qtype uid gid); 9P2000.L: Tgetattr's fields
  rm PATH                      Tremove (9P2000) / Tunlinkat (9P2000.L)
  walk PATH                    only walks; prints the qids' types
"""
import errno
import os
import socket
import struct
import sys

NOTAG = 0xFFFF
NOFID = 0xFFFFFFFF
MSIZE = 8192

# message types (reply = request + 1)
Tlerror, Rlerror = 6, 7
Tstatfs, Tlopen, Tlcreate = 8, 12, 14
Tgetattr, Tsetattr, Txattrwalk, Treaddir = 24, 26, 30, 40
Tmkdir, Tunlinkat = 72, 76
Tversion, Tauth, Tattach, Terror = 100, 102, 104, 106
Rerror = 107
Tflush, Twalk, Topen, Tcreate, Tread, Twrite = 108, 110, 112, 114, 116, 118
Tclunk, Tremove, Tstat, Twstat = 120, 122, 124, 126
Rread = Tread + 1

OREAD, OWRITE, ORDWR, OEXEC, OTRUNC = 0, 1, 2, 3, 0x10
DMDIR = 0x80000000
QTDIR = 0x80
# 9P2000.L open flags (Linux's O_*)
L_RDONLY, L_WRONLY, L_RDWR, L_TRUNC = 0, 1, 2, 0o1000
GETATTR_BASIC = 0x7FF


class NinepError(Exception):
    """An Rerror (text, errno or None) or an Rlerror (errno, text = its name)."""
    def __init__(self, text, err=None):
        super().__init__(text)
        self.text = text
        self.errno = err


class Closed(Exception):
    pass


# ---- encoding ----
def s(text):
    b = text.encode() if isinstance(text, str) else text
    return struct.pack("<H", len(b)) + b


def qid_unpack(b, o=0):
    t, v, p = struct.unpack_from("<BIQ", b, o)
    return {"type": t, "version": v, "path": p}, o + 13


class Reader:
    def __init__(self, b):
        self.b, self.o = b, 0

    def u(self, fmt):
        v = struct.unpack_from("<" + fmt, self.b, self.o)
        self.o += struct.calcsize("<" + fmt)
        return v[0] if len(v) == 1 else v

    def s(self):
        n = self.u("H")
        v = self.b[self.o:self.o + n]
        self.o += n
        return v.decode(errors="replace")

    def qid(self):
        q, self.o = qid_unpack(self.b, self.o)
        return q

    def rest(self):
        return self.b[self.o:]


def stat_unpack(b, dotu=False):
    """One 9P2000 stat entry (without the leading size[2] of Rstat)."""
    r = Reader(b)
    size = r.u("H")
    st = {"size": size, "type": r.u("H"), "dev": r.u("I"), "qid": r.qid(),
          "mode": r.u("I"), "atime": r.u("I"), "mtime": r.u("I"),
          "length": r.u("Q"), "name": r.s(), "uid": r.s(), "gid": r.s(),
          "muid": r.s()}
    if dotu:
        st["extension"] = r.s()
    return st


def stat_pack(name="", mode=0xFFFFFFFF, length=0xFFFFFFFFFFFFFFFF,
              mtime=0xFFFFFFFF, atime=0xFFFFFFFF):
    """A stat for Twstat: "don't touch" everywhere except what is given."""
    body = (struct.pack("<HI", 0xFFFF, 0xFFFFFFFF) +
            struct.pack("<BIQ", 0xFF, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF) +
            struct.pack("<IIIQ", mode, atime, mtime, length) +
            s(name) + s("") + s("") + s(""))
    return struct.pack("<H", len(body)) + body


# ---- the client ----
class Client:
    def __init__(self, sock, proto="9P2000", timeout=20.0):
        self.sock = sock
        self.sock.settimeout(timeout)
        self.proto = proto
        self.msize = MSIZE
        self.next_tag = 1
        self.next_fid = 1
        self.root = None
        self.buf = b""

    @classmethod
    def tcp(cls, host, port, proto="9P2000", timeout=20.0, source=None):
        sock = socket.create_connection((host, int(port)), timeout=timeout,
                                        source_address=source)
        return cls(sock, proto, timeout)

    @classmethod
    def unix(cls, path, proto="9P2000", timeout=20.0):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(path)
        return cls(sock, proto, timeout)

    @property
    def dotl(self):
        return self.proto == "9P2000.L"

    def close(self):
        self.sock.close()

    # -- raw messages --
    def tag(self):
        t = self.next_tag
        self.next_tag = self.next_tag % 0xFFFE + 1
        return t

    def fid(self):
        f = self.next_fid
        self.next_fid += 1
        return f

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, mtype, body=b"", tag=None):
        """Sends one message; returns its tag."""
        tag = self.tag() if tag is None else tag
        self.send_raw(struct.pack("<IBH", 7 + len(body), mtype, tag) + body)
        return tag

    def recv(self):
        """One message: (type, tag, body).  Raises Closed on EOF."""
        while True:
            if len(self.buf) >= 4:
                size = struct.unpack_from("<I", self.buf)[0]
                if size < 7:
                    raise Closed(f"reply with size {size}")
                if len(self.buf) >= size:
                    m, self.buf = self.buf[:size], self.buf[size:]
                    t, tag = struct.unpack_from("<BH", m, 4)
                    return t, tag, m[7:]
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed("connection closed" +
                             (f" after {self.buf!r}" if self.buf else ""))
            self.buf += chunk

    def is_closed(self, wait=5.0):
        """True when the server closes the connection within WAIT seconds."""
        old = self.sock.gettimeout()
        self.sock.settimeout(wait)
        try:
            while True:
                self.recv()
        except Closed:
            return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
        finally:
            self.sock.settimeout(old)

    @staticmethod
    def check(mtype, rtype, body):
        if rtype == Rerror:
            r = Reader(body)
            text = r.s()
            err = r.u("I") if len(r.rest()) >= 4 else None
            raise NinepError(text, err)
        if rtype == Rlerror:
            e = struct.unpack_from("<I", body)[0]
            raise NinepError(errno.errorcode.get(e, str(e)), e)
        if rtype != mtype + 1:
            raise NinepError(f"reply type {rtype} to a T-message {mtype}")
        return body

    def rpc(self, mtype, body=b""):
        tag = self.send(mtype, body)
        rtype, rtag, rbody = self.recv()
        if rtag != tag:
            raise NinepError(f"reply tag {rtag}, sent {tag}")
        return self.check(mtype, rtype, rbody)

    # -- the protocol --
    def version(self, msize=MSIZE, proto=None):
        proto = proto or self.proto
        body = self.rpc_tag(Tversion, struct.pack("<I", msize) + s(proto), NOTAG)
        r = Reader(body)
        self.msize = r.u("I")
        got = r.s()
        self.proto = got
        return self.msize, got

    def rpc_tag(self, mtype, body, tag):
        self.send(mtype, body, tag)
        rtype, rtag, rbody = self.recv()
        if rtag != tag:
            raise NinepError(f"reply tag {rtag}, sent {tag}")
        return self.check(mtype, rtype, rbody)

    def auth(self, uname="root", aname="", n_uname=0):
        afid = self.fid()
        body = struct.pack("<I", afid) + s(uname) + s(aname)
        if self.proto != "9P2000":
            body += struct.pack("<I", n_uname)
        return Reader(self.rpc(Tauth, body)).qid()

    def attach(self, uname="root", aname="", n_uname=0):
        fid = self.fid()
        body = struct.pack("<II", fid, NOFID) + s(uname) + s(aname)
        if self.proto != "9P2000":
            body += struct.pack("<I", n_uname)
        qid = Reader(self.rpc(Tattach, body)).qid()
        self.root = fid
        return qid

    def walk(self, fid, names, newfid=None):
        """Twalk; returns (newfid, qids)."""
        newfid = self.fid() if newfid is None else newfid
        body = struct.pack("<IIH", fid, newfid, len(names))
        body += b"".join(s(n) for n in names)
        r = Reader(self.rpc(Twalk, body))
        qids = [r.qid() for _ in range(r.u("H"))]
        return newfid, qids

    def walk_path(self, path):
        """A new fid for PATH from the root (an error if a name is missing)."""
        names = [n for n in path.split("/") if n]
        fid, qids = self.walk(self.root, names)
        if len(qids) != len(names):
            # a partial walk (the server made no fid): walk to where it
            # stopped, then the missing name alone, for the server's error
            k = len(qids)
            mid, _ = self.walk(self.root, names[:k])
            try:
                self.walk(mid, [names[k]])
            finally:
                self.clunk(mid)
            raise NinepError(f"walk stopped after {k} of {len(names)} names")
        return fid

    def open(self, fid, mode=OREAD):
        if self.dotl:
            flags = {OREAD: L_RDONLY, OWRITE: L_WRONLY, ORDWR: L_RDWR}[mode & 3]
            if mode & OTRUNC:
                flags |= L_TRUNC
            r = Reader(self.rpc(Tlopen, struct.pack("<II", fid, flags)))
        else:
            r = Reader(self.rpc(Topen, struct.pack("<IB", fid, mode)))
        return r.qid(), r.u("I")

    def create(self, fid, name, perm, mode=OREAD):
        if self.dotl:
            if perm & DMDIR:
                return Reader(self.rpc(Tmkdir, struct.pack("<I", fid) + s(name) +
                                       struct.pack("<II", perm & 0o777, 0))).qid()
            body = (struct.pack("<I", fid) + s(name) +
                    struct.pack("<III", mode & 3, perm & 0o777, 0))
            return Reader(self.rpc(Tlcreate, body)).qid()
        body = struct.pack("<I", fid) + s(name) + struct.pack("<IB", perm, mode)
        if self.proto == "9P2000.u":
            body += s("")
        return Reader(self.rpc(Tcreate, body)).qid()

    def read(self, fid, offset=0, count=None):
        count = self.msize - 24 if count is None else count
        r = Reader(self.rpc(Tread, struct.pack("<IQI", fid, offset, count)))
        n = r.u("I")
        return r.rest()[:n]

    def write(self, fid, data, offset=0):
        data = data.encode() if isinstance(data, str) else data
        body = struct.pack("<IQI", fid, offset, len(data)) + data
        return Reader(self.rpc(Twrite, body)).u("I")

    def clunk(self, fid):
        self.rpc(Tclunk, struct.pack("<I", fid))

    def remove(self, fid):
        self.rpc(Tremove, struct.pack("<I", fid))

    def flush(self, oldtag):
        self.rpc(Tflush, struct.pack("<H", oldtag))

    def stat(self, fid):
        body = self.rpc(Tstat, struct.pack("<I", fid))
        return stat_unpack(body[2:], self.proto == "9P2000.u")

    def wstat(self, fid, st):
        self.rpc(Twstat, struct.pack("<I", fid) + struct.pack("<H", len(st)) + st)

    def getattr(self, fid, mask=GETATTR_BASIC):
        r = Reader(self.rpc(Tgetattr, struct.pack("<IQ", fid, mask)))
        keys = ["valid", "qid", "mode", "uid", "gid", "nlink", "rdev", "size",
                "blksize", "blocks", "atime_sec", "atime_nsec", "mtime_sec",
                "mtime_nsec", "ctime_sec", "ctime_nsec", "btime_sec",
                "btime_nsec", "gen", "data_version"]
        out = {"valid": r.u("Q"), "qid": r.qid()}
        for k, f in zip(keys[2:], "IIIQQQQQQQQQQQQQQQ"):
            out[k] = r.u(f)
        return out

    def readdir(self, fid, offset=0, count=None):
        """9P2000.L: [(qid, next_offset, type, name)]."""
        count = self.msize - 24 if count is None else count
        r = Reader(self.rpc(Treaddir, struct.pack("<IQI", fid, offset, count)))
        n = r.u("I")
        end = r.o + n
        out = []
        while r.o < end:
            q = r.qid()
            out.append((q, r.u("Q"), r.u("B"), r.s()))
        return out

    def unlinkat(self, dirfid, name, flags=0):
        self.rpc(Tunlinkat, struct.pack("<I", dirfid) + s(name) +
                 struct.pack("<I", flags))

    # -- whole-file helpers --
    def read_file(self, path, offset=0):
        """One open, one read at OFFSET, clunk: the text that is there."""
        fid = self.walk_path(path)
        try:
            self.open(fid, OREAD)
            return self.read(fid, offset).decode(errors="replace")
        finally:
            self.clunk(fid)

    def cat(self, path):
        fid = self.walk_path(path)
        try:
            self.open(fid, OREAD)
            out, off = b"", 0
            while True:
                d = self.read(fid, off)
                if not d:
                    return out.decode(errors="replace")
                out += d
                off += len(d)
        finally:
            self.clunk(fid)

    def write_file(self, path, data, mode=OWRITE):
        fid = self.walk_path(path)
        try:
            self.open(fid, mode)
            return self.write(fid, data)
        finally:
            self.clunk(fid)

    def list_dir(self, path):
        """[stat dicts] (9P2000) or [{"name", "qid", "type"}] (9P2000.L)."""
        fid = self.walk_path(path)
        try:
            self.open(fid, OREAD)
            out = []
            if self.dotl:
                off = 0
                while True:
                    ents = self.readdir(fid, off)
                    if not ents:
                        return out
                    for q, nxt, t, name in ents:
                        out.append({"name": name, "qid": q, "type": t})
                        off = nxt
            off = 0
            while True:
                d = self.read(fid, off)
                if not d:
                    return out
                off += len(d)
                o = 0
                while o < len(d):
                    n = struct.unpack_from("<H", d, o)[0]
                    out.append(stat_unpack(d[o:o + 2 + n], self.proto == "9P2000.u"))
                    o += 2 + n
        finally:
            self.clunk(fid)

    def stat_path(self, path):
        fid = self.walk_path(path)
        try:
            return self.getattr(fid) if self.dotl else self.stat(fid)
        finally:
            self.clunk(fid)

    def remove_path(self, path):
        if self.dotl:
            parent, _, name = path.rstrip("/").rpartition("/")
            fid = self.walk_path(parent or "/")
            try:
                self.unlinkat(fid, name)
            finally:
                self.clunk(fid)
            return
        fid = self.walk_path(path)
        self.remove(fid)        # clunks the fid even when it fails


def connect(addr=None, unix=None, proto="9P2000", aname="", uname="root",
            timeout=20.0):
    """A connected, versioned and attached client."""
    if unix:
        c = Client.unix(unix, proto, timeout)
    else:
        host, _, port = addr.rpartition(":")
        c = Client.tcp(host, port, proto, timeout)
    c.version()
    c.attach(uname=uname, aname=aname, n_uname=os.geteuid())
    return c


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--addr")
    ap.add_argument("--unix")
    ap.add_argument("--proto", default="9P2000")
    ap.add_argument("--aname", default="")
    ap.add_argument("--uname", default="root")
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("cmd")
    ap.add_argument("args", nargs="*")
    a = ap.parse_args(argv)
    if not (a.addr or a.unix):
        ap.error("--addr or --unix")
    try:
        c = connect(a.addr, a.unix, a.proto, a.aname, a.uname, a.timeout)
        out = run(c, a.cmd, a.args)
        if out is not None:
            sys.stdout.write(out)
        return 0
    except NinepError as e:
        if e.errno is not None and a.proto == "9P2000.L":
            print(f"Rlerror: {e.errno} {e.text}", file=sys.stderr)
        else:
            print(f"Rerror: {e.text}", file=sys.stderr)
        return 1
    except (Closed, OSError) as e:
        print(f"connection: {e}", file=sys.stderr)
        return 4
    except (IndexError, ValueError, KeyError) as e:
        print(f"usage: {e}", file=sys.stderr)
        return 2


def run(c, cmd, args):
    if cmd == "read":
        fid = c.walk_path(args[0])
        c.open(fid, OREAD)
        off = int(args[1]) if len(args) > 1 else 0
        cnt = int(args[2]) if len(args) > 2 else None
        return c.read(fid, off, cnt).decode(errors="replace")
    if cmd == "cat":
        return c.cat(args[0])
    if cmd == "write":
        c.write_file(args[0], args[1])
        return None
    if cmd == "ls":
        return "".join(e["name"] + "\n" for e in c.list_dir(args[0]))
    if cmd == "lsl":
        if c.dotl:
            raise ValueError("lsl is 9P2000 only")
        return "".join("%s %o %d %d\n" % (e["name"], e["mode"], e["length"], e["mtime"])
                       for e in c.list_dir(args[0]))
    if cmd == "stat":
        st = c.stat_path(args[0])
        if c.dotl:
            keys = ["mode", "size", "mtime_sec", "uid", "gid", "nlink"]
            return "".join(f"{k}={st[k]:o}\n" if k == "mode" else f"{k}={st[k]}\n"
                           for k in keys) + f"qtype={st['qid']['type']}\n"
        return (f"name={st['name']}\nmode={st['mode']:o}\nlength={st['length']}\n"
                f"mtime={st['mtime']}\nqtype={st['qid']['type']}\n"
                f"uid={st['uid']}\ngid={st['gid']}\n")
    if cmd == "rm":
        c.remove_path(args[0])
        return None
    if cmd == "walk":
        names = [n for n in args[0].split("/") if n]
        _, qids = c.walk(c.root, names)
        return "".join("%x\n" % q["type"] for q in qids)
    raise ValueError(f"unknown command {cmd!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
