#!/usr/bin/env bash
# test_package.sh — what an operator installs: `meson install` puts jobd,
# jobctl, the man pages, the systemd unit and the docs in place; jobd tells
# systemd (Type=notify) READY=1 once it serves, RELOADING=1 and READY=1
# around a reload, STOPPING=1 on a stop.
# The Debian package (make deb) in a Debian 12 chroot: test_deb.sh.
. "$(dirname "$0")/lib.sh"

# --- sd_notify: a NOTIFY_SOCKET as systemd makes it -------------------------
python3 - "$T/notify.sock" "$T/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(60)
with open(sys.argv[2], "a", buffering=1) as log:
    try:
        while True:
            log.write(s.recv(4096).decode() + "\n")
    except socket.timeout:
        pass
PY
LISTENER=$!
retry_until 5 test -S "$T/notify.sock"
NOTIFY_SOCKET=$T/notify.sock jobd_start
has() { grep -qx "$1" "$T/notify.log"; }
ok "READY=1 once jobd serves" retry_until 5 has READY=1
kill -HUP "$JOBD_PID"
ok "RELOADING=1 on SIGHUP" retry_until 5 has RELOADING=1
ok "... and READY=1 again after it" retry_until 5 \
	bash -c "[ \$(grep -cx READY=1 '$T/notify.log') -ge 2 ]"
jobd_stop
ok "STOPPING=1 on SIGTERM" retry_until 5 has STOPPING=1
kill "$LISTENER" 2>/dev/null

# --- make install (meson install into a staging root) ------------------------
DESTDIR=$T/root meson install -C "$BUILD" --no-rebuild >"$T/install.log" 2>&1
rc=$?
expect_eq "meson install succeeds" "$rc" 0
for f in sbin/jobd bin/jobctl share/man/man8/jobd.8 share/man/man1/jobctl.1 \
	share/man/man5/jobd.conf.5 lib/systemd/system/jobd.service \
	share/doc/jobd/examples/jobd.conf share/doc/jobd/security.md; do
	expect_eq "installs $f" "$(find "$T/root" -path "*/$f" | wc -l)" 1
done
unit=$(find "$T/root" -name jobd.service)
expect_match "the unit is Type=notify" "$(cat "$unit")" $'\nType=notify\n'
ok "the installed jobctl runs" "$(find "$T/root" -path '*/bin/jobctl')" version
expect_match "the man page renders" \
	"$(sed -n '/^\.SH NAME/,+2p' "$(find "$T/root" -name jobctl.1)")" "jobctl - control jobd"
finish
