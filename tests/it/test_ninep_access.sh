#!/usr/bin/env bash
# test_ninep_access.sh — who may use jobd's 9P server.
#  TCP (ninep_listen): an attach named ninep_token acts as the daemon's
#  user (full access); from loopback without it a client may read, and
#  start, stop and run existing jobs and pause/continue targets, but not
#  create, change or remove jobs (any local user can reach a loopback
#  port); from
#  any other address only the token attaches, never when none is set.  The non-loopback peer is this machine's own
#  non-loopback address (jobd listens on 0.0.0.0, the client connects to
#  that address, so jobd sees it as the peer); without one the case is
#  skipped with a message.
#  Unix socket (ninep_socket): the peer's credentials decide, as on
#  jobctl's socket: root may do admin things (pause a target), an
#  unprivileged user (nobody, through the socket's group) may make and
#  control its own jobs but not touch root's jobs or the targets.
# Needs root (setpriv, a throw-away group); skipped otherwise.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "note: not root; skipped"
	finish
	exit 0
fi
G=jobd9p$$
trap 'cleanup; groupdel "$G" 2>/dev/null' EXIT
groupadd -r "$G" || { fail "make the test group"; finish; exit 1; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("0.0.0.0",0)); print(s.getsockname()[1])')
TOKEN=tok-$RANDOM$RANDOM
IP=$(ip -4 -o addr show scope global 2>/dev/null | awk '{ print $4 }' | cut -d/ -f1 | head -1)
SOCK=$T/state/9p.sock
chmod 711 "$T"
# the client where nobody can read it (this checkout may be under /root)
cp "$HERE/ninep.py" "$T/ninep.py"; chmod 644 "$T/ninep.py"
np_at() { local a=$1; shift; python3 "$HERE/ninep.py" --addr "$a:$PORT" "$@"; }
np_unix() { python3 "$HERE/ninep.py" --unix "$SOCK" "$@"; }
np_nobody() { setpriv --reuid=65534 --regid="$(getent group "$G" | cut -d: -f3)" --clear-groups \
	/usr/bin/python3 "$T/ninep.py" --unix "$SOCK" "$@"; }
paused_of() { jobctl targets | awk -v t="$1" '$1 == t { print $5 }'; }

conf() { printf 'ninep_listen = 0.0.0.0:%s\nninep_socket = %s\nsocket_group = %s\n%s\n' \
	"$PORT" "$SOCK" "$G" "$*"; }

# ---- TCP without ninep_token ----
jobd_start "$(conf)"
retry_until 10 np_at 127.0.0.1 ls / ||
	{ fail "jobd's 9P port answers" "$(tail -5 "$T/jobd.log")"; finish; exit 1; }
jobctl create lo --schedule '0 0 * * *' -- true >/dev/null
jobctl disable lo >/dev/null
expect_eq "loopback, no token: list" "$(np_at 127.0.0.1 ls /jobs)" "lo"
expect_eq "loopback, no token: read" "$(np_at 127.0.0.1 read /jobs/lo/cmd | tr -d '\n')" "true"
ok "loopback, no token: start an existing job" np_at 127.0.0.1 write /jobs/lo/ctl start
expect_match "loopback, no token: it is enabled" "$(jobctl list)" $'\nlo +enabled'
ok "loopback, no token: stop it" np_at 127.0.0.1 write /jobs/lo/ctl stop
expect_match "loopback, no token: it is disabled" "$(jobctl list)" $'\nlo +disabled'
out=$(np_at 127.0.0.1 write /clone 'x:0 0 * * *:id' 2>&1)
expect_match "loopback, no token: clone refused, naming ninep_token" "$out" '^Rerror: permission denied: .*ninep_token'
expect_code 4 "loopback, no token: no job made" jobctl show x
out=$(np_at 127.0.0.1 write /jobs/lo/cmd 'id' 2>&1)
expect_match "loopback, no token: writing cmd refused" "$out" '^Rerror: permission denied'
# the queue's controls are open to loopback, as on the worker port
ok "loopback, no token: pause a target" np_at 127.0.0.1 write /targets/default/ctl pause
expect_eq "loopback, no token: the target is paused" "$(paused_of default)" "yes"
ok "loopback, no token: continue it" np_at 127.0.0.1 write /targets/default/ctl continue
expect_eq "loopback, no token: the target runs again" "$(paused_of default)" "no"
out=$(np_at 127.0.0.1 rm /jobs/lo 2>&1)
expect_match "loopback, no token: removing a job refused" "$out" '^Rerror: permission denied'
expect_code 0 "loopback, no token: the job is still there" jobctl show lo
if [ -z "$IP" ]; then
	echo "note: no non-loopback IPv4 address on this machine: the non-loopback cases are skipped"
