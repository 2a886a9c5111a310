#!/usr/bin/env python3
"""ptyrun.py ANSWER WAIT -- CMD...: runs CMD on a new pseudo-terminal (its
stdin, stdout and stderr), types ANSWER and Enter once CMD prints "(yes/no) >"
(ANSWER "-" types nothing), and prints everything CMD wrote.  Exits with
CMD's exit code; gives up (exit 124) after WAIT seconds."""
import os, pty, select, sys, time

answer, wait = sys.argv[1], float(sys.argv[2])
cmd = sys.argv[4:] if sys.argv[3] == "--" else sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
out, sent, end = b"", False, time.monotonic() + wait
while time.monotonic() < end:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            d = os.read(fd, 4096)
        except OSError:      # EIO: the child closed the terminal
            break
        if not d:
            break
        out += d
    if not sent and answer != "-" and b"(yes/no) >" in out:
        os.write(fd, answer.encode() + b"\n")
        sent = True
else:
    os.kill(pid, 9)
    sys.stdout.write(out.decode(errors="replace"))
    sys.exit(124)
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(st))