else
	out=$(np_at "$IP" ls / 2>&1)
	expect_match "from $IP, no ninep_token set: attach refused" "$out" '^Rerror: .*(denied|token|not allowed|refused)'
	out=$(np_at "$IP" --aname anything ls / 2>&1)
	expect_match "from $IP, no ninep_token set: any aname refused" "$out" '^Rerror: .*(denied|token|not allowed|refused)'
fi
jobd_stop || fail "jobd stops cleanly"

# ---- TCP with ninep_token ----
jobd_start "$(conf "ninep_token = $TOKEN")"
retry_until 10 np_at 127.0.0.1 ls / || fail "jobd's 9P port answers (token set)"
ok "loopback, token set: attach without it" np_at 127.0.0.1 ls /jobs
ok "loopback with the token: clone" np_at 127.0.0.1 --aname "$TOKEN" write /clone 'near:0 0 * * *:true'
expect_match "loopback with the token: the job is there" "$(jobctl list)" $'\nnear '
out=$(np_at 127.0.0.1 --aname wrong write /clone 'x:0 0 * * *:id' 2>&1)
expect_match "loopback with a wrong token: read-only, clone refused" "$out" '^Rerror: permission denied'

if [ -n "$IP" ]; then
	out=$(np_at "$IP" ls / 2>&1)
	expect_match "from $IP without the token: attach refused" "$out" '^Rerror: .*(denied|token|not allowed|refused)'
	out=$(np_at "$IP" --aname wrong ls / 2>&1)
	expect_match "from $IP with a wrong token: attach refused" "$out" '^Rerror: .*(denied|token|not allowed|refused)'
	out=$(np_at "$IP" --aname "$TOKEN" ls /jobs 2>&1)
	expect_eq "from $IP with the token: attach, list" "$(sort <<<"$out" | tr '\n' ' ')" "lo near "
	ok "from $IP with the token: clone" np_at "$IP" --aname "$TOKEN" write /clone 'far:0 0 * * *:true'
	expect_match "from $IP with the token: the job is there" "$(jobctl list)" $'\nfar '
	ok "from $IP with the token: pause a target" np_at "$IP" --aname "$TOKEN" write /targets/default/ctl pause
	expect_eq "from $IP with the token: paused" "$(paused_of default)" "yes"
	jobctl continue default >/dev/null
	out=$(np_at "$IP" --proto 9P2000.L ls / 2>&1)
	expect_match "from $IP, 9P2000.L without the token: refused (Rlerror)" "$out" '^Rlerror: [0-9]+ E(ACCES|PERM)'
fi

# ---- the Unix socket: peer credentials ----
ok "socket, root: list" np_unix ls /jobs
ok "socket, root: pause a target" np_unix write /targets/default/ctl pause
expect_eq "socket, root: jobctl targets says paused" "$(paused_of default)" "yes"
ok "socket, root: continue" np_unix write /targets/default/ctl continue
expect_eq "socket, root: not paused" "$(paused_of default)" "no"

out=$(np_nobody write /targets/default/ctl pause 2>&1)
expect_match "socket, nobody: pausing a target is refused" "$out" '^Rerror: .*(permission|denied|not allowed|not found)'
expect_eq "socket, nobody: the target is not paused" "$(paused_of default)" "no"
out=$(np_nobody write /jobs/lo/ctl start 2>&1)
expect_match "socket, nobody: starting root's job is refused" "$out" '^Rerror: .*(permission|denied|not allowed|not found)'
expect_match "socket, nobody: root's job is still disabled" "$(jobctl list)" $'\nlo +disabled'
out=$(np_nobody write /jobs/lo/cmd 'id' 2>&1)
expect_match "socket, nobody: changing root's job's cmd is refused" "$out" '^Rerror: .*(permission|denied|not allowed|not found)'
expect_eq "socket, nobody: the cmd is unchanged" "$(jobctl show lo | sed -n 's/^command: *//p')" "true"
out=$(np_nobody rm /jobs/lo 2>&1)
expect_match "socket, nobody: removing root's job is refused" "$out" '^Rerror: .*(permission|denied|not allowed|not found)'
expect_code 0 "socket, nobody: root's job is still there" jobctl show lo
ok "socket, nobody: clone of its own job" np_nobody write /clone 'mine:0 0 1 1 *:id -u'
expect_eq "socket, nobody: the job is nobody's" "$(jobctl show mine | sed -n 's/^owner_uid: *//p')" "65534"
ok "socket, nobody: start its own job" np_nobody write /jobs/mine/ctl start
expect_match "socket, nobody: its job is enabled" "$(jobctl list)" $'\nmine +enabled'
ok "socket, nobody: remove its own job" np_nobody rm /jobs/mine
expect_code 4 "socket, nobody: its job is gone" jobctl show mine

finish
